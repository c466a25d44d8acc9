/* Site-wide behaviour without inline handlers (the Content-Security-Policy allows no inline script):
   a <select data-autosubmit> submits its form when its value changes (the language switch, list filters). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });
})();
