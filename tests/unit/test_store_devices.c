/* Unit tests for the device-registry ops of the store (store.h, store_sqlite_devices.c): put, get,
 * list and revoke; every known type's defaults pass the check; bad devices are refused with the field
 * named and nothing written (no row, no change); a revoked id is never registered again; a failed put
 * inside a transaction leaves the transaction's other writes alone. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* A valid device of the type, with its defaults. */
static oc_device device_of(const char *id, const char *type) {
  const oc_device_type *t = oc_device_type_find(type);
  assert_non_null(t);
  oc_device d = {.valid_min = t->valid_min, .valid_max = t->valid_max, .interval_seconds = t->interval_seconds,
                 .created_at = 1700000000};
  snprintf(d.id, sizeof d.id, "%s", id);
  snprintf(d.site, sizeof d.site, "cushing");
  snprintf(d.type, sizeof d.type, "%s", type);
  snprintf(d.unit, sizeof d.unit, "%s", t->unit);
  snprintf(d.password_hash, sizeof d.password_hash, "$7$101$c2FsdHNhbHRzYWx0$aGFzaA==");
  return d;
}

static int64_t latest_change(oc_store *store) {
  int64_t id;
  oc_error err;
  assert_int_equal(oc_store_changes_latest(store, &id, &err), 0);
  return id;
}

static void test_types_cover_the_issue_and_pass_the_check(void **state) {
  (void)state;
  static const char *const required[] = {"pipeline_pressure", "pipeline_flow", "tank_level", "wellhead_temperature",
                                         "refinery_throughput"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) assert_non_null(oc_device_type_find(required[i]));
  size_t n;
  const oc_device_type *types = oc_device_types(&n);
  assert_true(n >= 5);
  for (size_t i = 0; i < n; i++) {
    oc_device d = device_of("dev-1", types[i].name);
    const char *reason = NULL;
    assert_int_equal(oc_device_check(&d, &reason), 0);
  }
  assert_null(oc_device_type_find("pipeline"));
}

