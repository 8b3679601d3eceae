/* step_process.c: see step_process.h. */
#include "schedule/step_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/progress.h"

#define KILL_GRACE_SECONDS 5.0

/* Appends data to the kept tail of the output (the last OC_STEP_OUTPUT_KEPT bytes). */
static void keep_tail(oc_step_outcome *out, size_t *kept, const char *data, size_t len) {
  if (len >= OC_STEP_OUTPUT_KEPT) {
    memcpy(out->output, data + len - OC_STEP_OUTPUT_KEPT, OC_STEP_OUTPUT_KEPT);
    *kept = OC_STEP_OUTPUT_KEPT;
  } else {
    size_t drop = *kept + len > OC_STEP_OUTPUT_KEPT ? *kept + len - OC_STEP_OUTPUT_KEPT : 0;
    memmove(out->output, out->output + drop, *kept - drop);
    memcpy(out->output + *kept - drop, data, len);
    *kept = *kept - drop + len;
  }
  out->output[*kept] = '\0';
}

static char **child_argv(const char *exe, const char *data_dir, const oc_job_step *step) {
  char **argv = oc_xcalloc(step->argc + 4, sizeof *argv);
  size_t n = 0;
  argv[n++] = (char *)exe;
  argv[n++] = step->argv[0];
  argv[n++] = "--data-dir";
  argv[n++] = (char *)data_dir;
  for (size_t i = 1; i < step->argc; i++) argv[n++] = step->argv[i];
  return argv;
}

void oc_step_process_run(const char *exe, const char *data_dir, const oc_job *job, const oc_job_step *step,
                         oc_step_outcome *out) {
  memset(out, 0, sizeof *out);
  double start = oc_monotonic_seconds();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(out->output, sizeof out->output, "cannot create a pipe: %s", strerror(errno));
    out->exit_code = 125;
    return;
  }
  char **argv = child_argv(exe, data_dir, step);
  pid_t child = fork();
  if (child == 0) {
    sigset_t none; /* the parent may block SIGTERM for its own sigwait: the step must not inherit that */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execv(exe, argv);
    /* only async-signal-safe calls between fork and exec: the parent may have threads */
    static const char failed[] = "cannot run the oilcast executable\n";
    ssize_t ignored = write(STDERR_FILENO, failed, sizeof failed - 1);
    (void)ignored;
    _exit(125);
  }
  free(argv);
  close(fds[1]);
  if (child < 0) {
    close(fds[0]);
    snprintf(out->output, sizeof out->output, "cannot start a process: %s", strerror(errno));
    out->exit_code = 125;
    return;
  }
  size_t kept = 0;
  bool timed_out = false, killed = false;
  double deadline = start + (double)job->step_timeout;
  for (;;) {
    double now = oc_monotonic_seconds();
    if (!timed_out && now >= deadline) {
      timed_out = true;
      kill(-child, SIGTERM);
      deadline = now + KILL_GRACE_SECONDS;
    } else if (timed_out && !killed && now >= deadline) {
      killed = true;
      kill(-child, SIGKILL);
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    int wait_ms = killed ? 1000 : (int)((deadline - now) * 1000) + 1;
    int ready = poll(&p, 1, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t got = read(fds[0], chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break; /* every writer (the step and its children) has closed the pipe */
    keep_tail(out, &kept, chunk, (size_t)got);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  out->seconds = oc_monotonic_seconds() - start;
  if (timed_out) out->exit_code = 124;
  else if (WIFSIGNALED(status)) out->exit_code = 128 + WTERMSIG(status);
  else out->exit_code = WEXITSTATUS(status);
}
