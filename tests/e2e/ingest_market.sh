# ingest_market.sh: `oilcast ingest --source market` end to end against tests/support/mock_market (no
# network): EIA paged (6,000 rows: two pages, total as a string) with -36.98 kept and flagged, a
# re-run inserting 0 from the overlap window, a revision counted in the run record, FRED and Alpha
# Vantage ("." counted as missing, newest first); retries (a 500 then a success, a 429 with
# Retry-After) kept in the manifest; every failure (refused key, throttle, 5xx to the end, malformed
# JSON, a truncated body, a timeout, no key) exits 1 naming provider, status and the provider's words
# with the key redacted, and stores nothing, in the store or in raw/; a replay from the raw zone alone;
# a kill -9 mid-fetch leaves the store and raw/ as they were; the key is in no output and no file.
source "$(dirname "$0")/ingest_market_helpers.bash"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
prices_csv "$OC_TMP/prices.csv" 6000
mock_start "$OC_TMP/prices.csv"
fast=(--backoff 0.05 --retries 3 --timeout 1)
D=$OILCAST_DATA_DIR
oc init --quiet >/dev/null

# --- EIA: the whole history in two pages ----------------------------------------------------------
out=$(oc ingest --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>"$OC_TMP/err")
assert_contains "$out" "eia:RWTC: 6000 rows read (eia, 1 series): 6000 inserted, 0 updated"
assert_contains "$(cat "$OC_TMP/err")" "2 pages in 2 requests, from the first date"
assert_contains "$(cat "$OC_TMP/err")" "negative value flagged: WTI 2020-04-20 -36.98"
diff <(oc series show WTI --format csv | tail -n +2) <(tail -n +2 "$OC_TMP/prices.csv" | sed -E 's/\.?0+$//') ||
  fail "the stored series differs from the served file"
assert_contains "$(oc series list --format json)" '"name":"WTI","unit":"USD/bbl","source":"market","provider":"eia","provider_id":"RWTC"'
assert_eq "$(sqlite3 "$D/oilcast.db" "SELECT provider || ' ' || provider_id || ' ' || source FROM series WHERE name = 'WTI'")" \
  "eia RWTC market" "the series records its provider"
