/* score.c: see score.h. */
#include "monitor/score.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
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
    for (size_t i = 0; i < o->nwindows; i++)
      if (o->windows[i] == (size_t)w) return -1; /* the same window twice would be every row twice */
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

/* The versions one endpoint serves now, as forecasts name them ("v3"); known false for a name the
 * store has no endpoint of. */
typedef struct served_versions {
  char endpoint[128];
  bool known;
  char (*versions)[32];
  size_t n;
} served_versions;

static int served_by(oc_store *store, const char *endpoint, served_versions *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->endpoint, sizeof out->endpoint, "%s", endpoint);
  oc_endpoint ep;
  oc_challenger_state st;
  bool found, challenged;
  if (oc_store_endpoint_get(store, endpoint, &ep, &found, err) != 0) return -1;
  if (!found) return 0;
  out->known = true;
  if (oc_store_challenger_get(store, endpoint, &st, &challenged, err) != 0) {
    oc_endpoint_free(&ep);
    return -1;
  }
  out->versions = oc_xcalloc(ep.nvariants + 1, sizeof *out->versions);
  for (size_t i = 0; i < ep.nvariants; i++)
    snprintf(out->versions[out->n++], sizeof *out->versions, "v%lld", (long long)ep.variants[i].version);
  if (challenged && st.challenger > 0)
    snprintf(out->versions[out->n++], sizeof *out->versions, "v%lld", (long long)st.challenger);
  oc_endpoint_free(&ep);
  return 0;
}

int oc_monitor_keep_serving(oc_store *store, oc_monitor_result *r, oc_error *err) {
  served_versions *endpoints = NULL;
  size_t nendpoints = 0, cap = 0, kept = 0;
  int rc = 0;
  for (size_t i = 0; i < r->n && rc == 0; i++) {
    const oc_forecast_line *l = &r->rows[i].perf.line;
    bool serving = !*l->endpoint;
    if (!serving) {
      size_t e = 0;
      while (e < nendpoints && strcmp(endpoints[e].endpoint, l->endpoint) != 0) e++;
      if (e == nendpoints) {
        oc_xgrow((void **)&endpoints, &cap, nendpoints + 1, sizeof *endpoints);
        if ((rc = served_by(store, l->endpoint, &endpoints[nendpoints], err)) != 0) break;
        nendpoints++;
      }
      serving = !endpoints[e].known;
      for (size_t v = 0; v < endpoints[e].n && !serving; v++)
        serving = strcmp(endpoints[e].versions[v], l->model_version) == 0;
    }
    if (serving) r->rows[kept++] = r->rows[i];
  }
  if (rc == 0) r->n = kept;
  for (size_t e = 0; e < nendpoints; e++) free(endpoints[e].versions);
  free(endpoints);
  return rc;
}

/* A line's labels and its window: the first members of a row's JSON and of a line's. */
static json_t *line_labels_json(const oc_forecast_line *line, size_t window) {
  return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "series", line->series, "endpoint", line->endpoint, "variant",
                   line->variant, "model_version", line->model_version, "horizon", (json_int_t)line->horizon,
                   "window", (json_int_t)window);
}

json_t *oc_monitor_row_json(const oc_monitor_row *row) {
  const oc_forecast_performance *p = &row->perf;
  char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  json_t *object = line_labels_json(&p->line, row->window);
  json_t *figures = json_pack(
      "{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "origins", (json_int_t)p->origins, "first_origin",
      oc_date_format(p->first_origin, first), "last_origin", oc_date_format(p->last_origin, last), "mae",
      oc_json_number(p->mae), "naive_mae", oc_json_number(p->naive_mae), "rel_mae", oc_json_number(row->rel_mae),
      "coverage80", oc_json_number(p->coverage80), "coverage95", oc_json_number(p->coverage95), "bias",
      oc_json_number(p->bias));
  json_object_update(object, figures);
  json_decref(figures);
  return object;
}

void oc_monitor_result_free(oc_monitor_result *result) {
  free(result->rows);
  memset(result, 0, sizeof *result);
}

