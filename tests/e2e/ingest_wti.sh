# ingest_wti.sh: the historical import end to end with the real binary and the real EIA WTI file:
# init, import (9,821 rows), re-import (0 changes), last 3 rows equal the file's, a corrupted copy is
# refused naming its line and writes nothing, so is a skip import with no good row, CSV output
# round-trips, a killed import leaves the store as it was, a failing import leaves the raw copy a
# concurrent one of the same bytes committed, the advice for prices outside a new series' range works,
# exit codes and usage.
source "$(dirname "$0")/lib.sh"
oc_require_test_data
WTI="$DATA/wti-daily.csv"

assert_exit 1 oc status
assert_contains "$(oc status 2>&1 || true)" "run: oilcast init --data-dir"
oc init --quiet
oc init --quiet # idempotent
for d in raw/market_data raw/iot_data raw/historical_data processed/training processed/inference models/artifacts \
  models/endpoints forecasts; do
  [[ -d "$OILCAST_DATA_DIR/$d" ]] || fail "init did not create $d"
done

out=$(oc ingest --source historical --csv-path "$WTI" 2>"$OC_TMP/err")
assert_contains "$out" "9821 rows read"
assert_contains "$out" "9821 inserted, 0 updated"
assert_contains "$(cat "$OC_TMP/err")" "negative value flagged: WTI 2020-04-20 -36.98"
sha=$(sha256sum "$WTI" | cut -d' ' -f1)
ls "$OILCAST_DATA_DIR"/raw/historical_data/*/"$sha.csv" >/dev/null || fail "no lineage copy"
cmp "$WTI" "$OILCAST_DATA_DIR"/raw/historical_data/*/"$sha.csv"

out=$(oc ingest --csv-path "$WTI" 2>/dev/null)
assert_contains "$out" "0 inserted, 0 updated"

assert_eq "$(oc series show WTI --last 3 --format csv | tail -n 3)" "$(tail -n 3 "$WTI" | tr -d '\r')" "last 3 rows"
assert_eq "$(oc series show WTI --last 3 --format csv | head -n 1)" "date,value"
assert_contains "$(oc series list)" "9821"
# JSON outputs parse (node is a project dependency) and hold the right values.
oc series list --format json |
  node -e 'const d = JSON.parse(require("fs").readFileSync(0)); if (d[0].rows !== 9821) process.exit(1)'
oc series show WTI --from 2020-04-17 --to 2020-04-21 --format json |
  node -e 'const d = JSON.parse(require("fs").readFileSync(0)); if (d.map(r => r.value).join() !== "18.31,-36.98,8.91") process.exit(1)'

# A corrupted copy: a bad date on line 5000 is named, exit 1, nothing written.
sed '5000s/^[0-9-]*,/2019-02-30,/' "$WTI" >"$OC_TMP/wti-bad.csv"
sed -i '6000s/^\([0-9-]*\),.*/\1,12.3.4/' "$OC_TMP/wti-bad.csv"
code=0
oc ingest --csv-path "$OC_TMP/wti-bad.csv" >"$OC_TMP/out" 2>"$OC_TMP/err" || code=$?
assert_eq "$code" 1 "corrupted import exit status"
assert_contains "$(cat "$OC_TMP/err")" "wti-bad.csv:5000: bad date '2019-02-30'"
assert_contains "$(cat "$OC_TMP/err")" "wti-bad.csv:6000: bad value '12.3.4'"
assert_contains "$(cat "$OC_TMP/err")" "nothing written"
assert_contains "$(oc status)" "observations    9821"

# --on-error skip with bad rows and not one good row: nothing to write, so nothing is written (it
# once left the series, empty, and exited 0), exit 1 saying so.
printf 'Date,Price\n2024-01-02,1e300\n2024-01-03,abc\n' >"$OC_TMP/none-good.csv"
code=0
oc ingest --csv-path "$OC_TMP/none-good.csv" --series NONE --on-error skip >"$OC_TMP/out" 2>"$OC_TMP/err" || code=$?
assert_eq "$code" 1 "skip with no usable row: exit status"
assert_contains "$(cat "$OC_TMP/err")" "none-good.csv: no row was usable (2 of 2 rows rejected, 0 missing); nothing written"
assert_exit 1 oc series show NONE

# Round trip: CSV output re-imports to the identical state, here and in a fresh directory.
oc series show WTI --format csv >"$OC_TMP/wti-out.csv"
assert_contains "$(oc ingest --csv-path "$OC_TMP/wti-out.csv" 2>/dev/null)" "0 inserted, 0 updated, 9821 unchanged"
oc init --quiet --data-dir "$OC_TMP/fresh"
oc ingest --quiet --data-dir "$OC_TMP/fresh" --csv-path "$OC_TMP/wti-out.csv" >/dev/null 2>&1
cmp <(oc series show WTI --format csv --data-dir "$OC_TMP/fresh") "$OC_TMP/wti-out.csv"
cmp <(oc series show WTI --format json --data-dir "$OC_TMP/fresh") <(oc series show WTI --format json)

