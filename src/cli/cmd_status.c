/* cmd_status.c: `oilcast status`: where the data directory and store are, the schema version and
 * what the store holds. Read-only. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "store/datadir.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_status = {"status", "show the data directory, store, schema version and contents",
                                  "Usage: oilcast status [--data-dir DIR]\n", run};

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {OC_CLI_COMMON_OPTIONS, {0}};
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    int handled = oc_cli_common_option(cli, &oc_cmd_status, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_usage_error(&oc_cmd_status, "unknown option");
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_status, "unexpected argument '%s'", argv[optind]);
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  int version;
  oc_series_info *list = NULL;
  size_t n = 0;
  int64_t total;
  if (oc_store_schema_version(store, &version, &err) != 0 || oc_store_series_list(store, &list, &n, &err) != 0 ||
      oc_store_observations_count(store, &total, &err) != 0) {
    oc_store_close(store);
    return oc_cli_runtime_error("%s", err.message);
  }
  printf("data directory  %s\n", cli->data_dir);
  printf("config          %s/%s\n", cli->data_dir, OC_DATADIR_CONF);
  printf("store           %s (%s backend)\n", store->uri, store->ops->backend);
  for (const char *const *f = oc_datadir_folders; *f; f++) printf("%-15s %s/%s\n", "folder", cli->data_dir, *f);
  printf("schema version  %d (this oilcast: %d)\n", version, oc_store_latest_schema_version(store->ops->backend));
  printf("series          %zu\n", n);
  printf("observations    %lld\n", (long long)total);
  for (size_t i = 0; i < n; i++) printf("  %-20s %10lld rows\n", list[i].name, (long long)list[i].count);
  oc_series_info_list_free(list, n);
  oc_store_close(store);
  return OC_EXIT_OK;
}
