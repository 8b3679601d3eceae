/* dynlib.c: see dynlib.h. */
#include "core/dynlib.h"

#include <dlfcn.h>

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
