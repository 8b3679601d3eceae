#!/usr/bin/env bash
# Runs every ```sh example of docs/api.md against a real `oilcast serve` (data, keys, a backtest and a
# by-year report set up first): the documentation cannot drift from what the server does. Each block runs with `bash -e`,
# so any failing command (curl -f on an error status) fails the test.
source "$(dirname "$0")/serve_helpers.bash"
docs=${OILCAST_SOURCE_DIR:-$(dirname "$0")/../..}/docs/api.md
dir=$OC_TMP/data
export ADMIN_KEY READ_KEY WRITE_KEY URL
ADMIN_KEY=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
READ_KEY=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
WRITE_KEY=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name writer --scope write)
printf 'Date,Price\n' >"$OC_TMP/wti.csv"
"$OILCAST_BIN" simulate market --days 400 --seed 3 --start-date 2023-06-01 --series WTI --out "$OC_TMP/sim.csv" >/dev/null 2>&1
grep -v "^#" "$OC_TMP/sim.csv" | tail -n +2 | awk -F, '$1 <= "2024-12-31"' >>"$OC_TMP/wti.csv"
"$OILCAST_BIN" ingest --data-dir "$dir" --source historical --csv-path "$OC_TMP/wti.csv" --series WTI >/dev/null 2>&1
"$OILCAST_BIN" backtest --data-dir "$dir" --series WTI --models naive,drift --start 2024-06-01 --end 2024-12-31 \
  --horizon 3 >/dev/null 2>&1
"$OILCAST_BIN" backtest --data-dir "$dir" --series WTI --models naive,drift --by-year --from-year 2024 --to-year 2024 \
  --horizon 3 >/dev/null 2>&1
serve_start "$dir" --access-log off
URL=$SERVE_URL

blocks=$OC_TMP/blocks
mkdir -p "$blocks"
/usr/bin/python3 - "$docs" "$blocks" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for i, block in enumerate(re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)):
    open("%s/%02d.sh" % (sys.argv[2], i), "w").write(block)
PY
count=0
for block in "$blocks"/*.sh; do
  out=$(bash -e "$block" 2>&1) || fail "docs/api.md example failed:
$(cat "$block")
--- output:
$out"
  count=$((count + 1))
done
((count >= 12)) || fail "only $count examples found in docs/api.md"
serve_stop
echo "serve_api_docs: $count examples ran"
