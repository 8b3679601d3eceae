/* cmd_jobs.c: `oilcast jobs`: the jobs of the data directory's jobs file (schedule/jobs.h) and their
 * runs, as the store records them: list (with the last run and the next slot), run one now, history,
 * pause and resume, check the file. The scheduler itself is `oilcast run` (cmd_run.c). */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "schedule/service.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_jobs = {
    .name = "jobs", .summary = "list, run, pause and check scheduled jobs and show their runs",
    .usage = "Usage: oilcast jobs list [--format table|csv|json]\n"
    "       oilcast jobs run NAME            run the job now (a manual run), step by step\n"
    "       oilcast jobs history [NAME] [--last N] [--format table|csv|json]\n"
    "       oilcast jobs pause NAME | resume NAME\n"
    "       oilcast jobs check               check DIR/jobs.conf and the commands its steps name\n\n"
    "Jobs are defined in DIR/jobs.conf, one [name] section per job:\n"
    "  [daily-wti]\n"
    "  every = trading-day at 22:00 UTC      # or: day at 06:00 +01:00 | monday,thursday at 07:30 | 15m\n"
    "  step = ingest --source historical --csv-path /data/wti.csv --series WTI\n"
    "  step = etl --series WTI\n"
    "  step = forecast --endpoint wti\n"
    "  step-timeout = 30m                    # optional (default 1h)\n"
    "Steps are oilcast commands run against the same data directory, in order; the first that fails\n"
    "stops the run. `oilcast run` (or `oilcast serve`) runs the jobs at their times; a run missed while\n"
    "nothing ran is caught up once; a slot never runs twice, and runs of one job never overlap, even\n"
    "with several schedulers on one store. Every run is recorded with what each step printed.\n",
    .run = run};

enum { OPT_FORMAT = 1, OPT_LAST };

static int load_jobs(const oc_cli *cli, oc_jobs *jobs) {
  char *path = oc_path_join(cli->data_dir, OC_JOBS_FILE);
  oc_error err;
  int rc = oc_jobs_read(path, jobs, &err);
  if (rc != 0) oc_err("%s", err.message);
  free(path);
  return rc;
}

static const oc_job *find_job(const oc_jobs *jobs, const char *name, const oc_cli *cli) {
  const oc_job *job = oc_jobs_find(jobs, name);
  if (!job) oc_err("no job named '%s' in %s/%s (%zu jobs there)", name, cli->data_dir, OC_JOBS_FILE, jobs->n);
  return job;
}

static int jobs_list(oc_store *store, const oc_jobs *jobs, oc_cli_format fmt) {
  oc_error err;
  json_t *records = oc_scheduler_describe(store, jobs, (int64_t)time(NULL), &err);
  if (!records) return oc_cli_runtime_error("%s", err.message);
  if (fmt != OC_CLI_TABLE) {
    oc_cli_print_records(records, fmt);
  } else if (jobs->n == 0) {
    printf("no jobs (define them in the data directory's %s: oilcast jobs --help)\n", OC_JOBS_FILE);
  } else {
    printf("%-20s %-40s %5s  %-7s %-9s %-20s %-20s\n", "job", "schedule", "steps", "state", "last", "last started", "next");
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r) {
      const char *last = json_string_value(json_object_get(r, "last_status"));
      const char *started = json_string_value(json_object_get(r, "last_started"));
      const char *next = json_string_value(json_object_get(r, "next"));
      printf("%-20s %-40s %5lld  %-7s %-9s %-20s %-20s\n", json_string_value(json_object_get(r, "job")),
             json_string_value(json_object_get(r, "schedule")), (long long)json_integer_value(json_object_get(r, "steps")),
             json_string_value(json_object_get(r, "state")), last ? last : "-", started ? started : "-", next ? next : "-");
    }
  }
  json_decref(records);
  return OC_EXIT_OK;
}

