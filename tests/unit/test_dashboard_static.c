/* Unit tests for serve/dashboard_static.c: every accepted history and forecast shape, the errors for
 * bad inputs (with file, line/column/byte or item number), and the rendered page: everything inlined,
 * nothing that could end a <script> early, the data where the page expects it; where the dashboard's
 * files are looked for, and what is said when one is missing. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "serve/dashboard_static.h"

typedef struct fixture {
  char *dir;
} fixture;

static int setup(void **state) {
  fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_tmpdir("dashboard");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

static oc_date D(const char *s) {
  oc_date d;
  assert_int_equal(oc_date_parse(s, strlen(s), &d, NULL), 0);
  return d;
}

/* Loads text as a history; returns the observations array (borrowed from *out). */
static json_t *history(fixture *f, const char *text, oc_date start, json_t **out) {
  char *path = oc_test_write_file(f->dir, "h.json", text);
  oc_error err = {0};
  int rc = oc_dashboard_load_history(path, start, out, &err);
  free(path);
  if (rc < 0) fail_msg("unexpected error: %s", err.message);
  return json_object_get(*out, "observations");
}

/* Expects loading text (as history when is_history, else as forecast) to fail with a message
 * containing every one of the NULL-terminated fragments. */
static void expect_error(fixture *f, int is_history, const char *text, ...) {
  char *path = oc_test_write_file(f->dir, "bad.json", text);
  oc_error err = {0};
  json_t *out = NULL;
  int rc = is_history ? oc_dashboard_load_history(path, OC_DATE_INVALID, &out, &err)
                      : oc_dashboard_load_forecast(path, &out, &err);
  assert_int_equal(rc, -1);
  assert_null(out);
  assert_non_null(strstr(err.message, "bad.json"));
  va_list ap;
  va_start(ap, text);
  for (const char *frag; (frag = va_arg(ap, const char *));) {
    if (!strstr(err.message, frag)) fail_msg("error '%s' lacks '%s'", err.message, frag);
  }
  va_end(ap);
  free(path);
}

static void test_history_shapes(void **state) {
  fixture *f = *state;
  json_t *h;
  json_t *obs = history(f, "[{\"date\":\"2024-12-30\",\"price\":71.5},{\"date\":\"2024-12-31\",\"price\":-36.98}]",
                        OC_DATE_INVALID, &h);
  assert_int_equal(json_array_size(obs), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(obs, 1), "date")), "2024-12-31");
  assert_true(oc_test_close(json_real_value(json_object_get(json_array_get(obs, 1), "value")), -36.98, 0));
  json_decref(h);

  obs = history(f, "{\"series\":\"WTI\",\"observations\":[{\"date\":\"2024-12-31\",\"value\":72}]}", OC_DATE_INVALID, &h);
  assert_int_equal(json_array_size(obs), 1);
  assert_string_equal(json_string_value(json_object_get(h, "series")), "WTI");
  json_decref(h);

  /* A bare array starting on a Saturday: the first price is Monday's, then trading days (2025-01-01 is New
   * Year's Day). */
  obs = history(f, "[70, 71, 72]", D("2024-12-28"), &h);
  const char *expected[] = {"2024-12-30", "2024-12-31", "2025-01-02"};
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(json_string_value(json_object_get(json_array_get(obs, i), "date")), expected[i]);
  }
  json_decref(h);
}

static void test_history_errors(void **state) {
  fixture *f = *state;
  expect_error(f, 1, "[1, 2", "bad.json:1:", "byte", "invalid JSON", NULL);
  expect_error(f, 1, "[\n{\"date\":\"2024-01-02\",\"price\":1,}\n]", "bad.json:2:", NULL);
  expect_error(f, 1, "[1, 2]", "--start-date", NULL);
  expect_error(f, 1, "[]", "non-empty", NULL);
  expect_error(f, 1, "{\"rows\":[]}", "non-empty", NULL);
  expect_error(f, 1, "[{\"date\":\"2023-04-31\",\"price\":1}]", "item 1", "2023-04-31", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-03\",\"price\":1},{\"date\":\"2024-01-02\",\"price\":1}]", "item 2",
               "not after", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-02\",\"price\":\"1\"}]", "item 1", "\"price\" must be a number", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-02\"}]", "item 1", "needs a \"price\"", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-02\",\"price\":1,\"value\":1}]", "not both", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-02\",\"price\":1},3]", "item 2", "not an object", NULL);
  expect_error(f, 1, "[{\"date\":\"2024-01-02\",\"date\":\"2024-01-03\",\"price\":1}]", "duplicate", NULL);
}

