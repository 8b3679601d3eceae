#!/usr/bin/env bash
# `oilcast dashboard`: the static export of the WTI history (the real file, or without the shared
# data a simulated stand-in) plus a forecast opens from the file in chromium with every point drawn,
# credited to its source (--source historical: the EIA) and no console errors; the export of a
# simulated series (its source in the history file) says SIMULATED; without --out the same bytes are
# served on loopback until SIGINT; bad inputs fail with their location.
set -euo pipefail
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
need_browser
work=$(mktemp -d)
server=
cleanup() { # all of it whatever fails (a server already gone), the test's status kept
  set +e
  [[ -n "$server" ]] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
oc_wti_prices "$bin" "$data" "$work"

# The whole WTI series as [{"date","price"}] and a 10-trading-day forecast in the
# /v1/forecasts/latest shape (bands widening with the square root of the horizon).
node -e '
  const fs = require("fs");
  const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
  fs.writeFileSync(process.argv[2], JSON.stringify(rows.map(([date, p]) => ({ date, price: Number(p) }))));
  const last = Number(rows[rows.length - 1][1]);
  const points = [];
  const closed = new Set(["2025-01-01", "2025-01-09"]); /* New Year, the national day of mourning */
  for (let d = new Date("2025-01-02T00:00:00Z"); points.length < 10; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() === 0 || d.getUTCDay() === 6 || closed.has(d.toISOString().slice(0, 10))) continue;
    const s = 1.9 * Math.sqrt(points.length + 1);
    points.push({ date: d.toISOString().slice(0, 10), price: last, lower80: last - 1.28 * s, upper80: last + 1.28 * s,
                  lower95: last - 1.96 * s, upper95: last + 1.96 * s });
  }
  fs.writeFileSync(process.argv[3], JSON.stringify({ series: "WTI", model: "mlp", model_version: "v1", origin: rows[rows.length - 1][0], points }));
' "$PRICES" "$work/h.json" "$work/f.json"
rows=$(($(grep -c . "$PRICES") - 1))

"$bin" dashboard --historical-data "$work/h.json" --forecast-data "$work/f.json" --source historical --out "$work/dashboard.html"

# A simulated series, its source stated in the history file (the GET /v1/series/NAME shape).
simulated_prices "$work" WTI-SIM
node -e '
  const fs = require("fs");
  const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").slice(2).map((l) => l.split(","));
  fs.writeFileSync(process.argv[2], JSON.stringify({ series: "WTI-SIM", source: "simulated",
    observations: rows.map(([date, v]) => ({ date, value: Number(v) })) }));
' "$simulated" "$work/sim.json"
"$bin" dashboard --historical-data "$work/sim.json" --out "$work/simulated.html"

# Both exports in one chromium (a launch is seconds of this test's time).
node "$src/tests/browser/static.test.js" "$work/dashboard.html" "$rows" 10 historical \
  "$work/simulated.html" "$(($(grep -c . "$simulated") - 2))" 0 simulated

# Served: the URL comes first on stdout; the page is byte-identical to the file; SIGINT exits 0.
"$bin" dashboard --historical-data "$work/h.json" --forecast-data "$work/f.json" --source historical --port 0 >"$work/url" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 200); do [[ -s "$work/url" ]] && break; sleep 0.05; done
url=$(head -1 "$work/url")
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/$ ]] || { echo "no URL printed: '$url'"; cat "$work/serve.log"; exit 1; }
curl -sf "$url" -o "$work/served.html"
cmp "$work/served.html" "$work/dashboard.html"
[[ $(curl -s -o /dev/null -w '%{http_code}' "${url}missing") == 404 ]]
kill -INT "$server"
wait "$server"
server=
echo "ok: served at $url, identical to the file, stopped by SIGINT with status 0"

# Errors name the file and the place.
printf '[{"date":"2024-01-02","price":1},\n {"date":"2024-01-03" "price":2}]' >"$work/bad.json"
if "$bin" dashboard --historical-data "$work/bad.json" --out "$work/x.html" 2>"$work/err"; then exit 1; fi
grep -q "bad.json:2:" "$work/err" || { cat "$work/err"; exit 1; }
set +e
"$bin" dashboard --out "$work/x.html" 2>/dev/null
[[ $? == 2 ]] || { echo "missing --historical-data should be a usage error"; exit 1; }
set -e
[[ ! -e "$work/x.html" ]]
echo "ok: bad inputs rejected with their location"
