/* years.js: the Models panel's robustness by year (GET /v1/backtests/years: the newest stored
 * `oilcast backtest --by-year` report of the shown series): one row per model (naive, the reference,
 * left out) with its relMAE over all horizons in each calendar year, green where it beats naive and red
 * where it loses, a * where some horizon's Diebold-Mariano p is below 0.05; then the years it beats /
 * loses to naive, its worst and median year and the range of its yearly 80% and 95% coverage. A cell's
 * tooltip has the year's relMAE per horizon, smallest DM p and coverage. Loaded when the Models tab is
 * first shown, again when the series changes and on a live "backtest" event of the shown series (a
 * stored report records one). Draws into #years-panel with app.js's helpers (window.OilcastPage);
 * reads only; nothing in a static export (no server). */
(function () {
  'use strict';

  const page = window.OilcastPage;
  if (!page || page.STATIC) return;
  const $ = (id) => document.getElementById(id);
  const DM_LEVEL = 0.05;
  const BETTER = 'rgba(26, 127, 55, 0.18)';
  const WORSE = 'rgba(180, 35, 24, 0.18)';

  const fmt4 = (v) => (Number.isFinite(v) ? v.toFixed(4) : '–');
  const fmtPct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
  const fmtRange = (lo, hi) => `${fmtPct(lo)}–${fmtPct(hi)}`;

  const container = $('years-panel');
  const caption = page.el('p', { id: 'years-caption', class: 'caption' });
  const table = page.el('table', { id: 'years-table', class: 'data-table' });
  container.replaceChildren(page.el('h2', null, 'Robustness by year'), caption, page.el('div', { class: 'table-wrap' }, table));

  let stale = true;
  let request = 0; /* only the newest request draws */

  /* One model's relMAE in one year, coloured against naive (1.0). */
  function yearCell(model, cell) {
    const vs = !Number.isFinite(cell.rel_mae) || cell.rel_mae === 1 ? 'same' : cell.rel_mae < 1 ? 'better' : 'worse';
    const significant = Number.isFinite(cell.min_dm_pvalue) && cell.min_dm_pvalue < DM_LEVEL;
    const td = page.el('td', { 'data-model': model, 'data-year': String(cell.year), 'data-vs-naive': vs },
      fmt4(cell.rel_mae), significant ? page.el('sup', null, '*') : '');
    if (vs !== 'same') td.style.background = vs === 'better' ? BETTER : WORSE;
    td.title = `${model}, ${cell.year}: relMAE per horizon ${cell.rel_mae_by_horizon.map(fmt4).join(', ')}; ` +
      `smallest DM p ${Number.isFinite(cell.min_dm_pvalue) ? cell.min_dm_pvalue.toFixed(3) : '–'}; ` +
      `coverage ${fmtPct(cell.coverage80)} (80%), ${fmtPct(cell.coverage95)} (95%)`;
    return td;
  }

  function render(series, doc) {
    if (!doc) {
      caption.textContent = `No by-year report of ${series} yet: \`oilcast backtest --series ${series} --by-year\` stores one ` +
        '(the walk-forward backtest on each calendar year\'s origins; docs/evaluation.md).';
      table.replaceChildren();
      return;
    }
    const origins = doc.years.reduce((a, y) => a + y.origins, 0);
    caption.textContent = `By-year backtest of ${doc.series}, ${doc.from_year}–${doc.to_year}: each year's origins forecast from ` +
      `the data up to them, horizons 1–${doc.horizon}, refit every ${doc.refit_every} origins, ${origins} origins, made ` +
      `${page.fmtTimestamp(doc.created_at)}${doc.exog.length ? `, other series ${doc.exog.join(', ')}` : ''}. relMAE over all ` +
      `horizons against naive on the same origins: green better, red worse; * some horizon's DM p < ${DM_LEVEL}.`;
    const head = ['Model', ...doc.years.map((y) => String(y.year)), 'Better / worse (years)', 'Worst year', 'Median year',
      '80% coverage', '95% coverage'];
    const rows = doc.results.filter((r) => r.model !== 'naive').map((r) => page.el('tr', { 'data-model': r.model },
      page.el('th', { scope: 'row' }, r.model),
      ...r.years.map((cell) => yearCell(r.model, cell)),
      page.el('td', { 'data-field': 'wins' }, `${r.wins} / ${r.losses}`),
      page.el('td', { 'data-field': 'worst' }, r.worst_year === null ? '–' : `${r.worst_year} (${fmt4(r.worst_rel_mae)})`),
      page.el('td', { 'data-field': 'median' }, fmt4(r.median_rel_mae)),
      page.el('td', { 'data-field': 'coverage80' }, fmtRange(r.coverage80_min, r.coverage80_max)),
      page.el('td', { 'data-field': 'coverage95' }, fmtRange(r.coverage95_min, r.coverage95_max))));
    table.replaceChildren(
      page.el('thead', null, page.el('tr', null, ...head.map((h) => page.el('th', { scope: 'col' }, h)))),
      page.el('tbody', null, ...rows));
  }

  async function load() {
    const series = $('series-select').value;
    if (!series) return; /* the page has not chosen a series yet: the tab's next showing loads */
    stale = false;
    const mine = ++request;
    try {
      const doc = await page.api(`/v1/backtests/years?series=${encodeURIComponent(series)}`);
      if (mine === request) render(series, doc);
    } catch (e) {
      if (mine !== request) return;
      stale = true;
      caption.textContent = e instanceof page.AuthError ? `The by-year report needs a read API key: ${e.message}` : e.message;
      table.replaceChildren();
    }
  }

  const shown = () => !$('panel-models').hidden;
  function refresh() {
    stale = true;
    if (shown()) load();
  }

  $('tab-models').addEventListener('click', () => { if (stale) load(); });
  $('series-select').addEventListener('change', refresh);
  page.onLiveEvent((type, payload) => { if (type === 'backtest' && payload.series === $('series-select').value) refresh(); });
})();
