/* cmd_run.c: `oilcast run`: the scheduler alone (schedule/service.h), for a node that runs the jobs
 * of its data directory without serving the API. Runs until SIGINT or SIGTERM; a run in progress is
 * finished first. */
#include <signal.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "schedule/jobs.h"
#include "schedule/service.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_run = {
    .name = "run", .summary = "run the scheduled jobs of the data directory (the scheduler, without the API)",
    .usage = "Usage: oilcast run [--data-dir DIR]\n"
    "Runs the jobs of DIR/jobs.conf at their times (see `oilcast jobs --help` for the file) until\n"
    "SIGINT or SIGTERM, finishing a run in progress first. The file is read again when it changes.\n"
    "`oilcast serve` runs the same scheduler. Of several schedulers on one store only the leader runs\n"
    "jobs; the others stand by and one takes over within a second or two when it dies.\n",
    .run = run};

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {OC_CLI_COMMON_OPTIONS, {0}};
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    int handled = oc_cli_common_option(cli, &oc_cmd_run, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_unknown_option(&oc_cmd_run);
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_run, "unexpected argument '%s'", argv[optind]);
  oc_error err;
  char *exe = oc_scheduler_own_executable(&err);
  if (!exe) return oc_cli_runtime_error("%s", err.message);
  sigset_t stop;
  oc_cli_block_stop_signals(&stop);
  oc_scheduler_service *service;
  if (oc_scheduler_service_start(cli->data_dir, exe, &service, &err) != 0) {
    free(exe);
    return oc_cli_runtime_error("%s", err.message);
  }
  oc_info("scheduler running on %s (jobs in %s/%s); stop with Ctrl-C or SIGTERM", cli->data_dir, cli->data_dir,
          OC_JOBS_FILE);
  int sig;
  sigwait(&stop, &sig);
  oc_info("stopping the scheduler (a run in progress is finished first)");
  oc_scheduler_service_stop(service);
  free(exe);
  return OC_EXIT_OK;
}
