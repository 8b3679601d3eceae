/* router.h: matching a request's method and path against a table of routes. A pattern is a path
 * whose segments are literals, `{name}` (exactly one non-empty segment, captured) or a final `{name*}`
 * (the non-empty rest of the path, captured). Knows nothing about HTTP servers, handlers or auth: the
 * table's user attaches those through `data`. Must not allocate while matching (it runs per request). */
#ifndef OC_SERVE_ROUTER_H
#define OC_SERVE_ROUTER_H

#include <stddef.h>

#define OC_ROUTE_MAX_PARAMS 4
#define OC_ROUTE_PARAM_MAX 256

typedef struct oc_route {
  const char *method;  /* "GET", "POST", ... */
  const char *pattern; /* "/v1/series/{id}"; also the route's label in metrics and logs */
  const void *data;    /* caller's payload (handler, scope) */
} oc_route;

typedef struct oc_route_params {
  size_t count;
  const char *names[OC_ROUTE_MAX_PARAMS]; /* point into the pattern: "id}" style, see name_len */
  size_t name_lens[OC_ROUTE_MAX_PARAMS];
  char values[OC_ROUTE_MAX_PARAMS][OC_ROUTE_PARAM_MAX]; /* percent-decoded, NUL-terminated */
} oc_route_params;

typedef enum {
  OC_ROUTE_FOUND = 0,
  OC_ROUTE_NOT_FOUND,       /* no pattern matches the path: 404 */
  OC_ROUTE_METHOD_MISMATCH, /* a pattern matches the path, but not with this method: 405 */
} oc_route_result;

/* Finds the first route whose method and pattern match. On OC_ROUTE_FOUND, *index and params are
 * set. On OC_ROUTE_METHOD_MISMATCH, allow (when non-NULL) receives the allowed methods, comma
 * separated ("GET, PUT"). A segment that does not percent-decode (or is too long) does not match. */
oc_route_result oc_route_match(const oc_route *routes, size_t n, const char *method, const char *path,
                               size_t *index, oc_route_params *params, char *allow, size_t allow_cap);

/* The captured value named name, or NULL. */
const char *oc_route_param(const oc_route_params *params, const char *name);

#endif
