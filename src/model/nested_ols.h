/* nested_ols.h: least squares for a family of nested regressions from one Householder QR (LAPACK
 * dgeqrf), the order chosen by AIC. The design holds k0 columns every order keeps, then max_order
 * groups of `group` columns (order p keeps the first p groups), then the response. With nested
 * regressors, the SSE of the first k columns is the sum of squares of the last column of R from row k
 * down, and their coefficients solve the leading k x k triangle of R against that column, so every
 * order is judged on the same rows at the cost of one factorisation. Used by `ar` and `arx`; pure
 * numerics, must not know about series or models. */
#ifndef OC_NESTED_OLS_H
#define OC_NESTED_OLS_H

#include <stddef.h>

#include "core/error.h"

#define OC_NESTED_OLS_MAX_COLS 96

typedef struct oc_nested_ols {
  size_t order;                         /* the chosen p */
  size_t k;                             /* its regressors: k0 + group * order */
  double beta[OC_NESTED_OLS_MAX_COLS];  /* their coefficients, in design order */
  double sse, aic;                      /* AIC = rows log(SSE/rows) + 2 k */
} oc_nested_ols;

/* a: rows x (k0 + group * max_order + 1) in column-major order (overwritten by the factorisation),
 * the response last. 0, or -1 with err (a failed factorisation, a zero pivot). */
int oc_nested_ols_fit(double *a, size_t rows, size_t k0, size_t group, size_t max_order, oc_nested_ols *out,
                      oc_error *err);

#endif
