/* cmd_backtest.c: `oilcast backtest`: walk-forward evaluation of forecasting models on a stored
 * series (model/backtest.h), printed as a table, CSV or JSON, and saved in the store for the
 * dashboard (GET /v1/backtests/latest). Option parsing and I/O only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/backtest.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

#define DEFAULT_MODELS "naive,drift,mean,ets,ar,ensemble"

const oc_command oc_cmd_backtest = {
    "backtest", "walk-forward backtest of forecasting models against the no-change forecast",
    "Usage: oilcast backtest [--series WTI] [--models " DEFAULT_MODELS "] [--start D] [--end D]\n"
    "                        [--horizon 7] [--refit-every 20] [--threads N] [--format table|csv|json]\n"
    "                        [--out FILE] [--no-save]\n\n"
    "Every trading day in [start, end] with `horizon` observations after it is a forecast origin; each\n"
    "model sees only the history up to the origin, is refitted every --refit-every origins and updated\n"
    "without refitting in between. Metrics per model and horizon (MAE, RMSE, MAPE, MASE, relMAE against\n"
    "naive, direction hits, 80%/95% coverage, 80% width, Winkler score, Diebold-Mariano p-value against\n"
    "naive) are printed and stored. See docs/evaluation.md.\n\n"
    "  --series S         stored series (default WTI)\n"
    "  --models LIST      comma-separated model specs, kind[:key=value...] (default " DEFAULT_MODELS ")\n"
    "                     kinds: naive, drift, mean, ets, ar, ensemble, mlp (the network: about ten seconds\n"
    "                     of CPU on two years of origins); e.g. mean:k=10, ets:trend=damped, mlp:epochs=50\n"
    "  --start D, --end D origin dates (default: the last 500 possible origins)\n"
    "  --horizon H        observations ahead, 1..64 (default 7)\n"
    "  --refit-every N    origins between refits (default 20)\n"
    "  --threads N        worker threads (default: one per CPU); results do not depend on it\n"
    "  --format F         table (default), csv or json\n"
    "  --out FILE         write the output to FILE (atomically) instead of stdout\n"
    "  --no-save          do not store the run\n",
    run};

enum { OPT_SERIES = 1, OPT_MODELS, OPT_START, OPT_END, OPT_HORIZON, OPT_REFIT, OPT_THREADS, OPT_FORMAT, OPT_OUT, OPT_NO_SAVE };

/* Splits a comma-separated list in place into at most max entries. */
static size_t split_models(char *list, const char **out, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *m = strtok_r(list, ",", &save); m && n < max; m = strtok_r(NULL, ",", &save)) out[n++] = m;
  return n;
}

/* The task count is known only once the origins are: the bar learns it from the first report. */
static void show_progress(void *ctx, size_t done, size_t total) {
  oc_progress *p = ctx;
  p->total = total;
  oc_progress_update(p, done, "model x refit blocks");
}

