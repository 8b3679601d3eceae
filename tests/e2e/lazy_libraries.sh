#!/usr/bin/env bash
# e2e lazy_libraries: the oilcast executable links none of libcurl, libpq, libmicrohttpd and
# libmosquitto (core/dynlib.h's tables load them on first use), so a command loads only those it calls:
# --version and a store's reads none of them, a market fetch libcurl alone, a PostgreSQL URL libpq
# alone. The loader's own record of what it loaded (LD_DEBUG=files) is the evidence.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lazy='libcurl\.so|libpq\.so|libmicrohttpd\.so|libmosquitto\.so'
needed=$(readelf -d "$OILCAST_BIN" | grep NEEDED || true)
[[ -n "$needed" ]] || fail "readelf listed no NEEDED library of $OILCAST_BIN"
if grep -E "$lazy" <<<"$needed"; then fail "the executable links a library it should load on first use"; fi

# loaded() CMD...: the lazy libraries the command's process loaded, sorted, one name a line
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -oE "file=[^ ]*($lazy)[^ ]*" | sed 's|.*/||; s|^file=||' | sort -u || true; }

assert_eq "$(loaded "$OILCAST_BIN" --version)" "" "--version loads none of them"
oc init --quiet >/dev/null
assert_eq "$(loaded "$OILCAST_BIN" series list)" "" "a store's read loads none of them"
# a fetch from a port nothing listens on: libcurl only (the fetch fails, as it should)
port=$(free_port)
got=$(loaded "$OILCAST_BIN" ingest --source market --provider eia --api-key e2e-key-0123456789 \
  --base-url "http://127.0.0.1:$port" --time-limit 1)
assert_eq "$got" "libcurl.so.4" "a market fetch loads libcurl alone"
got=$(loaded "$OILCAST_BIN" init --data-dir "$OC_TMP/pg" --store "postgresql://127.0.0.1:$port/none?connect_timeout=1")
assert_eq "$got" "libpq.so.5" "a PostgreSQL store loads libpq alone"
echo "e2e lazy_libraries: ok"
