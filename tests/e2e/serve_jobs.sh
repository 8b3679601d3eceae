#!/usr/bin/env bash
# End-to-end: `oilcast serve` runs the scheduled jobs of DIR/jobs.conf beside the API (a job every second
# shows up in GET /v1/jobs with scheduled runs that succeeded), and `--scheduler off` runs none; the
# server still stops cleanly on SIGTERM with the scheduler running.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
printf '[tick]\nevery = 1s\nstep = monitor --format csv\n' >"$dir/jobs.conf"
A=(-H "Authorization: Bearer $admin")

serve_start "$dir" --threads 2 --access-log off --scheduler off
sleep 2.5
jobs=$(expect_status 200 GET /v1/jobs "${A[@]}")
assert_contains "$jobs" '"runs":[]' "--scheduler off ran a job"
serve_stop

serve_start "$dir" --threads 2 --access-log off
for _ in $(seq 1 100); do
  jobs=$(expect_status 200 GET /v1/jobs "${A[@]}")
  [[ $(grep -o '"trigger":"schedule","slot":"[^"]*","status":"ok"' <<<"$jobs" | wc -l) -ge 2 ]] && break
  sleep 0.1
done
[[ $(grep -o '"trigger":"schedule","slot":"[^"]*","status":"ok"' <<<"$jobs" | wc -l) -ge 2 ]] ||
  fail "the server's scheduler did not run the job twice in 10 s: $jobs"
assert_contains "$jobs" '"job":"tick","schedule":"every 1s UTC","steps":1,"state":"active","last_status":'
serve_stop
echo "serve_jobs: the server runs the jobs; --scheduler off does not"
