/* cmd_ingest.c: `oilcast ingest --source historical|simulated --csv-path FILE` and `--source market
 * --provider P` (or `--replay MANIFEST`): option parsing and
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
    .name = "ingest",
    .summary = "import prices from a CSV, JSON or Parquet file into the store (validated, idempotent)",
    .usage = "Usage: oilcast ingest --source historical --csv-path FILE [--series WTI]\n"
    "                      [--date-col C --value-col C | --series-col C] [--start-date D]\n"
    "                      [--on-error abort|skip] [--unit U]\n\n"
    "Formats (detected): EIA/datahub `Date,Price`; FRED `DATE,<ID>` or `observation_date,<ID>` ('.'\n"
    "or empty = missing; several IDs: pick one with --value-col); any CSV with named columns (long\n"
    "format with a `series` column too); JSON [{\"date\":\"YYYY-MM-DD\",\"price\":P}, ...] or a bare\n"
    "array of prices with --start-date (one per trading day). RFC 4180 quoting, CRLF, BOM and blank\n"
    "lines are fine. Parquet (PAR1 magic or a .parquet name) as DuckDB, pandas/pyarrow or Spark write\n"
    "it (Snappy, ZSTD or none; dictionary and v2 pages; several row groups), its columns chosen by\n"
    "name as for a CSV: dates from DATE, TIMESTAMP (ms/us/ns, UTC or not, one time of day per file),\n"
    "INT96 or 'YYYY-MM-DD' strings; values from DOUBLE, FLOAT, integers, DECIMAL (scaled exactly),\n"
    "BOOLEAN or numeric strings. A null (or NaN) value is counted as missing, never stored; bad rows\n"
    "are FILE:ROW (rows from 1). Every row is validated (strict dates, finite numbers, no duplicate\n"
    "dates); negative prices are legal but flagged. An empty file, a CSV with its header and no data\n"
    "row, an empty JSON array or a Parquet file of no rows is an error (exit 1, nothing stored). The\n"
    "whole file is one transaction: re-importing it changes nothing, a changed value is an update.\n"
    "The file is kept under DIR/raw/historical_data/YYYY-MM-DD/<sha256>.<ext>\n"
    "(DIR/raw/market_data/... for --source simulated). Simulated prices (that source, or a file of\n"
    "`oilcast simulate market` whatever the source) never go into a stored series of real prices:\n"
    "give them a series of their own (--series).\n\n"
    "  --source S         historical (default) or simulated (labels the data as simulated)\n"
    "  --csv-path FILE    the file to import (CSV, JSON or Parquet; --path is the same)\n"
    "  --series NAME      series of a single-series file (default WTI)\n"
    "  --date-col C       date column name (default: Date/DATE/observation_date)\n"
    "  --value-col C      value column name (default: Price/Value/Close or the other column)\n"
    "  --series-col C     long format: the column naming each row's series (default: `series` if present)\n"
    "  --start-date D     date of the first price of a bare JSON array\n"
    "  --on-error abort   any bad row: write nothing, exit 1, list the bad rows (default)\n"
    "  --on-error skip    write the good rows, list the bad ones (no good row: as abort)\n"
    "  --unit U           unit of new series (default USD/bbl)\n"
    /* the market source (docs/market.md) */
    "\nMarket APIs: oilcast ingest --source market --provider eia|fred|alphavantage --series NAME\n"
    "                      [--symbol ID] [--api-key KEY] [--since DATE] [--base-url URL] [--overlap N]\n"
    "             oilcast ingest --source market --replay MANIFEST\n"
    "Fetches daily prices from the provider's API as ONE import: every page or nothing. Without --since\n"
    "it starts N trading days (--overlap, default 10) before the last stored date, so late revisions are\n"
    "caught (a changed value is counted as updated). Timeouts, connection errors, 5xx and 429 are retried\n"
    "with exponential backoff and jitter (Retry-After honoured); 400/401/403 are not. Every answer is kept\n"
    "unchanged under DIR/raw/market_data/<provider>/YYYY-MM-DD/<sha256>.json with a manifest (URL with the\n"
    "key redacted, status, headers, time, SHA-256): the run's lineage, and what --replay reads again.\n"
    "  --provider P       eia (EIA API v2), fred (FRED) or alphavantage (Alpha Vantage)\n"
    "  --symbol ID        the provider's id (default for --series WTI: RWTC, DCOILWTICO, WTI;\n"
    "                     for Brent: RBRTE, DCOILBRENTEU, BRENT)\n"
    "  --api-key KEY      default: env OILCAST_<PROVIDER>_API_KEY, then `<provider>_api_key = KEY` in\n"
    "                     oilcast.conf; never printed, logged or stored\n"
    "  --since DATE       first date to fetch (default: incremental, see --overlap)\n"
    "  --overlap N        trading days fetched again before the last stored date (default 10)\n"
    "  --base-url URL     the API's root (default: the provider's; a mirror or a test server)\n"
    "  --replay MANIFEST  ingest again from a manifest under raw/market_data/ and its files, offline\n"
    "  --retries N        attempts per request, the first included (default 5)\n"
    "  --backoff S        seconds before the first retry, doubled for each next one (default 1)\n"
    "  --timeout S        seconds for one request (default 30)\n"
    "  --time-limit S     seconds for the whole fetch, retries included (default 300)\n",
    .run = run};

