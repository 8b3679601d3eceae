# ports.sh: the one free-port helper of the tests, the benchmarks and deploy/cluster/cluster.sh (source
# it; it is not a program). It lives under scripts/ so that cluster.sh, which users run outside the
# tests, can source it too. It only chooses a port: it binds nothing and starts nothing.
#   free_port   prints a TCP port that nothing listens on now on 127.0.0.1, outside the kernel's
#               ephemeral range; returns 1 with a message on stderr when 200 tries found none
#
# Why outside the ephemeral range (ip_local_port_range): a port inside it may be taken between this
# check and the bind by any outgoing connection (thousands per load test), which the connect check
# cannot see ("Address already in use" at the bind). Binding port 0 and reading the port back (python's
# socket) has the same flaw: the kernel hands out ports from that very range.
free_port() {
  local port low=32768 high=60999 from to
  read -r low high < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if ((low > 11024)); then from=10000 to=$((low - 1)); else from=$((high + 1)) to=65535; fi
  for _ in $(seq 1 200); do
    port=$((from + RANDOM % (to - from + 1)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "free_port: no free port found in $from..$to on 127.0.0.1" >&2
  return 1
}
