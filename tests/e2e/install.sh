#!/usr/bin/env bash
# install.sh: `cmake --install BUILD --prefix P` and `make install PREFIX=P` install the same files:
# P/bin/oilcast, the dashboard in P/share/oilcast/web (plotly.min.js byte-identical to the npm
# package's), oilcast(1) listing every command of --help, bash completion of commands and options,
# and a systemd unit that systemd-analyze accepts (and rates well hardened). The installed binary,
# run with a clean environment from another directory, serves the dashboard from its own prefix:
# a marker added to the installed page shows in Chromium, the chart draws with no console error, and
# `oilcast dashboard --out` inlines the installed files.
# With plotly.min.js removed from the prefix, serve says so in one line at start-up naming the
# installed path (so the source tree's copy, which exists, is not used) and / answers with a page
# that says the same.
set -euo pipefail
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
build=${OILCAST_BUILD_DIR:?}
if grep -q '^OILCAST_TSAN:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "skip: a ThreadSanitizer build generates no man page or completion and is not installed"
  exit 77
fi
need_browser
work=$(mktemp -d)
server_pid=
cleanup() { # all of it whatever fails (the killed server's wait is non-zero), the test's status kept
  set +e
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the two ways to install agree; every file is there ----
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
make -C "$src" --no-print-directory install BUILD="$build" PREFIX="$work/prefix2" >/dev/null
diff <(cd "$prefix" && find . -type f | sort) <(cd "$work/prefix2" && find . -type f | sort) ||
  fail "cmake --install and make install installed different files"
for file in bin/oilcast share/oilcast/web/index.html share/oilcast/web/app.js share/oilcast/web/style.css \
            share/oilcast/web/plotly.min.js share/man/man1/oilcast.1 share/bash-completion/completions/oilcast \
            lib/systemd/system/oilcast.service; do
  [[ -f "$prefix/$file" ]] || fail "$file not installed"
done
[[ -x "$prefix/bin/oilcast" ]] || fail "bin/oilcast is not executable"
cmp -s "$prefix/share/oilcast/web/plotly.min.js" "$src/node_modules/plotly.js-dist-min/plotly.min.js" ||
  fail "the installed plotly.min.js is not the npm package's"

# ---- man page and completion carry every command and option of --help ----
commands=$("$prefix/bin/oilcast" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z]*\) .*/\1/p')
[[ $(wc -w <<<"$commands") -ge 10 ]] || fail "could not read the command table from --help: $commands"
manual=$(MANWIDTH=200 man -l "$prefix/share/man/man1/oilcast.1" 2>/dev/null)
for cmd in $commands; do
  grep -q "^   oilcast $cmd\$" <<<"$manual" || fail "oilcast(1) has no section for $cmd"
  while IFS= read -r line; do
    [[ -z "$line" ]] && continue
    [[ $manual == *"$line"* ]] || fail "oilcast(1) lacks this line of 'oilcast $cmd --help': $line"
  done < <("$prefix/bin/oilcast" "$cmd" --help | sed 's/^ *//')
done
complete_words() { # complete_words WORD... : what bash completes for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _oilcast; echo "${COMPREPLY[*]}"' \
    _ "$prefix/share/bash-completion/completions/oilcast" oilcast "$@"
}
[[ $(complete_words se) == "series serve" ]] || fail "completing 'se' gave '$(complete_words se)'"
for cmd in $commands; do
  offered=" $(complete_words "$cmd" -) "
  for option in $("$prefix/bin/oilcast" "$cmd" --help | grep -oE '^ +--[a-z][a-z0-9-]*' | tr -d ' '); do
    [[ $offered == *" $option "* ]] || fail "completion of '$cmd -' lacks $option"
  done
done
[[ $(complete_words serve --lis) == "--listen" ]] || fail "completing 'serve --lis' gave '$(complete_words serve --lis)'"

# ---- the systemd unit ----
unit=$prefix/lib/systemd/system/oilcast.service
grep -q "^ExecStart=$prefix/bin/oilcast serve " "$unit" || fail "the unit's ExecStart does not name $prefix/bin/oilcast"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$unit" || fail "systemd-analyze verify rejects the unit"
  # Exposure on systemd's 0-10 scale (times ten here): under 2.0 is "OK".
  systemd-analyze security --offline=yes --threshold=20 "$unit" >/dev/null ||
    fail "systemd-analyze security rates the unit's exposure 2.0 or worse: $(systemd-analyze security --offline=yes "$unit" | tail -1)"
else
  echo "note: systemd-analyze is not installed; the unit was not verified"
fi

