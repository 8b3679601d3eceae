/* cmd_series.c: `oilcast series list` and `oilcast series show`: reading stored prices back. The CSV
 * output (`date,value`, shortest round-trip numbers) re-imports to the identical store state.
 * `oilcast series set-range`: the prices a series accepts (ingest/price_range.h); a series not stored
 * yet is created with it, as the advice for a price outside a new series' default range says. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/log.h"
#include "core/csv.h"
#include "ingest/price_range.h"
#include "pipeline/ingest.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_series = {
    .name = "series", .summary = "list stored series, or show one's observations (table, CSV or JSON)",
    .usage = "Usage: oilcast series list [--format table|csv|json]\n"
    "       oilcast series show SERIES [--from D] [--to D] [--last N] [--format table|csv|json]\n"
    "       oilcast series set-range SERIES (--min A --max B [--unit U] [--source S] | --default)\n\n"
    "  --from D, --to D   inclusive date range (YYYY-MM-DD)\n"
    "  --last N           only the last N observations (after --from/--to)\n"
    "  --format F         table (default), csv (`date,value`, re-importable) or json\n"
    "  --min A, --max B   set-range: the prices SERIES accepts from now on, A..B inclusive, at every edge\n"
    "                     (imports, API posts, histories given to an invocation); stored prices stay\n"
    "  --default          set-range: back to the default range, -1000..100000\n"
    "  --unit U, --source S  set-range of a series not stored yet: it is created, empty, with this unit\n"
    "                     and source (defaults as `oilcast ingest`: USD/bbl, historical), so that an\n"
    "                     import of prices outside the default range can follow\n",
    .run = run};

enum { OPT_FROM = 1, OPT_TO, OPT_LAST, OPT_FORMAT, OPT_MIN, OPT_MAX, OPT_DEFAULT, OPT_UNIT, OPT_SOURCE };

static void print_list(const oc_series_info *list, size_t n, oc_cli_format fmt) {
  char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  if (fmt == OC_CLI_JSON) { /* through jansson: units and sources are free text that needs escaping */
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++) {
      const oc_series_info *s = &list[i];
      json_array_append_new(array, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "name", s->name, "unit",
                                             s->unit, "source", s->source, "provider", s->provider, "provider_id",
                                             s->provider_id, "rows", (json_int_t)s->count, "first",
                                             s->count ? json_string(oc_date_format(s->first, first)) : json_null(),
                                             "last", s->count ? json_string(oc_date_format(s->last, last)) : json_null()));
    }
    oc_cli_print_records(array, OC_CLI_JSON);
    json_decref(array);
    return;
  }
  if (fmt == OC_CLI_TABLE) printf("%-20s %-10s %-12s %10s  %-10s  %-10s\n", "series", "unit", "source", "rows", "first", "last");
  if (fmt == OC_CLI_CSV) printf("series,unit,source,rows,first,last\n");
  for (size_t i = 0; i < n; i++) {
    const oc_series_info *s = &list[i];
    const char *f = s->count ? oc_date_format(s->first, first) : "";
    const char *l = s->count ? oc_date_format(s->last, last) : "";
    if (fmt == OC_CLI_TABLE) {
      printf("%-20s %-10s %-12s %10lld  %-10s  %-10s\n", s->name, s->unit, s->source, (long long)s->count, f, l);
    } else {
      printf("%s,", s->name);
      oc_cli_print_csv_field(s->unit);
      putchar(',');
      oc_cli_print_csv_field(s->source);
      printf(",%lld,%s,%s\n", (long long)s->count, f, l);
    }
  }
}

static void print_series(const oc_series *s, size_t from, oc_cli_format fmt) {
  char date[OC_DATE_STRLEN], value[OC_NUMBER_STRLEN];
  if (fmt == OC_CLI_TABLE) printf("%-10s  %12s\n", "date", s->name);
  if (fmt == OC_CLI_CSV) printf("date,value\n");
  if (fmt == OC_CLI_JSON) printf("[");
  for (size_t i = from; i < s->n; i++) {
    oc_date_format(s->dates[i], date);
    oc_format_number(s->values[i], value);
    if (fmt == OC_CLI_TABLE) printf("%-10s  %12s\n", date, value);
    else if (fmt == OC_CLI_CSV) printf("%s,%s\n", date, value);
    else printf("%s{\"date\":\"%s\",\"value\":%s}", i > from ? "," : "", date, value);
  }
  if (fmt == OC_CLI_JSON) printf("]\n");
}

