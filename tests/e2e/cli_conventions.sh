#!/usr/bin/env bash
# e2e: the command line's conventions on a simulated series: usage errors exit 2 and runtime errors 1
# in every command (a bad option value found by the pipeline step included), one error per mistake,
# --quiet leaves stderr empty, `init` labels its admin key on stderr with the key alone on stdout,
# table headers in one case, and `status` / `apikey list` in csv and json.
source "$(dirname "$0")/lib.sh"

# exits CODE CMD...: runs oilcast CMD, expects exit CODE; keeps its stderr in $OC_TMP/err.
exits() {
  local want=$1 got=0
  shift
  oc "$@" >/dev/null 2>"$OC_TMP/err" || got=$?
  [[ $got == "$want" ]] || fail "oilcast $*: exit $got, expected $want ($(cat "$OC_TMP/err"))"
}

admin=$(oc init 2>"$OC_TMP/init.err")
[[ $admin =~ ^ock_[0-9a-f_]+$ ]] || fail "init's stdout is not the key alone: '$admin'"
assert_contains "$(cat "$OC_TMP/init.err")" "admin API key" "init labels the key"
[[ -z $(oc init 2>/dev/null) ]] || fail "a second init prints a key"

oc simulate market --days 700 --seed 3 --series WTI --out "$OC_TMP/sim.csv" --quiet >/dev/null
oc ingest --source historical --csv-path "$OC_TMP/sim.csv" --quiet >/dev/null

# usage errors: 2, whether the CLI or the pipeline step finds them
exits 2 etl --horizon 0
exits 2 etl --val-frac 1.5
exits 2 backtest --models foo
exits 2 backtest --horizon 0
exits 2 train --model nonsense
exits 2 train --model ar --deploy --endpoint-name 'bad name!'
exits 2 serve --listen nonsense
exits 2 ingest --source nowhere --csv-path "$OC_TMP/sim.csv"
exits 2 status --format yaml
exits 2 apikey list --format yaml
exits 2 series list --bogus
[[ $(wc -l <"$OC_TMP/err") == 2 ]] || fail "series list --bogus: not one error and one hint: $(cat "$OC_TMP/err")"
assert_contains "$(cat "$OC_TMP/err")" "'--bogus'" "the error names the option"
# runtime errors: 1
exits 1 etl --series NOPE
exits 1 backtest --series NOPE
exits 1 train --model ar --series NOPE
exits 1 forecast --endpoint-name nowhere

# --quiet: nothing on stderr from a whole session
for cmd in "etl" "train --model ar --deploy" "backtest --models naive,ar --horizon 3" "forecast" \
           "apikey create --name r --scope read" "apikey revoke r" "status" "models list"; do
  # shellcheck disable=SC2086
  oc $cmd --quiet >/dev/null 2>"$OC_TMP/err" || fail "oilcast $cmd --quiet failed: $(cat "$OC_TMP/err")"
  [[ ! -s $OC_TMP/err ]] || fail "oilcast $cmd --quiet wrote on stderr: $(cat "$OC_TMP/err")"
done

# one case convention: table headers are lower case words; metric abbreviations keep their spelling
for cmd in "models list" "series list" "apikey list" "backtest --models naive --horizon 2 --format table" "forecast"; do
  # shellcheck disable=SC2086
  header=$(oc $cmd --quiet | grep -m1 -E '^(version|series|id|model|date) ')
  words=$(sed -E 's/(^| )(MAE|RMSE|MAPE%|MASE|relMAE|DM p)( |$)/ /g; s/(^| )(MAE|RMSE|MAPE%|MASE|relMAE|DM p)( |$)/ /g' <<<"$header")
  [[ -n $header && $words == "${words,,}" ]] || fail "oilcast $cmd: header '$header' is not lower case"
done

# status and apikey list as csv and json
python3 - "$(oc status --format json)" "$(oc apikey list --format json)" <<'PY' || fail "status/apikey json"
import json, sys
status = {r["field"]: r["value"] for r in json.loads(sys.argv[1])}
assert status["series"] == 1 and status["observations"] == 700 and status["rows:WTI"] == 700, status
keys = json.loads(sys.argv[2])
assert [k["name"] for k in keys] == ["admin", "r"] and keys[1]["revoked_at"] is not None, keys
assert keys[0]["scope"] == "admin" and keys[0]["revoked_at"] is None, keys
PY
assert_eq "$(oc status --format csv | head -1)" "field,value" "status csv header"
assert_contains "$(oc status --format csv)" "observations,700" "status csv row"
assert_eq "$(oc apikey list --format csv | head -1)" "id,name,scope,rate_per_second,burst,created_at,revoked_at" \
  "apikey csv header"
assert_eq "$(oc apikey list --format csv | grep -c ',admin,admin,')" "1" "apikey csv row"
echo "ok"
