/* libpq_lazy.c: see libpq_lazy.h. */
#include "store/libpq_lazy.h"

#define OC_LIBPQ_NAME(name) #name,
static const char *const names[] = {OC_LIBPQ_FUNCTIONS(OC_LIBPQ_NAME)};
static void *fns[OC_LIBPQ_COUNT];
oc_dynlib_table oc_libpq_table =
    OC_DYNLIB_TABLE("libpq.so.5", "the PostgreSQL client; Debian package libpq5", names, fns);
