/* cmd_ingest.c: `oilcast ingest --source historical|simulated --csv-path FILE`: option parsing and
 * the report; the import itself is oc_import_file() (ingest/import.h). Summary on stdout, bad rows as
 * FILE:LINE: reason on stderr. Later sources (market APIs, sensors) add their own --source values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/progress.h"
#include "ingest/csv.h"
#include "ingest/import.h"
#include "store/datadir.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_ingest = {
    "ingest", "import prices from a CSV or JSON file into the store (validated, idempotent)",
    "Usage: oilcast ingest --source historical --csv-path FILE [--series WTI]\n"
    "                      [--date-col C --value-col C | --series-col C] [--start-date D]\n"
    "                      [--on-error abort|skip] [--unit U]\n\n"
    "Formats (detected): EIA/datahub `Date,Price`; FRED `DATE,<ID>` or `observation_date,<ID>` ('.'\n"
    "or empty = missing); any CSV with named columns (long format with a `series` column too); JSON\n"
    "[{\"date\":\"YYYY-MM-DD\",\"price\":P}, ...] or a bare array of prices with --start-date (one per\n"
    "business day). RFC 4180 quoting, CRLF, BOM and blank lines are fine.\n"
    "Every row is validated (strict dates, finite numbers, no duplicate dates); negative prices are\n"
    "legal but flagged. The whole file is one transaction: re-importing it changes nothing, a changed\n"
    "value is an update. The file is kept under DIR/raw/historical_data/YYYY-MM-DD/<sha256>.<ext>\n"
    "(DIR/raw/market_data/... for --source simulated).\n\n"
    "  --source S         historical (default) or simulated (labels the data as simulated)\n"
    "  --csv-path FILE    the file to import (CSV or JSON; --path is the same)\n"
    "  --series NAME      series of a single-series file (default WTI)\n"
    "  --date-col C       date column name (default: Date/DATE/observation_date)\n"
    "  --value-col C      value column name (default: Price/Value/Close or the other column)\n"
    "  --series-col C     long format: the column naming each row's series (default: `series` if present)\n"
    "  --start-date D     date of the first price of a bare JSON array\n"
    "  --on-error abort   any bad row: write nothing, exit 1, list the bad rows (default)\n"
    "  --on-error skip    write the good rows, list the bad ones\n"
    "  --unit U           unit of new series (default USD/bbl)\n",
    run};

enum { OPT_SOURCE = 1, OPT_PATH, OPT_SERIES, OPT_DATE_COL, OPT_VALUE_COL, OPT_SERIES_COL, OPT_START, OPT_ON_ERROR,
       OPT_UNIT };

static void print_report(const oc_import_options *opt, const oc_import_report *r) {
  if (r->rows_rejected) {
    for (size_t i = 0; i < r->nproblems; i++) oc_err("%s:%zu: %s", opt->path, r->problems[i].line, r->problems[i].reason);
    if ((int64_t)r->nproblems < r->rows_rejected)
      oc_err("%s: ... and %lld more bad rows (%lld in all)", opt->path, (long long)(r->rows_rejected - (int64_t)r->nproblems),
             (long long)r->rows_rejected);
  }
  for (size_t i = 0; i < r->nnegatives; i++) {
    char date[OC_DATE_STRLEN], value[OC_NUMBER_STRLEN];
    oc_warn("%s:%zu: negative value flagged: %s %s %s", opt->path, r->negatives[i].line, r->negatives[i].series,
            oc_date_format(r->negatives[i].date, date), oc_format_number(r->negatives[i].value, value));
  }
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"source", required_argument, NULL, OPT_SOURCE},
                                          {"csv-path", required_argument, NULL, OPT_PATH},
                                          {"path", required_argument, NULL, OPT_PATH},
                                          {"series", required_argument, NULL, OPT_SERIES},
                                          {"date-col", required_argument, NULL, OPT_DATE_COL},
                                          {"value-col", required_argument, NULL, OPT_VALUE_COL},
                                          {"series-col", required_argument, NULL, OPT_SERIES_COL},
                                          {"start-date", required_argument, NULL, OPT_START},
                                          {"on-error", required_argument, NULL, OPT_ON_ERROR},
                                          {"unit", required_argument, NULL, OPT_UNIT},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_ingest;
  oc_import_options io;
  oc_import_options_init(&io);
  bool series_given = false;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_SOURCE:
      if (strcmp(optarg, "historical") != 0 && strcmp(optarg, "simulated") != 0)
        return oc_cli_usage_error(cmd, "--source must be historical or simulated, not '%s'", optarg);
      io.source_kind = optarg;
      break;
    case OPT_PATH: io.path = optarg; break;
    case OPT_SERIES: io.series = optarg, series_given = true; break;
    case OPT_DATE_COL: io.date_col = optarg; break;
    case OPT_VALUE_COL: io.value_col = optarg; break;
    case OPT_SERIES_COL: io.series_col = optarg; break;
    case OPT_UNIT: io.unit = optarg; break;
    case OPT_START:
      if (oc_cli_parse_date(cmd, "--start-date", optarg, &io.start_date, &code) != 0) return code;
      break;
    case OPT_ON_ERROR:
      if (strcmp(optarg, "abort") == 0) io.on_error = OC_ON_ERROR_ABORT;
      else if (strcmp(optarg, "skip") == 0) io.on_error = OC_ON_ERROR_SKIP;
      else return oc_cli_usage_error(cmd, "--on-error must be abort or skip, not '%s'", optarg);
      break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_usage_error(cmd, "unknown option");
    }
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!io.path) return oc_cli_usage_error(cmd, "--csv-path FILE is required");
  if (series_given && io.series_col) return oc_cli_usage_error(cmd, "--series and --series-col exclude each other");
  const char *reason;
  if (oc_series_name_check(io.series, strlen(io.series), &reason) != 0)
    return oc_cli_usage_error(cmd, "--series '%s': %s", io.series, reason);

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  /* Simulated input is market data that never existed: keep its lineage apart from real history. */
  char *raw_dir = oc_path_join(cli->data_dir, strcmp(io.source_kind, "simulated") == 0 ? "raw/market_data"
                                                                                        : "raw/historical_data");
  io.raw_dir = raw_dir;
  oc_import_report report;
  oc_error err;
  double t0 = oc_monotonic_seconds();
  int rc = oc_import_file(store, &io, &report, &err);
  double elapsed = oc_monotonic_seconds() - t0;
  print_report(&io, &report);
  if (rc != 0) {
    oc_err("%s", err.message);
  } else {
    printf("%s: %lld rows read (%s, %zu series): %lld inserted, %lld updated, %lld unchanged, %lld rejected, "
           "%lld missing, %lld negative\n",
           io.path, (long long)report.rows_read, report.format, report.nseries, (long long)report.rows_inserted,
           (long long)report.rows_updated, (long long)report.rows_unchanged, (long long)report.rows_rejected,
           (long long)report.rows_missing, (long long)report.negative_values);
    oc_info("import run %lld committed in %.2f s (%.0f rows/s); original kept as %s", (long long)report.run_id,
            elapsed, elapsed > 0 ? (double)report.rows_read / elapsed : 0.0, report.raw_path);
  }
  oc_import_report_free(&report);
  free(raw_dir);
  oc_store_close(store);
  return rc == 0 ? OC_EXIT_OK : OC_EXIT_RUNTIME;
}
