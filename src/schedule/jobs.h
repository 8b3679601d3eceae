/* jobs.h: the jobs file of a data directory (DIR/jobs.conf): which jobs exist, when each runs and its
 * steps. One section per job; steps are oilcast command lines, run in order against the same data
 * directory; a step that fails stops its job:
 *
 *   # every trading day after the EIA publishes: fetch, rebuild features, forecast
 *   [daily-wti]
 *   every = trading-day at 22:00 UTC
 *   step = ingest --source market --provider eia --series WTI
 *   step = etl --series WTI
 *   step = forecast --endpoint wti
 *   step-timeout = 30m            # optional: a step running longer is stopped (default 1h)
 *
 * Words of a step are split on blanks; "double" or 'single' quotes keep blanks inside a word. Errors
 * name FILE:LINE. Parses only: what runs the steps is scheduler.h. */
#ifndef OC_SCHEDULE_JOBS_H
#define OC_SCHEDULE_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "schedule/schedule.h"
#include "store/store.h"

#define OC_JOBS_FILE "jobs.conf"
#define OC_JOB_STEP_TIMEOUT_DEFAULT 3600

typedef struct oc_job_step {
  char *text;  /* the line as written, for records and messages */
  char **argv; /* its words, NULL-terminated */
  size_t argc;
  size_t line; /* in the jobs file */
} oc_job_step;

typedef struct oc_job {
  char name[OC_JOB_NAME_MAX + 1];
  oc_schedule schedule;
  oc_job_step *steps;
  size_t nsteps;
  int64_t step_timeout; /* seconds */
  size_t line;          /* where the section starts */
  size_t every_line, step_timeout_line; /* where `every` and `step-timeout` are given; 0: not given */
} oc_job;

typedef struct oc_jobs {
  oc_job *jobs;
  size_t n;
} oc_jobs;

/* Reads path; a file that does not exist is no jobs (not an error). */
int oc_jobs_read(const char *path, oc_jobs *out, oc_error *err);
/* Parses text as the contents of a file named path (for messages). */
int oc_jobs_parse(const char *path, const char *text, oc_jobs *out, oc_error *err);
const oc_job *oc_jobs_find(const oc_jobs *jobs, const char *name);
void oc_jobs_free(oc_jobs *jobs);

#endif
