# lib.sh: sourced by the dashboard's end-to-end tests in tests/e2e (kept here so CTest does not
# register it). Skips (exit 77) when node, node_modules or chromium is missing, unless CI=true (then fails).
#   oc_wti_prices "$bin" "$data" DIR   $PRICES: the real WTI file or, without the shared data, a
#                    simulated stand-in (tests/support/prices.sh): the dashboard tests check the page
#   simulated_prices DIR NAME   sets $simulated to a file written by `oilcast simulate market` (marked)
#   make_work        a fresh directory $work, removed on exit, and $dir=$work/data in it
src=${OILCAST_SOURCE_DIR:?}
bin=${OILCAST_BIN:?}
data=${OILCAST_TEST_DATA:-$src/../shared/data}
source "$src/tests/support/prices.sh"
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
make_work() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  dir=$work/data
}
