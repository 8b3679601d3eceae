/* dynlib.c: see dynlib.h. */
#include "core/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static int failed(const char *soname, const char *what, const char *absent, oc_error *err) {
  const char *why = dlerror();
  return oc_error_set(err, "cannot load %s (%s)%s%s: %s", soname, what, absent ? ": no " : "", absent ? absent : "",
                      why ? why : "unknown loader error");
}

int oc_dynlib_load(const char *soname, const char *what, const char *const *names, void **fns, size_t n,
                   oc_error *err) {
  void *handle = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
  if (!handle) return failed(soname, what, NULL, err);
  for (size_t i = 0; i < n; i++) {
    fns[i] = dlsym(handle, names[i]);
    if (!fns[i]) {
      failed(soname, what, names[i], err);
      dlclose(handle);
      return -1;
    }
  }
  return 0;
}

int oc_dynlib_table_load(oc_dynlib_table *table, oc_error *err) {
  if (atomic_load_explicit(&table->loaded, memory_order_acquire)) return 0;
  pthread_mutex_lock(&table->lock);
  int rc = 0;
  if (!atomic_load_explicit(&table->loaded, memory_order_relaxed)) {
    rc = oc_dynlib_load(table->soname, table->what, table->names, table->fns, table->n, err);
    if (rc == 0) atomic_store_explicit(&table->loaded, true, memory_order_release);
  }
  pthread_mutex_unlock(&table->lock);
  return rc;
}

void *oc_dynlib_table_fn(oc_dynlib_table *table, size_t i) {
  oc_error err;
  if (oc_dynlib_table_load(table, &err) != 0) {
    fprintf(stderr, "oilcast: %s\n", err.message);
    abort();
  }
  return table->fns[i];
}
