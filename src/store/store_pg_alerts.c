/* store_pg_alerts.c: the PostgreSQL side of the alert evaluator's records (tables `alerts` and
 * `alert_events`, migration 16), the twin of store_sqlite_alerts.c: one row per fingerprint with its
 * current state, and one history row per state change. Must not know what a rule means nor how alerts
 * are delivered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

/* A nullable figure: NaN for SQL NULL. */
static double get_value(const PGresult *r, int row, int col) {
  return oc_pg_is_null(r, row, col) ? NAN : oc_pg_get_double(r, row, col);
}

int oc_pg_alert_save(oc_store *store, const oc_alert *a, bool with_event, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, a->fingerprint);
  oc_pg_text(&p, a->rule);
  oc_pg_text(&p, a->state);
  oc_pg_text(&p, a->labels_json);
  oc_pg_text(&p, a->annotations_json);
  oc_pg_double(&p, a->value); /* NaN: NULL */
  oc_pg_int(&p, a->active_since);
  oc_pg_int(&p, a->fired_at);
  oc_pg_int(&p, a->resolved_at);
  oc_pg_int(&p, a->updated_at);
  oc_pg_text(&p, a->notified);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s,
                      "INSERT INTO alerts(fingerprint, rule, state, labels_json, annotations_json, value, active_since,"
                      " fired_at, resolved_at, updated_at, notified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                      " ON CONFLICT (fingerprint) DO UPDATE SET rule = excluded.rule, state = excluded.state,"
                      " labels_json = excluded.labels_json, annotations_json = excluded.annotations_json,"
                      " value = excluded.value, active_since = excluded.active_since, fired_at = excluded.fired_at,"
                      " resolved_at = excluded.resolved_at, updated_at = excluded.updated_at,"
                      " notified = excluded.notified",
                      &p, "saving an alert", NULL, err) == 0;
  if (ok && with_event) {
    oc_pg_params e = {0};
    oc_pg_text(&e, a->fingerprint);
    oc_pg_text(&e, a->rule);
    oc_pg_text(&e, a->state);
    oc_pg_double(&e, a->value);
    oc_pg_int(&e, a->updated_at);
    oc_pg_text(&e, a->labels_json);
    ok = oc_pg_run(s,
                   "INSERT INTO alert_events(id, fingerprint, rule, state, value, at, labels_json)"
                   " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM alert_events",
                   &e, "recording an alert event", NULL, err) == 0;
  }
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_ALERT, a->rule, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_alerts_list(oc_store *store, const char *state, oc_alert **list, size_t *n, oc_error *err) {
  *list = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, state);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT fingerprint, rule, state, labels_json, annotations_json, value, active_since,"
                            " fired_at, resolved_at, updated_at, notified FROM alerts"
                            " WHERE ($1::text IS NULL OR state = $1) ORDER BY rule COLLATE \"C\", fingerprint COLLATE \"C\"",
                            &p, "listing alerts", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_alert *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_alert *a = &out[i];
    int row = (int)i;
    oc_pg_get_copy(a->fingerprint, sizeof a->fingerprint, r, row, 0);
    oc_pg_get_copy(a->rule, sizeof a->rule, r, row, 1);
    oc_pg_get_copy(a->state, sizeof a->state, r, row, 2);
    a->labels_json = oc_pg_get_strdup(r, row, 3);
    a->annotations_json = oc_pg_get_strdup(r, row, 4);
    a->value = get_value(r, row, 5);
    a->active_since = oc_pg_get_int(r, row, 6);
    a->fired_at = oc_pg_get_int(r, row, 7);
    a->resolved_at = oc_pg_get_int(r, row, 8);
    a->updated_at = oc_pg_get_int(r, row, 9);
    oc_pg_get_copy(a->notified, sizeof a->notified, r, row, 10);
  }
  PQclear(r);
  *list = out;
  *n = count;
  return 0;
}

int oc_pg_alert_history(oc_store *store, const char *fingerprint, size_t limit, oc_alert_event **events, size_t *n,
                        oc_error *err) {
  *events = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, fingerprint);
  oc_pg_int(&p, oc_pg_limit(limit));
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, fingerprint, rule, state, value, at, labels_json FROM alert_events"
                            " WHERE ($1::text IS NULL OR fingerprint = $1) ORDER BY id DESC LIMIT $2",
                            &p, "listing alert history", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_alert_event *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_alert_event *e = &out[i];
    int row = (int)i;
    e->id = oc_pg_get_int(r, row, 0);
    oc_pg_get_copy(e->fingerprint, sizeof e->fingerprint, r, row, 1);
    oc_pg_get_copy(e->rule, sizeof e->rule, r, row, 2);
    oc_pg_get_copy(e->state, sizeof e->state, r, row, 3);
    e->value = get_value(r, row, 4);
    e->at = oc_pg_get_int(r, row, 5);
    e->labels_json = oc_pg_get_strdup(r, row, 6);
  }
  PQclear(r);
  *events = out;
  *n = count;
  return 0;
}
