/* cmd_monitor.c: `oilcast monitor`: scores the stored forecasts whose target dates now have prices
 * (monitor/score.h) and prints how each endpoint, variant, model version and horizon has done over
 * rolling windows of scored origins; `oilcast monitor health`: data health (monitor/health.h,
 * monitor/drift.h): staleness per series, failing jobs, input drift per deployed version. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/log.h"
#include "core/date.h"
#include "core/json.h"
#include "monitor/health.h"
#include "monitor/score.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_monitor = {
    .name = "monitor", .summary = "score stored forecasts against the prices that followed; live relMAE and coverage",
    .usage = "Usage: oilcast monitor [--endpoint NAME] [--windows 20,60] [--format table|csv|json]\n"
    "       oilcast monitor health [--format table|json]\n"
    "Scores every stored forecast point whose date now has a price (each point once: run it after\n"
    "every import, or as a scheduled job step), then prints, per series, endpoint, variant, model\n"
    "version and horizon, over the latest N scored origins of each window: relMAE (the forecast's MAE\n"
    "over the no-change forecast's on the same origins: below 1 beats naive), MAE, the share of prices\n"
    "inside the 80% and 95% bands (well calibrated: 0.80 and 0.95) and the bias (forecast - actual).\n"
    "  --endpoint NAME   only this endpoint's forecasts\n"
    "  --windows A,B     rolling windows in scored origins (default 20,60; at most 4)\n"
    "  --format F        table (default), csv or json\n"
    "`monitor health` prints, per series, the trading days whose price should be stored by now and is\n"
    "not; per scheduled job, its latest runs that failed in a row; per deployed model version, the drift\n"
    "of its input over the latest 60 trading days against its training reference: PSI (below 0.1 none,\n"
    "0.1-0.25 moderate, above significant) and the KS statistic. It writes nothing. See docs/monitoring.md.\n",
    .run = run};

enum { OPT_ENDPOINT = 1, OPT_WINDOWS, OPT_FORMAT };

static void print_table(const oc_monitor_result *r) {
  if (r->n == 0) {
    printf("no scored forecasts yet (forecasts are scored once the prices of their dates are stored)\n");
    return;
  }
  printf("%-8s %-12s %-10s %-8s %3s %6s %7s %7s %9s %9s %6s %6s %8s\n", "series", "endpoint", "variant", "model", "h",
         "window", "origins", "relMAE", "MAE", "naiveMAE", "cov80", "cov95", "bias");
  for (size_t i = 0; i < r->n; i++) {
    const oc_monitor_row *row = &r->rows[i];
    const oc_forecast_performance *p = &row->perf;
    const oc_forecast_line *l = &p->line;
    printf("%-8s %-12s %-10s %-8s %3lld %6zu %7lld %7.4f %9.4f %9.4f %6.2f %6.2f %8.4f\n", l->series,
           *l->endpoint ? l->endpoint : "-", *l->variant ? l->variant : "-", l->model_version, (long long)l->horizon,
           row->window, (long long)p->origins, row->rel_mae, p->mae, p->naive_mae, p->coverage80, p->coverage95, p->bias);
  }
}

static int print_health(oc_cli *cli, oc_store *store, oc_cli_format fmt) {
  oc_monitor_health h;
  oc_error err;
  if (oc_monitor_health_read(cli->data_dir, store, (int64_t)time(NULL), &h, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  if (fmt == OC_CLI_TABLE) {
    printf("%-20s %-10s %-10s %s\n", "series", "last", "expected", "trading days behind");
    for (size_t i = 0; i < h.nstale; i++) {
      char last[OC_DATE_STRLEN], expected[OC_DATE_STRLEN];
      printf("%-20s %-10s %-10s %lld\n", h.stale[i].series, oc_date_format(h.stale[i].last, last),
             oc_date_format(h.stale[i].expected, expected), (long long)h.stale[i].behind);
    }
    printf("\n%-20s %s\n", "job", "failed in a row");
    for (size_t i = 0; i < h.njobs; i++) printf("%-20s %lld\n", h.jobs[i].job, (long long)h.jobs[i].consecutive);
    printf("\n%-8s %-12s %-12s %9s %8s %-18s %8s\n", "model", "series", "feature", "reference", "recent", "PSI", "KS");
    for (size_t i = 0; i < h.ndrift; i++) {
      const oc_feature_drift *d = &h.drift[i];
      printf("%-8s %-12s %-12s %9zu %8zu %6.4f %-11s %8.4f\n", d->model_version, d->series, d->feature, d->reference_n,
             d->recent_n, d->psi, oc_drift_psi_band(d->psi), d->ks);
    }
    for (size_t i = 0; i < h.nunmeasured; i++)
      printf("%-8s drift not measured: %s\n", h.unmeasured[i].model_version, h.unmeasured[i].error);
  } else { /* the API's object (GET /v1/monitor/health) */
    json_t *j = oc_monitor_health_json(&h);
    oc_json_print(stdout, j, OC_JSON_COMPACT);
    putchar('\n');
    json_decref(j);
  }
  oc_monitor_health_free(&h);
  return OC_EXIT_OK;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"endpoint", required_argument, NULL, OPT_ENDPOINT},
                                          {"windows", required_argument, NULL, OPT_WINDOWS},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  oc_monitor_options o = oc_monitor_options_default();
  oc_cli_format fmt = OC_CLI_TABLE;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_ENDPOINT) {
      o.endpoint = optarg;
    } else if (opt == OPT_WINDOWS) {
      if (oc_monitor_parse_windows(optarg, &o) != 0)
        return oc_cli_usage_error(&oc_cmd_monitor, "--windows takes 1 to %d distinct whole numbers in 1..%d, not '%s'",
                                  OC_MONITOR_MAX_WINDOWS, OC_MONITOR_MAX_WINDOW, optarg);
    } else if (opt == OPT_FORMAT) {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(&oc_cmd_monitor, "--format must be table, csv or json, not '%s'", optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_monitor, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_monitor);
    }
  }
  bool health = optind < argc && strcmp(argv[optind], "health") == 0;
  if (health && fmt == OC_CLI_CSV)
    return oc_cli_usage_error(&oc_cmd_monitor, "monitor health prints a table or json (its three listings have different columns)");
  if (optind + health < argc) return oc_cli_usage_error(&oc_cmd_monitor, "unexpected argument '%s'", argv[optind + health]);
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  if (health) {
    int health_rc = print_health(cli, store, fmt);
    oc_store_close(store);
    return health_rc;
  }
  oc_monitor_result r;
  oc_error err;
  int rc = oc_monitor_score(store, &o, (int64_t)time(NULL), &r, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  oc_info("scored %lld new forecast point(s)", (long long)r.scored);
  if (fmt == OC_CLI_TABLE) {
    print_table(&r);
  } else {
    json_t *records = json_array();
    for (size_t i = 0; i < r.n; i++) json_array_append_new(records, oc_monitor_row_json(&r.rows[i]));
    oc_cli_print_records(records, fmt);
    json_decref(records);
  }
  oc_monitor_result_free(&r);
  return OC_EXIT_OK;
}
