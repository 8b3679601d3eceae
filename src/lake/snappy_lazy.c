/* snappy_lazy.c: see snappy_lazy.h. dlopen of libsnappy on the first Snappy page, once per process
 * (pthread_once: readers on several threads agree on one load); must not abort or print: a missing
 * library is the reader's error like a corrupt page. */
#include "lake/snappy_lazy.h"

#include <pthread.h>
#include <stddef.h>

#include "core/dynlib.h"

static oc_snappy_lib snappy;
static oc_error load_error; /* the message of a failed load, handed to every later caller */
static int load_rc;
static pthread_once_t snappy_once = PTHREAD_ONCE_INIT;

int oc_snappy_load(const char *soname, oc_snappy_lib *lib, oc_error *err) {
  static const char *const names[] = {"snappy_uncompressed_length", "snappy_uncompress"};
  void *fns[2];
  if (oc_dynlib_load(soname, "the Snappy codec; Debian package " OC_SNAPPY_PACKAGE, names, fns, 2, err) != 0) return -1;
  *lib = (oc_snappy_lib){.uncompressed_length = (__typeof__(lib->uncompressed_length))fns[0],
                         .uncompress = (__typeof__(lib->uncompress))fns[1]};
  return 0;
}

static void load(void) { load_rc = oc_snappy_load(OC_SNAPPY_SONAME, &snappy, &load_error); }

const oc_snappy_lib *oc_snappy(oc_error *err) {
  pthread_once(&snappy_once, load);
  if (load_rc == 0) return &snappy;
  oc_error_set(err, "%s", load_error.message);
  return NULL;
}
