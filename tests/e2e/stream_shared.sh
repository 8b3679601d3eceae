#!/usr/bin/env bash
# stream_shared.sh: two `oilcast stream` instances split the sensor topics with the default shared
# subscription ($share/oilcast/oil/sensors/#, issue 17) and write to ONE PostgreSQL store without
# duplicates. Each has its own client id (a shared id would make the broker drop one whenever the
# other connects). Phase 1: the simulator publishes 2,000 readings of 4 devices; both instances get a
# share (their "messages N" totals, each > 0, adding up to exactly 2,000: nothing delivered twice) and
# the stored (device, seq) set, readings plus dead letters, is exactly the sent set, each reading once.
# Phase 2: 4,000 readings (the first phase's again, and 2,000 new), one instance SIGKILLed while they
# flow (1 s); once the simulator is done, 20 more readings published while it is down; then it is
# restarted under its client id: the broker kept its share for its persistent session (at least half of
# those 20, whenever the kill came), so the two still end with exactly the sent set, each reading once.
# Last, a second instance started with a's client id: a logs that the broker closes its connection and
# why. Every wait is for a condition, with a generous cap (20-30 s) that only a failure reaches.
# Skipped where mosquitto or PostgreSQL is not installed (PostgreSQL fails instead under CI=true).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stream_helpers.bash"
source "$(dirname "$0")/pg_helpers.bash"

stream_broker_up
pg_e2e_start
# A failure keeps what explains it: the instances' and the broker's logs, printed (their tails) and
# copied to $OILCAST_BUILD_DIR/artifacts/stream_shared, which a later full run does not overwrite. Then
# pg_e2e_exit as pg_e2e_start set it. set +e first: under errexit the `(exit $rc)` that hands the status
# on would end the handler there, leaving the broker and the instances running and $OC_TMP behind.
shared_exit() {
  local rc=$? f keep=${OILCAST_BUILD_DIR:-$OC_TMP}/artifacts/stream_shared
  set +e
  if ((rc != 0 && rc != 77)); then
    rm -rf "$keep" && mkdir -p "$keep"
    for f in "$OC_TMP"/{a,b,twin}.{out,err} "$OC_TMP"/sent{1,2}.jsonl "$OC_TMP/diff" "$OC_TMP/broker/mosquitto.log" "$OC_TMP/pg/server.log"; do
      [[ -f $f ]] || continue
      cp "$f" "$keep/"
      [[ $f == *.jsonl ]] || { echo "--- ${f#"$OC_TMP"/}:"; tail -n 20 "$f"; } >&2
    done
    echo "(logs kept in $keep)" >&2
  fi
  (exit $rc)
  pg_e2e_exit
}
trap shared_exit EXIT
dir=$OC_TMP/data
mkdir -p "$dir"
echo "store = ${PG_URI}oilcast" >"$dir/oilcast.conf"
"$OILCAST_BIN" init --data-dir "$dir" >/dev/null 2>&1
oc device add --simulated 4 --credentials "$OC_TMP/sim.credentials" --data-dir "$dir" >/dev/null 2>&1
sql() { psql -At "${PG_URI}oilcast" -c "$1"; }

