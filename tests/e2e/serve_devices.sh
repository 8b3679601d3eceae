#!/usr/bin/env bash
# End-to-end: the device registry over HTTP (admin scope). POST /v1/devices registers a device and
# answers with its password once (the password's hash is in DATA_DIR/broker/passwd, which the server
# rewrote because `oilcast broker config` made that directory); the same id again is 409, a bad field
# 422 naming it, a read key 403; GET /v1/devices lists what `oilcast device list --format json` lists;
# DELETE /v1/devices/{id} revokes (404 for an unknown id) and takes the device out of passwd. Every
# response is validated against docs/openapi.yaml (serve_helpers.bash).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
reader=$(oc apikey create --data-dir "$dir" --name reader --scope read 2>/dev/null)
oc broker config --data-dir "$dir" --port 1883 >/dev/null 2>&1
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin" -H "Content-Type: application/json")

created=$(expect_status 201 POST /v1/devices "${A[@]}" -d '{"id":"tank-7","type":"tank_level","site":"cushing"}')
assert_contains "$created" '"device":{"id":"tank-7","site":"cushing","type":"tank_level","unit":"m","valid_min":0.0,"valid_max":30.0,"interval_seconds":300'
assert_contains "$created" '"broker":{"synced":true,"reloaded":false}'
password=$(sed -nE 's/.*"password":"([0-9a-f]{32})".*/\1/p' <<<"$created")
[[ -n $password ]] || fail "no password in $created"
grep -q '^tank-7:\$7\$101\$' "$dir/broker/passwd" || fail "the server did not rewrite passwd"
! grep -q "$password" "$dir/broker/passwd" || fail "the password itself is in passwd"
expect_status 201 POST /v1/devices "${A[@]}" \
  -d '{"id":"flow-1","type":"pipeline_flow","unit":"bbl/h","valid_min":1,"valid_max":900,"interval_seconds":15}' >/dev/null
body=$(expect_status 409 POST /v1/devices "${A[@]}" -d '{"id":"tank-7","type":"tank_level"}')
assert_contains "$body" '"code":"device_exists"'
body=$(expect_status 422 POST /v1/devices "${A[@]}" -d '{"id":"tank/8","type":"tank_level"}')
assert_contains "$body" "letters, digits"
body=$(expect_status 422 POST /v1/devices "${A[@]}" -d '{"id":"tank-8","type":"tank"}')
assert_contains "$body" "unknown device type"
body=$(expect_status 422 POST /v1/devices "${A[@]}" -d '{"id":"tank-8","type":"tank_level","colour":"red"}')
assert_contains "$body" "unknown field 'colour'"
expect_status 422 POST /v1/devices "${A[@]}" -d '{"id":"oilcast-subscriber","type":"tank_level"}' >/dev/null
expect_status 400 POST /v1/devices "${A[@]}" -d '{"id":' >/dev/null
expect_status 403 POST /v1/devices -H "Authorization: Bearer $reader" -d '{"id":"x","type":"tank_level"}' >/dev/null
expect_status 403 GET /v1/devices -H "Authorization: Bearer $reader" >/dev/null

list=$(expect_status 200 GET /v1/devices "${A[@]}")
assert_eq "$list" "{\"devices\":$(oc device list --data-dir "$dir" --format json)}" "API list = CLI list"
revoked=$(expect_status 200 DELETE /v1/devices/flow-1 "${A[@]}")
assert_contains "$revoked" '"id":"flow-1"'
assert_contains "$revoked" '"broker":{"synced":true,"reloaded":false}'
[[ $revoked != *'"revoked_at":null'* ]] || fail "not revoked: $revoked"
! grep -q '^flow-1:' "$dir/broker/passwd" || fail "a revoked device is still in passwd"
expect_status 404 DELETE /v1/devices/nobody "${A[@]}" >/dev/null
active=$(expect_status 200 GET /v1/devices "${A[@]}")
assert_contains "$active" '"id":"tank-7"'
[[ $active != *flow-1* ]] || fail "a revoked device is listed: $active"
all=$(expect_status 200 GET "/v1/devices?all=true" "${A[@]}")
assert_contains "$all" '"id":"flow-1"'
expect_status 400 GET "/v1/devices?all=yes" "${A[@]}" >/dev/null
echo "serve_devices: registry served, broker files kept in step, validated"
