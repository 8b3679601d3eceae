/* cmd_device.c: `oilcast device add|list|revoke`: the field sensors allowed to publish readings to the
 * broker (src/devices/devices.h). `add` prints the device's new broker password once on stdout and
 * nothing else there; after a change, the broker directory's passwd/acl are rewritten and a running
 * mosquitto reloaded (src/devices/broker.h). Parses options and prints; the work is in the library. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/log.h"
#include "devices/broker.h"
#include "devices/devices.h"
#include "ingest/sensors.h"
#include "store/store.h"

static int run_device(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_device = {
    .name = "device", .summary = "register, list and revoke field sensors that publish over MQTT",
    .usage = "Usage: oilcast device add ID --type TYPE [--site S] [--unit U] [--min X --max Y] [--interval SECONDS]\n"
    "       oilcast device add --simulated N --credentials FILE [--interval SECONDS]\n"
    "       oilcast device list [--all] [--format table|csv|json]\n"
    "       oilcast device revoke ID\n"
    "add prints the device's broker password on stdout, once: only its hash is stored. The device logs in\n"
    "to the broker as ID and may publish only under oil/sensors/ID/ (docs/sensors.md). TYPE is one of\n"
    "pipeline_pressure, pipeline_flow, tank_level, wellhead_temperature, refinery_throughput; unit, valid\n"
    "range (--min/--max) and expected reporting interval default to the type's. Ids are never reused.\n"
    "After add and revoke, the broker directory (--broker-dir, default DATA_DIR/broker, when `oilcast\n"
    "broker config` wrote one there) gets new passwd and acl files and a running broker a SIGHUP.\n"
    "add --simulated registers the devices of `oilcast simulate sensors --devices N` (sim-0001..) and\n"
    "writes their passwords to FILE (id:password lines, mode 0600) instead of stdout.\n\n"
    "  --all              list revoked devices too\n"
    "  --broker-dir DIR   the broker directory to keep in step\n",
    .run = run_device};

enum {
  OPT_TYPE = 1, OPT_SITE, OPT_UNIT, OPT_MIN, OPT_MAX, OPT_INTERVAL, OPT_ALL, OPT_FORMAT, OPT_BROKER_DIR,
  OPT_SIMULATED, OPT_CREDENTIALS
};

typedef struct device_args {
  oc_device device;
  const char *min, *max, *format, *broker_dir, *credentials;
  long simulated;
  bool all;
} device_args;

/* Rewrites the broker's files after a change, when a broker directory is there; says what it did. */
static int sync_broker(oc_cli *cli, oc_store *store, const char *broker_dir) {
  char *dir = broker_dir ? strdup(broker_dir) : oc_broker_default_dir(cli->data_dir);
  bool synced = false;
  oc_broker_written written;
  oc_error err;
  int rc = oc_broker_sync_if_configured(store, dir, &synced, &written, &err);
  if (rc != 0) rc = oc_cli_runtime_error("the registry changed but the broker files did not: %s", err.message);
  else if (!synced) oc_info("no broker directory at %s: run `oilcast broker config --out DIR` to write one", dir);
  else oc_info("broker %s: %zu devices in passwd%s", dir, written.devices, written.reloaded ? ", broker reloaded" : "");
  free(dir);
  return rc == 0 ? OC_EXIT_OK : OC_EXIT_RUNTIME;
}

static int device_add(oc_cli *cli, device_args *a) {
  oc_device *d = &a->device;
  if (!*d->type) return oc_cli_usage_error(&oc_cmd_device, "add needs --type TYPE");
  if (!oc_device_type_find(d->type)) return oc_cli_usage_error(&oc_cmd_device, "unknown --type '%s'", d->type);
  if (!a->min != !a->max) return oc_cli_usage_error(&oc_cmd_device, "--min and --max go together");
  if (a->min && (oc_cli_parse_double(a->min, &d->valid_min) != 0 || oc_cli_parse_double(a->max, &d->valid_max) != 0))
    return oc_cli_usage_error(&oc_cmd_device, "--min and --max must be numbers");
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  char secret[OC_DEVICE_SECRET_LEN + 1];
  oc_error err;
  int rc = oc_device_register(store, d, (int64_t)time(NULL), secret, &err) == 0 ? OC_EXIT_OK
                                                                                  : oc_cli_runtime_error("%s", err.message);
  if (rc == OC_EXIT_OK) {
    printf("%s\n", secret);
    fflush(stdout);
    rc = sync_broker(cli, store, a->broker_dir);
  }
  oc_store_close(store);
  return rc;
}

static int device_add_simulated(oc_cli *cli, const device_args *a) {
  if (!a->credentials) return oc_cli_usage_error(&oc_cmd_device, "--simulated needs --credentials FILE");
  if (*a->device.type || a->min || a->max || *a->device.unit || *a->device.site)
    return oc_cli_usage_error(&oc_cmd_device, "--simulated devices take their type, unit, range and site from the simulator");
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  int rc = oc_sensor_sim_register(store, (size_t)a->simulated, a->device.interval_seconds, (int64_t)time(NULL),
                                  a->credentials, &err) == 0
               ? OC_EXIT_OK
               : oc_cli_runtime_error("%s", err.message);
  if (rc == OC_EXIT_OK) {
    printf("registered sim-0001..sim-%04ld; their passwords are in %s\n", a->simulated, a->credentials);
    fflush(stdout);
    rc = sync_broker(cli, store, a->broker_dir);
  }
  oc_store_close(store);
  return rc;
}

