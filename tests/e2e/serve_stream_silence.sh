#!/usr/bin/env bash
# serve_stream_silence.sh: `oilcast serve --stream mqtt://...` runs the sensor stream on its own thread
# (issue 15): readings the simulator publishes are stored (a restarted simulator's too) and reach
# GET /v1/stream as "sensor_window" events; when the stream's clock (OILCAST_CLOCK, moved by this test) passes 3 expected intervals after
# a sensor's last reading, one "sensor_anomaly" event of kind "silence" per sensor comes out (stored
# once: later checks add none), counted in /metrics, and the same events reach another server on the
# store (its change feed); a reading that resumes a sensor ends its episode
# (an event with ended_ms); SIGTERM stops the server and its stream cleanly (exit 0). A --stream that is
# no mqtt:// URL is a usage error. The stream's default client id names the listen port (none for 0).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
source "$(dirname "$0")/stream_helpers.bash"

stream_broker_up
admin=$(oc init 2>/dev/null)
DB="$OILCAST_DATA_DIR/oilcast.db"
assert_exit 2 oc serve --stream http://127.0.0.1:1 # not a broker URL: refused before anything starts
oc device add --simulated 2 --credentials "$OC_TMP/sim.credentials" --interval 1 >/dev/null 2>&1
clock=$OC_TMP/clock
echo 2026-06-01T12:00:01Z >"$clock"
listen_port=$(free_port) # a fixed port, which the default client id names (the later --listen wins)
OILCAST_CLOCK=file:$clock serve_start "$OILCAST_DATA_DIR" --threads 2 --access-log off --scheduler off \
  --stream "mqtt://127.0.0.1:$PORT" --listen "127.0.0.1:$listen_port"
for _ in $(seq 1 100); do grep -q 'sensor stream subscribed' "$SERVE_LOG" && break; sleep 0.05; done
grep -q 'sensor stream subscribed' "$SERVE_LOG" || fail "the stream did not subscribe: $(cat "$SERVE_LOG")"
# its own default client id, not the one an `oilcast stream` on this host takes, nor another node's
# on this host: the listen port's (docs/stream.md)
want_id=oilcast-serve-$(hostname)-$listen_port
grep -q "as client '$want_id'" "$SERVE_LOG" ||
  fail "the server's stream does not default to client id $want_id: $(grep 'subscribed' "$SERVE_LOG")"
A=(-H "Authorization: Bearer $admin")
curl -sN "${A[@]}" "$SERVE_URL/v1/stream" >"$OC_TMP/events.txt" &
oc_kill_later $!
for _ in $(seq 1 100); do grep -q 'connected' "$OC_TMP/events.txt" && break; sleep 0.05; done

# A second server on the same store, another process without a stream of its own: it sees the
# anomalies through the store's change feed.
"$OILCAST_BIN" serve --data-dir "$OILCAST_DATA_DIR" --listen 127.0.0.1:0 --threads 1 --access-log off --scheduler off \
  --stream off >"$OC_TMP/other.out" 2>"$OC_TMP/other.err" &
oc_kill_later $!
for _ in $(seq 1 200); do grep -q 'listening on' "$OC_TMP/other.out" && break; sleep 0.05; done
other=$(sed -nE 's|.*listening on (http://[^ ]+)/$|\1|p' "$OC_TMP/other.out")
curl -sN "${A[@]}" "$other/v1/stream" >"$OC_TMP/other-events.txt" &
oc_kill_later $!
for _ in $(seq 1 100); do grep -q 'connected' "$OC_TMP/other-events.txt" && break; sleep 0.05; done

# wait_for COUNT PATTERN WHAT [FILE]: until the event stream (FILE) holds COUNT lines matching PATTERN (5 s).
wait_for() {
  local file=${4:-$OC_TMP/events.txt}
  for _ in $(seq 1 100); do
    (($(grep -c -- "$2" "$file" || true) >= $1)) && return 0
    sleep 0.05
  done
  fail "$3: expected $1 line(s) matching '$2' on /v1/stream, got: $(grep -c -- "$2" "$file" || true)"
}

oc simulate sensors --devices 2 --rate 100/s --readings 40 --seed 3 --start 2026-06-01T12:00:00Z --unpaced \
  --broker "mqtt://127.0.0.1:$PORT" --credentials "$OC_TMP/sim.credentials" >/dev/null 2>&1
for _ in $(seq 1 100); do [[ $(stored_count "$DB") -ge 40 ]] && break; sleep 0.05; done
assert_eq "$(stored_count "$DB")" 40 "readings stored by the stream inside serve"
# The simulator restarted (a later start, another seed): it numbers its readings on above the first
# run's, so they are stored, where seqs from 1 again made each one a dead letter (seq used again).
oc simulate sensors --devices 2 --rate 100/s --readings 10 --seed 4 --start 2026-06-01T12:00:30Z --unpaced \
  --broker "mqtt://127.0.0.1:$PORT" --credentials "$OC_TMP/sim.credentials" >/dev/null 2>&1