enum { OPT_SOURCE = 1, OPT_PATH, OPT_SERIES, OPT_DATE_COL, OPT_VALUE_COL, OPT_SERIES_COL, OPT_START, OPT_ON_ERROR,
       OPT_UNIT };
/* the market source's options */
enum { OPT_PROVIDER = 100, OPT_SYMBOL, OPT_API_KEY, OPT_SINCE, OPT_OVERLAP, OPT_BASE_URL, OPT_REPLAY, OPT_RETRIES,
       OPT_BACKOFF, OPT_TIMEOUT, OPT_TIME_LIMIT };

/* What the import read, as its messages name it: the file, or the market provider and id. */
static const char *origin_of(const oc_pipeline_ingest_options *opt, const oc_pipeline_ingest_result *result,
                             char *buf, size_t cap) {
  if (strcmp(opt->source, "market") != 0) return opt->path;
  const oc_market_report *m = &result->market;
  snprintf(buf, cap, "%s:%s", m->provider ? m->provider->name : "market", m->symbol);
  return buf;
}

/* Parses one market option into io; 0, 1 when opt is not one, or -1 with *code set. */
static int parse_market_option(int opt, oc_pipeline_ingest_options *io, int *code) {
  const oc_command *cmd = &oc_cmd_ingest;
  long n;
  double seconds;
  switch (opt) {
  case OPT_PROVIDER:
    if (!oc_market_provider_find(optarg))
      return *code = oc_cli_usage_error(cmd, "--provider must be %s, not '%s'", oc_market_provider_names, optarg), -1;
    io->provider = optarg;
    return 0;
  case OPT_SYMBOL: io->symbol = optarg; return 0;
  case OPT_API_KEY: io->api_key = optarg; return 0;
  case OPT_BASE_URL: io->base_url = optarg; return 0;
  case OPT_REPLAY: io->replay = optarg; return 0;
  case OPT_SINCE: return oc_cli_parse_date(cmd, "--since", optarg, &io->since, code) != 0 ? -1 : 0;
  case OPT_OVERLAP:
  case OPT_RETRIES:
    if (oc_cli_parse_int(optarg, opt == OPT_OVERLAP ? 0 : 1, 1000, &n) != 0)
      return *code = oc_cli_usage_error(cmd, "%s must be an integer in %d..1000, not '%s'",
                                        opt == OPT_OVERLAP ? "--overlap" : "--retries", opt == OPT_OVERLAP ? 0 : 1,
                                        optarg), -1;
    if (opt == OPT_OVERLAP) io->overlap = (int)n;
    else io->retry.max_attempts = (int)n;
    return 0;
  case OPT_BACKOFF:
  case OPT_TIMEOUT:
  case OPT_TIME_LIMIT:
    /* A backoff of 0 retries at once; a timeout or time limit of 0 would give up before the first request. */
    if (oc_cli_parse_double(optarg, &seconds) != 0 || !(seconds >= 0 && seconds <= 86400) ||
        (opt != OPT_BACKOFF && seconds < 0.001))
      return *code = oc_cli_usage_error(cmd, "%s needs a number of seconds in %s..86400, not '%s'",
                                        opt == OPT_BACKOFF ? "--backoff" : opt == OPT_TIMEOUT ? "--timeout" : "--time-limit",
                                        opt == OPT_BACKOFF ? "0" : "0.001", optarg), -1;
    if (opt == OPT_BACKOFF) io->retry.backoff_base = seconds;
    else if (opt == OPT_TIMEOUT) io->retry.timeout_ms = (long)(seconds * 1000);
    else io->retry.total_seconds = seconds;
    return 0;
  default: return 1;
  }
}

