/* store_pg_leader.c: the PostgreSQL side of several nodes on one store (issue 17). Leadership is a
 * session-level advisory lock on the leader's own connection: PostgreSQL drops it when that session
 * ends (the process killed, the connection lost), so a follower's next try takes it. A call checks
 * pg_locks first, because session locks stack (taking it again would need as many unlocks) and because
 * oc_pg_query reconnects silently after a lost connection, whose new session holds nothing. The
 * rate-limit buckets are rows of the UNLOGGED rate_buckets table (migration 19), each request one
 * autocommitted upsert outside the store-wide write lock: concurrent requests for one key queue on its
 * row lock only, never behind an import. Nothing here decides what a leader does. */
#include <string.h>

#include "store/store_pg_internal.h"

/* The two 32-bit keys of the leader lock ("oilc", 'L'); pg_locks shows them as classid and objid, with
 * objsubid 2 for the two-key form. Other oilcast locks use the one-key form (store_pg.c). */
#define LEADER_KEY1 "1869179235"
#define LEADER_KEY2 "76"

int oc_pg_leader_try_acquire(oc_store *store, bool *leader, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *leader = false;
  if (s->in_transaction) return oc_error_set(err, "store %s: leadership is not taken inside a transaction", s->display);
  PGresult *r = oc_pg_query(s,
                            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                            "  AND pid = pg_backend_pid() AND classid = " LEADER_KEY1 " AND objid = " LEADER_KEY2
                            "  AND objsubid = 2)"
                            " OR pg_try_advisory_lock(" LEADER_KEY1 ", " LEADER_KEY2 ")",
                            NULL, "taking the leader lock", err);
  if (!r) return -1;
  *leader = strcmp(oc_pg_get(r, 0, 0), "t") == 0;
  PQclear(r);
  return 0;
}

int oc_pg_rate_take(oc_store *store, const char *key_id, double per_second, double burst, bool *allowed,
                    double *tokens, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *allowed = false;
  *tokens = 0;
  if (oc_store_rate_check(key_id, per_second, burst, err) != 0) return -1;
  if (s->in_transaction)
    return oc_error_set(err, "store %s: a rate-limit bucket is not taken inside a transaction", s->display);
  oc_pg_params p = {0};
  oc_pg_text(&p, key_id);
  oc_pg_double(&p, per_second);
  oc_pg_double(&p, burst);
  /* The row's old values on the right of every SET; excluded.refilled_at is the database's clock now. */
  PGresult *r = oc_pg_query(
      s,
      "INSERT INTO rate_buckets AS b (key_id, tokens, refilled_at, allowed)"
      " VALUES ($1, $3::float8 - 1, extract(epoch FROM clock_timestamp()), true)"
      " ON CONFLICT (key_id) DO UPDATE SET"
      "  tokens = least($3::float8, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $2::float8)"
      "           - CASE WHEN least($3::float8, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at)"
      "                                                   * $2::float8) >= 1 THEN 1 ELSE 0 END,"
      "  allowed = least($3::float8, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $2::float8) >= 1,"
      "  refilled_at = greatest(b.refilled_at, excluded.refilled_at)"
      " RETURNING tokens, allowed",
      &p, "taking a rate-limit token", err);
  if (!r) return -1;
  *tokens = oc_pg_get_double(r, 0, 0);
  *allowed = strcmp(oc_pg_get(r, 0, 1), "t") == 0;
  PQclear(r);
  return 0;
}
