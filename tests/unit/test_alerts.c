/* Unit tests for src/monitor/alerts (and health) on a real store, driven by the scheduler on a
 * simulated clock: a job `monitor` + `alerts evaluate` runs each trading day at 22:00 while prices
 * arrive; an endpoint whose first forecasts were bad goes pending, firing after the rule's `for`,
 * and resolved once good forecasts outweigh them, and a loopback webhook receiver gets exactly one
 * firing and one resolved Alertmanager v4 payload (checked field by field). A receiver that answers
 * 503 is retried with backoff; one that stays down leaves the alert owed and it is delivered at the
 * next evaluation. Fingerprints deduplicate; staleness follows the trading calendar; a bad rules
 * file is refused with the rule named. */
#include "testutil.h"

#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "monitor/alerts.h"
#include "monitor/health.h"
#include "monitor/score.h"
#include "schedule/scheduler.h"
#include "store/datadir.h"

#define DAYS 16
#define MAX_POSTS 32

/* The loopback webhook receiver: records each POST body; answers 503 to the first `fail_first`. */
typedef struct receiver {
  struct MHD_Daemon *daemon;
  char url[64];
  pthread_mutex_t lock;
  char *bodies[MAX_POSTS];
  int status[MAX_POSTS];
  size_t n;
  int fail_first;
} receiver;

typedef struct upload {
  char *data;
  size_t len;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls) {
  (void)url, (void)version;
  receiver *r = cls;
  upload *u = *con_cls;
  if (!u) {
    *con_cls = calloc(1, sizeof *u);
    return MHD_YES;
  }
  if (*size) {
    u->data = realloc(u->data, u->len + *size + 1);
    memcpy(u->data + u->len, data, *size);
    u->len += *size;
    u->data[u->len] = '\0';
    *size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock(&r->lock);
  int status = (int)r->n < r->fail_first ? 503 : 200;
  if (strcmp(method, "POST") == 0 && r->n < MAX_POSTS) {
    r->status[r->n] = status;
    r->bodies[r->n++] = u->data ? u->data : strdup("");
    u->data = NULL;
  }
  pthread_mutex_unlock(&r->lock);
  free(u->data);
  free(u);
  *con_cls = NULL;
  struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void receiver_start(receiver *r, int fail_first) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
  r->fail_first = fail_first;
  r->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, r, MHD_OPTION_END);
  assert_non_null(r->daemon);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u/hook", (unsigned)info->port);
}

/* The POSTs received so far; taken under the receiver's lock, so the bodies and statuses below that
 * count are safe to read afterwards (the receiver's thread wrote them before, under the same lock). */
static size_t posts(receiver *r) {
  pthread_mutex_lock(&r->lock);
  size_t n = r->n;
  pthread_mutex_unlock(&r->lock);
  return n;
}

static void receiver_stop(receiver *r) {
  MHD_stop_daemon(r->daemon);
  for (size_t i = 0; i < r->n; i++) free(r->bodies[i]);
  pthread_mutex_destroy(&r->lock);
}

static oc_date day(int i) { return oc_calendar_add_trading_days(oc_date_from_ymd(2024, 6, 3), i); }
static int64_t evening(int i) { return (int64_t)day(i) * 86400 + 22 * 3600; }
static double price(int i) { return 70.0 + i; } /* the no-change forecast misses by 1 every day */

static void store_price(oc_store *store, int i) {
  oc_date date = day(i);
  double value = price(i);
  oc_series s = {.name = "WTI", .n = 1, .dates = &date, .values = &value};
  oc_test_store_series(store, &s);
}

/* Endpoint wti's one-day forecast from each origin: 5 too high for origins 0 and 1, exact after. */
static void store_forecasts(oc_store *store) {
  for (int o = 0; o < DAYS; o++) {
    oc_forecast_record rec = {.origin = day(o), .n_points = 1, .created_at = 1};
    snprintf(rec.series, sizeof rec.series, "WTI");
    snprintf(rec.endpoint, sizeof rec.endpoint, "wti");
    snprintf(rec.variant, sizeof rec.variant, "main");
    snprintf(rec.model_version, sizeof rec.model_version, "v1");
    snprintf(rec.history, sizeof rec.history, "stored");
    double p = price(o) + 1 + (o < 2 ? 5 : 0);
    rec.points[0] = (oc_stored_forecast_point){day(o + 1), p, p - 1, p + 1, p - 2, p + 2};
    oc_error err;
    if (oc_store_forecast_save(store, &rec, &err) != 0) fail_msg("%s", err.message);
  }
}

