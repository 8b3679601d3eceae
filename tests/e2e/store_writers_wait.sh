#!/usr/bin/env bash
# e2e: commands that write to one store at the same time wait for each other instead of failing.
# A write lock held by another process (sqlite3 holding BEGIN IMMEDIATE until released) makes `oilcast ingest`
# wait, say so on stderr while it waits, and then import; two imports started together both land; a
# reader (`series list`) answers at once while the lock is held.
source "$(dirname "$0")/lib.sh"
tmp="$OC_TMP"
dd="$tmp/data"
oc init --data-dir "$dd" >/dev/null
oc simulate market --days 400 --seed 3 --series WTI --out "$tmp/a.csv" >/dev/null
oc simulate market --days 400 --seed 4 --series BRENT --out "$tmp/b.csv" >/dev/null
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/a.csv" --series WTI --quiet

# The holder keeps the write lock until the test says so (a fifo), so under any load the ingest is
# seen waiting: it must print its note while the lock is held, then import once it is released. The
# holder waits for the lock itself (.timeout): the probe below takes it for an instant, and a holder
# whose BEGIN IMMEDIATE met the probe's failed with "database is locked" and never held it (a CI run).
mkfifo "$tmp/holder.ctl"
sqlite3 -cmd ".timeout 10000" "$dd/oilcast.db" <"$tmp/holder.ctl" >/dev/null &
holder=$!
oc_kill_later "$holder"
exec 7>"$tmp/holder.ctl"
echo "BEGIN IMMEDIATE; INSERT INTO series(name, unit, source, created_at) VALUES ('HOLDER', 'x', 'test', 0);" >&7
locked() { ! sqlite3 -cmd ".timeout 0" "$dd/oilcast.db" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null; }
for _ in $(seq 100); do locked && break; sleep 0.1; done
locked || fail "the holder never took the write lock"
list="$(timeout 5 "$OILCAST_BIN" series list --data-dir "$dd" --format csv)" || fail "series list waited for the writer"
assert_contains "$list" "WTI,"
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/b.csv" --series BRENT 2>"$tmp/err" &
ingest=$!
for _ in $(seq 300); do grep -q "waiting .* for the store of .*another command is writing" "$tmp/err" && break; sleep 0.1; done
grep -q "waiting .* for the store of .*another command is writing" "$tmp/err" || fail "no waiting note: $(cat "$tmp/err")"
kill -0 "$ingest" 2>/dev/null || fail "ingest finished while the write lock was held: $(cat "$tmp/err")"
echo "ROLLBACK;" >&7
exec 7>&-
wait "$holder"
wait "$ingest" || fail "ingest failed while another process wrote: $(cat "$tmp/err")"
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
