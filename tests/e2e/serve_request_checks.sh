#!/usr/bin/env bash
# End-to-end: what `oilcast serve` checks when a request's header arrives (issue 13): an encoded NUL
# (%00) anywhere in the URL is 400 (libmicrohttpd cut the path at it: /static/index.html%00.js served
# index.html); Content-Length headers that disagree, or Content-Length with Transfer-Encoding, are 400 and
# nothing after them is read (a smuggled second request got 200); at the connection limit, with every
# slot busy, the reserve answers health checks (GET or HEAD) and keyed requests and refuses the rest with 503; SIGHUP
# reloads keys and endpoints and the server keeps serving.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
"$OILCAST_BIN" init --data-dir "$dir" >/dev/null 2>&1
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
serve_start "$dir"
port=${SERVE_URL##*:}

# raw REQUEST: sends REQUEST (printf %b escapes) on one connection, in one write (bash's own printf
# writes line by line, and the server may answer and close after the header); prints the answer.
raw() {
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  env printf '%b' "$1" >&"$fd"
  timeout 5 cat <&"$fd" || true
  exec {fd}<&-
}

# --- %00 ---
expect_status 200 GET /static/index.html >/dev/null
expect_status 400 GET '/static/index.html%00.js' | grep -q 'NUL' || fail "%00 in the path: no reason given"
expect_status 400 GET '/v1/series?name=a%00b' -H "Authorization: Bearer $reader" >/dev/null
expect_status 200 GET /healthz >/dev/null # the next request on a fresh connection is not affected

# --- Content-Length ---
answer=$(raw 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 44\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
assert_contains "$answer" "HTTP/1.1 400" "conflicting Content-Length"
assert_eq "$(grep -c '^HTTP/1.1' <<<"$answer")" 1 "the smuggled request was answered"
answer=$(raw 'POST /v1/series/WTI/observations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
assert_contains "$answer" "HTTP/1.1 400" "Content-Length with Transfer-Encoding"
answer=$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi')
assert_contains "$answer" "HTTP/1.1 200" "identical Content-Length headers are one length"

# --- SIGHUP ---
kill -HUP "$SERVE_PID"
for _ in $(seq 100); do grep -q 'SIGHUP received: API keys and endpoints reloaded' "$SERVE_LOG" && break; sleep 0.05; done
grep -q 'SIGHUP received: API keys and endpoints reloaded' "$SERVE_LOG" || fail "SIGHUP: no reload logged"
kill -0 "$SERVE_PID" || fail "SIGHUP killed the server"
expect_status 200 GET /v1/series -H "Authorization: Bearer $reader" >/dev/null
serve_stop

# --- the reserve: two event streams take both slots of --max-connections 2 (being served: never evicted) ---
serve_start "$dir" --max-connections 2
for i in 1 2; do
  curl -sN -H "Authorization: Bearer $reader" "$SERVE_URL/v1/stream" >/dev/null 2>&1 &
  oc_kill_later $!
done
for _ in $(seq 100); do [[ $(grep -c '"route":"/v1/stream"' "$SERVE_LOG" || true) -ge 2 ]] && break; sleep 0.05; done
[[ $(grep -c '"route":"/v1/stream"' "$SERVE_LOG" || true) -ge 2 ]] || fail "the two event streams did not start"
expect_status 503 GET / | grep -q 'connection limit' || fail "the reserve served an anonymous page"
expect_status 200 GET /healthz >/dev/null
# HEAD is GET without the body, in the reserve too (it was refused: no route matched the method HEAD)
[[ $(curl -s -I -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz") == 200 ]] || fail "HEAD /healthz refused by the reserve"
expect_status 200 GET /v1/series -H "Authorization: Bearer $reader" >/dev/null
serve_stop
echo "serve_request_checks: ok"
