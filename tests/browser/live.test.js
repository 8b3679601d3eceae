/* live.test.js: the dashboard against a real `oilcast serve` (started, killed and restarted by this
 * script through START_SCRIPT PORT, which must exec the server on 127.0.0.1:PORT (0 at first, then the
 * port it got, so the page can reconnect) and print its "listening on URL" line): the page loads with the read key, the history trace has as many points as
 * the store has rows, the forecast fan has forecast_days points, an observation POSTed through the API
 * appears on the chart within 2 s, killing the server shows the disconnected indicator and restarting
 * it recovers (data reloaded, new events arrive again), and the console stays clean (connection errors
 * are excused only while the server is down on purpose).
 * Usage: node live.test.js START_SCRIPT READ_KEY WRITE_KEY SERIES FORECAST_DAYS (0: no forecast stored) */
'use strict';
const { spawn } = require('child_process');
const { launch, watchErrors, marketTraces, screenshot, check } = require('./browser.js');

const [startScript, readKey, writeKey, series, forecastDaysArg] = process.argv.slice(2);
const forecastDays = Number(forecastDaysArg);
const APPEAR_MS = 2000;

function startServer(port) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [startScript, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+?)\/?\s/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

function stopServer(server, signal) {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.on('exit', () => resolve());
    server.child.kill(signal);
  });
}

async function api(url, path, key, init) {
  const res = await fetch(`${url}${path}`, Object.assign({ headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' } }, init));
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

function nextBusinessDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  do d.setUTCDate(d.getUTCDate() + 1); while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return d.toISOString().slice(0, 10);
}

/* POSTs one observation after the last stored one and returns how long the page took to draw it. */
async function postAndWait(page, url, value) {
  const stored = await api(url, `/v1/series/${series}`, readKey);
  const date = nextBusinessDay(stored.observations[stored.observations.length - 1].date);
  const t0 = Date.now();
  await api(url, `/v1/series/${series}/observations`, writeKey, { method: 'POST', body: JSON.stringify({ observations: [{ date, value }] }) });
  await page.waitForFunction(([d, v]) => {
    const t = (document.getElementById('market-chart').data || []).find((x) => x.meta === 'history');
    return t && t.x[t.x.length - 1] === d && t.y[t.y.length - 1] === v;
  }, [date, value], { timeout: 15000, polling: 50 });
  return { date, ms: Date.now() - t0 };
}

(async () => {
  let server = await startServer(0);
  const { context, close } = await launch();
  let failed = false;
  try {
    const page = await context.newPage();
    const watch = watchErrors(page);
    /* "404 when none" is the API's answer for a series without a forecast; chromium logs it. */
    const noForecast = (text) => forecastDays === 0 && /status of 404 .*\/v1\/forecasts\/latest/.test(text);
    /* First visit: no key yet, so the data requests get 401 (chromium logs those) and the page asks. */
    watch.allow((text) => /status of 401/.test(text) || noForecast(text));
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#key-dialog[open]', { timeout: 30000 });
    check(true, 'without a key the page asks for one');
    await page.fill('#key-input', readKey);
    await page.click('#key-save');
    watch.allow(noForecast);
    await page.waitForFunction(() => Number(document.getElementById('market-chart').dataset.renders || 0) > 0, null, { timeout: 30000 });
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 15000 });
    check(true, `page loaded from ${server.url}/ with the read key and the stream is connected`);
    check(await page.evaluate(() => localStorage.getItem('oilcast.readKey')) === readKey, 'the key is kept in localStorage');

    const stored = await api(server.url, `/v1/series/${series}`, readKey);
    let traces = await marketTraces(page);
    const history = traces.find((t) => t.meta === 'history');
    check(history.x.length === stored.observations.length, `history trace has ${stored.observations.length} points, one per stored row (has ${history.x.length})`);
    const fan = traces.find((t) => t.meta === 'forecast');
    if (forecastDays > 0) {
      check(fan && fan.x.length === forecastDays + 1, `forecast fan has ${forecastDays} days + the anchor (has ${fan ? fan.x.length : 'no fan'})`);
    } else {
      check(!fan, 'no forecast stored, no fan drawn');
    }
    await screenshot(page, 'live-market');

    const first = await postAndWait(page, server.url, 80.25);
    check(first.ms <= APPEAR_MS, `POSTed observation ${first.date} drawn after ${first.ms} ms (limit ${APPEAR_MS})`);
    check(/observation/.test(await page.textContent('#event-feed')), 'the live feed lists the observation');

    /* Kill the server: chromium logs the refused connections while it is down; that is the point. */
    watch.allow((text) => /net::ERR_|Failed to fetch/.test(text) || noForecast(text));
    await stopServer(server, 'SIGKILL');
    await page.waitForSelector('#connection[data-state="disconnected"]', { timeout: 10000 });
    check(true, `indicator shows "${await page.textContent('#connection')}" after the server was killed`);
    await screenshot(page, 'live-disconnected');
    /* Restart only once a reconnect attempt found nobody listening (a real outage, not a blip). */
    await page.waitForFunction(() => /retrying in [1-9]/.test(document.getElementById('connection').textContent), null, { timeout: 10000 });

    server = await startServer(new URL(server.url).port);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20000 });
    watch.allow(noForecast);
    await page.waitForFunction((n) => {
      const t = (document.getElementById('market-chart').data || []).find((x) => x.meta === 'history');
      return t && t.x.length === n;
    }, stored.observations.length + 1, { timeout: 10000 });
    check(true, 'after the restart the indicator is back to live and the chart holds the stored rows');
    const second = await postAndWait(page, server.url, 81.5);
    check(second.ms <= APPEAR_MS, `after the restart, observation ${second.date} drawn after ${second.ms} ms`);

    check(watch.errors.length === 0, `no console errors${watch.errors.length ? `: ${watch.errors.join('; ')}` : ''}`);
  } catch (e) {
    console.error(e.message);
    for (const p of context.pages()) console.error(`live feed:\n${await p.textContent('#event-feed').catch(() => '?')}`);
    failed = true;
  } finally {
    await close();
    await stopServer(server, 'SIGTERM');
  }
  process.exit(failed ? 1 : 0);
})();
