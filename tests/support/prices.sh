# prices.sh: a daily price series for the shell tests that need one but check nothing specific to real
# prices (sourced by tests/e2e/lib.sh and tests/browser/lib.sh; not a test itself).
#   oc_wti_prices BIN DATA_DIR SCRATCH_DIR
#     sets PRICES to a CSV (a header, then date,price rows ending 2024-12-31) and PRICES_KIND: the real
#     WTI file DATA_DIR/wti-daily.csv (PRICES_KIND=real) or, without it, a stand-in written by BIN's
#     `simulate market` (2015..2024, seed 7) into SCRATCH_DIR with its SIMULATED mark line removed, so it
#     imports as any historical file would (PRICES_KIND=stand-in). Says on stderr when it is the stand-in.
oc_wti_prices() {
  local bin=$1 data=$2 scratch=$3
  if [[ -r "$data/wti-daily.csv" ]]; then
    PRICES=$data/wti-daily.csv PRICES_KIND=real
    return 0
  fi
  "$bin" simulate market --quiet --days 2600 --seed 7 --start-date 2015-01-02 --series WTI --out "$scratch/sim-wti.csv"
  awk -F, 'NR > 1 && ($1 == "date" || $1 <= "2024-12-31")' "$scratch/sim-wti.csv" >"$scratch/wti-stand-in.csv"
  PRICES=$scratch/wti-stand-in.csv PRICES_KIND=stand-in
  echo "no shared data at $data: the WTI series is a simulated stand-in ($(($(grep -c . "$PRICES") - 1)) days)" >&2
}
