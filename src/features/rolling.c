/* rolling.c: see rolling.h. Missing inputs (NaN/inf) are counted per window instead of being summed,
 * so one missing value blanks exactly the windows that contain it and the running totals stay finite.
 * Every whole-array function is its streaming step over all n rows; rows are told apart by their
 * absolute index, and look-back reads use signed offsets from the block start only for rows that
 * have that much history. */
#include "features/rolling.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "features/vectorize.h"

/* in[i - back] for a block-relative row i: negative offsets reach into the rows before the block. */
static inline double back(const double *in, size_t i, size_t back_rows) {
  return in[(ptrdiff_t)i - (ptrdiff_t)back_rows];
}

void oc_log_returns_step(const double *price, size_t first_row, size_t count, double *out) {
  for (size_t i = 0; i < count; i++) {
    if (first_row + i == 0) {
      out[i] = NAN;
      continue;
    }
    double prev = back(price, i, 1);
    out[i] = (price[i] > 0 && prev > 0) ? log(price[i] / prev) : NAN;
  }
}

OC_VECTOR_CLONES void oc_lag_step(const double *in, size_t first_row, size_t count, size_t lag, double *out) {
  for (size_t i = 0; i < count; i++) out[i] = first_row + i >= lag ? back(in, i, lag) : NAN;
}

void oc_diff_step(const double *in, size_t first_row, size_t count, double *out) {
  for (size_t i = 0; i < count; i++) out[i] = first_row + i >= 1 ? in[i] - back(in, i, 1) : NAN;
}

void oc_log_returns(const double *price, size_t n, double *out) { oc_log_returns_step(price, 0, n, out); }

void oc_lag(const double *in, size_t n, size_t lag, double *out) { oc_lag_step(in, 0, n, lag, out); }

void oc_diff(const double *in, size_t n, double *out) { oc_diff_step(in, 0, n, out); }

OC_VECTOR_CLONES void oc_subtract(const double *a, const double *b, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
}

OC_VECTOR_CLONES void oc_relative_to(const double *price, const double *ref, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = ref[i] != 0.0 ? price[i] / ref[i] - 1.0 : NAN;
}

/* Rows of a min/max sub-block: its two table levels and their look-back stay in L1/L2. */
#define EXTREME_ROWS 1024

void oc_rolling_set_init(oc_rolling_set *s, const size_t *windows, size_t nwindows) {
  assert(nwindows >= 1 && nwindows <= OC_ROLLING_MAX_WINDOWS);
  *s = (oc_rolling_set){.nwindows = nwindows};
  for (size_t j = 0; j < nwindows; j++) {
    assert(windows[j] >= 1);
    s->window[j] = windows[j];
    if (windows[j] > s->longest) s->longest = windows[j];
  }
  s->scratch = oc_xmalloc(2 * (EXTREME_ROWS + s->longest) * sizeof *s->scratch);
}

void oc_rolling_set_free(oc_rolling_set *s) { free(s->scratch); }

/* Mean and variance from running totals, with the missing values counted instead of summed; rows
 * without a full window get NaN in both. Up to FUSED windows advance in one loop over the rows, so
 * their running totals' dependency chains overlap; k is a constant in each instantiation, which lets
 * the compiler unroll the windows and keep every total in a register. Selects instead of branches:
 * the missing-value test is unpredictable only at its edges. */
enum { FUSED = 4 };
static inline __attribute__((always_inline)) void moments_fused(oc_rolling_set *s, size_t first, size_t k,
                                                                 const double *in, size_t count,
                                                                 double *const *out) {
  double total[FUSED], total_sq[FUSED], inv_window[FUSED], inv_dof[FUSED], *mean[FUSED], *variance[FUSED];
  size_t missing[FUSED], window[FUSED];
  for (size_t j = 0; j < k; j++) {
    window[j] = s->window[first + j];
    inv_window[j] = 1.0 / (double)window[j];
    inv_dof[j] = window[j] > 1 ? 1.0 / (double)(window[j] - 1) : NAN;
    total[j] = s->total[first + j];
    total_sq[j] = s->total_sq[first + j];
    missing[j] = s->missing[first + j];
    mean[j] = out[4 * (first + j)];
    variance[j] = out[4 * (first + j) + 1];
  }
  size_t row = s->row;
  for (size_t i = 0; i < count; i++, row++) {
    double x = in[i];
    int ok = isfinite(x);
    x = ok ? x : 0.0;
#pragma GCC unroll 4
    for (size_t j = 0; j < k; j++) {
      missing[j] += !ok;
      total[j] += x;
      total_sq[j] += x * x;
      if (row >= window[j]) {
        double old = back(in, i, window[j]);
        int old_ok = isfinite(old);
        old = old_ok ? old : 0.0;
        missing[j] -= !old_ok;
        total[j] -= old;
        total_sq[j] -= old * old;
      }
      int full = row + 1 >= window[j] && missing[j] == 0;
      mean[j][i] = full ? total[j] * inv_window[j] : NAN;
      variance[j][i] = full ? (total_sq[j] - total[j] * total[j] * inv_window[j]) * inv_dof[j] : NAN;
    }
  }
  for (size_t j = 0; j < k; j++) {
    s->total[first + j] = total[j];
    s->total_sq[first + j] = total_sq[j];
    s->missing[first + j] = missing[j];
  }
}

