/* cmd_serve.c: `oilcast serve`: parses options, raises the open-file limit for the connection limit,
 * starts the server library (src/serve/), prints the URL, reloads keys and endpoints on SIGHUP and waits
 * for SIGTERM/SIGINT to shut down gracefully. No request handling here. */
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "pipeline/stream.h"
#include "schedule/clock.h"
#include "schedule/service.h"
#include "serve/server.h"

static int run_serve(oc_cli *cli, int argc, char **argv);
static void print_machine_defaults(FILE *out);

const oc_command oc_cmd_serve = {
    .name = "serve", .summary = "serve the REST API, metrics and the dashboard over HTTP",
    .usage = "Usage: oilcast serve [--listen 127.0.0.1:8080] [--threads N] [OPTIONS]\n"
    "Serves the REST API (docs/api.md, docs/openapi.yaml), Prometheus metrics and the dashboard.\n"
    "Prints the URL on stdout once listening; SIGTERM or SIGINT stops accepting, lets in-flight requests\n"
    "finish and exits 0. SIGHUP re-reads the API keys and every endpoint from the data directory without\n"
    "dropping a request (options given here need a restart). docs/operations.md has the details.\n\n"
    "Connections: at most --max-connections are served normally, and --max-connections-per-client from\n"
    "one IP address. A connection must send a complete request header within --header-timeout of its\n"
    "opening or of its previous response, and the body within --body-timeout of the header: these are\n"
    "totals, a trickled line does not extend them. At the limit, a new connection evicts the one that has\n"
    "waited longest for its header or body; if none has waited a moment, a reserve of an eighth more\n"
    "connections (at least 8) answers health checks and requests with a key, others get 503.\n\n"
    "Jobs: the server also runs the scheduled jobs of DIR/jobs.conf, as `oilcast run` does (docs/jobs.md),\n"
    "unless --scheduler off. Of several servers (and `oilcast run`s) on one store only the leader runs them;\n"
    "the others take over within a second or two when it dies (deploy/cluster/README.md).\n\n"
    "Options:\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8080; port 0 picks a free one)\n"
    "  --threads N              worker threads (default: one per CPU the server may run on, 2 to 64;\n"
    "                           how many on this machine is the last line of this text)\n"
    "  --max-body BYTES         largest request body accepted (default 1048576; larger gets 413)\n"
    "  --timeout SECONDS        idle connection timeout while a response is sent (default 30)\n"
    "  --max-connections N      connections served normally (default 1024; the open-file limit is raised\n"
    "                           to fit, up to its hard limit)\n"
    "  --max-connections-per-client N  connections one IP address may hold (default 128)\n"
    "  --header-timeout SECONDS total time for a request header, also the keep-alive idle limit (default 10)\n"
    "  --body-timeout SECONDS   total time for a request body after its header (default 30)\n"
    "  --drain-timeout SECONDS  how long shutdown waits for in-flight requests (default 10)\n"
    "  --public-read            GET routes for series, forecasts, backtests, models, endpoints and the\n"
    "                           stream need no key (writes always do); a key sent is still\n"
    "                           checked: a revoked or unknown one gets 401\n"
    "  --operations-access A    who may call /healthz, /readyz, /metrics without a key:\n"
    "                           loopback (default), any, or key\n"
    "  --web-dir DIR            dashboard files (default: PREFIX/share/oilcast/web when installed,\n"
    "                           else the source tree's web/)\n"
    "  --vendor-dir DIR         directory holding plotly.min.js (default: PREFIX/share/oilcast/web when\n"
    "                           installed, else the source tree's node_modules/plotly.js-dist-min/)\n"
    "  --access-log FILE        one JSON line per request to FILE, '-' for stderr (default), or 'off'\n"
    "  --scheduler on|off       run the jobs of DIR/jobs.conf (default on); only the leader of several\n"
    "                           servers on one store runs them\n"
    "  --rate-limits WHERE      where keys' token buckets live: node (this server's memory), store (shared\n"
    "                           by every server on the store: a key's burst holds across them) or auto\n"
    "                           (default: store on PostgreSQL, node on SQLite)\n"
    "  --stream URL|off         run the sensor stream (as `oilcast stream`) inside the server on its own\n"
    "                           thread, subscribed to the broker mqtt://HOST[:PORT]; default: the broker of\n"
    "                           oilcast.conf's [stream] section, if any (docs/stream.md). Its readings,\n"
    "                           windows and anomalies reach /v1/stream; SIGTERM commits and acknowledges\n"
    "                           the batch in hand before the server stops\n",
    .run = run_serve,
    .print_usage_extra = print_machine_defaults};

/* The last line of `serve --help`: the default the usage text cannot state, as it depends on the CPUs
 * this process may run on. */
