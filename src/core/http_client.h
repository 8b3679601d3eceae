/* http_client.h: outbound HTTP for every stage that calls another server (a running oilcast, market
 * APIs): one blocking request over libcurl, one easy handle per call, the whole answer in memory.
 * Knows no API: the caller builds the URL and body and reads the answer. Never prints. */
#ifndef OC_CORE_HTTP_CLIENT_H
#define OC_CORE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct oc_http_request {
  const char *method;          /* "GET", "POST", ... */
  const char *url;
  const char *const *headers;  /* "Name: value" lines, NULL-terminated; may be NULL */
  const char *body;            /* sent as is; NULL for none */
  long timeout_seconds;        /* the whole exchange; 0: 30 s */
  long timeout_ms;             /* the whole exchange in milliseconds; overrides timeout_seconds when > 0 */
  const char *url_shown;       /* the URL as error messages name it (a secret redacted); NULL: url */
} oc_http_request;

/* The whole answer of oc_http_exchange. */
typedef struct oc_http_response {
  long status;      /* 0 when no answer came */
  oc_buf body;      /* exactly the bytes received (appended) */
  oc_buf headers;   /* the final answer's header lines as received ("Name: value\r\n" each, the status
                     * line included): a redirect's headers are dropped */
  bool transient;   /* no answer because of a failure worth retrying: timeout, refused or reset
                     * connection, name lookup, a body cut short */
  double seconds;   /* wall-clock time of the exchange */
} oc_http_response;

/* Sends req and fills *resp (zero it first; free with oc_http_response_free). A transport failure is an
 * error naming the URL (url_shown) and libcurl's reason, with resp->transient set when retrying may
 * help; any HTTP status is not an error. */
int oc_http_exchange(const oc_http_request *req, oc_http_response *resp, oc_error *err);

/* Starts loading libcurl (core/curl_lazy.h) and its global set-up (OpenSSL's) on a thread of its own,
 * for a caller with other work to do before its first request (a market fetch opens the store first):
 * the ~3 ms they take at a first request then pass meanwhile on another core. The next
 * oc_http_session_new, or oc_http_warm_up_end, waits for it. Does nothing when it cannot start a thread
 * or is warming up already. */
void oc_http_warm_up(void);
/* Waits for a warm-up begun by oc_http_warm_up (a no-op when none is under way). A caller that warmed
 * up calls it before it returns, whether or not it made a request: no thread may be setting up
 * libraries while the process exits. */
void oc_http_warm_up_end(void);

/* A series of requests to one server (a market API's pages) that keeps its connection open between
 * them, as a browser or `curl URL1 URL2` does: no new connection (TCP, TLS) and no new libcurl
 * handle per request. One thread at a time uses a session. */
typedef struct oc_http_session oc_http_session;
oc_http_session *oc_http_session_new(void);
void oc_http_session_free(oc_http_session *session);
/* oc_http_exchange on the session's connection (opened again when the server closed it). */
int oc_http_session_exchange(oc_http_session *session, const oc_http_request *req, oc_http_response *resp,
                             oc_error *err);
void oc_http_response_free(oc_http_response *resp);

/* The value of the first header named name (case-insensitive) among resp->headers, without its
 * surrounding blanks, copied into out (at most cap - 1 bytes); NULL when absent. */
const char *oc_http_header(const oc_http_response *resp, const char *name, char *out, size_t cap);

/* Sends req; *status receives the HTTP status and body the answer (appended). A transport failure
 * (refused, timed out, bad URL) is an error naming the URL; any HTTP status is not. */
int oc_http_send(const oc_http_request *req, long *status, oc_buf *body, oc_error *err);

/* s with every byte outside [A-Za-z0-9-._~] percent-encoded, for a URL path segment or query value
 * (malloc'd). */
char *oc_http_escape(const char *s);

#endif
