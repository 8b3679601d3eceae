/* Unit tests for device registration and the broker's files: SHA-512, HMAC-SHA-512 and PBKDF2 against
 * Python's hashlib (FIPS 180-4 / RFC 4231 style vectors), the mosquitto "$7$" hash (a hash made by
 * mosquitto_passwd's algorithm with a known salt), registration (type defaults, the password shown once
 * verifies against the stored hash, taken/reserved ids refused with nothing stored), and the broker
 * directory (passwd lines for active devices and the subscriber, the ACL, mosquitto.conf's settings,
 * the queue sized for the outage, the 0600 secret kept across rewrites, SIGHUP to the pid file's process). */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/sha256.h"
#include "core/sha512.h"
#include "devices/broker.h"
#include "devices/devices.h"

static void hex_of(const uint8_t *bytes, size_t n, char *hex) { oc_hex_encode(bytes, n, hex); }

static void test_sha512_hmac_pbkdf2_vectors(void **state) {
  (void)state;
  uint8_t digest[OC_SHA512_LEN];
  char hex[2 * 100 + 1];
  oc_sha512 ctx;
  oc_sha512_init(&ctx);
  oc_sha512_update(&ctx, "abc", 3);
  oc_sha512_final(&ctx, digest);
  hex_of(digest, sizeof digest, hex);
  assert_string_equal(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3"
                           "feebbd454d4423643ce80e2a9ac94fa54ca49f");
  char thousand[1000];
  memset(thousand, 'a', sizeof thousand);
  oc_sha512_init(&ctx);
  oc_sha512_update(&ctx, thousand, 7); /* in uneven pieces across block boundaries */
  oc_sha512_update(&ctx, thousand + 7, 500);
  oc_sha512_update(&ctx, thousand + 507, 493);
  oc_sha512_final(&ctx, digest);
  hex_of(digest, sizeof digest, hex);
  assert_string_equal(hex, "67ba5535a46e3f86dbfbed8cbbaf0125c76ed549ff8b0b9e03e0c88cf90fa634fa7b12b47d77b694de488ace8d"
                           "9a65967dc96df599727d3292a8d9d447709c97");
  const char *fox = "The quick brown fox jumps over the lazy dog";
  oc_hmac_sha512("key", 3, fox, strlen(fox), digest);
  hex_of(digest, sizeof digest, hex);
  assert_string_equal(hex, "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee"
                           "4d1ec3935357e4e2317250d0372afa2ebeeb3a");
  char long_key[200];
  memset(long_key, 'k', sizeof long_key); /* longer than a block: hashed first */
  oc_hmac_sha512(long_key, sizeof long_key, "data", 4, digest);
  hex_of(digest, sizeof digest, hex);
  assert_string_equal(hex, "854e242c54ce5f31621a1f809881b3439c0a77fd594dc546b9b3a957cf6f7b5475a1302be9fde1ece18531982e"
                           "aa2141907c8b2fbd8bec2e5b19b8312ace3f2b");
  uint8_t derived[100]; /* two PBKDF2 blocks, the second one partly */
  oc_pbkdf2_sha512("password", 8, "salt", 4, 2, derived, sizeof derived);
  hex_of(derived, sizeof derived, hex);
  assert_string_equal(hex, "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53cf76cab2868a39b9f7840edce4f"
                           "ef5a82be67335c77a6068e04112754f27ccf4e473e311ad827b68945f4e2dddb204c78e40e2495141e411cd272d0"
                           "20640d673cd34aa29f");
  char b64[OC_BASE64_LEN(5)];
  oc_base64_encode((const uint8_t *)"hello", 5, b64);
  assert_string_equal(b64, "aGVsbG8=");
  oc_base64_encode((const uint8_t *)"hell", 4, b64);
  assert_string_equal(b64, "aGVsbA==");
  uint8_t back[5];
  assert_int_equal(oc_base64_decode_exact("aGVsbG8=", 8, back, 5), 0);
  assert_memory_equal(back, "hello", 5);
  assert_int_equal(oc_base64_decode_exact("aGVsbA==", 8, back, 4), 0);
  assert_memory_equal(back, "hell", 4);
  assert_int_equal(oc_base64_decode_exact("aGVsbG8=", 8, back, 3), -1); /* not 4 * ceil(3 / 3) bytes */
  assert_int_equal(oc_base64_decode_exact("aGV*bG8=", 8, back, 5), -1);
}

