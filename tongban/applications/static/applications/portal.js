/* tongban portal: small enhancements of the applications pages (no dependencies).
 * - [data-poll]: refresh a live status fragment every 30 s while the page is visible (aria-live region); not in
 *   elder mode (适老化: no timed interactions; the page shows the status as loaded, reloading updates it).
 * - decide form: the opinion becomes required when the approver rejects or returns the application. */
(function () {
  "use strict";
  var POLL_MS = 30000;

  function poll(node) {
    var url = node.getAttribute("data-poll");
    function refresh() {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && html.trim() !== node.innerHTML.trim()) { node.innerHTML = html; } })
        .catch(function () { /* offline: keep the last state */ });
    }
    window.setInterval(refresh, POLL_MS);
  }

  function decideForm(form) {
    var opinion = form.querySelector("textarea[name=opinion]");
    function sync() {
      var chosen = form.querySelector("input[name=outcome]:checked");
      var needs = chosen && (chosen.value === "reject" || chosen.value === "return");
      opinion.required = !!needs;
      opinion.setAttribute("aria-required", needs ? "true" : "false");
    }
    form.addEventListener("change", sync);
    sync();
  }

  function init() {
    if (!document.documentElement.classList.contains("elder")) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
    }
    var form = document.getElementById("decide-form");
    if (form) { decideForm(form); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