static int device_list(oc_cli *cli, const device_args *a) {
  oc_cli_format fmt = OC_CLI_TABLE;
  if (a->format && oc_cli_format_parse(a->format, &fmt) != 0)
    return oc_cli_usage_error(&oc_cmd_device, "--format must be table, csv or json, not '%s'", a->format);
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_device *rows = NULL;
  size_t n = 0;
  oc_error err;
  int rc = oc_store_device_list(store, a->all, &rows, &n, &err);
  oc_store_close(store);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  json_t *records = json_array();
  if (fmt == OC_CLI_TABLE)
    printf("%-20s  %-22s  %-8s  %-21s  %-8s  %-16s  %s\n", "id", "type", "unit", "valid range", "interval", "site",
           "status");
  for (size_t i = 0; i < n; i++) {
    const oc_device *d = &rows[i];
    char range[48], interval[24];
    snprintf(range, sizeof range, "%g..%g", d->valid_min, d->valid_max);
    snprintf(interval, sizeof interval, "%llds", (long long)d->interval_seconds);
    if (fmt == OC_CLI_TABLE)
      printf("%-20s  %-22s  %-8s  %-21s  %-8s  %-16s  %s\n", d->id, d->type, d->unit, range, interval, d->site,
             d->revoked_at ? "revoked" : "active");
    else json_array_append_new(records, oc_device_to_json(d));
  }
  if (fmt != OC_CLI_TABLE) oc_cli_print_records(records, fmt);
  json_decref(records);
  free(rows);
  return OC_EXIT_OK;
}

static int device_revoke(oc_cli *cli, const char *id, const char *broker_dir) {
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  bool found = false;
  oc_error err;
  int rc = oc_store_device_revoke(store, id, (int64_t)time(NULL), &found, &err) == 0
               ? OC_EXIT_OK
               : oc_cli_runtime_error("%s", err.message);
  if (rc == OC_EXIT_OK && !found) rc = oc_cli_runtime_error("no device with id '%s'", id);
  if (rc == OC_EXIT_OK) {
    oc_info("revoked device '%s'", id);
    rc = sync_broker(cli, store, broker_dir);
  }
  oc_store_close(store);
  return rc;
}

static int run_device(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"type", required_argument, NULL, OPT_TYPE},
                                          {"site", required_argument, NULL, OPT_SITE},
                                          {"unit", required_argument, NULL, OPT_UNIT},
                                          {"min", required_argument, NULL, OPT_MIN},
                                          {"max", required_argument, NULL, OPT_MAX},
                                          {"interval", required_argument, NULL, OPT_INTERVAL},
                                          {"all", no_argument, NULL, OPT_ALL},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          {"broker-dir", required_argument, NULL, OPT_BROKER_DIR},
                                          {"simulated", required_argument, NULL, OPT_SIMULATED},
                                          {"credentials", required_argument, NULL, OPT_CREDENTIALS},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  device_args a = {0};
  oc_device *d = &a.device;
  long interval;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_TYPE: snprintf(d->type, sizeof d->type, "%s", optarg); break;
    case OPT_SITE: snprintf(d->site, sizeof d->site, "%s", optarg); break;
    case OPT_UNIT: snprintf(d->unit, sizeof d->unit, "%s", optarg); break;
    case OPT_MIN: a.min = optarg; break;
    case OPT_MAX: a.max = optarg; break;
    case OPT_INTERVAL:
      if (oc_cli_parse_int(optarg, 1, 366L * 86400, &interval) != 0)
        return oc_cli_usage_error(&oc_cmd_device, "--interval must be 1..31622400 seconds, not '%s'", optarg);
      d->interval_seconds = interval;
      break;
    case OPT_ALL: a.all = true; break;
    case OPT_FORMAT: a.format = optarg; break;
    case OPT_BROKER_DIR: a.broker_dir = optarg; break;
    case OPT_SIMULATED:
      if (oc_cli_parse_int(optarg, 1, 9999, &a.simulated) != 0)
        return oc_cli_usage_error(&oc_cmd_device, "--simulated must be 1..9999 devices, not '%s'", optarg);
      break;
    case OPT_CREDENTIALS: a.credentials = optarg; break;
    case '?': return oc_cli_unknown_option(&oc_cmd_device);
    default:
      if (oc_cli_common_option(cli, &oc_cmd_device, opt, optarg, &code) < 0) return code;
    }
  }
  if (optind >= argc) return oc_cli_usage_error(&oc_cmd_device, "expected add, list or revoke");
  const char *action = argv[optind];
  int rest = argc - optind - 1;
  if (strcmp(action, "add") == 0 && rest == 0 && a.simulated) return device_add_simulated(cli, &a);
  if (a.simulated || a.credentials) return oc_cli_usage_error(&oc_cmd_device, "--simulated N --credentials FILE go with 'add' and no ID");
  if (strcmp(action, "add") == 0 && rest == 1) {
    if (strlen(argv[optind + 1]) > OC_DEVICE_ID_MAX)
      return oc_cli_usage_error(&oc_cmd_device, "device id is longer than %d characters", OC_DEVICE_ID_MAX);
    snprintf(d->id, sizeof d->id, "%s", argv[optind + 1]);
    return device_add(cli, &a);
  }
  if (strcmp(action, "list") == 0 && rest == 0) return device_list(cli, &a);
  if (strcmp(action, "revoke") == 0 && rest == 1) return device_revoke(cli, argv[optind + 1], a.broker_dir);
  return oc_cli_usage_error(&oc_cmd_device, "expected 'add ID', 'list' or 'revoke ID'");
}
