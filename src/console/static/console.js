// The console's only script (the CSP allows no inline code): draws the charts whose data the page carries in a
// data-chart attribute ({labels: unix seconds, series: [{label, values}]}) with uPlot. Without it, the table shows.
(function () {
  'use strict';
  var palette = ['#0b6e4f', '#c0392b', '#1f4e79', '#b7791f'];
  function draw(el) {
    if (typeof uPlot === 'undefined') return;
    var spec = JSON.parse(el.getAttribute('data-chart'));
    var width = Math.max(280, el.clientWidth);
    var opts = {
      width: width,
      height: 240,
      series: [{ label: 'Heure' }].concat(spec.series.map(function (s, i) {
        return { label: s.label, stroke: palette[i % palette.length], width: 2, fill: i === 0 ? 'rgba(11,110,79,0.08)' : undefined };
      })),
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
      fmtDate: function () { return function (d) { return d.toLocaleString('fr-MA', { hour: '2-digit', minute: '2-digit' }); }; },
    };
    var data = [spec.labels].concat(spec.series.map(function (s) { return s.values; }));
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