static void write_rules(const char *dir, const char *url, int retries) {
  char text[2048];
  snprintf(text, sizeof text,
           "{\"external_url\": \"http://oilcast.test:8080\",\n"
           " \"webhooks\": [{\"name\": \"ops\", \"url\": \"%s\", \"retries\": %d, \"backoff\": \"20ms\", \"timeout\": \"5s\"}],\n"
           " \"rules\": [{\"alert\": \"ForecastDegraded\", \"metric\": \"oilcast_forecast_rel_mae\",\n"
           "             \"match\": {\"endpoint\": \"wti\", \"window\": \"20\"}, \"above\": 1.5, \"for\": \"1d\",\n"
           "             \"severity\": \"critical\", \"labels\": {\"team\": \"forecasting\"},\n"
           "             \"annotations\": {\"summary\": \"relMAE {{ $value }} on {{ $labels.endpoint }}\"}}]}\n",
           url, retries);
  free(oc_test_write_file(dir, OC_ALERTS_FILE, text));
}

/* The scheduler's environment: the simulated clock and the job's steps run in process. */
typedef struct world {
  int64_t clock;
  const char *dir;
  oc_alerts_result last;
} world;

static int64_t world_now(void *ctx) { return ((world *)ctx)->clock; }

static void world_step(void *ctx, const oc_job *job, const oc_job_step *step, oc_step_outcome *out) {
  (void)job;
  world *w = ctx;
  oc_store *store;
  oc_error err;
  assert_int_equal(oc_datadir_open(w->dir, &store, &err), 0);
  int rc;
  if (strcmp(step->argv[0], "monitor") == 0) {
    oc_monitor_options o = oc_monitor_options_default();
    oc_monitor_result r;
    rc = oc_monitor_score(store, &o, w->clock, &r, &err);
    if (rc == 0) oc_monitor_result_free(&r);
  } else {
    assert_string_equal(step->text, "alerts evaluate");
    oc_alerts_options o = {.now = w->clock};
    rc = oc_alerts_evaluate(w->dir, store, &o, &w->last, &err);
    if (rc == 0 && w->last.undelivered) rc = -1;
  }
  if (rc != 0) fail_msg("%s: %s", step->text, w->last.undelivered ? w->last.delivery_error : err.message);
  oc_store_close(store);
  out->exit_code = 0;
}

static void tick(oc_store *store, const oc_jobs *jobs, world *w) {
  oc_scheduler_env env = {.now = world_now, .run_step = world_step, .ctx = w, .runner = "test:1"};
  int64_t next;
  oc_error err;
  if (oc_scheduler_tick(store, jobs, &env, &next, &err) != 0) fail_msg("%s", err.message);
}

/* The one alert's state ("none" without one), and its stored value in *value when value is not NULL. */
static const char *state_of(oc_store *store, double *value) {
  static char state[16];
  oc_alert *list;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_alerts_list(store, NULL, &list, &n, &err), 0);
  assert_true(n <= 1); /* one alert, however often its condition held: the fingerprint dedups */
  snprintf(state, sizeof state, "%s", n ? list[0].state : "none");
  if (value) *value = n ? list[0].value : NAN;
  oc_alert_list_free(list, n);
  return state;
}

static json_t *body_json(const receiver *r, size_t i) {
  json_error_t jerr;
  json_t *j = json_loads(r->bodies[i], 0, &jerr);
  if (!j) fail_msg("payload %zu is not JSON: %s", i, jerr.text);
  return j;
}