static void test_forecast_shapes(void **state) {
  fixture *f = *state;
  char *path = oc_test_write_file(
      f->dir, "f.json",
      "{\"series\":\"WTI\",\"model_version\":\"v3\",\"origin\":\"2024-12-31\",\"points\":["
      "{\"date\":\"2025-01-02\",\"price\":72,\"lower80\":70,\"upper80\":74,\"lower95\":69,\"upper95\":75},"
      "{\"date\":\"2025-01-03\",\"price\":72.5}]}");
  json_t *fc = NULL;
  oc_error err = {0};
  assert_int_equal(oc_dashboard_load_forecast(path, &fc, &err), 0);
  assert_string_equal(json_string_value(json_object_get(fc, "model_version")), "v3");
  json_t *points = json_object_get(fc, "points");
  assert_int_equal(json_array_size(points), 2);
  assert_true(oc_test_close(json_real_value(json_object_get(json_array_get(points, 0), "upper95")), 75, 0));
  assert_null(json_object_get(json_array_get(points, 1), "lower80"));
  json_decref(fc);
  free(path);

  /* `oilcast forecast --format json`: points under "forecast", extra per-point fields ignored. */
  path = oc_test_write_file(f->dir, "f.json",
                            "{\"series\":\"WTI\",\"model\":\"mlp\",\"as_of\":\"2024-12-31\",\"last_price\":72.44,\"forecast\":["
                            "{\"date\":\"2025-01-02\",\"horizon\":1,\"price\":72.1,\"log_return\":-0.004}]}");
  assert_int_equal(oc_dashboard_load_forecast(path, &fc, &err), 0);
  assert_string_equal(json_string_value(json_object_get(fc, "as_of")), "2024-12-31");
  assert_int_equal(json_array_size(json_object_get(fc, "points")), 1);
  assert_null(json_object_get(json_array_get(json_object_get(fc, "points"), 0), "log_return"));
  json_decref(fc);
  free(path);

  path = oc_test_write_file(f->dir, "f.json", "[{\"date\":\"2025-01-02\",\"price\":72}]");
  assert_int_equal(oc_dashboard_load_forecast(path, &fc, &err), 0);
  assert_int_equal(json_array_size(json_object_get(fc, "points")), 1);
  json_decref(fc);
  free(path);
}

static void test_forecast_errors(void **state) {
  fixture *f = *state;
  expect_error(f, 0, "{\"points\":[]}", "non-empty", NULL);
  expect_error(f, 0, "[{\"date\":\"2025-01-02\",\"price\":72,\"lower80\":70}]", "item 1", "upper80", NULL);
  expect_error(f, 0, "[{\"date\":\"2025-01-02\",\"price\":72,\"lower80\":75,\"upper80\":70}]", "above", NULL);
  expect_error(f, 0,
               "[{\"date\":\"2025-01-02\",\"price\":72,\"lower80\":70,\"upper80\":74,\"lower95\":71,\"upper95\":75}]",
               "does not contain", NULL);
  expect_error(f, 0, "[{\"date\":\"2025-01-03\",\"price\":1},{\"date\":\"2025-01-03\",\"price\":1}]", "item 2",
               NULL);
}

/* A miniature web/ with the same link forms as the real one. */
static void write_web(fixture *f, const char *app_js) {
  free(oc_test_write_file(f->dir, "index.html",
                          "<html><head><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body>"
                          "<script src=\"/vendor/plotly.min.js\"></script><script src=\"/static/app.js\"></script>"
                          "</body></html>\n"));
  free(oc_test_write_file(f->dir, "style.css", "body{color:#111}"));
  free(oc_test_write_file(f->dir, "app.js", app_js));
  free(oc_test_write_file(f->dir, "plotly.min.js", "var Plotly={};var re=\"<!--x--></SCRIPT>\";"));
}

/* Renders history_text with the page's series and source (NULL: from the input). */
static char *render(fixture *f, const char *history_text, const char *series, const char *source, oc_error *err,
                    int *rc) {
  json_t *h;
  history(f, history_text, OC_DATE_INVALID, &h);
  char *plotly = oc_path_join(f->dir, "plotly.min.js");
  oc_dashboard_page page = {.web_dir = f->dir, .plotly_path = plotly, .series = series, .source = source};
  oc_buf out = {0};
  *rc = oc_dashboard_render(&page, h, NULL, &out, err);
  json_decref(h);
  free(plotly);
  return oc_buf_steal(&out);
}