static int jobs_history(oc_store *store, const char *name, long last, oc_cli_format fmt) {
  oc_job_run *runs;
  size_t n;
  oc_error err;
  if (oc_store_job_runs_list(store, name, NULL, (size_t)last, &runs, &n, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  json_t *records = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *r = oc_job_run_json(&runs[i]);
    if (fmt == OC_CLI_CSV) json_object_del(r, "steps"); /* nested: JSON only */
    json_array_append_new(records, r);
  }
  if (fmt != OC_CLI_TABLE) {
    oc_cli_print_records(records, fmt);
  } else {
    printf("%6s  %-20s %-9s %-20s %-9s %7s  %s\n", "run", "job", "trigger", "slot", "status", "seconds", "error");
    for (size_t i = 0; i < n; i++) {
      const oc_job_run *r = &runs[i];
      char slot[OC_TIMESTAMP_STRLEN];
      printf("%6lld  %-20s %-9s %-20s %-9s %7lld  %s\n", (long long)r->id, r->job, r->trigger,
             oc_timestamp_format(r->slot, slot), r->status,
             r->finished_at ? (long long)(r->finished_at - r->started_at) : 0LL, r->error ? r->error : "");
    }
  }
  json_decref(records);
  oc_job_run_list_free(runs, n);
  return OC_EXIT_OK;
}

static int jobs_run_now(oc_cli *cli, oc_store *store, const oc_job *job) {
  oc_error err;
  char *exe = oc_scheduler_own_executable(&err);
  if (!exe) return oc_cli_runtime_error("%s", err.message);
  oc_system_env_ctx ctx;
  oc_scheduler_env env = oc_scheduler_system_env(&ctx, exe, cli->data_dir);
  env.finished = NULL; /* reported below, once */
  bool ran;
  oc_job_run run;
  int failed = oc_scheduler_run_job(store, job, "manual", env.now(env.ctx), &env, &ran, &run, &err);
  free(exe);
  if (failed) return oc_cli_runtime_error("%s", err.message);
  if (!ran) return oc_cli_runtime_error("job %s is running already (oilcast jobs history %s)", job->name, job->name);
  int rc = strcmp(run.status, "ok") == 0 ? OC_EXIT_OK : OC_EXIT_RUNTIME;
  if (rc == OC_EXIT_OK) {
    printf("job %s: run %lld ok in %lld s (%zu steps; oilcast jobs history %s --format json shows their output)\n",
           job->name, (long long)run.id, (long long)(run.finished_at - run.started_at), job->nsteps, job->name);
  } else {
    json_error_t error;
    json_t *steps = json_loads(run.steps_json, 0, &error);
    const char *output = json_string_value(json_object_get(json_array_get(steps, json_array_size(steps) - 1), "output"));
    oc_err("job %s failed: %s", job->name, run.error);
    if (output && *output) fprintf(stderr, "--- output of the failing step (its end) ---\n%s", output);
    json_decref(steps);
  }
  free(run.error);
  free(run.steps_json);
  return rc;
}

/* Every step names a command of this oilcast (a step that sets its own data directory is refused
 * when the file is read: oc_jobs_read). */
static int jobs_check(const oc_cli *cli, const oc_jobs *jobs) {
  int problems = 0;
  for (size_t i = 0; i < jobs->n; i++) {
    const oc_job *job = &jobs->jobs[i];
    for (size_t s = 0; s < job->nsteps; s++) {
      const oc_job_step *step = &job->steps[s];
      bool known = false;
      for (const oc_command *const *c = oc_commands; *c && !known; c++) known = strcmp((*c)->name, step->argv[0]) == 0;
      if (!known) {
        oc_err("%s/%s:%zu: job %s, step %zu: '%s' is not an oilcast command", cli->data_dir, OC_JOBS_FILE, step->line,
               job->name, s + 1, step->argv[0]);
        problems++;
      }
    }
  }
  if (problems) return OC_EXIT_RUNTIME;
  printf("%s/%s: %zu jobs, all valid\n", cli->data_dir, OC_JOBS_FILE, jobs->n);
  return OC_EXIT_OK;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {
      {"format", required_argument, NULL, OPT_FORMAT}, {"last", required_argument, NULL, OPT_LAST}, OC_CLI_COMMON_OPTIONS, {0}};
  oc_cli_format fmt = OC_CLI_TABLE;
  long last = 20;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_FORMAT) {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(&oc_cmd_jobs, "--format must be table, csv or json, not '%s'", optarg);
    } else if (opt == OPT_LAST) {
      if (oc_cli_parse_int(optarg, 1, 1000000, &last) != 0)
        return oc_cli_usage_error(&oc_cmd_jobs, "--last must be a whole number in 1..1000000, not '%s'", optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_jobs, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_jobs);
    }
  }
  const char *action = optind < argc ? argv[optind++] : NULL;
  const char *name = optind < argc ? argv[optind++] : NULL;
  static const char *const actions[] = {"list", "run", "history", "pause", "resume", "check", NULL};
  bool known = false;
  for (const char *const *a = actions; action && *a && !known; a++) known = strcmp(*a, action) == 0;
  if (!known) return oc_cli_usage_error(&oc_cmd_jobs, "expected list, run, history, pause, resume or check%s%s%s",
                                        action ? ", not '" : "", action ? action : "", action ? "'" : "");
  bool needs_name = strcmp(action, "run") == 0 || strcmp(action, "pause") == 0 || strcmp(action, "resume") == 0;
  bool takes_name = needs_name || strcmp(action, "history") == 0;
  if (needs_name && !name) return oc_cli_usage_error(&oc_cmd_jobs, "jobs %s needs a job name", action);
  if (name && !takes_name) return oc_cli_usage_error(&oc_cmd_jobs, "unexpected argument '%s'", name);
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_jobs, "unexpected argument '%s'", argv[optind]);
  oc_jobs jobs;
  if (load_jobs(cli, &jobs) != 0) return OC_EXIT_RUNTIME;
  if (strcmp(action, "check") == 0) {
    int rc = jobs_check(cli, &jobs);
    oc_jobs_free(&jobs);
    return rc;
  }
  const oc_job *job = NULL;
  if (needs_name && !(job = find_job(&jobs, name, cli))) {
    oc_jobs_free(&jobs);
    return OC_EXIT_RUNTIME;
  }
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) {
    oc_jobs_free(&jobs);
    return OC_EXIT_RUNTIME;
  }
  oc_error err;
  int rc;
  if (strcmp(action, "list") == 0) {
    rc = jobs_list(store, &jobs, fmt);
  } else if (strcmp(action, "history") == 0) {
    rc = jobs_history(store, name, last, fmt);
  } else if (strcmp(action, "run") == 0) {
    rc = jobs_run_now(cli, store, job);
  } else {
    bool pause = strcmp(action, "pause") == 0;
    rc = oc_store_job_pause(store, job->name, pause, (int64_t)time(NULL), &err) == 0
             ? (printf("job %s %s\n", job->name, pause ? "paused" : "resumed"), OC_EXIT_OK)
             : oc_cli_runtime_error("%s", err.message);
  }
  oc_store_close(store);
  oc_jobs_free(&jobs);
  return rc;
}
