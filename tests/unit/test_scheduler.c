/* Unit tests for src/schedule/scheduler on a real store with a simulated clock and recorded steps:
 * a slot runs on time once; after downtime a job catches up once (its latest slot), not per missed
 * slot; a new job does not run for the past; a failing step stops its run (later steps never run)
 * with the reason recorded, and the next slot tries again; a paused job waits; a second scheduler on
 * the same store (another connection) never runs a slot that is taken nor a job that is running; and
 * a run left "running" by a dead process is recorded abandoned so the job can run again, one left
 * by a leader on another host (whose process this host cannot see) once this runner leads, and one
 * whose finish the store failed to record by its own runner at the job's next slot. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/date.h"
#include "schedule/scheduler.h"
#include "store/datadir.h"

typedef struct fake {
  int64_t clock;
  char ran[64][64]; /* the steps run, in order */
  size_t nran;
  const char *failing; /* the step text that exits 1 */
  const char *output;  /* what the failing step printed (NULL: a fixed two-line message) */
  int64_t step_seconds; /* how long a step takes on the clock (0: 5 s) */
  /* while a step named "reenter" runs: a second scheduler's store, jobs and result */
  oc_store *other;
  const oc_jobs *jobs;
  int other_runs;
} fake;

static int64_t fake_now(void *ctx) { return ((fake *)ctx)->clock; }

static int count_runs(oc_store *store, const char *job) {
  oc_job_run *runs;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_job_runs_list(store, job, NULL, 1000, &runs, &n, &err), 0);
  oc_job_run_list_free(runs, n);
  return (int)n;
}

static void fake_step(void *ctx, const oc_job *job, const oc_job_step *step, oc_step_outcome *out) {
  fake *f = ctx;
  snprintf(f->ran[f->nran++], sizeof f->ran[0], "%s", step->text);
  int64_t took = f->step_seconds ? f->step_seconds : 5;
  f->clock += took;
  out->seconds = (double)took;
  if (f->failing && strcmp(step->text, f->failing) == 0) {
    out->exit_code = 1;
    snprintf(out->output, sizeof out->output, "%s", f->output ? f->output : "working\noilcast: error: it broke\n");
  }
  if (strcmp(step->text, "reenter") == 0) { /* another scheduler ticks while this run is in progress */
    oc_scheduler_env env = {.now = fake_now, .run_step = fake_step, .ctx = f, .runner = "elsewhere:1"};
    int64_t next;
    oc_error err;
    int before = count_runs(f->other, job->name);
    assert_int_equal(oc_scheduler_tick(f->other, f->jobs, &env, &next, &err), 0);
    bool ran;
    assert_int_equal(oc_scheduler_run_job(f->other, job, "manual", f->clock, &env, &ran, NULL, &err), 0);
    assert_false(ran);
    f->other_runs += count_runs(f->other, job->name) - before;
  }
}

static int64_t at(int y, int m, int d, int hh, int mm) {
  return (int64_t)oc_date_from_ymd(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

static oc_jobs jobs_of(const char *text) {
  oc_jobs jobs;
  oc_error err;
  if (oc_jobs_parse("jobs.conf", text, &jobs, &err) != 0) fail_msg("%s", err.message);
  return jobs;
}

static void tick(oc_store *store, const oc_jobs *jobs, fake *f) {
  oc_scheduler_env env = {.now = fake_now, .run_step = fake_step, .ctx = f, .runner = "test:1"};
  int64_t next;
  oc_error err;
  if (oc_scheduler_tick(store, jobs, &env, &next, &err) != 0) fail_msg("%s", err.message);
}

/* The newest run of job. */
static oc_job_run latest_run(oc_store *store, const char *job) {
  oc_job_run *runs;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_job_runs_list(store, job, NULL, 1, &runs, &n, &err), 0);
  assert_int_equal(n, 1);
  oc_job_run r = runs[0];
  free(runs);
  return r;
}

static void run_free(oc_job_run *r) {
  free(r->error);
  free(r->steps_json);
}

static void test_on_time_catch_up_and_new_jobs(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[daily]\nevery = day at 22:00\nstep = a\nstep = b\n");
  fake f = {.clock = at(2024, 6, 3, 21, 0)};
  tick(fx->store, &jobs, &f); /* first seen now: yesterday's 22:00 is not run */
  assert_int_equal(f.nran, 0);
  f.clock = at(2024, 6, 3, 22, 0) + 10;
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 2);
  assert_string_equal(f.ran[0], "a");
  assert_string_equal(f.ran[1], "b");
  oc_job_run r = latest_run(fx->store, "daily");
  assert_string_equal(r.status, "ok");
  assert_string_equal(r.trigger, "schedule");
  assert_int_equal(r.slot, at(2024, 6, 3, 22, 0));
  assert_non_null(strstr(r.steps_json, "\"step\":\"b\""));
  run_free(&r);
  tick(fx->store, &jobs, &f); /* the slot is done */
  assert_int_equal(f.nran, 2);
  f.clock = at(2024, 6, 7, 10, 0); /* down over three slots: one catch-up, for the latest */
  tick(fx->store, &jobs, &f);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 4);
  r = latest_run(fx->store, "daily");
  assert_string_equal(r.trigger, "catch-up");
  assert_int_equal(r.slot, at(2024, 6, 6, 22, 0));
  run_free(&r);
  assert_int_equal(count_runs(fx->store, "daily"), 2);
  oc_jobs_free(&jobs);
}

