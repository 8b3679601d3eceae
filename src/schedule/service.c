/* service.c: see service.h. Leadership: the thread runs jobs only while its own store connection
 * (leader_store, used for nothing else, so no job's write can lose it) holds the store's leadership
 * (oc_store_leader_try_acquire); a follower asks again every OC_SCHEDULER_LEADER_RETRY_SECONDS of real
 * time, and the leader asks again before every tick. It never decides which job runs: scheduler.c does. */
#include "schedule/service.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/lock.h"
#include "schedule/step_process.h"
#include "store/datadir.h"

static int64_t env_now(void *ctx) {
  const oc_system_env_ctx *c = ctx;
  return c->clock ? oc_clock_now(c->clock) : (int64_t)time(NULL);
}

static void run_child_step(void *ctx, const oc_job *job, const oc_job_step *step, oc_step_outcome *out) {
  const oc_system_env_ctx *c = ctx;
  oc_step_process_run(c->exe, c->data_dir, job, step, out);
}

static void log_finished(void *ctx, const oc_job_run *run) {
  (void)ctx;
  if (strcmp(run->status, "ok") == 0)
    oc_info("job %s: %s run %lld ok in %lld s", run->job, run->trigger, (long long)run->id,
            (long long)(run->finished_at - run->started_at));
  else
    oc_warn("job %s: %s run %lld %s: %s", run->job, run->trigger, (long long)run->id, run->status, run->error);
}

oc_scheduler_env oc_scheduler_system_env(oc_system_env_ctx *ctx, const char *exe, const char *data_dir) {
  ctx->exe = exe;
  ctx->data_dir = data_dir;
  ctx->clock = NULL;
  oc_scheduler_runner_id(ctx->runner);
  return (oc_scheduler_env){.now = env_now, .run_step = run_child_step, .finished = log_finished, .ctx = ctx,
                            .runner = ctx->runner};
}

char *oc_scheduler_own_executable(oc_error *err) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) {
    oc_error_errno(err, "cannot find the running executable (/proc/self/exe)");
    return NULL;
  }
  path[n] = '\0';
  return oc_xstrdup(path);
}

typedef enum leader_role { ROLE_UNKNOWN, ROLE_LEADER, ROLE_FOLLOWER, ROLE_FAILING } leader_role;

struct oc_scheduler_service {
  char *data_dir, *jobs_path, *exe;
  oc_store *store;
  oc_store *leader_store; /* holds leadership while this node leads; used for nothing else */
  leader_role role;       /* as last found (its changes are logged) */
  oc_jobs jobs;
  struct timespec jobs_mtime; /* of the file as last read; {0} when absent */
  oc_clock clock;
  oc_system_env_ctx env_ctx;
  oc_scheduler_env env;
  oc_lock lock; /* guards stopping */
  pthread_cond_t wake;
  bool stopping;
  pthread_t thread;
};

/* Waits until t (Unix seconds on the service's clock) or a stop; false when stopping. A simulated
 * clock is read again every OC_CLOCK_SIMULATED_POLL_SECONDS of real time. */
static bool sleep_until(oc_scheduler_service *s, int64_t t) {
  oc_lock_acquire(&s->lock);
  while (!s->stopping && oc_clock_now(&s->clock) < t) {
    struct timespec until = {(time_t)t, 0};
    if (oc_clock_simulated(&s->clock)) {
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += (long)(OC_CLOCK_SIMULATED_POLL_SECONDS * 1e9);
      if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    }
    oc_lock_wait_until(&s->lock, &s->wake, &until);
  }
  bool go_on = !s->stopping;
  oc_lock_release(&s->lock);
  return go_on;
}

/* Reads the jobs file again when it changed (or appeared, or went away). */
static void reload_jobs(oc_scheduler_service *s) {
  struct stat st;
  struct timespec mtime = {0};
  if (stat(s->jobs_path, &st) == 0) mtime = st.st_mtim;
  if (mtime.tv_sec == s->jobs_mtime.tv_sec && mtime.tv_nsec == s->jobs_mtime.tv_nsec) return;
  oc_jobs fresh;
  oc_error err;
  if (oc_jobs_read(s->jobs_path, &fresh, &err) != 0) {
    oc_warn("scheduler: %s (the jobs read before stay in force)", err.message);
  } else {
    oc_jobs_free(&s->jobs);
    s->jobs = fresh;
    oc_info("scheduler: %zu job(s) from %s", s->jobs.n, s->jobs_path);
  }
  s->jobs_mtime = mtime;
}

