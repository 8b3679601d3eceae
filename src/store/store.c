/* store.c: the backend-independent part of the store: the table of URI schemes (backend selection),
 * the change kinds' names, and the helpers every backend shares (series-name rules, freeing result
 * lists). Must not contain SQL, and callers must never branch on the backend. */
#include "store/store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite.h"

/* The table of URI schemes: one entry per backend. Adding a backend adds a line here (and its
 * store_<backend>*.c files); no caller changes. */
static const oc_store_backend backends[] = {
    {"sqlite", oc_store_sqlite_open, oc_store_sqlite_latest_version, oc_store_sqlite_scratch_uri},
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

const oc_store_backend *oc_store_backends(size_t *n) {
  *n = N_BACKENDS;
  return backends;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const oc_store_backend *backend_named(const char *scheme, size_t len) {
  for (size_t i = 0; i < N_BACKENDS; i++)
    if (strlen(backends[i].scheme) == len && strncmp(backends[i].scheme, scheme, len) == 0) return &backends[i];
  return NULL;
}

oc_store *oc_store_open(const char *uri, oc_error *err) {
  const char *colon = strchr(uri, ':');
  const oc_store_backend *backend = colon ? backend_named(uri, (size_t)(colon - uri)) : NULL;
  const char *location = backend ? colon + 1 : uri;
  /* A bare path to a .db file is SQLite (the spelling of early oilcast.conf files). */
  if (!backend && !strstr(uri, "://") && has_suffix(uri, ".db")) backend = backend_named("sqlite", 6);
  if (!backend) {
    oc_buf known = {0};
    for (size_t i = 0; i < N_BACKENDS; i++) oc_buf_printf(&known, "%s%s:...", i ? ", " : "", backends[i].scheme);
    oc_error_set(err, "unsupported store '%s': this build has the backends %s", uri, known.data);
    oc_buf_free(&known);
    return NULL;
  }
  oc_store *store = backend->open(location, err);
  if (store) store->uri = oc_xstrdup(uri);
  return store;
}

void oc_store_close(oc_store *store) {
  if (!store) return;
  char *uri = store->uri;
  store->ops->close(store);
  free(uri);
}

int oc_store_latest_schema_version(const char *backend) {
  const oc_store_backend *b = backend_named(backend, strlen(backend));
  return b ? b->latest_schema_version() : -1;
}

static const char *const change_kind_names[OC_CHANGE_KIND_COUNT + 1] = {
    [OC_CHANGE_OBSERVATIONS] = "observations", [OC_CHANGE_INGEST_RUN] = "ingest_run",
    [OC_CHANGE_BACKTEST] = "backtest",         [OC_CHANGE_MODEL] = "model",
    [OC_CHANGE_ENDPOINT] = "endpoint",         [OC_CHANGE_API_KEY] = "api_key",
    [OC_CHANGE_FORECAST] = "forecast",         [OC_CHANGE_JOB] = "job",
    [OC_CHANGE_DEVICE] = "device",
};

const char *oc_change_kind_name(oc_change_kind kind) {
  assert(kind >= 1 && kind <= OC_CHANGE_KIND_COUNT);
  return change_kind_names[kind];
}

int oc_change_kind_parse(const char *name, oc_change_kind *kind) {
  for (int k = 1; k <= OC_CHANGE_KIND_COUNT; k++) {
    if (strcmp(change_kind_names[k], name) == 0) {
      *kind = (oc_change_kind)k;
      return 0;
    }
  }
  return -1;
}

int oc_series_name_check(const char *name, size_t len, const char **reason) {
  const char *why = NULL;
  if (len == 0) {
    why = "series name is empty";
  } else if (len > OC_SERIES_NAME_MAX) {
    why = "series name is longer than 64 bytes";
  } else {
    for (size_t i = 0; i < len; i++) {
      char c = name[i];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.' || c == '-';
      if (!ok) {
        why = "series name may only contain letters, digits, '_', '.' and '-'";
        break;
      }
    }
  }
  if (why) {
    if (reason) *reason = why;
    return -1;
  }
  return 0;
}

void oc_series_info_free(oc_series_info *info) {
  free(info->name);
  free(info->unit);
  free(info->source);
  memset(info, 0, sizeof *info);
}

void oc_series_info_list_free(oc_series_info *list, size_t n) {
  for (size_t i = 0; i < n; i++) oc_series_info_free(&list[i]);
  free(list);
}
