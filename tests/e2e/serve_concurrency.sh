#!/usr/bin/env bash
# End-to-end: every shared structure of a running `oilcast serve` touched at once, so the
# ThreadSanitizer build (make test-tsan) sees each of them from several threads: four worker threads
# answer forecasts (stored history: the history and points caches), reads, metrics, health checks and
# a rate-limited key (the bucket table) while a writer posts observations (history invalidation,
# events), an admin swaps endpoint weights and rolls back (endpoint snapshots), a client holds the
# live stream, and other processes import a file and create a key (the store watcher, key reload).
# In every build: no 5xx, every body is JSON, the server exits 0 on SIGTERM. Under TSan the suite's
# report check (tests/tsan/reports.cmake) fails on any race the server reported.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

work=$OC_TMP
dir=$work/data
admin=$(serve_data_simulated "$dir" 11 "$work/wti.csv")
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
writer=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name writer --scope write)
limited=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name limited --scope read --rate 20/s --burst 5)
serve_start "$dir" --threads 4
A=(-H "Authorization: Bearer $admin")
expect_status 201 PUT /v1/endpoints/oil "${A[@]}" \
  -d '{"series":"WTI","variants":[{"name":"a","model_version":"naive","weight":0.5},{"name":"b","model_version":"drift","weight":0.5}]}' >/dev/null

curl -sN "${A[@]}" "$SERVE_URL/v1/stream" >"$work/stream.txt" &
oc_kill_later $!

# Other processes write the store while the clients run: an import (the watcher publishes it) and a
# new key (the key table reloads).
printf 'Date,Price\n2031-01-02,80.5\n2031-01-03,81.25\n' >"$work/more.csv"
(sleep 0.5
  "$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$work/more.csv" --series BRENT >/dev/null 2>&1
  "$OILCAST_BIN" apikey create --data-dir "$dir" --name late --scope read >"$work/late.key") &
others=$!

/usr/bin/python3 - "$SERVE_URL" "$reader" "$writer" "$admin" "$limited" <<'PY' || fail "concurrent clients"
import datetime, http.client, json, sys, threading, time, urllib.parse
url, reader, writer, admin, limited = sys.argv[1:6]
host = urllib.parse.urlsplit(url)
SECONDS = 3.0
errors, counts, lock = [], {}, threading.Lock()

def client(key, requests):
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    deadline, i = time.monotonic() + SECONDS, 0
    while time.monotonic() < deadline:
        method, path, body = requests(i)
        i += 1
        conn.request(method, path, body=body, headers={"Authorization": "Bearer " + key})
        resp = conn.getresponse()
        data = resp.read()
        with lock:
            counts[resp.status] = counts.get(resp.status, 0) + 1
        try:
            if resp.status >= 500: raise ValueError("server error")
            if path != "/metrics": json.loads(data)
        except ValueError:
            with lock:
                errors.append((method, path, resp.status, data[:200]))
    conn.close()

reads = ["/v1/series/WTI", "/v1/endpoints", "/v1/models", "/v1/forecasts/latest?series=WTI", "/metrics",
         "/healthz", "/readyz", "/v1/series"]
def forecasts(i): return ("POST", "/v1/endpoints/oil/invocations", json.dumps({"forecast_days": 1 + i % 7}))
def mixed(i): return ("GET", reads[i % len(reads)], None)
start = datetime.date(2030, 1, 1)
def observations(i):
    day = start + datetime.timedelta(days=i)
    return ("POST", "/v1/series/WTI/observations",
            json.dumps({"observations": [{"date": day.isoformat(), "value": 70 + i % 10}]}))
def endpoint_changes(i):
    if i % 3 == 2: return ("POST", "/v1/endpoints/oil/rollback", None)
    w = 0.1 + 0.8 * (i % 2)
    return ("PUT", "/v1/endpoints/oil", json.dumps({"series": "WTI", "variants": [
        {"name": "a", "model_version": "naive", "weight": w}, {"name": "b", "model_version": "drift", "weight": 1 - w}]}))
def limited_reads(i): return ("GET", "/v1/endpoints", None)

threads = [threading.Thread(target=client, args=a) for a in
           [(reader, forecasts), (reader, forecasts), (reader, mixed), (reader, mixed), (writer, observations),
            (admin, endpoint_changes), (limited, limited_reads), (limited, limited_reads)]]
for t in threads: t.start()
for t in threads: t.join()
print("responses by status:", dict(sorted(counts.items())))
assert not errors, errors[:5]
assert counts.get(200, 0) > 50 and counts.get(429, 0) > 0, counts
PY
wait $others
late=$(cat "$work/late.key")
for ((i = 0; i < 100; i++)); do
  [[ $(http GET /v1/endpoints -H "Authorization: Bearer $late") == 200* ]] && break
  sleep 0.05
done
expect_status 200 GET /v1/endpoints -H "Authorization: Bearer $late" >/dev/null
serve_stop
grep -q '^event: observation' "$work/stream.txt" || fail "no observation event on the stream"
echo "ok"
