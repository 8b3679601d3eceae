#!/usr/bin/env bash
# End-to-end: an endpoint whose model on disk is broken (one byte changed after registration). /readyz
# answers 503 naming it, and invoking the endpoint answers 503 endpoint_unavailable with the same
# reason (not 404 "no endpoint named"); an endpoint that does not exist is still 404.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
oc simulate market --days 400 --seed 5 --series WTI --out "$OC_TMP/sim.csv" >/dev/null
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/sim.csv" --series WTI --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar --series WTI --deploy --endpoint-name wti >/dev/null
printf ' ' | dd of="$dir/models/artifacts/v1/forecaster.json" bs=1 seek=3 conv=notrunc status=none
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
ready=$(expect_status 503 GET /readyz)
assert_contains "$ready" "was modified"
body=$(expect_status 503 POST /v1/endpoints/wti/invocations "${A[@]}" -d '{}')
assert_contains "$body" '"code":"endpoint_unavailable"'
assert_contains "$body" "was modified"
expect_status 404 POST /v1/endpoints/nope/invocations "${A[@]}" -d '{}' >/dev/null
echo "serve_broken_model: 503 with the reason, on /readyz and on invocation"
