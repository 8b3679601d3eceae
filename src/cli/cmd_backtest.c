/* cmd_backtest.c: `oilcast backtest`: parses the options, runs the backtest pipeline step
 * (pipeline/backtest.h: walk-forward evaluation of forecasting models on a stored series, or its
 * by-year robustness report, saved in the store for the dashboard, GET /v1/backtests/latest and
 * /v1/backtests/years) and prints its result as a table, CSV or JSON (to stdout or, atomically,
 * --out). Option parsing and printing only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "pipeline/backtest.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_backtest = {
    .name = "backtest", .summary = "walk-forward backtest of forecasting models against the no-change forecast",
    .usage =
    "Usage: oilcast backtest [--series WTI] [--models " OC_PIPELINE_BACKTEST_DEFAULT_MODELS "] [--exog S,...] [--start D]\n"
    "                        [--end D] [--horizon 7] [--refit-every 20] [--threads N] [--format table|csv|json]\n"
    "                        [--out FILE] [--no-save]\n"
    "       oilcast backtest --by-year [--from-year 2015] [--to-year 2024] [--models ...] [--exog S,...]\n"
    "                        [--format table|csv|json] [--out FILE] [--no-save]\n\n"
    "Every trading day in [start, end] with `horizon` observations after it is a forecast origin; each\n"
    "model sees only the history up to the origin, is refitted every --refit-every origins and updated\n"
    "without refitting in between. Metrics per model and horizon (MAE, RMSE, MAPE, MASE, relMAE against\n"
    "naive, direction hits, 80%/95% coverage, 80% width, Winkler score, Diebold-Mariano p-value against\n"
    "naive) are printed and stored. See docs/evaluation.md.\n\n"
    "  --series S         stored series (default WTI)\n"
    "  --models LIST      comma-separated model specs, kind[:key=value...] (default " OC_PIPELINE_BACKTEST_DEFAULT_MODELS ")\n"
    "                     kinds: `oilcast models kinds` (mlp, the network, costs about ten seconds of CPU\n"
    "                     on two years of origins); e.g. mean:k=10, ets:trend=damped, mlp:epochs=50\n"
    "                     auto: at every refit the candidate with the best worst year (near-ties: median)\n"
    "                     of the 2 x 250 origins before (what retraining `train --model auto` then would\n"
    "                     have scored; on a history too short for that, naive, and it says so);\n"
    "                     ensemble:weights=scored, mlp:bag=5 (five seeds averaged)\n"
    "  --exog S,...       stored series given to every model that reads other series and names none\n"
    "                     (arx, mlp: e.g. --models naive,ar,arx --exog Brent makes arx:exog=Brent); at an\n"
    "                     origin dated t a model sees their values dated <= t only\n"
    "  --start D, --end D origin dates (default: the last 500 possible origins)\n"
    "  --horizon H        observations ahead, 1..64 (default 7)\n"
    "  --refit-every N    origins between refits (default 20)\n"
    "  --threads N        worker threads (default: one per CPU); results do not depend on it\n"
    "  --format F         table (default), csv or json\n"
    "  --out FILE         write the output to FILE (atomically) instead of stdout\n"
    "  --no-save          do not store the run (or the by-year report)\n"
    "  --by-year          the robustness report: the same backtest on each calendar year's origins (each\n"
    "                     forecast from the data up to its origin), relMAE per model, year and horizon, DM\n"
    "                     p-values, coverage, and the years each model beats or loses to naive; stored\n"
    "                     as the series' latest report (GET /v1/backtests/years, the dashboard's Models\n"
    "                     panel); --format json prints the stored document\n"
    "  --from-year Y, --to-year Y   the years (default 2015..2024)\n",
    .run = run};

enum { OPT_SERIES = 1, OPT_MODELS, OPT_EXOG, OPT_START, OPT_END, OPT_HORIZON, OPT_REFIT, OPT_THREADS, OPT_FORMAT, OPT_OUT, OPT_NO_SAVE,
       OPT_BY_YEAR, OPT_FROM_YEAR, OPT_TO_YEAR };

/* What the command adds to the pipeline step's options: how to print the result. */
typedef struct backtest_args {
  oc_pipeline_backtest_options opt;
  const char *format, *out_path;
} backtest_args;

