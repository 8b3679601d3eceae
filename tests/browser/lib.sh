# lib.sh: sourced by the dashboard's end-to-end tests in tests/e2e (kept here so CTest does not
# register it). Skips (exit 77) when node, node_modules or chromium is missing, unless CI=true (then fails).
#   wti_prices DIR   sets $prices to a Date,Price-like CSV of daily prices ending 2024-12-31: the real
#                    WTI file, or without the shared data the simulator's 2015..2024 (seed 7) with its
#                    SIMULATED mark removed, so it imports as any historical file would (the dashboard
#                    tests check the page, not the prices); $prices_kind says which ("real", "stand-in")
#   simulated_prices DIR NAME   sets $simulated to a file written by `oilcast simulate market` (marked)
src=${OILCAST_SOURCE_DIR:?}
bin=${OILCAST_BIN:?}
data=${OILCAST_TEST_DATA:-$src/../shared/data}
skip() { if [[ "${CI:-}" == true ]]; then echo "FAIL (CI): $*" >&2; exit 1; fi; echo "skip: $*"; exit 77; }
need_browser() {
  command -v node >/dev/null || skip "node is not installed"
  [[ -d "$src/node_modules/playwright-core" && -f "$src/node_modules/plotly.js-dist-min/plotly.min.js" ]] ||
    skip "node_modules missing (run scripts/deps.sh)"
  [[ -x "${OILCAST_CHROMIUM:-/usr/bin/chromium}" ]] || skip "chromium is not installed (apt-get install chromium)"
}
need_data() { [[ -f "$data/wti-daily.csv" ]] || skip "no shared data at $data"; }
simulated_prices() {
  simulated=$1/$2.csv
  "$bin" simulate market --quiet --days 2600 --seed 11 --start-date 2014-06-02 --series "$2" --out "$simulated"
}
wti_prices() {
  if [[ -f "$data/wti-daily.csv" ]]; then
    prices=$data/wti-daily.csv prices_kind=real
    return
  fi
  "$bin" simulate market --quiet --days 2600 --seed 7 --start-date 2015-01-02 --series WTI --out "$1/sim-wti.csv"
  awk -F, 'NR > 1 && ($1 == "date" || $1 <= "2024-12-31")' "$1/sim-wti.csv" >"$1/wti-stand-in.csv"
  prices=$1/wti-stand-in.csv prices_kind=stand-in
  echo "no shared data at $data: the WTI series is a stand-in from the simulator ($(($(wc -l <"$prices") - 1)) days)"
}
