#!/usr/bin/env bash
# Lints docs/openapi.yaml with @redocly/cli (npm, pinned in package-lock.json) under
# tests/api/redocly.yaml: valid OpenAPI 3.1, every operation with an operationId, every example valid
# against its schema, no unused component; zero problems of any level. Offline: no telemetry, no
# remote reference.
source "$(dirname "$0")/lib.sh"
src=${OILCAST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
redocly=$src/node_modules/.bin/redocly
if [[ ! -x "$redocly" ]] || ! command -v node >/dev/null; then
  [[ "${CI:-}" == true ]] && fail "$redocly missing (npm ci)"
  echo "$redocly missing (npm ci): skipped" >&2
  exit 77
fi
out=$(cd "$src" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$redocly" lint \
  --config tests/api/redocly.yaml --format=stylish docs/openapi.yaml 2>&1) || fail "redocly lint:
$out"
grep -q 'Your API description is valid' <<<"$out" || fail "redocly lint did not report a valid description:
$out"
grep -qE '(warning|error) ' <<<"$out" && fail "redocly lint reported problems:
$out"
echo "openapi_lint: docs/openapi.yaml is valid OpenAPI 3.1 with no problems"
