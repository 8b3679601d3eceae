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
  }
  return OC_PIPELINE_BAD_OPTION;
}
