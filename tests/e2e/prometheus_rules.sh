#!/usr/bin/env bash
# prometheus_rules.sh: deploy/prometheus/oilcast-rules.yml is valid Prometheus (promtool check rules),
# its unit tests pass (promtool test rules: pending, firing after `for`, resolved), and the built-in
# evaluator's copy of the same rules (deploy/prometheus/alerts.json) passes `oilcast alerts check`
# and names the same alerts with the same thresholds. Skips (77) without promtool (Debian
# `prometheus`, scripts/deps.sh), fails under CI=true.
source "$(dirname "$0")/lib.sh"
DEPLOY="$(dirname "$0")/../../deploy/prometheus"

if ! command -v promtool >/dev/null; then
  [[ "${CI:-}" == true ]] && fail "promtool is missing (scripts/deps.sh installs Debian's prometheus)"
  echo "skip: promtool not installed"
  exit 77
fi
out=$(promtool check rules "$DEPLOY/oilcast-rules.yml")
assert_contains "$out" "SUCCESS: 5 rules found" "promtool check rules"
(cd "$DEPLOY" && promtool test rules oilcast-rules.test.yml) || fail "promtool test rules"

oc init --data-dir "$OILCAST_DATA_DIR" >/dev/null
cp "$DEPLOY/alerts.json" "$OILCAST_DATA_DIR/alerts.json"
assert_contains "$(oc alerts check)" "5 rule(s), 1 webhook(s), all valid" "alerts check"
# the same alerts with the same thresholds in both files: "name op threshold for" per rule
prom=$(grep -E '^ +- alert:|^ +expr:|^ +for:' "$DEPLOY/oilcast-rules.yml" | paste - - - |
  sed -E 's/ *- alert: ([A-Za-z]+)\t *expr: [a-z0-9_]+(\{[^}]*\})? ([<>]) ([0-9.]+)\t *for: ([0-9a-z]+)/\1 \3 \4 \5/')
ours=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rules;
  for (const x of r) console.log(`${x.alert} ${"above" in x ? ">" : "<"} ${x.above ?? x.below} ${x.for}`);
' "$DEPLOY/alerts.json")
assert_eq "$prom" "$ours" "the two rule files agree"
echo "ok: promtool check and test, and the built-in rules agree"
