/* Unit tests for several nodes on one store (issue 17), on every backend that can run here (SQLite on
 * a scratch file; PostgreSQL on the throwaway server, a schema per test: pg_fixture.h, skipped where it is not
 * installed): leadership (one connection leads, it keeps leading, the next one takes over when it
 * closes; PostgreSQL: when its session is killed), the shared rate-limit buckets (burst, refill, one
 * bucket per key, concurrent connections never let more than burst through), and the rate limiter
 * placed in the store: two limiters (two nodes) share one key's burst, while "auto" keeps SQLite's
 * buckets in memory. */
#include "testutil.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_fixture.h"
#include "serve/ratelimit.h"
#include "store/store.h"

typedef oc_test_store_fixture fixture;

static const char *scheme_under_test; /* "sqlite" or "postgresql" */
static char *pg_template;             /* the server's stores, a schema each */

static int setup(void **state) {
  *state = oc_test_store_fixture_new("cluster", strcmp(scheme_under_test, "sqlite") == 0 ? NULL : pg_template);
  return 0;
}

static int teardown(void **state) {
  oc_test_store_fixture_free(*state);
  return 0;
}

static oc_store *open_ok(const char *uri) {
  oc_error err = {0};
  oc_store *s = oc_store_open(uri, &err);
  if (!s) fail_msg("open %s: %s", uri, err.message);
  return s;
}

static bool leads(oc_store *s) {
  bool leader = true;
  oc_error err = {0};
  if (oc_store_leader_try_acquire(s, &leader, &err) != 0) fail_msg("leader_try_acquire: %s", err.message);
  return leader;
}

/* Leadership taken within a second: a closed PostgreSQL session's locks go when its backend exits,
 * a moment after the client hangs up. */
static bool leads_soon(oc_store *s) {
  for (int i = 0; i < 100; i++) {
    if (leads(s)) return true;
    usleep(10 * 1000);
  }
  return false;
}

static void test_one_leader_until_it_closes(void **state) {
  fixture *f = *state;
  oc_store *a = open_ok(f->uri), *b = open_ok(f->uri), *c = open_ok(f->uri);
  assert_true(leads(a));
  assert_false(leads(b));
  assert_true(leads(a)); /* asking again keeps it */
  assert_false(leads(b));
  assert_false(leads(c));
  oc_store_close(a); /* the leader goes: the next to ask leads, and only it */
  assert_true(leads_soon(b));
  assert_false(leads(c));
  assert_true(leads(b));
  oc_store_close(b);
  assert_true(leads_soon(c));
  oc_store_close(c);
}

static bool take(oc_store *s, const char *key, double per_second, double burst, double *tokens) {
  bool allowed = false;
  oc_error err = {0};
  if (oc_store_rate_take(s, key, per_second, burst, &allowed, tokens, &err) != 0) fail_msg("rate_take: %s", err.message);
  return allowed;
}

static void test_bucket_burst_refill_and_keys(void **state) {
  fixture *f = *state;
  oc_store *a = open_ok(f->uri), *b = open_ok(f->uri);
  double tokens;
  /* burst 3, almost no refill: three pass (from either connection), the fourth is refused */
  assert_true(take(a, "k1", 0.001, 3, &tokens));
  assert_true(tokens > 1.99 && tokens < 2.01);
  assert_true(take(b, "k1", 0.001, 3, &tokens));
  assert_true(take(a, "k1", 0.001, 3, &tokens));
  assert_false(take(b, "k1", 0.001, 3, &tokens));
  assert_true(tokens >= 0 && tokens < 0.01);
  /* another key has its own bucket */
  assert_true(take(b, "k2", 0.001, 3, &tokens));
  /* refill by the store's clock: 50/s, burst 1 */
  assert_true(take(a, "k3", 50, 1, &tokens));
  while (take(a, "k3", 50, 1, &tokens)) continue; /* drain what refilled meanwhile */
  usleep(60 * 1000);                               /* 3 tokens' worth, capped at the burst */
  assert_true(take(b, "k3", 50, 1, &tokens));
  assert_true(tokens < 0.5);
  /* a bad limit is an error, never a silent pass */
  bool allowed = true;
  oc_error err = {0};
  assert_int_equal(oc_store_rate_take(a, "k4", 1, 0.5, &allowed, &tokens, &err), -1);
  assert_false(allowed);
  assert_non_null(strstr(err.message, "k4"));
  oc_store_close(a);
  oc_store_close(b);
}

#define RACERS 4
#define TAKES_EACH 25
#define RACE_BURST 30

typedef struct racer {
  const char *uri;
  int allowed;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  oc_store *s = open_ok(r->uri);
  double tokens;
  for (int i = 0; i < TAKES_EACH; i++) r->allowed += take(s, "hot", 0.001, RACE_BURST, &tokens);
  oc_store_close(s);
  return NULL;
}

