/* cmd_broker.c: `oilcast broker config|sync`: the mosquitto broker's directory written from the device
 * registry (src/devices/broker.h): mosquitto.conf, passwd, acl and the subscriber's password. Parses
 * options, calls the library and prints what it wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "devices/broker.h"
#include "serve/ratelimit.h"
#include "store/store.h"

static int run_broker(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_broker = {
    .name = "broker",
    .summary = "write the MQTT broker's (mosquitto) config, password and ACL files from the device registry",
    .usage = "Usage: oilcast broker config [--out DIR] [--host H] [--port P] [--outage-hours H] [--rate R/s]\n"
    "                             [--autosave SECONDS]\n"
    "       oilcast broker sync [--out DIR]\n"
    "config writes DIR (default DATA_DIR/broker): mosquitto.conf (listener, no anonymous clients,\n"
    "persistence with a short autosave interval, a queue per subscriber session large enough for\n"
    "--outage-hours at the devices' rate), passwd (mosquitto_passwd format: the active devices and the\n"
    "oilcast subscriber), acl (each device publishes only under oil/sensors/ID/, the subscriber only\n"
    "reads) and subscriber.secret (kept when it exists). Run the broker with: mosquitto -c DIR/mosquitto.conf\n"
    "sync rewrites passwd and acl (device add and revoke do it themselves). Both send SIGHUP to a broker\n"
    "running from DIR (its pid file), which reloads them. See docs/sensors.md.\n\n"
    "  --host H            listener address (default 127.0.0.1)\n"
    "  --port P            listener port (default 1883)\n"
    "  --outage-hours H    how long the subscriber may be away without loss (default 24)\n"
    "  --rate R/s          readings per second of all devices (default: one per device per interval)\n"
    "  --autosave SECONDS  how often the broker saves its queues (default 10)\n",
    .run = run_broker};

enum { OPT_OUT = 1, OPT_HOST, OPT_PORT, OPT_OUTAGE, OPT_RATE, OPT_AUTOSAVE };

static int run_broker(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"out", required_argument, NULL, OPT_OUT},
                                          {"host", required_argument, NULL, OPT_HOST},
                                          {"port", required_argument, NULL, OPT_PORT},
                                          {"outage-hours", required_argument, NULL, OPT_OUTAGE},
                                          {"rate", required_argument, NULL, OPT_RATE},
                                          {"autosave", required_argument, NULL, OPT_AUTOSAVE},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  const oc_command *cmd = &oc_cmd_broker;
  oc_broker_config cfg = oc_broker_config_default();
  oc_error err;
  long number;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_OUT: cfg.dir = optarg; break;
    case OPT_HOST: cfg.host = optarg; break;
    case OPT_PORT:
      if (oc_cli_parse_int(optarg, 1, 65535, &number) != 0) return oc_cli_usage_error(cmd, "--port must be 1..65535");
      cfg.port = (int)number;
      break;
    case OPT_OUTAGE:
      if (oc_cli_parse_double(optarg, &cfg.outage_hours) != 0 || !(cfg.outage_hours > 0))
        return oc_cli_usage_error(cmd, "--outage-hours must be a number > 0, not '%s'", optarg);
      break;
    case OPT_RATE:
      if (oc_rate_parse(optarg, &cfg.messages_per_second, &err) != 0) return oc_cli_usage_error(cmd, "--rate: %s", err.message);
      break;
    case OPT_AUTOSAVE:
      if (oc_cli_parse_int(optarg, 1, 86400, &number) != 0) return oc_cli_usage_error(cmd, "--autosave must be 1..86400");
      cfg.autosave_seconds = (int)number;
      break;
    case '?': return oc_cli_unknown_option(cmd);
    default:
      if (oc_cli_common_option(cli, cmd, opt, optarg, &code) < 0) return code;
    }
  }
  bool config = optind + 1 == argc && strcmp(argv[optind], "config") == 0;
  bool sync = optind + 1 == argc && strcmp(argv[optind], "sync") == 0;
  if (!config && !sync) return oc_cli_usage_error(cmd, "expected 'config' or 'sync'");
  char *dir = cfg.dir ? strdup(cfg.dir) : oc_broker_default_dir(cli->data_dir);
  cfg.dir = dir;
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) {
    free(dir);
    return OC_EXIT_RUNTIME;
  }
  oc_broker_written written;
  int rc = config ? oc_broker_write_config(store, &cfg, &written, &err) : oc_broker_sync(store, dir, &written, &err);
  oc_store_close(store);
  if (rc == 0) {
    if (config)
      printf("wrote %s/mosquitto.conf (listener %s:%d, queue %ld messages), passwd (%zu devices), acl\n", dir, cfg.host,
             cfg.port, written.max_queued_messages, written.devices);
    else printf("wrote %s/passwd (%zu devices) and acl\n", dir, written.devices);
    printf("%s\n", written.reloaded ? "running broker reloaded" : "no running broker to reload");
  }
  free(dir);
  return rc == 0 ? OC_EXIT_OK : oc_cli_runtime_error("%s", err.message);
}
