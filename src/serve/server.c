/* server.c: the libmicrohttpd glue: daemon start/stop (and the sensor stream's thread, when configured),
 * per-request context (request id, body
 * accumulation under the size limit), routing (HEAD answered by the GET route), access control (API
 * keys, scopes, rate limits), response headers, metrics, the access log and the exchange log. Route handlers live in handlers_*.c and never see
 * libmicrohttpd's callback protocol. */
#include "serve/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/json.h"
#include "core/json_scan.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "serve/context.h"
#include "serve/dashboard_static.h"
#include "serve/endpoints.h"
#include "serve/events.h"
#include "serve/handlers.h"
#include "serve/mhd_lazy.h"
#include "store/datadir.h"
#include "pipeline/stream.h"

unsigned oc_serve_default_threads(void) {
  /* The CPUs this process may run on (a container's or taskset's share, not the machine's), at least 2
   * so that one slow request never holds the only worker, at most 64 (past that, the store is the
   * limit, not the workers). */
  cpu_set_t cpus;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  long n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : online;
  if (n < 2) n = 2;
  if (n > 64) n = 64;
  return (unsigned)n;
}

void oc_serve_config_defaults(oc_serve_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen = "127.0.0.1:8080";
  cfg->threads = oc_serve_default_threads();
  cfg->max_body_bytes = 1 << 20;
  cfg->connection_timeout = 30;
  cfg->max_connections = 1024;
  cfg->max_connections_per_client = 128;
  cfg->header_timeout = 10;
  cfg->body_timeout = 30;
  cfg->web_dir = NULL;    /* oc_dashboard_default_web_dir() */
  cfg->vendor_dir = NULL; /* oc_dashboard_default_vendor_dir() */
  cfg->operations_access = "loopback";
  cfg->access_log_fd = 2;
  cfg->key_reload_interval = 60.0;
  cfg->rate_limits = "auto";
}

/* ---- per-request context ---- */

typedef struct request_ctx {
  double start;
  char request_id[72];
  oc_buf body;
  bool body_too_large;
  bool responded;
} request_ctx;

static bool valid_request_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 64) return false;
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

static void assign_request_id(oc_server *s, struct MHD_Connection *conn, request_ctx *ctx) {
  const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
  if (given && valid_request_id(given)) {
    snprintf(ctx->request_id, sizeof ctx->request_id, "%s", given);
    return;
  }
  uint64_t seq = atomic_fetch_add_explicit(&s->request_seq, 1, memory_order_relaxed) + 1;
  snprintf(ctx->request_id, sizeof ctx->request_id, "%s-%012llx", s->id_prefix, (unsigned long long)seq);
}

/* ---- helpers for handlers (http.h) ---- */

