/* mhd_lazy.c: see mhd_lazy.h. */
#include "serve/mhd_lazy.h"

#define OC_MHD_NAME(name) #name,
static const char *const names[] = {OC_MHD_FUNCTIONS(OC_MHD_NAME)};
static void *fns[OC_MHD_COUNT];
oc_dynlib_table oc_mhd_table =
    OC_DYNLIB_TABLE("libmicrohttpd.so.12", "the HTTP server; Debian package libmicrohttpd12", names, fns);
