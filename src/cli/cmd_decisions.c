/* cmd_decisions.c: `oilcast decisions`: the retraining and promotion decisions the store recorded
 * (monitor/promote.h), newest first, with their reasons and figures. Reads only. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/date.h"
#include "monitor/promote.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_decisions = {
    .name = "decisions", .summary = "the retraining and champion/challenger decisions, with reasons and figures",
    .usage = "Usage: oilcast decisions [--endpoint NAME] [--last N] [--format table|csv|json]\n"
    "Every decision of `oilcast retrain` and of alert webhooks, newest first: trigger, training,\n"
    "deploy, promote, rollback, refusal, with what started it, the version concerned, the champion at\n"
    "the time, the reason and the figures it was decided on (csv: figures as JSON text).\n"
    "  --endpoint NAME   only this endpoint's decisions\n"
    "  --last N          at most N decisions (default 50)\n"
    "  --format F        table (default), csv or json\n",
    .run = run};

enum { OPT_ENDPOINT = 1, OPT_LAST, OPT_FORMAT };

static void print_table(const oc_promotion_decision *d, size_t n) {
  if (n == 0) printf("no decisions yet\n");
  for (size_t i = 0; i < n; i++) {
    char at[OC_TIMESTAMP_STRLEN];
    char version[24] = "-";
    if (d[i].version) snprintf(version, sizeof version, "v%lld", (long long)d[i].version);
    printf("%s  %-12s %-9s %-12s %-5s %s\n", oc_timestamp_format(d[i].at, at), d[i].endpoint, d[i].action,
           *d[i].trigger ? d[i].trigger : "-", version, d[i].reason);
  }
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"endpoint", required_argument, NULL, OPT_ENDPOINT},
                                          {"last", required_argument, NULL, OPT_LAST},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const char *endpoint = NULL;
  long last = 50;
  oc_cli_format fmt = OC_CLI_TABLE;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_ENDPOINT) {
      endpoint = optarg;
    } else if (opt == OPT_LAST) {
      if (oc_cli_parse_int(optarg, 1, 100000, &last) != 0)
        return oc_cli_usage_error(&oc_cmd_decisions, "--last takes a whole number in 1..100000, not '%s'", optarg);
    } else if (opt == OPT_FORMAT) {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(&oc_cmd_decisions, "--format must be table, csv or json, not '%s'", optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_decisions, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_decisions);
    }
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_decisions, "unexpected argument '%s'", argv[optind]);
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_promotion_decision *d;
  size_t n;
  oc_error err;
  int rc = oc_store_decisions_list(store, endpoint, (size_t)last, &d, &n, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  if (fmt == OC_CLI_TABLE) {
    print_table(d, n);
  } else {
    json_t *records = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *rec = oc_promotion_decision_json(&d[i]);
      if (fmt == OC_CLI_CSV) json_object_set_new(rec, "figures", json_string(d[i].figures)); /* CSV fields are flat */
      json_array_append_new(records, rec);
    }
    oc_cli_print_records(records, fmt);
    json_decref(records);
  }
  free(d);
  return OC_EXIT_OK;
}
