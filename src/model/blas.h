/* blas.h: OpenBLAS, loaded on first use, for LAPACK's QR factorisation (model/nested_ols.c; the
 * network's products are layers.c's own). Nothing links libopenblas: a command that never factorises
 * a matrix (ingest, serve, training a network, --version) does not pay its dynamic linking and
 * constructor (~16k relocations, a few ms of every process start). oc_blas() loads it once, from any
 * thread, without the worker thread its constructor would start (see blas.c), and hands out the few
 * entry points oilcast calls. Must not be bypassed: no other file calls cblas_, openblas_ or LAPACK
 * functions directly (they would not link). */
#ifndef OC_MODEL_BLAS_H
#define OC_MODEL_BLAS_H

#include <cblas.h>
#include <lapack.h>

typedef struct oc_blas_lib {
  __typeof__(openblas_get_num_threads) *get_num_threads;
  __typeof__(openblas_set_num_threads) *set_num_threads;
  /* LAPACK's dgeqrf as libopenblas exports it (what LAPACKE_dgeqrf_work called for column-major
   * input, checked with LD_DEBUG=bindings: the same function, so the same floats) */
  __typeof__(LAPACK_dgeqrf) *dgeqrf;
} oc_blas_lib;

/* The loaded library's entry points (never NULL), held to one thread: a factorisation takes its sums
 * in one order whatever the machine's core count (and oilcast's parallelism is across fits). A missing
 * libopenblas ends the process with the loader's message, as a missing NEEDED library did at start. */
const oc_blas_lib *oc_blas(void);

#endif