static void test_failing_step_stops_and_next_slot_retries(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[flaky]\nevery = 1h\nstep = fetch\nstep = etl --bad\nstep = forecast\n");
  fake f = {.clock = at(2024, 6, 3, 9, 30), .failing = "etl --bad"};
  tick(fx->store, &jobs, &f);
  f.clock = at(2024, 6, 3, 10, 0);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 2); /* forecast never ran */
  oc_job_run r = latest_run(fx->store, "flaky");
  assert_string_equal(r.status, "failed");
  assert_string_equal(r.error, "step 2 (etl --bad) exited with 1: oilcast: error: it broke");
  assert_non_null(strstr(r.steps_json, "\"exit_code\":1"));
  assert_null(strstr(r.steps_json, "forecast"));
  run_free(&r);
  f.failing = NULL;
  f.clock = at(2024, 6, 3, 11, 0);
  tick(fx->store, &jobs, &f);
  r = latest_run(fx->store, "flaky");
  assert_string_equal(r.status, "ok");
  run_free(&r);
  oc_jobs_free(&jobs);
}

static void test_paused_job_waits(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[hourly]\nevery = 1h\nstep = a\n");
  fake f = {.clock = at(2024, 6, 3, 9, 30)};
  tick(fx->store, &jobs, &f);
  oc_error err;
  assert_int_equal(oc_store_job_pause(fx->store, "hourly", true, f.clock, &err), 0);
  f.clock = at(2024, 6, 3, 12, 0);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 0);
  assert_int_equal(oc_store_job_pause(fx->store, "hourly", false, f.clock, &err), 0);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 1);
  oc_jobs_free(&jobs);
}

static void test_second_scheduler_never_doubles(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[shared]\nevery = 1h\nstep = reenter\n");
  oc_error err;
  char *uri;
  assert_int_equal(oc_datadir_store_uri(fx->dir, &uri, &err), 0);
  fake f = {.clock = at(2024, 6, 3, 9, 30), .jobs = &jobs};
  f.other = oc_store_open(uri, &err);
  assert_non_null(f.other);
  free(uri);
  tick(fx->store, &jobs, &f);
  f.clock = at(2024, 6, 3, 10, 0);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 1);
  assert_int_equal(f.other_runs, 0);
  tick(f.other, &jobs, &f); /* the slot is taken: the other scheduler does nothing afterwards either */
  assert_int_equal(f.nran, 1);
  oc_store_close(f.other);
  oc_jobs_free(&jobs);
}

