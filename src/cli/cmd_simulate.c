/* cmd_simulate.c: `oilcast simulate market`: writes a SIMULATED market as an importable CSV (see
 * ingest/simulate.h for the model). Needs no data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "ingest/simulate.h"
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
    "  --count K         K series named PREFIX-0001.. (PREFIX from --series)\n",
    run};

enum { OPT_DAYS = 1, OPT_OUT, OPT_SEED, OPT_START, OPT_SERIES, OPT_COUNT };

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"days", required_argument, NULL, OPT_DAYS},
                                          {"out", required_argument, NULL, OPT_OUT},
                                          {"seed", required_argument, NULL, OPT_SEED},
                                          {"start-date", required_argument, NULL, OPT_START},
                                          {"series", required_argument, NULL, OPT_SERIES},
                                          {"count", required_argument, NULL, OPT_COUNT},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_simulate;
  long days = 0, seed = 42, count = 0;
  const char *out = NULL, *series = "WTI-SIM";
  oc_date start = oc_date_from_ymd(2000, 1, 3);
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_DAYS:
      if (oc_cli_parse_int(optarg, 1, 100000000, &days) != 0)
        return oc_cli_usage_error(cmd, "--days must be a whole number >= 1, not '%s'", optarg);
      break;
    case OPT_OUT: out = optarg; break;
    case OPT_SEED:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &seed) != 0)
        return oc_cli_usage_error(cmd, "--seed must be a whole number >= 0, not '%s'", optarg);
      break;
    case OPT_START:
      if (oc_cli_parse_date(cmd, "--start-date", optarg, &start, &code) != 0) return code;
      break;
    case OPT_SERIES: series = optarg; break;
    case OPT_COUNT:
      if (oc_cli_parse_int(optarg, 1, 100000, &count) != 0)
        return oc_cli_usage_error(cmd, "--count must be 1..100000, not '%s'", optarg);
      break;
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
  if (!days) return oc_cli_usage_error(cmd, "--days is required");
  if (!out) return oc_cli_usage_error(cmd, "--out is required");

  char *list = oc_xstrdup(series);
  char **names = NULL;
  size_t n = 0, cap = 0;
  oc_buf generated = {0};
  if (count) {
    for (long i = 1; i <= count; i++) oc_buf_printf(&generated, "%s-%04ld%c", list, i, '\0');
    for (const char *p = generated.data; n < (size_t)count; p += strlen(p) + 1) {
      oc_xgrow((void **)&names, &cap, n + 1, sizeof *names);
      names[n++] = (char *)p;
    }
  } else {
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      oc_xgrow((void **)&names, &cap, n + 1, sizeof *names);
      names[n++] = tok;
    }
  }
  int rc = OC_EXIT_OK;
  for (size_t i = 0; i < n && rc == OC_EXIT_OK; i++) {
    const char *reason;
    if (oc_series_name_check(names[i], strlen(names[i]), &reason) != 0)
      rc = oc_cli_usage_error(cmd, "--series '%s': %s", names[i], reason);
  }
  if (n == 0) rc = oc_cli_usage_error(cmd, "--series names no series");
  if (rc == OC_EXIT_OK) {
    oc_simulate_options so = {.seed = (uint64_t)seed, .days = (size_t)days, .start = start,
                              .names = (const char *const *)names, .nseries = n};
    oc_error err;
    if (oc_simulate_market_csv(&so, out, &err) != 0) {
      rc = oc_cli_runtime_error("%s", err.message);
    } else {
      oc_info("wrote %s: %zu simulated series x %ld trading days (seed %ld)", out, n, days, seed);
    }
  }
  free(names);
  free(list);
  oc_buf_free(&generated);
  return rc;
}
