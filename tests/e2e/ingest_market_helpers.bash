# ingest_market_helpers.bash: shell helpers for the market-API end-to-end tests, on top of lib.sh
# (sourced, not a test: ctest registers only *.sh). Starts tests/support/mock_market on an ephemeral
# loopback port and generates its price file. Sets MOCK_URL (http://127.0.0.1:PORT; a scenario is the
# next path segment: "$MOCK_URL/ok").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MOCK_BIN=${OILCAST_BUILD_DIR:-$(dirname "$OILCAST_BIN")}/mock_market
[[ -x "$MOCK_BIN" ]] || fail "mock_market not built at $MOCK_BIN"
OC_KEY=mockkey-7f3a9c2e51 # the API key of every test: it must never appear in an output, a log or a file

# mock_start CSV: serves the Date,Price file CSV; returns once the mock listens.
mock_start() {
  local port_file="$OC_TMP/mock.port"
  rm -f "$port_file"
  "$MOCK_BIN" --csv "$1" --port-file "$port_file" 2>"$OC_TMP/mock.err" &
  local pid=$!
  oc_kill_later "$pid"
  for ((i = 0; i < 200; i++)); do
    [[ -s "$port_file" ]] && { MOCK_URL="http://127.0.0.1:$(cat "$port_file")"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$OC_TMP/mock.err" >&2; fail "mock_market exited at start"; }
    sleep 0.05
  done
  fail "mock_market did not start"
}

# prices_csv FILE DAYS: a Date,Price file of DAYS weekdays from 2000-01-03 but New Year, July 4 and
# Christmas, with WTI's -36.98 on 2020-04-20 (when in range); prices are 40 + (n mod 97) / 4.
prices_csv() {
  awk -v days="$2" 'function civil(z,   era, doe, yoe, y, doy, mp, d, m) { # days since 1970-01-01
      z += 719468; era = int(z / 146097); doe = z - era * 146097
      yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
      y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
      d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9
      return sprintf("%04d-%02d-%02d", y + (m <= 2), m, d) }
    BEGIN { print "Date,Price"; n = 0
      for (z = 10959; n < days; z++) { if ((z + 4) % 7 == 0 || (z + 4) % 7 == 6) continue  # Sun, Sat
        date = civil(z); if (date ~ /-(01-01|07-04|12-25)$/) continue  # holidays: FRED writes "."
        v = date == "2020-04-20" ? "-36.98" : sprintf("%.2f", 40 + (n % 97) / 4)
        print date "," v; n++ } }' >"$1"
}

# observations DIR: how many observations the store of DIR holds.
observations() { sqlite3 "$1/oilcast.db" 'SELECT count(*) FROM observations'; }