/* What the command line asks for. */
typedef struct series_args {
  oc_date from, to;
  long last; /* -1: all */
  oc_cli_format fmt;
  const char *name; /* `show`'s and `set-range`'s series; NULL for `list` */
  bool set_range, range_default;
  double min, max; /* set-range; NaN when not given */
  const char *unit, *source; /* set-range of a series it creates; NULL when not given */
} series_args;

/* Reads the options into *a; returns -1 when they are consistent, else the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, series_args *a) {
  static const struct option options[] = {{"from", required_argument, NULL, OPT_FROM},
                                          {"to", required_argument, NULL, OPT_TO},
                                          {"last", required_argument, NULL, OPT_LAST},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          {"min", required_argument, NULL, OPT_MIN},
                                          {"max", required_argument, NULL, OPT_MAX},
                                          {"default", no_argument, NULL, OPT_DEFAULT},
                                          {"unit", required_argument, NULL, OPT_UNIT},
                                          {"source", required_argument, NULL, OPT_SOURCE},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_series;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_FROM:
      if (oc_cli_parse_date(cmd, "--from", optarg, &a->from, &code) != 0) return code;
      break;
    case OPT_TO:
      if (oc_cli_parse_date(cmd, "--to", optarg, &a->to, &code) != 0) return code;
      break;
    case OPT_LAST:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &a->last) != 0)
        return oc_cli_usage_error(cmd, "--last must be a whole number >= 0, not '%s'", optarg);
      break;
    case OPT_MIN:
    case OPT_MAX:
      if (oc_cli_parse_double(optarg, opt == OPT_MIN ? &a->min : &a->max) != 0)
        return oc_cli_usage_error(cmd, "%s must be a number, not '%s'", opt == OPT_MIN ? "--min" : "--max", optarg);
      break;
    case OPT_DEFAULT:
      a->range_default = true;
      break;
    case OPT_UNIT:
      a->unit = optarg;
      break;
    case OPT_SOURCE: {
      char known[128];
      if (!oc_pipeline_ingest_source_known(optarg, known, sizeof known))
        return oc_cli_usage_error(cmd, "--source must be %s, not '%s'", known, optarg);
      a->source = optarg;
      break;
    }
    case OPT_FORMAT:
      if (oc_cli_format_parse(optarg, &a->fmt) != 0)
        return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", optarg);
      break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(cmd);
    }
    }
  }
  const char *action = optind < argc ? argv[optind] : NULL;
  bool list = action && strcmp(action, "list") == 0, show = action && strcmp(action, "show") == 0;
  a->set_range = action && strcmp(action, "set-range") == 0;
  bool bounds = !isnan(a->min) || !isnan(a->max);
  if (!list && !show && !a->set_range)
    return oc_cli_usage_error(cmd, "expected 'series list', 'series show SERIES' or 'series set-range SERIES'");
  if ((bounds || a->range_default || a->unit || a->source) && !a->set_range)
    return oc_cli_usage_error(cmd, "--min/--max/--default/--unit/--source apply to 'series set-range'");
  if ((a->unit || a->source) && a->range_default)
    return oc_cli_usage_error(cmd, "--unit/--source create a series with a range: not with --default");
  bool both = !isnan(a->min) && !isnan(a->max);
  if (a->set_range && (optind + 2 != argc || !(a->range_default ? !bounds : both)))
    return oc_cli_usage_error(cmd, "'series set-range' takes one SERIES and either --min A --max B or --default");
  if (a->set_range && !(a->min < a->max) && !a->range_default)
    return oc_cli_usage_error(cmd, "--min %g must be below --max %g", a->min, a->max);
  if (list && optind + 1 < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (show && optind + 2 != argc) return oc_cli_usage_error(cmd, "'series show' takes exactly one SERIES");
  if (list && (a->from != OC_DATE_INVALID || a->to != OC_DATE_INVALID || a->last >= 0))
    return oc_cli_usage_error(cmd, "--from/--to/--last apply to 'series show'");
  if (a->from != OC_DATE_INVALID && a->to != OC_DATE_INVALID && a->from > a->to)
    return oc_cli_usage_error(cmd, "--from is after --to");
  a->name = show || a->set_range ? argv[optind + 1] : NULL;
  return -1;
}

/* set-range: a->name accepts a->min..a->max, or the default again. A series not stored yet is first
 * created, empty, with --unit and --source (else `oilcast ingest`'s defaults), in the one transaction
 * that sets its range; *created says so. A stored series keeps its unit and source: other ones given
 * are an error, not ignored. */
