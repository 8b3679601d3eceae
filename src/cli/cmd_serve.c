/* cmd_serve.c: `oilcast serve`: parses options, starts the server library (src/serve/), prints the
 * URL, and waits for SIGTERM/SIGINT to shut down gracefully. No request handling here. */
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "serve/server.h"

static int run_serve(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_serve = {
    "serve", "serve the REST API, metrics and the dashboard over HTTP",
    "Usage: oilcast serve [--listen 127.0.0.1:8080] [--threads N] [OPTIONS]\n"
    "Serves the REST API (docs/api.md, docs/openapi.yaml), Prometheus metrics and the dashboard.\n"
    "Prints the URL on stdout once listening; SIGTERM or SIGINT stops accepting, lets in-flight requests\n"
    "finish and exits 0.\n\n"
    "Options:\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8080; port 0 picks a free one)\n"
    "  --threads N              worker threads (default 2)\n"
    "  --max-body BYTES         largest request body accepted (default 1048576; larger gets 413)\n"
    "  --timeout SECONDS        idle connection timeout (default 30)\n"
    "  --drain-timeout SECONDS  how long shutdown waits for in-flight requests (default 10)\n"
    "  --public-read            GET routes for series, forecasts, backtests, models, endpoints and the\n"
    "                           stream need no key (writes always do)\n"
    "  --operations-access A    who may call /healthz, /readyz, /metrics without a key:\n"
    "                           loopback (default), any, or key\n"
    "  --web-dir DIR            dashboard files (default: PREFIX/share/oilcast/web when installed,\n"
    "                           else the source tree's web/)\n"
    "  --vendor-dir DIR         directory holding plotly.min.js (default: PREFIX/share/oilcast/web when\n"
    "                           installed, else the source tree's node_modules/plotly.js-dist-min/)\n"
    "  --access-log FILE        one JSON line per request to FILE, '-' for stderr (default), or 'off'\n",
    run_serve};

enum { OPT_LISTEN = 1, OPT_THREADS, OPT_MAX_BODY, OPT_TIMEOUT, OPT_DRAIN, OPT_PUBLIC_READ, OPT_OPS_ACCESS,
       OPT_WEB_DIR, OPT_VENDOR_DIR, OPT_ACCESS_LOG };

static int run_serve(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"listen", required_argument, NULL, OPT_LISTEN},
                                          {"threads", required_argument, NULL, OPT_THREADS},
                                          {"max-body", required_argument, NULL, OPT_MAX_BODY},
                                          {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                          {"drain-timeout", required_argument, NULL, OPT_DRAIN},
                                          {"public-read", no_argument, NULL, OPT_PUBLIC_READ},
                                          {"operations-access", required_argument, NULL, OPT_OPS_ACCESS},
                                          {"web-dir", required_argument, NULL, OPT_WEB_DIR},
                                          {"vendor-dir", required_argument, NULL, OPT_VENDOR_DIR},
                                          {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  oc_serve_config cfg;
  oc_serve_config_defaults(&cfg);
  const char *web_env = getenv("OILCAST_WEB_DIR");
  if (web_env && *web_env) cfg.web_dir = web_env;
  const char *access_log = "-";
  double drain = 10;
  int opt, code;
  long number;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_LISTEN: cfg.listen = optarg; break;
    case OPT_THREADS:
      if (oc_cli_parse_int(optarg, 1, 256, &number) != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--threads must be 1..256, not '%s'", optarg);
      cfg.threads = (unsigned)number;
      break;
    case OPT_MAX_BODY:
      if (oc_cli_parse_int(optarg, 1, 1L << 30, &number) != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--max-body must be 1..1073741824 bytes, not '%s'", optarg);
      cfg.max_body_bytes = (size_t)number;
      break;
    case OPT_TIMEOUT:
      if (oc_cli_parse_int(optarg, 1, 3600, &number) != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--timeout must be 1..3600 seconds, not '%s'", optarg);
      cfg.connection_timeout = (unsigned)number;
      break;
    case OPT_DRAIN:
      if (oc_cli_parse_double(optarg, &drain) != 0 || drain < 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--drain-timeout must be a number of seconds, not '%s'", optarg);
      break;
    case OPT_PUBLIC_READ: cfg.public_read = true; break;
    case OPT_OPS_ACCESS:
      if (strcmp(optarg, "loopback") != 0 && strcmp(optarg, "any") != 0 && strcmp(optarg, "key") != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--operations-access must be loopback, any or key");
      cfg.operations_access = optarg;
      break;
    case OPT_WEB_DIR: cfg.web_dir = optarg; break;
    case OPT_VENDOR_DIR: cfg.vendor_dir = optarg; break;
    case OPT_ACCESS_LOG: access_log = optarg; break;
    case '?': return oc_cli_unknown_option(&oc_cmd_serve);
    default:
      if (oc_cli_common_option(cli, &oc_cmd_serve, opt, optarg, &code) < 0) return code;
    }
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_serve, "unexpected argument '%s'", argv[optind]);
  struct sockaddr_in listen_addr;
  oc_error listen_err;
  if (oc_serve_parse_listen(cfg.listen, &listen_addr, &listen_err) != 0)
    return oc_cli_usage_error(&oc_cmd_serve, "%s", listen_err.message);
  cfg.data_dir = cli->data_dir;
  int log_fd = -1;
  if (strcmp(access_log, "off") == 0) {
    cfg.access_log_fd = -1;
  } else if (strcmp(access_log, "-") == 0) {
    cfg.access_log_fd = STDERR_FILENO;
  } else {
    log_fd = open(access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return oc_cli_runtime_error("opening the access log %s: %s", access_log, strerror(errno));
    cfg.access_log_fd = log_fd;
  }

  /* Block the shutdown signals in every thread (the server's threads inherit this mask) and take them
   * synchronously below. */
  sigset_t stop_signals;
  oc_cli_block_stop_signals(&stop_signals);
  signal(SIGPIPE, SIG_IGN);

  oc_server *server = NULL;
  oc_error err;
  if (oc_server_start(&cfg, &server, &err) != 0) {
    if (log_fd >= 0) close(log_fd);
    return oc_cli_runtime_error("%s", err.message);
  }
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen);
  printf("oilcast serve: listening on http://%s:%u/\n", host, oc_server_port(server));
  fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  oc_info("serve: %s received: no new connections; finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  oc_server_stop(server, drain);
  oc_info("serve: stopped");
  if (log_fd >= 0) close(log_fd);
  return OC_EXIT_OK;
}
