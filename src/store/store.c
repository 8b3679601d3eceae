/* store.c: the backend-independent part of the store: URI dispatch to a backend and the helpers
 * every backend shares (series-name rules, freeing result lists). Must not contain SQL. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite.h"

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The SQLite database file uri names, or NULL with *err set. */
static const char *sqlite_path(const char *uri, oc_error *err) {
  const char *path = NULL;
  if (strncmp(uri, "sqlite:", 7) == 0) {
    path = uri + 7;
    /* sqlite:///abs/path and sqlite://rel are both common spellings; keep the path part. */
    if (strncmp(path, "//", 2) == 0) path += 2;
  } else if (!strstr(uri, "://") && has_suffix(uri, ".db")) {
    path = uri;
  }
  if (!path) {
    oc_error_set(err, "unsupported store '%s': expected sqlite:PATH (PostgreSQL is not a backend in this build)",
                 uri);
    return NULL;
  }
  if (!*path) {
    oc_error_set(err, "store '%s' names no database file", uri);
    return NULL;
  }
  return path;
}

int oc_store_commit_files(const char *uri, char ***paths, size_t *n, oc_error *err) {
  const char *path = sqlite_path(uri, err);
  if (!path) return -1;
  oc_store_sqlite_commit_files(path, paths, n);
  return 0;
}

oc_store *oc_store_open(const char *uri, oc_error *err) {
  const char *path = sqlite_path(uri, err);
  if (!path) return NULL;
  oc_store *store = oc_store_sqlite_open(path, err);
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
  return strcmp(backend, "sqlite") == 0 ? oc_store_sqlite_latest_version() : -1;
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
