/* cmd_alerts.c: `oilcast alerts`: evaluates the rules of DIR/alerts.json (monitor/alerts.h; the step a
 * scheduled job runs), lists the alerts and their history as the store keeps them, checks the file.
 * Parses options, calls, prints. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "monitor/alerts.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_alerts = {
    .name = "alerts", .summary = "evaluate alert rules, deliver them to webhooks, list alerts and their history",
    .usage = "Usage: oilcast alerts evaluate             evaluate DIR/alerts.json now and notify its webhooks\n"
    "       oilcast alerts list [--state pending|firing|resolved] [--format table|csv|json]\n"
    "       oilcast alerts history [FINGERPRINT] [--last N] [--format table|csv|json]\n"
    "       oilcast alerts check                check DIR/alerts.json\n\n"
    "Rules watch the monitor's figures (the gauges of /metrics: oilcast_forecast_rel_mae,\n"
    "oilcast_forecast_coverage80/95, oilcast_forecast_bias, oilcast_series_staleness_trading_days,\n"
    "oilcast_job_consecutive_failures, oilcast_feature_psi, oilcast_feature_ks; any other is refused).\n"
    "An alert is pending while its condition holds for less than its rule's `for`, then firing, and\n"
    "resolved when the condition stops holding; webhooks receive Alertmanager's v4 payload when an\n"
    "alert fires or resolves. Run `alerts evaluate` as a job step:\n"
    "  [alerts]\n"
    "  every = 5m\n"
    "  step = monitor\n"
    "  step = alerts evaluate\n"
    "See docs/monitoring.md.\n",
    .run = run};

enum { OPT_FORMAT = 1, OPT_STATE, OPT_LAST };

static int alerts_evaluate(oc_cli *cli, oc_store *store) {
  oc_alerts_options o = {.now = (int64_t)time(NULL)};
  oc_alerts_result r;
  oc_error err;
  if (oc_alerts_evaluate(cli->data_dir, store, &o, &r, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  printf("%zu rule(s) over %zu figure(s): %zu pending, %zu firing, %zu state change(s), %zu notification(s) sent\n",
         r.rules, r.figures, r.pending, r.firing, r.changed, r.notifications);
  if (r.undelivered) return oc_cli_runtime_error("%zu alert(s) not delivered (tried again next time): %s", r.undelivered,
                                                 r.delivery_error);
  return OC_EXIT_OK;
}

static void print_records(json_t *records, oc_cli_format fmt) {
  oc_cli_print_records(records, fmt);
  json_decref(records);
}

static int alerts_list(oc_store *store, const char *state, oc_cli_format fmt) {
  oc_alert *list;
  size_t n;
  oc_error err;
  if (oc_store_alerts_list(store, state, &list, &n, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  if (fmt == OC_CLI_TABLE) {
    printf("%-16s %-24s %-9s %12s  %-20s %s\n", "fingerprint", "rule", "state", "value", "since", "labels");
    for (size_t i = 0; i < n; i++) {
      char since[OC_TIMESTAMP_STRLEN];
      printf("%-16s %-24s %-9s %12.6g  %-20s %s\n", list[i].fingerprint, list[i].rule, list[i].state, list[i].value,
             oc_timestamp_format(list[i].updated_at, since), list[i].labels_json);
    }
  } else {
    json_t *records = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *j = oc_alert_json(&list[i]);
      json_object_set_new(j, "labels", json_string(list[i].labels_json)); /* flat for CSV */
      json_object_set_new(j, "annotations", json_string(list[i].annotations_json));
      json_array_append_new(records, j);
    }
    print_records(records, fmt);
  }
  oc_alert_list_free(list, n);
  return OC_EXIT_OK;
}

static int alerts_history(oc_store *store, const char *fingerprint, long last, oc_cli_format fmt) {
  oc_alert_event *events;
  size_t n;
  oc_error err;
  if (oc_store_alert_history(store, fingerprint, (size_t)last, &events, &n, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  if (fmt == OC_CLI_TABLE) {
    printf("%6s  %-20s %-16s %-24s %-9s %12s\n", "event", "at", "fingerprint", "rule", "state", "value");
    for (size_t i = 0; i < n; i++) {
      char at[OC_TIMESTAMP_STRLEN];
      printf("%6lld  %-20s %-16s %-24s %-9s %12.6g\n", (long long)events[i].id, oc_timestamp_format(events[i].at, at),
             events[i].fingerprint, events[i].rule, events[i].state, events[i].value);
    }
  } else {
    json_t *records = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *j = oc_alert_event_json(&events[i]);
      json_object_set_new(j, "labels", json_string(events[i].labels_json));
      json_array_append_new(records, j);
    }
    print_records(records, fmt);
  }
  oc_alert_event_list_free(events, n);
  return OC_EXIT_OK;
}

static int alerts_check(oc_cli *cli) {
  char *path = oc_path_join(cli->data_dir, OC_ALERTS_FILE);
  oc_alert_rules rules;
  oc_error err;
  int rc = oc_alert_rules_read(path, &rules, &err);
  if (rc == 0) printf("%s: %zu rule(s), %zu webhook(s), all valid\n", path, rules.nrules, rules.nwebhooks);
  free(path);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  oc_alert_rules_free(&rules);
  return OC_EXIT_OK;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                          {"state", required_argument, NULL, OPT_STATE},
                                          {"last", required_argument, NULL, OPT_LAST},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  oc_cli_format fmt = OC_CLI_TABLE;
  const char *state = NULL;
  long last = 50;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_FORMAT) {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(&oc_cmd_alerts, "--format must be table, csv or json, not '%s'", optarg);
    } else if (opt == OPT_STATE) {
      if (strcmp(optarg, "pending") != 0 && strcmp(optarg, "firing") != 0 && strcmp(optarg, "resolved") != 0)
        return oc_cli_usage_error(&oc_cmd_alerts, "--state must be pending, firing or resolved, not '%s'", optarg);
      state = optarg;
    } else if (opt == OPT_LAST) {
      if (oc_cli_parse_int(optarg, 1, 1000000, &last) != 0)
        return oc_cli_usage_error(&oc_cmd_alerts, "--last must be a whole number in 1..1000000, not '%s'", optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_alerts, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_alerts);
    }
  }
  const char *action = optind < argc ? argv[optind++] : NULL;
  const char *fingerprint = action && strcmp(action, "history") == 0 && optind < argc ? argv[optind++] : NULL;
  if (!action || (strcmp(action, "evaluate") != 0 && strcmp(action, "list") != 0 && strcmp(action, "history") != 0 &&
                  strcmp(action, "check") != 0))
    return oc_cli_usage_error(&oc_cmd_alerts, "expected evaluate, list, history or check%s%s%s", action ? ", not '" : "",
                              action ? action : "", action ? "'" : "");
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_alerts, "unexpected argument '%s'", argv[optind]);
  if (strcmp(action, "check") == 0) return alerts_check(cli);
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  int rc = strcmp(action, "evaluate") == 0 ? alerts_evaluate(cli, store)
           : strcmp(action, "list") == 0   ? alerts_list(store, state, fmt)
                                           : alerts_history(store, fingerprint, last, fmt);
  oc_store_close(store);
  return rc;
}
