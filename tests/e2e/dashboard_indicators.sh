#!/usr/bin/env bash
# The dashboard's indicators (web/indicators.js) against TA-Lib's output for the real WTI series.
# Needs node and the shared data: skips (77) without them unless CI=true.
set -euo pipefail
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
need_data
command -v node >/dev/null || skip "node is not installed"
exec node "$src/tests/browser/indicators.test.js" "$data"