static void test_render_inlines_everything(void **state) {
  fixture *f = *state;
  write_web(f, "start(window.OILCAST_STATIC);");
  oc_error err = {0};
  int rc;
  char *html = render(f, "{\"series\":\"</script><script>alert(1)</script>\",\"observations\":"
                         "[{\"date\":\"2024-12-31\",\"price\":72.44}]}", NULL, NULL, &err, &rc);
  assert_int_equal(rc, 0);
  assert_null(strstr(html, "src=\""));
  assert_null(strstr(html, "href=\""));
  assert_non_null(strstr(html, "<style>\nbody{color:#111}</style>"));
  assert_non_null(strstr(html, "start(window.OILCAST_STATIC);"));
  assert_non_null(strstr(html, "\"date\":\"2024-12-31\",\"value\":72.44"));
  /* The data sits before </head>, the scripts after it. */
  assert_true(strstr(html, "window.OILCAST_STATIC = ") < strstr(html, "</head>"));
  /* Exactly the 3 script elements we wrote: nothing inside them closes one early. */
  size_t closes = 0;
  for (const char *p = html; (p = strcasestr(p, "</script")); p++) closes++;
  assert_int_equal(closes, 3);
  assert_null(strstr(html, "<!--"));
  free(html);

  /* Same inputs, same bytes. */
  char *again = render(f, "[{\"date\":\"2024-12-31\",\"price\":72.44}]", "WTI", NULL, &err, &rc);
  char *third = render(f, "[{\"date\":\"2024-12-31\",\"price\":72.44}]", "WTI", NULL, &err, &rc);
  assert_string_equal(again, third);
  assert_non_null(strstr(again, "\"series\":\"WTI\""));
  free(again);
  free(third);
}

/* The page credits the source stored with the series: the history's "source" (GET /v1/series/NAME),
 * or the page's (--source) over it; none is left unstated, never guessed. */
static void test_render_states_the_source(void **state) {
  fixture *f = *state;
  write_web(f, "1;");
  oc_error err = {0};
  int rc;
  const char *simulated = "{\"series\":\"WTI-SIM\",\"source\":\"simulated\",\"observations\":"
                          "[{\"date\":\"2024-12-31\",\"value\":51.04}]}";
  char *html = render(f, simulated, NULL, NULL, &err, &rc);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(html, "\"source\":\"simulated\""));
  free(html);
  html = render(f, simulated, NULL, "historical", &err, &rc);
  assert_non_null(strstr(html, "\"source\":\"historical\""));
  assert_null(strstr(html, "\"simulated\""));
  free(html);
  html = render(f, "[{\"date\":\"2024-12-31\",\"price\":72.44}]", "WTI", NULL, &err, &rc);
  assert_int_equal(rc, 0);
  assert_null(strstr(html, "\"source\""));
  free(html);
}

static void test_render_rejects_unknown_links(void **state) {
  fixture *f = *state;
  write_web(f, "1;");
  free(oc_test_write_file(f->dir, "index.html", "<head></head><script src=\"https://cdn.example/x.js\"></script>"));
  oc_error err = {0};
  int rc;
  free(render(f, "[{\"date\":\"2024-12-31\",\"price\":1}]", NULL, NULL, &err, &rc));
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err.message, "https://cdn.example/x.js"));

  free(oc_test_write_file(f->dir, "index.html", "<head></head><script src=\"/static/missing.js\"></script>"));
  free(render(f, "[{\"date\":\"2024-12-31\",\"price\":1}]", NULL, NULL, &err, &rc));
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err.message, "missing.js"));
}

