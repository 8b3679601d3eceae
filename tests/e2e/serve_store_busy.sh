#!/usr/bin/env bash
# End-to-end: a server whose store is held by another writer (sqlite3 holding BEGIN IMMEDIATE for 4 s,
# as a long CLI import does) keeps answering. Reads are served at once; a POST of observations is
# answered 503 store_busy with Retry-After after a 1 s wait instead of holding a worker until the lock
# is free (or failing after 10 s with "database is locked"); once the writer is done the same POST lands.
# An endpoint's PUT and rollback meet the lock the same way: 503 store_busy with Retry-After (they were
# answered 422 invalid_endpoint and 409 no_previous_configuration, which a client does not retry).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
printf 'Date,Price\n2025-01-02,71.5\n2025-01-03,72.25\n' >"$OC_TMP/first.csv"
oc ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/first.csv" --series WTI >/dev/null 2>&1
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
body='{"observations":[{"date":"2025-01-06","value":73.5}]}'
config() { printf '{"series":"WTI","variants":[{"name":"a","model_version":"%s"}]}' "$1"; }
expect_status 201 PUT /v1/endpoints/oil "${A[@]}" -d "$(config naive)" >/dev/null
expect_status 200 PUT /v1/endpoints/oil "${A[@]}" -d "$(config drift)" >/dev/null # a previous one to roll back to

# The holder waits for the lock itself (.timeout: the probe below takes it for an instant), and the
# requests go out only once it holds it, however long its start takes under load.
(echo "BEGIN IMMEDIATE; INSERT INTO series(name, unit, source, created_at) VALUES ('HOLDER', 'x', 'test', 0);"
  sleep 5
  echo "ROLLBACK;") | sqlite3 -cmd ".timeout 10000" "$dir/oilcast.db" &
holder=$!
oc_kill_later "$holder"
locked() { ! sqlite3 -cmd ".timeout 0" "$dir/oilcast.db" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null; }
for _ in $(seq 100); do locked && break; sleep 0.02; done
locked || fail "the holder did not take the write lock within 2 s"

start=$(date +%s%N)
status=$(curl -s -o "$OC_TMP/read.json" -w '%{http_code}' "${A[@]}" "$SERVE_URL/v1/series/WTI")
assert_eq "$status" 200 "a read while another process writes"
status=$(curl -s -D "$OC_TMP/h.txt" -o "$OC_TMP/busy.json" -w '%{http_code}' "${A[@]}" -X POST \
  "$SERVE_URL/v1/series/WTI/observations" -d "$body")
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "$status" 503 "a write while another process writes: $(cat "$OC_TMP/busy.json")"
grep -q '"code":"store_busy"' "$OC_TMP/busy.json" || fail "code: $(cat "$OC_TMP/busy.json")"
grep -qi '^Retry-After: 2' "$OC_TMP/h.txt" || fail "no Retry-After: $(cat "$OC_TMP/h.txt")"
((elapsed_ms < 3000)) || fail "the busy answer took $elapsed_ms ms"
# both at once: each waits its 1 s for the lock
curl -s -D "$OC_TMP/put-h.txt" -o "$OC_TMP/put.json" -w '%{http_code}' "${A[@]}" -X PUT "$SERVE_URL/v1/endpoints/oil" \
  -d "$(config naive)" >"$OC_TMP/put-status" &
put=$!
status=$(curl -s -D "$OC_TMP/rb-h.txt" -o "$OC_TMP/rb.json" -w '%{http_code}' "${A[@]}" -X POST "$SERVE_URL/v1/endpoints/oil/rollback")
wait "$put"
assert_eq "$(cat "$OC_TMP/put-status") $(grep -o '"code":"[a-z_]*"' "$OC_TMP/put.json")" '503 "code":"store_busy"' \
  "an endpoint's PUT while another process writes: $(cat "$OC_TMP/put.json")"
assert_eq "$status $(grep -o '"code":"[a-z_]*"' "$OC_TMP/rb.json")" '503 "code":"store_busy"' \
  "a rollback while another process writes: $(cat "$OC_TMP/rb.json")"
grep -qi '^Retry-After: 2' "$OC_TMP/put-h.txt" && grep -qi '^Retry-After: 2' "$OC_TMP/rb-h.txt" || fail "no Retry-After on the endpoint's writes"
wait "$holder"
status=$(curl -s -o "$OC_TMP/ok.json" -w '%{http_code}' "${A[@]}" -X POST "$SERVE_URL/v1/series/WTI/observations" -d "$body")
assert_eq "$status" 200 "the write once the other writer is done: $(cat "$OC_TMP/ok.json")"
expect_status 200 GET /v1/endpoints/oil "${A[@]}" | grep -q '"model_version":"drift"' || fail "a refused PUT or rollback changed the endpoint"
echo "busy store: reads served, writes answered 503 + Retry-After in ${elapsed_ms} ms, then accepted"
