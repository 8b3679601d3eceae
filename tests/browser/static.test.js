/* static.test.js: static exports (`oilcast dashboard --out`) opened from the file in chromium, one
 * browser for all of them (a launch costs seconds): the history trace has one point per input row, the
 * forecast fan one per forecast day (plus the anchor at the last observation), overlays toggle, no
 * console errors, and it works on a narrow screen, and the series is credited with its SOURCE
 * (historical or simulated) in the chart title, the cards and the footer.
 * Usage: node static.test.js PAGE.html HISTORY_ROWS FORECAST_DAYS SOURCE [PAGE.html ROWS DAYS SOURCE]... */
'use strict';
const path = require('path');
const { watchErrors, marketTraces, screenshot, check, checkNarrow, checkNoErrors, runTest, checkSourceLabels } = require('./browser.js');

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 4 !== 0) {
  console.error('usage: node static.test.js PAGE.html HISTORY_ROWS FORECAST_DAYS SOURCE [PAGE ROWS DAYS SOURCE]...');
  process.exit(2);
}
const pages = [];
for (let i = 0; i < args.length; i += 4)
  pages.push({ file: path.resolve(args[i]), historyRows: Number(args[i + 1]), forecastDays: Number(args[i + 2]),
               source: args[i + 3] });

async function checkExport(context, { file, historyRows, forecastDays, source }) {
  const page = await context.newPage();
  const { errors } = watchErrors(page);
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => Number(document.getElementById('market-chart').dataset.renders || 0) > 0, null, { timeout: 20000 });
  let traces = await marketTraces(page);
  const history = traces.find((t) => t.meta === 'history');
  check(history && history.x.length === historyRows, `history trace has ${historyRows} points (has ${history && history.x.length})`);
  const fan = traces.filter((t) => t.meta === 'forecast' || t.meta === 'forecast-band');
  if (forecastDays) {
    check(fan.length === 5, `forecast line + 4 band edges drawn (${fan.length})`);
    check(fan.every((t) => t.x.length === forecastDays + 1), `every fan trace has ${forecastDays} forecast days + the anchor`);
    const forecast = fan.find((t) => t.meta === 'forecast');
    check(forecast.x[0] === history.x[history.x.length - 1], `the fan opens at the last observation ${forecast.x[0]}`);
  } else {
    check(fan.length === 0 && /none yet/.test(await page.textContent('#market-cards')), 'no forecast: no fan, the card says none yet');
  }
  check(traces.some((t) => t.meta === 'rsi') && traces.some((t) => t.meta === 'macd'), 'RSI and MACD panel drawn');
  check(await page.isHidden('#tab-live') && await page.isHidden('#tab-models') && await page.isHidden('#tab-jobs'), 'static export hides the live, models and jobs tabs');
  const badge = await page.textContent('#connection');
  check(/static export/.test(badge), `indicator says "${badge}"`);
  const rows = await page.$$eval('#forecast-table tbody tr', (r) => r.length);
  check(rows === forecastDays, `forecast table has ${forecastDays} rows`);
  check(/USD\/bbl/.test(await page.textContent('#market-cards')), 'cards carry the unit USD/bbl');
  await checkSourceLabels(page, await page.inputValue('#series-select'), source);

  await page.check('#overlay-bollinger');
  await page.check('#overlay-sma60');
  traces = await marketTraces(page);
  check(traces.filter((t) => t.meta === 'bollinger').length === 2 && traces.some((t) => t.meta === 'sma60'), 'Bollinger and SMA 60 overlays toggle on');
  await page.uncheck('#overlay-sma20');
  traces = await marketTraces(page);
  check(!traces.some((t) => t.meta === 'sma20'), 'SMA 20 toggles off');
  await screenshot(page, `static-${source}-1280x800`);

  await checkNarrow(page, `static-${source}`);

  check(requests.length === 0, `no network requests (${requests.join(', ') || 'none'})`);
  checkNoErrors(errors);
  await page.close();
}

runTest(async (context) => {
  for (const exported of pages) await checkExport(context, exported);
});