static int set_range(oc_store *store, const series_args *a, bool *created, oc_error *err) {
  *created = false;
  if (oc_store_begin(store, err) != 0) return -1;
  oc_series_info info;
  bool found;
  int rc = oc_store_series_get(store, a->name, &info, &found, err);
  if (rc == 0 && found) {
    if ((a->unit && strcmp(a->unit, info.unit) != 0) || (a->source && strcmp(a->source, info.source) != 0))
      rc = oc_error_set(err, "series %s is stored already, with unit '%s' and source %s: --unit and --source only "
                             "apply to a series set-range creates", a->name, info.unit, info.source);
    oc_series_info_free(&info);
  } else if (rc == 0 && !a->range_default) {
    oc_pipeline_ingest_options ingest = oc_pipeline_ingest_options_default();
    int64_t id;
    rc = oc_store_series_ensure(store, a->name, a->unit ? a->unit : ingest.unit, a->source ? a->source : ingest.source,
                                &id, err);
    *created = rc == 0;
  }
  if (rc == 0) rc = oc_store_series_range_set(store, a->name, !a->range_default, a->min, a->max, err);
  if (rc == 0) rc = oc_store_commit(store, err);
  if (rc != 0) {
    oc_error ignored;
    oc_store_rollback(store, &ignored);
    *created = false;
  }
  return rc;
}

static int run(oc_cli *cli, int argc, char **argv) {
  series_args a = {.from = OC_DATE_INVALID, .to = OC_DATE_INVALID, .last = -1, .fmt = OC_CLI_TABLE, .min = NAN, .max = NAN};
  int rc = parse_options(cli, argc, argv, &a);
  if (rc >= 0) return rc;
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  rc = OC_EXIT_OK;
  if (a.set_range) {
    oc_price_range range;
    bool created;
    if (set_range(store, &a, &created, &err) != 0 || oc_price_range_get(store, a.name, &range, &err) != 0)
      rc = oc_cli_runtime_error("%s", err.message);
    else
      printf("%s%s accepts prices %.15g..%.15g (%s)\n", a.name, created ? " (created, no rows yet)" : "", range.min,
             range.max, range.own ? "its own range" : "the default");
  } else if (!a.name) {
    oc_series_info *infos;
    size_t n;
    if (oc_store_series_list(store, &infos, &n, &err) != 0) {
      rc = oc_cli_runtime_error("%s", err.message);
    } else {
      print_list(infos, n, a.fmt);
      oc_series_info_list_free(infos, n);
    }
  } else {
    oc_series s;
    if (oc_store_series_load(store, a.name, a.from, a.to, &s, &err) != 0) {
      rc = oc_cli_runtime_error("%s", err.message);
    } else {
      print_series(&s, a.last >= 0 && (size_t)a.last < s.n ? s.n - (size_t)a.last : 0, a.fmt);
      oc_series_free(&s);
    }
  }
  oc_store_close(store);
  if (fflush(stdout) != 0 && rc == OC_EXIT_OK) rc = oc_cli_runtime_error("cannot write the output");
  return rc;
}
