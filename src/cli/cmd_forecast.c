/* cmd_forecast.c: `oilcast forecast`: prices and their 80%/95% intervals for the next trading days
 * from a registered version of any kind (by endpoint or version), from the stored history or a JSON
 * history given on the command line, here or by a running server (--url); or batch predictions. Parses
 * options and the history file, calls pipeline/forecast.h (or pipeline/batch_forecast.h) and prints. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/calendar.h"
#include "core/json.h"
#include "core/log.h"
#include "model/registry.h"
#include "pipeline/forecast.h"
#include "pipeline/batch_forecast.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_forecast = {
    .name = "forecast", .summary = "forecast prices for the next trading days with a registered model",
    .usage = "Usage: oilcast forecast [--endpoint-name NAME | --model vN] [--series WTI] [--current-price P]\n"
    "                        [--historical-prices FILE.json] [--forecast-days N] [--format table|csv|json]\n\n"
    "  --endpoint-name NAME     the model an endpoint serves (default " OC_DEFAULT_ENDPOINT ")\n"
    "  --model vN               a registered version instead of an endpoint\n"
    "  --series NAME            stored series to forecast (default: the model's series)\n"
    "  --historical-prices F    forecast from this history instead of the store: a JSON array of prices\n"
    "                           (dated as consecutive trading days ending today) or of\n"
    "                           {\"date\": \"YYYY-MM-DD\", \"price\": P} objects, ascending\n"
    "  --current-price P        the latest price, appended one trading day after the history\n"
    "                           (undated history: P is today's price)\n"
    "  --forecast-days N        trading days ahead: for a network 1..H, its horizon (default H; it\n"
    "                           predicts each horizon directly, so more than H is refused); for any\n"
    "                           other kind 1..64 (default 7)\n"
    "  --format F               table (default), csv (date,price,lower80,upper80,lower95,upper95,model)\n"
    "                           or json\n"
    "  --url URL                ask a running `oilcast serve` (its endpoint) instead of forecasting here;\n"
    "                           same output. The key: --api-key KEY or $OILCAST_API_KEY (read scope)\n"
    "  --batch IN.csv|IN.parquet --out OUT.csv|OUT.parquet [--threads N]\n"
    "                           batch predictions by a version of any kind: one forecast per input row\n"
    "                           (columns series, origin) from the stored history up to that origin (a\n"
    "                           forecaster is fitted on it), across N threads (default 2); OUT has\n"
    "                           series,origin,as_of,date,horizon,price,lower80,upper80,lower95,upper95,model\n\n"
    "Each forecast made here is stored (the dashboard and `oilcast serve` read it). The history must be\n"
    "long enough for every feature; when it is not, the error says how many observations are needed.\n",
    .run = run};

enum { OPT_ENDPOINT = 1, OPT_MODEL, OPT_SERIES, OPT_CURRENT, OPT_HISTORY, OPT_DAYS, OPT_FORMAT, OPT_URL, OPT_API_KEY, OPT_BATCH,
       OPT_OUT, OPT_THREADS };

/* Reads FILE.json into *s (named name). current_price (NAN when absent) is appended as described in
 * the usage text. */
static int read_history(const char *path, const char *name, double current_price, oc_series *s, oc_error *err) {
  json_error_t jerr;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) return oc_error_set(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
  if (!json_is_array(root) || json_array_size(root) == 0) {
    json_decref(root);
    return oc_error_set(err, "%s: expected a non-empty JSON array of prices or of {date, price} objects", path);
  }
  size_t n = json_array_size(root), total = n + (isnan(current_price) ? 0 : 1);
  bool dated = json_is_object(json_array_get(root, 0));
  oc_series_init(s, name, total);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    json_t *item = json_array_get(root, i);
    if (dated) {
      const char *date;
      double price;
      if (json_unpack_ex(item, &jerr, 0, "{s:s, s:F}", "date", &date, "price", &price) != 0) {
        rc = oc_error_set(err, "%s: element %zu: %s", path, i, jerr.text);
      } else if (oc_date_parse(date, strlen(date), &s->dates[i], NULL) != 0) {
        rc = oc_error_set(err, "%s: element %zu: date '%s' is not YYYY-MM-DD", path, i, date);
      } else if (i > 0 && s->dates[i] <= s->dates[i - 1]) {
        rc = oc_error_set(err, "%s: element %zu: date %s is not after the previous one", path, i, date);
      } else {
        s->values[i] = price;
      }
    } else if (!json_is_number(item)) {
      rc = oc_error_set(err, "%s: element %zu is not a number (an array holds all prices or all {date, price})", path, i);
    } else {
      s->values[i] = json_number_value(item);
    }
    if (rc == 0 && !isfinite(s->values[i])) rc = oc_error_set(err, "%s: element %zu is not a finite price", path, i);
  }
  json_decref(root);
  if (rc == 0 && !isnan(current_price)) s->values[n] = current_price;
  if (rc == 0 && dated && !isnan(current_price)) s->dates[n] = oc_calendar_next_trading_day(s->dates[n - 1]);
  if (rc == 0 && !dated) {
    oc_date last = oc_calendar_trading_day_on_or_before(oc_date_today_utc());
    for (size_t i = 0; i < total; i++) s->dates[i] = oc_calendar_add_trading_days(last, -(int)(total - 1 - i));
  }
  if (rc != 0) oc_series_free(s);
  return rc;
}

