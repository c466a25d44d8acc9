/* Render the insight charts with ECharts (vendored). Each chart reads its data from the JSON script element
   named by data-source; the same figures are in the table beside it (the chart is aria-hidden). */
(function () {
  "use strict";
  function render(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    if (!source || typeof echarts === "undefined") { return; }
    var rows = JSON.parse(source.textContent);
    var kind = el.getAttribute("data-chart");
    var unit = el.getAttribute("data-unit") || "";
    var labels = rows.map(function (r) { return r.label || r.name; });
    var values = rows.map(function (r) { return r.value; });
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option = {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + " " + unit; } },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      yAxis: { type: "value", name: unit },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 6 ? 30 : 0 } },
      series: [{ type: kind === "line" ? "line" : "bar", data: values, connectNulls: false,
                 label: { show: kind !== "line", position: "top" } }]
    };
    if (kind !== "line") {  // rankings: horizontal bars, best on top
      option.xAxis = { type: "value", name: unit };
      option.yAxis = { type: "category", data: labels.slice().reverse() };
      option.series[0].data = values.slice().reverse();
      option.series[0].label.position = "right";
    }
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), render);
  });
})();
