/* cmd_migrate.c: `oilcast migrate --from URI --to URI`: copies a store to another (SQLite to
 * PostgreSQL and back) with oc_store_copy, which verifies the copy row for row. Parses options, opens
 * both stores, calls, prints: the copying is the store's. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_migrate = {
    .name = "migrate",
    .summary = "copy a store to another backend (SQLite to PostgreSQL and back), verified row for row",
    .usage = "Usage: oilcast migrate --from URI --to URI\n\n"
    "Copies every table of the store --from into the store --to (created if needed, migrated to this\n"
    "oilcast's schema, and required to be empty), in one transaction, then reads both again and\n"
    "compares them row for row. Writers of --from wait meanwhile. URIs as in oilcast.conf:\n"
    "  sqlite:PATH                                  (PATH relative to the working directory)\n"
    "  postgresql://USER@HOST:PORT/DATABASE         (docs/postgresql.md)\n"
    "Point the data directory at the copy by its `store =` line in oilcast.conf.\n\n"
    "  --from URI     the store to copy\n"
    "  --to URI       the store to copy into\n",
    .run = run};

static int run(oc_cli *cli, int argc, char **argv) {
  enum { OPT_FROM = 1000, OPT_TO };
  static const struct option options[] = {
      {"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO}, OC_CLI_COMMON_OPTIONS, {0}};
  const char *from_uri = NULL, *to_uri = NULL;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_FROM) from_uri = optarg;
    else if (opt == OPT_TO) to_uri = optarg;
    else {
      int handled = oc_cli_common_option(cli, &oc_cmd_migrate, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_migrate);
    }
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_migrate, "unexpected argument '%s'", argv[optind]);
  if (!from_uri || !to_uri) return oc_cli_usage_error(&oc_cmd_migrate, "both --from and --to are required");
  oc_error err;
  oc_store *from = oc_store_open(from_uri, &err);
  if (!from) return oc_cli_runtime_error("%s", err.message);
  oc_store *to = oc_store_open(to_uri, &err);
  if (!to) {
    oc_store_close(from);
    return oc_cli_runtime_error("%s", err.message);
  }
  oc_store_copy_result result;
  int rc = oc_store_copy(from, to, &result, &err);
  oc_store_close(to);
  oc_store_close(from);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  for (size_t i = 0; i < result.ntables; i++)
    printf("%-20s %lld rows\n", result.tables[i].table, (long long)result.tables[i].rows);
  /* (the URIs are not repeated: they may hold a password) */
  printf("copied %lld rows (schema version %d); verified row for row\n", (long long)result.rows,
         result.schema_version);
  return OC_EXIT_OK;
}
