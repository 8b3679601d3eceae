/* store_sqlite_devices.c: the SQLite side of the device-registry ops (table devices, migration 14).
 * Stores each device's broker password only as its mosquitto_passwd hash; must never see a password
 * in clear, and knows nothing of the broker's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

#define DEVICE_COLUMNS \
  "id, site, type, unit, valid_min, valid_max, interval_seconds, password_hash, created_at, revoked_at"

/* One row of a SELECT DEVICE_COLUMNS into *d. */
static void device_from_row(sqlite3_stmt *st, oc_device *d) {
  memset(d, 0, sizeof *d);
  oc_sqlite_column_copy(d->id, sizeof d->id, st, 0);
  oc_sqlite_column_copy(d->site, sizeof d->site, st, 1);
  oc_sqlite_column_copy(d->type, sizeof d->type, st, 2);
  oc_sqlite_column_copy(d->unit, sizeof d->unit, st, 3);
  d->valid_min = sqlite3_column_double(st, 4);
  d->valid_max = sqlite3_column_double(st, 5);
  d->interval_seconds = sqlite3_column_int64(st, 6);
  oc_sqlite_column_copy(d->password_hash, sizeof d->password_hash, st, 7);
  d->created_at = sqlite3_column_int64(st, 8);
  d->revoked_at = sqlite3_column_int64(st, 9);
}

/* *revoked_at of the device with the id, and *found; 0 or -1. */
static int device_revoked_at(oc_sqlite_store *s, const char *id, int64_t *revoked_at, bool *found, oc_error *err) {
  static const char sql[] = "SELECT revoked_at FROM devices WHERE id = ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) *revoked_at = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "looking up a device");
}

int oc_sqlite_device_put(oc_store *store, const oc_device *d, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  const char *reason;
  if (oc_device_check(d, &reason) != 0) return oc_error_set(err, "device '%.64s': %s", d->id, reason);
  static const char sql[] =
      "INSERT INTO devices(" DEVICE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)"
      " ON CONFLICT(id) DO UPDATE SET site = excluded.site, type = excluded.type, unit = excluded.unit,"
      " valid_min = excluded.valid_min, valid_max = excluded.valid_max,"
      " interval_seconds = excluded.interval_seconds, password_hash = excluded.password_hash";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  int64_t revoked_at = 0;
  bool found = false;
  bool ok = device_revoked_at(s, d->id, &revoked_at, &found, err) == 0;
  if (ok && found && revoked_at > 0) {
    oc_error_set(err, "device '%s' was revoked: its id cannot be registered again (ids are never reused)", d->id);
    ok = false;
  }
  sqlite3_stmt *st = ok ? oc_sqlite_stmt(s, sql, err) : NULL;
  if (st) {
    sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->unit, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, d->valid_min);
    sqlite3_bind_double(st, 6, d->valid_max);
    sqlite3_bind_int64(st, 7, d->interval_seconds);
    sqlite3_bind_text(st, 8, d->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, d->created_at);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "storing a device");
    sqlite3_reset(st);
  } else {
    ok = false;
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_DEVICE, d->id, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_device_get(oc_store *store, const char *id, oc_device *out, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) device_from_row(st, out);
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a device");
}

int oc_sqlite_device_list(oc_store *store, bool include_revoked, oc_device **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE ?1 OR revoked_at = 0 ORDER BY id";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int(st, 1, include_revoked);
  oc_device *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    device_from_row(st, &list[count++]);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(list);
    return oc_sqlite_fail(s, err, "listing devices");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_device_revoke(oc_store *store, const char *id, int64_t at, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0";
  if (at <= 0) return oc_error_set(err, "revoking device '%s': time %lld is not after 1970", id, (long long)at);
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = st != NULL;
  if (st) {
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "revoking a device");
    sqlite3_reset(st);
    if (ok && sqlite3_changes(s->db) > 0) ok = oc_sqlite_change_record(s, OC_CHANGE_DEVICE, id, err) == 0;
  }
  int64_t revoked_at;
  if (ok) ok = device_revoked_at(s, id, &revoked_at, found, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}
