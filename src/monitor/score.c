/* score.c: see score.h. */
#include "monitor/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/json.h"

oc_monitor_options oc_monitor_options_default(void) {
  return (oc_monitor_options){.windows = OC_MONITOR_DEFAULT_WINDOWS, .nwindows = 2};
}

static int check_windows(const oc_monitor_options *opt, oc_error *err) {
  if (opt->nwindows < 1 || opt->nwindows > OC_MONITOR_MAX_WINDOWS)
    return oc_error_set(err, "between 1 and %d windows, not %zu", OC_MONITOR_MAX_WINDOWS, opt->nwindows);
  for (size_t w = 0; w < opt->nwindows; w++)
    if (opt->windows[w] < 1) return oc_error_set(err, "a window holds at least 1 origin");
  return 0;
}

int oc_monitor_parse_windows(const char *text, oc_monitor_options *o) {
  o->nwindows = 0;
  for (const char *p = text;;) {
    char *end;
    long w = strtol(p, &end, 10);
    if (end == p || *p == '-' || *p == '+' || w < 1 || w > OC_MONITOR_MAX_WINDOW || o->nwindows == OC_MONITOR_MAX_WINDOWS)
      return -1;
    o->windows[o->nwindows++] = (size_t)w;
    if (!*end) return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

int oc_monitor_performance(oc_store *store, const oc_monitor_options *opt, oc_monitor_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (check_windows(opt, err) != 0) return -1;
  size_t cap = 0;
  for (size_t w = 0; w < opt->nwindows; w++) {
    oc_forecast_performance *perf;
    size_t n;
    if (oc_store_forecast_performance(store, opt->endpoint, opt->windows[w], &perf, &n, err) != 0) {
      oc_monitor_result_free(out);
      return -1;
    }
    oc_xgrow((void **)&out->rows, &cap, out->n + n, sizeof *out->rows);
    for (size_t i = 0; i < n; i++)
      out->rows[out->n++] = (oc_monitor_row){.perf = perf[i], .window = opt->windows[w],
                                             .rel_mae = perf[i].naive_mae > 0 ? perf[i].mae / perf[i].naive_mae : NAN};
    free(perf);
  }
  return 0;
}

int oc_monitor_score(oc_store *store, const oc_monitor_options *opt, int64_t now, oc_monitor_result *out, oc_error *err) {
  int64_t scored;
  memset(out, 0, sizeof *out);
  if (check_windows(opt, err) != 0 || oc_store_forecast_score(store, now, &scored, err) != 0 ||
      oc_monitor_performance(store, opt, out, err) != 0)
    return -1;
  out->scored = scored;
  return 0;
}

json_t *oc_monitor_row_json(const oc_monitor_row *row) {
  const oc_forecast_performance *p = &row->perf;
  char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "series", p->series,
                   "endpoint", p->endpoint, "variant", p->variant, "model_version", p->model_version, "horizon",
                   (json_int_t)p->horizon, "window", (json_int_t)row->window, "origins", (json_int_t)p->origins,
                   "first_origin", oc_date_format(p->first_origin, first), "last_origin",
                   oc_date_format(p->last_origin, last), "mae", oc_json_number(p->mae), "naive_mae",
                   oc_json_number(p->naive_mae), "rel_mae", oc_json_number(row->rel_mae), "coverage80",
                   oc_json_number(p->coverage80), "coverage95", oc_json_number(p->coverage95), "bias",
                   oc_json_number(p->bias));
}

void oc_monitor_result_free(oc_monitor_result *result) {
  free(result->rows);
  memset(result, 0, sizeof *result);
}
