/* cmd_stream.c: `oilcast stream`: runs the sensor stream (pipeline/stream.h) until SIGINT/SIGTERM and
 * prints its totals; `oilcast stream dead-letters` lists the messages it could not read. Parses,
 * calls, prints: nothing else. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "pipeline/pipeline.h"
#include "pipeline/stream.h"
#include "schedule/clock.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_stream = {
    .name = "stream", .summary = "subscribe to the sensors over MQTT: store readings, windows and dead letters",
    .usage = "Usage: oilcast stream --broker mqtt://HOST[:PORT] [options]\n"
    "       oilcast stream dead-letters [--limit N]\n"
    "Subscribes with a persistent session (clean session off, a client id kept across restarts) at QoS 1\n"
    "and stores each batch of readings in one transaction; a message is acknowledged only after its batch\n"
    "commits, so a crash loses nothing (the broker redelivers; (device, seq) stores it once). Messages that\n"
    "cannot be read, or that the store refuses, are stored as dead letters with the reason and the raw\n"
    "bytes; a batch the store fails otherwise (busy, away) is retried until it goes in. A sensor quiet\n"
    "for more than --silence-factor expected intervals of its device is stored once as a silence anomaly\n"
    "(checked every second; OILCAST_CLOCK=file:PATH moves the clock for tests). The [stream] section of\n"
    "oilcast.conf gives defaults for the options below (docs/stream.md). Runs until Ctrl-C.\n"
    "  --broker URL          mqtt://HOST[:PORT] (port 1883 by default)\n"
    "  --client-id ID        the session's client id, the same at every restart of this instance and\n"
    "                        its own: default oilcast-stream-HOSTNAME; a second instance on the same\n"
    "                        host needs its own (the broker drops a client when its id reconnects)\n"
    "  --username NAME       broker user name; the password is read from $OILCAST_MQTT_PASSWORD\n"
    "  --topic FILTER        default $share/oilcast/oil/sensors/# (instances share the load)\n"
    "  --windows LIST        tumbling window widths, e.g. 1m,1h,1d (the default)\n"
    "  --grace SECONDS       how far out of order a reading may come and still count (default 120)\n"
    "  --batch N             at most N messages per transaction (default 500)\n"
    "  --silence-factor X    expected intervals without a reading that make a silence (default 3, >= 1)\n"
    "  --limit N             dead-letters: the newest N (default 20), one per line: id, first and last\n"
    "                        received (ms), times seen, topic, reason, raw bytes (tab-separated)\n",
    .run = run};

enum { OPT_BROKER = 1, OPT_CLIENT_ID, OPT_USERNAME, OPT_TOPIC, OPT_WINDOWS, OPT_GRACE, OPT_BATCH, OPT_LIMIT,
       OPT_SILENCE_FACTOR };

static atomic_bool stop_requested;
static void on_stop_signal(int sig) {
  (void)sig;
  atomic_store(&stop_requested, true);
}

static void on_status(void *ctx, bool up, const char *what) {
  (void)ctx;
  if (up) oc_info("subscribed to %s", what);
  else oc_warn("stream interrupted: %s (reconnecting)", what);
}

static int list_dead_letters(oc_cli *cli, long limit) {
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_dead_letter *rows;
  size_t n;
  oc_error err;
  int rc = oc_store_dead_letters_list(store, (size_t)limit, &rows, &n, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  for (size_t i = 0; i < n; i++) {
    printf("%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t", rows[i].id, rows[i].received_ms,
           rows[i].last_received_ms, rows[i].seen);
    oc_print_field(stdout, rows[i].topic, strlen(rows[i].topic));
    putchar('\t');
    oc_print_field(stdout, rows[i].reason, strlen(rows[i].reason));
    putchar('\t');
    oc_print_field(stdout, rows[i].raw, rows[i].raw_len);
    putchar('\n');
  }
  oc_dead_letter_list_free(rows, n);
  return OC_EXIT_OK;
}

/* Fills what the command line did not give (given[OPT_...]) from oilcast.conf's [stream] section, whose
 * strings then live in *conf. */
static int configure(oc_cli *cli, oc_stream_options *o, const bool *given, oc_conf *conf, oc_error *err) {
  oc_stream_options c = oc_stream_options_default();
  if (oc_stream_options_configure(cli->data_dir, conf, &c, err) != 0) return -1;
  if (!given[OPT_BROKER]) o->session.broker = c.session.broker;
  if (!given[OPT_CLIENT_ID]) o->session.client_id = c.session.client_id;
  if (!given[OPT_USERNAME]) o->session.username = c.session.username;
  if (!given[OPT_TOPIC]) o->session.filter = c.session.filter;
  int64_t grace_ms = given[OPT_GRACE] ? o->windows.grace_ms : c.windows.grace_ms;
  if (!given[OPT_WINDOWS]) o->windows = c.windows;
  o->windows.grace_ms = grace_ms;
  if (!given[OPT_SILENCE_FACTOR]) o->silence.factor = c.silence.factor;
  return 0;
}

