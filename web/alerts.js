/* alerts.js: the dashboard's Alerts panel: the built-in evaluator's firing, pending and resolved
 * alerts (GET /v1/alerts) and the data health behind them (GET /v1/monitor/health: staleness per
 * series, input drift per deployed version), polled while the page is visible, with the number of
 * firing alerts on the tab; only with a read key (the routes need read scope). Draws with app.js's helpers (window.OilcastPage); reads only; hidden in a
 * static export, which has no server to ask. */
(function () {
  'use strict';

  const page = window.OilcastPage;
  const POLL_MS = 30000;
  const $ = (id) => document.getElementById(id);
  let timer = null;

  const labelText = (labels) =>
    Object.entries(labels).filter(([k]) => k !== 'alertname' && k !== 'severity').map(([k, v]) => `${k}=${v}`).join(', ');
  const fmtValue = (v) => (v === null ? '–' : Number(v.toPrecision(4)).toString());

  function render(alerts, health) {
    const active = alerts.filter((a) => a.state !== 'resolved');
    const resolved = alerts.filter((a) => a.state === 'resolved');
    const firing = active.filter((a) => a.state === 'firing').length;
    const badge = $('alerts-firing');
    badge.textContent = String(firing);
    badge.hidden = firing === 0;
    $('alerts-caption').classList.remove('caption-error');
    $('alerts-caption').textContent = alerts.length
      ? `${firing} firing, ${active.length - firing} pending, ${resolved.length} resolved (rules: DIR/alerts.json, evaluated by the job step "alerts evaluate").`
      : 'No alerts. Rules live in DIR/alerts.json and are evaluated by a job step (step = alerts evaluate); see docs/monitoring.md.';
    page.fillTable($('alerts-active-table'), ['alert', 'state', 'severity', 'labels', 'value', 'since', 'summary', 'delivered'],
      active.map((a) => [a.rule, a.state, a.labels.severity || '–', labelText(a.labels), fmtValue(a.value),
        page.fmtTimestamp(a.state === 'firing' ? a.fired_at : a.active_since), a.annotations.summary || '', a.delivered ? 'yes' : 'not yet']));
    page.fillTable($('alerts-resolved-table'), ['alert', 'severity', 'labels', 'fired', 'resolved', 'summary'],
      resolved.map((a) => [a.rule, a.labels.severity || '–', labelText(a.labels), page.fmtTimestamp(a.fired_at),
        page.fmtTimestamp(a.resolved_at), a.annotations.summary || '']));
    page.fillTable($('staleness-table'), ['series', 'last price', 'expected', 'trading days behind'],
      health.series.map((s) => [s.series, s.last_date, s.expected_date, s.trading_days_behind]));
    page.fillTable($('drift-table'), ['model', 'series', 'input', 'recent days', 'PSI', 'drift', 'KS'],
      health.drift.map((d) => [d.model_version, d.series, d.feature, d.recent_n, fmtValue(d.psi), d.psi_band, fmtValue(d.ks)])
        .concat((health.drift_unmeasured || []).map((u) => [u.model_version, '–', '–', '–', '–', `not measured: ${u.error}`, '–'])));
  }

  async function load() {
    clearTimeout(timer);
    timer = null;
    if (document.hidden) return;
    timer = setTimeout(load, POLL_MS);
    if (!page.hasKey()) { /* read-scope routes: a public visitor is not asked for a key here (as for jobs) */
      $('alerts-caption').classList.remove('caption-error');
      $('alerts-caption').textContent = 'Alerts are shown to holders of a read API key (the API key button above).';
      return;
    }
    try {
      const [listing, health] = await Promise.all([page.api('/v1/alerts'), page.api('/v1/monitor/health')]);
      render(listing ? listing.alerts : [], health || { series: [], drift: [] });
    } catch (e) {
      $('alerts-caption').classList.add('caption-error');
      $('alerts-caption').textContent = e instanceof page.AuthError ? `Alerts are shown to holders of a read API key: ${e.message}` : e.message;
    }
  }

  if (!page || page.STATIC) {
    $('tab-alerts').hidden = true;
    return;
  }
  $('tab-alerts').addEventListener('click', load);
  document.addEventListener('visibilitychange', load);
  load();
})();
