/* pipeline.h: what every pipeline step (src/pipeline/<step>.h) shares. A step is ONE call,
 *   int oc_pipeline_<step>(const char *data_dir, oc_store *store, const oc_<step>_options *opt,
 *                          oc_<step>_result *out, oc_error *err);
 * with plain options (a _default() initializer where defaults exist) and a result the caller shows
 * (named oc_pipeline_<step>_options/_result where a lower layer already owns oc_<step>_*, as
 * features/etl.h and model/backtest.h do). It returns 0/-1 with the message in err, checks its
 * options before it writes anything, and never prints (progress, if any, through a callback in the
 * options). The CLI, the scheduler and the server call these same functions. Here: the helpers the
 * steps share. Must not know about the CLI or HTTP. */
#ifndef OC_PIPELINE_H
#define OC_PIPELINE_H

#include <stddef.h>

/* A comma-separated list ("BRENT,WCS", "naive,ets:trend=damped") split into its non-empty entries. */
typedef struct oc_pipeline_list {
  size_t n;
  const char **items; /* n entries pointing into storage */
  char *storage;
} oc_pipeline_list;

/* Splits text (NULL = empty list); free with oc_pipeline_list_free. */
void oc_pipeline_list_split(const char *text, oc_pipeline_list *out);
void oc_pipeline_list_free(oc_pipeline_list *l);

/* path as the steps read it: absolute as given, relative inside data_dir (malloc'd). */
char *oc_pipeline_path(const char *data_dir, const char *path);

#endif