/* Connections taking one key's tokens at once (nodes, in effect) let exactly burst through. */
static void test_concurrent_takes_never_exceed_burst(void **state) {
  fixture *f = *state;
  oc_store_close(open_ok(f->uri)); /* migrated before the race */
  racer racers[RACERS];
  pthread_t threads[RACERS];
  for (int i = 0; i < RACERS; i++) {
    racers[i] = (racer){f->uri, 0};
    assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
  }
  int allowed = 0;
  for (int i = 0; i < RACERS; i++) {
    pthread_join(threads[i], NULL);
    allowed += racers[i].allowed;
  }
  assert_int_equal(allowed, RACE_BURST);
}

/* Two limiters placed in the store are two nodes: one key's burst holds across them. */
static void test_limiters_in_the_store_share_a_burst(void **state) {
  fixture *f = *state;
  oc_rate_limiter node1, node2;
  oc_rate_limiter_init(&node1);
  oc_rate_limiter_init(&node2);
  oc_error err = {0};
  assert_int_equal(oc_rate_limiter_place(&node1, "store", f->uri, &err), 0);
  assert_int_equal(oc_rate_limiter_place(&node2, "store", f->uri, &err), 0);
  assert_true(oc_rate_limiter_in_store(&node1));
  const oc_rate rate = {.per_second = 0.001, .burst = 4};
  int allowed = 0;
  for (int i = 0; i < 5; i++) {
    allowed += oc_rate_limiter_take(&node1, "key", &rate, 0).allowed;
    oc_rate_decision d = oc_rate_limiter_take(&node2, "key", &rate, 0);
    allowed += d.allowed;
    assert_int_equal(d.limit, 4);
  }
  assert_int_equal(allowed, 4);
  oc_rate_decision refused = oc_rate_limiter_take(&node2, "key", &rate, 0);
  assert_false(refused.allowed);
  assert_true(refused.retry_after >= 1);
  assert_int_equal(refused.remaining, 0);
  oc_rate_limiter_free(&node1);
  oc_rate_limiter_free(&node2);
}

/* "auto" shares the buckets on a store several machines reach, and keeps them in memory on SQLite. */
static void test_auto_placement(void **state) {
  fixture *f = *state;
  oc_rate_limiter l;
  oc_rate_limiter_init(&l);
  oc_error err = {0};
  assert_int_equal(oc_rate_limiter_place(&l, "auto", f->uri, &err), 0);
  assert_int_equal(oc_rate_limiter_in_store(&l), strcmp(scheme_under_test, "sqlite") != 0);
  oc_rate_limiter_free(&l);
  oc_rate_limiter_init(&l);
  assert_int_equal(oc_rate_limiter_place(&l, "everywhere", f->uri, &err), -1);
  assert_non_null(strstr(err.message, "node, store or auto"));
  assert_false(oc_rate_limiter_in_store(&l));
  oc_rate_limiter_free(&l);
}

/* PostgreSQL: a leader whose session is killed (as when its node dies) has lost leadership; another
 * connection takes it, and the old one, reconnected, does not lead. */
static void test_pg_killed_session_hands_over(void **state) {
  fixture *f = *state;
  oc_store *a = open_ok(f->uri), *b = open_ok(f->uri);
  assert_true(leads(a));
  assert_false(leads(b));
  PGconn *c = PQconnectdb(f->uri);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                          " WHERE locktype = 'advisory' AND classid = 1869179235 AND objid = 76 AND granted");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "1");
  PQclear(r);
  PQfinish(c);
  assert_true(leads_soon(b)); /* the server drops the lock with the session */
  assert_false(leads(a));
  oc_store_close(a);
  oc_store_close(b);
}

static const struct CMUnitTest every_backend[] = {
    cmocka_unit_test_setup_teardown(test_one_leader_until_it_closes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bucket_burst_refill_and_keys, setup, teardown),
    cmocka_unit_test_setup_teardown(test_concurrent_takes_never_exceed_burst, setup, teardown),
    cmocka_unit_test_setup_teardown(test_limiters_in_the_store_share_a_burst, setup, teardown),
    cmocka_unit_test_setup_teardown(test_auto_placement, setup, teardown),
};

static const struct CMUnitTest postgresql_only[] = {
    cmocka_unit_test_setup_teardown(test_pg_killed_session_hands_over, setup, teardown),
};

int main(void) {
  scheme_under_test = "sqlite";
  int failed = cmocka_run_group_tests_name("cluster sqlite", every_backend, NULL, NULL);
  pg_template = oc_test_pg_store_template("oilcast_cluster");
  if (!pg_template) {
    printf("cluster postgresql: skipped (PostgreSQL is not installed)\n");
    return failed;
  }
  scheme_under_test = "postgresql";
  failed += cmocka_run_group_tests_name("cluster postgresql", every_backend, NULL, NULL);
  failed += cmocka_run_group_tests_name("cluster postgresql only", postgresql_only, NULL, NULL);
  free(pg_template);
  return failed;
}
