#!/usr/bin/env bash
# stream_dead_letters.sh: every kind of bad sensor message (issue 15) becomes a dead letter with its
# reason and raw bytes, is acknowledged (not redelivered forever), never stops the stream, and is
# listed by `oilcast stream dead-letters` and counted in the server's /metrics; good messages around
# them are stored. A message the store refuses is one too; a batch the store fails otherwise is retried.
source "$(dirname "$0")/serve_helpers.bash"
source "$(dirname "$0")/stream_helpers.bash"

stream_broker_up
admin=$(oc init 2>/dev/null)
DB="$OILCAST_DATA_DIR/oilcast.db"
register_devices "$OILCAST_DATA_DIR" tank-1 old-1
oc device revoke old-1 --quiet
# a topic filter the broker would refuse (closing the connection at each SUBSCRIBE) is a usage error at
# start, not a stream reconnecting forever; so is one in oilcast.conf's [stream] for oilcast serve
rc=0
timeout 5 "$OILCAST_BIN" stream --broker "mqtt://127.0.0.1:$PORT" --topic 'oil/#/readings' >"$OC_TMP/topic.out" 2>"$OC_TMP/topic.err" || rc=$?
assert_eq "$rc" 2 "oilcast stream with a bad topic filter: $(cat "$OC_TMP/topic.err")"
assert_eq "$(cat "$OC_TMP/topic.out")" "" "a stream that never ran printed totals"
assert_contains "$(cat "$OC_TMP/topic.err")" "topic filter 'oil/#/readings'" "the bad filter named"
printf '[stream]\ntopic = oil/sensors/+x\n' >> "$OILCAST_DATA_DIR/oilcast.conf"
rc=0
timeout 5 "$OILCAST_BIN" serve --listen 127.0.0.1:0 --stream "mqtt://127.0.0.1:$PORT" 2>"$OC_TMP/topic.err" || rc=$?
assert_eq "$rc" 2 "oilcast serve with a bad [stream] topic: $(cat "$OC_TMP/topic.err")"
assert_contains "$(cat "$OC_TMP/topic.err")" "topic filter 'oil/sensors/+x'" "the bad filter named"
sed -i '/^\[stream\]$/,$d' "$OILCAST_DATA_DIR/oilcast.conf"
"$OILCAST_BIN" stream --broker "mqtt://127.0.0.1:$PORT" > "$OC_TMP/stream.out" 2> "$OC_TMP/stream.err" &
STREAM_PID=$!
oc_kill_later "$STREAM_PID"
for _ in $(seq 1 100); do grep -q subscribed "$OC_TMP/stream.err" 2>/dev/null && break; sleep 0.05; done

pub() { mosquitto_pub -p "$PORT" -q 1 -t "oil/sensors/$1/level" -m "$2"; }
good='{"device":"tank-1","event_time":"2026-01-01T00:00:01Z","seq":1,"measurements":{"level":{"value":5,"unit":"m"}}}'
pub tank-1 "$good"
pub tank-1 'not json at all'
pub tank-1 '{"device":"tank-1","seq":2,"measurements":{"level":{"value":5,"unit":"m"}}}'
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:01Z","seq":"3","measurements":{"level":{"value":5,"unit":"m"}}}'
pub ghost-9 '{"device":"ghost-9","event_time":"2026-01-01T00:00:01Z","seq":4,"measurements":{"level":{"value":5,"unit":"m"}}}'
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:01Z","seq":5,"measurements":{"level":{"value":5000,"unit":"m"}}}'
pub tank-1 '{"device":"tank-1","event_time":"2999-01-01T00:00:01Z","seq":6,"measurements":{"level":{"value":5,"unit":"m"}}}'
pub tank-2 '{"device":"tank-1","event_time":"2026-01-01T00:00:01Z","seq":7,"measurements":{"level":{"value":5,"unit":"m"}}}'
pub old-1 '{"device":"old-1","event_time":"2026-01-01T00:00:01Z","seq":8,"measurements":{"level":{"value":5,"unit":"m"}}}'
# bytes that would break the listing's lines and fields: a line break (in the payload and, through a
# measurement's name, in the reason), a tab, a backslash, a NUL and what follows it, a long payload
pub tank-1 $'{"device":"tank-1",\n"seq":10,\t"x":"a\\\\b"}'
printf '{"seq":11}\0after the NUL' > "$OC_TMP/nul.bin"
mosquitto_pub -p "$PORT" -q 1 -t oil/sensors/tank-1/level -f "$OC_TMP/nul.bin"
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:01Z","seq":12,"measurements":{"le\nvel":{"value":5,"unit":"m"}}}'
long="{\"device\":\"tank-1\",\"seq\":13,\"pad\":\"$(printf 'x%.0s' $(seq 1 600))\"}"
pub tank-1 "$long"
# a reading on the topic oil/sensors itself (which the subscription's oil/sensors/# matches): under no
# device's topic, so not tank-1's
mosquitto_pub -p "$PORT" -q 1 -t oil/sensors \
  -m '{"device":"tank-1","event_time":"2026-01-01T00:00:04Z","seq":15,"measurements":{"level":{"value":5,"unit":"m"}}}'
