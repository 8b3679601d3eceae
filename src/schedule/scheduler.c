/* scheduler.c: see scheduler.h. */
#include "schedule/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "core/publish.h"
#include "core/json.h"
#include "core/log.h"
#include "core/utf8.h"

char *oc_scheduler_runner_id(char *buf) {
  char host[64] = "localhost";
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  snprintf(buf, sizeof ((oc_job_run *)0)->runner, "%s:%ld", host, (long)getpid());
  return buf;
}

int64_t oc_scheduler_next_slot(const oc_job *job, int64_t now) { return oc_schedule_next(&job->schedule, now); }

/* Why a "running" run of job is dead, or NULL while it may still be going: it is this caller's own
 * (a runner runs a job's runs one after another, and it is about to start the job again: the store
 * failed to record how that run ended); its process is gone (a runner on this host whose pid no
 * longer exists: any store, single node included); or, when this caller leads, it is a scheduled run
 * (not "manual") of another runner: only the leader starts scheduled runs, so that runner led before
 * and has lost leadership (on another host, whose pids this one cannot see). A manual run of another
 * runner may be alive on any node, so it is left alone. */
static const char *why_dead(const oc_job_run *r, const char *me, size_t host_len, const oc_scheduler_env *env) {
  const char *colon = strrchr(r->runner, ':');
  bool same_host = colon && (size_t)(colon - r->runner) == host_len && strncmp(r->runner, me, host_len) == 0;
  long pid = colon ? strtol(colon + 1, NULL, 10) : 0;
  if (strcmp(r->runner, env->runner) == 0) return "its runner went on without recording how it ended";
  if (same_host && oc_process_gone(pid)) return "the process running it ended before it finished";
  if (env->leads && strcmp(r->trigger, "manual") != 0 && strcmp(r->runner, env->runner) != 0)
    return "the leader running it lost its leadership (another node leads now)";
  return NULL;
}

/* Marks the job's "running" runs that are dead (why_dead) as abandoned. */
static int abandon_dead_runs(oc_store *store, const char *job, const oc_scheduler_env *env, oc_error *err) {
  oc_job_run *runs;
  size_t n;
  if (oc_store_job_runs_list(store, job, "running", 16, &runs, &n, err) != 0) return -1;
  char me[sizeof runs->runner];
  oc_scheduler_runner_id(me);
  size_t host_len = (size_t)(strrchr(me, ':') - me);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    oc_job_run *r = &runs[i];
    const char *why = why_dead(r, me, host_len, env);
    if (!why) continue;
    snprintf(r->status, sizeof r->status, "abandoned");
    r->finished_at = env->now(env->ctx);
    free(r->error);
    r->error = oc_xstrdup(why);
    rc = oc_store_job_run_finish(store, r, err);
  }
  oc_job_run_list_free(runs, n);
  return rc;
}

static json_t *step_record(const oc_job_step *step, const oc_step_outcome *o) {
  return json_pack("{s:s, s:i, s:o, s:s}", "step", step->text, "exit_code", o->exit_code, "seconds",
                   oc_json_number(o->seconds), "output", o->output);
}

/* The step's output made text that a record can hold: a step may print bytes that are no UTF-8, and
 * the kept tail may begin inside a character; either made the step's record (json_pack refuses such a
 * string) and the run's JSON vanish. Output that is UTF-8 stays as it is; otherwise bad bytes (and
 * control characters) become \xNN (oc_printable), and the end is kept. */
static void output_mend(oc_step_outcome *o) {
  if (oc_utf8_valid(o->output)) return;
  size_t cap = 4 * sizeof o->output + 8; /* a byte becomes at most 4 ("\xNN") */
  char *text = oc_xmalloc(cap);
  oc_printable(text, cap, o->output);
  size_t len = strlen(text), start = len > OC_STEP_OUTPUT_KEPT ? len - OC_STEP_OUTPUT_KEPT : 0;
  while (((unsigned char)text[start] & 0xc0) == 0x80) start++; /* not from inside a character */
  memcpy(o->output, text + start, len - start + 1);
  free(text);
}

/* The last line of a step's (mended) output: the part of a failure message that usually says why; a
 * line too long for cap is cut between characters, never inside one. */
static void last_line(const char *output, char *line, size_t cap) {
  size_t len = strlen(output);
  while (len && (output[len - 1] == '\n' || output[len - 1] == '\r')) len--;
  size_t start = len;
  while (start && output[start - 1] != '\n') start--;
  size_t kept = len - start < cap ? len - start : cap - 1;
  while (kept < len - start && ((unsigned char)output[start + kept] & 0xc0) == 0x80) kept--;
  snprintf(line, cap, "%.*s", (int)kept, output + start);
}

static char *failure_reason(size_t index, const oc_job_step *step, const oc_step_outcome *o, int64_t timeout) {
  oc_buf why = {0};
  char line[400];
  last_line(o->output, line, sizeof line);
  if (o->exit_code == 124)
    oc_buf_printf(&why, "step %zu (%s) ran past the job's step-timeout of %lld s", index + 1, step->text, (long long)timeout);
  else if (o->exit_code == 125)
    oc_buf_printf(&why, "step %zu (%s) could not be started", index + 1, step->text);
  else if (o->exit_code > 128)
    oc_buf_printf(&why, "step %zu (%s) was killed by signal %d", index + 1, step->text, o->exit_code - 128);
  else
    oc_buf_printf(&why, "step %zu (%s) exited with %d", index + 1, step->text, o->exit_code);
  if (*line) oc_buf_printf(&why, ": %s", line);
  return oc_buf_steal(&why);
}

