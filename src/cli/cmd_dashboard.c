/* cmd_dashboard.c: `oilcast dashboard`, the reference guide's create_dashboard.py: one self-contained
 * HTML dashboard from a history file and a forecast file, written with --out or served on loopback
 * until Ctrl-C. Parsing options and printing only; the work is in serve/dashboard_static.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "serve/dashboard_static.h"

enum { OPT_HISTORY = 1, OPT_FORECAST, OPT_START_DATE, OPT_SERIES, OPT_SOURCE, OPT_OUT, OPT_PORT, OPT_WEB_DIR, OPT_PLOTLY };

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_dashboard = {
    .name = "dashboard",
    .summary = "one self-contained HTML dashboard from history + forecast JSON",
    .usage = "Usage: oilcast dashboard --historical-data H.json [--forecast-data F.json] [--out FILE.html]\n"
             "\n"
             "Writes one HTML file holding the dashboard page, plotly.js and the data, which opens offline\n"
             "(price history with SMA/Bollinger overlays, RSI and MACD, and the forecast fan with its 80%\n"
             "and 95% bands). Without --out, serves that page on 127.0.0.1 and prints its URL until Ctrl-C.\n"
             "\n"
             "  --historical-data FILE  [71.2, ...] (needs --start-date), [{\"date\",\"price\"|\"value\"}, ...]\n"
             "                          or {\"series\",\"observations\":[...]} (GET /v1/series/NAME)\n"
             "  --forecast-data FILE    [{\"date\",\"price\",\"lower80\",\"upper80\",\"lower95\",\"upper95\"}, ...]\n"
             "                          or an object holding them as \"points\" (GET /v1/forecasts/latest)\n"
             "                          or \"forecast\" (oilcast forecast --format json); bands optional\n"
             "  --start-date DATE       date of the first price of a bare array (trading days follow)\n"
             "  --series NAME           name shown on the page (default: from the file, else Historical)\n"
             "  --source SOURCE         the series' source as stored (historical, simulated, ...), credited on\n"
             "                          the page (default: from the file, else shown as not stated)\n"
             "  --out FILE              write the page there instead of serving it\n"
             "  --port N                port to serve on (default 8050; 0 = any free port)\n"
             "  --web-dir DIR           page sources (default $OILCAST_WEB_DIR, else the source tree's web/)\n"
             "  --plotly FILE           plotly.min.js (default $OILCAST_PLOTLY_JS, else node_modules/)\n",
    .run = run,
};
static const oc_command *const cmd = &oc_cmd_dashboard;

/* Serves html until SIGINT or SIGTERM. The signals are blocked before the server thread starts so
 * that only sigwait here sees them. */
static int serve_until_signal(const char *html, size_t len, long port) {
  sigset_t stop;
  oc_cli_block_stop_signals(&stop);
  oc_error err = {0};
  oc_dashboard_server *server;
  uint16_t bound;
  if (oc_dashboard_server_start(html, len, (uint16_t)port, &server, &bound, &err) < 0) {
    return oc_cli_runtime_error("%s", err.message);
  }
  printf("http://127.0.0.1:%u/\n", (unsigned)bound);
  fflush(stdout);
  oc_info("dashboard: serving on http://127.0.0.1:%u/ (Ctrl-C to stop)", (unsigned)bound);
  int sig;
  sigwait(&stop, &sig);
  oc_dashboard_server_stop(server);
  oc_info("dashboard: stopped");
  return OC_EXIT_OK;
}

/* What the command line asks for. */
typedef struct dashboard_args {
  const char *history_path, *forecast_path, *out_path, *web_dir, *plotly;
  oc_dashboard_page page;
  oc_date start_date;
  long port;
} dashboard_args;

/* Reads the options into *a; returns -1 when they are consistent, else the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, dashboard_args *a) {
  static const struct option options[] = {
      {"historical-data", required_argument, NULL, OPT_HISTORY},
      {"forecast-data", required_argument, NULL, OPT_FORECAST},
      {"start-date", required_argument, NULL, OPT_START_DATE},
      {"series", required_argument, NULL, OPT_SERIES},
      {"source", required_argument, NULL, OPT_SOURCE},
      {"out", required_argument, NULL, OPT_OUT},
      {"port", required_argument, NULL, OPT_PORT},
      {"web-dir", required_argument, NULL, OPT_WEB_DIR},
      {"plotly", required_argument, NULL, OPT_PLOTLY},
      OC_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0},
  };
  int opt, exit_code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_HISTORY: a->history_path = optarg; break;
    case OPT_FORECAST: a->forecast_path = optarg; break;
    case OPT_START_DATE: {
      const char *reason = NULL;
      if (oc_date_parse(optarg, strlen(optarg), &a->start_date, &reason) < 0) {
        return oc_cli_usage_error(cmd, "--start-date '%s': %s", optarg, reason);
      }
      break;
    }
    case OPT_SERIES: a->page.series = optarg; break;
    case OPT_SOURCE: a->page.source = optarg; break;
    case OPT_OUT: a->out_path = optarg; break;
    case OPT_PORT:
      if (oc_cli_parse_int(optarg, 0, 65535, &a->port) < 0) return oc_cli_usage_error(cmd, "--port must be 0..65535");
      break;
    case OPT_WEB_DIR: a->web_dir = optarg; break;
    case OPT_PLOTLY: a->plotly = optarg; break;
    case '?': return oc_cli_unknown_option(cmd);
    default:
      if (oc_cli_common_option(cli, cmd, opt, optarg, &exit_code) < 0) return exit_code;
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!a->history_path) return oc_cli_usage_error(cmd, "--historical-data is required");
  return -1;
}

static int run(oc_cli *cli, int argc, char **argv) {
  dashboard_args a = {.start_date = OC_DATE_INVALID, .port = 8050};
  int rc = parse_options(cli, argc, argv, &a);
  if (rc >= 0) return rc;
  oc_error err = {0};
  json_t *history = NULL, *forecast = NULL;
  oc_buf html = {0};
  char *default_web = a.web_dir ? NULL : oc_dashboard_default_web_dir();
  char *default_plotly = a.plotly ? NULL : oc_dashboard_default_plotly_path();
  a.page.web_dir = a.web_dir ? a.web_dir : default_web;
  a.page.plotly_path = a.plotly ? a.plotly : default_plotly;
  rc = OC_EXIT_OK;
  if (oc_dashboard_load_history(a.history_path, a.start_date, &history, &err) < 0 ||
      (a.forecast_path && oc_dashboard_load_forecast(a.forecast_path, &forecast, &err) < 0) ||
      oc_dashboard_render(&a.page, history, forecast, &html, &err) < 0) {
    rc = oc_cli_runtime_error("%s", err.message);
  } else if (a.out_path) {
    if (oc_write_file_atomic(a.out_path, html.data, html.len, &err) < 0) {
      rc = oc_cli_runtime_error("%s", err.message);
    } else {
      oc_info("dashboard: wrote %s (%zu bytes, %zu observations, %zu forecast days)", a.out_path, html.len,
              json_array_size(json_object_get(history, "observations")),
              forecast ? json_array_size(json_object_get(forecast, "points")) : (size_t)0);
    }
  } else {
    rc = serve_until_signal(html.data, html.len, a.port);
  }
  oc_buf_free(&html);
  json_decref(history);
  json_decref(forecast);
  free(default_web);
  free(default_plotly);
  return rc;
}
