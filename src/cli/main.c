/* main.c: the `oilcast` binary. Everything lives in liboilcast; this file only hands argv over, after
 * keeping OpenBLAS from starting a thread pool (below). Must not do any other work before main. */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"

/* OpenBLAS starts its thread pool in its library constructor, before main: one worker per CPU the
 * process may run on (its affinity mask) but one, unless OPENBLAS_NUM_THREADS says otherwise. Each
 * worker spins on sched_yield for ~0.1 s of CPU before it sleeps, in every `oilcast` process whatever
 * the command, and openblas_set_num_threads(1) (oc_blas_use_one_thread) does not end it: it only
 * stops products from using it. The project holds OpenBLAS to one thread anyway (determinism:
 * model/mlp.h), so no worker is wanted. Setting OPENBLAS_NUM_THREADS here cannot work: libc installs
 * the environment after the pre-initialisers run. So the executable's pre-initialiser, which the
 * dynamic linker runs before any library's constructor, narrows the main thread to one CPU; OpenBLAS
 * then sizes its pool to one thread (no worker), and main gives the thread its CPUs back before
 * anything else runs. */
static cpu_set_t caller_cpus;
static bool cpus_narrowed;

static void start_blas_without_workers(void) {
  if (sched_getaffinity(0, sizeof caller_cpus, &caller_cpus) != 0 || CPU_COUNT(&caller_cpus) < 2) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &caller_cpus)) {
      CPU_SET(cpu, &one);
      break;
    }
  cpus_narrowed = sched_setaffinity(0, sizeof one, &one) == 0;
}
__attribute__((used, section(".preinit_array"))) static void (*const preinit_blas)(void) = start_blas_without_workers;

int main(int argc, char **argv) {
  if (cpus_narrowed && sched_setaffinity(0, sizeof caller_cpus, &caller_cpus) != 0)
    perror("oilcast: warning: running on one CPU: cannot restore the CPU affinity it started with");
  return oc_cli_main(argc, argv);
}