static void test_server_answers_on_loopback(void **state) {
  (void)state;
  static const char page[] = "<html>dashboard</html>";
  oc_dashboard_server *server;
  uint16_t port = 0;
  oc_error err = {0};
  assert_int_equal(oc_dashboard_server_start(page, sizeof page - 1, 0, &server, &port, &err), 0);
  assert_true(port > 0);
  const char *requests[] = {"GET / HTTP/1.0\r\n\r\n", "GET /nope HTTP/1.0\r\n\r\n", "POST / HTTP/1.0\r\n\r\n"};
  const char *expected[] = {"HTTP/1.1 200", "HTTP/1.1 404", "HTTP/1.1 405"};
  for (size_t i = 0; i < 3; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_true(write(fd, requests[i], strlen(requests[i])) > 0);
    oc_buf reply = {0};
    char chunk[512];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) oc_buf_append(&reply, chunk, (size_t)n);
    close(fd);
    if (strncmp(reply.data, expected[i], strlen(expected[i])) != 0) fail_msg("reply %zu: %.40s", i, reply.data);
    if (i == 0) assert_non_null(strstr(reply.data, "\r\n\r\n<html>dashboard</html>"));
    oc_buf_free(&reply);
  }
  oc_dashboard_server_stop(server);
}

static void test_missing_assets_named_with_remedy(void **state) {
  fixture *f = *state;
  char *missing = oc_dashboard_missing_assets(f->dir, f->dir);
  char *index_path = oc_path_join(f->dir, "index.html");
  assert_non_null(missing);
  assert_non_null(strstr(missing, index_path));
  assert_null(strchr(missing, '\n'));
  free(missing);
  free(index_path);

  free(oc_test_write_file(f->dir, "index.html", "<html></html>"));
  missing = oc_dashboard_missing_assets(f->dir, f->dir);
  char *plotly_path = oc_path_join(f->dir, "plotly.min.js");
  assert_non_null(missing);
  assert_non_null(strstr(missing, plotly_path));
  assert_non_null(strstr(missing, "npm ci"));
  assert_non_null(strstr(missing, "--vendor-dir"));
  free(missing);

  /* A directory under the file's name is not the file. */
  assert_int_equal(mkdir(plotly_path, 0700), 0);
  missing = oc_dashboard_missing_assets(f->dir, f->dir);
  assert_non_null(missing);
  free(missing);
  assert_int_equal(rmdir(plotly_path), 0);

  free(oc_test_write_file(f->dir, "plotly.min.js", "window.Plotly = {};"));
  assert_null(oc_dashboard_missing_assets(f->dir, f->dir));
  free(plotly_path);
}

static void test_missing_page_says_so_escaped(void **state) {
  (void)state;
  char *page = oc_dashboard_missing_page("dashboard unavailable: /x/<b>&\"y\" is missing");
  assert_non_null(strstr(page, "dashboard unavailable: /x/&lt;b&gt;&amp;&quot;y&quot; is missing"));
  assert_null(strstr(page, "<b>"));
  assert_null(strstr(page, "<script"));
  free(page);
}

/* A binary that is not installed (this test, in the build tree) reads the source tree; the
 * environment overrides both. The installed lookup is tested by tests/e2e/install.sh. */
static void test_default_asset_paths(void **state) {
  (void)state;
  unsetenv("OILCAST_WEB_DIR");
  unsetenv("OILCAST_PLOTLY_JS");
  char *web = oc_dashboard_default_web_dir(), *vendor = oc_dashboard_default_vendor_dir();
  char *plotly = oc_dashboard_default_plotly_path();
  assert_string_equal(web, OILCAST_SOURCE_DIR "/web");
  assert_string_equal(vendor, OILCAST_SOURCE_DIR "/node_modules/plotly.js-dist-min");
  assert_string_equal(plotly, OILCAST_SOURCE_DIR "/node_modules/plotly.js-dist-min/plotly.min.js");
  free(web);
  free(vendor);
  free(plotly);
  setenv("OILCAST_WEB_DIR", "/elsewhere/web", 1);
  setenv("OILCAST_PLOTLY_JS", "/elsewhere/plotly.js", 1);
  web = oc_dashboard_default_web_dir();
  plotly = oc_dashboard_default_plotly_path();
  assert_string_equal(web, "/elsewhere/web");
  assert_string_equal(plotly, "/elsewhere/plotly.js");
  free(web);
  free(plotly);
  unsetenv("OILCAST_WEB_DIR");
  unsetenv("OILCAST_PLOTLY_JS");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_history_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_forecast_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_forecast_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_render_inlines_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(test_render_states_the_source, setup, teardown),
      cmocka_unit_test_setup_teardown(test_render_rejects_unknown_links, setup, teardown),
      cmocka_unit_test(test_server_answers_on_loopback),
      cmocka_unit_test_setup_teardown(test_missing_assets_named_with_remedy, setup, teardown),
      cmocka_unit_test(test_missing_page_says_so_escaped),
      cmocka_unit_test(test_default_asset_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
