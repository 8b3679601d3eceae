/* store_pg_promote.c: the PostgreSQL side of champion/challenger promotion (migration 17), the twin of
 * store_sqlite_promote.c: the decisions log (`promotion_decisions`, append-only), each endpoint's
 * challenger state (`endpoint_challengers`, one row per endpoint, replaced whole) and the per-origin
 * scored errors the promotion rule compares (read from `forecasts`, `forecast_points` and
 * `forecast_scores`). Must not decide anything: the rules are monitor/promote.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

/* A date parameter that may be NULL (OC_DATE_INVALID). */
static void date_or_null(oc_pg_params *p, oc_date date) {
  if (date == OC_DATE_INVALID) oc_pg_text(p, NULL);
  else oc_pg_date(p, date);
}

int oc_pg_decision_record(oc_store *store, oc_promotion_decision *d, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, d->endpoint);
  oc_pg_int(&p, d->at);
  oc_pg_text(&p, d->action);
  oc_pg_text(&p, d->trigger);
  oc_pg_int(&p, d->version);
  oc_pg_int(&p, d->champion);
  oc_pg_text(&p, d->reason);
  oc_pg_text(&p, *d->figures ? d->figures : "{}");
  if (oc_pg_op_begin(s, err) != 0) return -1;
  PGresult *r = oc_pg_query(s,
                            "INSERT INTO promotion_decisions(id, endpoint, at, action, trigger, version, champion,"
                            " reason, figures) SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8"
                            " FROM promotion_decisions RETURNING id",
                            &p, "recording a promotion decision", err);
  bool ok = r != NULL;
  if (ok) d->id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_DECISION, d->endpoint, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_decisions_list(oc_store *store, const char *endpoint, size_t limit, oc_promotion_decision **out, size_t *n,
                         oc_error *err) {
  *out = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, endpoint);
  oc_pg_int(&p, oc_pg_limit(limit));
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, endpoint, at, action, trigger, version, champion, reason, figures"
                            " FROM promotion_decisions WHERE $1::text IS NULL OR endpoint = $1 ORDER BY id DESC LIMIT $2",
                            &p, "reading promotion decisions", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_promotion_decision *rows = count ? oc_xcalloc(count, sizeof *rows) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_promotion_decision *d = &rows[i];
    int row = (int)i;
    d->id = oc_pg_get_int(r, row, 0);
    oc_pg_get_copy(d->endpoint, sizeof d->endpoint, r, row, 1);
    d->at = oc_pg_get_int(r, row, 2);
    oc_pg_get_copy(d->action, sizeof d->action, r, row, 3);
    oc_pg_get_copy(d->trigger, sizeof d->trigger, r, row, 4);
    d->version = oc_pg_get_int(r, row, 5);
    d->champion = oc_pg_get_int(r, row, 6);
    oc_pg_get_copy(d->reason, sizeof d->reason, r, row, 7);
    oc_pg_get_copy(d->figures, sizeof d->figures, r, row, 8);
  }
  PQclear(r);
  *out = rows;
  *n = count;
  return 0;
}

int oc_pg_challenger_get(oc_store *store, const char *endpoint, oc_challenger_state *out, bool *found, oc_error *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->endpoint, sizeof out->endpoint, "%s", endpoint);
  out->challenger_since = out->promoted_since = out->quiet_until = out->forecast_origin = OC_DATE_INVALID;
  *found = false;
  oc_pg_params p = {0};
  oc_pg_text(&p, endpoint);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT challenger, mode, challenger_since, pending_trigger, pending_reason, promoted,"
                            " previous, promoted_since, quiet_until, forecast_origin FROM endpoint_challengers"
                            " WHERE endpoint = $1",
                            &p, "reading an endpoint's challenger state", err);
  if (!r) return -1;
  if (PQntuples(r) == 1) {
    *found = true;
    out->challenger = oc_pg_get_int(r, 0, 0);
    oc_pg_get_copy(out->mode, sizeof out->mode, r, 0, 1);
    out->challenger_since = oc_pg_get_date(r, 0, 2);
    oc_pg_get_copy(out->pending_trigger, sizeof out->pending_trigger, r, 0, 3);
    oc_pg_get_copy(out->pending_reason, sizeof out->pending_reason, r, 0, 4);
    out->promoted = oc_pg_get_int(r, 0, 5);
    out->previous = oc_pg_get_int(r, 0, 6);
    out->promoted_since = oc_pg_get_date(r, 0, 7);
    out->quiet_until = oc_pg_get_date(r, 0, 8);
    out->forecast_origin = oc_pg_get_date(r, 0, 9);
  }
  PQclear(r);
  return 0;
}