# ---- the installed binary serves its own prefix's dashboard ----
sed -i 's|</head>|<meta name="oilcast-copy" content="installed"></head>|' "$prefix/share/oilcast/web/index.html"
elsewhere=$work/elsewhere
mkdir -p "$elsewhere"
clean_env=(env -i PATH=/usr/bin:/bin HOME="$work" LANG=C.UTF-8)
[[ -n "${ASAN_OPTIONS:-}" ]] && clean_env+=(ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}")
run_installed() { (cd "$elsewhere" && "${clean_env[@]}" "$prefix/bin/oilcast" "$@"); }
run_installed init --data-dir data >/dev/null 2>&1
run_installed simulate market --days 120 --seed 7 --series WTI --out prices.csv >/dev/null 2>&1
run_installed ingest --data-dir data --source historical --csv-path prices.csv --series WTI >/dev/null 2>&1

start_installed() { # starts the installed server; sets server_pid and url; stderr to $work/serve.err
  (cd "$elsewhere" && exec "${clean_env[@]}" "$prefix/bin/oilcast" serve --data-dir data --listen 127.0.0.1:0 \
    --public-read --access-log off) >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/serve.out" || true)
    [[ -n "$url" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "serve exited: $(cat "$work/serve.err")"
    sleep 0.1
  done
  fail "serve did not print its URL"
}
stop_installed() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=; }

start_installed
grep -q "dashboard unavailable" "$work/serve.err" && fail "serve reports missing assets: $(cat "$work/serve.err")"
cat >"$work/page.test.js" <<'JS'
'use strict';
const { launch, watchErrors, check } = require(process.argv[2]);
async function checkPage(context, url) {
  const page = await context.newPage();
  const watch = watchErrors(page);
  /* No forecast or backtest is stored: their 404s are answers the page shows as "none yet". */
  watch.allow((text) => /status of 404 .*\/v1\/(forecasts|backtests)\/latest/.test(text));
  await page.goto(`${url}/`);
  await page.waitForFunction(() => Number(document.getElementById('market-chart').dataset.renders || 0) > 0,
    null, { timeout: 30000 });
  check(await page.evaluate(() => !!document.querySelector('meta[name="oilcast-copy"]')),
    'the page is the installed copy');
  check(await page.evaluate(() => typeof window.Plotly === 'object'), 'plotly loaded');
  const points = await page.evaluate(() => (document.getElementById('market-chart').data || [])
    .filter((t) => t.meta === 'history').map((t) => t.x.length)[0] || 0);
  check(points === 120, `the chart shows the 120 stored prices (${points})`);
  check(watch.errors.length === 0, `no console errors: ${watch.errors.join('; ')}`);
}
(async () => {
  const { context, close } = await launch();
  const failure = await checkPage(context, process.argv[3]).catch((e) => e);
  await close();
  if (failure) console.error(failure.message);
  process.exit(failure ? 1 : 0);
})();
JS
NODE_PATH="$src/node_modules" node "$work/page.test.js" "$src/tests/browser/browser.js" "$url" ||
  fail "the installed dashboard did not load in chromium"
stop_installed
# `oilcast dashboard` (the static export) inlines the same installed files.
run_installed series show WTI --data-dir data --format json >"$elsewhere/history.json"
run_installed dashboard --historical-data history.json --out page.html 2>/dev/null
grep -q 'name="oilcast-copy"' "$elsewhere/page.html" || fail "oilcast dashboard did not use the installed page"
[[ $(stat -c %s "$elsewhere/page.html") -gt $(stat -c %s "$src/node_modules/plotly.js-dist-min/plotly.min.js") ]] ||
  fail "oilcast dashboard's page is smaller than plotly.min.js: plotly is not inlined"

# ---- without plotly.min.js: one clear line at start-up, and a page that says the same ----
rm "$prefix/share/oilcast/web/plotly.min.js"
start_installed
missing_line="dashboard unavailable: $prefix/share/oilcast/web/plotly.min.js is missing"
[[ $(grep -c "dashboard unavailable" "$work/serve.err") -eq 1 ]] ||
  fail "expected one start-up line about the missing file, got: $(cat "$work/serve.err")"
grep -qF "$missing_line" "$work/serve.err" || fail "the start-up line does not name the file: $(cat "$work/serve.err")"
grep -q "npm ci" "$work/serve.err" || fail "the start-up line does not say how to get plotly"
status=$(curl -s -o "$work/index.html" -w '%{http_code}' "$url/")
[[ $status == 503 ]] || fail "/ answered $status without plotly"
grep -qF "$missing_line" "$work/index.html" || fail "/ does not name the missing file: $(cat "$work/index.html")"
grep -q "npm ci" "$work/index.html" || fail "/ does not say how to get plotly"
stop_installed
if run_installed dashboard --historical-data history.json --out page2.html 2>"$work/dashboard.err"; then
  fail "oilcast dashboard succeeded without plotly.min.js"
fi
grep -qF "$prefix/share/oilcast/web/plotly.min.js" "$work/dashboard.err" ||
  fail "oilcast dashboard's error does not name the installed plotly.min.js: $(cat "$work/dashboard.err")"
echo "ok: installed under a temporary prefix; the installed binary served its own dashboard"