int oc_scheduler_run_job(oc_store *store, const oc_job *job, const char *trigger, int64_t slot,
                         const oc_scheduler_env *env, bool *ran, oc_job_run *out, oc_error *err) {
  *ran = false;
  if (abandon_dead_runs(store, job->name, env, err) != 0) return -1;
  oc_job_run run = {.slot = slot, .started_at = env->now(env->ctx)};
  snprintf(run.job, sizeof run.job, "%s", job->name);
  snprintf(run.trigger, sizeof run.trigger, "%s", trigger);
  snprintf(run.runner, sizeof run.runner, "%s", env->runner);
  bool claimed;
  if (oc_store_job_run_start(store, &run, &claimed, err) != 0) return -1;
  if (!claimed) return 0;
  *ran = true;
  json_t *steps = json_array();
  oc_step_outcome *outcome = oc_xmalloc(sizeof *outcome);
  for (size_t i = 0; i < job->nsteps && !run.error; i++) {
    memset(outcome, 0, sizeof *outcome);
    env->run_step(env->ctx, job, &job->steps[i], outcome);
    output_mend(outcome);
    json_array_append_new(steps, step_record(&job->steps[i], outcome));
    if (outcome->exit_code != 0) run.error = failure_reason(i, &job->steps[i], outcome, job->step_timeout);
  }
  free(outcome);
  snprintf(run.status, sizeof run.status, "%s", run.error ? "failed" : "ok");
  run.finished_at = env->now(env->ctx);
  run.steps_json = oc_json_dumps(steps, OC_JSON_COMPACT);
  json_decref(steps);
  int rc = oc_store_job_run_finish(store, &run, err);
  if (rc == 0 && env->finished) env->finished(env->ctx, &run);
  if (out) {
    *out = run;
  } else {
    free(run.error);
    free(run.steps_json);
  }
  return rc;
}

/* Whether job is due at now, and for which slot and trigger. tick_start is when the tick began: a job
 * that waited for the jobs before it in this tick is late because of them, not because the scheduler
 * was down, so only a slot already OC_SCHEDULER_ON_TIME_SECONDS old then is a catch-up. */
static int due(oc_store *store, const oc_job *job, int64_t now, int64_t tick_start, int64_t *slot,
               const char **trigger, oc_error *err) {
  oc_job_state state;
  int64_t last;
  *slot = 0;
  if (oc_store_job_state_get(store, job->name, now, &state, err) != 0) return -1;
  if (state.paused) return 0;
  int64_t latest = oc_schedule_latest(&job->schedule, now);
  if (latest < state.first_seen) return 0; /* a new job does not run for the past */
  if (oc_store_job_last_slot(store, job->name, &last, err) != 0) return -1;
  if (latest <= last) return 0;
  *slot = latest;
  *trigger = tick_start - latest > OC_SCHEDULER_ON_TIME_SECONDS ? "catch-up" : "schedule";
  return 0;
}

int oc_scheduler_tick(oc_store *store, const oc_jobs *jobs, const oc_scheduler_env *env, int64_t *next, oc_error *err) {
  *next = INT64_MAX;
  int64_t tick_start = env->now(env->ctx);
  for (size_t i = 0; i < jobs->n; i++) {
    const oc_job *job = &jobs->jobs[i];
    int64_t slot;
    const char *trigger;
    bool ran;
    if (due(store, job, env->now(env->ctx), tick_start, &slot, &trigger, err) != 0) return -1;
    if (slot && oc_scheduler_run_job(store, job, trigger, slot, env, &ran, NULL, err) != 0) return -1;
  }
  int64_t now = env->now(env->ctx);
  for (size_t i = 0; i < jobs->n; i++) {
    int64_t t = oc_scheduler_next_slot(&jobs->jobs[i], now);
    if (t < *next) *next = t;
  }
  return 0;
}

static json_t *time_or_null(int64_t t) {
  char text[OC_TIMESTAMP_STRLEN];
  return t > 0 && t < INT64_MAX ? json_string(oc_timestamp_format(t, text)) : json_null();
}

json_t *oc_scheduler_describe(oc_store *store, const oc_jobs *jobs, int64_t now, oc_error *err) {
  json_t *records = json_array();
  for (size_t i = 0; i < jobs->n; i++) {
    const oc_job *job = &jobs->jobs[i];
    oc_job_run *last = NULL;
    size_t n = 0;
    oc_job_state state;
    if (oc_store_job_runs_list(store, job->name, NULL, 1, &last, &n, err) != 0 ||
        oc_store_job_state_get(store, job->name, now, &state, err) != 0) {
      json_decref(records);
      return NULL;
    }
    char schedule[OC_SCHEDULE_STRLEN];
    json_array_append_new(records, json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:o}", "job", job->name, "schedule",
                                             oc_schedule_format(&job->schedule, schedule), "steps",
                                             (json_int_t)job->nsteps, "state", state.paused ? "paused" : "active",
                                             "last_status", n ? json_string(last->status) : json_null(), "last_started",
                                             time_or_null(n ? last->started_at : 0), "next",
                                             time_or_null(state.paused ? 0 : oc_scheduler_next_slot(job, now))));
    oc_job_run_list_free(last, n);
  }
  return records;
}

json_t *oc_job_run_json(const oc_job_run *r) {
  char slot[OC_TIMESTAMP_STRLEN];
  json_error_t error;
  json_t *steps = json_loads(r->steps_json ? r->steps_json : "[]", 0, &error);
  return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o}", "id", (json_int_t)r->id, "job", r->job, "trigger",
                   r->trigger, "slot", oc_timestamp_format(r->slot, slot), "status", r->status, "started",
                   time_or_null(r->started_at), "finished", time_or_null(r->finished_at), "seconds",
                   r->finished_at ? json_integer(r->finished_at - r->started_at) : json_null(), "error",
                   r->error ? r->error : "", "steps", steps ? steps : json_array());
}
