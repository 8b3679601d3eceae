/* sensors.test.js: the dashboard's Live panel sensor charts against a real `oilcast serve --stream`
 * (started by tests/e2e/dashboard_sensors.sh with the stream's clock in CLOCK_FILE). Checks: readings
 * published to the broker (PUBLISH_SCRIPT SEQ EVENT_TIME VALUE) appear as a chart of their sensor
 * with their 1-minute window's mean within 2 s of the publisher's return (6 s under ASan); moving the
 * clock past 3 expected intervals marks a silence on that chart and lists it among the events; the
 * page does not scroll sideways at 390 px; no console errors.
 * Usage: node sensors.test.js URL READ_KEY PUBLISH_SCRIPT CLOCK_FILE   (exit 0 pass, 1 fail). */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const { launch, watchErrors, screenshot, check, checkNarrow } = require('./browser.js');

const [url, readKey, publishScript, clockFile] = process.argv.slice(2);
const APPEAR_MS = process.env.OILCAST_SANITIZED === '1' ? 6000 : 2000;
const SENSOR = 'tank-1/level';

/* The chart's traces as {meta, x, y}, or null before it exists. */
function chartTraces(page) {
  return page.evaluate((key) => {
    const div = document.querySelector(`[data-sensor="${key}"]`);
    return div && div.data ? div.data.map((t) => ({ meta: t.meta, x: Array.from(t.x), y: Array.from(t.y) })) : null;
  }, SENSOR);
}

/* Waits until the sensor's trace `meta` has n points; the ms since t0. */
async function waitPoints(page, t0, meta, n) {
  await page.waitForFunction(([key, m, count]) => {
    const div = document.querySelector(`[data-sensor="${key}"]`);
    const trace = div && div.data && div.data.find((t) => t.meta === m);
    return !!trace && trace.x.length === count;
  }, [SENSOR, meta, n], { timeout: 15000, polling: 50 });
  return Date.now() - t0;
}

(async () => {
  const { context, close } = await launch();
  let failed = false;
  try {
    await context.addInitScript((key) => localStorage.setItem('oilcast.readKey', key), readKey);
    const page = await context.newPage();
    const watch = watchErrors(page);
    await page.goto(`${url}/`);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30000 });
    await page.click('#tab-live');
    check(/No sensor readings/.test(await page.textContent('#sensors-caption')), 'before any reading the panel says where they come from');

    let t0 = Date.now();
    execFileSync('bash', [publishScript, '1', '2026-06-01T12:00:10Z', '4.5'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('bash', [publishScript, '2', '2026-06-01T12:00:20Z', '5.5'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await page.waitForFunction((key) => {
      const div = document.querySelector(`[data-sensor="${key}"]`);
      const mean = div && div.data && div.data.find((t) => t.meta === 'mean');
      return !!mean && mean.y[0] === 5;
    }, SENSOR, { timeout: 15000, polling: 50 }).catch(async (e) => {
      /* what the page had instead: no chart, one reading, or another mean; and its connection */
      const state = await page.getAttribute('#connection', 'data-state');
      throw new Error(`${e.message}; the chart's traces: ${JSON.stringify(await chartTraces(page))}, connection ${state}`);
    });
    const ms = Date.now() - t0;
    check(ms <= APPEAR_MS, `two published readings drawn as their window's mean 5 after ${ms} ms (limit ${APPEAR_MS})`);
    const traces = await chartTraces(page);
    const mean = traces.find((t) => t.meta === 'mean');
    check(mean.x.length === 1 && mean.x[0].startsWith('2026-06-01T12:00:00'), `one 1-minute window at 12:00 (${mean.x})`);
    check(/1 sensor/.test(await page.textContent('#sensors-caption')), 'the caption counts the sensor');

    t0 = Date.now();
    fs.writeFileSync(clockFile, '2026-06-01T12:05:00Z\n'); /* 280 s after the last reading; interval 60 s */
    await waitPoints(page, t0, 'silences', 1);
    const silence = (await chartTraces(page)).find((t) => t.meta === 'silences');
    check(silence.x[0].startsWith('2026-06-01T12:00:20') && silence.y[0] === 5.5, `the silence is marked at the last reading (${silence.x[0]}, ${silence.y[0]})`);
    const shapes = await page.evaluate((key) => document.querySelector(`[data-sensor="${key}"]`).layout.shapes.length, SENSOR);
    check(shapes === 1, 'the silence is shaded');
    check(/tank-1 level silent since its reading at 12:00:20/.test(await page.textContent('#event-feed')), 'the event list names the silence');
    await screenshot(page, 'live-sensors');
    await checkNarrow(page, 'live-sensors');
    check(watch.errors.length === 0, `no console errors${watch.errors.length ? `: ${watch.errors.join('; ')}` : ''}`);
  } catch (e) {
    failed = true;
    console.error(e.stack || String(e));
  } finally {
    await close();
  }
  console.log(failed ? 'FAIL' : 'PASS');
  process.exit(failed ? 1 : 0);
})();
