#!/usr/bin/env bash
# e2e: backups while the data directory is in use. A backup taken DURING a large import restores to a
# directory equal to the source at one moment: before the import or after it, never half of it
# (series, WTI's prices, models, keys, stored forecasts); the restored store passes PRAGMA
# integrity_check; a damaged member is refused by verify and restore, naming the member, and the
# restore target stays absent; a scheduled job step `backup create --dir backups --keep 2` keeps the
# newest two.
source "$(dirname "$0")/lib.sh"
dd="$OC_TMP/data"
oc init --data-dir "$dd" >/dev/null
oc simulate market --days 800 --seed 3 --series WTI --out "$OC_TMP/wti.csv" >/dev/null
oc simulate market --days 2500 --seed 4 --series BIG --count 25 --out "$OC_TMP/big.csv" >/dev/null
oc ingest --quiet --data-dir "$dd" --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null
oc train --quiet --data-dir "$dd" --model naive --series WTI --deploy --endpoint-name wti >/dev/null
oc forecast --quiet --data-dir "$dd" --endpoint-name wti --series WTI >/dev/null
oc apikey create --data-dir "$dd" --name ops --scope read >/dev/null

state() { # the state a backup must reproduce, from data directory $1
  oc series list --data-dir "$1" --format csv | cut -d, -f1-4
  oc series show WTI --data-dir "$1" --format csv
  oc models list --data-dir "$1" --format csv
  oc apikey list --data-dir "$1" --format csv
  sqlite3 "$1/oilcast.db" "SELECT f.id, f.series, f.origin, f.endpoint, p.step, p.date, p.price, p.lower80, p.upper95
                           FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id ORDER BY f.id, p.step"
}
state "$dd" >"$OC_TMP/before"
oc ingest --quiet --data-dir "$dd" --csv-path "$OC_TMP/big.csv" --series-col series >/dev/null 2>"$OC_TMP/import.err" &
import=$!
oc_kill_later "$import"
for _ in $(seq 1 200); do ls "$dd"/raw/historical_data/*/*.tmp.* >/dev/null 2>&1 && break; sleep 0.01; done
oc backup create --data-dir "$dd" --out "$OC_TMP/during.tar" >"$OC_TMP/create.out" || fail "backup create during an import"
kill -0 "$import" 2>/dev/null && during=running || during=finished
wait "$import" || fail "the import failed: $(cat "$OC_TMP/import.err")"
state "$dd" >"$OC_TMP/after"
! cmp -s "$OC_TMP/before" "$OC_TMP/after" || fail "the import changed nothing"

oc backup verify "$OC_TMP/during.tar" | grep -q "^verified .*store oilcast.db" || fail "verify"
oc backup restore "$OC_TMP/during.tar" --into "$OC_TMP/restored" >/dev/null || fail "restore"
[[ "$(sqlite3 "$OC_TMP/restored/oilcast.db" 'PRAGMA integrity_check')" == ok ]] || fail "integrity_check"
state "$OC_TMP/restored" >"$OC_TMP/restored.state"
cmp -s "$OC_TMP/restored.state" "$OC_TMP/before" || cmp -s "$OC_TMP/restored.state" "$OC_TMP/after" ||
  fail "the restored directory is neither the state before nor after the import (import $during at the end of the backup): $(diff "$OC_TMP/restored.state" "$OC_TMP/after" | head -5)"
cmp -s "$dd/oilcast.conf" "$OC_TMP/restored/oilcast.conf" || fail "oilcast.conf differs"
v=$(oc models list --data-dir "$dd" --format csv | sed -n 2p | cut -d, -f1)
diff -r "$dd/models/artifacts/$v" "$OC_TMP/restored/models/artifacts/$v" || fail "model artifacts differ"
assert_exit 1 oc backup restore "$OC_TMP/during.tar" --into "$OC_TMP/restored" 2>"$OC_TMP/force.err"
assert_contains "$(cat "$OC_TMP/force.err")" "--force"

# restore --force over a folder, killed at each of its renames in turn (strace injects SIGKILL at the
# Nth rename call) until one run ends by itself: after every kill the folder is whole, the state it
# had or the backup's, never missing nor half of each
if command -v strace >/dev/null; then
  oc init --data-dir "$OC_TMP/other" --quiet >/dev/null
  oc ingest --quiet --data-dir "$OC_TMP/other" --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null
  oc backup create --data-dir "$OC_TMP/other" --out "$OC_TMP/other.tar" >/dev/null
  state "$OC_TMP/restored" >"$OC_TMP/old.state"
  state "$OC_TMP/other" >"$OC_TMP/new.state"
  for n in $(seq 1 20); do
    rc=0 # (LeakSanitizer cannot run under ptrace: it would fail every run at its exit)
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -o /dev/null -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL:when=$n \
      "$OILCAST_BIN" backup restore "$OC_TMP/other.tar" --into "$OC_TMP/restored" --force >/dev/null 2>&1 || rc=$?
    [[ -f "$OC_TMP/restored/oilcast.db" ]] || fail "restore killed at rename $n left $OC_TMP/restored without its store: $(ls "$OC_TMP" | grep restored)"
    state "$OC_TMP/restored" >"$OC_TMP/now.state"
    cmp -s "$OC_TMP/now.state" "$OC_TMP/old.state" || cmp -s "$OC_TMP/now.state" "$OC_TMP/new.state" ||
      fail "restore killed at rename $n left a folder that is neither the old nor the restored one"
    ((rc == 0)) && break
    staging_left=${staging_left:-$(ls -d "$OC_TMP"/restored.restore.tmp.* 2>/dev/null || true)}
  done
  ((rc == 0)) || fail "restore was still killed at its 20th rename"
  cmp -s "$OC_TMP/now.state" "$OC_TMP/new.state" || fail "a whole restore --force did not restore"
  # what the killed restores left beside the folder (their staging folders) the next restore removed
  [[ -n "$staging_left" ]] || fail "no killed restore left a staging folder to clear"
  leftovers=$(ls -d "$OC_TMP"/restored.*.tmp.* 2>/dev/null || true)
  [[ -z "$leftovers" ]] || fail "killed restores' folders left beside the folder: $leftovers"
fi

# one byte of oilcast.conf's content flipped: verify and restore name the member, nothing is restored
cp "$OC_TMP/during.tar" "$OC_TMP/damaged.tar"
at=$(grep -abo 'store = sqlite:' "$OC_TMP/damaged.tar" | head -1 | cut -d: -f1)
printf 'S' | dd of="$OC_TMP/damaged.tar" bs=1 seek="$at" conv=notrunc 2>/dev/null
assert_exit 1 oc backup verify "$OC_TMP/damaged.tar" 2>"$OC_TMP/verify.err"
assert_contains "$(cat "$OC_TMP/verify.err")" "member oilcast.conf: its SHA-256 or size does not match"
assert_exit 1 oc backup restore "$OC_TMP/damaged.tar" --into "$OC_TMP/nope" 2>"$OC_TMP/restore.err"
assert_contains "$(cat "$OC_TMP/restore.err")" "member oilcast.conf"
[[ ! -e "$OC_TMP/nope" ]] || fail "a refused restore left $OC_TMP/nope"

# scheduled: a job step with retention
cat >"$dd/jobs.conf" <<CONF
[nightly-backup]
every = day at 03:00 UTC
step = backup create --dir backups --keep 2
CONF
oc jobs check --data-dir "$dd" | grep -q "1 jobs, all valid" || fail "jobs check"
mkdir "$dd/backups" # two earlier nights' archives
cp "$OC_TMP/during.tar" "$dd/backups/oilcast-backup-20010607T030000Z.tar"
cp "$OC_TMP/during.tar" "$dd/backups/oilcast-backup-20010608T030000Z.tar"
oc jobs run nightly-backup --data-dir "$dd" >/dev/null || fail "the backup job failed"
n=$(ls "$dd/backups" | grep -c '^oilcast-backup-.*Z\.tar$')
[[ "$n" == 2 ]] || fail "retention kept $n archives: $(ls "$dd/backups")"
[[ ! -e "$dd/backups/oilcast-backup-20010607T030000Z.tar" ]] || fail "retention kept the oldest"
newest=$(ls "$dd/backups" | tail -1)
[[ "$newest" != oilcast-backup-2001* ]] || fail "the job wrote no archive"
oc backup verify "$dd/backups/$newest" >/dev/null || fail "the job's archive does not verify"
! tar tf "$dd/backups/$newest" | grep -q '^backups/' || fail "the backup folder was backed up"
echo "ok: backup during an import ($during at its end), restore, damage refused, scheduled retention"