static void test_mosquitto_password_hash(void **state) {
  (void)state;
  uint8_t salt[OC_DEVICE_SALT_LEN];
  for (size_t i = 0; i < sizeof salt; i++) salt[i] = (uint8_t)i;
  char hash[192];
  oc_device_password_hash("s3cret", salt, hash, sizeof hash);
  assert_string_equal(hash, "$7$101$AAECAwQFBgcICQoL$IpgH3VQ91wmfiqnHyCcv5LkCSTVCZJR4RN98JP+Z86mYpyKLciwvQFATmKYSP1f"
                            "5GH3TSr/yHeGj1Fz1SoMhag==");
  assert_true(oc_device_password_verify("s3cret", hash));
  assert_false(oc_device_password_verify("s3cret!", hash));
  assert_false(oc_device_password_verify("s3cret", "$6$AAECAwQFBgcICQoL$abc"));
  assert_false(oc_device_password_verify("s3cret", "$7$101$AAEC$x"));
  char fresh[192], again[192];
  assert_int_equal(oc_device_password_hash_new("s3cret", fresh, sizeof fresh, &(oc_error){0}), 0);
  assert_int_equal(oc_device_password_hash_new("s3cret", again, sizeof again, &(oc_error){0}), 0);
  assert_string_not_equal(fresh, again); /* a fresh salt each time */
  assert_true(oc_device_password_verify("s3cret", fresh) && oc_device_password_verify("s3cret", again));
}

