/* snappy_lazy.c: see snappy_lazy.h. dlopen of libsnappy on the first Snappy page, once per process
 * (pthread_once: readers on several threads agree on one load); must not abort or print: a missing
 * library is the reader's error like a corrupt page. */
#include "lake/snappy_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static oc_snappy_lib snappy;
static oc_error load_error; /* the message of a failed load, handed to every later caller */
static int load_rc;
static pthread_once_t snappy_once = PTHREAD_ONCE_INIT;

static int missing(const char *soname, oc_error *err, const char *what) {
  const char *why = dlerror();
  return oc_error_set(err, "cannot load %s (the Snappy codec; Debian package %s)%s%s: %s", soname, OC_SNAPPY_PACKAGE,
                      what ? ": no " : "", what ? what : "", why ? why : "unknown loader error");
}

int oc_snappy_load(const char *soname, oc_snappy_lib *lib, oc_error *err) {
  void *handle = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
  if (!handle) return missing(soname, err, NULL);
  *lib = (oc_snappy_lib){
      .uncompressed_length = (__typeof__(lib->uncompressed_length))dlsym(handle, "snappy_uncompressed_length"),
      .uncompress = (__typeof__(lib->uncompress))dlsym(handle, "snappy_uncompress"),
  };
  const char *absent = !lib->uncompressed_length ? "snappy_uncompressed_length"
                       : !lib->uncompress           ? "snappy_uncompress"
                                                    : NULL;
  if (!absent) return 0;
  missing(soname, err, absent);
  dlclose(handle);
  return -1;
}

static void load(void) { load_rc = oc_snappy_load(OC_SNAPPY_SONAME, &snappy, &load_error); }

const oc_snappy_lib *oc_snappy(oc_error *err) {
  pthread_once(&snappy_once, load);
  if (load_rc == 0) return &snappy;
  oc_error_set(err, "%s", load_error.message);
  return NULL;
}
