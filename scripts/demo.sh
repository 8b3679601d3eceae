#!/usr/bin/env bash
# demo.sh [OILCAST_BIN]: the whole pipeline on SIMULATED data, in ./demo-data (override with
# OILCAST_DEMO_DIR). Safe to re-run: every step is idempotent. Run through `make demo`.
# Stages append their steps below in pipeline order (ingest, ETL, training, forecast, serving).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "${1:-$root/build/oilcast}")" && pwd)/$(basename "${1:-$root/build/oilcast}")
data=${OILCAST_DEMO_DIR:-$root/demo-data}
export OILCAST_DATA_DIR=$data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Data directory: $data"
"$bin" init
"$bin" status

step "2. Simulate a market (WTI-SIM and BRENT-SIM: SIMULATED prices, not real data), 10 years of business days"
"$bin" simulate market --days 2610 --seed 42 --start-date 2015-01-01 --series WTI-SIM,BRENT-SIM \
  --out "$tmp/simulated-market.csv"

step "3. Import it (validated, one transaction; a re-run reports 0 inserted, 0 updated)"
"$bin" ingest --source simulated --csv-path "$tmp/simulated-market.csv"

step "4. What the store holds"
"$bin" series list
"$bin" series show WTI-SIM --last 10