static void test_put_get_list_revoke(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  oc_device a = device_of("tank-7", "tank_level"), b = device_of("pump-2", "pipeline_pressure");
  assert_int_equal(oc_store_device_put(f->store, &a, &err), 0);
  assert_int_equal(oc_store_device_put(f->store, &b, &err), 0);

  oc_device got;
  bool found = false;
  assert_int_equal(oc_store_device_get(f->store, "tank-7", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.type, "tank_level");
  assert_string_equal(got.unit, "m");
  assert_string_equal(got.site, "cushing");
  assert_string_equal(got.password_hash, a.password_hash);
  assert_true(got.valid_min == a.valid_min && got.valid_max == a.valid_max);
  assert_int_equal(got.interval_seconds, a.interval_seconds);
  assert_int_equal(got.created_at, 1700000000);
  assert_int_equal(got.revoked_at, 0);
  assert_int_equal(oc_store_device_get(f->store, "nobody", &got, &found, &err), 0);
  assert_false(found);

  /* put on an active device replaces its fields and keeps its creation time */
  a.valid_max = 25;
  a.created_at = 1800000000;
  assert_int_equal(oc_store_device_put(f->store, &a, &err), 0);
  assert_int_equal(oc_store_device_get(f->store, "tank-7", &got, &found, &err), 0);
  assert_true(got.valid_max == 25);
  assert_int_equal(got.created_at, 1700000000);

  oc_device *rows = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_device_list(f->store, false, &rows, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].id, "pump-2"); /* by id */
  assert_string_equal(rows[1].id, "tank-7");
  free(rows);

  int64_t before = latest_change(f->store);
  assert_int_equal(oc_store_device_revoke(f->store, "pump-2", 1750000000, &found, &err), 0);
  assert_true(found);
  oc_change *changes = NULL;
  assert_int_equal(oc_store_changes_after(f->store, before, 10, &changes, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(changes[0].kind, OC_CHANGE_DEVICE);
  assert_string_equal(changes[0].subject, "pump-2");
  assert_string_equal(oc_change_kind_name(OC_CHANGE_DEVICE), "device");
  free(changes);

  /* revoking again finds it and changes nothing; an unknown id is not found */
  before = latest_change(f->store);
  assert_int_equal(oc_store_device_revoke(f->store, "pump-2", 1760000000, &found, &err), 0);
  assert_true(found);
  assert_int_equal(latest_change(f->store), before);
  assert_int_equal(oc_store_device_revoke(f->store, "nobody", 1760000000, &found, &err), 0);
  assert_false(found);
  assert_int_equal(oc_store_device_get(f->store, "pump-2", &got, &found, &err), 0);
  assert_int_equal(got.revoked_at, 1750000000);

  assert_int_equal(oc_store_device_list(f->store, false, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].id, "tank-7");
  free(rows);
  assert_int_equal(oc_store_device_list(f->store, true, &rows, &n, &err), 0);
  assert_int_equal(n, 2);
  free(rows);

  /* a revoked id is never registered again */
  assert_int_equal(oc_store_device_put(f->store, &b, &err), -1);
  assert_non_null(strstr(err.message, "revoked"));
  assert_non_null(strstr(err.message, "pump-2"));
}

/* Spoils one field of d (case k of the test below); returns what the error must say, or NULL past the last case. */
static const char *spoil(oc_device *d, int k) {
  switch (k) {
  case 0: d->id[0] = 0; return "id is empty";
  case 1: snprintf(d->id, sizeof d->id, "tank/7"); return "letters, digits";
  case 2: snprintf(d->id, sizeof d->id, "tank+"); return "letters, digits";
  case 3: snprintf(d->type, sizeof d->type, "pipeline"); return "unknown device type";
  case 4: d->unit[0] = 0; return "unit is empty";
  case 5: d->valid_min = d->valid_max; return "min < max";
  case 6: d->valid_max = NAN; return "finite";
  case 7: d->interval_seconds = 0; return "interval";
  case 8: d->password_hash[0] = 0; return "password hash";
  case 9: snprintf(d->password_hash, sizeof d->password_hash, "a:b"); return "password hash";
  case 10: snprintf(d->site, sizeof d->site, "line\nbreak"); return "control characters";
  /* units no reading could carry (mqtt_payload.h), so every reading would be a dead letter */
  case 11: snprintf(d->unit, sizeof d->unit, "\xc2\xb0""C"); return "a reading's unit";
  case 12: snprintf(d->unit, sizeof d->unit, "bbl per day"); return "a reading's unit";
  case 13: snprintf(d->unit, sizeof d->unit, "abcdefghijklmnopq"); return "a reading's unit";
  /* a range whose readings' sum overflows: two readings of 1e308 made a window's mean (and the series
   * DEVICE.MEASUREMENT.mean) infinite */
  case 14: d->valid_min = -1e308; return "within";
  case 15: d->valid_max = 1e16; return "within";
  default: return NULL;
  }
}

static void test_bad_devices_refused_and_nothing_written(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  int64_t before = latest_change(f->store);
  const char *says;
  for (int k = 0; (says = spoil(&(oc_device){0}, k)) != NULL; k++) {
    oc_device d = device_of("tank-7", "tank_level");
    spoil(&d, k);
    assert_int_equal(oc_store_device_put(f->store, &d, &err), -1);
    if (!strstr(err.message, says)) fail_msg("case %d: '%s' does not say '%s'", k, err.message, says);
  }
  oc_device *rows = NULL;
  size_t n = 9;
  assert_int_equal(oc_store_device_list(f->store, true, &rows, &n, &err), 0);
  assert_int_equal(n, 0);
  free(rows);
  assert_int_equal(latest_change(f->store), before);
}

/* A refused put inside the caller's transaction rolls back only itself (a savepoint). */
static void test_failed_put_in_transaction_keeps_the_rest(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  oc_device good = device_of("flow-1", "pipeline_flow"), bad = device_of("flow-2", "pipeline_flow");
  bad.interval_seconds = -5;
  assert_int_equal(oc_store_begin(f->store, &err), 0);
  assert_int_equal(oc_store_device_put(f->store, &good, &err), 0);
  assert_int_equal(oc_store_device_put(f->store, &bad, &err), -1);
  assert_int_equal(oc_store_commit(f->store, &err), 0);
  oc_device *rows = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_device_list(f->store, true, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].id, "flow-1");
  free(rows);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_types_cover_the_issue_and_pass_the_check),
      cmocka_unit_test_setup_teardown(test_put_get_list_revoke, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_bad_devices_refused_and_nothing_written, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_failed_put_in_transaction_keeps_the_rest, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
