#!/usr/bin/env bash
# stream_loss.sh: the sensor stream loses nothing and stores nothing twice (issue 15). 10,000 numbered
# QoS 1 messages from 4 publishers go through a real mosquitto (persistence on) to `oilcast stream`,
# which is SIGKILLed at random moments 5 times (restarted each time) while the messages flow; the
# broker is restarted once while the subscriber is down, with messages queued for its persistent
# session. Afterwards the stored set equals the sent set exactly: every (device, seq), once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stream_helpers.bash"
command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null || { echo "mosquitto missing: skipped" >&2; exit 77; }

DEVICES=4 PER_DEVICE=2500 TOTAL=10000
PORT=$(free_port)
mkdir -p "$OC_TMP/broker"
broker_start "$OC_TMP/broker" "$PORT"
oc init >/dev/null 2>&1
DB="$OILCAST_DATA_DIR/oilcast.db"
register_devices "$OILCAST_DATA_DIR" $(seq -f 'dev-%g' 1 $DEVICES)

STREAM_PID=
stream_start() {
  "$OILCAST_BIN" stream --broker "mqtt://127.0.0.1:$PORT" --batch 200 >> "$OC_TMP/stream.out" 2>> "$OC_TMP/stream.err" &
  STREAM_PID=$!
  oc_kill_later "$STREAM_PID"
}
stream_kill() {
  kill -KILL "$STREAM_PID"
  wait "$STREAM_PID" 2>/dev/null || true
}
# The session must exist before anything is published (a persistent session queues from then on).
stream_start
for _ in $(seq 1 100); do grep -q subscribed "$OC_TMP/stream.err" 2>/dev/null && break; sleep 0.05; done

# Publishers: each sends its device's messages in slices of 100, 0.1 s apart (about 2.5 s of flow).
PUB_PIDS=()
for d in $(seq 1 $DEVICES); do
  ( sensor_lines "dev-$d" $PER_DEVICE | awk '{ print; fflush() } NR % 100 == 0 { system("sleep 0.1") }' |
      mosquitto_pub -p "$PORT" -i "pub-$d" -q 1 -t "oil/sensors/dev-$d/level" -l ) &
  PUB_PIDS+=($!)
done

# 4 SIGKILLs at random moments while the messages flow, each followed by a restart.
for k in 1 2 3 4; do
  sleep "0.$((2 + RANDOM % 5))"
  stream_kill
  stream_start
done
for pid in "${PUB_PIDS[@]}"; do wait "$pid" || fail "a publisher failed (its messages were not all acknowledged by the broker)"; done
# The 5th SIGKILL; with the subscriber down, the broker restarts with the rest queued for the session.
stream_kill
broker_stop
broker_start "$OC_TMP/broker" "$PORT"
sessions=$(grep -c subscribed "$OC_TMP/stream.err")
stream_start
# Up (its signal handling too) before it may be stopped: all may be stored already.
for _ in $(seq 1 200); do (($(grep -c subscribed "$OC_TMP/stream.err") > sessions)) && break; sleep 0.05; done

for _ in $(seq 1 200); do
  [[ $(stored_count "$DB") -ge $TOTAL ]] && break
  sleep 0.05
done
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || fail "oilcast stream exited with $?: $(cat "$OC_TMP/stream.err")"

read -r stored distinct devices < <(sqlite3 -separator ' ' "$DB" \
  "SELECT count(*), count(DISTINCT device_id || '/' || seq), count(DISTINCT device_id) FROM sensor_readings")
assert_eq "$stored" "$TOTAL" "readings stored (of $TOTAL sent; restarts in $OC_TMP/stream.err)"
assert_eq "$distinct" "$TOTAL" "distinct (device, seq)"
assert_eq "$devices" "$DEVICES" "devices"
# Exactly seq 1..2500 of each device: the stored set is the sent set.
bad=$(sqlite3 "$DB" "SELECT device_id FROM sensor_readings GROUP BY device_id
                     HAVING min(seq) != 1 OR max(seq) != $PER_DEVICE OR count(*) != $PER_DEVICE")
assert_eq "$bad" "" "devices whose stored seqs are not exactly 1..$PER_DEVICE"
# The hourly windows hold every reading once: their counts add up to the total.
assert_eq "$(sqlite3 "$DB" "SELECT sum(count) FROM sensor_windows WHERE width_ms = 3600000")" "$TOTAL" "hourly window counts"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_dead_letters")" "0" "dead letters"
echo "ok: $TOTAL sent, $stored stored once each, through 5 SIGKILLs and a broker restart"
