/* cmd_status.c: `oilcast status`: where the data directory and store are, the schema version and
 * what the store holds. Read-only. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "store/datadir.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_status = {
    .name = "status",
    .summary = "show the data directory, store, schema version and contents",
    .usage = "Usage: oilcast status [--format table|csv|json] [--data-dir DIR]\n"
             "  --format F   table (default); csv or json: one record (field, value) per fact\n",
    .run = run};

/* What status reports, as one record per fact (field, value): the CSV and JSON forms. */
static json_t *status_records(const oc_cli *cli, const oc_store *store, int version, const oc_series_info *list, size_t n,
                              int64_t total) {
  json_t *records = json_array();
  char path[4096];
#define FACT(field, value) json_array_append_new(records, json_pack("{s:s, s:o}", "field", field, "value", value))
  FACT("data_directory", json_string(cli->data_dir));
  snprintf(path, sizeof path, "%s/%s", cli->data_dir, OC_DATADIR_CONF);
  FACT("config", json_string(path));
  FACT("store", json_string(store->uri));
  FACT("backend", json_string(store->ops->backend));
  for (const char *const *f = oc_datadir_folders; *f; f++) {
    snprintf(path, sizeof path, "%s/%s", cli->data_dir, *f);
    FACT("folder", json_string(path));
  }
  FACT("schema_version", json_integer(version));
  FACT("schema_version_latest", json_integer(oc_store_latest_schema_version(store->ops->backend)));
  FACT("series", json_integer((json_int_t)n));
  FACT("observations", json_integer(total));
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "rows:%s", list[i].name);
    FACT(path, json_integer(list[i].count));
  }
#undef FACT
  return records;
}

static void print_table(const oc_cli *cli, const oc_store *store, int version, const oc_series_info *list, size_t n,
                        int64_t total) {
  printf("data directory  %s\n", cli->data_dir);
  printf("config          %s/%s\n", cli->data_dir, OC_DATADIR_CONF);
  printf("store           %s (%s backend)\n", store->uri, store->ops->backend);
  for (const char *const *f = oc_datadir_folders; *f; f++) printf("%-15s %s/%s\n", "folder", cli->data_dir, *f);
  printf("schema version  %d (this oilcast: %d)\n", version, oc_store_latest_schema_version(store->ops->backend));
  printf("series          %zu\n", n);
  printf("observations    %lld\n", (long long)total);
  for (size_t i = 0; i < n; i++) printf("  %-20s %10lld rows\n", list[i].name, (long long)list[i].count);
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"format", required_argument, NULL, 'f'}, OC_CLI_COMMON_OPTIONS, {0}};
  oc_cli_format fmt = OC_CLI_TABLE;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == 'f') {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(&oc_cmd_status, "--format must be table, csv or json, not '%s'", optarg);
      continue;
    }
    int handled = oc_cli_common_option(cli, &oc_cmd_status, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_unknown_option(&oc_cmd_status);
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
  if (fmt == OC_CLI_TABLE) {
    print_table(cli, store, version, list, n, total);
  } else {
    json_t *records = status_records(cli, store, version, list, n, total);
    oc_cli_print_records(records, fmt);
    json_decref(records);
  }
  oc_series_info_list_free(list, n);
  oc_store_close(store);
  return OC_EXIT_OK;
}
