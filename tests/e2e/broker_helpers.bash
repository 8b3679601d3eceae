# broker_helpers.bash: shell helpers for the tests that run a real mosquitto, on top of lib.sh (sourced,
# not a test: ctest registers only *.sh). Skips the test (exit 77) when mosquitto or its clients are
# missing. broker_start DIR runs `mosquitto -c DIR/mosquitto.conf` (written by `oilcast broker config`),
# kills it by PID at exit, waits for its pid file and sets BROKER_PID. broker_wait_login USER waits
# until the broker's log shows USER connected (a subscriber is ready before anything is published).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null || {
  echo "mosquitto or mosquitto-clients not installed (scripts/deps.sh): skipped" >&2
  exit 77
}

broker_start() {
  BROKER_DIR=$1
  "$(command -v mosquitto)" -c "$BROKER_DIR/mosquitto.conf" &
  BROKER_PID=$!
  oc_kill_later "$BROKER_PID"
  for _ in $(seq 1 50); do [[ -s "$BROKER_DIR/mosquitto.pid" ]] && break; sleep 0.1; done
  [[ $(cat "$BROKER_DIR/mosquitto.pid" 2>/dev/null) == "$BROKER_PID" ]] || fail "the broker did not write its pid file"
}

broker_wait_login() {
  for _ in $(seq 1 50); do grep -q "u'$1')" "$BROKER_DIR/mosquitto.log" 2>/dev/null && return 0; sleep 0.1; done
  fail "$1 did not log in to the broker"
}