static void test_register_defaults_secret_and_refusals(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  char secret[OC_DEVICE_SECRET_LEN + 1];
  oc_device d = {.id = "tank-7", .type = "tank_level", .site = "cushing"};
  assert_int_equal(oc_device_register(f->store, &d, 1700000000, secret, &err), 0);
  assert_int_equal(strlen(secret), OC_DEVICE_SECRET_LEN);
  oc_device got;
  bool found;
  assert_int_equal(oc_store_device_get(f->store, "tank-7", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.unit, "m");
  assert_true(got.valid_min == 0 && got.valid_max == 30);
  assert_int_equal(got.interval_seconds, 300);
  assert_int_equal(got.created_at, 1700000000);
  assert_true(oc_device_password_verify(secret, got.password_hash));
  assert_null(strstr(got.password_hash, secret));

  oc_device custom = {.id = "flow-1", .type = "pipeline_flow", .unit = "bbl/h", .valid_min = 5, .valid_max = 50,
                      .interval_seconds = 10};
  assert_int_equal(oc_device_register(f->store, &custom, 1700000001, secret, &err), 0);
  assert_int_equal(oc_store_device_get(f->store, "flow-1", &got, &found, &err), 0);
  assert_string_equal(got.unit, "bbl/h");
  assert_true(got.valid_min == 5 && got.valid_max == 50 && got.interval_seconds == 10);

  bool revoked;
  assert_int_equal(oc_store_device_revoke(f->store, "flow-1", 1700000003, &revoked, &err), 0);
  int64_t changes_before;
  assert_int_equal(oc_store_changes_latest(f->store, &changes_before, &err), 0);
  oc_device again = {.id = "tank-7", .type = "tank_level"};
  assert_int_equal(oc_device_register(f->store, &again, 1700000002, secret, &err), -1);
  assert_non_null(strstr(err.message, "registered already"));
  assert_int_equal(err.kind, OC_ERROR_CONFLICT); /* the server's 409 */
  oc_device reuse = {.id = "flow-1", .type = "pipeline_flow"};
  assert_int_equal(oc_device_register(f->store, &reuse, 1700000004, secret, &err), -1);
  assert_non_null(strstr(err.message, "revoked"));
  assert_int_equal(err.kind, OC_ERROR_CONFLICT);
  oc_device reserved = {.id = OC_BROKER_SUBSCRIBER_USER, .type = "tank_level"};
  assert_int_equal(oc_device_register(f->store, &reserved, 1700000005, secret, &err), -1);
  assert_non_null(strstr(err.message, "reserved"));
  oc_device bad_type = {.id = "x", .type = "pipeline"};
  assert_int_equal(oc_device_register(f->store, &bad_type, 1700000006, secret, &err), -1);
  assert_non_null(strstr(err.message, "unknown device type"));
  int64_t changes_after;
  assert_int_equal(oc_store_changes_latest(f->store, &changes_after, &err), 0);
  assert_int_equal(changes_after, changes_before); /* refused registrations wrote nothing */
}

/* Not inlined: GCC 12 at -O3 then takes the returned text for a pointer to read_in's own local
 * (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *read_in(const char *dir, const char *name) {
  char *path = oc_path_join(dir, name), *text = NULL;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) fail_msg("%s", err.message);
  free(path);
  return text;
}

static void test_broker_directory(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  char tank_secret[OC_DEVICE_SECRET_LEN + 1], pump_secret[OC_DEVICE_SECRET_LEN + 1];
  oc_device tank = {.id = "tank-7", .type = "tank_level"}, pump = {.id = "pump-2", .type = "pipeline_pressure"};
  assert_int_equal(oc_device_register(f->store, &tank, 1700000000, tank_secret, &err), 0);
  assert_int_equal(oc_device_register(f->store, &pump, 1700000000, pump_secret, &err), 0);

  char *dir = oc_path_join(f->dir, "broker");
  char subscriber[OC_DEVICE_SECRET_LEN + 1];
  assert_int_equal(oc_broker_subscriber_secret(dir, subscriber, &err), -1);
  assert_non_null(strstr(err.message, "oilcast broker config"));
  bool synced = true;
  oc_broker_written written;
  assert_int_equal(oc_broker_sync_if_configured(f->store, dir, &synced, &written, &err), 0);
  assert_false(synced);

  oc_broker_config cfg = oc_broker_config_default();
  cfg.dir = dir;
  cfg.port = 18833;
  cfg.outage_hours = 48;
  assert_int_equal(oc_broker_write_config(f->store, &cfg, &written, &err), 0);
  assert_int_equal(written.devices, 2);
  assert_false(written.reloaded);
  /* one reading a minute + one every 5 minutes, for 48 h, x 1.5 */
  assert_int_equal(written.max_queued_messages, oc_broker_queue_size(1.0 / 60 + 1.0 / 300, 48));
  assert_int_equal(oc_broker_queue_size(0.02, 48), 5184);
  assert_int_equal(oc_broker_queue_size(0, 1), 1000);

  assert_int_equal(oc_broker_subscriber_secret(dir, subscriber, &err), 0);
  char *secret_path = oc_path_join(dir, "subscriber.secret");
  struct stat st;
  assert_int_equal(stat(secret_path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  free(secret_path);

  char *passwd = read_in(dir, "passwd");
  char line[256];
  oc_device got;
  bool found;
  assert_int_equal(oc_store_device_get(f->store, "tank-7", &got, &found, &err), 0);
  snprintf(line, sizeof line, "tank-7:%s\n", got.password_hash);
  assert_non_null(strstr(passwd, line));
  assert_int_equal(strncmp(passwd, "pump-2:$7$101$", 14), 0);
  const char *sub_entry = strstr(passwd, OC_BROKER_SUBSCRIBER_USER ":");
  assert_non_null(sub_entry);
  sub_entry += strlen(OC_BROKER_SUBSCRIBER_USER ":");
  char sub_hash[256];
  snprintf(sub_hash, sizeof sub_hash, "%.*s", (int)strcspn(sub_entry, "\n"), sub_entry);
  assert_true(oc_device_password_verify(subscriber, sub_hash));
  free(passwd);

  char *acl = read_in(dir, "acl");
  assert_non_null(strstr(acl, "\npattern write oil/sensors/%u/#\n"));
  assert_non_null(strstr(acl, "\nuser oilcast-subscriber\ntopic read oil/sensors/#\n"));
  free(acl);
  char *conf = read_in(dir, "mosquitto.conf");
  static const char *const settings[] = {"\nallow_anonymous false\n", "\nlistener 18833 127.0.0.1\n",
                                         "\npersistence true\n", "\nautosave_interval 10\n", "/passwd\n", "/acl\n",
                                         "/mosquitto.pid\n"};
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    if (!strstr(conf, settings[i])) fail_msg("mosquitto.conf lacks [%s]", settings[i]);
  char queue[64];
  snprintf(queue, sizeof queue, "\nmax_queued_messages %ld\n", written.max_queued_messages);
  assert_non_null(strstr(conf, queue));
  free(conf);

  /* A revocation and a sync: the device leaves passwd; the subscriber keeps its password; the broker
   * named by the pid file gets SIGHUP (here a child that SIGHUP ends). */
  assert_int_equal(oc_store_device_revoke(f->store, "pump-2", 1700000100, &found, &err), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d\n", (int)child);
  free(oc_test_write_file(dir, "mosquitto.pid", pid_text));
  assert_int_equal(oc_broker_sync_if_configured(f->store, dir, &synced, &written, &err), 0);
  assert_true(synced && written.reloaded);
  assert_int_equal(written.devices, 1);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP);
  char again[OC_DEVICE_SECRET_LEN + 1];
  assert_int_equal(oc_broker_subscriber_secret(dir, again, &err), 0);
  assert_string_equal(again, subscriber);
  passwd = read_in(dir, "passwd");
  assert_null(strstr(passwd, "pump-2:"));
  free(passwd);
  /* the process is gone now: no reload, no error */
  bool reloaded = true;
  assert_int_equal(oc_broker_reload(dir, &reloaded, &err), 0);
  assert_false(reloaded);
  free(dir);
}

static void test_broker_config_refuses_bad_options(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  oc_broker_written written;
  char *dir = oc_path_join(f->dir, "broker");
  oc_broker_config cfg = oc_broker_config_default();
  cfg.dir = dir;
  cfg.port = 0;
  assert_int_equal(oc_broker_write_config(f->store, &cfg, &written, &err), -1);
  assert_non_null(strstr(err.message, "port"));
  cfg = oc_broker_config_default();
  cfg.dir = dir;
  cfg.outage_hours = 0;
  assert_int_equal(oc_broker_write_config(f->store, &cfg, &written, &err), -1);
  assert_false(oc_path_exists(dir)); /* checked before anything is written */
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha512_hmac_pbkdf2_vectors),
      cmocka_unit_test(test_mosquitto_password_hash),
      cmocka_unit_test_setup_teardown(test_register_defaults_secret_and_refusals, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_broker_directory, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_broker_config_refuses_bad_options, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
