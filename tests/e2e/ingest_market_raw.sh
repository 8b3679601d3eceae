# ingest_market_raw.sh: a market fetch writes its answers into the raw zone on a thread of their own
# while the batch reads and inserts the rows (src/ingest/market.c); the batch must still commit only
# once every answer is durable. An answer that cannot be written (a directory holds the name of its
# temporary file, <answer>.tmp.<pid>, which it keeps until the commit names it) fails the fetch with
# exit 1 and the file named, and leaves the store and the raw zone as they were; once the name is free
# the same fetch commits.
source "$(dirname "$0")/ingest_market_helpers.bash"
prices_csv "$OC_TMP/prices.csv" 30
mock_start "$OC_TMP/prices.csv"
oc init --quiet >/dev/null
url="$MOCK_URL/ok/v2/petroleum/pri/spt/data/?api_key=$OC_KEY&frequency=daily&data[0]=value&facets[series][]=RWTC"
url+="&sort[0][column]=period&sort[0][direction]=asc&offset=0&length=5000"
# the answer's name: the SHA-256 of its body as kept (the key masked), in the day's folder
mask=$(printf '%s' "$OC_KEY" | tr '[:print:]' X)
sha=$(curl -gsf "$url" | sed "s/$OC_KEY/$mask/g" | sha256sum | cut -d' ' -f1)
eia="$OILCAST_DATA_DIR/raw/market_data/eia"
days=("$(date -u +%F)" "$(date -u -d tomorrow +%F)") # the fetch may run past midnight

status=0
bash -c 'for day in $3; do mkdir -p "$1/$day/$2.json.tmp.$$"; done; shift 3; exec "$@"' _ "$eia" "$sha" "${days[*]}" \
  "$OILCAST_BIN" ingest --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" \
  >"$OC_TMP/out" 2>"$OC_TMP/err" || status=$?
assert_eq "$status" 1 "an answer that cannot be written fails the fetch"
assert_contains "$(cat "$OC_TMP/err")" "cannot create $eia/"
assert_contains "$(cat "$OC_TMP/err")" "$sha.json.tmp."
assert_eq "$(observations "$OILCAST_DATA_DIR")" 0 "rows committed without their answer in the raw zone"
assert_eq "$(sqlite3 "$OILCAST_DATA_DIR/oilcast.db" "SELECT count(*) FROM ingest_runs WHERE status = 'ok'")" 0
assert_eq "$(find "$eia" -type f | wc -l)" 0 "files left in the raw zone by a failed fetch"

rm -rf "$eia"
out=$(oc ingest --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>/dev/null)
assert_contains "$out" "30 inserted, 0 updated"
[[ -n $(find "$eia" -name "$sha.json") ]] || fail "the answer $sha.json is not in the raw zone"
# Two fetches of the same answers beside each other (two processes, one store): the one that fails
# must not remove an answer file the other committed a manifest naming. It did: the failing run had
# named its files before it failed and removed them after, while the other found them named and did not
# write its own. The failing run (--on-error abort, a price below the series' range) is held at its
# removals (strace delays unlink by 1 s) while the other (--on-error skip) fetches and commits.
if command -v strace >/dev/null; then
  twin=$OC_TMP/twin
  oc init --quiet --data-dir "$twin" >/dev/null
  oc series set-range WTI --data-dir "$twin" --min 40.1 --max 1000 >/dev/null # the first price, 40.00, below
  twin_eia="$twin/raw/market_data/eia"
  fetch=(ingest --data-dir "$twin" --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok")
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -o /dev/null --seccomp-bpf -e trace=unlink \
    -e inject=unlink:delay_enter=1000000 "$OILCAST_BIN" "${fetch[@]}" >/dev/null 2>"$OC_TMP/abort.err" &
  pid=$!
  oc_kill_later "$pid"
  for _ in $(seq 1 1000); do # its answer written (named or not), or it ended
    [[ -n $(find "$twin_eia" -name "$sha.json*" 2>/dev/null) ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.005
  done
  out=$("$OILCAST_BIN" "${fetch[@]}" --on-error skip 2>&1) || fail "the skip fetch failed: $out"
  assert_contains "$out" "29 inserted"
  status=0
  wait "$pid" || status=$?
  assert_eq "$status" 1 "the abort fetch with a price out of range"
  assert_contains "$(cat "$OC_TMP/abort.err")" "rejected"
  manifest=$(grep -o 'original kept as [^ ]*' <<<"$out" | cut -d' ' -f4)
  [[ -n $(find "$twin_eia" -name "$sha.json") ]] || fail "the committed fetch's answer $sha.json was removed"
  oc init --quiet --data-dir "$OC_TMP/replayed" >/dev/null
  oc series set-range WTI --data-dir "$OC_TMP/replayed" --min 40.1 --max 1000 >/dev/null
  out=$(oc ingest --data-dir "$OC_TMP/replayed" --source market --replay "$manifest" --on-error skip 2>&1) ||
    fail "the committed fetch's manifest does not replay: $out"
  assert_contains "$out" "29 inserted"
  assert_eq "$(find "$twin_eia" -name '*.tmp.*' | wc -l)" 0 "temporary files left by the two fetches"
fi
echo "ingest_market_raw: ok"
