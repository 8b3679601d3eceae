/* The outbound HTTP client's session (core/http_client.h) against a loopback server that counts the
 * connections it accepts: the requests of one session share one connection (a market fetch's pages,
 * as `curl URL1 URL2` does), each answer still whole and its own; a request without a session opens
 * its own connection; a session whose server closed the connection opens a new one. */
#include "testutil.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/http_client.h"

typedef struct server {
  struct MHD_Daemon *daemon;
  atomic_int connections;
  char base[64];
} server;

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  (void)c, (void)socket_context;
  server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&s->connections, 1);
}

/* Answers with the path it was asked for; "/close" also closes the connection after the answer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **ctx) {
  (void)cls, (void)method, (void)version, (void)data, (void)size;
  if (!*ctx) { /* the headers: answered on the next call (an answer before it closes the connection) */
    *ctx = c;
    return MHD_YES;
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(url), (void *)url, MHD_RESPMEM_MUST_COPY);
  if (strcmp(url, "/close") == 0) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void server_start(server *s) {
  atomic_init(&s->connections, 0);
  s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, s,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
  assert_non_null(s->daemon);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", (unsigned)info->port);
}

/* GET base + path through session (NULL: a request of its own); the body must be the path. */
static void get(const server *s, oc_http_session *session, const char *path) {
  char url[128];
  snprintf(url, sizeof url, "%s%s", s->base, path);
  oc_http_request req = {.method = "GET", .url = url, .timeout_ms = 10000};
  oc_http_response resp = {0};
  oc_error err;
  int rc = session ? oc_http_session_exchange(session, &req, &resp, &err) : oc_http_exchange(&req, &resp, &err);
  if (rc != 0) fail_msg("%s: %s", url, err.message);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.body.len, strlen(path));
  assert_memory_equal(resp.body.data, path, strlen(path));
  assert_non_null(strstr(resp.headers.data, "HTTP/1.1 200"));
  oc_http_response_free(&resp);
}

static void test_session_keeps_its_connection(void **state) {
  (void)state;
  server s;
  server_start(&s);
  oc_http_session *session = oc_http_session_new();
  get(&s, session, "/page/0");
  get(&s, session, "/page/5000");
  get(&s, session, "/page/10000");
  assert_int_equal(atomic_load(&s.connections), 1);
  get(&s, NULL, "/alone");
  assert_int_equal(atomic_load(&s.connections), 2);
  get(&s, session, "/close");
  get(&s, session, "/after-close"); /* the server closed the first one: a new connection */
  assert_int_equal(atomic_load(&s.connections), 3);
  oc_http_session_free(session);
  MHD_stop_daemon(s.daemon);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_session_keeps_its_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
