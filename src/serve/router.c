/* router.c: segment-by-segment matching of paths against route patterns. Linear over the table: the
 * table is a few dozen routes, and a scan of short literal compares beats any index at that size. */
#include "serve/router.h"

#include <stdbool.h>
#include <string.h>

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes len bytes of src into dst (cap bytes incl. NUL). Rejects bad escapes, NUL bytes
 * and values that do not fit. */
static bool decode_segment(const char *src, size_t len, char *dst, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (c == '%') {
      if (i + 2 >= len) return false;
      int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = (char)(hi * 16 + lo);
      if (c == '\0') return false;
      i += 2;
    }
    if (n + 1 >= cap) return false;
    dst[n++] = c;
  }
  dst[n] = '\0';
  return true;
}

/* Does path match pattern? Captures into params when non-NULL. */
static bool path_matches(const char *pattern, const char *path, oc_route_params *params) {
  if (params) params->count = 0;
  const char *p = pattern, *s = path;
  for (;;) {
    if (*p == '\0' || *s == '\0') return *p == '\0' && *s == '\0';
    if (*p != '/' || *s != '/') return false;
    p++;
    s++;
    const char *p_end = strchr(p, '/');
    if (!p_end) p_end = p + strlen(p);
    const char *s_end = strchr(s, '/');
    if (!s_end) s_end = s + strlen(s);
    size_t plen = (size_t)(p_end - p), slen = (size_t)(s_end - s);
    if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
      bool rest = plen >= 3 && p[plen - 2] == '*';
      if (rest) slen = strlen(s);
      if (slen == 0) return false;
      if (params) {
        if (params->count == OC_ROUTE_MAX_PARAMS) return false;
        size_t k = params->count++;
        params->names[k] = p + 1;
        params->name_lens[k] = plen - (rest ? 3 : 2);
        if (!decode_segment(s, slen, params->values[k], sizeof params->values[k])) return false;
      }
      if (rest) return *p_end == '\0';
    } else if (plen != slen || memcmp(p, s, plen) != 0) {
      return false;
    }
    p = p_end;
    s = s + slen;
  }
}

oc_route_result oc_route_match(const oc_route *routes, size_t n, const char *method, const char *path,
                               size_t *index, oc_route_params *params, char *allow, size_t allow_cap) {
  bool path_seen = false;
  size_t allow_len = 0;
  if (allow && allow_cap) allow[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (!path_matches(routes[i].pattern, path, NULL)) continue;
    if (strcmp(routes[i].method, method) == 0) {
      if (!path_matches(routes[i].pattern, path, params)) continue;
      *index = i;
      return OC_ROUTE_FOUND;
    }
    path_seen = true;
    if (allow && allow_cap && !strstr(allow, routes[i].method)) {
      size_t need = strlen(routes[i].method) + (allow_len ? 2 : 0);
      if (allow_len + need < allow_cap) {
        if (allow_len) {
          memcpy(allow + allow_len, ", ", 2);
          allow_len += 2;
        }
        strcpy(allow + allow_len, routes[i].method);
        allow_len += strlen(routes[i].method);
      }
    }
  }
  return path_seen ? OC_ROUTE_METHOD_MISMATCH : OC_ROUTE_NOT_FOUND;
}

const char *oc_route_param(const oc_route_params *params, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < params->count; i++) {
    if (params->name_lens[i] == len && memcmp(params->names[i], name, len) == 0) return params->values[i];
  }
  return NULL;
}
