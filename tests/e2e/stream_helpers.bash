# stream_helpers.bash: what the sensor-stream tests and bench/stream share (source it after lib.sh).
#   broker_start DIR PORT     starts mosquitto on 127.0.0.1:PORT with persistence in DIR; sets $BROKER_PID
#   broker_stop               SIGTERM (mosquitto saves its persistence file), waits
#   stream_broker_up          skips (exit 77) without mosquitto and mosquitto_pub, else starts one on a free
#                             port ($PORT) with its files in $OC_TMP/broker
#   sensor_lines DEVICE N     N numbered JSON messages of DEVICE (seq 1..N, event time 1 s apart), one a line
#   stored_count DB           readings stored in the store DB
#   register_devices DATA_DIR ID...  registers tank_level devices (unit m, range 0..1000, interval 1 s)
#                             with `$OILCAST_BIN device add` (their broker passwords are not needed:
#                             these tests' broker lets anyone in)

broker_start() {
  local dir=$1 port=$2
  if [[ ! -f "$dir/mosquitto.conf" ]]; then
    # user: stay who we are (as root, mosquitto would become "mosquitto" and could not write DIR).
    # No queue limit and no in-flight limit: the subscriber's outage must not make the broker drop
    # queued QoS 1 messages, and a batch may hold more than mosquitto's default 20 in flight.
    cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
user $(id -un)
allow_anonymous true
persistence true
persistence_location $dir/
autosave_interval 1
max_queued_messages 0
max_inflight_messages 0
CONF
  fi
  mosquitto -c "$dir/mosquitto.conf" >> "$dir/mosquitto.log" 2>&1 &
  BROKER_PID=$!
  oc_kill_later "$BROKER_PID"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  fail "mosquitto did not start on port $port: $(cat "$dir/mosquitto.log")"
}

stream_broker_up() {
  command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null || { echo "mosquitto missing: skipped" >&2; exit 77; }
  PORT=$(free_port)
  mkdir -p "$OC_TMP/broker"
  broker_start "$OC_TMP/broker" "$PORT"
}

broker_stop() {
  kill -TERM "$BROKER_PID"
  wait "$BROKER_PID" 2>/dev/null || true
}

sensor_lines() {
  awk -v dev="$1" -v n="$2" 'BEGIN {
    for (i = 1; i <= n; i++) {
      s = 1767225600 + i  # 2026-01-01T00:00:00Z + i s
      printf "{\"device\":\"%s\",\"event_time\":\"2026-01-%02dT%02d:%02d:%02dZ\",\"seq\":%d,\"measurements\":{\"level\":{\"value\":%d.25,\"unit\":\"m\"}}}\n", dev, 1 + int((s - 1767225600) / 86400), int(s % 86400 / 3600), int(s % 3600 / 60), s % 60, i, i % 97
    }
  }'
}

stored_count() {
  sqlite3 "$1" "SELECT count(*) FROM sensor_readings" 2>/dev/null || echo 0
}

register_devices() {
  local dir=$1 id
  shift
  for id in "$@"; do
    "$OILCAST_BIN" device add "$id" --type tank_level --site test --unit m --min 0 --max 1000 --interval 1 \
      --quiet --data-dir "$dir" > /dev/null
  done
}