OC_VECTOR_CLONES static void window_moments(oc_rolling_set *s, const double *in, size_t count, double *const *out) {
  for (size_t first = 0; first < s->nwindows; first += FUSED) {
    switch (s->nwindows - first) {
    case 1: moments_fused(s, first, 1, in, count, out); break;
    case 2: moments_fused(s, first, 2, in, count, out); break;
    case 3: moments_fused(s, first, 3, in, count, out); break;
    default: moments_fused(s, first, FUSED, in, count, out); break;
    }
  }
}

OC_VECTOR_CLONES void oc_sqrt_or_zero(double *v, size_t n, double below) {
  for (size_t i = 0; i < n; i++) v[i] = v[i] < below ? 0.0 : sqrt(v[i]);
}

static inline __attribute__((always_inline)) double extreme(double a, double b, int is_max) {
  return is_max ? (a > b ? a : b) : (a < b ? a : b);
}

/* Min or max of every window over rows [row, row + count), by a doubling table: level k holds the
 * extreme of the 2^k rows ending at each row, built from level k-1 in one branch-free pass, and a
 * window of w rows (2^k <= w < 2^(k+1)) is the extreme of two overlapping level-k entries. The table
 * covers the sub-block and the longest-1 rows before it (fewer at the start of the series: rows whose
 * window does not fit are blanked anyway). Missing inputs count as +inf (min) or -inf (max); rows
 * whose mean is NaN (no full window, or a missing value in it) are blanked. */
static inline __attribute__((always_inline)) void window_extremes(oc_rolling_set *s, const double *in, size_t row,
                                                                   size_t count, double *const *out, int is_max) {
  const double neutral = is_max ? -INFINITY : INFINITY;
  size_t history = row < s->longest - 1 ? row : s->longest - 1, rows = history + count;
  double *level = s->scratch, *next = s->scratch + EXTREME_ROWS + s->longest;
  for (size_t j = 0; j < rows; j++) {
    double x = back(in, j, history);
    level[j] = isfinite(x) ? x : neutral;
  }
  for (size_t span = 1; span <= s->longest; span *= 2) { /* span = 2^k: rows in a level-k entry */
    for (size_t w = 0; w < s->nwindows; w++) {
      size_t window = s->window[w];
      if (window < span || window >= 2 * span) continue;
      double *result = out[4 * w + (is_max ? 3 : 2)];
      const double *mean = out[4 * w];
      size_t reach = window - span; /* the second entry ends this many rows earlier */
      size_t i = reach > history ? reach - history : 0; /* rows before: at the series start, blank */
      for (size_t k = 0; k < i && k < count; k++) result[k] = NAN;
      for (; i < count; i++) {
        double v = extreme(level[history + i], level[history + i - reach], is_max);
        result[i] = mean[i] == mean[i] ? v : NAN;
      }
    }
    for (size_t j = 0; j < rows; j++) next[j] = j >= span ? extreme(level[j], level[j - span], is_max) : level[j];
    double *swap = level;
    level = next;
    next = swap;
  }
}

OC_VECTOR_CLONES void oc_rolling_set_step(oc_rolling_set *s, const double *in, size_t count, double *const *out) {
  window_moments(s, in, count, out);
  for (size_t j = 0; j < s->nwindows; j++)
    oc_sqrt_or_zero(out[4 * j + 1], count, DBL_TRUE_MIN); /* rounding can leave a variance at or under 0 */
  for (size_t first = 0; first < count; first += EXTREME_ROWS) {
    size_t rows = count - first < EXTREME_ROWS ? count - first : EXTREME_ROWS;
    double *sub_out[4 * OC_ROLLING_MAX_WINDOWS];
    for (size_t c = 0; c < 4 * s->nwindows; c++) sub_out[c] = out[c] + first;
    window_extremes(s, in + first, s->row + first, rows, sub_out, 0);
    window_extremes(s, in + first, s->row + first, rows, sub_out, 1);
  }
  s->row += count;
}

/* The whole-array forms: the outputs not wanted go to a scratch block. */
static void whole_array(const double *in, size_t n, size_t window, double *mean, double *std, double *min,
                        double *max) {
  enum { SCRATCH = 512 };
  double scratch[4][SCRATCH];
  oc_rolling_set set;
  oc_rolling_set_init(&set, &window, 1);
  for (size_t first = 0; first < n; first += SCRATCH) {
    size_t count = n - first < SCRATCH ? n - first : SCRATCH;
    double *const out[4] = {mean ? mean + first : scratch[0], std ? std + first : scratch[1],
                            min ? min + first : scratch[2], max ? max + first : scratch[3]};
    oc_rolling_set_step(&set, in + first, count, out);
  }
  oc_rolling_set_free(&set);
}

void oc_rolling_mean_std(const double *in, size_t n, size_t window, double *mean, double *std) {
  whole_array(in, n, window, mean, std, NULL, NULL);
}

void oc_rolling_min_max(const double *in, size_t n, size_t window, double *min, double *max) {
  whole_array(in, n, window, NULL, NULL, min, max);
}
