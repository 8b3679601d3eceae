#!/usr/bin/env bash
# e2e: scheduled jobs for real. `oilcast run` runs a job of DIR/jobs.conf at its slots as child
# processes (a chain: ingest, then ETL) and stops on SIGTERM after the run in progress; `jobs run`
# runs a job by hand and exits 1 with the failing step's message; `jobs check` names a step that is
# not a command with FILE:LINE, and the file is refused at FILE:LINE where a step gives --data-dir;
# `jobs list`, `history`, `pause` show and change what the store keeps.
source "$(dirname "$0")/lib.sh"
dd="$OC_TMP/data"
oc init --data-dir "$dd" >/dev/null
oc simulate market --days 500 --seed 9 --series WTI --out "$OC_TMP/sim.csv" >/dev/null
cat >"$dd/jobs.conf" <<CONF
# a chain every second, so the test sees several slots
[chain]
every = 1s
step = ingest --source simulated --csv-path "$OC_TMP/sim.csv" --series WTI
step = etl --series WTI --horizon 2

[broken]
every = day at 22:00 UTC
step = etl --series NOPE
CONF

oc jobs check --data-dir "$dd" | grep -q "2 jobs, all valid" || fail "jobs check"
"$OILCAST_BIN" run --data-dir "$dd" 2>"$OC_TMP/run.log" &
scheduler=$!
oc_kill_later "$scheduler"
for _ in $(seq 1 100); do
  n="$(oc jobs history chain --data-dir "$dd" --format csv | grep -c ',schedule,.*,ok,' || true)"
  ((n >= 2)) && break
  sleep 0.1
done
((n >= 2)) || fail "the scheduler ran $n scheduled runs in 10 s: $(cat "$OC_TMP/run.log")"
kill -TERM "$scheduler"
wait "$scheduler" || fail "oilcast run exited $? on SIGTERM: $(cat "$OC_TMP/run.log")"
grep -q "job chain: schedule run .* ok" "$OC_TMP/run.log" || fail "no run logged: $(cat "$OC_TMP/run.log")"
[[ -f "$dd/processed/training_data.parquet" ]] || fail "the chain's ETL step wrote nothing"
oc jobs history chain --data-dir "$dd" --format json | grep -q '"step":"etl --series WTI --horizon 2","exit_code":0' ||
  fail "history lacks the step record"
[[ "$(oc jobs history chain --data-dir "$dd" --format csv | grep -c ',running,' || true)" == 0 ]] || fail "a run left running"

assert_exit 1 oc jobs run broken --data-dir "$dd" 2>"$OC_TMP/broken.err"
grep -q "job broken failed: step 1 (etl --series NOPE) exited with 1: .*no series named 'NOPE'" "$OC_TMP/broken.err" ||
  fail "failing run message: $(cat "$OC_TMP/broken.err")"
oc jobs list --data-dir "$dd" --format csv | grep -q '^broken,every day at 22:00 UTC,1,active,failed,' || fail "jobs list"
oc jobs pause broken --data-dir "$dd" >/dev/null
oc jobs list --data-dir "$dd" --format csv | grep -q '^broken,.*,paused,' || fail "pause not shown"
oc jobs run chain --data-dir "$dd" | grep -q "job chain: run [0-9]* ok" || fail "manual run"

echo "[x]" >>"$dd/jobs.conf"
echo "step = nonsense --now" >>"$dd/jobs.conf"
echo "every = 1h" >>"$dd/jobs.conf"
assert_exit 1 oc jobs check --data-dir "$dd" 2>"$OC_TMP/check.err"
grep -q "jobs.conf:11: job x, step 1: 'nonsense' is not an oilcast command" "$OC_TMP/check.err" ||
  fail "check message: $(cat "$OC_TMP/check.err")"
# a step naming another data directory would run there: the file is refused where it says so
echo "step = etl --series WTI --data-dir /elsewhere" >>"$dd/jobs.conf"
assert_exit 1 oc jobs list --data-dir "$dd" 2>"$OC_TMP/list.err"
grep -q "jobs.conf:13: step 'etl --series WTI --data-dir /elsewhere': a step runs on the job's data directory; remove '--data-dir'" \
  "$OC_TMP/list.err" || fail "a step with --data-dir: $(cat "$OC_TMP/list.err")"
assert_exit 2 oc jobs frobnicate --data-dir "$dd" 2>/dev/null
echo "jobs: scheduled chain ran $n times, manual runs and checks behave"