# Instance NAME (a or b) runs with client id stream-NAME; its output goes to $OC_TMP/NAME.out/.err.
declare -A PIDS
stream_start() {
  local sessions
  touch "$OC_TMP/$1.err"
  sessions=$(grep -c subscribed "$OC_TMP/$1.err" || true)
  "$OILCAST_BIN" stream --data-dir "$dir" --broker "mqtt://127.0.0.1:$PORT" --client-id "stream-$1" --batch 50 \
    >>"$OC_TMP/$1.out" 2>>"$OC_TMP/$1.err" &
  PIDS[$1]=$!
  oc_kill_later "${PIDS[$1]}"
  for _ in $(seq 1 400); do (($(grep -c subscribed "$OC_TMP/$1.err" || true) > sessions)) && return 0; sleep 0.05; done
  fail "instance $1 did not subscribe in 20 s: $(cat "$OC_TMP/$1.err")"
}
# Stops instance NAME with SIGTERM (the batch in hand committed; not in a subshell, which cannot wait
# for it) and sets GOT to the message total it printed.
stream_stop() {
  kill -TERM "${PIDS[$1]}"
  wait "${PIDS[$1]}" || fail "instance $1 exited with $?: $(cat "$OC_TMP/$1.err")"
  GOT=$(tail -n 1 "$OC_TMP/$1.out" | sed -nE 's/^messages ([0-9]+),.*/\1/p')
}
# The distinct (device, seq) the store holds, readings and dead letters (whose raw bytes name them).
stored_keys() {
  sql "SELECT device_id || '/' || seq FROM sensor_readings
       UNION SELECT (convert_from(raw, 'UTF8')::json->>'device') || '/' || (convert_from(raw, 'UTF8')::json->>'seq')
       FROM sensor_dead_letters" | sort
}
sent_keys() { /usr/bin/python3 -c 'import json, sys
for line in sys.stdin: m = json.loads(line); print("%s/%d" % (m["device"], m["seq"]))' <"$1" | sort -u; }
# Waits until the store holds as many distinct keys as FILE sent; fails after 30 s.
wait_stored() {
  local want have
  want=$(sent_keys "$1" | wc -l)
  for _ in $(seq 1 600); do
    have=$(stored_keys | wc -l)
    ((have >= want)) && return 0
    sleep 0.05
  done
  fail "$2: $have of the $want sent readings stored after 30 s"
}
# The stored set is exactly FILE's sent set, and no reading is stored twice.
assert_exact() {
  diff <(sent_keys "$1") <(stored_keys) >"$OC_TMP/diff" || fail "$2: the stored set differs from the sent set: $(head "$OC_TMP/diff")"
  read -r rows distinct < <(sql "SELECT count(*), count(DISTINCT (device_id, seq, measurement)) FROM sensor_readings" | tr '|' ' ')
  assert_eq "$rows" "$distinct" "$2: readings stored once"
}
SIM=(--devices 4 --seed 5 --start 2026-06-01T12:00:00Z)
publish() { oc simulate sensors "${SIM[@]}" "$@" --broker "mqtt://127.0.0.1:$PORT" --credentials "$OC_TMP/sim.credentials" >/dev/null 2>&1; }
# Publishes N more readings of sim-0001 after its last in FILE (seq and event time counted on, in the
# simulator's format) and appends them to FILE.
publish_more() {
  /usr/bin/python3 - "$1" "$2" >"$OC_TMP/more.jsonl" <<'PY'
import datetime, json, sys
sent, n = sys.argv[1], int(sys.argv[2])
last = max((json.loads(line) for line in open(sent)), key=lambda m: (m["device"] == "sim-0001", m["seq"]))
t = datetime.datetime.fromisoformat(last["event_time"].replace("Z", "+00:00"))
for i in range(1, n + 1):
    at = (t + datetime.timedelta(seconds=i)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(json.dumps(dict(last, seq=last["seq"] + i, event_time=at, injected=[]), separators=(",", ":")))
PY
  mosquitto_pub -p "$PORT" -q 1 -t oil/sensors/sim-0001/readings -l <"$OC_TMP/more.jsonl" || fail "publishing more readings failed"
  cat "$OC_TMP/more.jsonl" >>"$1"
}

# Phase 1: both instances up, 2,000 readings published as fast as the broker takes them.
stream_start a
stream_start b
grep -q "as client 'stream-a'" "$OC_TMP/a.err" || fail "instance a does not log its client id: $(cat "$OC_TMP/a.err")"
oc simulate sensors "${SIM[@]}" --rate 2000/s --readings 2000 --out "$OC_TMP/sent1.jsonl" >/dev/null
publish --rate 2000/s --readings 2000 --unpaced || fail "the simulator failed"
wait_stored "$OC_TMP/sent1.jsonl" "phase 1"
stream_stop a && got_a=$GOT
stream_stop b && got_b=$GOT
((got_a > 0 && got_b > 0)) || fail "the shared subscription did not split the messages: a $got_a, b $got_b"
assert_eq "$((got_a + got_b))" 2000 "messages received by a ($got_a) and b ($got_b) together"
assert_exact "$OC_TMP/sent1.jsonl" "phase 1"
dead1=$(sql "SELECT count(*) FROM sensor_dead_letters")

# Phase 2: 4,000 readings paced over 1 s; b is SIGKILLed once the new readings are flowing (400 stored).
# The kill may come after the simulator ended and b handled its whole share (a loaded machine can stall
# the test's shell between its look at the store and the kill): the 20 readings published after it,
# while b is down, are what makes b's share of the broker's queue certain (mosquitto deals a shared
# subscription's messages in turn, to members away with a persistent session too). Then b is restarted.
stream_start a
stream_start b
oc simulate sensors "${SIM[@]}" --rate 4000/s --readings 4000 --out "$OC_TMP/sent2.jsonl" >/dev/null
before=$(sql "SELECT count(*) FROM sensor_readings")
publish --rate 4000/s --readings 4000 &
PUB=$!
for _ in $(seq 1 100); do (($(sql "SELECT count(*) FROM sensor_readings") > before + 400)) && break; sleep 0.02; done
kill -KILL "${PIDS[b]}"
wait "${PIDS[b]}" 2>/dev/null || true
wait "$PUB" || fail "the simulator failed while b was down"
publish_more "$OC_TMP/sent2.jsonl" 20
stream_start b
wait_stored "$OC_TMP/sent2.jsonl" "phase 2"
stream_stop a && got2_a=$GOT
stream_stop b && got2_b=$GOT
((got2_b > 0)) || fail "the restarted b received nothing of the share the broker kept for it"
assert_exact "$OC_TMP/sent2.jsonl" "phase 2 (b SIGKILLed and restarted)"
dead2=$(sql "SELECT count(*) FROM sensor_dead_letters")

# Two instances under ONE client id: the broker drops each whenever the other connects; both say so.
stream_start a
"$OILCAST_BIN" stream --data-dir "$dir" --broker "mqtt://127.0.0.1:$PORT" --client-id stream-a >/dev/null 2>"$OC_TMP/twin.err" &
TWIN=$!
oc_kill_later "$TWIN"
for _ in $(seq 1 400); do grep -q "another instance using client id 'stream-a'" "$OC_TMP/a.err" && break; sleep 0.05; done
grep -q "another instance using client id 'stream-a'" "$OC_TMP/a.err" || fail "a client id taken over went unexplained: $(cat "$OC_TMP/a.err")"
kill -TERM "$TWIN"
wait "$TWIN" 2>/dev/null || true
stream_stop a
echo "ok: phase 1 2000 sent, a $got_a + b $got_b, stored once ($dead1 dead letters);" \
  "phase 2 4020 sent, b SIGKILLed: a $got2_a + restarted b $got2_b, stored once ($dead2 dead letters in all)"
