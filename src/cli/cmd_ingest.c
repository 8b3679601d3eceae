/* cmd_ingest.c: `oilcast ingest --source historical|simulated --csv-path FILE`: option parsing and
 * the report; the step itself is oc_pipeline_ingest() (pipeline/ingest.h), whose source table decides
 * which --source values exist. Summary on stdout, bad rows as FILE:LINE: reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/csv.h"
#include "core/log.h"
#include "pipeline/ingest.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_ingest = {
    "ingest", "import prices from a CSV, JSON or Parquet file into the store (validated, idempotent)",
    "Usage: oilcast ingest --source historical --csv-path FILE [--series WTI]\n"
    "                      [--date-col C --value-col C | --series-col C] [--start-date D]\n"
    "                      [--on-error abort|skip] [--unit U]\n\n"
    "Formats (detected): EIA/datahub `Date,Price`; FRED `DATE,<ID>` or `observation_date,<ID>` ('.'\n"
    "or empty = missing); any CSV with named columns (long format with a `series` column too); JSON\n"
    "[{\"date\":\"YYYY-MM-DD\",\"price\":P}, ...] or a bare array of prices with --start-date (one per\n"
    "trading day). RFC 4180 quoting, CRLF, BOM and blank lines are fine. Parquet (PAR1 magic or a\n"
    ".parquet name) as DuckDB, pandas/pyarrow or Spark write it (Snappy, ZSTD or none; dictionary\n"
    "and v2 pages; several row groups), its columns chosen by name as for a CSV: dates from DATE,\n"
    "TIMESTAMP (ms/us/ns, UTC or not, one time of day per file), INT96 or 'YYYY-MM-DD' strings;\n"
    "values from DOUBLE, FLOAT, integers, DECIMAL (scaled exactly), BOOLEAN or numeric strings. A\n"
    "null (or NaN) value is counted as missing, never stored; bad rows are FILE:ROW (rows from 1).\n"
    "Every row is validated (strict dates, finite numbers, no duplicate dates); negative prices are\n"
    "legal but flagged. The whole file is one transaction: re-importing it changes nothing, a changed\n"
    "value is an update. The file is kept under DIR/raw/historical_data/YYYY-MM-DD/<sha256>.<ext>\n"
    "(DIR/raw/market_data/... for --source simulated).\n\n"
    "  --source S         historical (default) or simulated (labels the data as simulated)\n"
    "  --csv-path FILE    the file to import (CSV, JSON or Parquet; --path is the same)\n"
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

static void print_problems(const oc_pipeline_ingest_options *opt, const oc_ingest_report *r) {
  if (r->rows_rejected) {
    for (size_t i = 0; i < r->nproblems; i++) oc_err("%s:%zu: %s", opt->path, r->problems[i].where, r->problems[i].reason);
    if ((int64_t)r->nproblems < r->rows_rejected)
      oc_err("%s: ... and %lld more bad rows (%lld in all)", opt->path, (long long)(r->rows_rejected - (int64_t)r->nproblems),
             (long long)r->rows_rejected);
  }
  for (size_t i = 0; i < r->nnegatives; i++) {
    char date[OC_DATE_STRLEN], value[OC_NUMBER_STRLEN];
    oc_warn("%s:%zu: negative value flagged: %s %s %s", opt->path, r->negatives[i].where, r->negatives[i].series,
            oc_date_format(r->negatives[i].date, date), oc_format_number(r->negatives[i].value, value));
  }
}

static void print_summary(const oc_pipeline_ingest_options *opt, const oc_pipeline_ingest_result *result) {
  const oc_ingest_report *r = &result->report;
  printf("%s: %lld rows read (%s, %zu series): %lld inserted, %lld updated, %lld unchanged, %lld rejected, "
         "%lld missing, %lld negative\n",
         opt->path, (long long)r->rows_read, r->format, r->nseries, (long long)r->rows_inserted,
         (long long)r->rows_updated, (long long)r->rows_unchanged, (long long)r->rows_rejected,
         (long long)r->rows_missing, (long long)r->negative_values);
  oc_info("import run %lld committed in %.2f s (%.0f rows/s); original kept as %s", (long long)r->run_id,
          result->seconds, result->seconds > 0 ? (double)r->rows_read / result->seconds : 0.0, r->raw_path);
}

/* Parses one option of this command into io; 0, or -1 with *code set. */
static int parse_option(oc_cli *cli, int opt, oc_pipeline_ingest_options *io, bool *series_given, int *code) {
  const oc_command *cmd = &oc_cmd_ingest;
  switch (opt) {
  case OPT_SOURCE: {
    char known[128];
    if (!oc_pipeline_ingest_source_known(optarg, known, sizeof known))
      return *code = oc_cli_usage_error(cmd, "--source must be %s, not '%s'", known, optarg), -1;
    io->source = optarg;
    return 0;
  }
  case OPT_PATH: io->path = optarg; return 0;
  case OPT_SERIES: io->series = optarg, *series_given = true; return 0;
  case OPT_DATE_COL: io->date_col = optarg; return 0;
  case OPT_VALUE_COL: io->value_col = optarg; return 0;
  case OPT_SERIES_COL: io->series_col = optarg; return 0;
  case OPT_UNIT: io->unit = optarg; return 0;
  case OPT_START: return oc_cli_parse_date(cmd, "--start-date", optarg, &io->start_date, code) != 0 ? -1 : 0;
  case OPT_ON_ERROR:
    if (strcmp(optarg, "abort") == 0) io->on_error = OC_ON_ERROR_ABORT;
    else if (strcmp(optarg, "skip") == 0) io->on_error = OC_ON_ERROR_SKIP;
    else return *code = oc_cli_usage_error(cmd, "--on-error must be abort or skip, not '%s'", optarg), -1;
    return 0;
  default: {
    int handled = oc_cli_common_option(cli, cmd, opt, optarg, code);
    if (handled < 0) return -1;
    if (handled == 0) return *code = oc_cli_unknown_option(cmd), -1;
    return 0;
  }
  }
}

/* The checks that need every option; 0, or the usage error's exit code. */
static int check_options(const oc_pipeline_ingest_options *io, bool series_given) {
  const oc_command *cmd = &oc_cmd_ingest;
  if (!io->path) return oc_cli_usage_error(cmd, "--csv-path FILE is required");
  if (series_given && io->series_col) return oc_cli_usage_error(cmd, "--series and --series-col exclude each other");
  const char *reason;
  if (oc_series_name_check(io->series, strlen(io->series), &reason) != 0)
    return oc_cli_usage_error(cmd, "--series '%s': %s", io->series, reason);
  return 0;
}

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

static int run(oc_cli *cli, int argc, char **argv) {
  const oc_command *cmd = &oc_cmd_ingest;
  oc_pipeline_ingest_options io = oc_pipeline_ingest_options_default();
  bool series_given = false;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
    if (parse_option(cli, opt, &io, &series_given, &code) != 0) return code;
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if ((code = check_options(&io, series_given)) != 0) return code;

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_pipeline_ingest_result result;
  oc_error err;
  int rc = oc_pipeline_ingest(cli->data_dir, store, &io, &result, &err);
  print_problems(&io, &result.report);
  if (rc == 0) print_summary(&io, &result);
  oc_pipeline_ingest_result_free(&result);
  oc_store_close(store);
  return rc == 0 ? OC_EXIT_OK : oc_cli_step_error(cmd, rc, &err);
}
