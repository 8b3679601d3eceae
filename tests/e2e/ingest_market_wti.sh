# ingest_market_wti.sh: the whole real WTI history (../shared/data/wti-daily.csv, 9,821 rows) served by
# tests/support/mock_market in EIA API v2's shape and fetched with `oilcast ingest --source market
# --provider eia`: two pages (5,000 + 4,821), the stored series equal to the file row for row (-36.98 on
# 2020-04-20 included), a re-run inserting 0, and the same rows through FRED and Alpha Vantage.
source "$(dirname "$0")/ingest_market_helpers.bash"
oc_require_test_data
WTI="$DATA/wti-daily.csv"
mock_start "$WTI"
oc init --quiet >/dev/null

out=$(oc ingest --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>"$OC_TMP/err")
assert_contains "$out" "eia:RWTC: 9821 rows read (eia, 1 series): 9821 inserted, 0 updated, 0 unchanged, 0 rejected"
assert_contains "$(cat "$OC_TMP/err")" "2 pages in 2 requests, from the first date"
diff <(oc series show WTI --format csv | tail -n +2) <(tail -n +2 "$WTI" | tr -d '\r') >"$OC_TMP/diff" ||
  { head "$OC_TMP/diff" >&2; fail "the fetched WTI history differs from $WTI"; }
assert_eq "$(oc series show WTI --from 2020-04-20 --to 2020-04-20 --format csv | tail -1)" "2020-04-20,-36.98"

out=$(oc ingest --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>/dev/null)
assert_contains "$out" "0 inserted, 0 updated"

for provider in fred alphavantage; do
  out=$(oc ingest --source market --provider "$provider" --series "WTI-$provider" \
    --symbol "$([[ $provider == fred ]] && echo DCOILWTICO || echo WTI)" --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" 2>/dev/null)
  assert_contains "$out" "9821 inserted, 0 updated, 0 unchanged, 0 rejected"
  diff <(oc series show "WTI-$provider" --format csv) <(oc series show WTI --format csv) >/dev/null ||
    fail "$provider: stored rows differ from EIA's"
done
echo "ingest_market_wti: ok"