# a payload past 64 KiB (a valid JSON document: parsed, one such message could take the stream's memory)
printf '{"device":"tank-1","seq":14,"pad":"%s"}' "$(head -c 70000 /dev/zero | tr '\0' ' ')" > "$OC_TMP/big.json"
mosquitto_pub -p "$PORT" -q 1 -t oil/sensors/tank-1/level -f "$OC_TMP/big.json"
# a message past the most of a packet the stream holds (1 MiB; this broker allows up to 256 MB): read
# through, its first bytes kept, its size told, and the stream's memory does not grow by its 40 MB (it
# grew by twice that: the packet whole, then its copy)
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$STREAM_PID/status"; } # peak resident KiB
hwm_before=$(hwm)
{ printf '{"device":"tank-1","seq":16,"pad":"'; head -c 40000000 /dev/zero | tr '\0' ' '; printf '"}'; } > "$OC_TMP/huge.json"
mosquitto_pub -p "$PORT" -q 1 -t oil/sensors/tank-1/level -f "$OC_TMP/huge.json"
# a topic longer than a dead letter keeps (255 bytes), of three-byte characters: cut at a character
mosquitto_pub -p "$PORT" -q 1 -t "oil/sensors/tank-1/$(printf '\xe2\x82\xac%.0s' $(seq 1 100))" -m 'not json either'
# the good message again (a redelivery: a duplicate, nothing more), then its seq with another reading (a
# device that restarted its numbering): a dead letter, not a reading silently dropped as a duplicate
pub tank-1 "$good"
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:10:01Z","seq":1,"measurements":{"level":{"value":7,"unit":"m"}}}'
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:02Z","seq":9,"measurements":{"level":{"value":6,"unit":"m"}}}'
for _ in $(seq 1 100); do
  [[ $(stored_count "$DB") == 2 && $(sqlite3 "$DB" "SELECT count(*) FROM sensor_dead_letters") == 17 ]] && break
  sleep 0.05
done
# A batch the store fails for another reason than its data (a trigger whose json() call fails, standing
# in for a store busy past its wait or PostgreSQL away) is not acknowledged, and the stream does not
# stop: it says why, and the broker's redelivery is stored once the store takes it again.
sqlite3 -cmd ".timeout 5000" "$DB" "CREATE TRIGGER fail_seq_20 BEFORE INSERT ON sensor_readings WHEN NEW.seq = 20
               BEGIN SELECT json('the store fails for the test'); END"
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:03Z","seq":20,"measurements":{"level":{"value":7,"unit":"m"}}}'
for _ in $(seq 1 100); do (($(grep -c "malformed JSON" "$OC_TMP/stream.err" || true) >= 2)) && break; sleep 0.05; done
(($(grep -c "malformed JSON" "$OC_TMP/stream.err" || true) >= 2)) ||
  fail "the failed batch was not retried: $(cat "$OC_TMP/stream.err")"
kill -0 "$STREAM_PID" 2>/dev/null || fail "the stream stopped on a failed batch: $(cat "$OC_TMP/stream.err")"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_dead_letters")" 17 "a batch failed for no fault of its data: no dead letter"
(($(hwm) - hwm_before < 16384)) || fail "the stream's peak memory grew by $(($(hwm) - hwm_before)) KiB for a 40 MB message"
sqlite3 -cmd ".timeout 5000" "$DB" "DROP TRIGGER fail_seq_20"
for _ in $(seq 1 200); do [[ $(stored_count "$DB") == 3 ]] && break; sleep 0.05; done
assert_eq "$(stored_count "$DB")" 3 "the failed reading, redelivered, stored"
# A message whose reading the store refuses (a constraint it breaks) would be refused with its batch at
# every redelivery, and the stream would store nothing more: it becomes a dead letter with the store's
# reason, and the messages around it are stored.
sqlite3 -cmd ".timeout 5000" "$DB" "CREATE TRIGGER refuse_seq_21 BEFORE INSERT ON sensor_readings WHEN NEW.seq = 21
               BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:04Z","seq":21,"measurements":{"level":{"value":7,"unit":"m"}}}'
