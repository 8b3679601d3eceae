/* years.test.js: the Models panel's robustness by year (web/years.js) against a real `oilcast serve`
 * (URL) whose store holds SERIES but no backtest of it, window or by-year, yet. Checks: the
 * panel says there is none and names the command; with the page open, RUN_SCRIPT stores a report
 * (`oilcast backtest --by-year ... --format json --out PRINTED`) and the table appears through the live
 * "backtest" event, without a reload; what --format json printed is the document GET
 * /v1/backtests/years serves; every figure of the table is the served one (per model and year relMAE,
 * coloured better/worse than naive, * at a DM p < 0.05; wins/losses, worst and median year, 80%/95%
 * coverage ranges), naive (the reference) left out; no horizontal scrolling at 390 px; no console
 * errors. Usage: node years.test.js URL READ_KEY SERIES RUN_SCRIPT PRINTED   (exit 0 pass, 1 fail). */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const { watchErrors, check, checkNarrow, checkNoErrors, runTest, api } = require('./browser.js');

const [url, readKey, series, runScript, printedFile] = process.argv.slice(2);

/* The page's formats (web/years.js). */
const fmt4 = (v) => (Number.isFinite(v) ? v.toFixed(4) : '–');
const fmtPct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');

runTest(async (context) => {
  const page = await context.newPage();
  const watch = watchErrors(page);
  /* The simulated series has no forecast: GET /v1/forecasts/latest answers 404, which chromium logs. */
  watch.allow((text) => /status of 404/.test(text) && text.includes(`forecasts/latest?series=${series}`));
  await page.addInitScript((key) => localStorage.setItem('oilcast.readKey', key), readKey);
  await page.goto(`${url}/`);
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 15000 });
  await page.click('#tab-models');
  await page.waitForFunction(() => /No by-year report/.test(document.getElementById('years-caption').textContent), null, { timeout: 10000 });
  const none = await page.textContent('#years-caption');
  check(none.includes(`oilcast backtest --series ${series} --by-year`), `before a report the panel says: "${none}"`);

  execFileSync('bash', [runScript], { stdio: 'inherit' });
  await page.waitForFunction(() => document.querySelectorAll('#years-table tbody tr').length > 0, null, { timeout: 10000 });
  const doc = await api(url, `/v1/backtests/years?series=${series}`, readKey);
  const printed = JSON.parse(fs.readFileSync(printedFile, 'utf8'));
  check(JSON.stringify(printed) === JSON.stringify(doc), `--format json printed the served document (made ${doc.created_at})`);
  check(/By-year backtest/.test(await page.textContent('#years-caption')), 'the table came with the live backtest event, no reload');

  const shown = await page.$$eval('#years-table tbody tr', (rows) => rows.map((r) => ({
    model: r.dataset.model,
    years: [...r.querySelectorAll('td[data-year]')].map((c) => ({ year: Number(c.dataset.year), text: c.textContent, vs: c.dataset.vsNaive, bg: c.style.background })),
    fields: Object.fromEntries([...r.querySelectorAll('td[data-field]')].map((c) => [c.dataset.field, c.textContent])),
  })));
  const head = await page.$$eval('#years-table thead th', (h) => h.map((c) => c.textContent));
  check(head.join('|') === ['Model', ...doc.years.map((y) => String(y.year)), 'Better / worse (years)', 'Worst year', 'Median year',
    '80% coverage', '95% coverage'].join('|'), `columns: ${head.join(', ')}`);
  const challengers = doc.results.filter((r) => r.model !== 'naive');
  check(shown.map((r) => r.model).join(',') === challengers.map((r) => r.model).join(','), `one row per model but naive: ${shown.map((r) => r.model).join(', ')}`);
  let better = 0;
  let worse = 0;
  for (const r of challengers) {
    const row = shown.find((x) => x.model === r.model);
    r.years.forEach((cell, i) => {
      const want = `${fmt4(cell.rel_mae)}${cell.min_dm_pvalue < 0.05 ? '*' : ''}`;
      const vs = cell.rel_mae < 1 ? 'better' : cell.rel_mae > 1 ? 'worse' : 'same';
      const got = row.years[i];
      check(got.year === cell.year && got.text === want && got.vs === vs && (vs === 'same') === !got.bg,
        `${r.model} ${cell.year}: ${got.text} (${got.vs}, ${got.bg || 'no colour'})`);
      better += vs === 'better';
      worse += vs === 'worse';
    });
    const f = row.fields;
    check(f.wins === `${r.wins} / ${r.losses}` && f.worst === `${r.worst_year} (${fmt4(r.worst_rel_mae)})` && f.median === fmt4(r.median_rel_mae),
      `${r.model}: better/worse ${f.wins}, worst ${f.worst}, median ${f.median}`);
    check(f.coverage80 === `${fmtPct(r.coverage80_min)}–${fmtPct(r.coverage80_max)}` &&
      f.coverage95 === `${fmtPct(r.coverage95_min)}–${fmtPct(r.coverage95_max)}`, `${r.model}: coverage ${f.coverage80}, ${f.coverage95}`);
  }
  check(better > 0 && worse > 0, `cells coloured both ways (${better} better, ${worse} worse than naive)`);
  await page.locator('#years-panel').scrollIntoViewIfNeeded();
  await checkNarrow(page, 'years-models'); /* saves the screenshot too */
  checkNoErrors(watch.errors);
});
