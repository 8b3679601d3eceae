#!/usr/bin/env bash
# End-to-end: findings of an adversarial review of `oilcast serve`, each failing before its fix.
# - A path is percent-decoded once: libmicrohttpd decodes it, so the router must not decode it again
#   (/v1/series/%2557TI named the series WTI, /static/index%252ehtml served index.html).
# - A revoked key's open event stream ends: it was admitted once and then kept receiving every event.
# - A query parameter given twice is refused (400 naming it): ?from=A&from=B was served as ?from=A.
# - PUT /v1/endpoints/{name} refuses members its schema (EndpointIn) does not have: a misspelt "series"
#   made an endpoint on the default series, a misspelt "weight" a variant of weight 1.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
writer=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name writer --scope write)
doomed=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name doomed --scope read)
printf 'Date,Price\n2024-12-23,69.24\n2024-12-24,70.10\n' >"$OC_TMP/wti.csv"
"$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null 2>&1
serve_start "$dir"
R=(-H "Authorization: Bearer $reader")

# --- one decoding: %25 is a literal '%', never the start of a second escape ---
expect_status 200 GET /v1/series/%57TI "${R[@]}" >/dev/null # %57 is 'W'
expect_status 404 GET /v1/series/%2557TI "${R[@]}" >/dev/null
src=${OILCAST_SOURCE_DIR:-$(dirname "$0")/../..}
if [[ -f "$src/web/index.html" ]]; then
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/static/index%2ehtml") == 200 ]] || fail "/static/index%2ehtml"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/static/index%252ehtml") == 404 ]] ||
    fail "/static/index%252ehtml was decoded twice and served index.html"
fi

# --- one value per query parameter ---
body=$(expect_status 400 GET '/v1/series/WTI?from=2024-12-24&to=2024-12-24&from=2024-12-23' "${R[@]}")
assert_contains "$body" "query parameter 'from' is given more than once" "a repeated parameter"
expect_status 400 GET '/v1/forecasts/latest?series=WTI&series=BRENT' "${R[@]}" >/dev/null
body=$(expect_status 200 GET '/v1/series/WTI?from=2024-12-24&to=2024-12-24' "${R[@]}")
[[ $(json_get "$body" 'len(d["observations"])') == 1 ]] || fail "from and to once each: $body"

# --- an endpoint's configuration has only the members its schema names ---
A=(-H "Authorization: Bearer $admin")
body=$(expect_status 422 PUT /v1/endpoints/typo "${A[@]}" -d '{"serie":"BRENT","model_version":"naive"}')
assert_contains "$body" "unknown member 'serie'" "a misspelt series"
body=$(expect_status 422 PUT /v1/endpoints/typo "${A[@]}" \
  -d '{"series":"WTI","variants":[{"name":"a","model_version":"naive"},{"name":"b","model_version":"drift","wieght":0.1}]}')
assert_contains "$body" "unknown member 'variants[1].wieght'" "a misspelt weight"
expect_status 404 GET /v1/endpoints/typo "${R[@]}" >/dev/null
expect_status 201 PUT /v1/endpoints/typo "${A[@]}" -d '{"series":"WTI","variants":[{"name":"a","model_version":"naive","weight":1}]}' >/dev/null

# --- a revoked key's open stream ends at the revocation and receives nothing after it ---
curl -sN "$SERVE_URL/v1/stream?access_token=$doomed" >"$OC_TMP/doomed.txt" 2>/dev/null &
doomed_pid=$!
oc_kill_later "$doomed_pid"
curl -sN "${R[@]}" "$SERVE_URL/v1/stream" >"$OC_TMP/reader.txt" 2>/dev/null &
oc_kill_later $!
for _ in $(seq 100); do [[ -s "$OC_TMP/doomed.txt" && -s "$OC_TMP/reader.txt" ]] && break; sleep 0.05; done
"$OILCAST_BIN" apikey revoke --data-dir "$dir" doomed 2>/dev/null
for ((i = 0; i < 100; i++)); do # the revocation reaches the server through the store's change feed
  [[ $(http GET /v1/series -H "Authorization: Bearer $doomed") == 401* ]] && break
  sleep 0.05
done
((i < 100)) || fail "the revoked key still works"
for ((i = 0; i < 100; i++)); do kill -0 "$doomed_pid" 2>/dev/null || break; sleep 0.05; done
((i < 100)) || fail "the revoked key's stream is still open 5 s after the revocation"
expect_status 200 POST /v1/series/WTI/observations -H "Authorization: Bearer $writer" \
  -d '{"observations":[{"date":"2024-12-26","value":69.62}]}' >/dev/null
for _ in $(seq 100); do grep -q '^event: observation' "$OC_TMP/reader.txt" && break; sleep 0.05; done
grep -q '^event: observation' "$OC_TMP/reader.txt" || fail "the other key's stream lost the event"
if grep -q '^event:' "$OC_TMP/doomed.txt"; then fail "the revoked key's stream received: $(cat "$OC_TMP/doomed.txt")"; fi
serve_stop
echo "serve_contract_checks: ok"