static bool same_line(const oc_forecast_line *a, const oc_forecast_line *b) {
  return a->horizon == b->horizon && strcmp(a->series, b->series) == 0 && strcmp(a->endpoint, b->endpoint) == 0 &&
         strcmp(a->variant, b->variant) == 0 && strcmp(a->model_version, b->model_version) == 0;
}

/* One line from the run points[0..n): sums over the sliding window, added as an origin enters and
 * taken away as it leaves, so the line costs O(n) whatever the window. The naive errors that are not 0
 * are counted too: a window without one has relMAE NaN exactly, not 1/rounding residue. */
static void roll_line(const oc_scored_point *points, size_t n, size_t window, oc_monitor_line *line) {
  memset(line, 0, sizeof *line);
  line->key = points[0].line;
  line->window = window;
  line->points = oc_xcalloc(n, sizeof *line->points);
  line->n = n;
  double abs_error = 0, naive = 0;
  size_t in80 = 0, in95 = 0, naive_nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    assert(i == 0 || points[i - 1].origin < points[i].origin);
    abs_error += fabs(points[i].error);
    naive += points[i].naive_abs_error;
    naive_nonzero += points[i].naive_abs_error > 0;
    in80 += points[i].in80;
    in95 += points[i].in95;
    if (i >= window) {
      const oc_scored_point *gone = &points[i - window];
      abs_error -= fabs(gone->error);
      naive -= gone->naive_abs_error;
      naive_nonzero -= gone->naive_abs_error > 0;
      in80 -= gone->in80;
      in95 -= gone->in95;
    }
    size_t count = i + 1 < window ? i + 1 : window;
    double mae = abs_error / (double)count, naive_mae = naive / (double)count;
    line->points[i] = (oc_monitor_point){.origin = points[i].origin,
                                         .origins = count,
                                         .mae = mae,
                                         .rel_mae = naive_nonzero > 0 && naive_mae > 0 ? mae / naive_mae : NAN,
                                         .coverage80 = (double)in80 / (double)count,
                                         .coverage95 = (double)in95 / (double)count};
  }
}

void oc_monitor_rolling(const oc_scored_point *points, size_t n, size_t window, oc_monitor_history *out) {
  assert(window >= 1);
  size_t cap = out->n;
  for (size_t begin = 0; begin < n;) {
    size_t end = begin + 1;
    while (end < n && same_line(&points[begin].line, &points[end].line)) end++;
    oc_xgrow((void **)&out->lines, &cap, out->n + 1, sizeof *out->lines);
    roll_line(points + begin, end - begin, window, &out->lines[out->n++]);
    begin = end;
  }
}

int oc_monitor_history_read(oc_store *store, const oc_monitor_options *opt, oc_monitor_history *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (check_windows(opt, err) != 0) return -1;
  oc_scored_point *points;
  size_t n;
  if (oc_store_forecast_scored_points(store, opt->endpoint, &points, &n, err) != 0) return -1;
  for (size_t w = 0; w < opt->nwindows; w++) oc_monitor_rolling(points, n, opt->windows[w], out);
  free(points);
  return 0;
}

json_t *oc_monitor_line_json(const oc_monitor_line *line) {
  json_t *points = json_array();
  for (size_t i = 0; i < line->n; i++) {
    const oc_monitor_point *p = &line->points[i];
    char origin[OC_DATE_STRLEN];
    json_array_append_new(points, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "origin",
                                            oc_date_format(p->origin, origin), "origins", (json_int_t)p->origins,
                                            "mae", oc_json_number(p->mae), "rel_mae", oc_json_number(p->rel_mae),
                                            "coverage80", oc_json_number(p->coverage80), "coverage95",
                                            oc_json_number(p->coverage95)));
  }
  json_t *object = line_labels_json(&line->key, line->window);
  json_object_set_new(object, "points", points);
  return object;
}

void oc_monitor_history_free(oc_monitor_history *history) {
  for (size_t i = 0; i < history->n; i++) free(history->lines[i].points);
  free(history->lines);
  memset(history, 0, sizeof *history);
}
