/* curl_lazy.c: see curl_lazy.h. */
#include "core/curl_lazy.h"

#define OC_CURL_NAME(name) #name,
static const char *const names[] = {OC_CURL_FUNCTIONS(OC_CURL_NAME)};
static void *fns[OC_CURL_COUNT];
oc_dynlib_table oc_curl_table =
    OC_DYNLIB_TABLE("libcurl.so.4", "the HTTP client; Debian package libcurl4", names, fns);