for _ in $(seq 1 100); do [[ $(stored_count "$DB") -ge 50 ]] && break; sleep 0.05; done
assert_eq "$(stored_count "$DB")" 50 "the restarted simulator's readings stored"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_dead_letters")" 0 "no dead letter from the restarted simulator"
wait_for 1 '^event: sensor_window' "live windows"
window=$(grep -A1 '^event: sensor_window' "$OC_TMP/events.txt" | grep '^data:' | head -n 1)
assert_contains "$window" '"device":"sim-000' "a window event names its device"
assert_contains "$window" '"width_ms":60000' "a window event of the smallest width"
sensors=$(sqlite3 "$DB" "SELECT count(*) FROM sensor_last_readings")
# every anomaly stored is sent once the server's change feed has passed it (not at once: under the
# sanitizers the last batches' events came after the window's), and none is a silence yet
anomalies=$(sqlite3 "$DB" "SELECT count(*) FROM sensor_anomalies")
((anomalies > 0)) && wait_for "$anomalies" '^event: sensor_anomaly' "the spikes' and stuck values' events"
assert_eq "$(grep -c '^event: sensor_anomaly' "$OC_TMP/events.txt" || true)" "$anomalies" \
  "no silence yet (spikes and stuck values only)"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_anomalies WHERE kind = 'silence'")" 0 "no silence stored yet"

# The clock moves a minute on: every sensor has been quiet for 59 s, past 3 intervals of 1 s.
echo 2026-06-01T12:01:00Z >"$clock"
wait_for "$sensors" '"kind":"silence"' "silence anomalies"
wait_for "$sensors" '"kind":"silence"' "silence anomalies on the other server" "$OC_TMP/other-events.txt"
silence=$(grep '"kind":"silence"' "$OC_TMP/events.txt" | head -n 1)
assert_contains "$silence" '"detected_ms":1780315260000' "detected at the moved clock's time"
assert_contains "$silence" '"ended_ms":null' "an episode that lasts"
sleep 1.1 # more checks of the same silence: no second episode
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_anomalies WHERE kind = 'silence'")" "$sensors" "once per episode"
metrics=$(curl -sf "${A[@]}" "$SERVE_URL/metrics")
assert_contains "$metrics" "oilcast_sensor_anomalies_total{} $(sqlite3 "$DB" "SELECT count(*) FROM sensor_anomalies")" "/metrics"

# sim-0001 reports again: its episodes end.
resumed=$(sqlite3 "$DB" "SELECT measurement FROM sensor_last_readings WHERE device_id = 'sim-0001'")
unit=$(sqlite3 "$DB" "SELECT unit FROM devices WHERE id = 'sim-0001'")
low=$(sqlite3 "$DB" "SELECT valid_min FROM devices WHERE id = 'sim-0001'")
measurements=$(for m in $resumed; do printf '"%s":{"value":%s,"unit":"%s"},' "$m" "$low" "$unit"; done)
mosquitto_pub -p "$PORT" -q 1 -t oil/sensors/sim-0001/readings \
  -m "{\"device\":\"sim-0001\",\"event_time\":\"2026-06-01T12:00:59Z\",\"seq\":1000,\"measurements\":{${measurements%,}}}"
wait_for "$(wc -w <<<"$resumed")" '"ended_ms":1780315259000' "ended silences"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_anomalies WHERE kind = 'silence' AND ended_ms > 0")" \
  "$(wc -w <<<"$resumed")" "sim-0001's episodes ended"

serve_stop
grep -q 'sensor stream: 51 messages' "$SERVE_LOG" || fail "the stream's totals at stop: $(grep 'sensor stream' "$SERVE_LOG")"

# A server on port 0 (another port at each start) has no port in its default id.
"$OILCAST_BIN" serve --data-dir "$OILCAST_DATA_DIR" --listen 127.0.0.1:0 --threads 1 --access-log off --scheduler off \
  --stream "mqtt://127.0.0.1:$PORT" >"$OC_TMP/port0.out" 2>"$OC_TMP/port0.err" &
port0_pid=$!
oc_kill_later "$port0_pid"
for _ in $(seq 1 100); do grep -q 'sensor stream subscribed' "$OC_TMP/port0.err" && break; sleep 0.05; done
grep -q "as client 'oilcast-serve-$(hostname)'" "$OC_TMP/port0.err" ||
  fail "a port-0 server's stream does not default to oilcast-serve-$(hostname): $(cat "$OC_TMP/port0.err")"
kill -TERM "$port0_pid"
wait "$port0_pid" || fail "the port-0 server did not stop cleanly"
echo "ok: $sensors silence anomalies reached /v1/stream from the stream inside serve, and ended"
