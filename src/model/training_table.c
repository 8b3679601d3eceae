/* training_table.c: see training_table.h. */
#include "model/training_table.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static char *dup_meta(const oc_frame *f, const char *key) {
  const char *v = oc_frame_get_meta(f, key);
  return v ? oc_xstrdup(v) : NULL;
}

/* Resolves the JSON array of column names in metadata `key` to column indices. */
static int resolve_columns(const oc_frame *f, const char *key, char ***names, long **cols, size_t *n, oc_error *err) {
  const char *text = oc_frame_get_meta(f, key);
  if (!text) return oc_error_set(err, "training table has no %s metadata (is it an `oilcast etl` output?)", key);
  json_error_t jerr;
  json_t *arr = json_loads(text, 0, &jerr);
  if (!json_is_array(arr) || json_array_size(arr) == 0) {
    json_decref(arr);
    return oc_error_set(err, "training table metadata %s is not a non-empty JSON array of column names", key);
  }
  *n = json_array_size(arr);
  *names = oc_xcalloc(*n, sizeof **names);
  *cols = oc_xcalloc(*n, sizeof **cols);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < *n; i++) {
    const char *name = json_string_value(json_array_get(arr, i));
    if (!name) {
      rc = oc_error_set(err, "training table metadata %s[%zu] is not a string", key, i);
      break;
    }
    (*names)[i] = oc_xstrdup(name);
    (*cols)[i] = oc_frame_find_column(f, name);
    if ((*cols)[i] < 0) rc = oc_error_set(err, "training table: column '%s' (listed in %s) is missing", name, key);
  }
  json_decref(arr);
  return rc;
}

void oc_training_table_free(oc_training_table *t) {
  for (size_t i = 0; t->features && i < t->n_in; i++) free(t->features[i]);
  for (size_t i = 0; t->targets && i < t->n_out; i++) free(t->targets[i]);
  void *ptrs[] = {t->features, t->targets, t->x_train, t->y_train, t->x_val, t->y_val, t->close_val,
                  t->series, t->features_json, t->normalization_json, t->policies_json, t->source_checksum};
  for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) free(ptrs[i]);
  memset(t, 0, sizeof *t);
}

int oc_training_table_from_frame(const oc_frame *f, oc_training_table *t, oc_error *err) {
  memset(t, 0, sizeof *t);
  long *fcols = NULL, *tcols = NULL;
  long close_col = oc_frame_find_column(f, "close");
  const char *train_end = oc_frame_get_meta(f, "oilcast.train_end");
  int rc = 0;
  if (close_col < 0) {
    rc = oc_error_set(err, "training table has no 'close' column");
  } else if (!train_end || oc_date_parse(train_end, strlen(train_end), &t->train_end, NULL) != 0) {
    rc = oc_error_set(err, "training table metadata oilcast.train_end is %s%s%s, not a YYYY-MM-DD date",
                      train_end ? "'" : "", train_end ? train_end : "missing", train_end ? "'" : "");
  } else if (resolve_columns(f, "oilcast.features", &t->features, &fcols, &t->n_in, err) != 0 ||
             resolve_columns(f, "oilcast.targets", &t->targets, &tcols, &t->n_out, err) != 0) {
    rc = -1;
  }
  if (rc == 0) {
    const size_t n_in = t->n_in, H = t->n_out;
    t->x_train = oc_xmalloc((f->nrows ? f->nrows : 1) * n_in * sizeof(float));
    t->y_train = oc_xmalloc((f->nrows ? f->nrows : 1) * H * sizeof(float));
    t->x_val = oc_xmalloc((f->nrows ? f->nrows : 1) * n_in * sizeof(float));
    t->y_val = oc_xmalloc((f->nrows ? f->nrows : 1) * H * sizeof(float));
    t->close_val = oc_xmalloc((f->nrows ? f->nrows : 1) * sizeof(double));
    for (size_t r = 0; r < f->nrows; r++) {
      bool complete = isfinite(f->cols[close_col][r]) && f->cols[close_col][r] > 0;
      for (size_t j = 0; complete && j < n_in; j++) complete = isfinite(f->cols[fcols[j]][r]);
      for (size_t h = 0; complete && h < H; h++) complete = isfinite(f->cols[tcols[h]][r]);
      if (!complete) {
        t->skipped++;
        continue;
      }
      bool train = f->dates[r] <= t->train_end;
      /* target h is the price h rows later: past train_end it is a validation-window price */
      if (train && (r + H >= f->nrows || f->dates[r + H] > t->train_end)) {
        t->purged++;
        continue;
      }
      size_t i = train ? t->n_train++ : t->n_val++;
      float *x = (train ? t->x_train : t->x_val) + i * n_in, *y = (train ? t->y_train : t->y_val) + i * H;
      for (size_t j = 0; j < n_in; j++) x[j] = (float)f->cols[fcols[j]][r];
      for (size_t h = 0; h < H; h++) y[h] = (float)f->cols[tcols[h]][r];
      if (!train) t->close_val[i] = f->cols[close_col][r];
    }
    if (t->n_train == 0)
      rc = oc_error_set(err, "training table has no complete row whose targets are dated on or before %s (%zu rows, "
                        "%zu incomplete, %zu with targets past it)", train_end, f->nrows, t->skipped, t->purged);
  }
  if (rc == 0) {
    t->series = dup_meta(f, "oilcast.series");
    t->features_json = dup_meta(f, "oilcast.features");
    t->normalization_json = dup_meta(f, "oilcast.normalization");
    t->policies_json = dup_meta(f, "oilcast.policies");
    t->source_checksum = dup_meta(f, "oilcast.source_checksum");
  } else {
    oc_training_table_free(t);
  }
  free(fcols);
  free(tcols);
  return rc;
}

void oc_price_mae(const float *pred, const float *target, const double *close, size_t n, size_t H, double *model_mae,
                  double *naive_mae) {
  double model = 0, naive = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t h = 0; h < H; h++) {
      double actual = close[i] * exp((double)target[i * H + h]);
      model += fabs(close[i] * exp((double)pred[i * H + h]) - actual);
      naive += fabs(close[i] - actual);
    }
  double count = (double)(n * H);
  *model_mae = count > 0 ? model / count : NAN;
  *naive_mae = count > 0 ? naive / count : NAN;
}
