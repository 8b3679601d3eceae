#!/usr/bin/env bash
# e2e cluster: three `oilcast serve` nodes on one PostgreSQL behind haproxy, started and stopped by the
# deploy example (deploy/cluster/cluster.sh) on free loopback ports in a temporary directory:
# - an endpoint change made through one node, and a key revocation made by another process, are in
#   effect on every node within 1 s (the change feed);
# - a key with burst 5 gets exactly 5 requests through the whole cluster before 429 (shared buckets);
# - under parallel forecast load through haproxy, kill -9 of a node fails at most the requests in
#   flight (one per client), haproxy routes around it, and the node serves again after a restart;
# - exactly one node leads the scheduler; kill -9 of the leader: another node leads within 3 s and
#   the job's next slots each run exactly once (job_runs in PostgreSQL).
# Skipped (77) where haproxy or PostgreSQL is not installed; fails instead under CI=true.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root=${OILCAST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

if ! command -v haproxy >/dev/null || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  [[ "${CI:-}" == true ]] && fail "haproxy or PostgreSQL missing (scripts/deps.sh installs them) and CI=true"
  echo "cluster: haproxy or PostgreSQL is not installed: skipped"
  exit 77
fi
export OILCAST=$OILCAST_BIN
export OILCAST_CLUSTER_THROWAWAY=yes
cluster=$root/deploy/cluster/cluster.sh
c=$OC_TMP/cluster
# set +e first: a failing step must not end the handler before oc_cleanup (tests/e2e/exit_handlers.sh).
cluster_exit() {
  local rc=$?
  set +e
  "$cluster" stop "$c"
  (exit $rc)
  oc_cleanup
}
trap cluster_exit EXIT
t0=$(date +%s%N)
elapsed() { echo "$((($(date +%s%N) - t0) / 1000000)) ms"; }

# --- the store and data directory first (data, a job every second), then 3 nodes and haproxy ---
"$cluster" prepare "$c"
admin=$(cat "$c/admin.key")
oc simulate market --days 300 --seed 5 --series WTI --out "$OC_TMP/wti.csv" --quiet
oc ingest --data-dir "$c/data" --quiet --source historical --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null
printf '[tick]\nevery = 1s\nstep = monitor --format csv\n' >"$c/data/jobs.conf"
"$cluster" start "$c" 3 >/dev/null
url=$(cat "$c/url")
node_url() { echo "http://127.0.0.1:$(cat "$c/node$1.port")"; }
A=(-H "Authorization: Bearer $admin")
for _ in $(seq 1 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/readyz") == 200 ]] && break
  sleep 0.05
done
echo "cluster: 3 nodes and haproxy up after $(elapsed)"

# --- an endpoint change through node 1 is in effect on nodes 2 and 3 within 1 s ---
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "${A[@]}" "$(node_url 1)/v1/endpoints/oil" \
  -d '{"series":"WTI","variants":[{"name":"a","model_version":"naive"}]}')
[[ $code == 201 ]] || fail "PUT /v1/endpoints/oil on node 1: $code"
# within_1s WHAT CMD...: runs CMD until it succeeds, failing after 1 s
within_1s() {
  local what=$1 start
  shift
  start=$(date +%s%N)
  until "$@"; do
    (($(date +%s%N) - start < 1000000000)) || fail "$what: not in effect after 1 s"
    sleep 0.02
  done
}
status_is() { [[ $(curl -s -o /dev/null -w '%{http_code}' "${@:3}" "$(node_url "$2")$1") == "$WANT" ]]; }
for n in 2 3; do WANT=200 within_1s "the endpoint on node $n" status_is /v1/endpoints/oil "$n" "${A[@]}"; done

# --- a key revoked by another process is refused by every node within 1 s ---
key=$(oc apikey create --data-dir "$c/data" --name temp --scope read)
for n in 1 2 3; do WANT=200 within_1s "the new key on node $n" status_is /v1/jobs "$n" -H "Authorization: Bearer $key"; done
oc apikey revoke --data-dir "$c/data" temp >/dev/null
for n in 1 2 3; do WANT=401 within_1s "the revocation on node $n" status_is /v1/jobs "$n" -H "Authorization: Bearer $key"; done
echo "cluster: an endpoint change and a revocation in effect on every node within 1 s ($(elapsed))"

