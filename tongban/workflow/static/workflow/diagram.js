/* Render BPMN diagrams with the vendored bpmn-js NavigatedViewer and mark an instance's position. */
(function () {
  "use strict";
  function readJson(id) {
    var el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function mark(canvas, ids, cls) {
    (ids || []).forEach(function (id) {
      try { canvas.addMarker(id, cls); } catch (e) { /* element not drawn (e.g. inside a collapsed sub-process) */ }
    });
  }
  document.querySelectorAll("[data-bpmn]").forEach(function (container) {
    var xml = readJson(container.getAttribute("data-bpmn"));
    var marks = readJson(container.getAttribute("data-marks")) || {};
    if (!xml || typeof BpmnJS === "undefined") { return; }
    var viewer = new BpmnJS({ container: container });
    viewer.importXML(xml).then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport", "auto");
      var vb = canvas.viewbox();  // a margin so that labels at the edges stay visible
      canvas.viewbox({ x: vb.x - 30, y: vb.y - 30, width: vb.width + 60, height: vb.height + 60 });
      mark(canvas, marks.completed, "wf-done");
      mark(canvas, marks.flows, "wf-flow");
      mark(canvas, marks.active, "wf-active");
    }).catch(function (err) {
      container.textContent = "流程图无法显示：" + (err && err.message ? err.message : err);
    });
  });
})();
