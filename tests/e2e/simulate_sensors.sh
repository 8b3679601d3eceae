#!/usr/bin/env bash
# simulate_sensors.sh: `oilcast simulate sensors` against a real mosquitto (free loopback port, started
# and stopped by PID) configured by `oilcast broker config` for the devices `oilcast device add
# --simulated` registered: every reading arrives at the subscriber (QoS 1), exactly the readings the file
# mode writes for the same options; a device whose password is wrong is refused, naming the device.
source "$(dirname "$0")/broker_helpers.bash"
oc init >/dev/null 2>&1
out=$(oc device add --simulated 4 --credentials "$OC_TMP/sim.credentials" 2>/dev/null)
assert_contains "$out" "sim-0001..sim-0004"
PORT=$(free_port)
oc broker config --port "$PORT" >/dev/null 2>&1
BROKER="$OILCAST_DATA_DIR/broker"
broker_start "$BROKER"

mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -u oilcast-subscriber -P "$(cat "$BROKER/subscriber.secret")" \
  -t 'oil/sensors/+/readings' >"$OC_TMP/received.jsonl" &
oc_kill_later $!
broker_wait_login oilcast-subscriber

ARGS=(--devices 4 --rate 400/s --readings 400 --seed 9 --start 2026-06-01T12:00:00Z)
out=$(oc simulate sensors "${ARGS[@]}" --broker "mqtt://127.0.0.1:$PORT" --credentials "$OC_TMP/sim.credentials" 2>&1)
assert_contains "$out" "sent 400 SIMULATED readings of 4 devices" "publisher"
assert_contains "$out" "400 acknowledged" "publisher"
oc simulate sensors "${ARGS[@]}" --out "$OC_TMP/expected.jsonl" >/dev/null
for _ in $(seq 1 100); do [[ $(wc -l <"$OC_TMP/received.jsonl") -ge 400 ]] && break; sleep 0.05; done
diff <(sort "$OC_TMP/received.jsonl") <(sort "$OC_TMP/expected.jsonl") >/dev/null ||
  fail "the subscriber's readings differ from the file mode's ($(wc -l <"$OC_TMP/received.jsonl") received)"
[[ $(head -c 18 "$OC_TMP/expected.jsonl") == '{"simulated":true,' ]] || fail "readings are not marked simulated"

sed 's/^sim-0003:.*/sim-0003:0000000000000000000000000000dead/' "$OC_TMP/sim.credentials" >"$OC_TMP/bad.credentials"
out=$(oc simulate sensors "${ARGS[@]}" --broker "mqtt://127.0.0.1:$PORT" --credentials "$OC_TMP/bad.credentials" 2>&1) &&
  fail "a wrong password was accepted"
assert_contains "$out" "sim-0003: the broker refused the login" "wrong password"
assert_exit 2 oc simulate sensors --devices 4 --rate 10/s --out "$OC_TMP/x.jsonl"   # needs a length
assert_exit 2 oc simulate sensors --days 3 --out "$OC_TMP/x.jsonl" --readings 5    # a market option
echo "simulated sensors arrive over MQTT"
