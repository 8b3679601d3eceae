/* scheduler.h: runs the jobs of a jobs file (jobs.h) at their slots, and records every run in the
 * store, so any process sharing the store sees the same history:
 *   - a run claims its slot in the store first (oc_store_job_run_start): a slot runs once even when
 *     several schedulers share the store, and runs of one job never overlap;
 *   - after downtime a job runs once for its latest missed slot ("catch-up"), not once per slot; a new
 *     job never runs for slots before it was first seen; a paused job does not run;
 *   - steps run in order; the first failing step (exit code other than 0, or past the job's
 *     step-timeout) stops the run, which is recorded "failed" with the reason; the next slot tries
 *     again. What each step did (exit code, seconds, the tail of its output) is kept with the run;
 *   - a "running" run whose process died (same host, process gone) is recorded "abandoned" so the
 *     job can run again; so is, when the caller leads (env->leads), a scheduled run of another runner
 *     (a former leader, which lost leadership: its host may be another, whose processes are not seen),
 *     and a run of the caller's own runner whose finish the store failed to record (seen when the
 *     caller starts the job again: a runner runs one job's runs one after another).
 * Time and steps come from an environment the caller supplies: the real clock and child processes
 * (service.h) in `oilcast run`, `oilcast serve` and `oilcast jobs run`, a simulated clock and recorded
 * steps in tests. When to tick is the caller's business (service.h sleeps until the next slot).
 * Prints nothing. */
#ifndef OC_SCHEDULE_SCHEDULER_H
#define OC_SCHEDULE_SCHEDULER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "schedule/jobs.h"
#include "store/store.h"

#define OC_STEP_OUTPUT_KEPT 2000 /* bytes of a step's output kept with its run (the end of it) */
/* A slot run more than this late is recorded as a catch-up (the scheduler was not up at the time). */
#define OC_SCHEDULER_ON_TIME_SECONDS 60

typedef struct oc_step_outcome {
  int exit_code;   /* 0 ok; 124 timed out; 125 could not be started; 128+N killed by signal N */
  double seconds;
  char output[OC_STEP_OUTPUT_KEPT + 1]; /* the last bytes of stdout and stderr, interleaved */
} oc_step_outcome;

typedef struct oc_scheduler_env {
  int64_t (*now)(void *ctx); /* Unix seconds */
  /* Runs one step of job to completion and fills *out. */
  void (*run_step)(void *ctx, const oc_job *job, const oc_job_step *step, oc_step_outcome *out);
  /* Called as each run finishes (may be NULL), e.g. to log it. */
  void (*finished)(void *ctx, const oc_job_run *run);
  void *ctx;
  const char *runner; /* who runs: "host:pid" (oc_scheduler_runner_id) */
  /* The caller holds the store's leadership now (service.c, while it leads): only the leader runs
   * scheduled jobs, so another runner's "running" scheduled run belongs to a leader that lost it. */
  bool leads;
} oc_scheduler_env;

/* "host:pid" of this process, into buf (sizeof ((oc_job_run *)0)->runner bytes). */
char *oc_scheduler_runner_id(char *buf);

/* Runs job now for slot with trigger ("schedule", "catch-up" or "manual"), when it can claim it;
 * *ran = false (and nothing happens) when another run holds the slot or the job. out (may be NULL)
 * receives the finished run (free its strings with oc_job_run_list_free(out, 1)-style: free error
 * and steps_json). Returns -1 only on a store error: a failing step is a "failed" run, not an error. */
int oc_scheduler_run_job(oc_store *store, const oc_job *job, const char *trigger, int64_t slot,
                         const oc_scheduler_env *env, bool *ran, oc_job_run *out, oc_error *err);

/* Runs every job that is due at env->now() (one run each, in file order) and sets *next to the
 * earliest slot after now among all jobs (INT64_MAX when there are none). */
int oc_scheduler_tick(oc_store *store, const oc_jobs *jobs, const oc_scheduler_env *env, int64_t *next, oc_error *err);

/* The next slot of job after now, for display (when it is paused too). */
int64_t oc_scheduler_next_slot(const oc_job *job, int64_t now);

/* What `oilcast jobs list` and GET /v1/jobs show: one record per job (job, schedule, steps, state
 * active/paused, last_status, last_started, next: times ISO 8601 UTC or null), a new JSON array; NULL
 * with err on a store error. */
json_t *oc_scheduler_describe(oc_store *store, const oc_jobs *jobs, int64_t now, oc_error *err);
/* One recorded run as JSON (id, job, trigger, slot, status, started, finished, seconds, error, steps). */
json_t *oc_job_run_json(const oc_job_run *run);

#endif