static int save_run(oc_store *store, const oc_backtest_result *r, const char *models, const char *created_at, time_t now,
                    oc_error *err) {
  json_t *doc = oc_backtest_to_json(r, created_at);
  char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
  json_decref(doc);
  oc_backtest_record rec = {.series = r->series, .start = r->start, .end = r->end, .horizon = (int64_t)r->horizon,
                            .refit_every = (int64_t)r->refit_every, .origins = (int64_t)r->n_origins,
                            .models = (char *)models, .created_at = (int64_t)now, .result_json = text};
  int rc = oc_store_backtest_save(store, &rec, err);
  free(text);
  return rc;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"series", required_argument, NULL, OPT_SERIES},
                                          {"models", required_argument, NULL, OPT_MODELS},
                                          {"start", required_argument, NULL, OPT_START},
                                          {"end", required_argument, NULL, OPT_END},
                                          {"horizon", required_argument, NULL, OPT_HORIZON},
                                          {"refit-every", required_argument, NULL, OPT_REFIT},
                                          {"threads", required_argument, NULL, OPT_THREADS},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          {"out", required_argument, NULL, OPT_OUT},
                                          {"no-save", no_argument, NULL, OPT_NO_SAVE},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_backtest;
  const char *series = "WTI", *models = DEFAULT_MODELS, *format = "table", *out_path = NULL;
  oc_backtest_config cfg = {.start = OC_DATE_INVALID, .end = OC_DATE_INVALID, .horizon = 7, .refit_every = 20};
  bool save = true;
  long v;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_SERIES: series = optarg; break;
    case OPT_MODELS: models = optarg; break;
    case OPT_START:
      if (oc_cli_parse_date(cmd, "--start", optarg, &cfg.start, &code) != 0) return code;
      break;
    case OPT_END:
      if (oc_cli_parse_date(cmd, "--end", optarg, &cfg.end, &code) != 0) return code;
      break;
    case OPT_HORIZON:
      if (oc_cli_parse_int(optarg, 1, OC_FORECAST_MAX_HORIZON, &v) != 0)
        return oc_cli_usage_error(cmd, "--horizon must be a whole number in 1..%d, not '%s'", OC_FORECAST_MAX_HORIZON, optarg);
      cfg.horizon = (size_t)v;
      break;
    case OPT_REFIT:
      if (oc_cli_parse_int(optarg, 1, 1000000, &v) != 0)
        return oc_cli_usage_error(cmd, "--refit-every must be a whole number >= 1, not '%s'", optarg);
      cfg.refit_every = (size_t)v;
      break;
    case OPT_THREADS:
      if (oc_cli_parse_int(optarg, 1, 1024, &v) != 0)
        return oc_cli_usage_error(cmd, "--threads must be a whole number in 1..1024, not '%s'", optarg);
      cfg.threads = (size_t)v;
      break;
    case OPT_FORMAT:
      if (strcmp(optarg, "table") != 0 && strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
        return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", optarg);
      format = optarg;
      break;
    case OPT_OUT: out_path = optarg; break;
    case OPT_NO_SAVE: save = false; break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_usage_error(cmd, "unknown option");
    }
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (cfg.start != OC_DATE_INVALID && cfg.end != OC_DATE_INVALID && cfg.start > cfg.end)
    return oc_cli_usage_error(cmd, "--start is after --end");
  char *model_list = oc_xstrdup(models);
  const char *specs[32];
  size_t n_specs = split_models(model_list, specs, 32);
  if (n_specs == 0) {
    free(model_list);
    return oc_cli_usage_error(cmd, "--models needs at least one model");
  }

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) {
    free(model_list);
    return OC_EXIT_RUNTIME;
  }
  oc_error err;
  int rc = OC_EXIT_OK;
  oc_series s = {0};
  oc_backtest_result result = {0};
  oc_buf out = {0};
  if (oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0) {
    rc = oc_cli_runtime_error("%s", err.message);
    goto done;
  }
  if (s.n > cfg.horizon + 1) {
    size_t last = s.n - 1 - cfg.horizon;
    if (cfg.end == OC_DATE_INVALID) cfg.end = s.dates[last];
    if (cfg.start == OC_DATE_INVALID) cfg.start = s.dates[last >= 499 ? last - 499 : 0];
  }
  oc_info("backtest %s: %zu models, horizon %zu, refit every %zu", series, n_specs, cfg.horizon, cfg.refit_every);
  oc_progress progress;
  oc_progress_start(&progress, "backtest", 0);
  cfg.on_progress = show_progress;
  cfg.progress_ctx = &progress;
  int run_rc = oc_backtest_run(&s, specs, n_specs, &cfg, &result, &err);
  oc_progress_finish(&progress);
  if (run_rc != 0) {
    rc = oc_cli_runtime_error("%s", err.message);
    goto done;
  }
  time_t now = time(NULL);
  struct tm tm;
  char created_at[32];
  gmtime_r(&now, &tm);
  strftime(created_at, sizeof created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (save && save_run(store, &result, models, created_at, now, &err) != 0) {
    rc = oc_cli_runtime_error("%s", err.message);
    goto done;
  }
  oc_backtest_format(&result, format, created_at, &out, &err);
  if (out_path) {
    if (oc_write_file_atomic(out_path, out.data, out.len, &err) != 0) rc = oc_cli_runtime_error("%s", err.message);
  } else {
    fwrite(out.data, 1, out.len, stdout);
    if (fflush(stdout) != 0) rc = oc_cli_runtime_error("cannot write the output");
  }
done:
  oc_buf_free(&out);
  oc_backtest_result_free(&result);
  oc_series_free(&s);
  oc_store_close(store);
  free(model_list);
  return rc;
}