const char *oc_request_query(const oc_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *oc_request_header(const oc_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void oc_response_header(oc_response *resp, const char *name, const char *fmt, ...) {
  if (resp->header_count == OC_RESPONSE_MAX_HEADERS) return;
  size_t i = resp->header_count++;
  snprintf(resp->headers[i].name, sizeof resp->headers[i].name, "%s", name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(resp->headers[i].value, sizeof resp->headers[i].value, fmt, ap);
  va_end(ap);
}

void oc_respond_json(oc_response *resp, int status, json_t *json) {
  resp->content_type = "application/json";
  oc_buf_clear(&resp->body);
  if (!json) { /* a json_pack that failed: say so rather than send nothing */
    resp->status = 500;
    oc_buf_puts(&resp->body, "{\"error\":{\"code\":\"internal_error\",\"message\":\"the answer could not be built\"}}\n");
    return;
  }
  resp->status = status;
  oc_json_write(&resp->body, json, OC_JSON_COMPACT);
  json_decref(json);
  oc_buf_putc(&resp->body, '\n');
}

/* Replaces each byte of s that is not valid UTF-8 with '?': a message quotes what the client sent (a
 * path, a parameter), and JSON text (and jansson) takes only UTF-8. */
static void utf8_sanitize(char *s) {
  for (unsigned char *p = (unsigned char *)s; *p;) {
    size_t n = oc_utf8_sequence(p, SIZE_MAX);
    if (n) {
      p += n;
    } else {
      *p++ = '?';
    }
  }
}

void oc_respond_error(oc_response *resp, int status, const char *code, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  utf8_sanitize(message);
  oc_respond_json(resp, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

json_t *oc_request_json_object(const oc_request *req, oc_response *resp) {
  if (req->body_len == 0) {
    oc_respond_error(resp, 400, "invalid_json", "the request body is empty; expected a JSON object");
    return NULL;
  }
  json_error_t jerr;
  json_t *json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json) {
    oc_respond_error(resp, 400, "invalid_json", "request body, line %d, column %d (byte %d): %s", jerr.line,
                     jerr.column, jerr.position, jerr.text);
    return NULL;
  }
  if (!json_is_object(json)) {
    json_decref(json);
    oc_respond_error(resp, 400, "invalid_json", "request body: expected a JSON object at line 1, column 1 (byte 0)");
    return NULL;
  }
  char field[96], number[96];
  size_t at_line;
  if (oc_json_find_underflow(req->body, req->body_len, field, number, sizeof field, &at_line)) {
    json_decref(json);
    oc_respond_error(resp, 400, "invalid_json", "request body, line %zu: %s: %s is too small for a double (it would read as 0)",
                     at_line, field, number);
    return NULL;
  }
  return json;
}

/* ---- access control ---- */

static bool client_is_loopback(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return false;
  const struct sockaddr *sa = info->client_addr;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

static void count_auth_failure(oc_server *s, const char *reason) {
  const char *labels[] = {"reason", reason};
  oc_metrics_add(s->metrics, OC_METRIC_AUTH_FAILURES, 1, 1, labels);
}

static oc_scope required_scope(const oc_server *s, struct MHD_Connection *conn, oc_access access) {
  switch (access) {
  case OC_ACCESS_OPEN: return OC_SCOPE_NONE;
  case OC_ACCESS_OPERATIONS:
    if (strcmp(s->cfg.operations_access, "any") == 0) return OC_SCOPE_NONE;
    if (strcmp(s->cfg.operations_access, "loopback") == 0 && client_is_loopback(conn)) return OC_SCOPE_NONE;
    return OC_SCOPE_READ;
  case OC_ACCESS_PUBLIC_READ: return s->cfg.public_read ? OC_SCOPE_NONE : OC_SCOPE_READ;
  case OC_ACCESS_READ: return OC_SCOPE_READ;
  case OC_ACCESS_WRITE: return OC_SCOPE_WRITE;
  case OC_ACCESS_ADMIN: return OC_SCOPE_ADMIN;
  }
  return OC_SCOPE_ADMIN;
}

/* Authenticates and rate-limits. Returns true when the handler may run; otherwise resp holds the
 * refusal. caller is filled when a valid key was presented. A read that --public-read opens to anyone,
 * and an operations route (/healthz, /readyz, /metrics) open to loopback or to any client, are still
 * judged by the key they present: a revoked or unknown key is refused, not served as anonymous
 * (whoever sends it believes it identifies them, and its revocation must end its use). */
static bool admit(oc_server *s, struct MHD_Connection *conn, const oc_route_spec *spec, oc_caller *caller,
                  bool *have_caller, oc_response *resp) {
  oc_scope need = required_scope(s, conn, spec->access);
  *have_caller = false;
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  const char *query_key = spec->key_in_query ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token") : NULL;
  char bearer[OC_APIKEY_LEN + 16];
  if (!auth && query_key) {
    snprintf(bearer, sizeof bearer, "Bearer %s", query_key);
    auth = bearer;
  }
  bool judges_presented_key = spec->access == OC_ACCESS_PUBLIC_READ || spec->access == OC_ACCESS_OPERATIONS;
  if (need == OC_SCOPE_NONE && (!auth || !judges_presented_key)) return true;
  if (!auth) {
    count_auth_failure(s, "missing");
    oc_response_header(resp, "WWW-Authenticate", "Bearer");
    oc_respond_error(resp, 401, "unauthorized", "this route needs an API key: send 'Authorization: Bearer KEY'");
    return false;
  }
  if (strncasecmp(auth, "Bearer ", 7) != 0) {
    count_auth_failure(s, "malformed");
    oc_response_header(resp, "WWW-Authenticate", "Bearer");
    oc_respond_error(resp, 401, "unauthorized", "the Authorization header must be 'Bearer KEY'");
    return false;
  }
  const char *key = auth + 7;
  while (*key == ' ') key++;
  oc_apikey_record who;
  oc_auth_result r = oc_apikey_verify(&s->keys, key, &who);
  if (r != OC_AUTH_OK) {
    const char *reason = r == OC_AUTH_MALFORMED ? "malformed" : r == OC_AUTH_REVOKED ? "revoked" : "unknown";
    count_auth_failure(s, reason);
    oc_response_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    oc_respond_error(resp, 401, "unauthorized", "the API key is %s",
                     r == OC_AUTH_MALFORMED ? "malformed" : r == OC_AUTH_REVOKED ? "revoked" : "not known");
    return false;
  }
  snprintf(caller->key_id, sizeof caller->key_id, "%s", who.id);
  snprintf(caller->key, sizeof caller->key, "%s", key);
  snprintf(caller->name, sizeof caller->name, "%s", who.name);
  caller->scope = who.scope;
  const oc_rate rate = {who.limit.per_second, who.limit.burst};
  *have_caller = true;
  if (caller->scope < need) {
    count_auth_failure(s, "scope");
    oc_respond_error(resp, 403, "forbidden", "key '%s' has scope %s; this route needs %s", caller->name,
                     oc_scope_name(caller->scope), oc_scope_name(need));
    return false;
  }
  oc_rate_decision d = oc_rate_limiter_take(&s->limiter, caller->key_id, &rate, oc_monotonic_seconds());
  if (d.limit >= 0) {
    oc_response_header(resp, "X-RateLimit-Limit", "%ld", d.limit);
    oc_response_header(resp, "X-RateLimit-Remaining", "%ld", d.remaining);
    oc_response_header(resp, "X-RateLimit-Reset", "%ld", d.reset);
  }
  if (!d.allowed) {
    const char *labels[] = {"key", caller->name};
    oc_metrics_add(s->metrics, OC_METRIC_RATE_LIMITED, 1, 1, labels);
    oc_response_header(resp, "Retry-After", "%ld", d.retry_after);
    oc_respond_error(resp, 429, "rate_limited", "key '%s' is over its rate limit; retry in %ld s", caller->name,
                     d.retry_after);
    return false;
  }
  return true;
}

/* ---- access log ---- */

static void write_access_log(oc_server *s, struct MHD_Connection *conn, const request_ctx *ctx, const char *method,
                             const char *url, const char *route, int status, size_t bytes, double seconds,
                             const oc_caller *caller, const char *variant) {
  if (s->cfg.access_log_fd < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char remote[INET6_ADDRSTRLEN] = "";
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info && info->client_addr) {
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, remote, sizeof remote);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, remote, sizeof remote);
  }
  oc_buf line = {0};
  oc_buf_printf(&line,
                "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"request_id\":\"%s\",\"remote\":\"%s\","
                "\"method\":",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                ctx->request_id, remote);
  oc_json_put_string(&line, method);
  oc_buf_puts(&line, ",\"path\":");
  oc_json_put_string(&line, url);
  oc_buf_puts(&line, ",\"route\":");
  oc_json_put_string(&line, route);
  oc_buf_printf(&line, ",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f", status, bytes, seconds * 1e3);
  if (caller) {
    oc_buf_puts(&line, ",\"key\":");
    oc_json_put_string(&line, caller->name);
  }
  if (variant && *variant) {
    oc_buf_puts(&line, ",\"variant\":");
    oc_json_put_string(&line, variant);
  }
  oc_buf_puts(&line, "}\n");
  ssize_t ignored = write(s->cfg.access_log_fd, line.data, line.len);
  (void)ignored;
  oc_buf_free(&line);
}

/* ---- response ---- */

/* One line of the exchange log (context.h): what the contract tests validate against docs/openapi.yaml.
 * body is NULL for a prepared response (a file or a stream), whose bytes are not in memory. */
static void write_exchange(oc_server *s, const char *method, const char *route, int status, const char *content_type,
                           const char *body) {
  oc_buf line = {0};
  oc_buf_puts(&line, "{\"method\":");
  oc_json_put_string(&line, method);
  oc_buf_puts(&line, ",\"route\":");
  oc_json_put_string(&line, route);
  oc_buf_printf(&line, ",\"status\":%d,\"content_type\":", status);
  if (content_type) oc_json_put_string(&line, content_type);
  else oc_buf_puts(&line, "null");
  oc_buf_puts(&line, ",\"body\":");
  if (body) oc_json_put_string(&line, body);
  else oc_buf_puts(&line, "null");
  oc_buf_puts(&line, "}\n");
  /* One write per line on an O_APPEND descriptor: lines from concurrent requests do not interleave. */
  ssize_t ignored = write(s->exchange_log_fd, line.data, line.len);
  (void)ignored;
  oc_buf_free(&line);
}

static enum MHD_Result send_response(oc_server *s, struct MHD_Connection *conn, request_ctx *ctx, const char *method,
                                     const char *url, size_t route_index, oc_response *resp, const oc_caller *caller) {
  struct MHD_Response *r = resp->prepared;
  size_t bytes = 0;
  const char *route = route_index < s->route_count ? s->routes[route_index].pattern : "unmatched";
  if (s->exchange_log_fd >= 0) {
    const char *type = r ? MHD_get_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)
                         : resp->content_type ? resp->content_type : "application/json";
    write_exchange(s, method, route, resp->status, type, r ? NULL : resp->body.data ? resp->body.data : "");
  }
  if (!r) {
    bytes = resp->body.len;
    if (bytes) r = MHD_create_response_from_buffer(bytes, oc_buf_steal(&resp->body), MHD_RESPMEM_MUST_FREE);
    else r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "application/json");
  }
  oc_buf_free(&resp->body);
  MHD_add_response_header(r, "X-Request-Id", ctx->request_id);
  for (size_t i = 0; i < resp->header_count; i++) MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
  if (atomic_load(&s->draining)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  ctx->responded = true;
  double seconds = oc_monotonic_seconds() - ctx->start;
  oc_metrics_observe_request(s->metrics, route_index, resp->status, seconds);
  write_access_log(s, conn, ctx, method, url, route, resp->status, bytes, seconds, caller, resp->variant);
  return ok;
}

/* The path to route: libmicrohttpd has percent-decoded url already, and the router decodes what it
 * captures (router.h: it routes raw paths), so each '%' left in url (a "%25" in the request) goes back
 * as "%25". Decoded twice, /v1/series/%2557TI named WTI and /static/index%252ehtml served index.html.
 * Returns url itself when it holds no '%', else escaped's text. */
static const char *routable_path(const char *url, oc_buf *escaped) {
  if (!strchr(url, '%')) return url;
  for (const char *p = url; *p; p++) {
    if (*p == '%') oc_buf_puts(escaped, "%25");
    else oc_buf_putc(escaped, *p);
  }
  return escaped->data;
}

/* The method a request is routed by: HEAD is GET without the body, so the GET route answers it and
 * libmicrohttpd sends its status and headers (Content-Length included) but not the body. */
static const char *routed_method(const char *method) {
  return strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
}

static enum MHD_Result dispatch(oc_server *s, struct MHD_Connection *conn, request_ctx *ctx, const char *url,
                                const char *method) {
  /* Set field by field: zero-filling the header and parameter buffers costs more than the request. */
  oc_response resp;
  resp.status = 200;
  resp.body = (oc_buf){0};
  resp.content_type = NULL;
  resp.prepared = NULL;
  resp.header_count = 0;
  resp.variant[0] = '\0';
  oc_request req;
  req.server = s;
  req.conn = conn;
  req.method = method;
  req.path = url;
  req.request_id = ctx->request_id;
  req.params.count = 0;
  req.body = NULL;
  req.body_len = 0;
  req.caller = NULL;
  size_t index = s->route_count;
  char allow[64];
  oc_caller caller;
  bool have_caller = false;
  oc_buf escaped = {0};
  oc_route_result matched = oc_route_match(s->routes, s->route_count, routed_method(method), routable_path(url, &escaped),
                                           &index, &req.params, allow, sizeof allow);
  oc_buf_free(&escaped);
  switch (matched) {
  case OC_ROUTE_NOT_FOUND:
    index = s->route_count;
    oc_respond_error(&resp, 404, "not_found", "no route for %s %s", method, url);
    break;
  case OC_ROUTE_METHOD_MISMATCH:
    index = s->route_count;
    if (strstr(allow, "GET") && strlen(allow) + sizeof ", HEAD" <= sizeof allow) strcat(allow, ", HEAD");
    oc_response_header(&resp, "Allow", "%s", allow);
    oc_respond_error(&resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", method, url, allow);
    break;
  case OC_ROUTE_FOUND: {
    const oc_route_spec *spec = s->routes[index].data;
    if (ctx->body_too_large) {
      oc_respond_error(&resp, 413, "payload_too_large", "the request body is larger than the limit of %zu bytes",
                       s->cfg.max_body_bytes);
    } else if (admit(s, conn, spec, &caller, &have_caller, &resp)) {
      req.caller = have_caller ? &caller : NULL;
      req.body = ctx->body.data ? ctx->body.data : "";
      req.body_len = ctx->body.len;
      spec->handler(&req, &resp);
    }
    break;
  }
  }
  return send_response(s, conn, ctx, method, url, index, &resp, have_caller ? &caller : NULL);
}

/* ---- connection admission (admission.h) and checks at a request's arrival ---- */

static oc_conn *conn_record(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  oc_server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    oc_conn *c = oc_xcalloc(1, sizeof *c);
    *socket_context = c;
    oc_admission_open(&s->admission, c, info ? info->connect_fd : -1, oc_monotonic_seconds());
    return;
  }
  oc_conn *c = *socket_context;
  if (!c) return;
  oc_admission_close(&s->admission, c);
  free(c);
  *socket_context = NULL;
}

/* libmicrohttpd decodes %00 like any escape, then reads the path as a C string cut at the NUL
 * (/static/index.html%00.js served index.html): the connection notes it and the request gets 400. */
static size_t unescape_noting_nul(void *cls, struct MHD_Connection *conn, char *text) {
  (void)cls;
  size_t len = MHD_http_unescape(text);
  oc_conn *c = conn_record(conn);
  if (c && strlen(text) != len) c->nul_in_request = true;
  return len;
}

/* What a request's header says about its body. libmicrohttpd 0.9.75 uses the first Content-Length and
 * ignores the others, so a second, different one smuggles the rest of the body in as another request. */
typedef struct body_headers {
  const char *length; /* the first Content-Length */
  bool conflicting_lengths, transfer_encoding;
} body_headers;

static enum MHD_Result note_body_header(void *cls, enum MHD_ValueKind kind, const char *name, const char *value) {
  body_headers *h = cls;
  (void)kind;
  if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    if (!h->length) h->length = value;
    else if (strcmp(h->length, value) != 0) h->conflicting_lengths = true;
  } else if (strcasecmp(name, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    h->transfer_encoding = true;
  }
  return MHD_YES;
}

/* The query's parameter names, gathered for repeated_parameter. */
typedef struct query_names {
  const char **names;
  size_t count, cap;
} query_names;

static enum MHD_Result note_query_name(void *cls, enum MHD_ValueKind kind, const char *name, const char *value) {
  query_names *q = cls;
  (void)kind;
  (void)value;
  oc_xgrow((void **)&q->names, &q->cap, q->count + 1, sizeof *q->names);
  q->names[q->count++] = name;
  return MHD_YES;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A query parameter the request gives more than once (?from=A&from=B), or NULL. Every parameter of the
 * API takes one value, and libmicrohttpd answers a lookup with the first: the request would be served
 * as if its other values were not there (and a proxy that reads the last one would see another request).
 * Sorted, not compared pairwise: a long query holds thousands of names. */
static const char *repeated_parameter(struct MHD_Connection *conn, char *name, size_t cap) {
  query_names q = {0};
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, note_query_name, &q);
  const char *repeated = NULL;
  if (q.count > 1) {
    qsort(q.names, q.count, sizeof *q.names, compare_names);
    for (size_t i = 1; i < q.count && !repeated; i++) {
      if (strcmp(q.names[i - 1], q.names[i]) == 0) repeated = q.names[i];
    }
  }
  if (repeated) snprintf(name, cap, "%s", repeated);
  free(q.names);
  return repeated ? name : NULL;
}

/* A connection in the reserve serves health checks (and the other operations routes) and requests that
 * carry a key; the key itself is checked as usual afterwards. */
static bool may_use_reserve(const oc_server *s, struct MHD_Connection *conn, const char *url, const char *method) {
  if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) ||
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token")) {
    return true;
  }
  size_t index;
  oc_route_params params;
  oc_buf escaped = {0};
  oc_route_result matched = oc_route_match(s->routes, s->route_count, routed_method(method),
                                           routable_path(url, &escaped), &index, &params, NULL, 0);
  oc_buf_free(&escaped);
  if (matched != OC_ROUTE_FOUND) return false;
  const oc_route_spec *spec = s->routes[index].data;
  return spec->access == OC_ACCESS_OPERATIONS;
}