static void print_machine_defaults(FILE *out) {
  fprintf(out, "\nOn this machine --threads defaults to %u.\n", oc_serve_default_threads());
}

enum { OPT_LISTEN = 1, OPT_THREADS, OPT_MAX_BODY, OPT_TIMEOUT, OPT_DRAIN, OPT_PUBLIC_READ, OPT_OPS_ACCESS,
       OPT_WEB_DIR, OPT_VENDOR_DIR, OPT_ACCESS_LOG, OPT_MAX_CONNECTIONS, OPT_PER_CLIENT, OPT_HEADER_TIMEOUT,
       OPT_BODY_TIMEOUT, OPT_SCHEDULER, OPT_STREAM, OPT_RATE_LIMITS };

/* Every connection is a descriptor: raises the soft open-file limit towards the hard one so that the
 * connection limit, its reserve and the store's files fit, and warns when they cannot. */
static void raise_open_file_limit(unsigned max_connections) {
  rlim_t wanted = (rlim_t)max_connections + max_connections / 4 + 256;
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= wanted ? wanted : lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < wanted) {
    oc_warn("serve: the open-file limit (%llu) is below what --max-connections %u needs (%llu): raise it "
            "(ulimit -n, LimitNOFILE=) or lower the limit",
            (unsigned long long)lim.rlim_cur, max_connections, (unsigned long long)wanted);
  }
}

/* Parses a number of connections (1..1000000) for option, into *out. */
static int parse_count(const char *option, const char *text, unsigned *out) {
  long number;
  if (oc_cli_parse_int(text, 1, 1000000, &number) != 0)
    return oc_cli_usage_error(&oc_cmd_serve, "%s must be 1..1000000, not '%s'", option, text);
  *out = (unsigned)number;
  return 0;
}

/* Parses a positive number of seconds for option, into *out. */
static int parse_seconds(const char *option, const char *text, double *out) {
  if (oc_cli_parse_double(text, out) != 0 || !(*out > 0) || *out > 3600)
    return oc_cli_usage_error(&oc_cmd_serve, "%s must be a number of seconds in (0, 3600], not '%s'", option, text);
  return 0;
}

/* The default client id of the server's stream, "oilcast-serve-HOSTNAME-PORT" with the listen port:
 * not "oilcast-stream-HOSTNAME", which an `oilcast stream` on this host uses, and one per node of a
 * host (deploy/cluster: several servers on one data directory, so one [stream] section), each the same
 * at every restart, as the persistent session it names must be. Port 0 (another port at each start)
 * gives no such suffix: "oilcast-serve-HOSTNAME" (two of those on a host need client_id). */
static void default_stream_client_id(unsigned listen_port, char *buf, size_t cap) {
  oc_mqtt_default_client_id("serve", buf, cap);
  size_t len = strlen(buf);
  if (listen_port) snprintf(buf + len, cap - len, "-%u", listen_port);
}

/* The sensor stream the server runs: oilcast.conf's [stream] section, with --stream's broker (flag:
 * NULL when not given; "off": none); the default client id names listen_port. *opt's strings live in
 * *conf, its clock in *clock (free both with stream_config_free after the server stopped). *wanted: a
 * broker is named. 0, or -1 with err (a bad [stream] value, broker URL, topic filter or OILCAST_CLOCK). */
static int configure_stream(const oc_cli *cli, const char *flag, unsigned listen_port, oc_stream_options *opt,
                            oc_conf *conf, oc_clock *clock, bool *wanted, oc_error *err) {
  *opt = oc_stream_options_default();
  *clock = (oc_clock){0};
  if (oc_stream_options_configure(cli->data_dir, conf, opt, err) != 0) return -1;
  if (flag) opt->session.broker = strcmp(flag, "off") == 0 ? NULL : flag;
  *wanted = opt->session.broker != NULL;
  opt->session.password = getenv("OILCAST_MQTT_PASSWORD");
  if (!*wanted) return 0;
  static char served_client_id[300]; /* one server per process: the id can live here */
  if (!opt->session.client_id) {
    default_stream_client_id(listen_port, served_client_id, sizeof served_client_id);
    opt->session.client_id = served_client_id;
  }
  char host[256];
  int port;
  if (oc_mqtt_parse_url(opt->session.broker, host, sizeof host, &port, err) != 0 ||
      oc_mqtt_filter_check(opt->session.filter, err) != 0)
    return -1;
  if (oc_clock_init(clock, getenv(OC_CLOCK_ENV), err) != 0) return -1;
  if (oc_clock_simulated(clock)) {
    opt->clock = oc_clock_now_ms;
    opt->clock_ctx = clock;
  }
  return 0;
}

