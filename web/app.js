/* app.js: the oilcast dashboard page. Reads the REST API described in docs/openapi.yaml (series,
 * latest forecast, latest backtest, models, endpoints and their live performance, scheduled jobs) and
 * follows GET /v1/stream (Server-Sent Events) so new observations and forecasts appear without a
 * reload; the jobs, which have no event of their own, are polled while the page is visible. In a
 * static export (`oilcast dashboard`) the data comes from window.OILCAST_STATIC instead and nothing
 * is fetched.
 * It only ever issues GET requests: no write or admin action is reachable from this page, whatever
 * the key the user enters. Errors go to the on-page banner, never to the console. */
(function () {
  'use strict';

  const KEY_STORAGE = 'oilcast.readKey';
  const UNIT = 'USD/bbl';
  const COLORS = {
    history: '#1f4e79',
    forecast: '#c2410c',
    band80: 'rgba(194, 65, 12, 0.30)',
    band95: 'rgba(194, 65, 12, 0.14)',
    sma20: '#1a7f37',
    sma60: '#8250df',
    bollinger: '#6e7781',
    bollingerFill: 'rgba(110, 119, 129, 0.10)',
    rsi: '#0f766e',
    macd: '#1f4e79',
    signal: '#c2410c',
    histUp: 'rgba(26, 127, 55, 0.55)',
    histDown: 'rgba(180, 35, 24, 0.55)',
    naive: '#57606a',
  };
  const MODEL_PALETTE = ['#1f4e79', '#c2410c', '#1a7f37', '#8250df', '#d63384', '#9a6700', '#0969da'];
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 3000];
  const STREAM_SILENCE_MS = 40000; /* the server sends a keepalive every 15 s */
  const FEED_LENGTH = 100;
  const JOBS_POLL_MS = 30000; /* GET /v1/jobs at least this often while the page is visible */
  const JOBS_EVENT_DELAY_MS = 1000; /* a burst of live events (a job's steps) costs one jobs request */
  const PERFORMANCE_WINDOWS = [20, 60]; /* scored origins per rolling window, as `oilcast monitor` */
  const DECISIONS_SHOWN = 20; /* the newest retraining decisions per endpoint in the Models panel */
  const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['lasso2d', 'select2d'] };

  const STATIC = window.OILCAST_STATIC || null;
  const ta = window.OcIndicators;
  const $ = (id) => document.getElementById(id);

  const state = {
    series: null, /* selected series name */
    source: null, /* the selected series' source as stored (GET /v1/series), e.g. historical, simulated */
    seriesList: [],
    observations: [], /* [{date, value}] ascending */
    forecast: null, /* /v1/forecasts/latest object or null */
    xRange: null, /* user's zoom on the market chart, null = default window */
    overlays: { sma20: true, sma60: false, bollinger: false },
    events: [],
    /* serverWasDown: the last attempt could not even connect. The server's event ids count from 1 in
     * each process, so after the server was gone an old Last-Event-ID would make it skip new events:
     * the page then subscribes from now and reloads over REST instead. */
    stream: { controller: null, lastEventId: null, attempts: 0, connectedOnce: false, serverWasDown: false, timer: null },
    chartReady: false,
    modelsStale: true,
    /* timer: the next poll of GET /v1/jobs (soon: it is the one a live event brought forward);
     * request: counts requests, so only the newest renders; newestRun: "id status" of the newest run
     * seen, to notice runs that finished (a monitor step may have scored forecasts: the Models panel
     * reloads). */
    jobs: { timer: null, soon: false, request: 0, newestRun: null },
  };

  /* ---------- formatting ---------- */

  const fmtPrice = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
  const fmtUsd = (v) => `${fmtPrice(v)} ${UNIT}`;
  const fmtPct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
  const fmtNum = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  const fmtTimestamp = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '–');
  const fmtSigned = (v, digits) => (Number.isFinite(v) ? `${v > 0 ? '+' : ''}${v.toFixed(digits)}` : '–');
  /* A span of seconds as people say it: "4 s", "2 min 5 s", "3 h 20 min", "2 d 4 h". */
  function fmtDuration(seconds) {
    if (!Number.isFinite(seconds)) return '–';
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
    if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
    return `${Math.floor(s / 86400)} d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)} h` : ''}`;
  }

  /* Where a series' prices come from, from the source stored with it (the series' `source`, set by the
   * import that created it): what the chart title, cards, picker and footer say. `historical` is what
   * `oilcast ingest --source historical` stores, this project's real-data source: the EIA daily spot
   * files. A simulated series is labelled SIMULATED everywhere it is named; a source this page does not
   * know is shown as stored, and none at all as "not stated", never as someone's data. */
  /* A series fetched from a market API is credited to that provider, with its id there. */
  const PROVIDERS = {
    eia: { tag: 'EIA', credit: 'U.S. Energy Information Administration, EIA API' },
    fred: { tag: 'FRED', credit: 'FRED, Federal Reserve Bank of St. Louis' },
    alphavantage: { tag: 'Alpha Vantage', credit: 'Alpha Vantage' },
  };
  function provenance(source, provider, providerId) {
    const known = provider && PROVIDERS[provider];
    if (provider) {
      const id = providerId ? ` (${providerId})` : '';
      return { simulated: false, tag: `${known ? known.tag : provider}${id}`, credit: `${known ? known.credit : provider}${id}` };
    }
    if (source === 'simulated') {
      return { simulated: true, tag: 'SIMULATED', credit: 'SIMULATED prices from oilcast simulate market, not market data' };
    }
    if (source === 'historical') {
      return { simulated: false, tag: 'EIA', credit: 'U.S. Energy Information Administration' };
    }
    if (source === 'api') return { simulated: false, tag: 'API', credit: 'posted to this server\'s REST API (source "api")' };
    if (source) return { simulated: false, tag: source, credit: `"${source}" (as stored with the series)` };
    return { simulated: false, tag: 'source not stated', credit: 'not stated with the data' };
  }
  /* " · SIMULATED" after a simulated series' name, nothing otherwise. */
  const simulatedMark = (source) => (provenance(source).simulated ? ' · SIMULATED' : '');
  const seriesOption = (s) => el('option', { value: s.name }, `${s.name} (${s.unit || UNIT})${simulatedMark(s.source)}`);

  /* Dates stay "YYYY-MM-DD" strings (trading days, no time zone); arithmetic goes through UTC. */
  function addDays(date, days) {
    const d = new Date(`${date}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function fillTable(table, headers, rows) {
    table.replaceChildren(
      el('thead', null, el('tr', null, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, ...rows.map((r) => el('tr', null, ...r.map((c) => el('td', null, c))))),
    );
  }

  function showBanner(message) {
    const banner = $('banner');
    banner.textContent = message;
    banner.hidden = !message;
  }

  /* ---------- API access ---------- */

  class AuthError extends Error {}

  function authHeaders(extra) {
    const headers = Object.assign({ Accept: 'application/json' }, extra || {});
    const key = localStorage.getItem(KEY_STORAGE);
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  /* GET path as JSON; null on 404 (nothing there yet); AuthError on 401/403. */
  async function api(path) {
    const res = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(res.status === 401 ? 'This server needs a read API key.' : 'The stored key may not read this data.');
    }
    if (res.status === 404) return null;
    if (!res.ok) {
      let detail = res.statusText;
      try {
        detail = (await res.json()).error.message;
      } catch (ignored) {
        /* the status line is all there is */
      }
      throw new Error(`GET ${path}: HTTP ${res.status}: ${detail}`);
    }
    return res.json();
  }

  function askForKey(reason) {
    $('key-reason').textContent = reason;
    $('key-input').value = '';
    if (!$('key-dialog').open) $('key-dialog').showModal();
  }

  /* ---------- Market panel ---------- */

  /* The default view: the last three months and the forecast, so a week's fan is wide enough to read
   * (the range buttons and zoom show more). */
  function historyWindow() {
    const obs = state.observations;
    if (!obs.length) return null;
    const last = obs[obs.length - 1].date;
    const points = state.forecast ? state.forecast.points : [];
    const end = points.length ? points[points.length - 1].date : last;
    return [addDays(last, -92), addDays(end, 2)];
  }

  /* The version and kind that made a forecast, for the legend: "v1, mlp" (a kind alone for a spec). */
  const forecastBy = (fc) => [...new Set([fc.model_version, fc.model].filter(Boolean))].join(', ');

  /* The observation the forecast continues from: the last one before its first day (a history that
   * runs past the forecast origin shows the actuals next to the forecast). */
  function forecastAnchor(fc) {
    const first = fc.points[0].date;
    for (let i = state.observations.length - 1; i >= 0; i--) {
      if (state.observations[i].date < first) return state.observations[i];
    }
    return null;
  }

  function marketTraces() {
    const obs = state.observations;
    const dates = obs.map((o) => o.date);
    const values = obs.map((o) => o.value);
    const traces = [];
    const line = (name, y, color, extra) =>
      Object.assign({ type: 'scatter', mode: 'lines', name, x: dates, y, line: { color, width: 1.4 }, xaxis: 'x' }, extra);

    if (state.overlays.bollinger) {
      const bb = ta.bollinger(values, 20, 2);
      const hover = { hovertemplate: `%{y:.2f} ${UNIT}<extra>%{fullData.name}</extra>` };
      const edge = { meta: 'bollinger', legendgroup: 'bollinger', legendrank: 7, line: { color: COLORS.bollinger, width: 1, dash: 'dot' } };
      traces.push(line('Bollinger upper', bb.upper, COLORS.bollinger, Object.assign({ showlegend: false }, edge, hover)));
      traces.push(line('Bollinger (20, 2σ)', bb.lower, COLORS.bollinger, Object.assign({ fill: 'tonexty', fillcolor: COLORS.bollingerFill }, edge, hover)));
    }
    traces.push(line(`${state.series} (${UNIT})`, values, COLORS.history, {
      meta: 'history',
      legendrank: 1,
      line: { color: COLORS.history, width: 1.6 },
      hovertemplate: `%{x|%Y-%m-%d}: %{y:.2f} ${UNIT}<extra>${state.series}</extra>`,
    }));
    if (state.overlays.sma20) traces.push(line('SMA 20', ta.sma(values, 20), COLORS.sma20, { meta: 'sma20', legendrank: 5, hovertemplate: `%{y:.2f} ${UNIT}<extra>SMA 20</extra>` }));
    if (state.overlays.sma60) traces.push(line('SMA 60', ta.sma(values, 60), COLORS.sma60, { meta: 'sma60', legendrank: 6, hovertemplate: `%{y:.2f} ${UNIT}<extra>SMA 60</extra>` }));

    const fc = state.forecast;
    const anchor = fc && fc.points.length ? forecastAnchor(fc) : null;
    if (anchor) {
      /* The fan opens at the last observation before the forecast so it continues the line:
       * element 0 is that anchor, elements 1..n are the forecast days. */
      const fx = [anchor.date, ...fc.points.map((p) => p.date)];
      const band = (key) => [anchor.value, ...fc.points.map((p) => p[key])];
      const bandTrace = (name, key, fill, extra) => Object.assign({
        type: 'scatter', mode: 'lines', name, x: fx, y: band(key), xaxis: 'x', meta: 'forecast-band',
        line: { width: 0, color: fill }, fill: 'none', hoverinfo: 'skip', showlegend: false,
      }, extra);
      const hasBand = (level) => fc.points.every((p) => Number.isFinite(p[`lower${level}`]) && Number.isFinite(p[`upper${level}`]));
      for (const [level, color, rank] of [[95, COLORS.band95, 4], [80, COLORS.band80, 3]]) {
        if (!hasBand(level)) continue;
        traces.push(bandTrace(`${level}% upper`, `upper${level}`, color));
        traces.push(bandTrace(`${level}% interval`, `lower${level}`, color, { fill: 'tonexty', fillcolor: color, showlegend: true, legendrank: rank }));
      }
      const bounds = (p, level) => (hasBand(level) ? `, ${level}% ${fmtPrice(p[`lower${level}`])}–${fmtPrice(p[`upper${level}`])}` : '');
      const text = fx.map((d, i) => (i === 0 ? 'last observation' : `forecast${bounds(fc.points[i - 1], 80)}${bounds(fc.points[i - 1], 95)}`));
      traces.push({
        type: 'scatter', mode: 'lines+markers', name: `Forecast${forecastBy(fc) ? ` (${forecastBy(fc)})` : ''}`,
        x: fx, y: band('price'), xaxis: 'x', meta: 'forecast', text, legendrank: 2,
        line: { color: COLORS.forecast, width: 2 }, marker: { size: 5, color: COLORS.forecast },
        hovertemplate: `%{x|%Y-%m-%d}: %{y:.2f} ${UNIT}<br>%{text}<extra>forecast</extra>`,
      });
    }

    const rsi = ta.rsi(values, 14);
    traces.push(line('RSI 14', rsi, COLORS.rsi, { meta: 'rsi', yaxis: 'y2', showlegend: false, hovertemplate: '%{y:.1f}<extra>RSI 14</extra>' }));
    const macd = ta.macd(values, 12, 26, 9);
    /* The histogram as two filled areas (above and below zero) rather than ~10,000 SVG bars. */
    for (const [name, sign, color] of [['MACD hist +', 1, COLORS.histUp], ['MACD hist −', -1, COLORS.histDown]]) {
      const part = macd.hist.map((v) => (v === null ? null : sign > 0 ? Math.max(v, 0) : Math.min(v, 0)));
      traces.push(line(name, part, color, {
        meta: 'macd-hist', yaxis: 'y3', showlegend: false, fill: 'tozeroy', fillcolor: color, line: { width: 0, color },
        hoverinfo: 'skip',
      }));
    }
    traces.push(line('MACD 12/26', macd.macd, COLORS.macd, { meta: 'macd', yaxis: 'y3', showlegend: false, customdata: macd.hist, hovertemplate: '%{y:.3f} (hist %{customdata:.3f})<extra>MACD</extra>' }));
    traces.push(line('Signal 9', macd.signal, COLORS.signal, { meta: 'macd-signal', yaxis: 'y3', showlegend: false, line: { color: COLORS.signal, width: 1.2 }, hovertemplate: '%{y:.3f}<extra>signal</extra>' }));
    return traces;
  }

  /* Plotly does not rescale y to the visible x window; do it so a zoom into 2024 is not flattened by
   * the 1986..2024 extremes. */
  function yRanges(traces, range) {
    const [x0, x1] = range;
    const bounds = { y: [Infinity, -Infinity], y3: [Infinity, -Infinity] };
    for (const t of traces) {
      const axis = t.yaxis || 'y';
      if (!bounds[axis]) continue;
      for (let i = 0; i < t.x.length; i++) {
        const v = t.y[i];
        if (v === null || t.x[i] < x0 || t.x[i] > x1) continue;
        if (v < bounds[axis][0]) bounds[axis][0] = v;
        if (v > bounds[axis][1]) bounds[axis][1] = v;
      }
    }
    const out = {};
    for (const [axis, [lo, hi]] of Object.entries(bounds)) {
      if (!Number.isFinite(lo)) continue;
      const pad = Math.max((hi - lo) * 0.06, 0.5 * (axis === 'y' ? 1 : 0.01));
      out[axis === 'y' ? 'yaxis.range' : 'yaxis3.range'] = [lo - pad, hi + pad];
    }
    return out;
  }

  /* The chart's title names the series and its source, so an exported image carries both. */
  function marketTitle() {
    const origin = provenance(state.source, state.provider, state.providerId);
    return origin.simulated ? `${state.series}: SIMULATED daily prices (${UNIT}), not market data`
      : `${state.series} daily spot price (${UNIT}) · Source: ${origin.credit}`;
  }

  function renderSourceCredit() {
    const origin = provenance(state.source, state.provider, state.providerId);
    const credit = $('source-credit');
    credit.textContent = `Source of ${state.series}: ${origin.credit}.`;
    credit.dataset.simulated = String(origin.simulated);
  }

  function marketLayout(traces) {
    const range = state.xRange || historyWindow();
    const y = yRanges(traces, range);
    return {
      uirevision: state.series,
      title: { text: marketTitle(), x: 0, xanchor: 'left', xref: 'paper', y: 0.985, yanchor: 'top', font: { size: 15 } },
      margin: { l: 60, r: 20, t: 70, b: 40 },
      hovermode: 'x unified',
      legend: { orientation: 'h', traceorder: 'normal', x: 0, y: 1.02, yanchor: 'bottom', xanchor: 'left', font: { size: 11 } },
      font: { family: 'system-ui, sans-serif', size: 12, color: '#1b1f24' },
      paper_bgcolor: '#ffffff',
      plot_bgcolor: '#ffffff',
      xaxis: {
        type: 'date', range, anchor: 'y3', showgrid: true, gridcolor: '#eaeef2', hoverformat: '%Y-%m-%d',
        rangeselector: {
          x: 1, xanchor: 'right', y: 1.0, yanchor: 'bottom', bgcolor: '#f6f8fa', activecolor: '#d0d7de', font: { size: 11 },
          buttons: [
            { count: 1, label: '1M', step: 'month', stepmode: 'backward' },
            { count: 6, label: '6M', step: 'month', stepmode: 'backward' },
            { count: 1, label: '1Y', step: 'year', stepmode: 'backward' },
            { count: 5, label: '5Y', step: 'year', stepmode: 'backward' },
            { label: 'All', step: 'all' },
          ],
        },
      },
      yaxis: { domain: [0.44, 1], title: { text: `Price (${UNIT})` }, range: y['yaxis.range'], gridcolor: '#eaeef2', zeroline: false },
      yaxis2: { domain: [0.23, 0.39], title: { text: 'RSI 14' }, range: [0, 100], tickvals: [30, 50, 70], gridcolor: '#eaeef2', zeroline: false },
      yaxis3: { domain: [0, 0.19], title: { text: 'MACD' }, range: y['yaxis3.range'], gridcolor: '#eaeef2', zerolinecolor: '#afb8c1' },
      shapes: [30, 70].map((level) => ({
        type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y2', y0: level, y1: level, line: { color: '#afb8c1', width: 1, dash: 'dot' },
      })),
    };
  }

  function renderMarket() {
    const div = $('market-chart');
    if (!state.observations.length) {
      Plotly.purge(div);
      state.chartReady = false;
      div.replaceChildren(el('p', { class: 'caption' }, `No observations for ${state.series} yet.`));
      renderSourceCredit();
      renderCards();
      renderForecastTable();
      return;
    }
    if (!state.chartReady) div.replaceChildren();
    const traces = marketTraces();
    Plotly.react(div, traces, marketLayout(traces), PLOT_CONFIG);
    if (!state.chartReady) {
      div.on('plotly_relayout', onMarketRelayout);
      state.chartReady = true;
    }
    div.dataset.renders = String(Number(div.dataset.renders || 0) + 1);
    renderSourceCredit();
    renderCards();
    renderForecastTable();
  }

  function onMarketRelayout(ev) {
    let range = null;
    if (ev['xaxis.autorange']) {
      const div = $('market-chart');
      range = div.layout.xaxis.range.map(String);
    } else if (ev['xaxis.range[0]'] !== undefined) {
      range = [String(ev['xaxis.range[0]']), String(ev['xaxis.range[1]'])];
    } else if (Array.isArray(ev['xaxis.range'])) {
      range = ev['xaxis.range'].map(String);
    }
    if (!range) return;
    state.xRange = range;
    const div = $('market-chart');
    const y = yRanges(div.data, range);
    if (Object.keys(y).length) Plotly.relayout(div, y);
  }

  function renderCards() {
    const cards = $('market-cards');
    const obs = state.observations;
    const items = [];
    if (obs.length) {
      const last = obs[obs.length - 1];
      const prev = obs.length > 1 ? obs[obs.length - 2] : null;
      const change = prev ? last.value - prev.value : null;
      items.push([`Last ${state.series} price${simulatedMark(state.source)}`, fmtUsd(last.value), `on ${last.date}`]);
      if (prev) items.push(['Change on the day', `${change >= 0 ? '+' : ''}${fmtPrice(change)} ${UNIT}`, `${fmtPct(change / Math.abs(prev.value))} vs ${prev.date}`]);
      items.push(['History', `${obs.length.toLocaleString('en-US')} trading days`, `${obs[0].date} to ${last.date}`]);
    }
    const fc = state.forecast;
    if (fc && fc.points.length) {
      const end = fc.points[fc.points.length - 1];
      const intervals = Number.isFinite(end.lower80) || Number.isFinite(end.lower95)
        ? `80%: ${fmtPrice(end.lower80)}–${fmtPrice(end.upper80)}\n95%: ${fmtPrice(end.lower95)}–${fmtPrice(end.upper95)}`
        : 'no prediction intervals given';
      items.push([`Forecast for ${end.date}${simulatedMark(state.source)}`, fmtUsd(end.price), intervals]);
    } else {
      items.push(['Forecast', 'none yet', 'no forecast stored for this series']);
    }
    const origin = provenance(state.source, state.provider, state.providerId);
    items.push(['Source', origin.tag, origin.credit]);
    cards.dataset.simulated = String(origin.simulated);
    cards.replaceChildren(...items.map(([label, value, note]) =>
      el('div', { class: 'card' }, el('div', { class: 'card-label' }, label), el('div', { class: 'card-value' }, value), el('div', { class: 'card-note' }, note))));
  }

  function renderForecastTable() {
    const fc = state.forecast;
    const table = $('forecast-table');
    if (!fc || !fc.points.length) {
      $('forecast-caption').textContent = 'No forecast has been made for this series yet.';
      table.replaceChildren();
      return;
    }
    const who = [fc.model && `model ${fc.model}`, fc.model_version && `version ${fc.model_version}`,
      fc.endpoint && `endpoint ${fc.endpoint}`, fc.variant && `variant ${fc.variant}`].filter(Boolean).join(', ');
    $('forecast-caption').textContent = `${fc.points.length} trading days from ${fc.origin || fc.as_of || forecastAnchor(fc)?.date || '–'}` +
      `${who ? ` by ${who}` : ''}${fc.created_at ? `, made ${fmtTimestamp(fc.created_at)}` : ''}. Prices in ${UNIT}.`;
    fillTable(table, ['Date', `Forecast (${UNIT})`, '80% low', '80% high', '95% low', '95% high'],
      fc.points.map((p) => [p.date, fmtPrice(p.price), fmtPrice(p.lower80), fmtPrice(p.upper80), fmtPrice(p.lower95), fmtPrice(p.upper95)]));
  }

  /* ---------- Models panel ---------- */

  function renderBacktest(bt) {
    const relmae = $('relmae-chart');
    const coverage = $('coverage-chart');
    if (!bt || !bt.rows || !bt.rows.length) {
      $('backtest-caption').textContent = `No backtest stored for ${state.series} yet (run oilcast backtest).`;
      Plotly.purge(relmae);
      Plotly.purge(coverage);
      $('backtest-table').replaceChildren();
      return;
    }
    const models = [...new Set(bt.rows.map((r) => r.model))];
    const horizons = [...new Set(bt.rows.map((r) => r.horizon))].sort((a, b) => a - b);
    const origins = Math.max(...bt.rows.map((r) => r.origins || 0));
    $('backtest-caption').textContent = `Backtest of ${bt.series} from ${bt.start} to ${bt.end}, horizons 1–${Math.max(...horizons)} trading days, ` +
      `up to ${origins} forecast origins, made ${fmtTimestamp(bt.created_at)}. relMAE = MAE / naive MAE (below 1.0 beats the naive forecast).`;
    const colorOf = (m) => (m === 'naive' ? COLORS.naive : MODEL_PALETTE[models.indexOf(m) % MODEL_PALETTE.length]);
    const byModel = (m, key) => horizons.map((h) => {
      const row = bt.rows.find((r) => r.model === m && r.horizon === h);
      return row && Number.isFinite(row[key]) ? row[key] : null;
    });
    const common = {
      margin: { l: 55, r: 15, t: 40, b: 45 }, font: { family: 'system-ui, sans-serif', size: 12, color: '#1b1f24' },
      legend: { orientation: 'h', y: -0.25, yanchor: 'top' }, xaxis: { title: { text: 'Horizon (trading days ahead)', standoff: 4 }, dtick: 1 },
    };
    /* Lines, not bars from zero: the models differ from naive by a few percent, which is the story. */
    const challengers = models.filter((m) => m !== 'naive');
    const rel = challengers.flatMap((m) => byModel(m, 'rel_mae')).filter((v) => v !== null).concat([1]);
    const relPad = Math.max((Math.max(...rel) - Math.min(...rel)) * 0.1, 0.01);
    Plotly.react(relmae, challengers.map((m) => ({
      type: 'scatter', mode: 'lines+markers', name: m, x: horizons, y: byModel(m, 'rel_mae'), line: { color: colorOf(m), width: 2 },
      hovertemplate: `${m}, h=%{x}: relMAE %{y:.3f}<extra></extra>`,
    })), Object.assign({}, common, {
      title: { text: 'relMAE per horizon (naive = 1.0, lower is better)', font: { size: 14 } },
      yaxis: { title: { text: 'relMAE' }, range: [Math.min(...rel) - relPad, Math.max(...rel) + relPad] },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 1, y1: 1, line: { color: COLORS.naive, width: 2, dash: 'dash' } }],
      annotations: [{ xref: 'paper', x: 1, y: 1, yanchor: 'bottom', xanchor: 'right', text: 'naive', showarrow: false, font: { color: COLORS.naive } }],
    }), PLOT_CONFIG);

    const coverageTraces = [];
    for (const m of models) {
      for (const [key, dash, level] of [['coverage80', 'solid', '80%'], ['coverage95', 'dot', '95%']]) {
        const y = byModel(m, key);
        if (y.every((v) => v === null)) continue;
        /* One legend entry per model: solid is its 80% interval, dotted its 95% one. */
        coverageTraces.push({
          type: 'scatter', mode: 'lines+markers', name: m, legendgroup: m, showlegend: level === '80%', x: horizons, y,
          line: { color: colorOf(m), dash }, hovertemplate: `${m}, h=%{x}: ${level} interval covered %{y:.1%}<extra></extra>`,
        });
      }
    }
    Plotly.react(coverage, coverageTraces, Object.assign({}, common, {
      title: { text: 'Interval coverage vs nominal (solid 80%, dotted 95%)', font: { size: 14 } },
      yaxis: { title: { text: 'Share of actuals inside' }, tickformat: '.0%', range: [Math.min(0.75, ...coverageTraces.flatMap((t) => t.y).filter((v) => v !== null)) - 0.03, 1.01] },
      shapes: [0.8, 0.95].map((v) => ({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: v, y1: v, line: { color: COLORS.naive, width: 1.5, dash: 'dash' } })),
      annotations: [0.8, 0.95].map((v) => ({ xref: 'paper', x: 0, y: v, xanchor: 'left', yanchor: 'bottom', text: `nominal ${v * 100}%`, showarrow: false, font: { size: 11, color: COLORS.naive } })),
    }), PLOT_CONFIG);

    const mean = (m, key) => {
      const v = byModel(m, key).filter((x) => x !== null);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    };
    fillTable($('backtest-table'), ['Model', 'relMAE (mean over horizons)', `MAE (${UNIT})`, `RMSE (${UNIT})`, 'Direction hit', '80% coverage', '95% coverage', `80% width (${UNIT})`],
      models.map((m) => [m, fmtNum(mean(m, 'rel_mae'), 3), fmtNum(mean(m, 'mae'), 2), fmtNum(mean(m, 'rmse'), 2), fmtPct(mean(m, 'direction_hit')),
        fmtPct(mean(m, 'coverage80')), fmtPct(mean(m, 'coverage95')), fmtNum(mean(m, 'width80'), 2)]));
  }

  /* Each registered version's model kind (GET /v1/models), e.g. v1 -> ar. */
  const kindsOf = (models) => new Map((models ? models.models : []).map((m) => [m.version, m.kind]));

  function renderServing(models, endpoints) {
    const kinds = kindsOf(models);
    const rows = [];
    for (const ep of endpoints ? endpoints.endpoints : []) {
      const total = ep.variants.reduce((a, v) => a + (v.weight || 0), 0) || 1;
      for (const v of ep.variants) {
        rows.push([ep.name, v.name, v.model_version, kinds.get(v.model_version) || '–', `${((100 * (v.weight || 0)) / total).toFixed(1)}%`]);
      }
    }
    fillTable($('endpoints-table'), ['Endpoint', 'Variant', 'Model version', 'Kind', 'Traffic weight'],
      rows.length ? rows : [['no endpoints configured', '', '', '', '']]);
    const list = models ? models.models : [];
    fillTable($('models-table'), ['Version', 'Kind', 'Status', 'Created'],
      list.length ? list.map((m) => [m.version, m.kind || '–', m.status || '–', fmtTimestamp(m.created_at)]) : [['no models registered', '', '', '']]);
  }

  /* What the endpoints serving the series did in live use (GET /v1/endpoints/{name}/performance: their
   * stored forecasts scored against the prices that followed), per variant, model version, horizon and
   * window, beside what the latest backtest of the same model kind measured at the same horizon: does
   * the model do live what its backtest promised? */
  function renderPerformance(bt, models, serving, performance) {
    const caption = $('performance-caption');
    const table = $('performance-table');
    const named = `${state.series}${simulatedMark(state.source)}`;
    const rows = performance.flatMap((p) => (p ? p.performance : []));
    if (!serving.length || !rows.length) {
      caption.textContent = !serving.length
        ? `No endpoint serves ${named}: live figures come from an endpoint's stored forecasts (oilcast train --deploy, then invocations or a forecast job step).`
        : `Nothing scored yet for ${named} (endpoint ${serving.map((e) => e.name).join(', ')}): run \`oilcast monitor\` after imports, ` +
          'or add it as a job step (step = monitor in DIR/jobs.conf).';
      table.replaceChildren();
      drawHistory([], null, models);
      return;
    }
    const kinds = kindsOf(models);
    const tested = (kind, horizon) => (bt && bt.rows ? bt.rows.find((r) => r.model === kind && r.horizon === horizon) : null);
    drawHistory(performance.flatMap((p) => (p && p.history ? p.history : [])), tested, models);
    const order = (a, b) => a.endpoint.localeCompare(b.endpoint) || a.variant.localeCompare(b.variant) ||
      a.model_version.localeCompare(b.model_version) || a.horizon - b.horizon || a.window - b.window;
    rows.sort(order);
    const firsts = rows.map((r) => r.first_origin).filter(Boolean).sort();
    const lasts = rows.map((r) => r.last_origin).filter(Boolean).sort();
    caption.textContent = `${named}: forecasts of endpoint ${serving.map((e) => e.name).join(', ')} scored against the prices that followed ` +
      `(oilcast monitor), origins ${firsts[0] || '–'} to ${lasts[lasts.length - 1] || '–'}, over the last ${PERFORMANCE_WINDOWS.join(' and ')} scored origins (n: how many there were), ` +
      (bt && bt.rows ? `each live figure beside the backtest's for the same model kind and horizon (in brackets; backtest made ${fmtTimestamp(bt.created_at)}). ` : 'with no backtest of the series to compare (run oilcast backtest). ') +
      'relMAE below 1.0 beats the naive forecast; coverage should be near 80% and 95%; bias is the mean of forecast minus actual.';
    /* The live figure, then the backtest's in grey brackets: "0.907 (1.029)". */
    const beside = (live, tested) => el('span', null, live, el('span', { class: 'backtest-figure' }, ` (${tested})`));
    fillTable(table, ['Endpoint · variant', 'Model', 'Horizon', 'Window (n)', 'relMAE (backtest)',
      '80% cov. (backtest)', '95% cov. (backtest)', `Bias (${UNIT})`, `MAE (${UNIT})`],
    rows.map((r) => {
      const kind = kinds.get(r.model_version);
      const b = tested(kind, r.horizon) || {};
      return [`${r.endpoint} · ${r.variant}`, kind ? `${r.model_version} (${kind})` : r.model_version, r.horizon, `last ${r.window} (${r.origins})`,
        beside(fmtNum(r.rel_mae, 3), fmtNum(b.rel_mae, 3)), beside(fmtPct(r.coverage80), fmtPct(b.coverage80)),
        beside(fmtPct(r.coverage95), fmtPct(b.coverage95)), fmtSigned(r.bias, 2), fmtNum(r.mae, 2)];
    }));
  }

  /* The live figures over time (web/performance.js), over the first window. */
  function drawHistory(history, tested, models) {
    window.OcPerformance.render({
      relEl: $('performance-relmae-chart'), covEl: $('performance-coverage-chart'), select: $('performance-horizon'),
      caption: $('performance-history-caption'), history, window: PERFORMANCE_WINDOWS[0], tested, kinds: kindsOf(models),
      palette: MODEL_PALETTE, naiveColor: COLORS.naive, plotConfig: PLOT_CONFIG,
    });
  }

  /* What the retraining loop decided for the endpoints serving the series (GET
   * /v1/endpoints/{name}/decisions: `oilcast retrain` and alert webhooks), newest first. */
  function renderDecisions(serving, decisions) {
    const rows = decisions.flatMap((d) => (d ? d.decisions : [])).sort((a, b) => b.at.localeCompare(a.at) || b.id - a.id);
    $('decisions-caption').textContent = rows.length
      ? 'Triggers (degradation, alerts, schedule), trainings, challenger deployments, promotions (one-sided Diebold-Mariano test on the same ' +
        'scored origins), rollbacks and refusals, each with its reason; newest first.'
      : `No retraining decisions yet${serving.length ? ` for endpoint ${serving.map((e) => e.name).join(', ')}` : ''} ` +
        '(run `oilcast retrain --endpoint NAME` after imports, e.g. as a job step).';
    fillTable($('decisions-table'), ['When', 'Endpoint', 'Decision', 'Trigger', 'Version', 'Champion', 'Reason'],
      rows.map((d) => [fmtTimestamp(d.at), d.endpoint, d.action, d.trigger || '–', d.version ? `v${d.version}` : '–',
        d.champion ? `v${d.champion}` : '–', d.reason]));
  }

  /* The Models panel loads when first shown (and again when shown after something changed), so the
   * Market page needs only the series and the forecast. */
  async function loadModels() {
    state.modelsStale = false;
    const series = state.series;
    const [bt, models, endpoints] = await Promise.all([
      api(`/v1/backtests/latest?series=${encodeURIComponent(series)}`), api('/v1/models'), api('/v1/endpoints'),
    ]);
    const serving = endpoints ? endpoints.endpoints.filter((e) => e.series === series) : [];
    const [performance, decisions] = await Promise.all([
      Promise.all(serving.map((e) =>
        api(`/v1/endpoints/${encodeURIComponent(e.name)}/performance?windows=${PERFORMANCE_WINDOWS.join(',')}&history=true`))),
      Promise.all(serving.map((e) => api(`/v1/endpoints/${encodeURIComponent(e.name)}/decisions?last=${DECISIONS_SHOWN}`))),
    ]);
    if (series !== state.series) return; /* the picker moved on while these loaded: its own load draws */
    renderBacktest(bt);
    renderServing(models, endpoints);
    renderPerformance(bt, models, serving, performance);
    renderDecisions(serving, decisions);
  }

  /* ---------- Jobs panel ---------- */

  /* A run's status as a chip the eye finds: ok green, failed red, running amber. */
  const statusChip = (status) => el('span', { class: `chip status-${status || 'none'}` }, status || 'never run');

  /* When a time comes relative to now: "in 3 h 20 min", "5 min ago". */
  function fromNow(iso) {
    const seconds = (Date.parse(iso) - Date.now()) / 1000;
    if (!Number.isFinite(seconds)) return '';
    return seconds >= 0 ? `in ${fmtDuration(seconds)}` : `${fmtDuration(-seconds)} ago`;
  }

  /* One job: its schedule and state, its last run (a failed one with its error and, on demand, the
   * output of the step that failed) and its next run. */
  function jobCard(job, last) {
    const status = last ? last.status : job.last_status;
    const started = last ? last.started : job.last_started;
    const lines = [
      el('div', { class: 'job-head' }, el('span', { class: 'job-name' }, job.job), el('span', { class: `chip state-${job.state}` }, job.state)),
      el('div', { class: 'card-note' }, `${job.schedule} · ${job.steps} step${job.steps === 1 ? '' : 's'}`),
      el('div', { class: 'job-line' }, 'Last run: ', statusChip(status),
        started ? ` ${fmtTimestamp(started)} (${fromNow(started)})` : '',
        last && last.status !== 'running' ? `, took ${fmtDuration(last.seconds)}` : '', last ? `, ${last.trigger}` : ''),
      el('div', { class: 'job-line job-next' }, 'Next run: ',
        job.state === 'paused' ? 'none while paused (oilcast jobs resume)' : job.next ? `${fmtTimestamp(job.next)} (${fromNow(job.next)})` : '–'),
    ];
    if (last && last.error && last.status !== 'ok') {
      lines.push(el('div', { class: 'job-error' }, last.error));
      const steps = last.steps || [];
      const failing = steps.filter((st) => st.exit_code !== 0).pop() || steps[steps.length - 1];
      if (failing) {
        lines.push(el('details', { class: 'job-output' },
          el('summary', null, `Output of step ${steps.indexOf(failing) + 1} (${failing.step}), exit code ${failing.exit_code}`),
          el('pre', null, failing.output || '(no output)')));
      }
    }
    return el('div', { class: 'card job-card', 'data-job': job.job, 'data-status': status || 'none' }, ...lines);
  }

  function renderJobs(listing) {
    const caption = $('jobs-caption');
    const jobs = listing ? listing.jobs : [];
    const runs = listing ? listing.runs : [];
    const failed = jobs.filter((j) => j.last_status === 'failed').length;
    const badge = $('jobs-failed');
    badge.textContent = failed ? String(failed) : '';
    badge.title = failed ? `${failed} job${failed === 1 ? '' : 's'} failed on the last run` : '';
    badge.hidden = !failed;
    caption.classList.remove('caption-error');
    if (!listing || !jobs.length) {
      caption.replaceChildren('No jobs defined. Define them in ', el('code', null, 'DIR/jobs.conf'),
        ' (a [name] section with every = and step = lines; see ', el('code', null, 'oilcast jobs --help'), ' and docs/jobs.md), then run them with ',
        el('code', null, 'oilcast run'), ' or now with ', el('code', null, 'oilcast jobs run NAME'), '.');
    } else {
      caption.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'} from DIR/jobs.conf${failed ? `, ${failed} failed on the last run` : ''}. ` +
        `Times in UTC; refreshed ${new Date().toISOString().slice(11, 19)} UTC (every ${JOBS_POLL_MS / 1000} s while this page is visible, and on live events).`;
    }
    $('jobs-cards').replaceChildren(...jobs.map((j) => jobCard(j, runs.find((r) => r.job === j.job))));
    fillTable($('runs-table'), ['Run', 'Job', 'Trigger', 'Status', 'Started', 'Took', 'Slot'],
      runs.length ? runs.map((r) => [String(r.id), r.job, r.trigger, statusChip(r.status), fmtTimestamp(r.started),
        r.status === 'running' ? 'running' : fmtDuration(r.seconds), fmtTimestamp(r.slot)]) : [['no runs yet', '', '', '', '', '', '']]);
    /* A run that started or finished since the last look may have scored forecasts (a monitor step). */
    const newest = runs.length ? `${runs[0].id} ${runs[0].status}` : '';
    if (state.jobs.newestRun !== null && newest !== state.jobs.newestRun) refreshModels();
    state.jobs.newestRun = newest;
  }

  /* Loads GET /v1/jobs and arms the next poll; nothing while the page is hidden (visibilitychange
   * resumes). GET /v1/jobs needs a read key even on a --public-read server (job errors and step output
   * name files and hosts): without a stored key the panel says so and nothing is requested, rather than
   * asking a public visitor for a key. A broken jobs.conf is the jobs panel's news, not the page's: it
   * goes to its caption. */
  async function loadJobs() {
    const jobs = state.jobs;
    clearTimeout(jobs.timer);
    jobs.timer = null;
    jobs.soon = false;
    if (!localStorage.getItem(KEY_STORAGE)) {
      $('jobs-caption').classList.remove('caption-error');
      $('jobs-caption').replaceChildren('Jobs are shown to holders of a read API key only (',
        el('code', null, 'oilcast apikey create --name you --scope read'), '): enter one with "API key" above.');
      return;
    }
    if (document.hidden) return;
    jobs.timer = setTimeout(loadJobs, JOBS_POLL_MS);
    const request = ++jobs.request;
    try {
      const listing = await api('/v1/jobs');
      if (request === jobs.request) renderJobs(listing);
    } catch (e) {
      if (e instanceof AuthError) askForKey(e.message);
      else if (request === jobs.request) {
        $('jobs-caption').classList.add('caption-error');
        $('jobs-caption').textContent = e.message;
      }
    }
  }

  /* A live event often comes from a job's step: look at the jobs shortly after, once per burst (a
   * look already due soon is not pushed back, so a steady stream of events cannot starve it). */
  function refreshJobsSoon() {
    const jobs = state.jobs;
    if (document.hidden || !jobs.timer || jobs.soon) return;
    clearTimeout(jobs.timer);
    jobs.soon = true;
    jobs.timer = setTimeout(loadJobs, JOBS_EVENT_DELAY_MS);
  }

  /* ---------- data loading ---------- */

  function normalizeForecast(fc) {
    if (!fc || !Array.isArray(fc.points)) return null;
    return fc;
  }

  /* The stored series with their units and sources (GET /v1/series) into the picker, keeping the selection. */
  async function loadSeriesList() {
    const list = await api('/v1/series');
    state.seriesList = list ? list.series : [];
    const select = $('series-select');
    select.replaceChildren(...state.seriesList.map(seriesOption));
    select.value = state.series || '';
  }

  async function loadSeries() {
    const name = encodeURIComponent(state.series);
    const [series, forecast] = await Promise.all([api(`/v1/series/${name}`), api(`/v1/forecasts/latest?series=${name}`)]);
    const listed = state.seriesList.find((s) => s.name === state.series);
    state.source = listed ? listed.source : null;
    state.provider = series ? series.provider : null;
    state.providerId = series ? series.provider_id : null;
    state.observations = series ? series.observations.slice() : [];
    /* A forecast event for this series that arrived while the requests were in flight is at least as
     * new as what they fetched (created_at counts seconds): keep it rather than draw an older fan over it. */
    const fetched = normalizeForecast(forecast);
    const live = state.forecast && state.forecast.series === state.series ? state.forecast : null;
    state.forecast = live && (!fetched || live.created_at >= fetched.created_at) ? live : fetched;
    renderMarket();
  }

  /* Reloads the shown series and its forecast after an import; imports arriving while a reload runs
   * cause one more reload, not one each. */
  let reloading = null, reloadAgain = false;
  function reloadSeries() {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = guarded(loadSeries).then(() => {
      reloading = null;
      if (reloadAgain) {
        reloadAgain = false;
        reloadSeries();
      }
    });
  }

  function upsertObservation(date, value) {
    const obs = state.observations;
    let i = obs.length;
    while (i > 0 && obs[i - 1].date > date) i--;
    if (i > 0 && obs[i - 1].date === date) obs[i - 1] = { date, value };
    else obs.splice(i, 0, { date, value });
  }

  async function guarded(task) {
    try {
      await task();
      showBanner('');
    } catch (e) {
      if (e instanceof AuthError) askForKey(e.message);
      else showBanner(e.message);
    }
  }

  async function boot() {
    await guarded(async () => {
      await loadSeriesList();
      const stored = localStorage.getItem('oilcast.series');
      const names = state.seriesList.map((s) => s.name);
      // Without a remembered choice, open on what is being forecast: the first endpoint's series.
      let served = null;
      if (!names.includes(stored)) {
        const endpoints = await api('/v1/endpoints');
        const first = endpoints && endpoints.endpoints.find((e) => names.includes(e.series));
        served = first ? first.series : null;
      }
      state.series = names.includes(stored) ? stored : served || (names.includes('WTI') ? 'WTI' : names[0] || null);
      $('series-select').value = state.series || '';
      if (!state.series) {
        showBanner('The store holds no series yet: import one with oilcast ingest.');
        startStream(); /* the Live panel (sensors, imports) needs no series */
        return;
      }
      await loadSeries();
      refreshModels();
      loadJobs();
      startStream();
    });
  }

  /* ---------- live updates (SSE over fetch, so the read key can go in a header) ---------- */

  function setConnection(stateName, text) {
    const badge = $('connection');
    badge.dataset.state = stateName;
    badge.textContent = text;
  }

  function pushEvent(kind, text, id) {
    const now = new Date();
    state.events.unshift({ kind, text, id, time: now.toISOString().slice(11, 19) });
    state.events.length = Math.min(state.events.length, FEED_LENGTH);
    const feed = $('event-feed');
    feed.prepend(el('li', { 'data-kind': kind },
      el('span', { class: 'event-time' }, `${state.events[0].time} UTC`),
      el('span', { class: `event-kind kind-${kind}` }, kind), text, id ? ` (event ${id})` : ''));
    while (feed.children.length > FEED_LENGTH) feed.lastChild.remove();
    renderLiveStatus();
  }

  function renderLiveStatus() {
    const s = state.stream;
    $('live-status').textContent = `Stream GET /v1/stream: ${$('connection').textContent}. ` +
      `Last event id: ${s.lastEventId || 'none yet'}. Showing the latest ${Math.min(state.events.length, FEED_LENGTH)} events (newest first, times in UTC).`;
  }

  let pendingRender = 0;
  function scheduleRender() {
    if (!pendingRender) pendingRender = requestAnimationFrame(() => { pendingRender = 0; renderMarket(); });
  }

  /* Panel files (sensors.js) follow the events of their own types: OilcastPage.onLiveEvent(fn). */
  const liveListeners = [];

  function handleEvent(type, data, id) {
    if (!type.startsWith('sensor_')) refreshJobsSoon(); /* sensor events come from the stream, not from jobs */
    let payload;
    try {
      payload = JSON.parse(data);
    } catch (e) {
      pushEvent('connection', `unreadable ${type} event: ${e.message}`, id);
      return;
    }
    if (type === 'observation') {
      pushEvent('observation', `${payload.series} ${payload.date}: ${fmtUsd(payload.value)}`, id);
      if (payload.series === state.series) {
        upsertObservation(payload.date, payload.value);
        scheduleRender();
      }
    } else if (type === 'forecast') {
      const n = payload.points ? payload.points.length : 0;
      const last = n ? payload.points[n - 1] : null;
      pushEvent('forecast', `${payload.series} from ${payload.origin || '?'}, ${n} days${last ? `, ${last.date}: ${fmtUsd(last.price)}` : ''}` +
        `${payload.model_version ? ` (model ${payload.model_version})` : ''}`, id);
      if (payload.series === state.series) {
        state.forecast = normalizeForecast(payload);
        scheduleRender();
      }
    } else if (type === 'ingest') {
      const names = Array.isArray(payload.series) ? payload.series : [];
      const more = (payload.series_total || names.length) - names.length;
      const latest = names.map((n) => {
        const last = payload.last && payload.last[n];
        return last ? `${n} ${last.date}: ${fmtUsd(last.value)}` : n;
      });
      pushEvent('ingest', `import run ${payload.run_id}: ${payload.inserted} new, ${payload.updated} updated rows; ` +
        `${latest.join(', ')}${more > 0 ? ` and ${more} more series` : ''}`, id);
      /* A series new to the store joins the picker with its stored unit and source. */
      if (more > 0 || names.some((n) => !state.seriesList.some((s) => s.name === n))) guarded(loadSeriesList);
      if (names.includes(state.series) || more > 0) reloadSeries();
    } else if (type === 'backtest') {
      pushEvent('backtest', `${payload.series} backtest made ${fmtTimestamp(payload.created_at)}`, id);
      if (payload.series === state.series) refreshModels();
    }
    for (const listener of liveListeners) listener(type, payload, id);
  }

  /* Parses an SSE byte stream incrementally (WHATWG "event stream interpretation"). */
  function createSseParser(onEvent) {
    let buffer = '';
    let type = '';
    let data = [];
    return (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const lineEnd = buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? nl + 2 : nl + 1;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(lineEnd);
        if (line === '') {
          if (data.length) onEvent(type || 'message', data.join('\n'));
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) state.stream.lastEventId = value;
      }
    };
  }

  async function startStream() {
    const s = state.stream;
    if (s.controller) s.controller.abort();
    const controller = new AbortController();
    s.controller = controller;
    let silence = null;
    const armSilence = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(), STREAM_SILENCE_MS);
    };
    try {
      const extra = { Accept: 'text/event-stream' };
      const resume = s.lastEventId && !s.serverWasDown;
      if (resume) extra['Last-Event-ID'] = s.lastEventId;
      let res;
      try {
        res = await fetch('/v1/stream', { headers: authHeaders(extra), cache: 'no-store', signal: controller.signal });
      } catch (e) {
        s.serverWasDown = true;
        throw e;
      }
      if (res.status === 401 || res.status === 403) {
        setConnection('disconnected', 'live updates need a read key');
        askForKey('The live stream needs a read API key.');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const resync = s.connectedOnce;
      s.connectedOnce = true;
      s.attempts = 0;
      s.serverWasDown = false;
      setConnection('connected', 'live');
      pushEvent('connection', !resync ? 'connected to the live stream'
        : resume ? `reconnected, resuming after event ${s.lastEventId}; reloading data`
          : 'reconnected after the server was unreachable; reloading data');
      if (resync && state.series) {
        await guarded(loadSeries);
        refreshModels();
        loadJobs();
      }
      armSilence();
      const parse = createSseParser((type, data) => handleEvent(type, data, s.lastEventId));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armSilence();
        parse(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (s.controller !== controller) return; /* replaced by a newer stream on purpose */
    } finally {
      clearTimeout(silence);
    }
    if (s.controller !== controller) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(s.attempts, RECONNECT_DELAYS_MS.length - 1)];
    s.attempts++;
    setConnection('disconnected', `disconnected: retrying in ${(delay / 1000).toFixed(1)} s`);
    if (s.attempts === 1) pushEvent('connection', 'connection to the server lost');
    renderLiveStatus();
    clearTimeout(s.timer);
    s.timer = setTimeout(startStream, delay);
  }

  /* ---------- wiring ---------- */

  function refreshModels() {
    state.modelsStale = true;
    if (!$('panel-models').hidden) guarded(loadModels);
  }

  function showPanel(name) {
    for (const tab of document.querySelectorAll('.tabs button')) {
      const selected = tab.dataset.panel === name;
      tab.setAttribute('aria-selected', String(selected));
      $(`panel-${tab.dataset.panel}`).hidden = !selected;
    }
    /* Plotly sizes charts when drawn; charts drawn while hidden need a resize once visible. */
    for (const div of document.querySelectorAll(`#panel-${name} .js-plotly-plot`)) Plotly.Plots.resize(div);
    if (name === 'models' && state.modelsStale && !STATIC) guarded(loadModels);
  }

  function wire() {
    for (const tab of document.querySelectorAll('.tabs button')) tab.addEventListener('click', () => showPanel(tab.dataset.panel));
    for (const key of Object.keys(state.overlays)) {
      const box = $(`overlay-${key}`);
      box.checked = state.overlays[key];
      box.addEventListener('change', () => { state.overlays[key] = box.checked; renderMarket(); });
    }
    $('series-select').addEventListener('change', (ev) => {
      state.series = ev.target.value;
      state.xRange = null;
      localStorage.setItem('oilcast.series', state.series);
      guarded(loadSeries);
      refreshModels();
    });
    /* A hidden page stops polling the jobs; shown again, it looks at once and polls again. */
    document.addEventListener('visibilitychange', () => { if (!STATIC && state.series) loadJobs(); });
    $('key-button').addEventListener('click', () => askForKey('Enter a read API key for this server.'));
    $('key-forget').addEventListener('click', () => { localStorage.removeItem(KEY_STORAGE); $('key-dialog').close(); });
    $('key-form').addEventListener('submit', () => {
      const key = $('key-input').value.trim();
      if (key) localStorage.setItem(KEY_STORAGE, key);
      setTimeout(boot, 0);
    });
  }

  function bootStatic() {
    for (const id of ['tab-models', 'tab-jobs', 'tab-live', 'key-button']) $(id).hidden = true;
    state.series = STATIC.series || 'Historical';
    state.source = STATIC.source || null;
    const select = $('series-select');
    select.replaceChildren(seriesOption({ name: state.series, unit: STATIC.unit, source: state.source }));
    select.disabled = true;
    state.observations = STATIC.observations;
    state.forecast = normalizeForecast(STATIC.forecast);
    const last = state.observations.length ? state.observations[state.observations.length - 1].date : 'no data';
    setConnection('static', `static export, data to ${last}`);
    renderMarket();
  }

  /* What panel files (alerts.js) draw with: the same elements, tables, requests and times. */
  const hasKey = () => Boolean(localStorage.getItem(KEY_STORAGE));
  window.OilcastPage = { el, fillTable, api, fmtTimestamp, STATIC, AuthError, hasKey, pushEvent,
    onLiveEvent: (listener) => liveListeners.push(listener) };

  wire();
  if (STATIC) bootStatic();
  else boot();
})();
