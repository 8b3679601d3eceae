#!/usr/bin/env bash
# An installed `oilcast serve` serves the specification installed beside its dashboard
# (PREFIX/share/oilcast/openapi.yaml), not the source tree's: the installed copy is marked, the binary
# runs from another directory, and GET and HEAD /openapi.yaml must answer the marked file.
source "$(dirname "$0")/serve_helpers.bash"
build=${OILCAST_BUILD_DIR:-$(dirname "$OILCAST_BIN")}
prefix=$OC_TMP/prefix
cmake --install "$build" --prefix "$prefix" >"$OC_TMP/install.log" 2>&1 || fail "cmake --install: $(cat "$OC_TMP/install.log")"
spec=$prefix/share/oilcast/openapi.yaml
[[ -f "$spec" ]] || fail "cmake --install did not install $spec"
printf '# installed copy\n' >>"$spec"
OILCAST_BIN=$prefix/bin/oilcast
"$OILCAST_BIN" init --data-dir "$OC_TMP/data" >/dev/null 2>&1
cd "$OC_TMP"
serve_start "$OC_TMP/data" --access-log off
cmp -s <(curl -fsS "$SERVE_URL/openapi.yaml") "$spec" || fail "GET /openapi.yaml is not the installed copy"
[[ $(curl -fsSI "$SERVE_URL/openapi.yaml" | tr -d '\r' | sed -n 's/^Content-Length: //ip') == $(stat -c %s "$spec") ]] ||
  fail "HEAD /openapi.yaml: Content-Length"
serve_stop
echo "serve_openapi_installed: ok"