static void check_payload(json_t *p, const char *status, int64_t starts, int64_t ends) {
  char ts[OC_TIMESTAMP_STRLEN];
  assert_string_equal(json_string_value(json_object_get(p, "version")), "4");
  assert_string_equal(json_string_value(json_object_get(p, "receiver")), "ops");
  assert_string_equal(json_string_value(json_object_get(p, "status")), status);
  assert_string_equal(json_string_value(json_object_get(p, "externalURL")), "http://oilcast.test:8080");
  assert_string_equal(json_string_value(json_object_get(p, "groupKey")), "{}:{alertname=\"ForecastDegraded\"}");
  assert_int_equal(json_integer_value(json_object_get(p, "truncatedAlerts")), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(p, "groupLabels"), "alertname")),
                      "ForecastDegraded");
  assert_int_equal(json_object_size(json_object_get(p, "groupLabels")), 1);
  json_t *alerts = json_object_get(p, "alerts");
  assert_int_equal(json_array_size(alerts), 1);
  json_t *a = json_array_get(alerts, 0), *labels = json_object_get(a, "labels");
  assert_true(json_equal(labels, json_object_get(p, "commonLabels")));
  assert_true(json_equal(json_object_get(a, "annotations"), json_object_get(p, "commonAnnotations")));
  assert_string_equal(json_string_value(json_object_get(a, "status")), status);
  const char *expect[][2] = {{"alertname", "ForecastDegraded"}, {"severity", "critical"}, {"team", "forecasting"},
                             {"endpoint", "wti"}, {"series", "WTI"}, {"variant", "main"}, {"model_version", "v1"},
                             {"horizon", "1"}, {"window", "20"}};
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
    assert_string_equal(json_string_value(json_object_get(labels, expect[i][0])), expect[i][1]);
  assert_int_equal(json_object_size(labels), 9);
  assert_string_equal(json_string_value(json_object_get(a, "startsAt")), oc_timestamp_format(starts, ts));
  if (ends) assert_string_equal(json_string_value(json_object_get(a, "endsAt")), oc_timestamp_format(ends, ts));
  else assert_string_equal(json_string_value(json_object_get(a, "endsAt")), "0001-01-01T00:00:00Z");
  const char *fp = json_string_value(json_object_get(a, "fingerprint"));
  assert_int_equal(strlen(fp), 16);
  char url[128];
  snprintf(url, sizeof url, "http://oilcast.test:8080/v1/alerts?fingerprint=%s", fp);
  assert_string_equal(json_string_value(json_object_get(a, "generatorURL")), url);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(a, "annotations"), "summary")), "on wti"));
}

static void run_days(oc_test_datadir_fixture *fx, const char *states[DAYS], double values[DAYS]) {
  store_forecasts(fx->store);
  oc_jobs jobs;
  oc_error err;
  if (oc_jobs_parse("jobs.conf", "[alerts]\nevery = trading-day at 22:00 UTC\nstep = monitor\nstep = alerts evaluate\n",
                    &jobs, &err) != 0)
    fail_msg("%s", err.message);
  world w = {.clock = evening(0) - 3600, .dir = fx->dir};
  tick(fx->store, &jobs, &w); /* the job is first seen before the first slot */
  for (int i = 0; i < DAYS - 1; i++) {
    store_price(fx->store, i);
    w.clock = evening(i);
    tick(fx->store, &jobs, &w);
    if (states) states[i] = strdup(state_of(fx->store, values ? &values[i] : NULL));
  }
  oc_jobs_free(&jobs);
}

static void test_pending_firing_resolved_webhook(void **state) {
  oc_test_datadir_fixture *fx = *state;
  receiver r;
  receiver_start(&r, 0);
  write_rules(fx->dir, r.url, 2);
  const char *states[DAYS] = {0};
  double values[DAYS];
  run_days(fx, states, values);
  /* day 0: nothing scored; day 1: origin 0 scored, relMAE 5: pending; day 2: a day later, firing;
   * day 7: (5 + 5 + 0 ...) / 7 origins = 1.43 < 1.5: resolved */
  const char *expect[] = {"none", "pending", "firing", "firing", "firing", "firing", "firing", "resolved", "resolved"};
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    if (strcmp(states[i], expect[i]) != 0) fail_msg("day %zu: %s, expected %s", i, states[i], expect[i]);
  }
  for (int i = 0; i < DAYS; i++) free((char *)states[i]);
  /* the stored value follows the figure while the alert stays firing (5 on days 1 and 2, then falling
   * as right forecasts are scored), and keeps the last holding one once resolved */
  assert_true(values[1] == 5 && values[2] == 5);
  for (int i = 3; i <= 6; i++)
    if (!(values[i] < values[i - 1])) fail_msg("day %d: stored value %g, day before %g", i, values[i], values[i - 1]);
  assert_true(values[7] == values[6]);
  assert_int_equal(posts(&r), 2);
  json_t *firing = body_json(&r, 0), *resolved = body_json(&r, 1);
  check_payload(firing, "firing", evening(2), 0);
  check_payload(resolved, "resolved", evening(2), evening(7));
  assert_true(json_equal(json_object_get(json_array_get(json_object_get(firing, "alerts"), 0), "fingerprint"),
                         json_object_get(json_array_get(json_object_get(resolved, "alerts"), 0), "fingerprint")));
  json_decref(firing);
  json_decref(resolved);
  /* the history: pending, firing, resolved, newest first */
  oc_alert_event *events;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_alert_history(fx->store, NULL, 10, &events, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(events[0].state, "resolved");
  assert_string_equal(events[1].state, "firing");
  assert_string_equal(events[2].state, "pending");
  assert_int_equal(events[1].at, evening(2));
  oc_alert_event_list_free(events, n);
  receiver_stop(&r);
}

