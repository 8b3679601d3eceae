#!/usr/bin/env bash
# e2e serve_price_edges: prices at the API's edges (issue 13). A price outside its series' range is a
# 422 naming the field, whether POSTed as an observation or given to an invocation (historical_prices,
# current_price); a range set by `oilcast series set-range` applies to the running server's next request;
# a number too small for a double (1e-400, which JSON readers turn into 0) is a 400 naming its field.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
dir=$OC_TMP/data
admin=$(serve_data_simulated "$dir" 7 "$OC_TMP/sim.csv")
oc train --data-dir "$dir" --quiet --model naive --series WTI --deploy --endpoint-name ep >/dev/null
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin" -H "Content-Type: application/json")

body=$(expect_status 422 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2030-01-02","value":70},{"date":"2030-01-03","value":1.7e308}]}')
assert_contains "$body" "observations[1].value: price 1.7e+308 outside WTI's default range -1000..100000" "observation out of range"
body=$(expect_status 422 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"historical_prices":[60,70,80,1e308]}')
assert_contains "$body" "historical_prices[3]: price 1e+308 outside WTI's default range" "given history out of range"
body=$(expect_status 422 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"historical_prices":[{"date":"2030-01-02","price":60},{"date":"2030-01-03","price":-2000}]}')
assert_contains "$body" "historical_prices[1].price: price -2000 outside" "dated given history out of range"
body=$(expect_status 422 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"historical_prices":[60,70],"current_price":1e6}')
assert_contains "$body" "current_price: price 1000000 outside" "current price out of range"
expect_status 200 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"historical_prices":[60,70,-37.63,20],"forecast_days":2}' >/dev/null

# A range of its own, set by another process: the next request is held to it.
oc series set-range --data-dir "$dir" WTI --min 10 --max 200 >/dev/null
body=$(expect_status 422 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2030-01-02","value":5}]}')
assert_contains "$body" "observations[0].value: price 5 outside WTI's range 10..200" "own range"
expect_status 200 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2030-01-02","value":150}]}' >/dev/null

# Underflow in any JSON body: the field is named, nothing is read as 0.
body=$(expect_status 400 POST /v1/endpoints/ep/invocations "${A[@]}" -d '{"historical_prices":[60,
1e-400]}')
assert_contains "$body" "line 2: historical_prices[1]: 1e-400 is too small for a double" "underflow in an invocation"
body=$(expect_status 400 POST /v1/series/WTI/observations "${A[@]}" -d '{"observations":[{"date":"2030-01-05","value":-7e-999}]}')
assert_contains "$body" "observations[0].value: -7e-999 is too small" "underflow in an observation"
echo "serve_price_edges: ok"
