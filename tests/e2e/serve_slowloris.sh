#!/usr/bin/env bash
# End-to-end: `oilcast serve` stays available under connection exhaustion (issue 13). The attacker is
# tests/tools/slowloris.c (oc_slowloris), on source addresses 127.77.0.x so that the per-client limit
# alone cannot stop it; the legitimate client is curl from 127.0.0.1, sequentially.
#  1. the header and body deadlines are totals: connections that trickle a line every 0.5 s (well inside
#     the 30 s idle timeout) are closed once their header or body is overdue, with no other load;
#  2. 2,000 slowloris connections (1,500 trickling header lines, 500 trickling a body) against the
#     default limit of 1,024: at least 99% of 200 health checks and keyed reads succeed;
#  3. 10,000 idle connections (fewer if the hard open-file limit is lower: the count used is printed):
#     at least 99% of 100 requests succeed;
#  4. one address holds at most --max-connections-per-client connections.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

attacker=${OILCAST_BUILD_DIR:-$(dirname "$OILCAST_BIN")}/oc_slowloris
[[ -x "$attacker" ]] || fail "the attack tool $attacker is not built"
dir=$OC_TMP/data
"$OILCAST_BIN" init --data-dir "$dir" >/dev/null 2>&1
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)

# Both this shell's children (the attacker) and the server need a descriptor per connection.
ulimit -n "$(ulimit -Hn)"

# attack MODE COUNT ADDRESSES INTERVAL SECONDS OUT: starts oc_slowloris in the background (pid in $attack_pid).
attack() {
  "$attacker" "${SERVE_URL##*:}" "$@" &
  attack_pid=$!
  oc_kill_later "$attack_pid"
}

# legitimate N: N sequential requests, health checks and keyed reads in turn; prints how many got 200.
legitimate() {
  local ok=0 i code
  for ((i = 0; i < $1; i++)); do
    if ((i % 2)); then
      code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: Bearer $reader" "$SERVE_URL/v1/series" || true)
    else
      code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$SERVE_URL/healthz" || true)
    fi
    [[ $code == 200 ]] && ok=$((ok + 1))
  done
  echo "$ok"
}

# stop_attacks PID...: ends attackers early (SIGTERM: each prints its counts and exits) and waits for them.
stop_attacks() {
  kill -TERM "$@" 2>/dev/null || true
  wait "$@"
}

# counts FILE FIELD: a number from oc_slowloris's summary line.
counts() { sed -nE "s/.*$2 ([0-9]+).*/\1/p" "$1"; }

# --- 1. total deadlines, no other load ---
serve_start "$dir" --access-log off --header-timeout 1.5 --body-timeout 2
attack headers 40 4 0.5 4 >"$OC_TMP/headers.out"
headers_pid=$attack_pid
attack body 40 4 0.5 4 >"$OC_TMP/body.out"
wait "$attack_pid" "$headers_pid"
for kind in headers body; do
  closed=$(counts "$OC_TMP/$kind.out" closed_by_server)
  ((closed >= 40)) || fail "trickling the $kind (a line every 0.5 s) kept connections past the deadline: $(cat "$OC_TMP/$kind.out")"
done
serve_stop
grep -q 'past the header deadline [1-9]' "$SERVE_LOG" || fail "no connection closed at the header deadline: $(tail -3 "$SERVE_LOG")"
grep -q 'past the body deadline [1-9]' "$SERVE_LOG" || fail "no connection closed at the body deadline: $(tail -3 "$SERVE_LOG")"

# --- 2. 2,000 slowloris connections against the default limit (1,024) ---
serve_start "$dir" --access-log off --header-timeout 3 --body-timeout 5
attack headers 1500 100 1 14 >"$OC_TMP/flood-headers.out"
headers_pid=$attack_pid
attack body 500 50 1 14 >"$OC_TMP/flood-body.out"
sleep 4 # the attackers ramp up over 2.8 s
ok=$(legitimate 200)
stop_attacks "$attack_pid" "$headers_pid"
serve_stop
peak=$(($(counts "$OC_TMP/flood-headers.out" peak_open) + $(counts "$OC_TMP/flood-body.out" peak_open)))
echo "slowloris: $ok/200 legitimate requests answered; attacker peak $peak open; $(grep 'connections refused' "$SERVE_LOG")"
((peak > 1024)) || fail "the attack never reached the connection limit (peak $peak open)"
((ok >= 198)) || fail "only $ok of 200 legitimate requests succeeded under 2,000 slowloris connections"

# --- 3. 10,000 idle connections (as many as the open-file limit allows) ---
idle=$(($(ulimit -n) - 1000))
((idle > 10000)) && idle=10000
echo "idle connections: $idle (open-file limit $(ulimit -n))"
serve_start "$dir" --access-log off --header-timeout 10
attack idle "$idle" 100 1 10 >"$OC_TMP/idle.out"
sleep 4
ok=$(legitimate 100)
stop_attacks "$attack_pid"
serve_stop
echo "idle: $ok/100 legitimate requests answered; $(cat "$OC_TMP/idle.out")"
(($(counts "$OC_TMP/idle.out" opened) >= idle)) || fail "the idle attacker did not open its connections"
((ok >= 99)) || fail "only $ok of 100 legitimate requests succeeded beside $idle idle connections"

# --- 4. per-client limit ---
serve_start "$dir" --access-log off --max-connections-per-client 20
attack idle 60 1 1 3 >"$OC_TMP/one.out"
wait "$attack_pid"
serve_stop
held=$(counts "$OC_TMP/one.out" held_at_end)
((held <= 20)) || fail "one address held $held connections (limit 20): $(cat "$OC_TMP/one.out")"
((held >= 10)) || fail "one address could not even hold a few connections: $(cat "$OC_TMP/one.out")"
echo "serve_slowloris: ok"