/* Runs the stream with the options parsed and prints its totals. */
static int run_stream(oc_cli *cli, oc_stream_options *o, const bool *given) {
  oc_error err;
  oc_conf conf;
  oc_clock clock = {0};
  if (configure(cli, o, given, &conf, &err) != 0 || oc_clock_init(&clock, getenv(OC_CLOCK_ENV), &err) != 0) {
    oc_conf_free(&conf);
    return oc_cli_runtime_error("%s", err.message);
  }
  if (oc_clock_simulated(&clock)) {
    o->clock = oc_clock_now_ms;
    o->clock_ctx = &clock;
  }
  o->session.password = getenv("OILCAST_MQTT_PASSWORD");
  struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: the session's poll wakes */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  o->stop = &stop_requested;
  o->on_status = on_status;
  oc_store *store = NULL;
  oc_stream_result r = {0};
  int rc = oc_cli_open_store(cli, &store) != 0 ? -1 : oc_pipeline_stream(cli->data_dir, store, o, &r, &err);
  oc_store_close(store);
  oc_clock_free(&clock);
  oc_conf_free(&conf);
  if (!store) return OC_EXIT_RUNTIME;
  if (rc == OC_PIPELINE_BAD_OPTION) return oc_cli_step_error(&oc_cmd_stream, rc, &err); /* it never ran */
  printf("messages %" PRId64 ", readings stored %" PRId64 ", duplicates %" PRId64 ", late %" PRId64
         ", dead letters %" PRId64 ", windows updated %" PRId64 ", days closed %" PRId64 ", spikes %" PRId64 ", stuck %" PRId64
         ", silences %" PRId64 " (ended %" PRId64 "), batches %" PRId64 ", connections %" PRId64 "\n",
         r.messages, r.readings, r.duplicates, r.late, r.dead_letters, r.windows_updated, r.days_closed, r.spikes, r.stuck,
         r.silences, r.silences_ended, r.batches, r.connects);
  return rc != 0 ? oc_cli_step_error(&oc_cmd_stream, rc, &err) : OC_EXIT_OK;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {
      {"broker", required_argument, NULL, OPT_BROKER},   {"client-id", required_argument, NULL, OPT_CLIENT_ID},
      {"username", required_argument, NULL, OPT_USERNAME}, {"topic", required_argument, NULL, OPT_TOPIC},
      {"windows", required_argument, NULL, OPT_WINDOWS}, {"grace", required_argument, NULL, OPT_GRACE},
      {"batch", required_argument, NULL, OPT_BATCH},     {"limit", required_argument, NULL, OPT_LIMIT},
      {"silence-factor", required_argument, NULL, OPT_SILENCE_FACTOR},
      OC_CLI_COMMON_OPTIONS,                             {0}};
  oc_stream_options o = oc_stream_options_default();
  long number, limit = 20;
  oc_error err;
  int opt, code;
  bool given[OPT_SILENCE_FACTOR + 1] = {0}; /* options given here win over oilcast.conf's [stream] */
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt > 0 && opt <= OPT_SILENCE_FACTOR) given[opt] = true;
    if (opt == OPT_BROKER) o.session.broker = optarg;
    else if (opt == OPT_SILENCE_FACTOR && (oc_cli_parse_double(optarg, &o.silence.factor) != 0 || !(o.silence.factor >= 1)))
      return oc_cli_usage_error(&oc_cmd_stream, "--silence-factor takes a number >= 1, not '%s'", optarg);
    else if (opt == OPT_CLIENT_ID) o.session.client_id = optarg;
    else if (opt == OPT_USERNAME) o.session.username = optarg;
    else if (opt == OPT_TOPIC) o.session.filter = optarg;
    else if (opt == OPT_WINDOWS && oc_window_parse_widths(optarg, &o.windows, &err) != 0)
      return oc_cli_usage_error(&oc_cmd_stream, "--windows: %s", err.message);
    else if (opt == OPT_GRACE || opt == OPT_BATCH || opt == OPT_LIMIT) {
      if (oc_cli_parse_int(optarg, opt == OPT_GRACE ? 0 : 1, opt == OPT_GRACE ? 86400 * 7 : 100000, &number) != 0)
        return oc_cli_usage_error(&oc_cmd_stream, "--%s takes a whole number, not '%s'", options[opt - 1].name, optarg);
      if (opt == OPT_GRACE) o.windows.grace_ms = number * 1000;
      else if (opt == OPT_BATCH) o.session.batch_max = (size_t)number;
      else limit = number;
    } else if (opt != OPT_WINDOWS && opt != OPT_SILENCE_FACTOR) {
      int handled = oc_cli_common_option(cli, &oc_cmd_stream, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_stream);
    }
  }
  if (optind < argc && strcmp(argv[optind], "dead-letters") == 0 && optind + 1 == argc)
    return list_dead_letters(cli, limit);
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_stream, "unexpected argument '%s'", argv[optind]);
  return run_stream(cli, &o, given);
}
