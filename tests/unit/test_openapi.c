/* Checks that docs/openapi.yaml describes exactly the routes `oilcast serve` has: every (method, path)
 * in the server's route table is in the spec and every operation in the spec is a route. HEAD is no
 * route of its own (the server answers it with the GET route), so neither the table nor the spec
 * lists it. The spec is
 * read with a line scanner for its `paths:` block (two-space path keys, four-space method keys), which
 * is all of YAML this file needs. */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "serve/http.h"

/* "/static/{path*}" -> "/static/{path}" (OpenAPI has no rest-of-path parameters). */
static void openapi_form(const char *pattern, char *out, size_t cap) {
  size_t n = 0;
  for (const char *p = pattern; *p && n + 1 < cap; p++) {
    if (*p == '*' && p[1] == '}') continue;
    out[n++] = *p;
  }
  out[n] = '\0';
}

static void test_spec_matches_routes(void **state) {
  (void)state;
  char *path = oc_path_join(OILCAST_SOURCE_DIR, "docs/openapi.yaml");
  char *text = NULL;
  size_t len = 0;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) fail_msg("%s", err.message);
  free(path);

  oc_buf spec_ops = {0}; /* "METHOD PATH\n" per operation in the spec */
  oc_buf_puts(&spec_ops, "\n");
  bool in_paths = false;
  char current[256] = "";
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] != ' ' && line[0] != '#') in_paths = strncmp(line, "paths:", 6) == 0;
    if (!in_paths) continue;
    if (strncmp(line, "  /", 3) == 0) {
      char *colon = strrchr(line, ':');
      assert_non_null(colon);
      snprintf(current, sizeof current, "%.*s", (int)(colon - line - 2), line + 2);
    } else if (strncmp(line, "    ", 4) == 0 && islower((unsigned char)line[4])) {
      char method[16];
      if (sscanf(line + 4, "%15[a-z]:", method) == 1 &&
          (strcmp(method, "get") == 0 || strcmp(method, "post") == 0 || strcmp(method, "put") == 0 ||
           strcmp(method, "delete") == 0 || strcmp(method, "patch") == 0 || strcmp(method, "head") == 0)) {
        for (char *m = method; *m; m++) *m = (char)toupper((unsigned char)*m);
        oc_buf_printf(&spec_ops, "%s %s\n", method, current);
      }
    }
  }
  free(text);

  size_t n;
  const oc_route *routes = oc_serve_routes(&n);
  size_t matched = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(routes[i].method, "HEAD") == 0) fail_msg("%s: HEAD is answered by the GET route", routes[i].pattern);
    char form[256], needle[300];
    openapi_form(routes[i].pattern, form, sizeof form);
    snprintf(needle, sizeof needle, "\n%s %s\n", routes[i].method, form);
    if (!strstr(spec_ops.data, needle)) fail_msg("route %s %s is missing from docs/openapi.yaml", routes[i].method, form);
    matched++;
  }
  /* Every spec operation must be a route: count them. */
  size_t spec_count = 0;
  for (const char *p = spec_ops.data + 1; *p; p = strchr(p, '\n') + 1) spec_count++;
  if (spec_count != matched) {
    fail_msg("docs/openapi.yaml has %zu operations but the server has %zu routes:\n%s", spec_count, matched,
             spec_ops.data);
  }
  oc_buf_free(&spec_ops);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_spec_matches_routes)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
