/* store_pg_devices.c: the PostgreSQL side of the device-registry ops (table devices, migration 14), the
 * twin of store_sqlite_devices.c. Stores each device's broker password only as its mosquitto_passwd
 * hash; must never see a password in clear, and knows nothing of the broker's files. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

#define DEVICE_COLUMNS \
  "id, site, type, unit, valid_min, valid_max, interval_seconds, password_hash, created_at, revoked_at"

/* Row `row` of a SELECT DEVICE_COLUMNS into *d. */
static void device_from_row(const PGresult *r, int row, oc_device *d) {
  memset(d, 0, sizeof *d);
  oc_pg_get_copy(d->id, sizeof d->id, r, row, 0);
  oc_pg_get_copy(d->site, sizeof d->site, r, row, 1);
  oc_pg_get_copy(d->type, sizeof d->type, r, row, 2);
  oc_pg_get_copy(d->unit, sizeof d->unit, r, row, 3);
  d->valid_min = oc_pg_get_double(r, row, 4);
  d->valid_max = oc_pg_get_double(r, row, 5);
  d->interval_seconds = oc_pg_get_int(r, row, 6);
  oc_pg_get_copy(d->password_hash, sizeof d->password_hash, r, row, 7);
  d->created_at = oc_pg_get_int(r, row, 8);
  d->revoked_at = oc_pg_get_int(r, row, 9);
}

/* *revoked_at of the device with the id, and *found; 0 or -1. */
static int device_revoked_at(oc_pg_store *s, const char *id, int64_t *revoked_at, bool *found, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, id);
  PGresult *r = oc_pg_query(s, "SELECT revoked_at FROM devices WHERE id = $1", &p, "looking up a device", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) *revoked_at = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int oc_pg_device_put(oc_store *store, const oc_device *d, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  const char *reason;
  if (oc_device_check(d, &reason) != 0) return oc_error_set(err, "device '%.64s': %s", d->id, reason);
  oc_pg_params p = {0};
  oc_pg_text(&p, d->id);
  oc_pg_text(&p, d->site);
  oc_pg_text(&p, d->type);
  oc_pg_text(&p, d->unit);
  oc_pg_double(&p, d->valid_min);
  oc_pg_double(&p, d->valid_max);
  oc_pg_int(&p, d->interval_seconds);
  oc_pg_text(&p, d->password_hash);
  oc_pg_int(&p, d->created_at);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  /* A revoked device's row is left alone (no row written): its id is never reused. */
  int64_t written = 0;
  bool ok = oc_pg_run(s,
                      "INSERT INTO devices(" DEVICE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)"
                      " ON CONFLICT (id) DO UPDATE SET site = excluded.site, type = excluded.type,"
                      " unit = excluded.unit, valid_min = excluded.valid_min, valid_max = excluded.valid_max,"
                      " interval_seconds = excluded.interval_seconds, password_hash = excluded.password_hash"
                      " WHERE devices.revoked_at = 0",
                      &p, "storing a device", &written, err) == 0;
  if (ok && written == 0) {
    oc_error_set(err, "device '%s' was revoked: its id cannot be registered again (ids are never reused)", d->id);
    ok = false;
  }
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_DEVICE, d->id, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_device_get(oc_store *store, const char *id, oc_device *out, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, id);
  PGresult *r = oc_pg_query(s, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = $1", &p, "reading a device", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) device_from_row(r, 0, out);
  PQclear(r);
  return 0;
}

int oc_pg_device_list(oc_store *store, bool include_revoked, oc_device **rows, size_t *n, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, include_revoked ? "true" : "false");
  PGresult *r = oc_pg_query(s,
                            "SELECT " DEVICE_COLUMNS " FROM devices WHERE $1::boolean OR revoked_at = 0"
                            " ORDER BY id COLLATE \"C\"",
                            &p, "listing devices", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_device *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) device_from_row(r, (int)i, &list[i]);
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_device_revoke(oc_store *store, const char *id, int64_t at, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (at <= 0) return oc_error_set(err, "revoking device '%s': time %lld is not after 1970", id, (long long)at);
  oc_pg_params p = {0};
  oc_pg_text(&p, id);
  oc_pg_int(&p, at);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  int64_t changed = 0;
  bool ok = oc_pg_run(s, "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0", &p,
                      "revoking a device", &changed, err) == 0;
  if (ok && changed > 0) ok = oc_pg_change_record(s, OC_CHANGE_DEVICE, id, err) == 0;
  int64_t revoked_at;
  if (ok) ok = device_revoked_at(s, id, &revoked_at, found, err) == 0;
  return oc_pg_op_end(s, ok, err);
}