static void test_failing_receiver_is_retried(void **state) {
  oc_test_datadir_fixture *fx = *state;
  receiver r;
  receiver_start(&r, 2); /* 503, 503, then 200 */
  write_rules(fx->dir, r.url, 2);
  run_days(fx, NULL, NULL);
  assert_int_equal(posts(&r), 4); /* the firing payload three times (the third taken), the resolved once */
  assert_int_equal(r.status[0], 503);
  assert_int_equal(r.status[2], 200);
  assert_string_equal(r.bodies[0], r.bodies[2]);
  json_t *p = body_json(&r, 3);
  check_payload(p, "resolved", evening(2), evening(7));
  json_decref(p);
  receiver_stop(&r);
}

static void test_undelivered_alert_is_sent_next_time(void **state) {
  oc_test_datadir_fixture *fx = *state;
  receiver r;
  receiver_start(&r, 1); /* the first POST fails and no retry is allowed */
  write_rules(fx->dir, r.url, 0);
  store_forecasts(fx->store);
  for (int i = 0; i <= 2; i++) store_price(fx->store, i);
  oc_monitor_options mo = oc_monitor_options_default();
  oc_monitor_result mr;
  oc_error err;
  assert_int_equal(oc_monitor_score(fx->store, &mo, evening(2), &mr, &err), 0);
  oc_monitor_result_free(&mr);
  oc_alerts_options o = {.now = evening(1)};
  oc_alerts_result res;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.pending, 1);
  o.now = evening(2);
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.firing, 1);
  assert_int_equal(res.undelivered, 1);
  assert_non_null(strstr(res.delivery_error, "503"));
  o.now = evening(2) + 300;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.undelivered, 0);
  assert_int_equal(res.notifications, 1);
  assert_int_equal(res.changed, 0);
  assert_int_equal(posts(&r), 2);
  assert_string_equal(r.bodies[0], r.bodies[1]); /* the same firing payload, now taken */
  o.now = evening(2) + 600; /* nothing owed: nothing sent */
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.notifications, 0);
  assert_int_equal(posts(&r), 2);
  receiver_stop(&r);
}

static void write_stale_rule(const char *dir, const char *url) {
  char text[1024];
  snprintf(text, sizeof text,
           "{\"webhooks\": [{\"name\": \"ops\", \"url\": \"%s\", \"retries\": 0}],\n"
           " \"rules\": [{\"alert\": \"SeriesStale\", \"metric\": \"oilcast_series_staleness_trading_days\",\n"
           "             \"above\": 0, \"for\": \"1h\"}]}\n",
           url);
  free(oc_test_write_file(dir, OC_ALERTS_FILE, text));
}

static void store_wti(oc_store *store, int y, int m, int d) {
  oc_date date = oc_date_from_ymd(y, m, d);
  double value = 80;
  oc_series s = {.name = "WTI", .n = 1, .dates = &date, .values = &value};
  oc_test_store_series(store, &s);
}

/* A firing alert whose resolution the webhook never took (it was down) and whose condition holds
 * again: for the webhook it never stopped firing, so it fires on (not pending anew), and when it
 * stops holding its resolution is sent. Were it pending again, stopping would drop it unannounced and
 * the webhook would keep it firing forever. */