static void print_problems(const char *origin, const oc_ingest_report *r) {
  if (r->rows_rejected) {
    for (size_t i = 0; i < r->nproblems; i++) oc_err("%s:%zu: %s", origin, r->problems[i].where, r->problems[i].reason);
    if ((int64_t)r->nproblems < r->rows_rejected)
      oc_err("%s: ... and %lld more bad rows (%lld in all)", origin, (long long)(r->rows_rejected - (int64_t)r->nproblems),
             (long long)r->rows_rejected);
  }
  for (size_t i = 0; i < r->nnegatives; i++) {
    char date[OC_DATE_STRLEN], value[OC_NUMBER_STRLEN];
    oc_warn("%s:%zu: negative value flagged: %s %s %s", origin, r->negatives[i].where, r->negatives[i].series,
            oc_date_format(r->negatives[i].date, date), oc_format_number(r->negatives[i].value, value));
  }
}

/* The market source's fetch: pages, requests, the start, the revisions listed. */
static void print_market(const char *origin, const oc_market_report *m) {
  char since[OC_DATE_STRLEN], date[OC_DATE_STRLEN], before[OC_NUMBER_STRLEN], after[OC_NUMBER_STRLEN];
  oc_info("%s: %zu pages in %zu requests, from %s", origin, m->pages, m->requests,
          m->since == OC_DATE_INVALID ? "the first date" : oc_date_format(m->since, since));
  for (size_t i = 0; i < m->nrevisions; i++)
    printf("%s: revised %s %s: %s -> %s\n", origin, m->series, oc_date_format(m->revisions[i].date, date),
           oc_format_number(m->revisions[i].before, before), oc_format_number(m->revisions[i].after, after));
}

static void print_summary(const char *origin, const oc_pipeline_ingest_result *result) {
  const oc_ingest_report *r = &result->report;
  printf("%s: %lld rows read (%s, %zu series): %lld inserted, %lld updated, %lld unchanged, %lld rejected, "
         "%lld missing, %lld negative\n",
         origin, (long long)r->rows_read, r->format, r->nseries, (long long)r->rows_inserted,
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
    int market = parse_market_option(opt, io, code);
    if (market <= 0) return market;
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
  bool market = strcmp(io->source, "market") == 0;
  if (!market && !io->path) return oc_cli_usage_error(cmd, "--csv-path FILE is required");
  if (market && io->path) return oc_cli_usage_error(cmd, "--source market reads an API, not --csv-path");
  if (market && !io->provider && !io->replay) return oc_cli_usage_error(cmd, "--source market needs --provider or --replay");
  if (io->replay && (io->provider || series_given))
    return oc_cli_usage_error(cmd, "--replay takes the provider and the series from its manifest");
  if (!market && (io->provider || io->replay))
    return oc_cli_usage_error(cmd, "--provider and --replay belong to --source market");
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
                                        {"provider", required_argument, NULL, OPT_PROVIDER},
                                        {"symbol", required_argument, NULL, OPT_SYMBOL},
                                        {"api-key", required_argument, NULL, OPT_API_KEY},
                                        {"since", required_argument, NULL, OPT_SINCE},
                                        {"overlap", required_argument, NULL, OPT_OVERLAP},
                                        {"base-url", required_argument, NULL, OPT_BASE_URL},
                                        {"replay", required_argument, NULL, OPT_REPLAY},
                                        {"retries", required_argument, NULL, OPT_RETRIES},
                                        {"backoff", required_argument, NULL, OPT_BACKOFF},
                                        {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                        {"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
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

  oc_pipeline_ingest_prepare(&io); /* a fetch's libcurl (~3 ms) loads on the other core while the store opens */
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) {
    oc_pipeline_ingest_prepare_end();
    return OC_EXIT_RUNTIME;
  }
  oc_pipeline_ingest_result result;
  oc_error err;
  int rc = oc_pipeline_ingest(cli->data_dir, store, &io, &result, &err);
  char origin_buf[128];
  const char *origin = origin_of(&io, &result, origin_buf, sizeof origin_buf);
  print_problems(origin, &result.report);
  if (rc == 0 && result.market.provider) print_market(origin, &result.market);
  if (rc == 0) print_summary(origin, &result);
  oc_pipeline_ingest_result_free(&result);
  oc_store_close(store);
  return rc == 0 ? OC_EXIT_OK : oc_cli_step_error(cmd, rc, &err);
}