/* Checks a request whose header has just arrived, before any of its body is read: true when resp holds
 * its refusal. *has_body tells whether a body follows. */
static bool refused_at_arrival(const oc_server *s, struct MHD_Connection *conn, const oc_conn *c, const char *url,
                               const char *method, oc_response *resp, bool *has_body) {
  body_headers body = {0};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, note_body_header, &body);
  *has_body = body.transfer_encoding || (body.length && strtoull(body.length, NULL, 10) > 0);
  char repeated[128];
  if (c->nul_in_request) {
    oc_respond_error(resp, 400, "invalid_request", "the request URL holds an encoded NUL byte (%%00)");
  } else if (repeated_parameter(conn, repeated, sizeof repeated)) {
    oc_respond_error(resp, 400, "invalid_parameter", "query parameter '%s' is given more than once; give it once",
                     repeated);
  } else if (body.conflicting_lengths) {
    oc_respond_error(resp, 400, "invalid_request", "the request has Content-Length headers that disagree");
  } else if (body.length && body.transfer_encoding) {
    oc_respond_error(resp, 400, "invalid_request", "the request has both Content-Length and Transfer-Encoding");
  } else if (c->reserved && !may_use_reserve(s, conn, url, method)) {
    oc_response_header(resp, "Retry-After", "1");
    oc_respond_error(resp, 503, "overloaded",
                     "the server is at its connection limit: only health checks and requests with a key are "
                     "answered; retry shortly");
  } else {
    return false;
  }
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  oc_server *s = cls;
  request_ctx *ctx = *con_cls;
  if (!ctx) {
    ctx = oc_xcalloc(1, sizeof *ctx);
    ctx->start = oc_monotonic_seconds();
    assign_request_id(s, conn, ctx);
    atomic_fetch_add(&s->in_flight, 1);
    *con_cls = ctx;
    oc_conn *c = conn_record(conn);
    assert(c); /* on_connection made it */
    oc_response refusal = {.status = 200};
    bool has_body;
    if (refused_at_arrival(s, conn, c, url, method, &refusal, &has_body)) {
      oc_response_header(&refusal, MHD_HTTP_HEADER_CONNECTION, "close"); /* nothing after it is read */
      return send_response(s, conn, ctx, method, url, s->route_count, &refusal, NULL);
    }
    oc_admission_headers_done(&s->admission, c, has_body, oc_monotonic_seconds());
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > s->cfg.max_body_bytes) {
      ctx->body_too_large = true;
      return dispatch(s, conn, ctx, url, method);
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!ctx->body_too_large) {
      if (ctx->body.len + *upload_data_size > s->cfg.max_body_bytes) {
        ctx->body_too_large = true;
        oc_buf_free(&ctx->body);
      } else {
        oc_buf_append(&ctx->body, upload_data, *upload_data_size);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (ctx->responded) return MHD_YES;
  oc_admission_body_done(&s->admission, conn_record(conn));
  return dispatch(s, conn, ctx, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  oc_server *s = cls;
  oc_conn *c = conn_record(conn);
  if (c) oc_admission_request_done(&s->admission, c, oc_monotonic_seconds());
  request_ctx *ctx = *con_cls;
  if (!ctx) return;
  oc_buf_free(&ctx->body);
  free(ctx);
  *con_cls = NULL;
  atomic_fetch_sub(&s->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && msg[n - 1] == '\n') msg[--n] = '\0';
  oc_debug("http: %s", msg);
}

/* ---- the sensor stream inside the server ---- */

static void on_stream_status(void *ctx, bool up, const char *what) {
  (void)ctx;
  if (up) oc_info("serve: sensor stream subscribed to %s", what);
  else oc_warn("serve: sensor stream interrupted: %s (reconnecting)", what);
}

static void *run_stream(void *arg) {
  oc_server *s = arg;
  oc_stream_result r;
  oc_error err;
  if (oc_pipeline_stream(s->data_dir, s->stream_store, s->stream_opt, &r, &err) != 0)
    oc_err("serve: the sensor stream stopped: %s", err.message);
  oc_info("serve: sensor stream: %lld messages, %lld readings, %lld dead letters, %lld silences", (long long)r.messages,
          (long long)r.readings, (long long)r.dead_letters, (long long)r.silences);
  return NULL;
}

/* Starts cfg->stream on its thread with its own store connection: 0, or -1 with err. */
static int stream_start(oc_server *s, const oc_stream_options *opt, oc_error *err) {
  if (oc_datadir_open(s->data_dir, &s->stream_store, err) != 0) return oc_error_prefix(err, "the sensor stream: ");
  s->stream_opt = oc_xmalloc(sizeof *s->stream_opt);
  *s->stream_opt = *opt;
  atomic_init(&s->stream_stop, false);
  s->stream_opt->stop = &s->stream_stop;
  s->stream_opt->on_status = on_stream_status;
  s->stream_opt->on_batch = NULL;
  s->stream_opt->ctx = s;
  if (pthread_create(&s->stream_thread, NULL, run_stream, s) != 0) {
    oc_store_close(s->stream_store);
    free(s->stream_opt);
    return oc_error_set(err, "starting the sensor stream's thread failed");
  }
  s->stream_running = true;
  return 0;
}

/* Stops the stream (its batch in hand is committed and acknowledged first) and joins its thread. */
static void stream_stop(oc_server *s) {
  if (!s->stream_running) return;
  atomic_store(&s->stream_stop, true);
  pthread_join(s->stream_thread, NULL);
  oc_store_close(s->stream_store);
  free(s->stream_opt);
  s->stream_running = false;
}

/* ---- start/stop ---- */

int oc_serve_parse_listen(const char *listen, struct sockaddr_in *addr, oc_error *err) {
  const char *colon = strrchr(listen, ':');
  if (!colon) return oc_error_set(err, "--listen '%s': expected HOST:PORT, as 127.0.0.1:8080", listen);
  char host[64];
  size_t hlen = (size_t)(colon - listen);
  if (hlen == 0 || hlen >= sizeof host) return oc_error_set(err, "--listen '%s': bad host", listen);
  memcpy(host, listen, hlen);
  host[hlen] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || port < 0 || port > 65535) {
    return oc_error_set(err, "--listen '%s': the port must be 0..65535", listen);
  }
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
  if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
    return oc_error_set(err, "--listen '%s': '%s' is not an IPv4 address", listen, host);
  }
  return 0;
}

