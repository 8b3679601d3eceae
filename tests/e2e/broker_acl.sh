#!/usr/bin/env bash
# broker_acl.sh: a real mosquitto (Debian's, on a free loopback port, started and stopped by PID) runs
# from the directory `oilcast broker config` writes, and enforces the device registry: a device with a
# wrong password is refused; a device publishing under another device's topic is dropped (the
# subscriber never sees it, while the same device's own readings before and after arrive); a revoked
# device is refused once `oilcast device revoke` has rewritten passwd and reloaded the broker (SIGHUP),
# while the other device keeps working; the subscriber user may read but not publish.
source "$(dirname "$0")/broker_helpers.bash"

oc init >/dev/null 2>&1
TANK=$(oc device add tank-1 --type tank_level --site cushing 2>/dev/null)
PUMP=$(oc device add pump-1 --type pipeline_pressure 2>/dev/null)
[[ $TANK =~ ^[0-9a-f]{32}$ && $PUMP =~ ^[0-9a-f]{32}$ ]] || fail "device add printed no password: [$TANK] [$PUMP]"
assert_exit 1 oc device add tank-1 --type tank_level  # ids are taken once
PORT=$(free_port)
BROKER="$OC_TMP/broker"
out=$(oc broker config --out "$BROKER" --port "$PORT" 2>&1)
assert_contains "$out" "passwd (2 devices)" "broker config"
grep -q '^pattern write oil/sensors/%u/#$' "$BROKER/acl" || fail "acl lacks the device pattern"
[[ $(stat -c %a "$BROKER/subscriber.secret") == 600 ]] || fail "subscriber.secret is not mode 0600"
SUB=$(cat "$BROKER/subscriber.secret")

broker_start "$BROKER"

pub() { # pub USER PASSWORD TOPIC MESSAGE: one QoS 1 message; the exit status of mosquitto_pub
  mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u "$1" -P "$2" -t "$3" -m "$4" 2>/dev/null
}
# Waits until the subscriber's output holds the line.
wait_for() {
  for _ in $(seq 1 100); do grep -qx "$1" "$OC_TMP/sub.out" && return 0; sleep 0.05; done
  fail "the subscriber never received [$1]"
}

mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -u oilcast-subscriber -P "$SUB" -t 'oil/sensors/#' -v >"$OC_TMP/sub.out" &
oc_kill_later $!
broker_wait_login oilcast-subscriber

pub tank-1 "$TANK" oil/sensors/tank-1/level first || fail "a device could not publish under its own topic"
assert_exit 5 pub tank-1 wrong-password oil/sensors/tank-1/level wrong-password    # refused: not authorised
pub tank-1 "$TANK" oil/sensors/pump-1/pressure spoofed || true                   # accepted at the door, dropped
assert_exit 5 pub nobody "$TANK" oil/sensors/nobody/x unknown-user
pub oilcast-subscriber "$SUB" oil/sensors/tank-1/level from-subscriber || true   # the subscriber may not write
head -c 1100000 /dev/zero | tr '\0' x > "$OC_TMP/huge.txt" # past the broker's max_packet_size (1 MiB)
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u tank-1 -P "$TANK" -t oil/sensors/tank-1/level -f "$OC_TMP/huge.txt" 2>/dev/null &&
  fail "a message of 1.1 MB was taken by the broker"
pub tank-1 "$TANK" oil/sensors/tank-1/level second || fail "second reading refused"
wait_for "oil/sensors/tank-1/level second"
got=$(cat "$OC_TMP/sub.out")
assert_eq "$got" $'oil/sensors/tank-1/level first\noil/sensors/tank-1/level second' "what the subscriber saw"

pub pump-1 "$PUMP" oil/sensors/pump-1/pressure before-revoke || fail "pump-1 refused before its revocation"
wait_for "oil/sensors/pump-1/pressure before-revoke"
out=$(oc device revoke pump-1 2>&1 >/dev/null)  # DATA_DIR/broker is not where this broker runs: say so
assert_contains "$out" "no broker directory"
pub pump-1 "$PUMP" oil/sensors/pump-1/pressure not-yet-reloaded || fail "the broker reloaded before it was told"
out=$(oc broker sync --out "$BROKER" 2>&1)
assert_contains "$out" "running broker reloaded" "broker sync"
for _ in $(seq 1 50); do grep -q "Reloading config" "$BROKER/mosquitto.log" && break; sleep 0.1; done
assert_exit 5 pub pump-1 "$PUMP" oil/sensors/pump-1/pressure after-revoke
pub tank-1 "$TANK" oil/sensors/tank-1/level third || fail "tank-1 refused after pump-1's revocation"
wait_for "oil/sensors/tank-1/level third"
if grep -q "after-revoke\|spoofed\|from-subscriber\|wrong-password\|unknown-user" "$OC_TMP/sub.out"; then
  fail "a refused or dropped message reached the subscriber: $(cat "$OC_TMP/sub.out")"
fi

# device add with --broker-dir keeps that directory in step and reloads the broker itself.
NEW=$(oc device add flow-9 --type pipeline_flow --broker-dir "$BROKER" 2>/dev/null)
grep -q '^flow-9:\$7\$101\$' "$BROKER/passwd" || fail "device add did not rewrite passwd"
for _ in $(seq 1 50); do [[ $(grep -c "Reloading config" "$BROKER/mosquitto.log") -ge 2 ]] && break; sleep 0.1; done
pub flow-9 "$NEW" oil/sensors/flow-9/flow added-live || fail "a device added while the broker ran is refused"
wait_for "oil/sensors/flow-9/flow added-live"
echo "broker ACLs enforced"
