/* pipeline.c: the helpers every pipeline step shares (pipeline.h). Must not print. */
#include "pipeline/pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"

void oc_pipeline_list_split(const char *text, oc_pipeline_list *out) {
  memset(out, 0, sizeof *out);
  if (!text) return;
  out->storage = oc_xstrdup(text);
  char *save = NULL;
  for (char *item = strtok_r(out->storage, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    out->items = oc_xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n++] = item;
  }
}

void oc_pipeline_list_free(oc_pipeline_list *l) {
  free(l->items);
  free(l->storage);
  memset(l, 0, sizeof *l);
}

char *oc_pipeline_path(const char *data_dir, const char *path) {
  return path[0] == '/' ? oc_xstrdup(path) : oc_path_join(data_dir, path);
}

int oc_pipeline_bad_option(oc_error *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->kind = OC_ERROR_FAILED;
  }
  return OC_PIPELINE_BAD_OPTION;
}

const oc_series *oc_series_memo_get(oc_series_memo *m, const char *name, oc_error *err) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->series[i].name, name) == 0) return &m->series[i];
  oc_series loaded;
  if (oc_store_series_load(m->store, name, OC_DATE_INVALID, OC_DATE_INVALID, &loaded, err) != 0) return NULL;
  m->series = oc_xrealloc(m->series, (m->n + 1) * sizeof *m->series);
  m->series[m->n] = loaded;
  return &m->series[m->n++];
}

int oc_series_memo_loader(void *memo, const char *name, oc_series *out, oc_error *err) {
  const oc_series *s = oc_series_memo_get(memo, name, err);
  if (!s) return -1;
  oc_series_init(out, s->name, s->n);
  memcpy(out->dates, s->dates, s->n * sizeof *s->dates);
  memcpy(out->values, s->values, s->n * sizeof *s->values);
  return 0;
}

void oc_series_memo_free(oc_series_memo *m) {
  for (size_t i = 0; i < m->n; i++) oc_series_free(&m->series[i]);
  free(m->series);
  m->series = NULL;
  m->n = 0;
}
