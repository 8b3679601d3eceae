/* sensors.js: the dashboard's Live panel sensor charts: one plotly chart per sensor (a device's
 * measurement) of the 1-minute window means that "sensor_window" events bring on GET /v1/stream, each
 * window's min..max drawn as a band, with the "sensor_anomaly" events marked on it: spikes and stuck
 * values as crosses at their reading, silences as a triangle at the last reading before the gap and a
 * shaded span up to the reading that ended it (or, while it lasts, to when it was detected). Anomalies
 * also go to the panel's event list. The charts start empty and fill from the stream (a reconnect
 * resumes after the last event id); at most MAX_SENSORS charts of MAX_WINDOWS windows each. Draws with
 * app.js's helpers (window.OilcastPage); reads only; nothing in a static export (no server). */
(function () {
  'use strict';

  const page = window.OilcastPage;
  if (page.STATIC) return;
  const MAX_SENSORS = 12;
  const MAX_WINDOWS = 240; /* four hours of 1-minute windows */
  const $ = (id) => document.getElementById(id);
  const iso = (ms) => new Date(ms).toISOString();
  const clock = (ms) => iso(ms).slice(11, 19);
  /* "device/measurement" -> {device, measurement, windows: Map(start_ms -> window), anomalies: Map, div, pending} */
  const sensors = new Map();
  let dropped = 0; /* sensors beyond MAX_SENSORS, not charted */

  function renderCaption() {
    $('sensors-caption').textContent = sensors.size
      ? `${sensors.size} sensor${sensors.size > 1 ? 's' : ''}${dropped ? ` (and ${dropped} more not charted)` : ''}, ` +
        'live from the stream since this page opened: 1-minute window means (band: min to max), ' +
        '✕ spikes and stuck values, ▼ and shading silences. Times in UTC.'
      : 'No sensor readings since this page opened. They come live from the sensor stream ' +
        '(oilcast stream, or oilcast serve --stream; docs/stream.md).';
  }

  function sensorOf(device, measurement) {
    const key = `${device}/${measurement}`;
    let s = sensors.get(key);
    if (s) return s;
    if (sensors.size >= MAX_SENSORS) {
      dropped++;
      renderCaption();
      return null;
    }
    const div = page.el('div', { class: 'chart chart-sensor', 'data-sensor': key });
    $('sensor-charts').append(div);
    s = { device, measurement, windows: new Map(), anomalies: new Map(), div, pending: 0 };
    sensors.set(key, s);
    renderCaption();
    return s;
  }

  function render(s) {
    const starts = [...s.windows.keys()].sort((a, b) => a - b);
    const x = starts.map(iso);
    const w = starts.map((t) => s.windows.get(t));
    const all = [...s.anomalies.values()];
    const marks = all.filter((a) => a.kind !== 'silence');
    const silences = all.filter((a) => a.kind === 'silence');
    const traces = [
      { meta: 'range', type: 'scatter', mode: 'lines', x: x.concat([...x].reverse()), y: w.map((v) => v.max).concat(w.map((v) => v.min).reverse()),
        fill: 'toself', fillcolor: 'rgba(31,119,180,0.15)', line: { width: 0 }, hoverinfo: 'skip', name: 'min to max' },
      { meta: 'mean', type: 'scatter', mode: 'lines+markers', x, y: w.map((v) => v.mean), name: '1-minute mean',
        line: { color: '#1f77b4' }, marker: { size: 4 } },
      { meta: 'anomalies', type: 'scatter', mode: 'markers', x: marks.map((a) => iso(a.event_ms)), y: marks.map((a) => a.value),
        text: marks.map((a) => `${a.kind} (score ${Number(a.score.toPrecision(3))})`), name: 'spikes and stuck values',
        marker: { symbol: 'x', size: 11, color: '#c0392b' } },
      { meta: 'silences', type: 'scatter', mode: 'markers', x: silences.map((a) => iso(a.event_ms)), y: silences.map((a) => a.value),
        text: silences.map((a) => (a.ended_ms ? `silence, ended ${clock(a.ended_ms)}` : 'silence, lasting')), name: 'silences',
        marker: { symbol: 'triangle-down', size: 12, color: '#7d3c98' } },
    ];
    const shapes = silences.map((a) => ({ type: 'rect', xref: 'x', yref: 'paper', x0: iso(a.event_ms),
      x1: iso(a.ended_ms || a.detected_ms), y0: 0, y1: 1, fillcolor: 'rgba(125,60,152,0.15)', line: { width: 0 } }));
    Plotly.react(s.div, traces, {
      title: { text: `${s.device} · ${s.measurement}`, font: { size: 14 } }, height: 260, showlegend: false,
      margin: { l: 56, r: 12, t: 36, b: 36 }, xaxis: { type: 'date' }, shapes,
    }, { displaylogo: false, responsive: true });
    s.div.dataset.windows = String(starts.length);
    s.div.dataset.anomalies = String(all.length);
  }

  /* Many events in a burst cost one drawing per chart and frame. */
  function scheduleRender(s) {
    if (!s.pending) s.pending = requestAnimationFrame(() => { s.pending = 0; render(s); });
  }

  function onWindow(w) {
    const s = sensorOf(w.device, w.measurement);
    if (!s) return;
    s.windows.set(w.start_ms, w);
    while (s.windows.size > MAX_WINDOWS) s.windows.delete(Math.min(...s.windows.keys()));
    scheduleRender(s);
  }

  function onAnomaly(a, id) {
    const ended = a.ended_ms ? `, ended by a reading at ${clock(a.ended_ms)}` : '';
    const what = a.kind === 'silence' ? `silent since its reading at ${clock(a.event_ms)} UTC${ended}`
      : `${a.kind}: ${a.value} at ${clock(a.event_ms)} UTC (score ${Number(a.score.toPrecision(3))})`;
    page.pushEvent('anomaly', `${a.device} ${a.measurement} ${what}`, id);
    const s = sensorOf(a.device, a.measurement);
    if (!s) return;
    s.anomalies.set(`${a.kind}/${a.event_ms}`, a);
    scheduleRender(s);
  }

  page.onLiveEvent((type, payload, id) => {
    if (type === 'sensor_window') onWindow(payload);
    else if (type === 'sensor_anomaly') onAnomaly(payload, id);
  });
  /* A chart drawn while the panel was hidden is sized when it is shown (app.js resizes them). */
  renderCaption();
})();
