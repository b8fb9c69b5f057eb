// Draws the confidence-over-time charts with the bundled Plotly; the tables next to
// them hold the same numbers, so the page reads without this script.
"use strict";
(function () {
  function draw() {
    var holder = document.getElementById("chart-data");
    if (!holder || typeof Plotly === "undefined") return;
    var data = JSON.parse(holder.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var series = data[el.getAttribute("data-chart")];
      if (!series) return;
      el.classList.add("drawn");
      Plotly.newPlot(el, [{
        x: series.x, y: series.y, type: "scatter", mode: "lines+markers",
        line: { shape: "hv", color: "#15803d" }, name: "confidence"
      }], {
        margin: { t: 20, r: 20, b: 50, l: 60 },
        yaxis: { title: { text: "confidence nothing is hidden (%)" }, range: [0, 100] },
        xaxis: { title: { text: "moment (UTC)" }, type: "date" }
      }, { displaylogo: false, responsive: true });
      el.setAttribute("data-drawn", "true");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
