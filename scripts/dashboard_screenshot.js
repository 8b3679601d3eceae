#!/usr/bin/env node
/* dashboard_screenshot.js: a PNG of the dashboard's Market panel as a running `oilcast serve` shows it
 * (headless Debian chromium through playwright-core, as the browser tests drive it), for
 * docs/dashboard.png. The read key goes into the page's own storage (localStorage) before it loads,
 * as a user pasting it would leave it; the script waits for the price chart and, unless told there is
 * none, the forecast fan, and fails rather than save a picture without them. It only reads.
 *
 * Usage: node scripts/dashboard_screenshot.js URL READ_KEY OUT.png [--series NAME] [--no-fan]
 *   e.g. node scripts/dashboard_screenshot.js http://127.0.0.1:8080/ oc_... docs/dashboard.png */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.OILCAST_CHROMIUM || '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };

function usage(message) {
  console.error(`dashboard_screenshot: ${message}\nUsage: node scripts/dashboard_screenshot.js URL READ_KEY OUT.png [--series NAME] [--no-fan]`);
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  const opts = { series: null, fan: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--series') {
      if (i + 1 >= argv.length) usage('--series needs a name');
      opts.series = argv[++i];
    } else if (argv[i] === '--no-fan') opts.fan = false;
    else if (argv[i].startsWith('--')) usage(`unknown option ${argv[i]}`);
    else positional.push(argv[i]);
  }
  if (positional.length !== 3) usage('needs URL, READ_KEY and OUT.png');
  [opts.url, opts.key, opts.out] = positional;
  return opts;
}

(async () => {
  const opts = parseArgs(process.argv.slice(2));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'oilcast-screenshot-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: VIEWPORT, deviceScaleFactor: 1,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  let status = 0;
  try {
    const page = await context.newPage();
    await page.addInitScript(([key, series]) => {
      localStorage.setItem('oilcast.readKey', key);
      if (series) localStorage.setItem('oilcast.series', series);
    }, [opts.key, opts.series]);
    await page.goto(opts.url);
    await page.waitForFunction(() => Number(document.getElementById('market-chart').dataset.renders || 0) > 0, null, { timeout: 30000 });
    if (opts.fan) {
      await page.waitForFunction(() => (document.getElementById('market-chart').data || []).some((t) => t.meta === 'forecast'),
        null, { timeout: 10000 }).catch(() => { throw new Error('no forecast fan on the page (pass --no-fan to take it anyway)'); });
    }
    if (await page.isVisible('#banner')) throw new Error(`the page shows an error: ${await page.textContent('#banner')}`);
    await page.mouse.move(1, 1); /* no hover label or plotly toolbar in the picture */
    await page.waitForTimeout(800);
    await page.screenshot({ path: opts.out, fullPage: false });
    console.log(`wrote ${opts.out} (${VIEWPORT.width}x${VIEWPORT.height}) of ${await page.inputValue('#series-select')} from ${opts.url}`);
  } catch (e) {
    console.error(`dashboard_screenshot: ${e.message}`);
    status = 1;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(status);
})();
