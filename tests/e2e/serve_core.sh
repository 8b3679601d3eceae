#!/usr/bin/env bash
# End-to-end: a real `oilcast serve` on a random loopback port, driven with curl. Covers the default
# worker count (one per CPU, 2 to 64, said by --help), health,
# readiness, metrics (a key presented to them is judged), series reads and writes (all-or-nothing
# validation), every error status (400 with
# the JSON error location, 401, 403, 404, 405, 413, 422, 429), API keys and scopes (with --public-read
# too: a key presented is judged, a revoked one refused, not served as anonymous), exact rate limits,
# request ids and the access log, slow clients that must not pin the only worker thread, and a graceful
# shutdown with a request in flight.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

work=$OC_TMP
dir=$work/data

# --- the worker count follows the CPUs this process may run on (2 to 64), and --help says how many ---
cpus=$(nproc)
want=$((cpus < 2 ? 2 : cpus > 64 ? 64 : cpus))
"$OILCAST_BIN" serve --help | tail -n 1 | grep -qx "On this machine --threads defaults to $want\." ||
  fail "serve --help does not end with the default thread count $want: $("$OILCAST_BIN" serve --help | tail -n 1)"
if command -v taskset >/dev/null; then
  taskset -c 0 "$OILCAST_BIN" serve --help | tail -n 1 | grep -qx "On this machine --threads defaults to 2\." ||
    fail "on one CPU the default thread count is not 2 (at least 2: a slow request never holds the only worker)"
fi

# --- keys: init prints the first admin key once; create prints only the key on stdout ---
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
[[ "$admin" =~ ^ock_[0-9a-f]{12}_[0-9a-f]{64}$ ]] || fail "init did not print an admin key: '$admin'"
again=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
[[ -z "$again" ]] || fail "a second init printed another key"
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
writer=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name writer --scope write)
limited=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name limited --scope read --rate 1/h --burst 5)
doomed=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name doomed --scope read)
[[ $(wc -l <<<"$reader") -eq 1 && "$reader" =~ ^ock_ ]] || fail "apikey create printed more than the key"
if "$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read >/dev/null 2>&1; then
  fail "a duplicate key name was accepted"
fi
if grep -rq "${reader#ock_????????????_}" "$dir"; then fail "a key's secret is stored in clear"; fi
"$OILCAST_BIN" apikey list --data-dir "$dir" | grep -q '^.*limited .*read' || fail "apikey list lacks 'limited'"

# --- data: a small WTI history ---
printf 'Date,Price\n2024-12-23,69.24\n2024-12-24,70.10\n2024-12-26,69.62\n2024-12-27,70.60\n2024-12-30,70.99\n2024-12-31,71.72\n' \
  >"$work/wti.csv"
"$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$work/wti.csv" --series WTI >/dev/null 2>&1

serve_start "$dir" --threads 1 --max-body 4096 --timeout 2
R=(-H "Authorization: Bearer $reader")
W=(-H "Authorization: Bearer $writer")
A=(-H "Authorization: Bearer $admin")

# --- health, readiness, metrics: open on loopback ---
[[ $(expect_status 200 GET /healthz) == '{"status":"ok"}' ]] || fail "healthz body"
expect_status 200 GET /readyz | grep -q '"ready"' || fail "readyz body"
# a key presented to them is judged as on every route: an unknown one is refused, not ignored
unknown=(-H "Authorization: Bearer ock_000000000000_$(printf '0%.0s' {1..64})")
for route in /healthz /readyz /metrics; do
  expect_status 401 GET "$route" "${unknown[@]}" | grep -q 'the API key is not known' || fail "$route ignored an unknown key"
done
expect_status 401 GET /healthz -H "Authorization: Basic eDp5" >/dev/null
expect_status 200 GET /healthz "${R[@]}" >/dev/null

# --- series reads ---
body=$(expect_status 200 GET /v1/series "${R[@]}")
[[ $(json_get "$body" 'd["series"][0]["name"], d["series"][0]["count"], d["series"][0]["last"]') == "('WTI', 6, '2024-12-31')" ]] ||
  fail "series list: $body"
body=$(expect_status 200 GET '/v1/series/WTI?from=2024-12-26&to=2024-12-30' "${R[@]}")
[[ $(json_get "$body" '[(o["date"], o["value"]) for o in d["observations"]]') == "[('2024-12-26', 69.62), ('2024-12-27', 70.6), ('2024-12-30', 70.99)]" ]] ||
  fail "series range: $body"
