# ingest_market_raw.sh: a market fetch writes its answers into the raw zone on a thread of their own
# while the batch reads and inserts the rows (src/ingest/market.c); the batch must still commit only
# once every answer is durable. An answer that cannot be written (a directory holds the name of its
# temporary file, <answer>.tmp.<pid>) fails the fetch with exit 1 and the file named, and leaves the
# store and the raw zone as they were; once the name is free the same fetch commits.
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
echo "ingest_market_raw: ok"
