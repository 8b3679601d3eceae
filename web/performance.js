/* performance.js: the Models panel's live performance over time (GET /v1/endpoints/{name}/performance
 * ?history=true): for one horizon and the first rolling window, one line per endpoint, variant and model
 * version of the rolling relMAE at each scored origin, its backtest's relMAE (same model kind and
 * horizon) as a dashed reference and the naive forecast's 1.0; beside it the rolling 80%/95% coverage
 * against the nominal levels. app.js fetches and calls window.OcPerformance.render; this file only
 * draws (it fetches nothing and keeps no state but the chosen horizon). Every trace carries
 * meta {role: 'live' | 'backtest' | 'naive', line} so the browser test can find it. */
(function () {
  'use strict';

  let chosenHorizon = null; /* kept across reloads of the panel while it still exists */

  const finite = (v) => (Number.isFinite(v) ? v : null);
  const lineName = (l) => `${l.endpoint} · ${l.variant} ${l.model_version}`;

  /* opts: {relEl, covEl, select, caption, history, window, tested(kind, horizon), kinds (version -> kind),
   * palette, naiveColor, plotConfig}. history: the routes' "history" arrays of every serving endpoint. */
  function render(opts) {
    const lines = opts.history.filter((l) => l.window === opts.window && l.points.length);
    const horizons = [...new Set(lines.map((l) => l.horizon))].sort((a, b) => a - b);
    if (!horizons.length) {
      Plotly.purge(opts.relEl);
      Plotly.purge(opts.covEl);
      opts.select.replaceChildren();
      opts.select.hidden = true;
      opts.caption.textContent = '';
      return;
    }
    if (!horizons.includes(chosenHorizon)) chosenHorizon = horizons[0];
    opts.select.hidden = false;
    opts.select.replaceChildren(...horizons.map((h) => {
      const o = document.createElement('option');
      o.value = String(h);
      o.textContent = `horizon ${h}`;
      o.selected = h === chosenHorizon;
      return o;
    }));
    opts.select.onchange = () => {
      chosenHorizon = Number(opts.select.value);
      render(opts);
    };
    const shown = lines.filter((l) => l.horizon === chosenHorizon)
      .sort((a, b) => lineName(a).localeCompare(lineName(b)));
    const origins = shown.flatMap((l) => l.points.map((p) => p.origin)).sort();
    const span = [origins[0], origins[origins.length - 1]];
    opts.caption.textContent = `Rolling over the last ${opts.window} scored origins at each origin, horizon ${chosenHorizon}: ` +
      'solid the live figure, dashed the backtest of the same model kind, dotted the naive forecast (1.0).';
    const common = {
      margin: { l: 55, r: 15, t: 40, b: 45 }, font: { family: 'system-ui, sans-serif', size: 12, color: '#1b1f24' },
      legend: { orientation: 'h', y: -0.25, yanchor: 'top' }, xaxis: { title: { text: 'Forecast origin', standoff: 4 }, type: 'date' },
    };
    const rel = [];
    const cov = [];
    shown.forEach((l, i) => {
      const color = opts.palette[i % opts.palette.length];
      const name = lineName(l);
      const x = l.points.map((p) => p.origin);
      rel.push({ type: 'scatter', mode: 'lines+markers', name, legendgroup: name, x, y: l.points.map((p) => finite(p.rel_mae)),
        line: { color, width: 2 }, meta: { role: 'live', line: name }, hovertemplate: `${name}, %{x}: relMAE %{y:.3f}<extra></extra>` });
      const kind = opts.kinds.get(l.model_version);
      const tested = kind ? opts.tested(kind, l.horizon) : null;
      if (tested && Number.isFinite(tested.rel_mae)) {
        rel.push({ type: 'scatter', mode: 'lines', name: `${name} backtest (${kind})`, legendgroup: name, x: span, y: [tested.rel_mae, tested.rel_mae],
          line: { color, width: 1.5, dash: 'dash' }, meta: { role: 'backtest', line: name }, hovertemplate: `backtest ${kind}: relMAE %{y:.3f}<extra></extra>` });
      }
      for (const [key, dash, level] of [['coverage80', 'solid', '80%'], ['coverage95', 'dot', '95%']]) {
        cov.push({ type: 'scatter', mode: 'lines+markers', name: `${name} ${level}`, legendgroup: name, x, y: l.points.map((p) => finite(p[key])),
          line: { color, dash }, meta: { role: 'live', line: name, level }, hovertemplate: `${name}, %{x}: ${level} covered %{y:.1%}<extra></extra>` });
      }
    });
    rel.push({ type: 'scatter', mode: 'lines', name: 'naive (1.0)', x: span, y: [1, 1], line: { color: opts.naiveColor, width: 2, dash: 'dot' },
      meta: { role: 'naive' }, hoverinfo: 'skip' });
    Plotly.react(opts.relEl, rel, Object.assign({}, common, {
      title: { text: 'Live relMAE over time (lower is better)', font: { size: 14 } }, yaxis: { title: { text: 'relMAE' } },
    }), opts.plotConfig);
    Plotly.react(opts.covEl, cov, Object.assign({}, common, {
      title: { text: 'Live coverage over time (solid 80%, dotted 95%)', font: { size: 14 } },
      yaxis: { title: { text: 'Share of actuals inside' }, tickformat: '.0%', range: [0, 1.02] },
      shapes: [0.8, 0.95].map((v) => ({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: v, y1: v, line: { color: opts.naiveColor, width: 1.5, dash: 'dash' } })),
    }), opts.plotConfig);
  }

  window.OcPerformance = { render };
})();