static void stream_config_free(oc_conf *conf, oc_clock *clock) {
  oc_conf_free(conf);
  oc_clock_free(clock);
}

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
                                          {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
                                          {"max-connections-per-client", required_argument, NULL, OPT_PER_CLIENT},
                                          {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
                                          {"body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT},
                                          {"scheduler", required_argument, NULL, OPT_SCHEDULER},
                                          {"stream", required_argument, NULL, OPT_STREAM},
                                          {"rate-limits", required_argument, NULL, OPT_RATE_LIMITS},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  oc_serve_config cfg;
  oc_serve_config_defaults(&cfg);
  const char *web_env = getenv("OILCAST_WEB_DIR");
  if (web_env && *web_env) cfg.web_dir = web_env;
  const char *access_log = "-", *stream_flag = NULL;
  bool scheduler = true;
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
    case OPT_MAX_CONNECTIONS:
      if (parse_count("--max-connections", optarg, &cfg.max_connections) != 0) return OC_EXIT_USAGE;
      break;
    case OPT_PER_CLIENT:
      if (parse_count("--max-connections-per-client", optarg, &cfg.max_connections_per_client) != 0) return OC_EXIT_USAGE;
      break;
    case OPT_HEADER_TIMEOUT:
      if (parse_seconds("--header-timeout", optarg, &cfg.header_timeout) != 0) return OC_EXIT_USAGE;
      break;
    case OPT_BODY_TIMEOUT:
      if (parse_seconds("--body-timeout", optarg, &cfg.body_timeout) != 0) return OC_EXIT_USAGE;
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
    case OPT_SCHEDULER:
      if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--scheduler must be on or off, not '%s'", optarg);
      scheduler = strcmp(optarg, "on") == 0;
      break;
    case OPT_STREAM: stream_flag = optarg; break;
    case OPT_RATE_LIMITS:
      if (strcmp(optarg, "node") != 0 && strcmp(optarg, "store") != 0 && strcmp(optarg, "auto") != 0)
        return oc_cli_usage_error(&oc_cmd_serve, "--rate-limits must be node, store or auto, not '%s'", optarg);
      cfg.rate_limits = optarg;
      break;
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
  oc_stream_options stream;
  oc_conf stream_conf;
  oc_clock stream_clock;
  bool stream_wanted;
  oc_error err;
  if (configure_stream(cli, stream_flag, ntohs(listen_addr.sin_port), &stream, &stream_conf, &stream_clock,
                       &stream_wanted, &err) != 0) {
    stream_config_free(&stream_conf, &stream_clock);
    return oc_cli_usage_error(&oc_cmd_serve, "the sensor stream: %s", err.message);
  }
  cfg.stream = stream_wanted ? &stream : NULL;
  int log_fd = -1;
  if (strcmp(access_log, "off") == 0) {
    cfg.access_log_fd = -1;
  } else if (strcmp(access_log, "-") == 0) {
    cfg.access_log_fd = STDERR_FILENO;
  } else {
    log_fd = open(access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      stream_config_free(&stream_conf, &stream_clock);
      return oc_cli_runtime_error("opening the access log %s: %s", access_log, strerror(errno));
    }
    cfg.access_log_fd = log_fd;
  }

  /* Block the shutdown signals in every thread (the server's threads inherit this mask) and take them
   * synchronously below. */
  sigset_t stop_signals;
  oc_cli_block_stop_signals(&stop_signals);
  sigaddset(&stop_signals, SIGHUP); /* taken by the same sigwait: a reload, not a stop */
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit(cfg.max_connections);

  oc_server *server = NULL;
  if (oc_server_start(&cfg, &server, &err) != 0) {
    if (log_fd >= 0) close(log_fd);
    stream_config_free(&stream_conf, &stream_clock);
    return oc_cli_runtime_error("%s", err.message);
  }
  /* The jobs run beside the API; a scheduler that cannot start is reported, the API still serves. */
  oc_scheduler_service *jobs = NULL;
  char *exe = scheduler ? oc_scheduler_own_executable(&err) : NULL;
  if (scheduler && (!exe || oc_scheduler_service_start(cli->data_dir, exe, &jobs, &err) != 0))
    oc_warn("serve: the scheduler is not running: %s", err.message);
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen);
  printf("oilcast serve: listening on http://%s:%u/\n", host, oc_server_port(server));
  fflush(stdout);
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    if (oc_server_reload(server, &err) == 0) oc_info("serve: SIGHUP received: API keys and endpoints reloaded");
    else oc_warn("serve: SIGHUP received: reloading failed, the previous keys keep serving: %s", err.message);
  }
  oc_info("serve: %s received: no new connections; finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  oc_scheduler_service_stop(jobs); /* a run in progress finishes first */
  free(exe);
  oc_server_stop(server, drain);
  stream_config_free(&stream_conf, &stream_clock);
  oc_info("serve: stopped");
  if (log_fd >= 0) close(log_fd);
  return OC_EXIT_OK;
}
