#!/usr/bin/env bash
# e2e: a long import does not hold the store's write lock while it reads its file (issue 13). An
# `oilcast ingest` of 200,000 rows is frozen (SIGSTOP) while it reads and stages them, once its lineage
# copy exists (written beside the reading, before any commit): a POST of one observation to a running
# server and a one-row CLI import both complete at once meanwhile, and none of the big file's rows is
# visible yet; resumed, the import commits all its rows. A second import killed (-9) while it stages
# leaves the store as it was, passes the integrity check, and leaves no staging file behind.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
printf 'Date,Price\n2025-01-02,71.5\n' >"$OC_TMP/first.csv"
oc ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/first.csv" --series WTI --quiet
oc simulate market --days 20000 --seed 7 --series BIG --count 10 --start-date 1925-01-01 \
  --out "$OC_TMP/big.csv" >/dev/null 2>&1
rows=200000
serve_start "$dir" --threads 2 --access-log off
# A stopped process ignores the SIGTERM of the cleanup until it is continued: continue it first. set +e
# first: a kill of an import already gone must not end the handler before serve_exit.
import=
trap 'rc=$?; set +e; [[ -n $import ]] && kill -CONT "$import" 2>/dev/null; (exit $rc); serve_exit' EXIT
sqltmp=$OC_TMP/sqlite-tmp # where SQLite puts the import's temporary files (staging)
mkdir -p "$sqltmp"

db() { sqlite3 -cmd ".timeout 5000" "$dir/oilcast.db" "$@"; }
big_rows() { db "SELECT count(*) FROM observations o JOIN series s ON s.id = o.series_id WHERE s.name LIKE '$1-%'"; }

# start_import FILE: starts `oilcast ingest` of FILE in the background (pid in $import) and freezes it
# once its lineage copy is in the raw zone, that is while it reads its rows.
start_import() {
  local before
  before=$(find "$dir/raw" -type f | wc -l)
  TMPDIR=$sqltmp SQLITE_TMPDIR=$sqltmp "$OILCAST_BIN" ingest --data-dir "$dir" --source historical \
    --csv-path "$1" --quiet >"$OC_TMP/import.out" 2>&1 &
  import=$!
  oc_kill_later "$import"
  local i
  for ((i = 0; i < 1000; i++)); do
    (($(find "$dir/raw" -type f | wc -l) > before)) && break
    kill -0 "$import" 2>/dev/null || fail "the import ended before it could be stopped: $(cat "$OC_TMP/import.out")"
    sleep 0.005
  done
  kill -STOP "$import"
}

start_import "$OC_TMP/big.csv"
status=$(curl -s -m 5 -o "$OC_TMP/post.json" -w '%{http_code}' -H "Authorization: Bearer $admin" -X POST \
  "$SERVE_URL/v1/series/WTI/observations" -d '{"observations":[{"date":"2025-01-03","value":72.25}]}')
assert_eq "$status" 200 "a POST while an import reads its file: $(cat "$OC_TMP/post.json")"
printf 'Date,Price\n2025-01-06,73.5\n' >"$OC_TMP/one.csv"
timeout 5 "$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/one.csv" --series WTI \
  --quiet || fail "a one-row import while another import reads its file did not complete"
assert_eq "$(big_rows BIG)" 0 "rows of the stopped import are visible before its commit"
kill -CONT "$import"
wait "$import" || fail "the import failed after the concurrent writes: $(cat "$OC_TMP/import.out")"
import=
assert_eq "$(big_rows BIG)" "$rows" "rows of the import"
assert_eq "$(db "SELECT count(*) FROM observations o JOIN series s ON s.id = o.series_id WHERE s.name = 'WTI'")" 3

# Killed while it stages: nothing of it in the store, and no staging file left anywhere.
sed 's/,BIG-/,NEW-/' "$OC_TMP/big.csv" >"$OC_TMP/new.csv"
total=$(db "SELECT count(*) FROM observations")
start_import "$OC_TMP/new.csv"
# SQLite creates each temporary file and unlinks it at once: stopped between the two, a kill would leave
# that file (SQLite's instant, not the import's staging): resume it briefly until no temporary file it
# holds open has a name left
for _ in $(seq 1 200); do
  ls -l "/proc/$import/fd" 2>/dev/null | grep -F "$sqltmp/" | grep -qv '(deleted)$' || break
  kill -CONT "$import"
  sleep 0.001
  kill -STOP "$import"
done
kill -KILL "$import"
wait "$import" 2>/dev/null || true
import=
assert_eq "$(db "SELECT count(*) FROM observations")" "$total" "observations after a killed import"
assert_eq "$(db "SELECT count(*) FROM series WHERE name LIKE 'NEW-%'")" 0 "series of a killed import"
assert_eq "$(db "PRAGMA integrity_check")" ok
assert_eq "$(find "$sqltmp" -type f | wc -l)" 0 "staging files left by a killed import"
echo "an import that reads $rows rows leaves the store writable meanwhile; killed, it leaves nothing"