static void test_dead_runner_abandoned(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[orphan]\nevery = 1h\nstep = a\n");
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  char me[96];
  oc_scheduler_runner_id(me);
  oc_job_run stale = {.slot = 1, .started_at = 1};
  snprintf(stale.job, sizeof stale.job, "orphan");
  snprintf(stale.trigger, sizeof stale.trigger, "manual");
  snprintf(stale.runner, sizeof stale.runner, "%.*s:%ld", (int)(strrchr(me, ':') - me), me, (long)child);
  bool claimed;
  oc_error err;
  assert_int_equal(oc_store_job_run_start(fx->store, &stale, &claimed, &err), 0);
  assert_true(claimed);
  fake f = {.clock = at(2024, 6, 3, 10, 0)};
  oc_scheduler_env env = {.now = fake_now, .run_step = fake_step, .ctx = &f, .runner = me};
  bool ran;
  assert_int_equal(oc_scheduler_run_job(fx->store, &jobs.jobs[0], "manual", f.clock, &env, &ran, NULL, &err), 0);
  assert_true(ran);
  oc_job_run *runs;
  size_t n;
  assert_int_equal(oc_store_job_runs_list(fx->store, "orphan", "abandoned", 10, &runs, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, stale.id);
  oc_job_run_list_free(runs, n);
  oc_jobs_free(&jobs);
}

/* A "running" run of runner (simulated host), started for slot. */
static oc_job_run start_stale_run(oc_store *store, const char *job, const char *trigger, const char *runner,
                                  int64_t slot) {
  oc_job_run stale = {.slot = slot, .started_at = slot};
  snprintf(stale.job, sizeof stale.job, "%s", job);
  snprintf(stale.trigger, sizeof stale.trigger, "%s", trigger);
  snprintf(stale.runner, sizeof stale.runner, "%s", runner);
  bool claimed;
  oc_error err;
  assert_int_equal(oc_store_job_run_start(store, &stale, &claimed, &err), 0);
  assert_true(claimed);
  return stale;
}

static const char *status_of(oc_store *store, const char *job, int64_t id) {
  static char status[16];
  oc_job_run *runs;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_job_runs_list(store, job, NULL, 100, &runs, &n, &err), 0);
  status[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (runs[i].id == id) snprintf(status, sizeof status, "%s", runs[i].status);
  oc_job_run_list_free(runs, n);
  return status;
}

/* The leader of host-a dies with its scheduled run "running"; this runner (host-b) cannot see host-a's
 * processes: as a follower it leaves the run alone (the job stays blocked), once it leads it records
 * the run abandoned and runs the job. A manual run on another host may be alive: never abandoned. */
static void test_new_leader_abandons_former_leaders_runs(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[hourly]\nevery = 1h\nstep = a\n[byhand]\nevery = 1h\nstep = b\n");
  fake f = {.clock = at(2024, 6, 3, 9, 30)};
  oc_scheduler_env env = {.now = fake_now, .run_step = fake_step, .ctx = &f, .runner = "host-b.invalid:7"};
  int64_t next;
  oc_error err;
  assert_int_equal(oc_scheduler_tick(fx->store, &jobs, &env, &next, &err), 0); /* both jobs first seen */
  oc_job_run lost = start_stale_run(fx->store, "hourly", "schedule", "host-a.invalid:4242", at(2024, 6, 3, 9, 0));
  oc_job_run manual = start_stale_run(fx->store, "byhand", "manual", "host-a.invalid:4243", at(2024, 6, 3, 9, 20));
  f.clock = at(2024, 6, 3, 10, 0);
  assert_int_equal(oc_scheduler_tick(fx->store, &jobs, &env, &next, &err), 0);
  assert_int_equal(f.nran, 0); /* not leading: both jobs wait for their runs */
  assert_string_equal(status_of(fx->store, "hourly", lost.id), "running");
  env.leads = true;
  assert_int_equal(oc_scheduler_tick(fx->store, &jobs, &env, &next, &err), 0);
  assert_int_equal(f.nran, 1);
  assert_string_equal(f.ran[0], "a");
  assert_string_equal(status_of(fx->store, "hourly", lost.id), "abandoned");
  assert_string_equal(status_of(fx->store, "byhand", manual.id), "running");
  oc_job_run *runs;
  size_t n;
  assert_int_equal(oc_store_job_runs_list(fx->store, "hourly", "abandoned", 10, &runs, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(runs[0].error, "the leader running it lost its leadership (another node leads now)");
  oc_job_run_list_free(runs, n);
  oc_job_run r = latest_run(fx->store, "hourly");
  assert_string_equal(r.status, "ok");
  assert_string_equal(r.runner, "host-b.invalid:7");
  run_free(&r);
  oc_jobs_free(&jobs);
}

static int finish_fails(oc_store *store, const oc_job_run *run, oc_error *err) {
  (void)store;
  oc_error_set(err, "finishing job run %lld: disk I/O error", (long long)run->id);
  return -1;
}

/* The store refuses to record a run's finish (the run stays "running" there) while its scheduler goes
 * on living: at the job's next slot the same runner, which runs a job's runs one after another, records
 * that run abandoned and runs the job, instead of waiting forever for a run that ended. */
static void test_unrecorded_finish_abandoned_at_next_slot(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[hourly]\nevery = 1h\nstep = a\n");
  fake f = {.clock = at(2024, 6, 3, 9, 30)};
  oc_scheduler_env env = {.now = fake_now, .run_step = fake_step, .ctx = &f, .runner = "test:1"};
  tick(fx->store, &jobs, &f); /* first seen */
  const oc_store_ops *real = fx->store->ops;
  oc_store_ops failing = *real;
  failing.job_run_finish = finish_fails;
  fx->store->ops = &failing;
  f.clock = at(2024, 6, 3, 10, 0);
  int64_t next;
  oc_error err;
  assert_int_equal(oc_scheduler_tick(fx->store, &jobs, &env, &next, &err), -1);
  fx->store->ops = real;
  oc_job_run lost = latest_run(fx->store, "hourly");
  assert_string_equal(lost.status, "running");
  f.clock = at(2024, 6, 3, 11, 0);
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 2);
  oc_job_run *runs;
  size_t n;
  assert_int_equal(oc_store_job_runs_list(fx->store, "hourly", "abandoned", 10, &runs, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, lost.id);
  assert_string_equal(runs[0].error, "its runner went on without recording how it ended");
  oc_job_run_list_free(runs, n);
  oc_job_run r = latest_run(fx->store, "hourly");
  assert_string_equal(r.status, "ok");
  assert_int_equal(r.slot, at(2024, 6, 3, 11, 0));
  run_free(&r);
  run_free(&lost);
  oc_jobs_free(&jobs);
}

/* A step's kept output is the END of what it printed: the cut may fall inside a UTF-8 character, and
 * a step may print bytes that are no UTF-8 at all. The run keeps the step's record and its reason
 * (valid UTF-8, the bad bytes replaced), and the run reads back as JSON (jobs history, GET /v1/jobs). */
static void test_output_not_utf8_kept(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[cut]\nevery = 1h\nstep = fetch\n");
  /* "\xa9" is the second byte of "é" (the tail began in its middle); "\xff" is never UTF-8 */
  fake f = {.clock = at(2024, 6, 3, 9, 30), .failing = "fetch", .output = "\xa9t\xc3\xa9 cut\noilcast: error: bad \xff byte\n"};
  tick(fx->store, &jobs, &f);
  f.clock = at(2024, 6, 3, 10, 0);
  tick(fx->store, &jobs, &f);
  oc_job_run r = latest_run(fx->store, "cut");
  assert_string_equal(r.status, "failed");
  json_t *j = oc_job_run_json(&r);
  assert_non_null(j);
  json_t *steps = json_object_get(j, "steps");
  assert_int_equal(json_array_size(steps), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "output")),
                      "\\xa9t\xc3\xa9 cut\noilcast: error: bad \\xff byte\n");
  json_decref(j);
  assert_string_equal(r.error, "step 1 (fetch) exited with 1: oilcast: error: bad \\xff byte");
  run_free(&r);
  /* a last line longer than the reason keeps: cut between two characters */
  char long_line[1200] = "";
  for (int i = 0; i < 500; i++) strcat(long_line, "\xc3\xa9");
  f.output = long_line;
  f.clock = at(2024, 6, 3, 11, 0);
  tick(fx->store, &jobs, &f);
  r = latest_run(fx->store, "cut");
  j = json_string(r.error); /* NULL when the cut fell inside a character */
  assert_non_null(j);
  json_decref(j);
  j = oc_job_run_json(&r);
  assert_non_null(j);
  json_decref(j);
  run_free(&r);
  oc_jobs_free(&jobs);
}

/* Two jobs share a slot and the first takes ten minutes: the second runs late because of it, not
 * because the scheduler was down, so its trigger is "schedule" (catch-up means missed downtime). */
static void test_job_delayed_by_another_is_not_catch_up(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_jobs jobs = jobs_of("[first]\nevery = day at 22:00\nstep = long\n[second]\nevery = day at 22:00\nstep = b\n");
  fake f = {.clock = at(2024, 6, 3, 21, 0), .step_seconds = 600};
  tick(fx->store, &jobs, &f);
  f.clock = at(2024, 6, 3, 22, 0) + 2;
  tick(fx->store, &jobs, &f);
  assert_int_equal(f.nran, 2);
  oc_job_run r = latest_run(fx->store, "first");
  assert_string_equal(r.trigger, "schedule");
  run_free(&r);
  r = latest_run(fx->store, "second");
  assert_string_equal(r.trigger, "schedule");
  assert_int_equal(r.slot, at(2024, 6, 3, 22, 0));
  run_free(&r);
  oc_jobs_free(&jobs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_on_time_catch_up_and_new_jobs, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_failing_step_stops_and_next_slot_retries, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_paused_job_waits, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_second_scheduler_never_doubles, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_dead_runner_abandoned, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_new_leader_abandons_former_leaders_runs, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_unrecorded_finish_abandoned_at_next_slot, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_output_not_utf8_kept, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_job_delayed_by_another_is_not_catch_up, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
