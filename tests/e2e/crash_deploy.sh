#!/usr/bin/env bash
# e2e crash_deploy: `oilcast train --deploy` killed at every rename, fsync and fdatasync (SQLite's
# commits) it makes, and, from its new version folder's rename on, at the first pwrite64 of each SQLite
# commit (the registration, the stored forecast, the deploy: a kill at a later page of the same commit
# leaves the same state, the commit frame unwritten), by strace's syscall injection
# (SIGKILL there), never leaves the endpoint's record split: after each kill, `oilcast forecast` through
# the endpoint and a running `oilcast serve` made to re-read every endpoint (SIGHUP, what a restart
# does) answer with the same version, that version is registered and loads, and every version `oilcast
# models list` shows loads (no half-registered model). Before the store held endpoint configurations,
# a kill between the endpoint file's rename and the commit left the server on the new version and the
# CLI on the old one.
# fsync costs nothing on tmpfs: the ~20 kill points take seconds there, not half a minute.
if [[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]]; then export TMPDIR=/dev/shm; fi
source "$(dirname "$0")/serve_helpers.bash"
command -v strace >/dev/null || { echo "strace not installed (scripts/deps.sh installs it): skipped" >&2; exit 77; }
dd=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dd" 2>/dev/null)
oc simulate market --days 120 --seed 3 --series SIM --out "$OC_TMP/sim.csv" --quiet
oc ingest --data-dir "$dd" --quiet --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM >/dev/null
deploy=(train --data-dir "$dd" --quiet --model naive --series SIM --deploy --endpoint-name ep)
oc "${deploy[@]}" >/dev/null # v1 serves ep
serve_start "$dd" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
hups=0
declare -A loads # versions already seen loading

# agree WHERE: the CLI and the server (after re-reading every endpoint) serve the same version, which
# loads; every listed version loads.
agree() {
  local cli served i
  cli=$(oc forecast --data-dir "$dd" --endpoint-name ep --forecast-days 1 --format json 2>"$OC_TMP/err") ||
    fail "$1: oilcast forecast: $(cat "$OC_TMP/err")"
  cli=$(json_get "$cli" 'd["model"]')
  kill -HUP "$SERVE_PID"
  hups=$((hups + 1))
  for ((i = 0; i < 200; i++)); do
    (($(grep -c 'SIGHUP received' "$SERVE_LOG") >= hups)) && break
    sleep 0.01
  done
  served=$(expect_status 200 GET /v1/endpoints/ep "${A[@]}")
  served=$(json_get "$served" '",".join(v["model_version"] for v in d["variants"])')
  [[ "$cli" == "$served" ]] || fail "$1: oilcast forecast answers with $cli, the server serves $served"
  while read -r version _; do
    [[ $version =~ ^v[0-9]+$ && -z "${loads[$version]:-}" ]] || continue
    loads[$version]=1
    oc models show --data-dir "$dd" "$version" >/dev/null 2>&1 || fail "$1: $version is listed but does not load"
  done < <(oc models list --data-dir "$dd" 2>/dev/null)
}
agree "before any kill"

# Under strace, LeakSanitizer (an ASan build) cannot stop the traced process at exit: leaks are
# checked by every other run of this test, not the traced ones.
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq "$@"; }
traced -e trace=rename,fsync,fdatasync,pwrite64 -o "$OC_TMP/trace" "$OILCAST_BIN" "${deploy[@]}" >/dev/null 2>&1 ||
  fail "train --deploy under strace: $(tail -n 5 "$OC_TMP/trace")"
# The pwrite64 calls that open a commit after the version folder's rename (numbered among pwrite64s).
commit_starts=$(awk '/pwrite64\(/ { n++; if (published && !in_commit) print n; in_commit = 1; next }
                     { in_commit = 0 } /rename\(.*\.tmp-v[0-9]+-[0-9]+", / { published = 1 }' "$OC_TMP/trace")
[[ -n "$commit_starts" ]] || fail "train --deploy committed nothing after publishing its version folder"
kills=0
for call in rename fsync fdatasync pwrite64; do
  n=$(grep -c "$call(" "$OC_TMP/trace" || true)
  ((n > 0)) || fail "train --deploy made no $call call"
  points=$(seq 1 "$n")
  [[ $call == pwrite64 ]] && points=$commit_starts
  for k in $points; do
    if traced -o /dev/null -e trace="$call" -e inject="$call":signal=KILL:when="$k" \
      "$OILCAST_BIN" "${deploy[@]}" >/dev/null 2>&1; then
      [[ $call == pwrite64 ]] || fail "train --deploy was not killed at $call #$k"
      continue # a later run wrote fewer pages: it finished before reaching #k
    fi
    kills=$((kills + 1))
    agree "killed at $call #$k of $n"
  done
done
((kills >= 12)) || fail "only $kills kill points hit: the injection missed the publish"
serve_stop
serve_start "$dd" --threads 2 --access-log off
hups=0
declare -A loads # versions already seen loading
agree "after a restart"
echo "crash_deploy: train --deploy killed at $kills syscalls: the CLI and the server agreed every time"
