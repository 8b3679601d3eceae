/* http.h: what a route handler sees and fills: the matched request (method, path parameters, query,
 * headers, body, request id, the caller's key) and the response (status, JSON body, extra headers, or a
 * prepared libmicrohttpd response for files and streams). Also the helpers that build the JSON error
 * envelope {"error":{"code","message"}} and parse request bodies strictly. Handlers must not touch the
 * network themselves and must not print. */
#ifndef OC_SERVE_HTTP_H
#define OC_SERVE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "keys/apikey.h"
#include "serve/router.h"

struct MHD_Connection;
struct MHD_Response;
typedef struct oc_server oc_server;

/* Who may call a route. */
typedef enum {
  OC_ACCESS_OPEN,        /* anyone (the dashboard page and its assets) */
  OC_ACCESS_OPERATIONS,  /* health, readiness, metrics: open to loopback clients unless configured otherwise */
  OC_ACCESS_PUBLIC_READ, /* read scope, or anyone when the server runs with --public-read */
  OC_ACCESS_READ,
  OC_ACCESS_WRITE,
  OC_ACCESS_ADMIN,
} oc_access;

typedef struct oc_caller {
  char key_id[32];
  char name[128];
  oc_scope scope;
  char key[OC_APIKEY_LEN + 1]; /* the key presented, for a response that outlives the request (a stream) */
} oc_caller;

typedef struct oc_request {
  oc_server *server;
  struct MHD_Connection *conn;
  const char *method, *path;
  oc_route_params params;
  const char *body;
  size_t body_len;
  const char *request_id;
  const oc_caller *caller; /* NULL when the route is open and no key was given */
} oc_request;

#define OC_RESPONSE_MAX_HEADERS 8

typedef struct oc_response {
  int status;
  oc_buf body;
  const char *content_type;
  struct MHD_Response *prepared; /* set instead of body for files and streams */
  size_t header_count;
  struct {
    char name[48];
    char value[160];
  } headers[OC_RESPONSE_MAX_HEADERS];
  char variant[64]; /* for the access log, when a forecast variant served the request */
} oc_response;

typedef void (*oc_handler)(const oc_request *req, oc_response *resp);

typedef struct oc_route_spec {
  oc_handler handler;
  oc_access access;
  bool key_in_query; /* also accept ?access_token=KEY (EventSource cannot send headers) */
} oc_route_spec;

/* The server's route table (method, pattern, oc_route_spec). Exposed so the OpenAPI test can compare
 * it with docs/openapi.yaml. */
const oc_route *oc_serve_routes(size_t *count);

/* Query-string argument or request header, NULL when absent. */
const char *oc_request_query(const oc_request *req, const char *name);
const char *oc_request_header(const oc_request *req, const char *name);

void oc_response_header(oc_response *resp, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Serialises json (and releases the reference) as the response body. */
void oc_respond_json(oc_response *resp, int status, json_t *json);
/* The error envelope. code is a short machine-readable word ("not_found", "invalid_json", ...). */
void oc_respond_error(oc_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses the request body as one JSON object, strictly (no trailing data, no duplicate keys). On failure
 * fills resp with 400 naming line, column and byte offset, and returns NULL. */
json_t *oc_request_json_object(const oc_request *req, oc_response *resp);

#endif
