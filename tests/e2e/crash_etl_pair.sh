#!/usr/bin/env bash
# e2e: `oilcast etl` killed at every rename and every fsync it makes (strace's syscall injection
# delivers SIGKILL there) leaves its two files, the table and the lake partition, as one pair: once the
# next command has opened the data directory they are both the old version or both the new one, no
# temporary file and no journal is left behind. Also proves the test bites: some kill points leave a
# mixed pair on disk until that next command runs.
source "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "strace not installed (scripts/deps.sh installs it): skipped" >&2; exit 77; }
tmp="$OC_TMP"
dd="$tmp/data"
oc init --data-dir "$dd" >/dev/null
oc simulate market --days 1500 --seed 11 --series WTI --out "$tmp/sim.csv" >/dev/null
oc ingest --data-dir "$dd" --source simulated --csv-path "$tmp/sim.csv" --series WTI --quiet
table="$dd/processed/training_data.parquet"
part="$dd/processed/training/series=WTI/part-0.parquet"

old_run() { oc etl --data-dir "$dd" --quiet --horizon 3 >/dev/null; }
new_run=(etl --data-dir "$dd" --quiet --horizon 5)
oc "${new_run[@]}" >/dev/null
cp "$table" "$tmp/new.parquet"
old_run
cp "$table" "$tmp/old.parquet"
cmp -s "$tmp/old.parquet" "$tmp/new.parquet" && fail "the two runs write the same table: the test would prove nothing"

mixed=0
for call in rename fsync; do
  n="$(strace -f -qq -e trace="$call" -o "$tmp/trace" "$OILCAST_BIN" "${new_run[@]}" >/dev/null 2>&1; grep -c "$call(" "$tmp/trace")"
  ((n > 0)) || fail "etl made no $call call"
  for ((k = 1; k <= n; k++)); do
    old_run
    strace -f -qq -o /dev/null -e trace="$call" -e inject="$call":signal=KILL:when="$k" \
      "$OILCAST_BIN" "${new_run[@]}" >/dev/null 2>&1 && fail "etl was not killed at $call #$k"
    cmp -s "$table" "$part" || mixed=$((mixed + 1))
    oc status --data-dir "$dd" >/dev/null 2>&1 || fail "status after a kill at $call #$k"
    cmp -s "$table" "$part" || fail "killed at $call #$k of $n: table and partition differ after recovery"
    cmp -s "$table" "$tmp/old.parquet" || cmp -s "$table" "$tmp/new.parquet" ||
      fail "killed at $call #$k: the table is neither the old nor the new one"
    left="$(find "$dd/processed" -name '*.tmp.*' -o -name '.publish-journal')"
    [[ -z "$left" ]] || fail "killed at $call #$k: left behind: $left"
  done
done
((mixed > 0)) || fail "no kill point left a mixed pair before recovery: the injection did not hit the publish"
echo "etl killed at every rename and fsync: pair consistent after recovery ($mixed kill points needed it)"
