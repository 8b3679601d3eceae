/* operations.test.js: the dashboard's Jobs panel and the Models panel's live performance against a
 * real `oilcast serve` (started through START_SCRIPT PORT, as live.test.js). The store holds SERIES
 * (simulated), its backtest, an endpoint ENDPOINT serving an `ar` model, and DIR/jobs.conf with a
 * failed job, a paused one and "daily-score" (import the prices that followed, then `oilcast monitor`),
 * which this script runs with RUN_JOB_SCRIPT NAME while the page is open. Checks: before scoring the
 * Models panel says nothing is scored yet and names SIMULATED; every job is shown with its schedule,
 * state, last status and next time as GET /v1/jobs gives them, the failed one with its error and its
 * failing step's output on demand, and the tab counts the failure; a hidden page does not poll even
 * when a live event arrives, and looks at once when shown again; the run then shows ok, and the Models
 * panel shows every scored row with its live relMAE and coverage beside the backtest's at the same
 * horizon, and charts them over time (one rolling relMAE line per variant/version with the route's
 * points, the backtest's dashed, naive's 1.0, the coverage lines) and the retraining decisions as
 * the route gives them; the Alerts tab shows the route's firing and resolved alerts and counts the
 * firing ones; visible, a live event (the import of a job "extra-day") brings the jobs forward, well before
 * the 30 s poll; no horizontal scrolling at 390 px; no console errors.
 * Usage: node operations.test.js START_SCRIPT READ_KEY SERIES ENDPOINT RUN_JOB_SCRIPT */
'use strict';
const { execFileSync } = require('child_process');
const { watchErrors, screenshot, check, checkNarrow, checkNoErrors, runTest, startServer, stopServer, api } = require('./browser.js');

const [startScript, readKey, series, endpoint, runJobScript] = process.argv.slice(2);
/* A live event's jobs refresh waits 1 s (JOBS_EVENT_DELAY_MS in web/app.js): this is well past it. */
const EVENT_REFRESH_MS = 2500;

/* The page's formats (web/app.js), for comparing what it shows with what the API gives. */
const fmtTimestamp = (iso) => iso.replace('T', ' ').replace('Z', ' UTC');
const fmtNum = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const fmtPct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');

/* A table's header and rows as text. */
const readTable = (page, id) => page.$eval(`#${id}`, (t) => ({
  head: [...t.querySelectorAll('thead th')].map((c) => c.textContent),
  rows: [...t.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent)),
}));

