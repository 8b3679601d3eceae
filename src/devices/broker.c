/* broker.c: the mosquitto broker's files from the device registry, and its reload (broker.h). Writes
 * each file whole and atomically; never sees a device password in clear, only the stored hashes. */
#include "devices/broker.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"

oc_broker_config oc_broker_config_default(void) {
  return (oc_broker_config){.host = "127.0.0.1", .port = 1883, .outage_hours = 24, .autosave_seconds = 10};
}

long oc_broker_queue_size(double messages_per_second, double outage_hours) {
  assert(messages_per_second >= 0 && outage_hours > 0);
  double needed = ceil(messages_per_second * outage_hours * 3600.0 * 1.5);
  return needed < 1000 ? 1000 : needed > 1e9 ? 1000000000L : (long)needed;
}

/* Writes the text to DIR/name atomically. */
static int write_in(const char *dir, const char *name, const oc_buf *text, oc_error *err) {
  char *path = oc_path_join(dir, name);
  int rc = oc_write_file_atomic(path, text->data ? text->data : "", text->len, err);
  free(path);
  return rc;
}

/* DIR/subscriber.secret: created once with a new password; an existing one is kept (the running
 * subscriber knows it). */
static int ensure_subscriber_secret(const char *dir, oc_error *err) {
  char *path = oc_path_join(dir, "subscriber.secret");
  char secret[OC_DEVICE_SECRET_LEN + 2];
  int rc = 0;
  if (!oc_path_exists(path) && (rc = oc_device_secret_new(secret, err)) == 0) {
    strcat(secret, "\n");
    rc = oc_secret_file_write(path, secret, strlen(secret), err);
  }
  free(path);
  return rc;
}

int oc_broker_subscriber_secret(const char *dir, char *secret, oc_error *err) {
  char *path = oc_path_join(dir, "subscriber.secret"), *text = NULL;
  size_t len = 0;
  int rc = oc_read_file(path, &text, &len, err);
  if (rc == 0) {
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = 0;
    if (len != OC_DEVICE_SECRET_LEN || strspn(text, "0123456789abcdef") != len)
      rc = oc_error_set(err, "%s: expected %d hex digits (written by `oilcast broker config`)", path,
                        OC_DEVICE_SECRET_LEN);
    else memcpy(secret, text, len + 1);
  } else {
    oc_error_prefix(err, "the broker directory has no subscriber password (run `oilcast broker config --out %s`): ",
                    dir);
  }
  free(text);
  free(path);
  return rc;
}

/* passwd: one "user:hash" line per active device, then the subscriber's. */
static int write_password_file(oc_store *store, const char *dir, size_t *ndevices, oc_error *err) {
  char secret[OC_DEVICE_SECRET_LEN + 1], subscriber_hash[sizeof ((oc_device *)0)->password_hash];
  if (oc_broker_subscriber_secret(dir, secret, err) != 0 ||
      oc_device_password_hash_new(secret, subscriber_hash, sizeof subscriber_hash, err) != 0)
    return -1;
  oc_device *devices = NULL;
  size_t n = 0;
  if (oc_store_device_list(store, false, &devices, &n, err) != 0) return -1;
  oc_buf text = {0};
  for (size_t i = 0; i < n; i++) oc_buf_printf(&text, "%s:%s\n", devices[i].id, devices[i].password_hash);
  oc_buf_printf(&text, "%s:%s\n", OC_BROKER_SUBSCRIBER_USER, subscriber_hash);
  free(devices);
  *ndevices = n;
  int rc = write_in(dir, "passwd", &text, err);
  oc_buf_free(&text);
  return rc;
}

static int write_acl_file(const char *dir, oc_error *err) {
  oc_buf text = {0};
  oc_buf_printf(&text,
                "# Written by oilcast from its device registry: `oilcast broker sync` rewrites it.\n"
                "# Each device (its user name is its id) may publish only under its own topic.\n"
                "pattern write %s/%%u/#\n\n"
                "# The oilcast subscriber reads every device's readings and writes nothing.\n"
                "user %s\n"
                "topic read %s/#\n",
                OC_SENSOR_TOPIC_ROOT, OC_BROKER_SUBSCRIBER_USER, OC_SENSOR_TOPIC_ROOT);
  int rc = write_in(dir, "acl", &text, err);
  oc_buf_free(&text);
  return rc;
}

int oc_broker_reload(const char *dir, bool *reloaded, oc_error *err) {
  *reloaded = false;
  char *path = oc_path_join(dir, "mosquitto.pid"), *text = NULL;
  size_t len;
  oc_error ignored;
  int rc = 0;
  if (oc_read_file(path, &text, &len, &ignored) == 0) {
    char *end;
    long pid = strtol(text, &end, 10);
    if (pid <= 1 || end == text) {
      rc = oc_error_set(err, "%s does not hold a process id", path);
    } else if (kill((pid_t)pid, SIGHUP) == 0) {
      *reloaded = true;
    } else if (errno != ESRCH) {
      rc = oc_error_errno(err, "telling the broker (pid %ld, from %s) to reload", pid, path);
    }
  }
  free(text);
  free(path);
  return rc;
}

int oc_broker_sync(oc_store *store, const char *dir, oc_broker_written *out, oc_error *err) {
  *out = (oc_broker_written){0};
  if (write_password_file(store, dir, &out->devices, err) != 0 || write_acl_file(dir, err) != 0) return -1;
  return oc_broker_reload(dir, &out->reloaded, err);
}

