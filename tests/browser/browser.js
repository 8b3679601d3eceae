/* browser.js: what every browser test shares: launching Debian's chromium through playwright-core
 * (headless, no sandbox, no background networking, a fresh profile), collecting console errors and
 * page errors, reading the dashboard's chart data, and saving screenshots as test artifacts.
 * Test code only. */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.OILCAST_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'oilcast-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 },
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/* The Models panel asks for the series' window backtest and by-year report (web/app.js, web/years.js),
 * which a store has only after `oilcast backtest` and `oilcast backtest --by-year`: before, the routes
 * answer 404 (the page says "none yet"), and chromium logs every 404 response as an error. */
const EXPECTED_404 = /status of 404 .*\/v1\/backtests\/(latest|years)\?/;

/* Records console errors and uncaught page errors; `allow(fn)` lets a test excuse messages it
 * provokes on purpose (a killed server makes chromium log connection failures). */
function watchErrors(page) {
  const errors = [];
  let excuse = null;
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `${msg.text()} (${msg.location().url || 'page'})`;
    if (EXPECTED_404.test(text)) return;
    if (!excuse || !excuse(text)) errors.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { errors, allow: (fn) => { excuse = fn; } };
}

/* The market chart's traces as {meta, name, x, y} (the dashboard tags each trace with meta). */
async function marketTraces(page) {
  return page.evaluate(() => (document.getElementById('market-chart').data || []).map((t) => ({
    meta: t.meta, name: t.name, x: Array.from(t.x), y: Array.from(t.y),
  })));
}

function artifactDir() {
  const base = process.env.OILCAST_BUILD_DIR || path.join(__dirname, '..', 'artifacts');
  const dir = path.join(base, 'artifacts', 'browser');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function screenshot(page, name) {
  const file = path.join(artifactDir(), `${name}.png`);
  await page.mouse.move(1, 1); /* no hover labels or plotly toolbar (it fades out) in the picture */
  await page.waitForTimeout(600);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot: ${file}`);
  return file;
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok: ${message}`);
}

/* At a phone's 390x844 the page does not scroll sideways; saves NAME-390x844.png and returns the page
 * to 1280x800. */
async function checkNarrow(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  /* plotly resizes its charts to the new width a moment later (debounced; longer on a loaded machine) */
  await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth, null, { timeout: 10000 }).catch(() => {});
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${name}: no horizontal scrolling at 390 px (overflow ${overflow} px)`);
  await screenshot(page, `${name}-390x844`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/* Runs BODY(context) with a fresh browser; a failed check or any error fails the test (exit 1) once the
 * browser is closed and AFTER (stopping a server, say) has run. */
async function runTest(body, after) {
  const { context, close } = await launch();
  let failed = false;
  try {
    await body(context);
  } catch (e) {
    console.error(e.message);
    failed = true;
  } finally {
    await close();
    if (after) await after();
  }
  process.exit(failed ? 1 : 0);
}

const checkNoErrors = (errors, where) => check(errors.length === 0, `no console errors${where || ''}${errors.length ? `: ${errors.join('; ')}` : ''}`);

const EIA = 'U.S. Energy Information Administration';

/* The shown series is credited with its stored source (kind "historical" or "simulated") in the
 * market chart's title, the cards, the series picker and the footer; a simulated one says SIMULATED
 * in each and the page nowhere credits the EIA; a historical one credits the EIA and none of those
 * says SIMULATED (the picker's list may name other, simulated series). */
async function checkSourceLabels(page, series, kind) {
  const shown = await page.evaluate(() => ({
    title: (document.getElementById('market-chart').layout.title || {}).text || '',
    cards: document.getElementById('market-cards').textContent,
    picker: document.getElementById('series-select').selectedOptions[0].textContent,
    footer: document.querySelector('footer').textContent,
    body: document.body.innerText, /* rendered text: not the inlined scripts */
  }));
  const where = `${series} (${kind})`;
  if (kind === 'simulated') {
    for (const part of ['title', 'cards', 'picker', 'footer']) check(/SIMULATED/.test(shown[part]), `${where}: the ${part} says SIMULATED: "${shown[part].trim().replace(/\s+/g, ' ').slice(0, 160)}"`);
    check(!shown.body.includes(EIA) && !shown.title.includes(EIA), `${where}: the page nowhere credits the EIA`);
  } else {
    for (const part of ['title', 'cards', 'footer']) check(shown[part].includes(EIA), `${where}: the ${part} credits the ${EIA}`);
    const said = ['title', 'cards', 'picker', 'footer'].filter((part) => /SIMULATED/.test(shown[part]));
    check(!said.length, `${where}: neither title, cards, picker nor footer says SIMULATED${said.length ? ` (${said.join(', ')} do)` : ''}`);
  }
}

/* Starts `oilcast serve` through START_SCRIPT PORT [OPTIONS...], which must exec the server on
 * 127.0.0.1:PORT and print its "listening on URL" line; resolves to {child, url}. */
function startServer(startScript, port, ...options) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [startScript, String(port), ...options], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/* One API request with KEY; the parsed JSON body, or an error naming the path and status. */
async function api(url, path, key, init) {
  const res = await fetch(`${url}${path}`, Object.assign({ headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' } }, init));
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

module.exports = {
  launch, watchErrors, marketTraces, screenshot, check, checkNarrow, checkNoErrors, runTest, checkSourceLabels, startServer, stopServer, api,
};
