#!/usr/bin/env bash
# End-to-end: the operations loop closed through the real binary and server. A rule of DIR/alerts.json
# (the series has not been updated for years: SeriesStale) labelled action="retrain" and
# endpoint=wti fires at `oilcast alerts evaluate`, whose webhook is oilcast's own admin route
# POST /v1/admin/alerts, authenticated with the admin key kept in a credentials_file (never in the
# rules file); the server turns it into a pending retraining trigger, and the next `oilcast retrain`
# trains a challenger and deploys it in shadow. Every response is validated against docs/openapi.yaml.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
oc simulate market --days 300 --seed 11 --series WTI --start-date 2020-01-02 --out "$OC_TMP/wti.csv" >/dev/null
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/wti.csv" --series WTI --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar:max_p=0:window=20 --series WTI --deploy --endpoint-name wti >/dev/null
serve_start "$dir" --threads 2 --access-log off --scheduler off
printf '%s\n' "$admin" >"$dir/alertmanager.key"
cat >"$dir/alerts.json" <<JSON
{"webhooks": [{"name": "oilcast", "url": "$SERVE_URL/v1/admin/alerts", "credentials_file": "alertmanager.key",
               "retries": 1, "backoff": "50ms"}],
 "rules": [{"alert": "SeriesStale", "metric": "oilcast_series_staleness_trading_days", "above": 2, "for": "0s",
            "labels": {"action": "retrain", "endpoint": "wti"},
            "annotations": {"summary": "{{ \$labels.series }} is {{ \$value }} trading days behind"}}]}
JSON
out=$(oc alerts evaluate --data-dir "$dir")
assert_contains "$out" "1 firing, 1 state change(s), 1 notification(s) sent" "the alert reached oilcast's admin route"
out=$(oc retrain --data-dir "$dir" --endpoint wti)
assert_contains "$out" "challenger v2 under evaluation" "the alert's trigger trained a challenger"
got=$(expect_status 200 GET /v1/endpoints/wti/decisions -H "Authorization: Bearer $admin")
actions=$(json_get "$got" '",".join(x["action"] + ":" + x["trigger"] for x in d["decisions"])')
assert_eq "$actions" "deploy:alert,training:alert,trigger:alert" "decisions"

# Without the key the admin route refuses the webhook, and the failure is the step's, named.
printf 'ock_wrong\n' >"$dir/alertmanager.key"
sed -i 's/"SeriesStale"/"SeriesStaleAgain"/' "$dir/alerts.json"
oc alerts evaluate --data-dir "$dir" >"$OC_TMP/out" 2>"$OC_TMP/err" && fail "a refused webhook was not reported"
assert_contains "$(cat "$OC_TMP/err")" "answered HTTP 401" "the refusal named"
echo "alert_retrain: an alert reached POST /v1/admin/alerts with the key of its credentials_file and retrained"
