/* curl_lazy.h: libcurl, the outbound HTTP client (core/http_client.c: market APIs, alert webhooks), loaded
 * on first use (core/dynlib.h) instead of linked: a command that never calls it does not load it. Include
 * it instead of the library's own header: it names each function the code calls as its entry in the loaded
 * table, so calls read as plain calls. A function not listed here does not link; add it to the list. */
#ifndef OC_CORE_CURL_LAZY_H
#define OC_CORE_CURL_LAZY_H

#define CURL_DISABLE_TYPECHECK /* its type checks are macros named as the functions this header redefines */
#include <curl/curl.h>
/* curl.h names these two as macros of themselves (to count their arguments): they become entries too */
#undef curl_easy_getinfo
#undef curl_easy_setopt

#include "core/dynlib.h"

#define OC_CURL_FUNCTIONS(X) \
  X(curl_easy_cleanup) \
  X(curl_easy_getinfo) \
  X(curl_easy_init) \
  X(curl_easy_perform) \
  X(curl_easy_reset) \
  X(curl_easy_setopt) \
  X(curl_easy_strerror) \
  X(curl_global_init) \
  X(curl_slist_append) \
  X(curl_slist_free_all)

enum {
#define OC_CURL_INDEX(name) OC_CURL_##name,
  OC_CURL_FUNCTIONS(OC_CURL_INDEX)
#undef OC_CURL_INDEX
  OC_CURL_COUNT
};

extern oc_dynlib_table oc_curl_table;
/* The loaded function (the name stays the library's own here: a macro does not expand inside itself). */
#define OC_CURL(name) ((__typeof__(name) *)oc_dynlib_table_fn(&oc_curl_table, OC_CURL_##name))
#define curl_easy_cleanup OC_CURL(curl_easy_cleanup)
#define curl_easy_getinfo OC_CURL(curl_easy_getinfo)
#define curl_easy_init OC_CURL(curl_easy_init)
#define curl_easy_perform OC_CURL(curl_easy_perform)
#define curl_easy_reset OC_CURL(curl_easy_reset)
#define curl_easy_setopt OC_CURL(curl_easy_setopt)
#define curl_easy_strerror OC_CURL(curl_easy_strerror)
#define curl_global_init OC_CURL(curl_global_init)
#define curl_slist_append OC_CURL(curl_slist_append)
#define curl_slist_free_all OC_CURL(curl_slist_free_all)

#endif
