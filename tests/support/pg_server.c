/* pg_server.c: the test binary's PostgreSQL server (pg_server.h) through tests/support/pg.sh, which
 * owns how a server is made; this file only runs it once and stops it at exit. Must not be used by a
 * forked child that outlives the test (it would not stop the server). */
#include "pg_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "testutil.h"

static char *server_dir, *uri_prefix, *script;

static void stop_server(void) {
  oc_buf cmd = {0};
  oc_buf_printf(&cmd, "bash '%s' stop '%s/pg'", script, server_dir);
  if (system(cmd.data) != 0) fprintf(stderr, "pg_server: stopping the server in %s failed\n", server_dir);
  oc_buf_free(&cmd);
  oc_test_rmtree(server_dir);
  free(server_dir);
  free(uri_prefix);
  free(script);
}

const char *oc_test_pg_uri_prefix(void) {
  static int started; /* 0 not yet, 1 running, -1 unavailable */
  if (started) return uri_prefix;
  started = -1;
  const char *src = getenv("OILCAST_SOURCE_DIR");
  if (!src) {
    fprintf(stderr, "pg_server: OILCAST_SOURCE_DIR is not set (ctest sets it): no PostgreSQL server\n");
    return NULL;
  }
  oc_buf path = {0}, cmd = {0};
  oc_buf_printf(&path, "%s/tests/support/pg.sh", src);
  script = oc_buf_steal(&path);
  server_dir = oc_test_tmpdir("pg");
  oc_buf_printf(&cmd, "bash '%s' start '%s/pg'", script, server_dir);
  FILE *out = popen(cmd.data, "r");
  oc_buf_free(&cmd);
  char line[256] = "";
  if (!out || !fgets(line, sizeof line, out)) line[0] = '\0';
  int status = out ? pclose(out) : -1;
  int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  line[strcspn(line, "\n")] = '\0';
  if (code == 0 && strncmp(line, "postgresql://", 13) == 0) {
    uri_prefix = oc_xstrdup(line);
    started = 1;
    atexit(stop_server);
    return uri_prefix;
  }
  oc_test_rmtree(server_dir);
  free(server_dir);
  free(script);
  if (code != 77) {
    fprintf(stderr, "pg_server: starting PostgreSQL failed (exit %d)\n", code);
    exit(1);
  }
  return NULL;
}