/* Waits seconds of real time (whatever the service's clock) or a stop; false when stopping. */
static bool sleep_real(oc_scheduler_service *s, double seconds) {
  assert(seconds > 0);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)seconds;
  until.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  oc_lock_acquire(&s->lock);
  if (!s->stopping) oc_lock_wait_until(&s->lock, &s->wake, &until);
  bool go_on = !s->stopping;
  oc_lock_release(&s->lock);
  return go_on;
}

/* Whether this node leads now (taking leadership when nobody holds it); logs when that changes. A
 * store that cannot say counts as not leading: jobs wait rather than risk a second runner. */
static bool lead(oc_scheduler_service *s) {
  bool leader = false;
  oc_error err;
  int rc = oc_store_leader_try_acquire(s->leader_store, &leader, &err);
  leader_role role = rc != 0 ? ROLE_FAILING : leader ? ROLE_LEADER : ROLE_FOLLOWER;
  if (role != s->role) {
    if (role == ROLE_LEADER) oc_info("scheduler: this node leads: it runs the jobs of %s", s->data_dir);
    else if (role == ROLE_FAILING) oc_warn("scheduler: cannot take or confirm leadership, jobs wait: %s", err.message);
    else if (s->role == ROLE_LEADER) oc_warn("scheduler: this node no longer leads; another node runs the jobs");
    else oc_info("scheduler: another node leads the jobs of %s; trying every %d s", s->data_dir,
                 OC_SCHEDULER_LEADER_RETRY_SECONDS);
  }
  s->role = role;
  s->env.leads = role == ROLE_LEADER;
  return s->env.leads;
}

static void *service_main(void *arg) {
  oc_scheduler_service *s = arg;
  for (;;) {
    if (s->role != ROLE_LEADER && !lead(s)) {
      if (!sleep_real(s, OC_SCHEDULER_LEADER_RETRY_SECONDS)) break;
      continue;
    }
    reload_jobs(s);
    int64_t next;
    oc_error err;
    if (oc_scheduler_tick(s->store, &s->jobs, &s->env, &next, &err) != 0) {
      oc_warn("scheduler: %s", err.message);
      next = INT64_MAX;
    }
    int64_t poll = oc_clock_now(&s->clock) + OC_SCHEDULER_SERVICE_POLL_SECONDS;
    if (!sleep_until(s, next < poll ? next : poll)) break;
    lead(s); /* still the leader? (a lost connection loses leadership) */
  }
  return NULL;
}

static void service_free(oc_scheduler_service *s) {
  if (s->store) oc_store_close(s->store);
  if (s->leader_store) oc_store_close(s->leader_store); /* gives leadership up */
  oc_jobs_free(&s->jobs);
  oc_clock_free(&s->clock);
  pthread_cond_destroy(&s->wake);
  oc_lock_destroy(&s->lock);
  free(s->data_dir);
  free(s->jobs_path);
  free(s->exe);
  free(s);
}

int oc_scheduler_service_start(const char *data_dir, const char *exe, oc_scheduler_service **out, oc_error *err) {
  oc_scheduler_service *s = oc_xcalloc(1, sizeof *s);
  s->data_dir = oc_xstrdup(data_dir);
  s->exe = oc_xstrdup(exe);
  s->jobs_path = oc_path_join(data_dir, OC_JOBS_FILE);
  oc_lock_init(&s->lock);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_cond_init(&s->wake, &attr); /* CLOCK_REALTIME: slots are wall-clock times */
  pthread_condattr_destroy(&attr);
  s->env = oc_scheduler_system_env(&s->env_ctx, s->exe, s->data_dir);
  s->env_ctx.clock = &s->clock;
  if (oc_clock_init(&s->clock, getenv(OC_CLOCK_ENV), err) != 0) {
    service_free(s);
    return -1;
  }
  if (oc_clock_simulated(&s->clock)) oc_warn("scheduler: SIMULATED time from %s (%s, a test facility)", s->clock.file, OC_CLOCK_ENV);
  if (oc_datadir_open(data_dir, &s->store, err) != 0) {
    s->store = NULL;
    service_free(s);
    return -1;
  }
  s->leader_store = oc_store_open(s->store->uri, err);
  if (!s->leader_store) {
    service_free(s);
    return -1;
  }
  if (pthread_create(&s->thread, NULL, service_main, s) != 0) {
    service_free(s);
    return oc_error_set(err, "cannot start the scheduler thread");
  }
  *out = s;
  return 0;
}

void oc_scheduler_service_stop(oc_scheduler_service *s) {
  if (!s) return;
  oc_lock_acquire(&s->lock);
  s->stopping = true;
  pthread_cond_broadcast(&s->wake);
  oc_lock_release(&s->lock);
  pthread_join(s->thread, NULL);
  service_free(s);
}