static void print_forecast(const oc_forecast_result *r, const char *fmt) {
  const oc_price_forecast *f = &r->forecast;
  char d[OC_DATE_STRLEN], origin[OC_DATE_STRLEN];
  oc_date_format(f->origin, origin);
  if (strcmp(fmt, "table") == 0) {
    printf("%s forecast by model %s (%s) from %s (last price %.2f)\n", r->series, r->model_version, r->model_kind,
           origin, f->origin_price);
    printf("%-10s  %10s  %10s  %10s  %10s  %10s  %s\n", "date", "price", "lower80", "upper80", "lower95", "upper95",
           "model");
    for (size_t i = 0; i < f->horizon; i++)
      printf("%-10s  %10.2f  %10.2f  %10.2f  %10.2f  %10.2f  %s\n", oc_date_format(r->dates[i], d), f->mean[i], f->lo80[i],
             f->hi80[i], f->lo95[i], f->hi95[i], r->model_version);
  } else if (strcmp(fmt, "csv") == 0) {
    printf("date,price,lower80,upper80,lower95,upper95,model\n");
    for (size_t i = 0; i < f->horizon; i++)
      printf("%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s\n", oc_date_format(r->dates[i], d), f->mean[i], f->lo80[i], f->hi80[i],
             f->lo95[i], f->hi95[i], r->model_version);
  } else { /* the document `oilcast dashboard --forecast-data` reads (docs/dashboard.md) */
    json_t *points = json_array();
    for (size_t i = 0; i < f->horizon; i++)
      json_array_append_new(points, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "date",
                                              oc_date_format(r->dates[i], d), "horizon", (json_int_t)(i + 1), "price",
                                              oc_json_number(f->mean[i]), "log_return",
                                              oc_json_number(log(f->mean[i] / f->origin_price)), "lower80",
                                              oc_json_number(f->lo80[i]), "upper80", oc_json_number(f->hi80[i]),
                                              "lower95", oc_json_number(f->lo95[i]), "upper95", oc_json_number(f->hi95[i])));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "series", r->series, "model", r->model_version, "kind",
                            r->model_kind, "as_of", origin, "last_price", oc_json_number(f->origin_price), "forecast",
                            points);
    oc_json_print(stdout, doc, OC_JSON_COMPACT);
    json_decref(doc);
  }
}

