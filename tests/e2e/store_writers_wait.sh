#!/usr/bin/env bash
# e2e: commands that write to one store at the same time wait for each other instead of failing.
# A write lock held by another process (sqlite3 holding BEGIN IMMEDIATE for 3 s) makes `oilcast ingest`
# wait, say so on stderr while it waits, and then import; two imports started together both land; a
# reader (`series list`) answers at once while the lock is held.
source "$(dirname "$0")/lib.sh"
tmp="$OC_TMP"
dd="$tmp/data"
oc init --data-dir "$dd" >/dev/null
oc simulate market --days 400 --seed 3 --series WTI --out "$tmp/a.csv" >/dev/null
oc simulate market --days 400 --seed 4 --series BRENT --out "$tmp/b.csv" >/dev/null
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/a.csv" --series WTI --quiet

(echo "BEGIN IMMEDIATE; INSERT INTO series(name, unit, source, created_at) VALUES ('HOLDER', 'x', 'test', 0);"; sleep 3; echo "ROLLBACK;") |
  sqlite3 "$dd/oilcast.db" &
holder=$!
oc_kill_later "$holder"
sleep 0.5
start=$SECONDS
list="$(timeout 2 "$OILCAST_BIN" series list --data-dir "$dd" --format csv)" || fail "series list waited for the writer"
assert_contains "$list" "WTI,"
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/b.csv" --series BRENT 2>"$tmp/err" ||
  fail "ingest failed while another process wrote: $(cat "$tmp/err")"
wait "$holder"
((SECONDS - start >= 2)) || fail "ingest did not wait for the write lock"
grep -q "waiting .* for the store of .*another command is writing" "$tmp/err" || fail "no waiting note: $(cat "$tmp/err")"
grep -qi "database is locked" "$tmp/err" && fail "bare SQLite error: $(cat "$tmp/err")"

oc simulate market --days 3000 --seed 5 --series X1 --out "$tmp/x1.csv" >/dev/null
oc simulate market --days 3000 --seed 6 --series X2 --out "$tmp/x2.csv" >/dev/null
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/x1.csv" --series X1 --quiet &
first=$!
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/x2.csv" --series X2 --quiet || fail "second import"
wait "$first" || fail "first import"
rows="$(sqlite3 "$dd/oilcast.db" "select count(*) from observations o join series s on s.id = o.series_id where s.name in ('X1','X2')")"
assert_eq "$rows" 6000
echo "writers wait for each other; readers never wait"
