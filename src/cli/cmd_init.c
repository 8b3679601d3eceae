/* cmd_init.c: `oilcast init`: creates (or completes) a data directory, on SQLite by default or on the
 * store --store names. Idempotent; the work is oc_datadir_init_store(). Must not write oilcast.conf
 * itself or move a data directory to another store. */
#include <stdio.h>

#include "cli/cli.h"
#include "core/log.h"
#include "keys/apikey.h"
#include "store/datadir.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_init = {
    .name = "init", .summary = "create a data directory (layout, oilcast.conf, store); safe to re-run",
    .usage = "Usage: oilcast init [--data-dir DIR] [--store URI]\n\n"
    "Creates DIR/raw/{market_data,iot_data,historical_data}, DIR/processed/{training,inference},\n"
    "DIR/models/{artifacts,endpoints}, DIR/forecasts, DIR/oilcast.conf and the store DIR/oilcast.db,\n"
    "migrated to the current schema. Existing files are kept; running it again changes nothing.\n\n"
    "  --store URI   keep the data in this store instead: oilcast.conf gets `store = URI` and the store\n"
    "                is created and migrated, e.g. postgresql://user@host:5432/oilcast (the database is\n"
    "                created when the role may; see docs/postgresql.md) or sqlite:PATH. Every later\n"
    "                command on DIR uses it. A DIR whose oilcast.conf names another store is refused.\n",
    .run = run};

static int run(oc_cli *cli, int argc, char **argv) {
  enum { OPT_STORE = 1000 };
  static const struct option options[] = {{"store", required_argument, NULL, OPT_STORE}, OC_CLI_COMMON_OPTIONS, {0}};
  const char *store_uri = NULL;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_STORE) {
      store_uri = optarg;
      continue;
    }
    int handled = oc_cli_common_option(cli, &oc_cmd_init, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_unknown_option(&oc_cmd_init);
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_init, "unexpected argument '%s'", argv[optind]);
  oc_error err;
  bool created;
  if (oc_datadir_init_store(cli->data_dir, store_uri, &created, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  oc_info("%s data directory %s", created ? "initialised" : "already initialised:", cli->data_dir);
  char admin_key[OC_APIKEY_LEN + 1];
  bool key_created;
  if (oc_apikey_bootstrap_datadir(cli->data_dir, admin_key, &key_created, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  /* The first admin API key, shown once (only its hash is kept): the label on stderr, the key alone on
   * stdout, so `admin=$(oilcast init)` captures it. */
  if (key_created) {
    oc_info("admin API key (shown once: only its SHA-256 is kept; `oilcast apikey create` makes more):");
    printf("%s\n", admin_key);
  }
  return OC_EXIT_OK;
}
