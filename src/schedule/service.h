/* service.h: the scheduler as it runs for real, in `oilcast run` and inside `oilcast serve`: a thread
 * with its own store connection that reads DIR/jobs.conf (again whenever the file changes; a broken
 * file is reported and the jobs read before stay in force), runs what is due (scheduler.h) with the
 * real clock (or, for tests, the simulated one OILCAST_CLOCK names: clock.h) and steps as child
 * processes of the oilcast executable (step_process.h), and sleeps until the next slot, at most
 * OC_SCHEDULER_SERVICE_POLL_SECONDS (to notice pauses and file changes).
 * Several nodes on one store: only the one that holds the store's leadership (store.h,
 * leader_try_acquire: PostgreSQL's session advisory lock, SQLite's flock beside the database) runs jobs,
 * the monitor's steps among them; the others ask again every OC_SCHEDULER_LEADER_RETRY_SECONDS, so
 * when the leader dies (its session ends) another node runs the jobs within that time. A slot still
 * runs once even when two nodes both think they lead for a moment: job_run_start claims it atomically.
 * Logs each run and each problem through core/log. */
#ifndef OC_SCHEDULE_SERVICE_H
#define OC_SCHEDULE_SERVICE_H

#include "core/error.h"
#include "schedule/clock.h"
#include "schedule/scheduler.h"

#define OC_SCHEDULER_SERVICE_POLL_SECONDS 30
#define OC_SCHEDULER_LEADER_RETRY_SECONDS 1

/* The real environment for runs started by hand (`oilcast jobs run`): the clock, child processes of
 * exe on data_dir. ctx must outlive the env's use; its clock is the real one unless the caller points
 * it at another (the service: OILCAST_CLOCK). */
typedef struct oc_system_env_ctx {
  const char *exe, *data_dir;
  oc_clock *clock; /* NULL: the real clock */
  char runner[96];
} oc_system_env_ctx;
oc_scheduler_env oc_scheduler_system_env(oc_system_env_ctx *ctx, const char *exe, const char *data_dir);

/* The path of the running executable (malloc'd), for steps; NULL with err when unknown. */
char *oc_scheduler_own_executable(oc_error *err);

typedef struct oc_scheduler_service oc_scheduler_service;
/* Starts the thread. exe: the oilcast executable steps run as. Fails on a bad OILCAST_CLOCK. */
int oc_scheduler_service_start(const char *data_dir, const char *exe, oc_scheduler_service **out, oc_error *err);
/* Asks the thread to stop, waits for the run in progress (if any) to finish, and frees the service. */
void oc_scheduler_service_stop(oc_scheduler_service *s);

#endif
