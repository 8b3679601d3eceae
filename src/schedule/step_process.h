/* step_process.h: runs a job step for real: the oilcast executable as a child process, as
 * `EXE COMMAND --data-dir DIR ARGS...`, in its own process group, its stdout and stderr captured
 * (the last OC_STEP_OUTPUT_KEPT bytes kept), stopped (SIGTERM, then SIGKILL 5 s later) when it runs
 * past the job's step-timeout. A child process, not a call: a step that crashes or leaks cannot take
 * the scheduler (or the server it runs in) with it. */
#ifndef OC_SCHEDULE_STEP_PROCESS_H
#define OC_SCHEDULE_STEP_PROCESS_H

#include "schedule/scheduler.h"

void oc_step_process_run(const char *exe, const char *data_dir, const oc_job *job, const oc_job_step *step,
                         oc_step_outcome *out);

#endif
