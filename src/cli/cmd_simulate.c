/* cmd_simulate.c: `oilcast simulate market`: writes a SIMULATED market as an importable CSV (see
 * ingest/simulate.h for the model); `oilcast simulate sensors`: SIMULATED field-sensor readings sent to
 * an MQTT broker or written to a file (ingest/sensors.h, ingest/sensors_mqtt.h). Needs no data
 * directory. Parses options, calls the library, prints what it did. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "ingest/mqtt.h"
#include "ingest/sensors.h"
#include "ingest/sensors_mqtt.h"
#include "ingest/simulate.h"
#include "serve/ratelimit.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_simulate = {
    .name = "simulate", .summary = "write a simulated oil market as CSV, or send simulated sensor readings over MQTT",
    .usage = "Usage: oilcast simulate market --days N --out FILE.csv [--seed S] [--start-date D]\n"
    "                               [--series NAME[,NAME...] | --series PREFIX --count K]\n"
    "                               [--regime-change DAY:BEFORE:AFTER]\n"
    "       oilcast simulate sensors --devices N --rate R/s --broker mqtt://HOST:PORT --credentials FILE\n"
    "                                [--duration S | --readings K] [--seed S] [--start TIME] [--unpaced]\n"
    "       oilcast simulate sensors --devices N --rate R/s --out FILE.jsonl (--duration S | --readings K)\n"
    "                                [--seed S] [--start TIME]\n\n"
    "Writes SIMULATED prices, one per trading day: log price with mean reversion to a wandering\n"
    "long-run level, Markov-switching volatility regimes and rare jumps, levels roughly 20..150 USD.\n"
    "The same seed gives the same file. One series: `date,value`; several: `date,series,value`.\n"
    "Import with: oilcast ingest --source simulated --csv-path FILE.csv [--series NAME]\n\n"
    "  --days N          trading days per series (required)\n"
    "  --out FILE        output CSV (required)\n"
    "  --seed S          PRNG seed (default 42)\n"
    "  --start-date D    first date, YYYY-MM-DD (default 2000-01-03)\n"
    "  --series NAMES    comma-separated series names (default WTI-SIM)\n"
    "  --count K         K series named PREFIX-0001.. (PREFIX from --series)\n"
    "  --regime-change DAY:BEFORE:AFTER   a trend of BEFORE per day in log price until trading day DAY,\n"
    "                    AFTER from it on (e.g. 250:0.006:-0.006, a rally turning into a slide)\n\n"
    "sensors: SIMULATED readings of devices sim-0001..sim-N (types in turn), R a second in all, each with\n"
    "its event time, sequence number and measurement with unit (JSON, docs/sensors.md): daily cycles, noise,\n"
    "drifts, injected spikes, stuck values and out-of-range values, some late and out-of-order messages;\n"
    "tank levels and refinery runs lead the simulated market of the same seed (`simulate market --seed S\n"
    "--start-date` the first reading's date). Same options, same readings. With --broker each device logs\n"
    "in with its own password from --credentials (written by `oilcast device add --simulated N\n"
    "--credentials FILE`) and publishes at QoS 1 on oil/sensors/<id>/readings, paced at the rate (until\n"
    "Ctrl-C without --duration/--readings); with --out the readings go to a JSON-lines file instead.\n"
    "  --devices N       simulated devices (default 5)\n"
    "  --rate R/s        readings per second, all devices together (default 10/s)\n"
    "  --duration S      seconds of readings (R x S readings); or --readings K\n"
    "  --start TIME      event time of the first reading, YYYY-MM-DDTHH:MM:SSZ (default: now with\n"
    "                    --broker, 2025-01-06T00:00:00Z with --out); a device's seq is the start in\n"
    "                    microseconds plus its reading number, so a restarted run (a later start)\n"
    "                    numbers on above the last one's readings, as the stream needs\n"
    "  --unpaced         send as fast as the broker acknowledges (benchmarks)\n",
    .run = run};

enum {
  OPT_DAYS = 1, OPT_OUT, OPT_SEED, OPT_START, OPT_SERIES, OPT_COUNT, OPT_REGIME_CHANGE,
  OPT_DEVICES, OPT_RATE, OPT_BROKER, OPT_DURATION, OPT_READINGS, OPT_START_TIME, OPT_CREDENTIALS, OPT_UNPACED
};

/* What the command line asks for; `given` has bit (1 << OPT_x) for each option used. */
typedef struct simulate_args {
  long days, seed, count;
  const char *out, *series;
  oc_date start;
  oc_regime_change change;
  long devices, readings;
  double rate, duration;
  const char *broker, *credentials;
  int64_t start_ms;
  bool unpaced;
  unsigned given;
} simulate_args;