pub tank-1 '{"device":"tank-1","event_time":"2026-01-01T00:00:05Z","seq":22,"measurements":{"level":{"value":8,"unit":"m"}}}'
for _ in $(seq 1 200); do [[ $(stored_count "$DB") == 4 ]] && break; sleep 0.05; done
assert_eq "$(stored_count "$DB")" 4 "the reading after the refused one stored"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sensor_dead_letters WHERE reason LIKE 'the store refused it: %refused by the test%'")" 1 \
  "the refused message, a dead letter with the store's reason"
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || fail "oilcast stream exited with $?: $(cat "$OC_TMP/stream.err")"
assert_eq "$(stored_count "$DB")" 4 "good readings stored"
listing=$(oc stream dead-letters --limit 100)
assert_eq "$(wc -l <<< "$listing")" 18 "dead letters listed, one a line"
assert_eq "$(awk -F'\t' 'NF == 7 && $4 == 1 && $3 >= $2' <<< "$listing" | wc -l)" 18 "id, first and last received, seen once, topic, reason, raw"
raw() { awk -F'\t' -v seq="$1" 'index($7, "\"seq\":" seq) { print $7 }' <<< "$listing"; }
assert_eq "$(raw 10)" '{"device":"tank-1",\x0a"seq":10,\x09"x":"a\\\\b"}' "a line break, a tab and a backslash escaped"
assert_eq "$(raw 11)" '{"seq":11}\x00after the NUL' "the bytes after a NUL"
assert_eq "$(raw 13)" "$long" "a long payload whole"
assert_contains "$listing" "name 'le\x0avel'" "a line break in the reason escaped"
assert_contains "$listing" "not JSON" "not JSON"
assert_contains "$listing" "not json at all" "the raw bytes"
assert_contains "$listing" "event_time: missing" "a missing field"
assert_contains "$listing" "seq: not an integer" "a wrong type"
assert_contains "$listing" "'ghost-9' is not a registered device" "an unknown device"
assert_contains "$listing" "outside device tank-1's range" "a value out of range"
assert_contains "$listing" "in the future" "an event time in the future"
assert_contains "$listing" "another device's topic" "a device under another device's topic"
assert_contains "$listing" $'oil/sensors\tdevice: \'tank-1\' published under another device\'s topic' "a device under no device's topic"
assert_contains "$listing" "'old-1' is revoked" "a revoked device"
assert_contains "$listing" "the payload is $(stat -c %s "$OC_TMP/big.json") bytes, more than 65536 (its first 65536 kept)" "a payload too large"
assert_contains "$listing" "the payload is $(stat -c %s "$OC_TMP/huge.json") bytes, more than 65536 (its first 65536 kept)" \
  "a payload past what the stream holds, its whole size told"
assert_eq "$(sqlite3 "$DB" "SELECT DISTINCT length(raw) FROM sensor_dead_letters WHERE reason LIKE '%more than 65536%'")" 65536 \
  "the first 64 KiB of a payload too large kept"
# every topic and reason is UTF-8 text (PostgreSQL's text columns refuse anything else)
/usr/bin/python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("SELECT topic, reason FROM sensor_dead_letters").fetchall()' \
  "$DB" 2>"$OC_TMP/utf8.err" || fail "a dead letter's topic or reason is not UTF-8: $(tail -1 "$OC_TMP/utf8.err")"
assert_contains "$listing" "seq: 1 is stored already for level with another reading (2026-01-01T00:00:01.000Z, 5 m)" \
  "a sequence number used again"
assert_eq "$(sqlite3 "$DB" "SELECT seq, value FROM sensor_last_readings")" "22|8.0" "the latest reading is a stored one, not seq 1 at 00:10:01"
assert_contains "$(cat "$OC_TMP/stream.out")" "dead letters 18" "the stream's count"
serve_start "$OILCAST_DATA_DIR" --threads 1
metrics=$(curl -sf -H "Authorization: Bearer $admin" "$SERVE_URL/metrics")
assert_contains "$metrics" "oilcast_sensor_dead_letters_total{} 18" "/metrics: dead letters"
assert_contains "$metrics" "oilcast_sensor_readings_total{} 4" "/metrics: readings"
echo "ok: 18 bad messages dead-lettered with their reasons (one the store refused), 4 good ones stored (one after the store failed its batch)"
