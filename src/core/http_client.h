/* http_client.h: outbound HTTP for every stage that calls another server (a running oilcast, market
 * APIs): one blocking request over libcurl, one easy handle per call, the whole answer in memory.
 * Knows no API: the caller builds the URL and body and reads the answer. Never prints. */
#ifndef OC_CORE_HTTP_CLIENT_H
#define OC_CORE_HTTP_CLIENT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct oc_http_request {
  const char *method;          /* "GET", "POST", ... */
  const char *url;
  const char *const *headers;  /* "Name: value" lines, NULL-terminated; may be NULL */
  const char *body;            /* sent as is; NULL for none */
  long timeout_seconds;        /* the whole exchange; 0: 30 s */
} oc_http_request;

/* Sends req; *status receives the HTTP status and body the answer (appended). A transport failure
 * (refused, timed out, bad URL) is an error naming the URL; any HTTP status is not. */
int oc_http_send(const oc_http_request *req, long *status, oc_buf *body, oc_error *err);

/* s with every byte outside [A-Za-z0-9-._~] percent-encoded, for a URL path segment or query value
 * (malloc'd). */
char *oc_http_escape(const char *s);

#endif
