#!/usr/bin/env bash
# e2e readonly_datadir: a read-only copy of a data directory (chmod a-w, used by an unprivileged user:
# root ignores permissions) still answers what only reads: `status`, `series show`, `forecast` (made,
# not stored, with a warning) and `oilcast serve`, whose reads answer 200 and whose writes answer 503
# saying the store is read-only; nothing is created in the copy (no -wal, -shm or journal). And a full
# disk (a small tmpfs, where mount works) gives a clear message, not SQLite's, and leaves the store
# as it was.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
command -v setpriv >/dev/null || { echo "setpriv missing: skipped" >&2; exit 77; }
src=$OC_TMP/data
admin=$(serve_data_simulated "$src" 9 "$OC_TMP/sim.csv")
oc train --data-dir "$src" --quiet --model naive --series WTI --deploy --endpoint-name ep >/dev/null
ro=$OC_TMP/ro
cp -a "$src" "$ro"
chmod -R a-w "$ro"
# At exit: the copy writable again (for the scratch directory's removal) and the tmpfs unmounted, then
# serve_helpers' own exit, told how the test ended.
full=$OC_TMP/full
trap 'rc=$?; set +e; chmod -R u+w "$ro"; umount "$full" 2>/dev/null; (exit $rc); serve_exit' EXIT
chmod a+rx "$OC_TMP"
before=$(ls -a "$ro")
# As an unprivileged user when root (who ignores permissions), else as ourselves.
as_user=()
if (($(id -u) == 0)); then as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
ro_oc() { "${as_user[@]}" "$OILCAST_BIN" "$@"; }

out=$(ro_oc status --data-dir "$ro") || fail "status on a read-only copy: $out"
assert_contains "$out" "observations    300" "status"
out=$(ro_oc series show --data-dir "$ro" WTI --last 1) || fail "series show on a read-only copy: $out"
[[ $(wc -l <<<"$out") == 2 ]] || fail "series show: $out"
out=$(ro_oc forecast --data-dir "$ro" --endpoint-name ep --forecast-days 2 2>"$OC_TMP/err") || fail "forecast: $(cat "$OC_TMP/err")"
assert_contains "$out" "by model v1" "forecast"
assert_contains "$(cat "$OC_TMP/err")" "not stored: the data directory is read-only" "forecast's warning"
out=$(ro_oc ingest --data-dir "$ro" --source historical --csv-path "$OC_TMP/sim.csv" --series WTI 2>&1) && fail "ingest wrote"
assert_contains "$out" "the store is read-only" "ingest's error"

# The server, as the unprivileged user (a wrapper keeps serve_start's pid the server's).
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${as_user[*]}" "$OILCAST_BIN" >"$OC_TMP/oilcast-as-user"
chmod a+rx "$OC_TMP/oilcast-as-user"
touch "$SERVE_EXCHANGES" && chmod a+w "$SERVE_EXCHANGES"
OILCAST_BIN=$OC_TMP/oilcast-as-user serve_start "$ro" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin" -H "Content-Type: application/json")
expect_status 200 GET /readyz >/dev/null
expect_status 200 GET /v1/series/WTI "${A[@]}" >/dev/null
expect_status 200 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"forecast_days":2}' >/dev/null
body=$(expect_status 503 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2030-01-02","value":70}]}')
assert_contains "$body" "the store is read-only" "a write on the read-only server"
serve_stop
[[ "$(ls -a "$ro")" == "$before" ]] || fail "files appeared in the read-only copy: $(ls -a "$ro")"
echo "readonly_datadir: status, series show, forecast and serve read a read-only copy; writes refused clearly"

# A full disk: only where this test may mount a small tmpfs.
mkdir -p "$full"
if (($(id -u) == 0)) && mount -t tmpfs -o size=3m tmpfs "$full" 2>/dev/null; then
  oc init --data-dir "$full/d" >/dev/null 2>&1
  oc simulate market --days 100000 --seed 3 --series BIG --out "$OC_TMP/big.csv" --quiet
  out=$(oc ingest --data-dir "$full/d" --source historical --csv-path "$OC_TMP/big.csv" --series BIG 2>&1) &&
    fail "an import larger than the disk succeeded"
  [[ $out == *"the disk is full"* || $out == *"No space left on device"* ]] || fail "full disk: unclear message: $out"
  [[ $out != *"database or disk is full"* ]] || fail "full disk: SQLite's bare message: $out"
  out=$(oc status --data-dir "$full/d" 2>&1) || fail "status after a full disk: $out"
  assert_contains "$out" "observations    0" "the store after a full disk"
  umount "$full"
  echo "readonly_datadir: a full disk is said plainly and leaves the store as it was"
else
  echo "readonly_datadir: no tmpfs mount here (not root, or no permission): the full-disk case is not tested" >&2
fi