static void test_untold_resolution_is_not_lost(void **state) {
  oc_test_datadir_fixture *fx = *state;
  receiver r;
  receiver_start(&r, 0);
  write_stale_rule(fx->dir, r.url);
  store_wti(fx->store, 2024, 6, 3); /* Monday */
  int64_t wednesday = (int64_t)oc_date_from_ymd(2024, 6, 5) * 86400, thursday = wednesday + 86400;
  oc_alerts_options o = {.now = wednesday + 12 * 3600}; /* Tuesday's price is due: 1 behind */
  oc_alerts_result res;
  oc_error err;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.pending, 1);
  o.now += 2 * 3600;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.firing, 1);
  assert_int_equal(posts(&r), 1);
  store_wti(fx->store, 2024, 6, 4); /* fresh again, while the webhook is down */
  write_stale_rule(fx->dir, "http://127.0.0.1:1/down");
  o.now += 1800;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.undelivered, 1);
  write_stale_rule(fx->dir, r.url);
  o.now = thursday + 12 * 3600; /* Wednesday's price is due: stale again */
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_string_equal(state_of(fx->store, NULL), "firing");
  store_wti(fx->store, 2024, 6, 5);
  o.now += 1800;
  assert_int_equal(oc_alerts_evaluate(fx->dir, fx->store, &o, &res, &err), 0);
  assert_int_equal(res.undelivered, 0);
  assert_int_equal(posts(&r), 2);
  json_t *resolved = body_json(&r, 1);
  assert_string_equal(json_string_value(json_object_get(resolved, "status")), "resolved");
  json_decref(resolved);
  receiver_stop(&r);
}

static void test_staleness_follows_the_trading_calendar(void **state) {
  oc_test_datadir_fixture *fx = *state;
  /* prices through Thursday 2024-03-28; Good Friday 2024-03-29 is closed */
  oc_date last = oc_date_from_ymd(2024, 3, 28);
  double value = 80;
  oc_series s = {.name = "WTI", .n = 1, .dates = &last, .values = &value};
  oc_test_store_series(fx->store, &s);
  struct {
    int y, m, d;
    int64_t behind;
  } cases[] = {{2024, 3, 29, 0}, {2024, 3, 30, 0}, {2024, 4, 1, 0}, {2024, 4, 2, 1}, {2024, 4, 4, 3}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    oc_series_staleness *rows;
    size_t n;
    oc_error err;
    int64_t now = (int64_t)oc_date_from_ymd(cases[i].y, cases[i].m, cases[i].d) * 86400 + 12 * 3600;
    assert_int_equal(oc_monitor_staleness(fx->store, now, &rows, &n, &err), 0);
    assert_int_equal(n, 1);
    if (rows[0].behind != cases[i].behind)
      fail_msg("%d-%02d-%02d: %lld behind, expected %lld", cases[i].y, cases[i].m, cases[i].d, (long long)rows[0].behind,
               (long long)cases[i].behind);
    free(rows);
  }
}

/* A finished run of job at slot with status. */
static void record_run(oc_store *store, const char *job, int64_t slot, const char *status) {
  oc_job_run run = {.slot = slot, .started_at = slot};
  snprintf(run.job, sizeof run.job, "%s", job);
  snprintf(run.trigger, sizeof run.trigger, "schedule");
  snprintf(run.runner, sizeof run.runner, "test:1");
  bool claimed;
  oc_error err;
  assert_int_equal(oc_store_job_run_start(store, &run, &claimed, &err), 0);
  assert_true(claimed);
  snprintf(run.status, sizeof run.status, "%s", status);
  run.finished_at = slot + 1;
  assert_int_equal(oc_store_job_run_finish(store, &run, &err), 0);
}

/* A weekly job's failure stays a failure however often another job runs after it: its figure must
 * not vanish (and its JobFailing alert resolve) once a job every minute has run 500 times since. A
 * job taken out of jobs.conf is no scheduled job any more: its last failure is no figure (its alert
 * would fire for ever, as it never runs again). */
static void test_job_failures_outlast_other_jobs_runs(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_error err;
  free(oc_test_write_file(fx->dir, "jobs.conf", "[weekly]\nevery = monday at 06:00 UTC\nstep = status\n\n"
                                                "[minutely]\nevery = 1m\nstep = status\n"));
  record_run(fx->store, "removed", 500, "failed");
  record_run(fx->store, "weekly", 1000, "failed");
  assert_int_equal(oc_store_begin(fx->store, &err), 0);
  for (int64_t i = 0; i < 600; i++) record_run(fx->store, "minutely", 2000 + 60 * i, "ok");
  assert_int_equal(oc_store_commit(fx->store, &err), 0);
  oc_monitor_health h;
  assert_int_equal(oc_monitor_health_read(fx->dir, fx->store, 86400 * 365, &h, &err), 0);
  assert_int_equal(h.njobs, 2);
  assert_string_equal(h.jobs[0].job, "minutely");
  assert_int_equal(h.jobs[0].consecutive, 0);
  assert_string_equal(h.jobs[1].job, "weekly");
  assert_int_equal(h.jobs[1].consecutive, 1);
  oc_monitor_health_free(&h);
}

