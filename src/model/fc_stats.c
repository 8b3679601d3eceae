/* fc_stats.c: order statistics, the incomplete beta / Student-t tail, and a bounded Nelder–Mead.
 * See fc_stats.h. Written from the textbook definitions (Lentz's continued fraction for the
 * incomplete beta; Nelder & Mead 1965 with the usual 1, 2, 1/2, 1/2 coefficients; Brent 1973 for
 * bounded scalar minimisation). */
#include "model/fc_stats.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

static void swap_doubles(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

double oc_select_kth(double *x, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    swap_doubles(&x[lo + (hi - lo) / 2], &x[hi]);
    double pivot = x[hi];
    size_t store = lo;
    for (size_t i = lo; i < hi; i++)
      if (x[i] < pivot) swap_doubles(&x[i], &x[store++]);
    swap_doubles(&x[store], &x[hi]);
    if (k == store) return x[k];
    if (k < store) hi = store - 1;
    else lo = store + 1;
  }
  return x[k];
}

/* Continued fraction for I_x(a,b) (valid for x < (a+1)/(a+b+2)), modified Lentz. */
static double beta_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; m++) {
    double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (fabs(delta - 1) < 1e-15) break;
  }
  return h;
}

/* log|Gamma(x)| without lgamma's write to the global signgam: backtest and auto-selection threads
 * compute p-values at once (a data race ThreadSanitizer reports). */
static double log_gamma(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

static double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double log_front = log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * log(x) + b * log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return exp(log_front) * beta_fraction(a, b, x) / a;
  return 1 - exp(log_front) * beta_fraction(b, a, 1 - x) / b;
}

