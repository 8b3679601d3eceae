#!/usr/bin/env bash
# End-to-end: findings of an adversarial review of `oilcast serve`, each failing before its fix.
# - A path is percent-decoded once: libmicrohttpd decodes it, so the router must not decode it again
#   (/v1/series/%2557TI named the series WTI, /static/index%252ehtml served index.html).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
"$OILCAST_BIN" init --data-dir "$dir" >/dev/null 2>&1
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
writer=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name writer --scope write)
doomed=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name doomed --scope read)
printf 'Date,Price\n2024-12-23,69.24\n2024-12-24,70.10\n' >"$OC_TMP/wti.csv"
"$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null 2>&1
serve_start "$dir"
R=(-H "Authorization: Bearer $reader")

# --- one decoding: %25 is a literal '%', never the start of a second escape ---
expect_status 200 GET /v1/series/%57TI "${R[@]}" >/dev/null # %57 is 'W'
expect_status 404 GET /v1/series/%2557TI "${R[@]}" >/dev/null
src=${OILCAST_SOURCE_DIR:-$(dirname "$0")/../..}
if [[ -f "$src/web/index.html" ]]; then
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/static/index%2ehtml") == 200 ]] || fail "/static/index%2ehtml"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/static/index%252ehtml") == 404 ]] ||
    fail "/static/index%252ehtml was decoded twice and served index.html"
fi

serve_stop
echo "serve_paths_and_revocation: ok"
