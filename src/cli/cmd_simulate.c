/* cmd_simulate.c: `oilcast simulate market`: writes a SIMULATED market as an importable CSV (see
 * ingest/simulate.h for the model). Needs no data directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "ingest/simulate.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_simulate = {
    "simulate", "write a simulated oil market (for demos and benchmarks) as CSV",
    "Usage: oilcast simulate market --days N --out FILE.csv [--seed S] [--start-date D]\n"
    "                               [--series NAME[,NAME...] | --series PREFIX --count K]\n\n"
    "Writes SIMULATED prices, one per trading day: log price with mean reversion to a wandering\n"
    "long-run level, Markov-switching volatility regimes and rare jumps, levels roughly 20..150 USD.\n"
    "The same seed gives the same file. One series: `date,value`; several: `date,series,value`.\n"
    "Import with: oilcast ingest --source simulated --csv-path FILE.csv [--series NAME]\n\n"
    "  --days N          trading days per series (required)\n"
    "  --out FILE        output CSV (required)\n"
    "  --seed S          PRNG seed (default 42)\n"
    "  --start-date D    first date, YYYY-MM-DD (default 2000-01-03)\n"
    "  --series NAMES    comma-separated series names (default WTI-SIM)\n"
    "  --count K         K series named PREFIX-0001.. (PREFIX from --series)\n"
    "  --regime-change DAY:BEFORE:AFTER   a trend of BEFORE per day in log price until trading day DAY,\n"
    "                    AFTER from it on (e.g. 250:0.006:-0.006, a rally turning into a slide)\n",
    run};

enum { OPT_DAYS = 1, OPT_OUT, OPT_SEED, OPT_START, OPT_SERIES, OPT_COUNT, OPT_REGIME_CHANGE };

/* What the command line asks for. */
typedef struct simulate_args {
  long days, seed, count;
  const char *out, *series;
  oc_date start;
  oc_regime_change change;
} simulate_args;

/* Reads the options into *a; returns -1 when they are consistent, else the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, simulate_args *a) {
  static const struct option options[] = {{"days", required_argument, NULL, OPT_DAYS},
                                          {"out", required_argument, NULL, OPT_OUT},
                                          {"seed", required_argument, NULL, OPT_SEED},
                                          {"start-date", required_argument, NULL, OPT_START},
                                          {"series", required_argument, NULL, OPT_SERIES},
                                          {"count", required_argument, NULL, OPT_COUNT},
                                          {"regime-change", required_argument, NULL, OPT_REGIME_CHANGE},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_simulate;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_DAYS:
      if (oc_cli_parse_int(optarg, 1, 100000000, &a->days) != 0)
        return oc_cli_usage_error(cmd, "--days must be a whole number >= 1, not '%s'", optarg);
      break;
    case OPT_OUT: a->out = optarg; break;
    case OPT_SEED:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &a->seed) != 0)
        return oc_cli_usage_error(cmd, "--seed must be a whole number >= 0, not '%s'", optarg);
      break;
    case OPT_START:
      if (oc_cli_parse_date(cmd, "--start-date", optarg, &a->start, &code) != 0) return code;
      break;
    case OPT_SERIES: a->series = optarg; break;
    case OPT_COUNT:
      if (oc_cli_parse_int(optarg, 1, 100000, &a->count) != 0)
        return oc_cli_usage_error(cmd, "--count must be 1..100000, not '%s'", optarg);
      break;
    case OPT_REGIME_CHANGE: {
      int used = 0;
      if (sscanf(optarg, "%zu:%lf:%lf%n", &a->change.at, &a->change.drift_before, &a->change.drift_after, &used) != 3 ||
          optarg[used] || !(fabs(a->change.drift_before) < 0.1) || !(fabs(a->change.drift_after) < 0.1))
        return oc_cli_usage_error(cmd, "--regime-change takes DAY:BEFORE:AFTER with daily drifts under 0.1, not '%s'",
                                  optarg);
      break;
    }
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(cmd);
    }
    }
  }
  if (optind >= argc || strcmp(argv[optind], "market") != 0)
    return oc_cli_usage_error(cmd, "expected 'simulate market'");
  if (optind + 1 < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (!a->days) return oc_cli_usage_error(cmd, "--days is required");
  if (!a->out) return oc_cli_usage_error(cmd, "--out is required");
  return -1;
}

/* The series to simulate: --series as a comma-separated list, or with --count N the names
 * SERIES-0001..SERIES-N. */
static void series_names(const simulate_args *a, oc_pipeline_list *names) {
  if (!a->count) {
    oc_pipeline_list_split(a->series, names);
    return;
  }
  oc_buf generated = {0};
  for (long i = 1; i <= a->count; i++) oc_buf_printf(&generated, "%s-%04ld%c", a->series, i, '\0');
  *names = (oc_pipeline_list){.n = (size_t)a->count, .items = oc_xcalloc((size_t)a->count, sizeof *names->items),
                              .storage = generated.data};
  const char *p = generated.data;
  for (size_t i = 0; i < names->n; i++, p += strlen(p) + 1) names->items[i] = p;
}

static int run(oc_cli *cli, int argc, char **argv) {
  simulate_args a = {.seed = 42, .series = "WTI-SIM", .start = oc_date_from_ymd(2000, 1, 3)};
  int rc = parse_options(cli, argc, argv, &a);
  if (rc >= 0) return rc;
  oc_pipeline_list names;
  series_names(&a, &names);
  rc = OC_EXIT_OK;
  for (size_t i = 0; i < names.n && rc == OC_EXIT_OK; i++) {
    const char *reason;
    if (oc_series_name_check(names.items[i], strlen(names.items[i]), &reason) != 0)
      rc = oc_cli_usage_error(&oc_cmd_simulate, "--series '%s': %s", names.items[i], reason);
  }
  if (names.n == 0) rc = oc_cli_usage_error(&oc_cmd_simulate, "--series names no series");
  if (rc == OC_EXIT_OK) {
    oc_simulate_options so = {.seed = (uint64_t)a.seed, .days = (size_t)a.days, .start = a.start,
                              .names = names.items, .nseries = names.n, .change = a.change};
    oc_error err;
    if (oc_simulate_market_csv(&so, a.out, &err) != 0) rc = oc_cli_runtime_error("%s", err.message);
    else oc_info("wrote %s: %zu simulated series x %ld trading days (seed %ld)", a.out, names.n, a.days, a.seed);
  }
  oc_pipeline_list_free(&names);
  return rc;
}