# --- burst 5 holds across the cluster: 12 requests round-robin over 3 nodes, 5 pass ---
limited=$(oc apikey create --data-dir "$c/data" --name limited --scope read --rate 1/h --burst 5)
codes=$(for _ in $(seq 1 12); do curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $limited" "$url/v1/jobs"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
assert_eq "$codes" " 5 200; 7 429;" "a key with burst 5 through 3 nodes"
served_by=$(grep -l '"key":"limited"' "$c"/node*.access.log | wc -l)
((served_by >= 2)) || fail "the limited key's requests reached only $served_by node(s): nothing shared was tested"

# --- kill -9 a node under load: only its in-flight requests fail; it rejoins on restart ---
leader=$(grep -l "this node leads" "$c"/node*.log | head -1 | sed -E 's|.*/node([0-9]+)\.log|\1|')
[[ -n $leader ]] || fail "no node leads the scheduler"
victim=$((leader % 3 + 1))
clients=4
load() { # load SECONDS OUT: one client's forecast requests through haproxy, one status per line
  local until=$(($(date +%s) + $1))
  while (($(date +%s) < until)); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "${A[@]}" -d '{"forecast_days":5}' \
      "$url/v1/endpoints/oil/invocations" || true
  done >"$2"
}
for i in $(seq 1 $clients); do load 3 "$OC_TMP/load$i" & done
sleep 1
kill -9 "$(cat "$c/node$victim.pid")"
killed_at=$(date +%s%N)
wait $(jobs -p) 2>/dev/null || true
total=$(cat "$OC_TMP"/load* | wc -l)
failed=$(cat "$OC_TMP"/load* | grep -vc '^200$' || true)
((total >= 20)) || fail "the load made only $total requests"
((failed <= clients)) || fail "$failed of $total requests failed when node $victim was killed (at most $clients were in flight)"
for i in $(seq 1 $clients); do
  [[ $(tail -3 "$OC_TMP/load$i" | sort -u) == 200 ]] || fail "client $i: requests still fail after the kill: $(tail -3 "$OC_TMP/load$i" | tr '\n' ' ')"
done
echo "cluster: node $victim killed under load: $failed of $total requests failed ($(elapsed))"
rm -f "$c/node$victim.pid"
"$cluster" node-start "$c" "$victim"
before=$(grep -c invocations "$c/node$victim.access.log" || true)
for _ in $(seq 1 100); do
  curl -s -o /dev/null -X POST "${A[@]}" -d '{"forecast_days":5}' "$url/v1/endpoints/oil/invocations"
  (($(grep -c invocations "$c/node$victim.access.log" || true) > before)) && break
  sleep 0.05
done
(($(grep -c invocations "$c/node$victim.access.log" || true) > before)) || fail "node $victim gets no requests after its restart"
echo "cluster: node $victim serves again after its restart ($(elapsed))"

# --- kill -9 the leader: another node leads within 3 s, and each slot runs once ---
store=$(cat "$c/store.uri")
sql() { psql -At "$store" -c "$1"; }
leader_pid=$(cat "$c/node$leader.pid")
[[ $(grep -l "this node leads" "$c"/node*.log | wc -l) == 1 ]] || fail "more than one node led"
ran=$(sql "SELECT count(*) FROM job_runs WHERE runner LIKE '%:$leader_pid'")
((ran > 0)) || fail "the leader ran no job"
kill -9 "$leader_pid"
killed_at=$(date +%s)
rm -f "$c/node$leader.pid"
new_leader=
for _ in $(seq 1 60); do
  new_leader=$(grep -l "this node leads" "$c"/node*.log | grep -v "node$leader.log" | head -1 || true)
  [[ -n $new_leader ]] && break
  sleep 0.05
done
[[ -n $new_leader ]] || fail "no node took the lead within 3 s of the leader's death"
new_pid=$(cat "${new_leader%.log}.pid")
for _ in $(seq 1 60); do
  ran=$(sql "SELECT count(*) FROM job_runs WHERE runner LIKE '%:$new_pid' AND status <> 'running'")
  ((ran >= 2)) && break
  sleep 0.05
done
runs=$(sql "SELECT count(*) FROM job_runs WHERE runner LIKE '%:$new_pid' AND started_at >= $killed_at")
((runs >= 2)) || fail "the new leader ran $runs job runs in 3 s"
assert_eq "$(sql "SELECT count(*) FROM (SELECT job, slot FROM job_runs WHERE trigger <> 'manual' GROUP BY job, slot HAVING count(*) > 1) twice")" 0 "slots run twice"
assert_eq "$(sql "SELECT count(DISTINCT runner) FROM job_runs WHERE started_at > $killed_at")" 1 "runners since the takeover"
echo "cluster: leader node $leader killed; $(basename "${new_leader%.log}") leads and ran $runs runs, each slot once ($(elapsed))"

"$cluster" stop "$c"
for f in "$c"/node*.pid "$c/haproxy.pid"; do [[ ! -e $f ]] || fail "$f left after stop"; done
echo "cluster: ok in $(elapsed)"