# Numbers are the shortest decimal that reads back the same (69.62, never 69.620000000000005).
assert_contains "$body" '{"date":"2024-12-26","value":69.62},{"date":"2024-12-27","value":70.6},' "shortest numbers"
expect_status 404 GET /v1/series/NOPE "${R[@]}" | grep -q '"not_found"' || fail "unknown series"
expect_status 400 GET '/v1/series/WTI?from=2024-02-30' "${R[@]}" | grep -q 'from' || fail "bad from date"

# --- auth: 401 missing/unknown/revoked, 403 scope ---
expect_status 401 GET /v1/series | grep -q '"unauthorized"' || fail "missing key"
expect_status 401 GET /v1/series -H "Authorization: Bearer ock_000000000000_$(printf '0%.0s' {1..64})" >/dev/null
expect_status 401 GET /v1/series -H "Authorization: Basic abc" >/dev/null
expect_status 200 GET /v1/series -H "Authorization: Bearer $doomed" >/dev/null
"$OILCAST_BIN" apikey revoke --data-dir "$dir" doomed 2>/dev/null
for ((i = 0; i < 100; i++)); do  # the server re-reads keys at most once a second
  [[ $(http GET /v1/series -H "Authorization: Bearer $doomed") == 401* ]] && break
  sleep 0.05
done
((i < 100)) || fail "a revoked key still works"
obs='{"observations":[{"date":"2025-01-02","value":73.13},{"date":"2025-01-03","value":73.95}]}'
expect_status 403 POST /v1/series/WTI/observations "${R[@]}" -d "$obs" | grep -q 'scope read' || fail "read key wrote"