double oc_student_t_two_sided_p(double t, double df) {
  if (!isfinite(t)) return isnan(t) ? NAN : 0.0;
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

/* ---- bounded Nelder–Mead ------------------------------------------------------------------- */

#define NM_MAX_DIM 8

typedef struct nm_problem {
  oc_objective fn;
  void *ctx;
  size_t dim;
  const double *lo, *hi;
  int evals;
} nm_problem;

static void to_box(const nm_problem *p, const double *u, double *x) {
  for (size_t i = 0; i < p->dim; i++) x[i] = p->lo[i] + (p->hi[i] - p->lo[i]) / (1 + exp(-u[i]));
}

static double eval_u(nm_problem *p, const double *u) {
  double x[NM_MAX_DIM];
  to_box(p, u, x);
  p->evals++;
  double v = p->fn(x, p->ctx);
  return isfinite(v) ? v : DBL_MAX;
}

/* One Nelder–Mead run from u (updated to the best vertex). */
static double nm_run(nm_problem *p, double *u, int max_evals, double tol) {
  size_t n = p->dim;
  double s[NM_MAX_DIM + 1][NM_MAX_DIM], fv[NM_MAX_DIM + 1];
  for (size_t i = 0; i <= n; i++) {
    memcpy(s[i], u, n * sizeof *u);
    if (i > 0) s[i][i - 1] += 0.5;
    fv[i] = eval_u(p, s[i]);
  }
  while (p->evals < max_evals) {
    /* order: best first (stable insertion sort keeps ties deterministic) */
    for (size_t i = 1; i <= n; i++)
      for (size_t j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
        double tf = fv[j];
        fv[j] = fv[j - 1];
        fv[j - 1] = tf;
        double tv[NM_MAX_DIM];
        memcpy(tv, s[j], sizeof tv);
        memcpy(s[j], s[j - 1], sizeof tv);
        memcpy(s[j - 1], tv, sizeof tv);
      }
    if (fabs(fv[n] - fv[0]) <= tol * (fabs(fv[0]) + tol)) break;
    double c[NM_MAX_DIM] = {0}, xr[NM_MAX_DIM], xe[NM_MAX_DIM], xc[NM_MAX_DIM];
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < n; k++) c[k] += s[i][k] / (double)n;
    for (size_t k = 0; k < n; k++) xr[k] = c[k] + (c[k] - s[n][k]);
    double fr = eval_u(p, xr);
    if (fr < fv[0]) {
      for (size_t k = 0; k < n; k++) xe[k] = c[k] + 2 * (c[k] - s[n][k]);
      double fe = eval_u(p, xe);
      if (fe < fr) {
        memcpy(s[n], xe, n * sizeof *xe);
        fv[n] = fe;
      } else {
        memcpy(s[n], xr, n * sizeof *xr);
        fv[n] = fr;
      }
      continue;
    }
    if (fr < fv[n - 1]) {
      memcpy(s[n], xr, n * sizeof *xr);
      fv[n] = fr;
      continue;
    }
    bool outside = fr < fv[n];
    for (size_t k = 0; k < n; k++) xc[k] = outside ? c[k] + 0.5 * (xr[k] - c[k]) : c[k] + 0.5 * (s[n][k] - c[k]);
    double fc = eval_u(p, xc);
    if (fc < (outside ? fr : fv[n])) {
      memcpy(s[n], xc, n * sizeof *xc);
      fv[n] = fc;
      continue;
    }
    for (size_t i = 1; i <= n; i++) {
      for (size_t k = 0; k < n; k++) s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
      fv[i] = eval_u(p, s[i]);
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= n; i++)
    if (fv[i] < fv[best]) best = i;
  memcpy(u, s[best], n * sizeof *u);
  return fv[best];
}

double oc_nelder_mead_bounded(oc_objective fn, void *ctx, size_t dim, double *x, const double *lo, const double *hi,
                              int max_evals, double tol) {
  nm_problem p = {fn, ctx, dim, lo, hi, 0};
  double u[NM_MAX_DIM];
  for (size_t i = 0; i < dim; i++) {
    double r = (x[i] - lo[i]) / (hi[i] - lo[i]);
    if (r < 1e-6) r = 1e-6;
    if (r > 1 - 1e-6) r = 1 - 1e-6;
    u[i] = log(r / (1 - r));
  }
  /* A restart from the first run's best point guards against a collapsed simplex (which cannot
   * happen in one dimension). */
  double best = nm_run(&p, u, max_evals, tol);
  if (dim > 1 && p.evals < max_evals) best = nm_run(&p, u, max_evals, tol);
  to_box(&p, u, x);
  return best;
}

/* ---- Brent's bounded scalar minimisation (Brent 1973, "localmin") ---------------------------- */

double oc_minimize_bounded_1d(oc_objective_1d fn, void *ctx, double lo, double hi, double xtol, double *x) {
  const double golden = 0.3819660112501051; /* (3 - sqrt 5) / 2 */
  double a = lo, b = hi;
  double v = a + golden * (b - a), w = v, xm = v;
  double fv = fn(v, ctx), fw = fv, fx = fv;
  double d = 0, e = 0;
  for (int iter = 0; iter < 200; iter++) {
    double mid = 0.5 * (a + b), tol1 = 1e-10 * fabs(xm) + xtol / 3, tol2 = 2 * tol1;
    if (fabs(xm - mid) <= tol2 - 0.5 * (b - a)) break;
    bool golden_step = true;
    if (fabs(e) > tol1) {
      /* parabola through x, v, w */
      double r = (xm - w) * (fx - fv), q = (xm - v) * (fx - fw), p = (xm - v) * q - (xm - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = fabs(q);
      double prev = e;
      e = d;
      if (fabs(p) < fabs(0.5 * q * prev) && p > q * (a - xm) && p < q * (b - xm)) {
        d = p / q;
        double u = xm + d;
        if (u - a < tol2 || b - u < tol2) d = xm < mid ? tol1 : -tol1;
        golden_step = false;
      }
    }
    if (golden_step) {
      e = (xm < mid ? b : a) - xm;
      d = golden * e;
    }
    double u = fabs(d) >= tol1 ? xm + d : xm + (d > 0 ? tol1 : -tol1);
    double fu = fn(u, ctx);
    if (fu <= fx) {
      if (u < xm) b = xm;
      else a = xm;
      v = w, fv = fw;
      w = xm, fw = fx;
      xm = u, fx = fu;
    } else {
      if (u < xm) a = u;
      else b = u;
      if (fu <= fw || w == xm) {
        v = w, fv = fw;
        w = u, fw = fu;
      } else if (fu <= fv || v == xm || v == w) {
        v = u, fv = fu;
      }
    }
  }
  *x = xm;
  return fx;
}
