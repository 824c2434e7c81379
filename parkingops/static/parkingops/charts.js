// Draws the admin's charts with the vendored Chart.js (vendor/chartjs/, no CDN: the admin works
// offline). Each <canvas data-chart="ID"> is drawn from the JSON of <script id="ID"> (Django's
// json_script): {labels, unit, datasets: [{label, key, data}]}, as bars stacked per label. The
// numbers are also in a table beside every chart; this only draws.
(function () {
  "use strict";
  // Django admin's own palette first, then distinct hues; a dataset keeps its colour by its
  // place in the list, which the page keeps stable (parks by amount, outcomes in enum order).
  const COLOURS = ["#417690", "#79aec8", "#e0a040", "#ba2121", "#5b8c3a", "#8a6bb4",
                   "#c07a9c", "#4a9f9c", "#a08a60", "#666666", "#d05f2c", "#2f5f8a", "#999933"];
  // Outcomes with a meaning of their own keep one colour on every page.
  const BY_KEY = { accepted: "#5b8c3a", duplicate: "#9cc47c", not_whitelisted: "#e0a040",
                   invalid_field: "#ba2121", conflict: "#8a6bb4", internal_error: "#333333",
                   unavailable: "#666666" };

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const style = getComputedStyle(document.documentElement);
    const text = style.getPropertyValue("--body-quiet-color").trim() || "#666";
    const grid = style.getPropertyValue("--hairline-color").trim() || "#e8e8e8";
    const chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((set, n) => ({
          label: set.label,
          data: set.data,
          backgroundColor: BY_KEY[set.key] || COLOURS[n % COLOURS.length],
          borderWidth: 0,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { color: text, maxRotation: 0, autoSkip: true },
               grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text, precision: 0 },
               grid: { color: grid }, title: { display: true, text: spec.unit, color: text } },
        },
        plugins: {
          legend: { position: "bottom", labels: { color: text, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: (item) => item.dataset.label + ": " + item.formattedValue + " " + spec.unit,
            },
          },
        },
      },
    });
    canvas.dataset.drawn = String(chart.data.datasets.length);
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