manifest=$(sqlite3 "$D/oilcast.db" 'SELECT raw_path FROM ingest_runs ORDER BY id DESC LIMIT 1')
[[ "$manifest" == "$D/raw/market_data/eia/"*/*.manifest.json ]] || fail "run lineage is not a manifest: $manifest"
assert_eq "$(sqlite3 "$D/oilcast.db" 'SELECT path FROM ingest_runs ORDER BY id DESC LIMIT 1')" "eia:RWTC"
# every answer's file is there with its SHA-256; the URL shows the key redacted
while read -r file sha; do
  assert_eq "$(sha256sum "$D/raw/market_data/eia/$file" | cut -d' ' -f1)" "$sha" "raw answer $file"
done < <(jq -r '.answers[] | "\(.file) \(.sha256)"' "$manifest")
assert_contains "$(jq -r '.answers[1].url' "$manifest")" "api_key=REDACTED&frequency=daily&data[0]=value&facets[series][]=RWTC"
assert_contains "$(jq -r '.answers[1].url' "$manifest")" "sort[0][column]=period&sort[0][direction]=asc&offset=5000&length=5000"
assert_eq "$(jq -r '[.answers[].status] | join(",")' "$manifest")" "200,200"
assert_contains "$(jq -r '.answers[0].headers | join("|")' "$manifest")" "Content-Type: application/json"

# --- incremental: the overlap window again, nothing new -------------------------------------------
out=$(oc ingest --source market --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>"$OC_TMP/err")
# 10 trading days before the last date (the file has a few weekday holidays the calendar skips)
IFS=, read -r last_date last_value < <(tail -1 "$OC_TMP/prices.csv")
since=$(sed -nE 's/.*from ([0-9-]{10})$/\1/p' "$OC_TMP/err")
assert_eq "$(oc series show WTI --format csv | awk -F, -v d="$last_date" '$1 < d' | tail -10 | head -1 | cut -d, -f1)" \
  "$since" "the overlap window starts 10 stored trading days back"
overlap=$(awk -F, -v s="$since" 'NR > 1 && $1 >= s' "$OC_TMP/prices.csv" | wc -l)
assert_contains "$out" "$overlap rows read (eia, 1 series): 0 inserted, 0 updated, $overlap unchanged"

# --- a revision: counted in the run record and listed -----------------------------------------------
out=$(oc ingest --source market --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/revised" 2>/dev/null)
assert_contains "$out" "0 inserted, 1 updated, $((overlap - 1)) unchanged"
revised=$(awk -v v="$last_value" 'BEGIN { printf "%g", v + 1 }')
assert_contains "$out" "revised WTI $last_date: $(awk -v v="$last_value" 'BEGIN { printf "%g", v }') -> $revised"
assert_eq "$(sqlite3 "$D/oilcast.db" 'SELECT rows_updated FROM ingest_runs ORDER BY id DESC LIMIT 1')" "1"

# --- --since, FRED and Alpha Vantage on their own series -------------------------------------------
out=$(oc ingest --source market --provider fred --series WTI-FRED --symbol DCOILWTICO --api-key "$OC_KEY" \
  --base-url "$MOCK_URL/ok" --since 2020-04-01 2>/dev/null)
assert_contains "$out" "fred:DCOILWTICO: "
holidays=$(awk -F, 'NR > 1 && $1 >= "2020-04-01"' "$OC_TMP/prices.csv" | wc -l) # rows, then the weekday holidays:
assert_contains "$out" "$holidays inserted, 0 updated, 0 unchanged, 0 rejected, 3 missing" # 2020-12-25, 2021-01-01, 2022-07-04
export OILCAST_ALPHAVANTAGE_API_KEY=$OC_KEY
out=$(oc ingest --source market --provider alphavantage --series WTI-AV --symbol WTI --base-url "$MOCK_URL/ok" 2>/dev/null)
assert_contains "$out" "alphavantage:WTI: 6049 rows read (alphavantage, 1 series): 6000 inserted, 0 updated, 0 unchanged, 0 rejected, 49 missing"
unset OILCAST_ALPHAVANTAGE_API_KEY
diff <(oc series show WTI-AV --format csv) <(oc series show WTI --format csv | sed "s/^$last_date,$revised\$/$last_date,$(awk -v v="$last_value" 'BEGIN { printf "%g", v }')/") ||
  fail "Alpha Vantage (newest first) stored other rows than EIA"

# --- retries: a 500 then a success, a 429 with Retry-After ----------------------------------------
for scenario in flaky ratelimit; do
  dir="$OC_TMP/$scenario"
  oc init --quiet --data-dir "$dir" >/dev/null
  start=$(date +%s.%N)
  out=$(oc ingest --data-dir "$dir" --source market --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/$scenario" \
    "${fast[@]}" 2>"$OC_TMP/err") || { cat "$OC_TMP/err" >&2; fail "$scenario: ingest failed"; }
  assert_contains "$out" "6000 inserted"
  assert_contains "$(cat "$OC_TMP/err")" "2 pages in 4 requests"
  m=$(sqlite3 "$dir/oilcast.db" 'SELECT raw_path FROM ingest_runs')
  want=$([[ $scenario == flaky ]] && echo "500,200,500,200" || echo "429,200,429,200")
  assert_eq "$(jq -r '[.answers[].status] | join(",")' "$m")" "$want" "$scenario: every answer in the manifest"
  assert_eq "$(jq -r '[.answers[].used] | join(",")' "$m")" "false,true,false,true"
  [[ $scenario == ratelimit ]] && awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { exit !(e - s >= 2) }' ||
    [[ $scenario == flaky ]] || fail "ratelimit: Retry-After: 1 was not waited for (twice)"
done

# --- failures: exit 1, provider + status + the provider's words, key redacted, nothing stored -------
check_failure() { # NAME EXPECTED-TEXT... -- INGEST-ARGS...
  local name=$1 dir="$OC_TMP/fail-$1" want=() code=0
  shift
  while [[ $1 != -- ]]; do want+=("$1"); shift; done
  shift
  oc init --quiet --data-dir "$dir" >/dev/null
  oc ingest --data-dir "$dir" --source market "$@" >"$OC_TMP/out" 2>"$OC_TMP/err" || code=$?
  assert_eq "$code" 1 "$name: exit status"
  for w in "${want[@]}"; do assert_contains "$(cat "$OC_TMP/err")" "$w" "$name"; done
  [[ "$(cat "$OC_TMP/out" "$OC_TMP/err")" != *"$OC_KEY"* ]] || fail "$name: the API key was printed"
  assert_eq "$(observations "$dir")" 0 "$name: observations stored"
  assert_eq "$(sqlite3 "$dir/oilcast.db" 'SELECT count(*) FROM ingest_runs')" 0 "$name: runs recorded"
  assert_eq "$(find "$dir/raw/market_data" -type f | wc -l)" 0 "$name: files left in raw/"
}
check_failure refused "eia: HTTP 403 from $MOCK_URL/refused/v2/petroleum/pri/spt/data/?api_key=REDACTED&" \
  "API_KEY_INVALID: the api_key XXXXXXXXXXXXXXXXXX is not valid" -- \
  --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/refused" "${fast[@]}"
assert_eq "$(grep -c 'gave up' "$OC_TMP/err" || true)" 0 "a 403 is not retried"
check_failure fred-refused "fred: HTTP 400 from" "The value for variable api_key is not registered" -- \
  --provider fred --api-key "$OC_KEY" --base-url "$MOCK_URL/refused" "${fast[@]}"
check_failure throttle "alphavantage: HTTP 200 from $MOCK_URL/throttle/query?function=WTI&interval=daily&datatype=json&apikey=REDACTED" \
  "Our standard API rate limit is 25 requests per day" -- \
  --provider alphavantage --api-key "$OC_KEY" --base-url "$MOCK_URL/throttle" "${fast[@]}"
check_failure down "eia: gave up after 3 attempts: HTTP 500 from" "mock: internal server error" -- \
  --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/down" "${fast[@]}"
check_failure time-limit "eia: gave up (the 1 s limit would pass" "HTTP 500" -- \
  --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/down" "${fast[@]}" --time-limit 1 --backoff 4
check_failure malformed "eia: HTTP 200 from" "malformed JSON at line 1 column" -- \
  --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/malformed" "${fast[@]}"
check_failure truncated "eia: gave up after 3 attempts: calling $MOCK_URL/truncated/" "partial file" -- \
  --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/truncated" "${fast[@]}"
check_failure slow "fred: gave up after 2 attempts: calling $MOCK_URL/slow/fred/series/observations?series_id=DCOILWTICO&api_key=REDACTED" \
  "Timeout was reached" -- --provider fred --api-key "$OC_KEY" --base-url "$MOCK_URL/slow" --backoff 0.05 --retries 2 --timeout 0.5
check_failure no-key "eia: no API key: give --api-key, set OILCAST_EIA_API_KEY or add \`eia_api_key = KEY\` to oilcast.conf" -- \
  --provider eia --base-url "$MOCK_URL/ok"
check_failure no-symbol "eia: no provider id for series 'GAS' (give --symbol" -- \
  --provider eia --series GAS --api-key "$OC_KEY" --base-url "$MOCK_URL/ok"
# the key from the environment
OILCAST_EIA_API_KEY=$OC_KEY oc ingest --data-dir "$OC_TMP/fail-no-key" --source market --provider eia \
  --base-url "$MOCK_URL/ok" >/dev/null 2>&1 || fail "the key in OILCAST_EIA_API_KEY was not used"
# the key from oilcast.conf
oc init --data-dir "$OC_TMP/conf-key" >/dev/null 2>&1
echo "eia_api_key = $OC_KEY" >>"$OC_TMP/conf-key/oilcast.conf"
oc ingest --data-dir "$OC_TMP/conf-key" --source market --provider eia --base-url "$MOCK_URL/ok" >/dev/null 2>&1 ||
  fail "the key in oilcast.conf was not used"
assert_exit 2 oc ingest --source market --provider nyse --api-key "$OC_KEY"
assert_exit 2 oc ingest --source market --api-key "$OC_KEY"
assert_exit 2 oc ingest --source market --provider eia --timeout 0
for limit in 0 -1 soon; do
  assert_exit 2 oc ingest --source market --provider eia --api-key "$OC_KEY" --time-limit "$limit"
  assert_contains "$(oc ingest --source market --provider eia --api-key "$OC_KEY" --time-limit "$limit" 2>&1 || true)" \
    "--time-limit needs a number of seconds in 0.001..86400, not '$limit'"
done
assert_exit 2 oc ingest --source market --replay "$OC_TMP/x.json" --provider eia
assert_exit 2 oc ingest --source historical --provider eia --csv-path "$OC_TMP/prices.csv"

# --- replay from the raw zone alone, into a fresh data directory ----------------------------------
R="$OC_TMP/replayed"
oc init --quiet --data-dir "$R" >/dev/null
out=$(LD_DEBUG=files oc ingest --data-dir "$R" --source market --replay "$manifest" 2>"$OC_TMP/replay.ld")
assert_contains "$out" "eia:RWTC: 6000 rows read (eia, 1 series): 6000 inserted"
# a replay asks no server: libcurl is not loaded (core/curl_lazy.h), not even ahead of the store's open
if grep -q 'file=libcurl' "$OC_TMP/replay.ld"; then fail "a replay loaded libcurl"; fi
assert_eq "$(sqlite3 "$R/oilcast.db" "SELECT provider || ' ' || provider_id FROM series")" "eia RWTC"
diff <(oc series show WTI --data-dir "$R" --format csv) <(tail -n +1 "$OC_TMP/prices.csv" | sed -E '1s/.*/date,value/; s/\.?0+$//') ||
  fail "the replay differs from the fetch"
first=$(jq -r '.answers[0].file' "$manifest")
cp "$D/raw/market_data/eia/$first" "$OC_TMP/saved"
printf ' ' >>"$D/raw/market_data/eia/$first"
assert_exit 1 oc ingest --data-dir "$R" --source market --replay "$manifest"
assert_contains "$(oc ingest --data-dir "$R" --source market --replay "$manifest" 2>&1 || true)" "does not match its SHA-256"
cp "$OC_TMP/saved" "$D/raw/market_data/eia/$first"

# --- kill -9 while the second page is awaited: the store and raw/ as they were --------------------
K="$OC_TMP/killed"
oc init --quiet --data-dir "$K" >/dev/null
oc ingest --data-dir "$K" --source market --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" \
  --since 2022-01-03 >/dev/null 2>&1
before=$(observations "$K")
files_before=$(find "$K/raw" -type f | sort)
"$OILCAST_BIN" ingest --data-dir "$K" --source market --provider eia --api-key "$OC_KEY" --base-url "$MOCK_URL/hang" \
  --since 2000-01-01 >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
oc series list --data-dir "$K" >/dev/null # opening the directory clears dead processes' temporary files
assert_eq "$(observations "$K")" "$before" "observations after kill -9"
assert_eq "$(find "$K/raw" -type f | sort)" "$files_before" "raw/ after kill -9"

# --- the key is in no file of any data directory ---------------------------------------------------
! grep -rqF "$OC_KEY" "$OC_TMP"/*/raw "$D/raw" 2>/dev/null || fail "the API key was written under raw/"
echo "ingest_market: ok"