/* Makes the page believe it is hidden (or shown again) and tells it, as a browser does on a tab switch. */
const setHidden = (page, hidden) => page.evaluate((h) => {
  if (h) {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  } else {
    delete document.hidden; /* back to Document.prototype's getters */
    delete document.visibilityState;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}, hidden);

(async () => {
  const server = await startServer(startScript, 0);
  await runTest(async (context) => {
    await api(server.url, `/v1/endpoints/${endpoint}/invocations`, readKey, { method: 'POST', body: JSON.stringify({ forecast_days: 5 }) });
    const page = await context.newPage();
    const { errors } = watchErrors(page);
    let jobsRequests = 0;
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/jobs') jobsRequests++; });
    await page.addInitScript((key) => localStorage.setItem('oilcast.readKey', key), readKey);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30000 });

    await page.click('#tab-models');
    await page.waitForFunction(() => /Nothing scored yet/.test(document.getElementById('performance-caption').textContent), null, { timeout: 15000 });
    const empty = await page.textContent('#performance-caption');
    check(/oilcast monitor/.test(empty) && /job step/.test(empty) && empty.includes(`${series} · SIMULATED`),
      `before scoring the Models panel says: "${empty}"`);

    /* Jobs: as GET /v1/jobs has them. */
    await page.click('#tab-jobs');
    const listing = await api(server.url, '/v1/jobs', readKey);
    await page.waitForFunction((n) => document.querySelectorAll('#jobs-cards .job-card').length === n, listing.jobs.length, { timeout: 15000 });
    for (const job of listing.jobs) {
      const card = `.job-card[data-job="${job.job}"]`;
      const text = await page.textContent(card);
      const status = await page.getAttribute(card, 'data-status');
      check(status === (job.last_status || 'none') && text.includes(job.schedule) && text.includes(job.state),
        `job ${job.job}: ${job.schedule}, ${job.state}, last run ${status}`);
      if (job.next) check(text.includes(`Next run: ${fmtTimestamp(job.next)}`), `job ${job.job}: next run ${fmtTimestamp(job.next)}`);
      else check(/Next run: none while paused/.test(text), `job ${job.job}: no next run while paused`);
    }
    const failedRun = listing.runs.find((r) => r.job === 'nightly-fetch');
    const failedCard = '.job-card[data-job="nightly-fetch"]';
    check(failedRun.status === 'failed' && (await page.textContent(`${failedCard} .job-error`)) === failedRun.error, `the failed run's error is shown: "${failedRun.error}"`);
    check(!(await page.isVisible(`${failedCard} .job-output pre`)), 'the failing step\'s output is folded away');
    await page.click(`${failedCard} .job-output summary`);
    const output = await page.textContent(`${failedCard} .job-output pre`);
    check(await page.isVisible(`${failedCard} .job-output pre`) && output === failedRun.steps[0].output, `on demand, the failing step's output: "${output.trim()}"`);
    check((await page.textContent('#jobs-failed')) === '1', 'the Jobs tab counts 1 failed job');
    check(/never run/.test(await page.textContent('.job-card[data-job="daily-score"]')), 'daily-score has never run');
    await screenshot(page, 'operations-jobs');
    await checkNarrow(page, 'operations-jobs');

    /* Hidden: a live event (the job's import) brings no jobs request; shown again, one at once. */
    await setHidden(page, true);
    const before = jobsRequests;
    const t0 = Date.now();
    execFileSync('bash', [runJobScript, 'daily-score'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await page.waitForFunction(() => /import run \d+/.test(document.getElementById('event-feed').textContent), null, { timeout: 15000 });
    await page.waitForTimeout(Math.max(0, EVENT_REFRESH_MS - (Date.now() - t0)));
    check(jobsRequests === before, `hidden, the page made no jobs request although a live event arrived (${jobsRequests - before})`);
    await setHidden(page, false);
    await page.waitForSelector('.job-card[data-job="daily-score"][data-status="ok"]', { timeout: 5000 });
    const done = await page.textContent('.job-card[data-job="daily-score"]');
    check(/took \d+ s, manual/.test(done), `shown again, it looked at once: daily-score ok (${done.replace(/\s+/g, ' ')})`);
    const runs = await readTable(page, 'runs-table');
    check(runs.rows.length === 2 && runs.rows[0][1] === 'daily-score' && runs.rows[0][3] === 'ok', 'recent runs: daily-score ok, then nightly-fetch failed');

    /* Live performance beside the backtest. */
    const perf = (await api(server.url, `/v1/endpoints/${endpoint}/performance?windows=20,60`, readKey)).performance;
    const backtest = await api(server.url, `/v1/backtests/latest?series=${series}`, readKey);
    check(perf.length > 0, `the endpoint has ${perf.length} scored rows`);
    await page.click('#tab-models');
    await page.waitForFunction((n) => document.querySelectorAll('#performance-table tbody tr').length === n, perf.length, { timeout: 15000 });
    const table = await readTable(page, 'performance-table');
    const col = (name) => table.head.indexOf(name);
    /* "0.907 (1.029)": the live figure and the backtest's */
    const pair = (cell) => (/^(\S+) \((\S+)\)$/.exec(cell) || []).slice(1);
    for (const r of perf) {
      const shown = table.rows.find((c) => c[0] === `${r.endpoint} · ${r.variant}` && c[col('Horizon')] === String(r.horizon) &&
        c[col('Window (n)')] === `last ${r.window} (${r.origins})`);
      const tested = backtest.rows.find((b) => b.model === 'ar' && b.horizon === r.horizon);
      const where = `${r.endpoint} · ${r.variant} h${r.horizon} last ${r.window}`;
      check(!!shown, `${where}: shown, ${r.origins} scored`);
      const [rel, rel0] = pair(shown[col('relMAE (backtest)')]);
      const [c80, c80b] = pair(shown[col('80% cov. (backtest)')]);
      const [c95, c95b] = pair(shown[col('95% cov. (backtest)')]);
      check(rel === fmtNum(r.rel_mae, 3) && c80 === fmtPct(r.coverage80) && c95 === fmtPct(r.coverage95),
        `${where}: live relMAE ${rel}, coverage ${c80} / ${c95}`);
      check(rel0 === fmtNum(tested.rel_mae, 3) && c80b === fmtPct(tested.coverage80) && c95b === fmtPct(tested.coverage95),
        `${where}: beside the backtest's relMAE ${rel0} and coverage ${c80b} / ${c95b}`);
    }
    check((await page.textContent('#performance-caption')).includes(`${series} · SIMULATED`), 'the live performance caption says SIMULATED');

    /* Over time: at the first horizon and window, one live relMAE line per variant/version with a point
     * per scored origin as the route's history gives it, its backtest's relMAE dashed, naive at 1.0, and
     * the coverage lines beside. */
    const history = (await api(server.url, `/v1/endpoints/${endpoint}/performance?windows=20&history=true`, readKey)).history;
    const badHistory = await fetch(`${server.url}/v1/endpoints/${endpoint}/performance?history=yes`, { headers: { Authorization: `Bearer ${readKey}` } });
    check(badHistory.status === 400, `?history=yes is refused: HTTP ${badHistory.status}`);
    const h1 = history.filter((l) => l.horizon === 1);
    check(h1.length > 0 && h1.every((l) => l.points.length > 0), `the route's history has ${h1.length} line(s) at horizon 1`);
    await page.waitForFunction(() => (document.getElementById('performance-relmae-chart').data || []).length > 0, null, { timeout: 15000 });
    const traces = (id) => page.$eval(`#${id}`, (d) => d.data.map((t) => ({ meta: t.meta, x: [...t.x], y: [...t.y], dash: t.line.dash })));
    const rel = await traces('performance-relmae-chart');
    const cov = await traces('performance-coverage-chart');
    check((await page.inputValue('#performance-horizon')) === '1', 'the chart shows horizon 1 first');
    for (const l of h1) {
      const name = `${l.endpoint} · ${l.variant} ${l.model_version}`;
      const live = rel.find((t) => t.meta.role === 'live' && t.meta.line === name);
      const want = l.points.map((p) => (Number.isFinite(p.rel_mae) ? p.rel_mae : null));
      check(!!live && JSON.stringify(live.x) === JSON.stringify(l.points.map((p) => p.origin)) && JSON.stringify(live.y) === JSON.stringify(want),
        `${name}: the relMAE line has the ${l.points.length} rolling point(s) of the route, ending at ${fmtNum(want[want.length - 1], 3)}`);
      const tested = backtest.rows.find((b) => b.model === 'ar' && b.horizon === 1);
      const ref = rel.find((t) => t.meta.role === 'backtest' && t.meta.line === name);
      check(!!ref && ref.dash === 'dash' && ref.y.every((v) => v === tested.rel_mae), `${name}: the backtest's relMAE ${fmtNum(tested.rel_mae, 3)} dashed beside it`);
      const levels = cov.filter((t) => t.meta.line === name && t.y.length === l.points.length).map((t) => t.meta.level).sort();
      check(JSON.stringify(levels) === '["80%","95%"]', `${name}: 80% and 95% coverage lines with ${l.points.length} point(s)`);
    }
    const naive = rel.filter((t) => t.meta.role === 'naive');
    check(naive.length === 1 && naive[0].y.every((v) => v === 1), 'the naive forecast\'s 1.0 line');
    check(rel.length === 2 * h1.length + 1, `relMAE chart: ${rel.length} traces (live and backtest per line, naive)`);
    await page.locator('#performance-relmae-chart').scrollIntoViewIfNeeded();
    await screenshot(page, 'operations-models-history');

    /* The retraining decisions, newest first, as the route gives them (the promotion made by hand). */
    const decisions = (await api(server.url, `/v1/endpoints/${endpoint}/decisions?last=20`, readKey)).decisions;
    check(decisions.some((d) => d.action === 'promote' && d.trigger === 'manual' && d.version === 2),
      `the route lists the promotion of v2 by hand (${decisions.map((d) => d.action).join(', ')})`);
    const shownDecisions = await readTable(page, 'decisions-table');
    const wantDecisions = [...decisions].sort((a, b) => b.at.localeCompare(a.at) || b.id - a.id).map((d) =>
      [fmtTimestamp(d.at), d.endpoint, d.action, d.trigger || '–', d.version ? `v${d.version}` : '–', d.champion ? `v${d.champion}` : '–', d.reason]);
    check(JSON.stringify(shownDecisions.rows) === JSON.stringify(wantDecisions),
      `the decisions table shows the route's ${decisions.length} decision(s): ${JSON.stringify(shownDecisions.rows[0])}`);

    /* The Alerts tab: the firing alert among the active ones, the resolved one among the resolved, as
     * GET /v1/alerts gives them, and the number firing on the tab. */
    const alerts = (await api(server.url, '/v1/alerts', readKey)).alerts;
    const firing = alerts.filter((a) => a.state === 'firing');
    const resolved = alerts.filter((a) => a.state === 'resolved');
    check(firing.some((a) => a.rule === 'SeriesWatched') && resolved.some((a) => a.rule === 'BrieflyWatched'),
      `the route has SeriesWatched firing and BrieflyWatched resolved (${alerts.map((a) => `${a.rule} ${a.state}`).join(', ')})`);
    await page.click('#tab-alerts');
    await page.waitForFunction((n) => document.querySelectorAll('#alerts-resolved-table tbody tr').length === n, resolved.length, { timeout: 15000 });
    const active = await readTable(page, 'alerts-active-table');
    const gone = await readTable(page, 'alerts-resolved-table');
    const rulesOf = (rows) => rows.map((r) => r[0]).sort();
    check(JSON.stringify(rulesOf(active.rows)) === JSON.stringify(alerts.filter((a) => a.state !== 'resolved').map((a) => a.rule).sort()) &&
      active.rows.filter((r) => r[1] === 'firing').length === firing.length,
      `the active alerts table: ${active.rows.map((r) => `${r[0]} ${r[1]}`).join(', ')}`);
    check(JSON.stringify(rulesOf(gone.rows)) === JSON.stringify(resolved.map((a) => a.rule).sort()),
      `the resolved alerts table: ${gone.rows.map((r) => r[0]).join(', ')}`);
    check((await page.textContent('#alerts-firing')) === String(firing.length) && !(await page.isHidden('#alerts-firing')),
      `the Alerts tab counts ${firing.length} firing`);
    await screenshot(page, 'operations-alerts');
    await page.click('#tab-models');
    await screenshot(page, 'operations-models');
    await checkNarrow(page, 'operations-models');

    /* Visible, a live event brings the jobs forward: a job's import shows its new run long before
     * the 30 s poll. */
    await page.click('#tab-jobs');
    const t1 = Date.now();
    execFileSync('bash', [runJobScript, 'extra-day'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr').length === 3, null, { timeout: 15000 });
    const seen = Date.now() - t1;
    check(seen < 10000, `visible, a live event brought the jobs forward: the new run listed ${seen} ms after the job started`);

    checkNoErrors(errors);
  }, () => stopServer(server, 'SIGTERM'));
})();
