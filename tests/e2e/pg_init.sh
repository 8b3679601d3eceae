#!/usr/bin/env bash
# e2e pg_init: `oilcast init --store postgresql://...` on a throwaway loopback PostgreSQL
# (tests/support/pg.sh): the new data directory's oilcast.conf names the store, the database is created
# and migrated with the first admin key in it, no SQLite file appears, and the later commands (ingest,
# series list) work on PostgreSQL through the directory alone; init again with the same store changes
# nothing, with another store is refused leaving the config as it was; a store that cannot be reached
# leaves no oilcast.conf behind. Skipped only where PostgreSQL is not installed (fails under
# CI=true).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_helpers.bash"
pg_e2e_start

dir=$OC_TMP/data
uri=${PG_URI}oilcast_init
admin=$(oc init --data-dir "$dir" --store "$uri" 2>/dev/null)
[[ -n $admin ]] || fail "init --store printed no admin key"
grep -qx "store = $uri" "$dir/oilcast.conf" || fail "oilcast.conf does not name the store: $(cat "$dir/oilcast.conf")"
[[ ! -e "$dir/oilcast.db" ]] || fail "a SQLite file was created beside a PostgreSQL store"
[[ -d "$dir/raw/market_data" && -d "$dir/models/artifacts" ]] || fail "the layout was not created"
assert_eq "$(psql -At "$uri" -c "SELECT count(*) FROM schema_migrations")" \
  "$(psql -At "$uri" -c "SELECT max(version) FROM schema_migrations")" "every migration applied once"
assert_eq "$(psql -At "$uri" -c "SELECT count(*) FROM api_keys WHERE scope = 'admin'")" 1 "the admin key in PostgreSQL"

# later commands find the store through the directory alone
oc simulate market --days 60 --seed 3 --series SIM --out "$OC_TMP/sim.csv" --quiet
out=$(oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM 2>&1)
assert_contains "$out" "inserted" "ingest"
assert_eq "$(psql -At "$uri" -c "SELECT count(*) FROM observations")" "$(grep -c '^[0-9]' "$OC_TMP/sim.csv")" \
  "observations in PostgreSQL"
assert_contains "$(oc series list --data-dir "$dir")" "SIM" "series list"
[[ ! -e "$dir/oilcast.db" ]] || fail "a later command created a SQLite file"

# again with the same store: nothing changes, no second key; with another: refused, config kept
conf=$(cat "$dir/oilcast.conf")
assert_eq "$(oc init --data-dir "$dir" --store "$uri" 2>/dev/null)" "" "init again prints no key"
assert_eq "$(psql -At "$uri" -c "SELECT count(*) FROM api_keys")" 1 "init again adds no key"
assert_exit 1 oc init --data-dir "$dir" --store "${PG_URI}other" 2>/dev/null
assert_eq "$(cat "$dir/oilcast.conf")" "$conf" "a refused init leaves oilcast.conf as it was"
assert_eq "$(psql -At "${PG_URI}postgres" -c "SELECT count(*) FROM pg_database WHERE datname = 'other'")" 0 \
  "a refused init creates no database"

# an unreachable server: an error, no config left behind (so init can be run again: test_datadir_store)
dead=$OC_TMP/dead
out=$(oc init --data-dir "$dead" --store "postgresql://oilcast@127.0.0.1:$(free_port)/x?connect_timeout=2" 2>&1) &&
  fail "init on an unreachable store succeeded"
assert_contains "$out" "connecting" "the error says the store could not be reached"
[[ ! -e "$dead/oilcast.conf" ]] || fail "a failed init left an oilcast.conf naming its store"
assert_exit 2 oc init --data-dir "$dir" --store 2>/dev/null
echo "pg_init: init --store wrote the store line, migrated PostgreSQL, and later commands used it"
