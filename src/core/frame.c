/* frame.c: see frame.h. */
#include "core/frame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void oc_frame_init(oc_frame *f, size_t nrows) {
  memset(f, 0, sizeof *f);
  f->nrows = nrows;
  f->dates = oc_xcalloc(nrows, sizeof *f->dates);
}

double *oc_frame_add_column(oc_frame *f, const char *name) {
  f->names = oc_xrealloc(f->names, (f->ncols + 1) * sizeof *f->names);
  f->cols = oc_xrealloc(f->cols, (f->ncols + 1) * sizeof *f->cols);
  double *col = oc_xmalloc(f->nrows * sizeof *col);
  for (size_t i = 0; i < f->nrows; i++) col[i] = NAN;
  f->names[f->ncols] = oc_xstrdup(name);
  f->cols[f->ncols] = col;
  f->ncols++;
  return col;
}

long oc_frame_find_column(const oc_frame *f, const char *name) {
  for (size_t i = 0; i < f->ncols; i++)
    if (strcmp(f->names[i], name) == 0) return (long)i;
  return -1;
}

void oc_frame_set_meta(oc_frame *f, const char *key, const char *value) {
  for (size_t i = 0; i < f->nmeta; i++) {
    if (strcmp(f->meta_keys[i], key) == 0) {
      free(f->meta_values[i]);
      f->meta_values[i] = oc_xstrdup(value);
      return;
    }
  }
  f->meta_keys = oc_xrealloc(f->meta_keys, (f->nmeta + 1) * sizeof *f->meta_keys);
  f->meta_values = oc_xrealloc(f->meta_values, (f->nmeta + 1) * sizeof *f->meta_values);
  f->meta_keys[f->nmeta] = oc_xstrdup(key);
  f->meta_values[f->nmeta] = oc_xstrdup(value);
  f->nmeta++;
}

const char *oc_frame_get_meta(const oc_frame *f, const char *key) {
  for (size_t i = 0; i < f->nmeta; i++)
    if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
  return NULL;
}

void oc_frame_free(oc_frame *f) {
  for (size_t i = 0; i < f->ncols; i++) {
    free(f->names[i]);
    free(f->cols[i]);
  }
  for (size_t i = 0; i < f->nmeta; i++) {
    free(f->meta_keys[i]);
    free(f->meta_values[i]);
  }
  free(f->names);
  free(f->cols);
  free(f->meta_keys);
  free(f->meta_values);
  free(f->dates);
  memset(f, 0, sizeof *f);
}

void oc_series_init(oc_series *s, const char *name, size_t n) {
  s->name = oc_xstrdup(name);
  s->n = n;
  s->dates = oc_xcalloc(n, sizeof *s->dates);
  s->values = oc_xcalloc(n, sizeof *s->values);
}

void oc_series_free(oc_series *s) {
  free(s->name);
  free(s->dates);
  free(s->values);
  memset(s, 0, sizeof *s);
}

oc_series oc_series_view_until(const oc_series *s, oc_date last) {
  size_t lo = 0, hi = s->n; /* bisection: the dates ascend */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->dates[mid] <= last)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (oc_series){.name = s->name, .n = lo, .dates = s->dates, .values = s->values};
}