/* Options of each subcommand (bits of simulate_args.given). */
#define MARKET_OPTIONS ((1u << OPT_DAYS) | (1u << OPT_OUT) | (1u << OPT_SEED) | (1u << OPT_START) | \
                        (1u << OPT_SERIES) | (1u << OPT_COUNT) | (1u << OPT_REGIME_CHANGE))
#define SENSOR_OPTIONS ((1u << OPT_OUT) | (1u << OPT_SEED) | (1u << OPT_DEVICES) | (1u << OPT_RATE) | \
                        (1u << OPT_BROKER) | (1u << OPT_DURATION) | (1u << OPT_READINGS) |            \
                        (1u << OPT_START_TIME) | (1u << OPT_CREDENTIALS) | (1u << OPT_UNPACED))

/* "YYYY-MM-DDTHH:MM:SSZ" as Unix milliseconds; -1 when malformed. */
static int parse_start_time(const char *text, int64_t *ms) {
  int hour, minute, second, used = 0;
  oc_date date;
  if (strlen(text) != 20 || oc_date_parse(text, 10, &date, NULL) != 0 ||
      sscanf(text + 10, "T%2d:%2d:%2dZ%n", &hour, &minute, &second, &used) != 3 || used != 10 || hour > 23 ||
      minute > 59 || second > 59 || date < 0)
    return -1;
  *ms = ((int64_t)date * 86400 + hour * 3600 + minute * 60 + second) * 1000;
  return 0;
}

