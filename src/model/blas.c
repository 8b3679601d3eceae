/* blas.c: see blas.h. Loads libopenblas with dlopen on the first oc_blas() call, narrowed to one CPU
 * so that OpenBLAS starts no worker thread; must not keep the caller on that CPU afterwards. */
#include "model/blas.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/dynlib.h"

/* The soname upstream OpenBLAS and Debian's libopenblas0-* give the library (-lopenblas resolves to it) */
#define OPENBLAS_SONAME "libopenblas.so.0"
#define NAME_OF(symbol) NAME_OF_EXPANDED(symbol)
#define NAME_OF_EXPANDED(symbol) #symbol

static oc_blas_lib blas;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* OpenBLAS' constructor starts a thread pool sized by the calling thread's CPU affinity (one worker
 * per CPU but one, unless OPENBLAS_NUM_THREADS says otherwise). Each worker spins on sched_yield for
 * ~0.1 s of CPU before it sleeps, and openblas_set_num_threads(1) does not end it: it only stops
 * products from using it. oilcast holds OpenBLAS to one thread anyway (blas.h), so
 * no worker is wanted; setting OPENBLAS_NUM_THREADS would change the environment under other threads
 * and of every child. So the calling thread (only it: sched_setaffinity(0) names one thread) runs on
 * one CPU while the constructor runs, and gets its CPUs back right after. */
static void load(void) {
  cpu_set_t caller_cpus, one;
  bool narrowed = false;
  if (sched_getaffinity(0, sizeof caller_cpus, &caller_cpus) == 0 && CPU_COUNT(&caller_cpus) >= 2) {
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
      if (CPU_ISSET(cpu, &caller_cpus)) {
        CPU_SET(cpu, &one);
        break;
      }
    narrowed = sched_setaffinity(0, sizeof one, &one) == 0;
  }
  static const char *const names[] = {"openblas_get_num_threads", "openblas_set_num_threads", NAME_OF(LAPACK_dgeqrf)};
  void *fns[3];
  oc_error err;
  int rc = oc_dynlib_load(OPENBLAS_SONAME, "OpenBLAS; Debian package libopenblas0", names, fns, 3, &err);
  if (narrowed && sched_setaffinity(0, sizeof caller_cpus, &caller_cpus) != 0)
    perror("oilcast: warning: running on one CPU: cannot restore the CPU affinity after loading OpenBLAS");
  if (rc != 0) {
    fprintf(stderr, "oilcast: %s\n", err.message);
    abort();
  }
  blas = (oc_blas_lib){
      .get_num_threads = (__typeof__(blas.get_num_threads))fns[0],
      .set_num_threads = (__typeof__(blas.set_num_threads))fns[1],
      .dgeqrf = (__typeof__(blas.dgeqrf))fns[2],
  };
  blas.set_num_threads(1); /* OPENBLAS_NUM_THREADS, if set, is not oilcast's to follow (blas.h) */
}

const oc_blas_lib *oc_blas(void) {
  pthread_once(&blas_once, load);
  return &blas;
}