/* Parses one command-specific option into a; returns 0, or an exit code after a usage error. */
static int parse_option(const oc_command *cmd, int opt, const char *arg, backtest_args *a) {
  long v;
  int code = 0;
  switch (opt) {
  case OPT_SERIES: a->opt.series = arg; return 0;
  case OPT_MODELS: a->opt.models = arg; return 0;
  case OPT_EXOG: a->opt.exog = arg; return 0;
  case OPT_START: return oc_cli_parse_date(cmd, "--start", arg, &a->opt.start, &code) ? code : 0;
  case OPT_END: return oc_cli_parse_date(cmd, "--end", arg, &a->opt.end, &code) ? code : 0;
  case OPT_HORIZON:
    if (oc_cli_parse_int(arg, 1, OC_FORECAST_MAX_HORIZON, &v) != 0)
      return oc_cli_usage_error(cmd, "--horizon must be a whole number in 1..%d, not '%s'", OC_FORECAST_MAX_HORIZON, arg);
    a->opt.horizon = (size_t)v;
    return 0;
  case OPT_REFIT:
    if (oc_cli_parse_int(arg, 1, 1000000, &v) != 0)
      return oc_cli_usage_error(cmd, "--refit-every must be a whole number >= 1, not '%s'", arg);
    a->opt.refit_every = (size_t)v;
    return 0;
  case OPT_THREADS:
    if (oc_cli_parse_int(arg, 1, 1024, &v) != 0)
      return oc_cli_usage_error(cmd, "--threads must be a whole number in 1..1024, not '%s'", arg);
    a->opt.threads = (size_t)v;
    return 0;
  case OPT_FORMAT:
    if (strcmp(arg, "table") != 0 && strcmp(arg, "csv") != 0 && strcmp(arg, "json") != 0)
      return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", arg);
    a->format = arg;
    return 0;
  case OPT_OUT: a->out_path = arg; return 0;
  case OPT_NO_SAVE: a->opt.save = false; return 0;
  case OPT_BY_YEAR: a->opt.by_year = true; return 0;
  case OPT_FROM_YEAR:
  case OPT_TO_YEAR:
    if (oc_cli_parse_int(arg, 1900, 9999, &v) != 0)
      return oc_cli_usage_error(cmd, "%s must be a year, not '%s'", opt == OPT_FROM_YEAR ? "--from-year" : "--to-year", arg);
    *(opt == OPT_FROM_YEAR ? &a->opt.from_year : &a->opt.to_year) = (int)v;
    return 0;
  default: return oc_cli_unknown_option(cmd);
  }
}

static const struct option options[] = {{"series", required_argument, NULL, OPT_SERIES},
                                        {"models", required_argument, NULL, OPT_MODELS},
                                        {"exog", required_argument, NULL, OPT_EXOG},
                                        {"start", required_argument, NULL, OPT_START},
                                        {"end", required_argument, NULL, OPT_END},
                                        {"horizon", required_argument, NULL, OPT_HORIZON},
                                        {"refit-every", required_argument, NULL, OPT_REFIT},
                                        {"threads", required_argument, NULL, OPT_THREADS},
                                        {"format", required_argument, NULL, OPT_FORMAT},
                                        {"out", required_argument, NULL, OPT_OUT},
                                        {"no-save", no_argument, NULL, OPT_NO_SAVE},
                                        {"by-year", no_argument, NULL, OPT_BY_YEAR},
                                        {"from-year", required_argument, NULL, OPT_FROM_YEAR},
                                        {"to-year", required_argument, NULL, OPT_TO_YEAR},
                                        OC_CLI_COMMON_OPTIONS,
                                        {0}};

/* The task count is known only once the origins are: the bar learns it from the first report. */
static void show_progress(void *ctx, size_t done, size_t total) {
  oc_progress *p = ctx;
  p->total = total;
  oc_progress_update(p, done, "model x refit blocks");
}

/* Prints the result in a->format to stdout or a->out_path; returns an exit code. */
static int print_result(const backtest_args *a, const oc_pipeline_backtest_result *r) {
  oc_error err;
  oc_buf out = {0};
  int rc = OC_EXIT_OK;
  if (a->opt.by_year) oc_backtest_years_format(&r->years, a->format, r->created_at_iso, &out, &err);
  else oc_backtest_format(&r->run, a->format, r->created_at_iso, &out, &err);
  if (a->out_path) {
    if (oc_write_file_atomic(a->out_path, out.data, out.len, &err) != 0) rc = oc_cli_runtime_error("%s", err.message);
  } else {
    fwrite(out.data, 1, out.len, stdout);
    if (fflush(stdout) != 0) rc = oc_cli_runtime_error("cannot write the output");
  }
  oc_buf_free(&out);
  return rc;
}

static int run(oc_cli *cli, int argc, char **argv) {
  const oc_command *cmd = &oc_cmd_backtest;
  backtest_args a = {.format = "table"};
  oc_pipeline_backtest_options_default(&a.opt);
  oc_error err;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0 && (code = parse_option(cmd, opt, optarg, &a)) != 0) return code;
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  int check_rc = oc_pipeline_backtest_check(&a.opt, &err);
  if (check_rc != 0) return oc_cli_step_error(cmd, check_rc, &err);

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_progress progress;
  oc_progress_start(&progress, "backtest", 0);
  a.opt.on_progress = show_progress;
  a.opt.progress_ctx = &progress;
  oc_pipeline_backtest_result result;
  int run_rc = oc_pipeline_backtest(cli->data_dir, store, &a.opt, &result, &err);
  oc_progress_finish(&progress);
  oc_store_close(store);
  if (run_rc != 0) return oc_cli_step_error(cmd, run_rc, &err);
  int rc = print_result(&a, &result);
  oc_pipeline_backtest_result_free(&result);
  return rc;
}