/* Reads the options into *a; returns -1 for a consistent `market`, -2 for a consistent `sensors`, else
 * the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, simulate_args *a) {
  static const struct option options[] = {{"days", required_argument, NULL, OPT_DAYS},
                                          {"out", required_argument, NULL, OPT_OUT},
                                          {"seed", required_argument, NULL, OPT_SEED},
                                          {"start-date", required_argument, NULL, OPT_START},
                                          {"series", required_argument, NULL, OPT_SERIES},
                                          {"count", required_argument, NULL, OPT_COUNT},
                                          {"regime-change", required_argument, NULL, OPT_REGIME_CHANGE},
                                          {"devices", required_argument, NULL, OPT_DEVICES},
                                          {"rate", required_argument, NULL, OPT_RATE},
                                          {"broker", required_argument, NULL, OPT_BROKER},
                                          {"duration", required_argument, NULL, OPT_DURATION},
                                          {"readings", required_argument, NULL, OPT_READINGS},
                                          {"start", required_argument, NULL, OPT_START_TIME},
                                          {"credentials", required_argument, NULL, OPT_CREDENTIALS},
                                          {"unpaced", no_argument, NULL, OPT_UNPACED},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_simulate;
  int opt, code;
  oc_error err;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt > 0 && opt < 32) a->given |= 1u << opt;
    switch (opt) {
    case OPT_DEVICES:
      if (oc_cli_parse_int(optarg, 1, 9999, &a->devices) != 0)
        return oc_cli_usage_error(cmd, "--devices must be 1..9999, not '%s'", optarg);
      break;
    case OPT_RATE:
      if (oc_rate_parse(optarg, &a->rate, &err) != 0 || !(a->rate > 0 && a->rate <= 1e6))
        return oc_cli_usage_error(cmd, "--rate must be a rate above 0 up to 1000000/s (R/s, R/m, R/h), not '%s'", optarg);
      break;
    case OPT_DURATION:
      if (oc_cli_parse_double(optarg, &a->duration) != 0 || !(a->duration > 0 && a->duration <= 1e8))
        return oc_cli_usage_error(cmd, "--duration must be seconds above 0, not '%s'", optarg);
      break;
    case OPT_READINGS:
      if (oc_cli_parse_int(optarg, 1, 1000000000L, &a->readings) != 0)
        return oc_cli_usage_error(cmd, "--readings must be 1..1000000000, not '%s'", optarg);
      break;
    case OPT_START_TIME:
      if (parse_start_time(optarg, &a->start_ms) != 0)
        return oc_cli_usage_error(cmd, "--start must be YYYY-MM-DDTHH:MM:SSZ, not '%s'", optarg);
      break;
    case OPT_BROKER: a->broker = optarg; break;
    case OPT_CREDENTIALS: a->credentials = optarg; break;
    case OPT_UNPACED: a->unpaced = true; break;
    case OPT_DAYS:
      if (oc_cli_parse_int(optarg, 1, 100000000, &a->days) != 0)
        return oc_cli_usage_error(cmd, "--days must be a whole number >= 1, not '%s'", optarg);
      break;
    case OPT_OUT: a->out = optarg; break;
    case OPT_SEED:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &a->seed) != 0)
        return oc_cli_usage_error(cmd, "--seed must be a whole number >= 0, not '%s'", optarg);
      break;
    case OPT_START:
      if (oc_cli_parse_date(cmd, "--start-date", optarg, &a->start, &code) != 0) return code;
      break;
    case OPT_SERIES: a->series = optarg; break;
    case OPT_COUNT:
      if (oc_cli_parse_int(optarg, 1, 100000, &a->count) != 0)
        return oc_cli_usage_error(cmd, "--count must be 1..100000, not '%s'", optarg);
      break;
    case OPT_REGIME_CHANGE: {
      int used = 0;
      if (sscanf(optarg, "%zu:%lf:%lf%n", &a->change.at, &a->change.drift_before, &a->change.drift_after, &used) != 3 ||
          optarg[used] || !(fabs(a->change.drift_before) < 0.1) || !(fabs(a->change.drift_after) < 0.1))
        return oc_cli_usage_error(cmd, "--regime-change takes DAY:BEFORE:AFTER with daily drifts under 0.1, not '%s'",
                                  optarg);
      break;
    }
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(cmd);
    }
    }
  }
  if (optind >= argc || (strcmp(argv[optind], "market") != 0 && strcmp(argv[optind], "sensors") != 0))
    return oc_cli_usage_error(cmd, "expected 'simulate market' or 'simulate sensors'");
  if (optind + 1 < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  bool sensors = strcmp(argv[optind], "sensors") == 0;
  unsigned foreign = a->given & ~(sensors ? SENSOR_OPTIONS : MARKET_OPTIONS);
  for (int o = 1; o < 32; o++)
    if (foreign & (1u << o))
      for (const struct option *op = options; op->name; op++)
        if (op->val == o) return oc_cli_usage_error(cmd, "--%s is not an option of 'simulate %s'", op->name, argv[optind]);
  if (sensors) {
    if (!a->broker == !a->out) return oc_cli_usage_error(cmd, "sensors needs one of --broker mqtt://HOST:PORT or --out FILE");
    if (a->duration && a->readings) return oc_cli_usage_error(cmd, "give --duration or --readings, not both");
    if (a->out && !a->duration && !a->readings) return oc_cli_usage_error(cmd, "--out needs --duration or --readings");
    if (a->broker && !a->credentials) return oc_cli_usage_error(cmd, "--broker needs --credentials FILE");
    if (a->out && (a->credentials || a->unpaced)) return oc_cli_usage_error(cmd, "--credentials and --unpaced go with --broker");
    return -2;
  }
  if (!a->days) return oc_cli_usage_error(cmd, "--days is required");
  if (!a->out) return oc_cli_usage_error(cmd, "--out is required");
  return -1;
}

/* The series to simulate: --series as a comma-separated list, or with --count N the names
 * SERIES-0001..SERIES-N. */
static void series_names(const simulate_args *a, oc_pipeline_list *names) {
  if (!a->count) {
    oc_pipeline_list_split(a->series, names);
    return;
  }
  oc_buf generated = {0};
  for (long i = 1; i <= a->count; i++) oc_buf_printf(&generated, "%s-%04ld%c", a->series, i, '\0');
  *names = (oc_pipeline_list){.n = (size_t)a->count, .items = oc_xcalloc((size_t)a->count, sizeof *names->items),
                              .storage = generated.data};
  const char *p = generated.data;
  for (size_t i = 0; i < names->n; i++, p += strlen(p) + 1) names->items[i] = p;
}

