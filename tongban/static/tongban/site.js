/* Site-wide behaviour without inline handlers (the Content-Security-Policy allows no inline script):
   - a <select data-autosubmit> submits its form when its value changes (the language switch, list filters);
   - a table or .table-wrap that scrolls sideways (phones) becomes a focusable, named region, so it can be
     scrolled with the keyboard (WCAG 2.1.1; axe's scrollable-region-focusable);
   - the 工作台 menu (<details>) closes on Escape or a click elsewhere. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  function scrollBoxes() {
    var boxes = document.querySelectorAll("main table, main .table-wrap, main pre");
    Array.prototype.forEach.call(boxes, function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-box", "");
        if (box.tagName !== "TABLE" && !box.hasAttribute("aria-label")) {
          var caption = box.querySelector("caption");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", caption ? caption.textContent.trim() : "可横向滚动的内容");
        }
      } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-box");
      }
    });
  }

  function menus() {
    var menu = document.querySelector("details.workmenu");
    if (!menu) { return; }
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  }

  function init() {
    scrollBoxes();
    menus();
    window.addEventListener("resize", scrollBoxes);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