/* --batch: pipeline/batch_forecast.h with the endpoint's (or --model's) version, of any kind. */
static int forecast_batch(oc_cli *cli, const char *endpoint, int64_t version, const char *in, const char *out,
                          int days, int threads) {
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  oc_batch_report report;
  int rc = 0;
  if (!version) rc = oc_registry_endpoint_version(store, endpoint ? endpoint : OC_DEFAULT_ENDPOINT, &version, &err);
  oc_batch_options opt = {.data_dir = cli->data_dir, .version = version, .in_path = in, .out_path = out,
                          .days = days, .threads = threads};
  if (rc == 0) rc = oc_batch_forecast(store, &opt, &report, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  oc_info("batch: %zu rows, %zu forecast lines to %s in %.2f s on %d threads", report.rows, report.forecasts, out,
          report.seconds, threads);
  return OC_EXIT_OK;
}

/* What the command line asks for: the pipeline's options and what only the command handles. */
typedef struct forecast_args {
  oc_forecast_options fo;
  const char *history_path, *fmt, *batch, *out_path;
  double current;
  long threads;
} forecast_args;

/* Reads the options into *a; returns -1 when they are consistent, else the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, forecast_args *a) {
  static const struct option options[] = {
      {"endpoint-name", required_argument, NULL, OPT_ENDPOINT}, {"model", required_argument, NULL, OPT_MODEL},
      {"series", required_argument, NULL, OPT_SERIES},          {"current-price", required_argument, NULL, OPT_CURRENT},
      {"historical-prices", required_argument, NULL, OPT_HISTORY}, {"forecast-days", required_argument, NULL, OPT_DAYS},
      {"format", required_argument, NULL, OPT_FORMAT},          {"url", required_argument, NULL, OPT_URL},
      {"api-key", required_argument, NULL, OPT_API_KEY},        {"batch", required_argument, NULL, OPT_BATCH},
      {"out", required_argument, NULL, OPT_OUT},                {"threads", required_argument, NULL, OPT_THREADS},
      OC_CLI_COMMON_OPTIONS,
      {0}};
  const oc_command *cmd = &oc_cmd_forecast;
  oc_forecast_options *fo = &a->fo;
  long days;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_ENDPOINT: fo->endpoint = optarg; break;
    case OPT_MODEL:
      if (oc_model_version_parse(optarg, &fo->version) != 0)
        return oc_cli_usage_error(cmd, "--model '%s' is not a model version (v1, v2, ...)", optarg);
      break;
    case OPT_SERIES: fo->series = optarg; break;
    case OPT_CURRENT:
      if (oc_cli_parse_double(optarg, &a->current) != 0 || !(a->current > 0))
        return oc_cli_usage_error(cmd, "--current-price must be a positive number, not '%s'", optarg);
      break;
    case OPT_HISTORY: a->history_path = optarg; break;
    case OPT_DAYS:
      if (oc_cli_parse_int(optarg, 1, 366, &days) != 0)
        return oc_cli_usage_error(cmd, "--forecast-days must be a whole number from 1, not '%s'", optarg);
      fo->days = (size_t)days;
      break;
    case OPT_FORMAT:
      if (strcmp(optarg, "table") != 0 && strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
        return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", optarg);
      a->fmt = optarg;
      break;
    case OPT_URL: fo->url = optarg; break;
    case OPT_API_KEY: fo->api_key = optarg; break;
    case OPT_BATCH: a->batch = optarg; break;
    case OPT_OUT: a->out_path = optarg; break;
    case OPT_THREADS:
      if (oc_cli_parse_int(optarg, 1, 256, &a->threads) != 0) return oc_cli_usage_error(cmd, "--threads must be 1..256");
      break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(cmd);
    }
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (fo->endpoint && fo->version) return oc_cli_usage_error(cmd, "give --endpoint-name or --model, not both");
  if ((a->batch || a->out_path) && (!a->batch || !a->out_path))
    return oc_cli_usage_error(cmd, "--batch IN and --out OUT go together");
  if (a->batch && (fo->url || a->history_path)) return oc_cli_usage_error(cmd, "--batch forecasts from the store, here");
  if (fo->url && fo->version) return oc_cli_usage_error(cmd, "--url asks an endpoint: use --endpoint-name, not --model");
  if (fo->url && !a->history_path && !isnan(a->current))
    return oc_cli_usage_error(cmd, "with --url, --current-price goes with --historical-prices");
  /* a history file takes the current price in (read_history); the stored history gets it appended */
  fo->current_price = a->history_path ? NAN : a->current;
  return -1;
}

static int run(oc_cli *cli, int argc, char **argv) {
  forecast_args a = {.fo = oc_forecast_options_default(), .fmt = "table", .current = NAN, .threads = 2};
  a.fo.api_key = getenv("OILCAST_API_KEY");
  int rc = parse_options(cli, argc, argv, &a);
  if (rc >= 0) return rc;
  if (a.batch)
    return forecast_batch(cli, a.fo.endpoint, a.fo.version, a.batch, a.out_path, (int)a.fo.days, (int)a.threads);
  oc_error err;
  oc_series history = {0};
  oc_store *store = NULL;
  rc = OC_EXIT_OK;
  if (a.history_path && read_history(a.history_path, a.fo.series ? a.fo.series : "WTI", a.current, &history, &err) != 0)
    rc = oc_cli_runtime_error("%s", err.message);
  else if (!a.fo.url && oc_cli_open_store(cli, &store) != 0)
    rc = OC_EXIT_RUNTIME;
  a.fo.history = a.history_path ? &history : NULL;
  oc_forecast_result result;
  int step_rc = rc == OC_EXIT_OK ? oc_pipeline_forecast(cli->data_dir, store, &a.fo, &result, &err) : 0;
  if (step_rc != 0) rc = oc_cli_step_error(&oc_cmd_forecast, step_rc, &err);
  if (rc == OC_EXIT_OK && a.fo.save && !a.fo.url && result.stored_id == 0)
    oc_warn("the forecast was not stored: the data directory is read-only");
  if (rc == OC_EXIT_OK) print_forecast(&result, a.fmt);
  if (history.name) oc_series_free(&history);
  oc_store_close(store);
  return rc;
}