/* Set by SIGINT/SIGTERM: the sensors stop sending and wait for their acknowledgements. */
static volatile sig_atomic_t stop_requested;
static void request_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void report_progress(void *ctx, int64_t sent, int64_t acknowledged) {
  (void)ctx;
  oc_info("sent %lld simulated readings, %lld acknowledged", (long long)sent, (long long)acknowledged);
}

/* The real clock in Unix milliseconds: the default start of a run to a broker, to the millisecond, so a
 * run restarted within the same second still numbers its readings above the last run's (sensors.h). */
static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_sensors(const simulate_args *a) {
  oc_sensor_sim_options sim = {.seed = (uint64_t)a->seed, .devices = (size_t)a->devices, .rate = a->rate,
                               .start_ms = a->start_ms};
  if (!(a->given & (1u << OPT_START_TIME)))
    sim.start_ms = a->out ? (int64_t)oc_date_from_ymd(2025, 1, 6) * 86400000 : now_ms();
  double count = a->readings ? (double)a->readings : a->duration ? ceil(a->duration * a->rate) : 4e18;
  sim.count = (int64_t)count;
  oc_error err;
  if (a->out) {
    int64_t written;
    if (oc_sensor_sim_write_file(&sim, a->out, &written, &err) != 0) return oc_cli_runtime_error("%s", err.message);
    printf("wrote %s: %lld SIMULATED readings of %ld devices (seed %ld)\n", a->out, (long long)written, a->devices,
           a->seed);
    return OC_EXIT_OK;
  }
  oc_sensor_publish_options po = {.sim = sim, .credentials_path = a->credentials, .unpaced = a->unpaced,
                                  .ack_timeout_seconds = 30, .stop = &stop_requested, .progress = report_progress};
  char host[256];
  if (oc_mqtt_parse_url(a->broker, host, sizeof host, &po.port, &err) != 0)
    return oc_cli_usage_error(&oc_cmd_simulate, "--broker: %s", err.message);
  po.host = host;
  struct sigaction on_stop = {.sa_handler = request_stop};
  sigaction(SIGINT, &on_stop, NULL);
  sigaction(SIGTERM, &on_stop, NULL);
  oc_sensor_publish_result res;
  int rc = oc_sensor_publish(&po, &res, &err);
  printf("sent %lld SIMULATED readings of %ld devices to %s, %lld acknowledged, in %.1f s (%lld reconnects)\n",
         (long long)res.sent, a->devices, a->broker, (long long)res.acknowledged, res.seconds, (long long)res.reconnects);
  return rc == 0 ? OC_EXIT_OK : oc_cli_runtime_error("%s", err.message);
}

static int run(oc_cli *cli, int argc, char **argv) {
  simulate_args a = {.seed = 42, .series = "WTI-SIM", .start = oc_date_from_ymd(2000, 1, 3), .devices = 5, .rate = 10};
  int rc = parse_options(cli, argc, argv, &a);
  if (rc == -2) return run_sensors(&a);
  if (rc >= 0) return rc;
  oc_pipeline_list names;
  series_names(&a, &names);
  rc = OC_EXIT_OK;
  for (size_t i = 0; i < names.n && rc == OC_EXIT_OK; i++) {
    const char *reason;
    if (oc_series_name_check(names.items[i], strlen(names.items[i]), &reason) != 0)
      rc = oc_cli_usage_error(&oc_cmd_simulate, "--series '%s': %s", names.items[i], reason);
  }
  if (names.n == 0) rc = oc_cli_usage_error(&oc_cmd_simulate, "--series names no series");
  if (rc == OC_EXIT_OK) {
    oc_simulate_options so = {.seed = (uint64_t)a.seed, .days = (size_t)a.days, .start = a.start,
                              .names = names.items, .nseries = names.n, .change = a.change};
    oc_error err;
    if (oc_simulate_market_csv(&so, a.out, &err) != 0) rc = oc_cli_runtime_error("%s", err.message);
    else oc_info("wrote %s: %zu simulated series x %ld trading days (seed %ld)", a.out, names.n, a.days, a.seed);
  }
  oc_pipeline_list_free(&names);
  return rc;
}