# --- writes: all-or-nothing ---
body=$(expect_status 200 POST /v1/series/WTI/observations "${W[@]}" -d "$obs")
[[ $(json_get "$body" 'd["inserted"], d["updated"]') == "(2, 0)" ]] || fail "insert counts: $body"
body=$(expect_status 200 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2025-01-03","value":74.0}]}')
[[ $(json_get "$body" 'd["inserted"], d["updated"]') == "(0, 1)" ]] || fail "update counts: $body"
bad='{"observations":[{"date":"2025-01-06","value":74.1},{"date":"2025-02-30","value":1},{"date":"2025-01-07","value":"x"},{"date":"2025-01-06","value":2}]}'
body=$(expect_status 422 POST /v1/series/WTI/observations "${W[@]}" -d "$bad")
grep -q 'observations\[1\]: bad date' <<<"$body" && grep -q 'observations\[2\].value' <<<"$body" || fail "422 details: $body"
body=$(expect_status 422 POST /v1/series/WTI/observations "${W[@]}" -d '{"observations":[{"date":"2025-01-06","value":1},{"date":"2025-01-06","value":2}]}')
grep -q 'both have date 2025-01-06' <<<"$body" || fail "duplicate dates: $body"
body=$(expect_status 200 GET '/v1/series/WTI?from=2025-01-01' "${R[@]}")
[[ $(json_get "$body" 'len(d["observations"])') == 2 ]] || fail "a rejected request stored rows: $body"
expect_status 404 POST /v1/series/NOPE/observations "${W[@]}" -d "$obs" >/dev/null

# --- malformed and oversized bodies ---
body=$(expect_status 400 POST /v1/series/WTI/observations "${W[@]}" -d $'{"observations":\n [1, 2,, 3]}')
grep -q 'line 2, column 8' <<<"$body" || fail "JSON error location: $body"
expect_status 400 POST /v1/series/WTI/observations "${W[@]}" -d '{"a":1,"a":2}' | grep -q 'duplicate' || fail "duplicate keys"
expect_status 400 POST /v1/series/WTI/observations "${W[@]}" -d '[1]' | grep -q 'JSON object' || fail "non-object body"
expect_status 400 POST /v1/series/WTI/observations "${W[@]}" -d '{"observations":[]} x' >/dev/null
expect_status 400 POST /v1/series/WTI/observations "${W[@]}" >/dev/null
big=$(head -c 5000 /dev/zero | tr '\0' ' ')
expect_status 413 POST /v1/series/WTI/observations "${W[@]}" -d "{$big}" | grep -q payload_too_large || fail "413"
printf '{%s}' "$big" >"$work/big.json"
expect_status 413 POST /v1/series/WTI/observations "${W[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$work/big.json" >/dev/null

# --- the dashboard's files: open, and nothing outside web/ can be named ---
src=${OILCAST_SOURCE_DIR:-$(dirname "$0")/../..}
if [[ -f "$src/web/index.html" ]]; then
  [[ $(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$SERVE_URL/") == "200 text/html; charset=utf-8" ]] || fail "GET /"
  cmp -s <(curl -s "$SERVE_URL/static/app.js") "$src/web/app.js" || fail "GET /static/app.js"
fi
for path in /static/../CMakeLists.txt /static/%2e%2e/CMakeLists.txt /static/.hidden /static//etc/passwd /static/nope.js; do
  [[ $(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$SERVE_URL$path") == 404 ]] || fail "$path was served"
done
if [[ -f "$src/node_modules/plotly.js-dist-min/plotly.min.js" ]]; then
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/vendor/plotly.min.js") == 200 ]] || fail "GET /vendor/plotly.min.js"
fi

# --- HEAD answers wherever GET does: same status and headers, Content-Length of the GET body, no body ---
head_like_get() {
  local path=$1
  shift
  local get head body
  get=$(curl -s -D - -o "$work/get.body" "$@" "$SERVE_URL$path" | tr -d '\r' | grep -viE '^(date|x-request-id|content-length|x-ratelimit-remaining):')
  head=$(curl -s -I "$@" "$SERVE_URL$path" | tr -d '\r')
  [[ $(sed -n 's/^Content-Length: //ip' <<<"$head") == $(stat -c %s "$work/get.body") ]] ||
    fail "HEAD $path: Content-Length is not the GET body's $(stat -c %s "$work/get.body"): $head"
  head=$(grep -viE '^(date|x-request-id|content-length|x-ratelimit-remaining):' <<<"$head")
  [[ "$head" == "$get" ]] || fail "HEAD $path differs from GET:
$head
--- GET:
$get"
}
head_like_get /healthz
# On the wire: the headers, then nothing (HTTP/1.0: the server closes after the response).
exec 3<>"/dev/tcp/127.0.0.1/${SERVE_URL##*:}"
printf 'HEAD /healthz HTTP/1.0\r\n\r\n' >&3
raw=$(timeout 5 cat <&3 | od -An -c | tr -d ' \n')
exec 3<&-
[[ "$raw" == *'\r\n\r\n' ]] || fail "HEAD /healthz sent a body: $raw"
head_like_get /v1/series "${R[@]}"
head_like_get '/v1/series/WTI?from=2024-12-26' "${R[@]}"
head_like_get /v1/series/NOPE "${R[@]}"
head_like_get /openapi.yaml
if [[ -f "$src/web/index.html" ]]; then
  head_like_get /
  head_like_get /static/app.js
fi
[[ -f "$src/node_modules/plotly.js-dist-min/plotly.min.js" ]] && head_like_get /vendor/plotly.min.js
[[ $(curl -s -I -m 5 -o /dev/null -w '%{http_code} %{content_type}' "${R[@]}" "$SERVE_URL/v1/stream") == "200 text/event-stream" ]] ||
  fail "HEAD /v1/stream"
[[ $(curl -s -I -o /dev/null -w '%{http_code}' "$SERVE_URL/v1/series") == 401 ]] || fail "HEAD without a key"
# The specification is served as it is in the tree (an installed binary: PREFIX/share/oilcast/openapi.yaml).
cmp -s <(curl -fsS "$SERVE_URL/openapi.yaml") "$src/docs/openapi.yaml" || fail "GET /openapi.yaml is not docs/openapi.yaml"
[[ $(curl -s -o /dev/null -w '%{content_type}' "$SERVE_URL/openapi.yaml") == application/yaml ]] || fail "openapi.yaml type"

# --- routing errors ---
expect_status 404 GET /v2/nothing | grep -q '"not_found"' || fail "404"
# A path that is not UTF-8 is quoted in the message as valid JSON text (this crashed the server).
[[ $(expect_status 404 GET '/v2/%FF%C3x') == '{"error":{"code":"not_found","message":"no route for GET /v2/??x"}}' ]] ||
  fail "404 for a path that is not UTF-8"
[[ $(curl -s -o /dev/null -D - -X DELETE "$SERVE_URL/v1/series" | tr -d '\r' | grep -i '^allow:') == "Allow: GET, HEAD" ]] ||
  fail "405 without Allow"
expect_status 405 DELETE /v1/series >/dev/null

# --- rate limit: exactly the burst passes, the next is refused with the headers ---
for ((i = 1; i <= 5; i++)); do expect_status 200 GET /healthz >/dev/null; done  # open routes are not limited
for ((i = 1; i <= 5; i++)); do
  expect_status 200 GET /v1/series -H "Authorization: Bearer $limited" >/dev/null
done
headers=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $limited" "$SERVE_URL/v1/series" | tr -d '\r')
grep -q '^HTTP/1.1 429' <<<"$headers" || fail "request 6 of a burst of 5 was not refused: $headers"
grep -q '^Retry-After: [1-9]' <<<"$headers" && grep -q '^X-RateLimit-Limit: 5$' <<<"$headers" &&
  grep -q '^X-RateLimit-Remaining: 0$' <<<"$headers" && grep -q '^X-RateLimit-Reset: [1-9]' <<<"$headers" ||
  fail "429 headers: $headers"

# --- request ids: generated, or taken from the client; in the access log ---
id=$(curl -s -D - -o /dev/null "$SERVE_URL/healthz" | tr -d '\r' | sed -n 's/^X-Request-Id: //p')
[[ -n "$id" ]] || fail "no X-Request-Id"
[[ $(curl -s -D - -o /dev/null -H 'X-Request-Id: trace-42' "$SERVE_URL/healthz" | tr -d '\r' | sed -n 's/^X-Request-Id: //p') == trace-42 ]] ||
  fail "client request id not echoed"
grep -q "\"request_id\":\"$id\"" "$SERVE_LOG" || fail "request id missing from the access log"
grep '"request_id":"trace-42"' "$SERVE_LOG" | /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' ||
  fail "access log is not JSON lines"

# --- metrics: requests by route/status, auth failures, rate limiting ---
metrics=$(expect_status 200 GET /metrics)
for want in 'oilcast_http_requests_total{method="GET",route="/v1/series",status="200"}' \
  'oilcast_http_requests_total{method="POST",route="/v1/series/{name}/observations",status="413"}' \
  'oilcast_auth_failures_total{reason="missing"}' 'oilcast_auth_failures_total{reason="scope"} 1' \
  'oilcast_rate_limited_total{key="limited"} 1' 'oilcast_http_request_duration_seconds_bucket' \
  'process_resident_memory_bytes' 'oilcast_uptime_seconds'; do
  grep -qF "$want" <<<"$metrics" || fail "metrics lack $want"
done

# --- a slow client (half a request line) neither pins the only thread nor stays open forever ---
exec 3<>"/dev/tcp/127.0.0.1/${SERVE_URL##*:}"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
expect_status 200 GET /healthz >/dev/null
if ! timeout 10 cat <&3 >/dev/null; then fail "an idle half-open connection was not closed"; fi
exec 3<&-

# --- graceful shutdown: a slow upload in flight completes, then exit 0 ---
/usr/bin/python3 -c 'import json; print(json.dumps({"observations":[{"date":"2025-01-%02d"%d,"value":70+d/10} for d in (8,9,10)], "pad":"x"*3000}))' >"$work/slow.json"
curl -sS -o "$work/slow.out" -w '%{http_code}' --limit-rate 2K "${W[@]}" --data-binary @"$work/slow.json" \
  "$SERVE_URL/v1/series/WTI/observations" >"$work/slow.code" &
slow=$!
sleep 0.5
serve_stop
wait $slow || fail "the in-flight request failed during shutdown"
[[ $(cat "$work/slow.code") == 200 ]] || fail "in-flight request: $(cat "$work/slow.code") $(cat "$work/slow.out")"
grep -q '"inserted":3' "$work/slow.out" || fail "in-flight body: $(cat "$work/slow.out")"
if curl -s -m 2 "$SERVE_URL/healthz" >/dev/null; then fail "still accepting after shutdown"; fi
# --- operations routes can require a key instead of trusting loopback ---
# --- --public-read: reads need no key, but a key presented is judged (a revoked one is not anonymous) ---
serve_start "$dir" --operations-access key --public-read --access-log off
expect_status 401 GET /metrics >/dev/null
expect_status 200 GET /healthz "${R[@]}" >/dev/null
expect_status 200 GET /v1/series >/dev/null
expect_status 200 GET /v1/series "${R[@]}" >/dev/null
expect_status 401 GET /v1/series -H "Authorization: Bearer $doomed" | grep -q 'the API key is revoked' ||
  fail "--public-read served a revoked key"
expect_status 401 GET /v1/series -H "Authorization: Bearer ock_000000000000_$(printf '0%.0s' {1..64})" >/dev/null
expect_status 401 GET "/v1/stream?access_token=$doomed" >/dev/null
# 70.87 reads back as 70.87 (printf's %.17g wrote 70.870000000000005).
expect_status 200 POST /v1/series/WTI/observations "${W[@]}" -d '{"observations":[{"date":"2025-01-13","value":70.87}]}' >/dev/null
assert_eq "$(expect_status 200 GET '/v1/series/WTI?from=2025-01-13' "${R[@]}")" \
  '{"series":"WTI","unit":"USD/bbl","source":"historical","provider":"","provider_id":"","observations":[{"date":"2025-01-13","value":70.87}]}' "GET /v1/series/WTI"
serve_stop
echo "serve_core: ok"
