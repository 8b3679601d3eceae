#!/usr/bin/env bash
# Installs what oilcast needs to build and test, from Debian (apt-get) and npm only, and only what is
# missing: quick when everything is there. Prints what it installs. Must never download anything from
# elsewhere. Usage: scripts/deps.sh [bench]   (bench adds the peers the benchmarks compare against).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libsqlite3-dev sqlite3 libjansson-dev libzstd-dev libsnappy-dev libopenblas-dev liblapacke-dev libcmocka-dev
  libcurl4-openssl-dev libmicrohttpd-dev libmosquitto-dev mosquitto mosquitto-clients
  libpq-dev postgresql chromium curl strace
)
if [[ "${1:-}" == bench ]]; then
  packages+=(python3-torch python3-pandas python3-statsmodels wrk nginx-light)
fi
# promtool for tests/e2e/prometheus_rules.sh (deploy/prometheus/oilcast-rules.yml)
packages+=(prometheus)
# several nodes behind a load balancer: deploy/cluster/, tests/e2e/cluster.sh
packages+=(haproxy)
# make fuzz: libFuzzer (tests/fuzz/, docs/fuzzing.md)
packages+=(clang-14 libfuzzer-14-dev)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js ships with npm in Debian's nodejs on most machines; install it only when absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing Debian packages: nodejs npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi

# Front-end and test packages from the npm registry, pinned by package-lock.json.
if [[ -f package.json ]]; then
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "deps: installing npm packages (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
