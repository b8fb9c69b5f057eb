// Draws the dashboard's charts with the bundled Plotly, from JSON the page holds in
// data <script> elements (no inline script: the Content-Security-Policy forbids it).
// Tables next to the charts hold the same numbers, so the pages read without this.
"use strict";
(function () {
  function readJson(id) {
    var holder = document.getElementById(id);
    return holder ? JSON.parse(holder.textContent) : null;
  }

  // The escrow page: one confidence-over-time series per [data-chart] element.
  function drawSeries() {
    var data = readJson("chart-data");
    if (!data) return;
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

  // The simulation page: whole Plotly figures, each named by its element's data-figure.
  function drawFigures() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var figure = readJson(el.getAttribute("data-figure"));
      if (!figure) return;
      Plotly.newPlot(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
      el.setAttribute("data-drawn", "true");
    });
  }

  function draw() {
    if (typeof Plotly === "undefined") return;
    drawSeries();
    drawFigures();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