static void free_server(oc_server *s) {
  oc_admission_reaper_stop(&s->admission);
  oc_admission_free(&s->admission);
  if (s->exchange_log_fd >= 0) close(s->exchange_log_fd);
  oc_metrics_free(s->metrics);
  oc_rate_limiter_free(&s->limiter);
  free(s->data_dir);
  free(s->web_dir);
  free(s->vendor_dir);
  free(s);
}

/* libmicrohttpd's own limit, checked before on_connection sees a connection: the limit, the reserve, and
 * room for connections already shut down (evicted, refused) that it has not closed yet. */
static unsigned mhd_connection_limit(const oc_admission_limits *limits) {
  return (unsigned)(limits->max_connections + limits->reserve + limits->max_connections / 4 + 16);
}

int oc_server_start(const oc_serve_config *cfg, oc_server **out, oc_error *err) {
  struct sockaddr_in addr;
  if (oc_serve_parse_listen(cfg->listen, &addr, err) != 0) return -1;
  if (strcmp(cfg->operations_access, "loopback") != 0 && strcmp(cfg->operations_access, "any") != 0 &&
      strcmp(cfg->operations_access, "key") != 0) {
    return oc_error_set(err, "operations access '%s': expected loopback, any or key", cfg->operations_access);
  }
  if (cfg->max_connections == 0 || cfg->max_connections_per_client == 0) {
    return oc_error_set(err, "the connection limits must be at least 1 (total %u, per client %u)", cfg->max_connections,
                        cfg->max_connections_per_client);
  }
  if (!(cfg->header_timeout > 0) || !(cfg->body_timeout > 0)) {
    return oc_error_set(err, "the header and body timeouts must be positive (%g s, %g s)", cfg->header_timeout,
                        cfg->body_timeout);
  }
  oc_server *s = oc_xcalloc(1, sizeof *s);
  s->cfg = *cfg;
  s->data_dir = oc_xstrdup(cfg->data_dir);
  s->web_dir = cfg->web_dir ? oc_xstrdup(cfg->web_dir) : oc_dashboard_default_web_dir();
  s->vendor_dir = cfg->vendor_dir ? oc_xstrdup(cfg->vendor_dir) : oc_dashboard_default_vendor_dir();
  char *missing = oc_dashboard_missing_assets(s->web_dir, s->vendor_dir);
  if (missing) oc_warn("serve: %s", missing);
  free(missing);
  s->cfg.data_dir = s->data_dir;
  s->cfg.web_dir = s->web_dir;
  s->cfg.vendor_dir = s->vendor_dir;
  s->cfg.listen = NULL;
  s->routes = oc_serve_routes(&s->route_count);
  const char *exchange_log = getenv("OILCAST_EXCHANGE_LOG");
  s->exchange_log_fd = exchange_log && *exchange_log
                           ? open(exchange_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
                           : -1;
  if (exchange_log && *exchange_log && s->exchange_log_fd < 0) {
    oc_warn("serve: OILCAST_EXCHANGE_LOG %s: %s; exchanges are not recorded", exchange_log, strerror(errno));
  }
  s->metrics = oc_metrics_new(s->routes, s->route_count);
  oc_rate_limiter_init(&s->limiter);
  /* evict_after: a connection that has waited less than 10 ms is never evicted. A plain HTTP client sends
   * its header right behind its handshake, so a legitimate connection leaves the waiting lists within
   * milliseconds (and eviction takes the oldest first: max_connections newer ones come before it); an
   * attacker would have to open connections faster than max_connections / 10 ms to keep every waiting
   * one younger (with 0.1 s, 10,000 idle connections reconnecting at once on loopback did). */
  const oc_admission_limits limits = {cfg->max_connections, oc_admission_default_reserve(cfg->max_connections),
                                      cfg->header_timeout, cfg->body_timeout, fmin(0.01, cfg->header_timeout / 4)};
  oc_admission_init(&s->admission, &limits, NULL, NULL);
  if (oc_admission_reaper_start(&s->admission) != 0) {
    int e = errno;
    free_server(s);
    errno = e;
    return oc_error_errno(err, "starting the connection deadline thread");
  }
  uint8_t random[4] = {0};
  if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) memset(random, 0x5a, sizeof random);
  oc_hex_encode(random, sizeof random, s->id_prefix);
  if (oc_serve_state_open(s, err) != 0) {
    free_server(s);
    return -1;
  }
  if (oc_rate_limiter_place(&s->limiter, cfg->rate_limits, s->store_uri, err) != 0) {
    oc_serve_state_close(s);
    free_server(s);
    return -1;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  s->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 1), MHD_OPTION_CONNECTION_TIMEOUT,
      cfg->connection_timeout, MHD_OPTION_CONNECTION_LIMIT, mhd_connection_limit(&limits),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_client, MHD_OPTION_NOTIFY_CONNECTION,
      on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape_noting_nul, s, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
      MHD_OPTION_END);
  if (!s->daemon) {
    int e = errno;
    oc_serve_state_close(s);
    free_server(s);
    errno = e;
    return oc_error_errno(err, "starting the HTTP server on %s", cfg->listen);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : ntohs(addr.sin_port);
  if (cfg->stream && stream_start(s, cfg->stream, err) != 0) {
    MHD_stop_daemon(s->daemon);
    oc_serve_state_close(s);
    free_server(s);
    return -1;
  }
  *out = s;
  return 0;
}