char *oc_broker_default_dir(const char *data_dir) { return oc_path_join(data_dir, "broker"); }

int oc_broker_sync_if_configured(oc_store *store, const char *dir, bool *synced, oc_broker_written *out,
                                 oc_error *err) {
  char *secret_path = oc_path_join(dir, "subscriber.secret");
  *synced = oc_path_exists(secret_path);
  free(secret_path);
  *out = (oc_broker_written){0};
  return *synced ? oc_broker_sync(store, dir, out, err) : 0;
}

/* The registry's readings per second: one per device per expected interval. */
static int registry_rate(oc_store *store, double *rate, oc_error *err) {
  oc_device *devices = NULL;
  size_t n = 0;
  if (oc_store_device_list(store, false, &devices, &n, err) != 0) return -1;
  *rate = 0;
  for (size_t i = 0; i < n; i++) *rate += 1.0 / (double)devices[i].interval_seconds;
  free(devices);
  return 0;
}

/* The broker runs as whoever wrote its directory (mosquitto started as root would otherwise switch to
 * the user "mosquitto", who cannot write the pid file or the persistence here). */
static const char *current_user(void) {
  struct passwd *pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "mosquitto";
}

int oc_broker_write_config(oc_store *store, const oc_broker_config *cfg, oc_broker_written *out, oc_error *err) {
  if (!cfg->dir || !*cfg->dir) return oc_error_set(err, "broker config: no directory given");
  if (cfg->port < 1 || cfg->port > 65535) return oc_error_set(err, "broker config: port %d is not 1..65535", cfg->port);
  if (!(cfg->outage_hours > 0) || !(cfg->messages_per_second >= 0) || cfg->autosave_seconds < 1)
    return oc_error_set(err, "broker config: outage hours must be > 0, rate >= 0 and autosave >= 1 s");
  if (!cfg->host || !*cfg->host || strpbrk(cfg->host, " \t\r\n"))
    return oc_error_set(err, "broker config: listener host '%s' is empty or has blanks", cfg->host ? cfg->host : "");
  char *abs_dir = realpath(cfg->dir, NULL);
  if (!abs_dir && (oc_mkdir_p(cfg->dir, err) != 0 || !(abs_dir = realpath(cfg->dir, NULL))))
    return oc_error_errno(err, "broker config: cannot use the directory %s", cfg->dir);
  char *persistence = oc_path_join(abs_dir, "persistence");
  double rate = cfg->messages_per_second;
  int rc = oc_mkdir_p(persistence, err);
  if (rc == 0 && rate == 0) rc = registry_rate(store, &rate, err);
  if (rc == 0) rc = ensure_subscriber_secret(abs_dir, err);
  *out = (oc_broker_written){0};
  if (rc == 0) rc = write_password_file(store, abs_dir, &out->devices, err);
  if (rc == 0) rc = write_acl_file(abs_dir, err);
  if (rc == 0) {
    out->max_queued_messages = oc_broker_queue_size(rate, cfg->outage_hours);
    oc_buf conf = {0};
    oc_buf_printf(&conf,
                  "# mosquitto.conf written by `oilcast broker config` (mosquitto 2.0). Run: mosquitto -c %s/mosquitto.conf\n"
                  "# Devices and the subscriber log in with the passwords of `passwd` (rewritten with `acl` by\n"
                  "# `oilcast device add|revoke` and `oilcast broker sync`, which then send this broker SIGHUP).\n"
                  "per_listener_settings false\n"
                  "allow_anonymous false\n"
                  "listener %d %s\n"
                  "password_file %s/passwd\n"
                  "acl_file %s/acl\n"
                  "pid_file %s/mosquitto.pid\n"
                  "user %s\n\n"
                  "# Queued QoS 1 messages survive a broker restart: saved every %d s and at shutdown.\n"
                  "persistence true\n"
                  "persistence_location %s/\n"
                  "autosave_interval %d\n\n"
                  "# A subscriber's persistent session queues up to %.1f h of readings (%.3f/s, with headroom)\n"
                  "# while it is away; the whole queue may be in flight to it only 100 at a time.\n"
                  "max_queued_messages %ld\n"
                  "max_queued_bytes 0\n"
                  "max_inflight_messages 100\n"
                  "persistent_client_expiration 30d\n\n"
                  "# A reading takes a few KiB and the stream keeps only the first 64 KiB of a larger message (a\n"
                  "# dead letter): a packet past 1 MiB is refused here (its client disconnected) so that neither the\n"
                  "# broker's queues nor the subscriber hold messages of up to MQTT's 256 MB.\n"
                  "max_packet_size 1048576\n\n"
                  "log_dest file %s/mosquitto.log\n"
                  "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                  "connection_messages true\n",
                  abs_dir, cfg->port, cfg->host, abs_dir, abs_dir, abs_dir, current_user(), cfg->autosave_seconds,
                  persistence, cfg->autosave_seconds, cfg->outage_hours, rate, out->max_queued_messages, abs_dir);
    rc = write_in(abs_dir, "mosquitto.conf", &conf, err);
    oc_buf_free(&conf);
  }
  if (rc == 0) rc = oc_broker_reload(abs_dir, &out->reloaded, err);
  free(persistence);
  free(abs_dir);
  return rc;
}
