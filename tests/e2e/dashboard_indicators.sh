#!/usr/bin/env bash
# The dashboard's indicators (web/indicators.js) against TA-Lib's output for the real WTI series.
# Needs node and the shared data: skips (77) without them unless CI=true.
set -euo pipefail
src=${OILCAST_SOURCE_DIR:?}
data=${OILCAST_TEST_DATA:-$src/../shared/data}
skip() { if [[ "${CI:-}" == true ]]; then echo "FAIL (CI): $*" >&2; exit 1; fi; echo "skip: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
[[ -f "$data/talib/wti-indicators.csv" ]] || skip "no $data/talib/wti-indicators.csv"
exec node "$src/tests/browser/indicators.test.js" "$data"
