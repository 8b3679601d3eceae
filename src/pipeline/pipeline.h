/* pipeline.h: what every pipeline step (src/pipeline/<step>.h) shares. A step is ONE call,
 *   int oc_pipeline_<step>(const char *data_dir, oc_store *store, const oc_<step>_options *opt,
 *                          oc_<step>_result *out, oc_error *err);
 * with plain options (a _default() initializer where defaults exist) and a result the caller shows
 * (named oc_pipeline_<step>_options/_result where a lower layer already owns oc_<step>_*, as
 * features/etl.h and model/backtest.h do). It returns 0, or on failure the message in err and one
 * of two codes: OC_PIPELINE_BAD_OPTION when the caller's options are at fault (the CLI's usage error,
 * exit 2), -1 for everything else (the data, the disk: exit 1); `!= 0` tests for failure. It checks
 * its options before it writes anything, and never prints (progress, if any, through a callback in
 * the options). The CLI, the scheduler and the server call these same
 * functions. Here: the helpers the steps share. Must not know about the CLI or HTTP. */
#ifndef OC_PIPELINE_H
#define OC_PIPELINE_H

#include <stddef.h>

#include "core/error.h"
#include "core/frame.h"
#include "store/store.h"

/* What a step returns when its options, not the data, are why it failed (see above). */
enum { OC_PIPELINE_BAD_OPTION = -2 };

/* Sets err (printf-style, as oc_error_set) and returns OC_PIPELINE_BAD_OPTION. */
int oc_pipeline_bad_option(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A comma-separated list ("BRENT,WCS", "naive,ets:trend=damped") split into its non-empty entries. */
typedef struct oc_pipeline_list {
  size_t n;
  const char **items; /* n entries pointing into storage */
  char *storage;
} oc_pipeline_list;

/* Splits text (NULL = empty list); free with oc_pipeline_list_free. */
void oc_pipeline_list_split(const char *text, oc_pipeline_list *out);
void oc_pipeline_list_free(oc_pipeline_list *l);

/* Stored series a step reads, each loaded from the store once: the served model's loader
 * (oc_series_memo_loader, an oc_series_loader over ctx = the memo) and the step itself
 * (oc_series_memo_get) share one read of each series. */
typedef struct oc_series_memo {
  oc_store *store;
  size_t n;
  oc_series *series; /* [n], as loaded */
} oc_series_memo;

/* The stored series name (its whole history), loaded on first use; NULL with err when it cannot be. The
 * pointer is valid until the next call (copy the struct to keep it); its dates and values until
 * oc_series_memo_free. */
const oc_series *oc_series_memo_get(oc_series_memo *m, const char *name, oc_error *err);
/* oc_series_loader: a copy of oc_series_memo_get's series into *out (the caller frees it). */
int oc_series_memo_loader(void *memo, const char *name, oc_series *out, oc_error *err);
void oc_series_memo_free(oc_series_memo *m);

/* path as the steps read it: absolute as given, relative inside data_dir (malloc'd). */
char *oc_pipeline_path(const char *data_dir, const char *path);

#endif