# Killed mid-import: the store is exactly as before. The import is killed while it reads and stages
# its rows, once its lineage copy is in the raw zone (written beside the reading, before any commit;
# a kill during the short move into the store is SQLite's own atomic commit).
before=$(oc series show WTI --format csv | sha256sum)
# Large enough that even a quiet machine needs about a second to import it (fewer rows under ASan,
# where everything is slower anyway).
kill_series=$([[ "${OILCAST_SANITIZED:-0}" == 1 ]] && echo 10 || echo 30)
oc simulate market --quiet --days 30000 --series KILL --count "$kill_series" --start-date 1800-01-01 --out "$OC_TMP/big.csv"
raw_files() { find "$OILCAST_DATA_DIR/raw" -type f | wc -l; }
# import_started CSV: starts importing CSV in the background ($pid; killed at the test's end if it still
# runs) and returns once its raw copy is being written (more files under raw/ than $raw_before) or it
# ended
import_started() {
  raw_before=$(raw_files)
  "$OILCAST_BIN" ingest --quiet --source simulated --csv-path "$1" >/dev/null 2>&1 &
  pid=$!
  oc_kill_later "$pid"
  for _ in $(seq 1 2000); do
    kill -0 "$pid" 2>/dev/null || break
    (($(raw_files) > raw_before)) && break
    sleep 0.005
  done
}
import_started "$OC_TMP/big.csv"
kill -0 "$pid" 2>/dev/null || fail "the import finished before it could be interrupted"
(($(raw_files) > raw_before)) || fail "the import never started reading"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_contains "$(oc status)" "observations    9821"
assert_eq "$(oc series show WTI --format csv | sha256sum)" "$before" "WTI after the killed import"
assert_exit 1 oc series show KILL-0001

# Two imports of the same bytes (two files) share the name of their raw copy: the one that fails must
# not remove the copy the other committed naming (it did: the run was left naming a removed file).
# The failing import is stopped once its copy is being written, the other runs whole, then it goes on.
cp "$OC_TMP/big.csv" "$OC_TMP/twin-a.csv"
echo "1800-01-01,KILL-0001,not-a-price" >>"$OC_TMP/twin-a.csv"
cp "$OC_TMP/twin-a.csv" "$OC_TMP/twin-b.csv"
import_started "$OC_TMP/twin-a.csv"
kill -STOP "$pid" 2>/dev/null || true
state=
for _ in $(seq 1 200); do # the signal takes effect a moment later
  state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)
  [[ -z $state || $state == [TZ] ]] && break
  sleep 0.005
done
if [[ $state != T ]]; then
  kill -CONT "$pid" 2>/dev/null || true # else the clean-up would wait for a stopped process
  fail "the failing import ended before it could be stopped"
fi
out=$(oc ingest --source simulated --csv-path "$OC_TMP/twin-b.csv" --on-error skip 2>&1)
kill -CONT "$pid"
code=0
wait "$pid" || code=$?
assert_eq "$code" 1 "exit status of the import with a bad row"
kept=$(grep -o 'original kept as [^ ]*' <<<"$out" | cut -d' ' -f4)
[[ -n "$kept" ]] || fail "the skip import kept no raw copy: $out"
cmp "$kept" "$OC_TMP/twin-b.csv" || fail "the committed import's raw copy $kept is gone"

# The advice for prices outside a new series' default range works as given (set-range once answered
# "no series named"): it creates the series, empty, with the import's unit and source and its range.
printf 'Date,Price\n2024-01-02,150000\n2024-01-03,150001.5\n' >"$OC_TMP/rub.csv"
rub_import=(ingest --csv-path "$OC_TMP/rub.csv" --series URALS --unit 'RUB per t' --source simulated)
assert_exit 1 oc "${rub_import[@]}" 2>"$OC_TMP/err"
advice=$(grep -o 'oilcast series set-range URALS [^)]*' "$OC_TMP/err" | head -n 1)
assert_eq "$advice" "oilcast series set-range URALS --min A --max B --unit 'RUB per t' --source simulated"
advice=${advice/--min A --max B/--min 0 --max 1e6}
assert_eq "$(eval "oc ${advice#oilcast }")" "URALS (created, no rows yet) accepts prices 0..1000000 (its own range)"
assert_contains "$(oc "${rub_import[@]}" 2>/dev/null)" "2 inserted"
assert_contains "$(oc series list)" "RUB per t  simulated             2"
assert_exit 1 oc series set-range URALS --min 0 --max 1e6 --unit USD/bbl # a stored series keeps its unit

# CLI conventions.
assert_exit 0 oc --version
assert_exit 0 oc ingest --help
assert_exit 2 oc ingest
assert_exit 2 oc ingest --csv-path x --on-error maybe
assert_exit 2 oc series show WTI --from 2024-02-30
assert_exit 2 oc nonsense
assert_exit 1 oc ingest --csv-path "$OC_TMP/does-not-exist.csv"
oc ingest --log-format json --csv-path "$WTI" 2>"$OC_TMP/err" >/dev/null || fail "json-logged import: $(cat "$OC_TMP/err")"
head -n 1 "$OC_TMP/err" | grep -q '^{"time":' || fail "--log-format json"
echo "ok"
