/* fc_stats.h: numerical helpers the forecasters and the backtest share: order statistics, normal and
 * Student-t distribution functions, and a bounded Nelder–Mead minimiser. Pure functions over caller
 * memory; must not allocate state that outlives a call or know about models. */
#ifndef OC_FC_STATS_H
#define OC_FC_STATS_H

#include <stddef.h>

#define OC_Z80 1.2815515655446004 /* standard normal 0.90 quantile: two-sided 80% */
#define OC_Z95 1.959963984540054  /* standard normal 0.975 quantile: two-sided 95% */

/* The k-th smallest (0-based) of x[0..n); reorders x. */
double oc_select_kth(double *x, size_t n, size_t k);

/* Two-sided p-value of a Student-t statistic with df degrees of freedom: P(|T| >= |t|). */
double oc_student_t_two_sided_p(double t, double df);

/* Minimises fn over the box lo <= x <= hi (dim <= 8) by Nelder–Mead on a logistic reparametrisation
 * (so every evaluated point is inside the box). x holds the start on entry (clamped inside) and the
 * minimiser on exit; returns the minimum. Deterministic: fixed initial simplex, fixed iteration cap. */
typedef double (*oc_objective)(const double *x, void *ctx);
double oc_nelder_mead_bounded(oc_objective fn, void *ctx, size_t dim, double *x, const double *lo, const double *hi,
                              int max_evals, double tol);

/* Minimises fn over [lo, hi] in one dimension (Brent's method: golden section with parabolic steps)
 * to within xtol; returns the minimum and the minimiser in *x. Deterministic. */
typedef double (*oc_objective_1d)(double x, void *ctx);
double oc_minimize_bounded_1d(oc_objective_1d fn, void *ctx, double lo, double hi, double xtol, double *x);

#endif
