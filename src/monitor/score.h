/* score.h: the monitor's first duty: every stored forecast scored against the prices that followed,
 * and how each endpoint, variant, model version and horizon has done lately. Scoring is incremental
 * and idempotent (the store scores a point once, when its date's price is known); the figures are
 * given for several rolling windows of scored origins (e.g. the last 20 and the last 60), each with
 * relMAE against the no-change forecast on the same origins, the 80%/95% coverage and the bias.
 * The CLI (`oilcast monitor`), the API and the scheduler call this; it prints nothing. */
#ifndef OC_MONITOR_SCORE_H
#define OC_MONITOR_SCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

#define OC_MONITOR_MAX_WINDOWS 4
#define OC_MONITOR_DEFAULT_WINDOWS {20, 60}

typedef struct oc_monitor_options {
  const char *endpoint; /* NULL: every endpoint (and forecasts made without one, endpoint "") */
  size_t windows[OC_MONITOR_MAX_WINDOWS]; /* scored origins per rolling window, each >= 1 */
  size_t nwindows;                        /* 1..OC_MONITOR_MAX_WINDOWS */
} oc_monitor_options;

oc_monitor_options oc_monitor_options_default(void);
/* "20,60": 1..OC_MONITOR_MAX_WINDOWS distinct whole numbers in 1..OC_MONITOR_MAX_WINDOW into o; -1 otherwise
 * (o's windows are then unspecified). The one parser of --windows and ?windows=. */
#define OC_MONITOR_MAX_WINDOW 100000
int oc_monitor_parse_windows(const char *text, oc_monitor_options *o);

typedef struct oc_monitor_row {
  oc_forecast_performance perf;
  size_t window;
  double rel_mae; /* mae / naive_mae; NaN when the naive error is 0 */
} oc_monitor_row;

typedef struct oc_monitor_result {
  int64_t scored; /* points scored by this call */
  oc_monitor_row *rows;
  size_t n;
} oc_monitor_result;

/* Scores what became scorable at now (Unix seconds), then reads the figures for every window. */
int oc_monitor_score(oc_store *store, const oc_monitor_options *opt, int64_t now, oc_monitor_result *out, oc_error *err);
/* The figures only, as scored so far (out->scored = 0): for readers that must not write. */
int oc_monitor_performance(oc_store *store, const oc_monitor_options *opt, oc_monitor_result *out, oc_error *err);
/* Keeps the rows of the versions their endpoint serves now (its variants and its challenger), and of
 * forecasts made without an endpoint or under a name the store has no endpoint of: a version its endpoint no longer serves (promoted past, rolled
 * back, a challenger decided) gets no new forecasts, so its last window's figures would stand for ever
 * in the live figures (/metrics, alert rules) and an alert on them would never resolve. */
int oc_monitor_keep_serving(oc_store *store, oc_monitor_result *result, oc_error *err);
/* One row as a JSON object (the shape the CLI's json and the API share). */
json_t *oc_monitor_row_json(const oc_monitor_row *row);
void oc_monitor_result_free(oc_monitor_result *result);

/* The figures over time: for one series, endpoint, variant, model version, horizon and window, the
 * rolling figures at each scored origin over the window of scored origins ending there (so a later
 * score never changes an earlier point: no look-ahead). Computed from the stored scores at each read,
 * never stored. */
typedef struct oc_monitor_point {
  oc_date origin;
  size_t origins;  /* scored origins in the window ending at origin: min(window, how many so far) */
  double mae;
  double rel_mae;  /* mae / naive mae over the same origins; NaN when the naive error is 0 */
  double coverage80, coverage95;
} oc_monitor_point;

typedef struct oc_monitor_line {
  oc_forecast_line key;
  size_t window;
  oc_monitor_point *points; /* ascending origins */
  size_t n;
} oc_monitor_line;

typedef struct oc_monitor_history {
  oc_monitor_line *lines;
  size_t n;
} oc_monitor_history;

/* Appends to out one line per run of points sharing series, endpoint, variant, model version and
 * horizon, rolled over window (>= 1). points: as forecast_scored_points orders them (each run's origins
 * strictly ascending). Pure: the unit of the history's arithmetic. */
void oc_monitor_rolling(const oc_scored_point *points, size_t n, size_t window, oc_monitor_history *out);
/* Every line of opt->endpoint (NULL: all) for each of opt's windows. Reads only. */
int oc_monitor_history_read(oc_store *store, const oc_monitor_options *opt, oc_monitor_history *out, oc_error *err);
/* One line as a JSON object: its labels and "points" [{origin, origins, mae, rel_mae, coverage80, coverage95}]. */
json_t *oc_monitor_line_json(const oc_monitor_line *line);
void oc_monitor_history_free(oc_monitor_history *history);

#endif