int oc_pg_challenger_put(oc_store *store, const oc_challenger_state *in, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, in->endpoint);
  oc_pg_int(&p, in->challenger);
  oc_pg_text(&p, in->mode);
  date_or_null(&p, in->challenger_since);
  oc_pg_text(&p, in->pending_trigger);
  oc_pg_text(&p, in->pending_reason);
  oc_pg_int(&p, in->promoted);
  oc_pg_int(&p, in->previous);
  date_or_null(&p, in->promoted_since);
  date_or_null(&p, in->quiet_until);
  date_or_null(&p, in->forecast_origin);
  return oc_pg_op_run(oc_pg_of(store),
                      "INSERT INTO endpoint_challengers(endpoint, challenger, mode, challenger_since, pending_trigger,"
                      " pending_reason, promoted, previous, promoted_since, quiet_until, forecast_origin)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (endpoint) DO UPDATE SET"
                      " challenger = excluded.challenger, mode = excluded.mode,"
                      " challenger_since = excluded.challenger_since, pending_trigger = excluded.pending_trigger,"
                      " pending_reason = excluded.pending_reason, promoted = excluded.promoted,"
                      " previous = excluded.previous, promoted_since = excluded.promoted_since,"
                      " quiet_until = excluded.quiet_until, forecast_origin = excluded.forecast_origin",
                      &p, "saving an endpoint's challenger state", NULL, OC_CHANGE_DECISION, in->endpoint, err);
}

int oc_pg_forecast_errors(oc_store *store, const char *endpoint, const char *model_version, int64_t horizon,
                          oc_date after, size_t limit, oc_scored_error **rows, size_t *n, oc_error *err) {
  *rows = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, endpoint);
  oc_pg_text(&p, model_version);
  oc_pg_int(&p, horizon);
  date_or_null(&p, after);
  oc_pg_int(&p, oc_pg_limit(limit));
  /* The latest `limit` origins (newest first in the query), handed back ascending. */
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT origin, abs_error, naive_abs_error FROM ("
                            " WITH newest AS ("
                            "  SELECT f.id, f.origin, row_number() OVER (PARTITION BY f.origin ORDER BY f.id DESC) AS nth"
                            "  FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = $3"
                            "  WHERE f.history = 'stored' AND f.endpoint = $1 AND f.model_version = $2"
                            "  AND ($4::date IS NULL OR f.origin > $4))"
                            " SELECT f.origin, abs(p.price - x.actual) AS abs_error, abs(x.naive - x.actual) AS"
                            " naive_abs_error FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = $3"
                            " JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step"
                            " WHERE f.nth = 1 ORDER BY f.origin DESC LIMIT $5) latest ORDER BY origin",
                            &p, "reading scored forecast errors", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_scored_error *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++)
    out[i] = (oc_scored_error){.origin = oc_pg_get_date(r, (int)i, 0),
                               .abs_error = oc_pg_get_double(r, (int)i, 1),
                               .naive_abs_error = oc_pg_get_double(r, (int)i, 2)};
  PQclear(r);
  *rows = out;
  *n = count;
  return 0;
}
