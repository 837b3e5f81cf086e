// The console's only script (the CSP allows no inline code): draws the charts whose data the page carries in a
// data-chart attribute ({labels: unix seconds, series: [{label, values}]}, or {categories: [names], series} for bars
// over categories) with uPlot. Without it, the table shows.
(function () {
  'use strict';
  var palette = ['#0b6e4f', '#c0392b', '#1f4e79', '#b7791f'];
  function draw(el) {
    if (typeof uPlot === 'undefined') return;
    var spec = JSON.parse(el.getAttribute('data-chart'));
    var width = Math.max(280, el.clientWidth);
    // A chart over categories (months, states) rather than time: x is the category's index, its axis the names.
    var categories = Array.isArray(spec.categories) ? spec.categories : null;
    var bars = categories && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined;
    var opts = {
      width: width,
      height: 240,
      series: [{ label: categories ? (spec.xLabel || '') : 'Heure', value: categories ? function (u, i) { return i == null ? '' : categories[i]; } : undefined }].concat(spec.series.map(function (s, i) {
        return { label: s.label, stroke: palette[i % palette.length], width: 2, fill: bars ? palette[i % palette.length] : (i === 0 ? 'rgba(11,110,79,0.08)' : undefined), paths: bars };
      })),
      axes: [categories ? { values: function (u, splits) { return splits.map(function (i) { return categories[i] !== undefined ? categories[i] : ''; }); } } : {}, { size: 60 }],
      scales: { x: categories ? { time: false, range: [-0.5, categories.length - 0.5] } : { time: true } },
      fmtDate: function () { return function (d) { return d.toLocaleString('fr-MA', { hour: '2-digit', minute: '2-digit' }); }; },
    };
    var labels = categories ? categories.map(function (_, i) { return i; }) : spec.labels;
    var data = [labels].concat(spec.series.map(function (s) { return s.values; }));
    el.textContent = '';
    var plot = new uPlot(opts, data, el);
    window.addEventListener('resize', function () { plot.setSize({ width: Math.max(280, el.clientWidth), height: 240 }); });
  }
  function start() {
    var charts = document.querySelectorAll('[data-chart]');
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
