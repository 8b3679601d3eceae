/* cmd_apikey.c: `oilcast apikey create|list|revoke`: manages the API keys the server accepts. `create`
 * prints the new key once on stdout and nothing else there, so scripts can capture it; only its hash
 * is stored (src/keys/apikey.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/date.h"
#include "core/log.h"
#include "keys/apikey.h"
#include "serve/ratelimit.h"
#include "store/datadir.h"
#include "store/store.h"

static int run_apikey(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_apikey = {
    .name = "apikey", .summary = "create, list and revoke API keys for `oilcast serve`",
    .usage = "Usage: oilcast apikey create --name NAME --scope read|write|admin [--rate 50/s --burst 100]\n"
    "       oilcast apikey list [--format table|csv|json]\n"
    "       oilcast apikey revoke ID|NAME\n"
    "create prints the new key on stdout, once: it cannot be shown again (only its SHA-256 is stored).\n"
    "Scopes nest: admin can do what write can, write what read can. --rate (N/s, N/m or N/h) and --burst\n"
    "set a token bucket per key (429 with Retry-After beyond it); without --rate a key is unlimited.\n"
    "A revoked key stops working within a second on a running server.\n",
    .run = run_apikey};

enum { OPT_NAME = 1, OPT_SCOPE, OPT_RATE, OPT_BURST, OPT_FORMAT };

static int apikey_create(oc_cli *cli, const char *name, const char *scope_text, const char *rate_text,
                         const char *burst_text) {
  oc_error err;
  oc_scope scope;
  if (!name) return oc_cli_usage_error(&oc_cmd_apikey, "create needs --name NAME");
  if (!scope_text) return oc_cli_usage_error(&oc_cmd_apikey, "create needs --scope read|write|admin");
  if (oc_scope_parse(scope_text, &scope, &err) != 0) return oc_cli_usage_error(&oc_cmd_apikey, "%s", err.message);
  if (burst_text && !rate_text) return oc_cli_usage_error(&oc_cmd_apikey, "--burst needs --rate");
  oc_apikey_limit rate = {0};
  if (rate_text) {
    if (oc_rate_parse(rate_text, &rate.per_second, &err) != 0) return oc_cli_usage_error(&oc_cmd_apikey, "%s", err.message);
    rate.burst = rate.per_second < 1 ? 1 : rate.per_second;
    if (burst_text) {
      long burst;
      if (oc_cli_parse_int(burst_text, 1, 1000000000L, &burst) != 0)
        return oc_cli_usage_error(&oc_cmd_apikey, "--burst must be a whole number >= 1, not '%s'", burst_text);
      rate.burst = (double)burst;
    }
  }
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  char key[OC_APIKEY_LEN + 1];
  int rc = oc_apikey_create(store, name, scope, rate_text ? &rate : NULL, key, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  printf("%s\n", key);
  return OC_EXIT_OK;
}

static int apikey_list(oc_cli *cli, const char *format_text) {
  oc_cli_format fmt = OC_CLI_TABLE;
  if (format_text && oc_cli_format_parse(format_text, &fmt) != 0)
    return oc_cli_usage_error(&oc_cmd_apikey, "--format must be table, csv or json, not '%s'", format_text);
  oc_error err;
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  int rc = oc_store_api_key_list(store, &rows, &n, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  json_t *records = json_array();
  if (fmt == OC_CLI_TABLE) printf("%-12s  %-24s  %-5s  %-12s  %-20s  %s\n", "id", "name", "scope", "rate", "created", "status");
  for (size_t i = 0; i < n; i++) {
    char created[32], revoked[32] = "", rate[32] = "unlimited";
    oc_timestamp_format(rows[i].created_at, created);
    if (rows[i].revoked_at) oc_timestamp_format(rows[i].revoked_at, revoked);
    if (rows[i].rate_per_second > 0) snprintf(rate, sizeof rate, "%g/s b%g", rows[i].rate_per_second, rows[i].burst);
    if (fmt == OC_CLI_TABLE)
      printf("%-12s  %-24s  %-5s  %-12s  %-20s  %s%s\n", rows[i].id, rows[i].name, rows[i].scope, rate, created,
             rows[i].revoked_at ? "revoked " : "active", revoked);
    else
      json_array_append_new(records, json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:o}", "id", rows[i].id, "name",
                                               rows[i].name, "scope", rows[i].scope, "rate_per_second",
                                               rows[i].rate_per_second, "burst", rows[i].burst, "created_at", created,
                                               "revoked_at", rows[i].revoked_at ? json_string(revoked) : json_null()));
  }
  if (fmt != OC_CLI_TABLE) oc_cli_print_records(records, fmt);
  json_decref(records);
  free(rows);
  return OC_EXIT_OK;
}

static int apikey_revoke(oc_cli *cli, const char *which) {
  oc_error err;
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  bool found = false;
  int rc = oc_store_api_key_revoke(store, which, (int64_t)time(NULL), &found, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  if (!found) return oc_cli_runtime_error("no API key with id or name '%s'", which);
  oc_info("revoked API key '%s'", which);
  return OC_EXIT_OK;
}

static int run_apikey(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"name", required_argument, NULL, OPT_NAME},
                                          {"scope", required_argument, NULL, OPT_SCOPE},
                                          {"rate", required_argument, NULL, OPT_RATE},
                                          {"burst", required_argument, NULL, OPT_BURST},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const char *name = NULL, *scope = NULL, *rate = NULL, *burst = NULL, *format = NULL;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_NAME: name = optarg; break;
    case OPT_SCOPE: scope = optarg; break;
    case OPT_RATE: rate = optarg; break;
    case OPT_BURST: burst = optarg; break;
    case OPT_FORMAT: format = optarg; break;
    case '?': return oc_cli_unknown_option(&oc_cmd_apikey);
    default:
      if (oc_cli_common_option(cli, &oc_cmd_apikey, opt, optarg, &code) < 0) return code;
    }
  }
  if (optind >= argc) return oc_cli_usage_error(&oc_cmd_apikey, "expected create, list or revoke");
  const char *action = argv[optind];
  int rest = argc - optind - 1;
  if (strcmp(action, "create") == 0 && rest == 0) return apikey_create(cli, name, scope, rate, burst);
  if (strcmp(action, "list") == 0 && rest == 0) return apikey_list(cli, format);
  if (strcmp(action, "revoke") == 0 && rest == 1) return apikey_revoke(cli, argv[optind + 1]);
  return oc_cli_usage_error(&oc_cmd_apikey, "expected 'create', 'list' or 'revoke ID|NAME'");
}
