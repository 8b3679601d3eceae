/* nested_ols.c: one QR factorisation, every nested order's SSE and AIC, the best order's coefficients
 * (nested_ols.h). Must not allocate beyond the call or know about models. */
#include "model/nested_ols.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "model/blas.h"

int oc_nested_ols_fit(double *a, size_t rows, size_t k0, size_t group, size_t max_order, oc_nested_ols *out,
                      oc_error *err) {
  size_t cols = k0 + group * max_order + 1;
  assert(cols <= OC_NESTED_OLS_MAX_COLS && rows >= cols);
  double tau[OC_NESTED_OLS_MAX_COLS];
  /* LAPACK's own column-major call, a workspace query first (callers build the design from finite
   * logs: no NaN scan of the whole matrix) */
  const oc_blas_lib *blas = oc_blas();
  const lapack_int m = (lapack_int)rows, n = (lapack_int)cols;
  lapack_int lwork = -1, info;
  double query;
  blas->dgeqrf(&m, &n, a, &m, tau, &query, &lwork, &info);
  double *work = NULL;
  if (info == 0) {
    lwork = (lapack_int)query;
    if (lwork < 1) lwork = 1;
    work = oc_xmalloc((size_t)lwork * sizeof *work);
    blas->dgeqrf(&m, &n, a, &m, tau, work, &lwork, &info);
  }
  free(work);
  if (info != 0) return oc_error_set(err, "least squares: QR factorisation failed (LAPACK dgeqrf info %d)", (int)info);
  const double *qty = a + (cols - 1) * rows; /* Q'y: the last column of R */
  out->aic = INFINITY;
  for (size_t p = 0; p <= max_order; p++) {
    size_t k = k0 + group * p;
    double sse = 0;
    for (size_t j = k; j < cols; j++) sse += qty[j] * qty[j];
    double aic = (double)rows * log(sse / (double)rows) + 2.0 * (double)k;
    if (aic < out->aic) {
      out->aic = aic;
      out->order = p;
      out->sse = sse;
    }
  }
  size_t k = out->k = k0 + group * out->order;
  for (size_t i = k; i-- > 0;) {
    double v = qty[i];
    for (size_t j = i + 1; j < k; j++) v -= a[j * rows + i] * out->beta[j];
    double diag = a[i * rows + i];
    if (diag == 0) return oc_error_set(err, "least squares: order %zu has collinear regressors (zero pivot in R)", out->order);
    out->beta[i] = v / diag;
  }
  return 0;
}