unsigned short oc_server_port(const oc_server *s) { return s->port; }

int oc_server_reload(oc_server *s, oc_error *err) {
  if (oc_apikey_table_reload(&s->keys, err) != 0) return -1;
  oc_event_hub_recheck(s->events);
  return oc_endpoints_reload_all(s->endpoints, err);
}

void oc_server_stop(oc_server *s, double drain_seconds) {
  if (!s) return;
  stream_stop(s);
  atomic_store(&s->draining, true);
  /* No new connections from here: shut down, they are refused at once. The descriptor itself is closed
   * after MHD_stop_daemon: with MHD's own threads a worker may still be taking it out of its epoll set
   * (libmicrohttpd's manual; a race ThreadSanitizer reported). */
  MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);
  if (listen_fd != MHD_INVALID_SOCKET) shutdown(listen_fd, SHUT_RDWR);
  oc_serve_streams_close(s);
  double deadline = oc_monotonic_seconds() + drain_seconds;
  while (atomic_load(&s->in_flight) > 0 && oc_monotonic_seconds() < deadline) {
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  long left = atomic_load(&s->in_flight);
  if (left > 0) oc_warn("serve: %ld requests still in flight after %.0f s; closing them", left, drain_seconds);
  MHD_stop_daemon(s->daemon);
  if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
  oc_admission_stats conns = oc_admission_stats_now(&s->admission);
  oc_info("serve: connections refused %llu, evicted %llu, past the header deadline %llu, past the body deadline %llu",
          (unsigned long long)conns.refused, (unsigned long long)conns.evicted,
          (unsigned long long)conns.header_timeouts, (unsigned long long)conns.body_timeouts);
  oc_serve_state_close(s);
  free_server(s);
}