static void test_bad_rules_are_refused(void **state) {
  (void)state;
  const struct {
    const char *text, *needle;
  } cases[] = {
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"m\"}]}", "rule A needs one threshold"},
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"m\", \"above\": 1, \"for\": \"soon\"}]}", "rule A: \"for\""},
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"m\", \"above\": 1, \"labels\": {\"x\": 1}}]}", "labels\".x"},
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"m\", \"above\": 1}, {\"alert\": \"A\", \"metric\": \"m\", \"below\": 1}]}",
       "defined twice"},
      {"{\"webhooks\": [{\"name\": \"w\", \"url\": \"ftp://x\"}]}", "webhooks[0] (w)"},
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"m\", \"above\": 1, \"labels\": {\"alertname\": \"B\"}}]}",
       "may not set alertname"},
      {"{\"rules\": [}", "alerts.json:1:"},
      /* a metric no figure has would never hold: refused, the rule named, the figures listed */
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"oilcast_forecast_relmae\", \"above\": 1}]}",
       "alerts.json: rule A: \"metric\" oilcast_forecast_relmae is not a figure (one of oilcast_forecast_rel_mae, "},
      /* a misspelt key would silently take its default (a misspelt "for" fires at once): refused, named */
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"oilcast_forecast_bias\", \"above\": 1, \"fro\": \"2d\"}]}",
       "alerts.json: rule A: unknown key \"fro\""},
      {"{\"webhooks\": [{\"name\": \"w\", \"url\": \"http://x\", \"retires\": 3}]}", "webhooks[0] (w): unknown key \"retires\""},
      {"{\"webhook\": [], \"rules\": []}", "alerts.json: unknown key \"webhook\""},
      /* a match on a label its figures do not have would never hold: refused, the labels listed */
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"oilcast_forecast_rel_mae\", \"above\": 1,"
       " \"match\": {\"endpiont\": \"wti\"}}]}",
       "alerts.json: rule A: \"match\" names endpiont, a label oilcast_forecast_rel_mae does not have (its labels: series, "
       "endpoint, variant, model_version, horizon, window)"},
      {"{\"rules\": [{\"alert\": \"A\", \"metric\": \"oilcast_series_staleness_trading_days\", \"above\": 1,"
       " \"match\": {\"window\": \"20\"}}]}",
       "rule A: \"match\" names window, a label oilcast_series_staleness_trading_days does not have (its labels: series)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    oc_alert_rules rules;
    oc_error err;
    assert_int_equal(oc_alert_rules_parse("alerts.json", cases[i].text, &rules, &err), -1);
    if (!strstr(err.message, cases[i].needle)) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
  }
}

/* "for" is kept in whole seconds, rounded up: a part of a second still holds the alert pending first. */
static void test_for_rounds_up(void **state) {
  (void)state;
  static const struct {
    const char *duration;
    int64_t seconds;
  } cases[] = {{"250ms", 1}, {"1000ms", 1}, {"1500ms", 2}, {"0", 0}, {"90s", 90}, {"2h", 7200}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[160];
    snprintf(text, sizeof text, "{\"rules\": [{\"alert\": \"A\", \"metric\": \"oilcast_forecast_bias\", \"above\": 1, \"for\": \"%s\"}]}",
             cases[i].duration);
    oc_alert_rules rules;
    oc_error err;
    if (oc_alert_rules_parse("alerts.json", text, &rules, &err) != 0) fail_msg("%s: %s", cases[i].duration, err.message);
    if (rules.rules[0].for_seconds != cases[i].seconds)
      fail_msg("for %s: %lld s, expected %lld", cases[i].duration, (long long)rules.rules[0].for_seconds,
               (long long)cases[i].seconds);
    oc_alert_rules_free(&rules);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_for_rounds_up),
      cmocka_unit_test_setup_teardown(test_pending_firing_resolved_webhook, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_failing_receiver_is_retried, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_undelivered_alert_is_sent_next_time, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_staleness_follows_the_trading_calendar, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_untold_resolution_is_not_lost, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_job_failures_outlast_other_jobs_runs, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test(test_bad_rules_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
