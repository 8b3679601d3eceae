/* features.c: see features.h. The feature list is one table (name, first row with a value); the
 * computations are grouped into independent jobs that each own their output columns, so running
 * them on any number of threads gives bit-identical results. */
#include "features/features.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/buf.h"
#include "features/indicators.h"
#include "features/rolling.h"

enum {
  F_DOW_SIN, F_DOW_COS, F_DOY_SIN, F_DOY_COS, F_MONTH,
  F_LOGRET, F_LAG1, F_LAG2, F_LAG3, F_LAG4, F_LAG5,
  F_ROLL5, F_ROLL10 = F_ROLL5 + 4, F_ROLL20 = F_ROLL10 + 4, F_ROLL60 = F_ROLL20 + 4,
  F_RSI14 = F_ROLL60 + 4, F_MACD, F_MACD_SIGNAL, F_MACD_HIST, F_BB_PCTB, F_BB_BANDWIDTH, F_ROC10, F_MOM10,
  F_STDDEV20, F_ATR14, F_REL_SMA5, F_REL_SMA10, F_REL_SMA20, F_REL_SMA60, F_SMA20, F_EMA12, F_EMA26,
  F_BB_UPPER, F_BB_MIDDLE, F_BB_LOWER,
  F_BASE_COUNT
};
/* Per exogenous series: the spread (exog - target) and its day-over-day change. */
#define EXOG_FEATURES 2

static const int rolling_windows[] = {5, 10, 20, 60};
static const char *const rolling_stats[] = {"mean", "std", "min", "max"};

typedef struct base_feature {
  const char *name; /* NULL: named from rolling_windows/rolling_stats */
  int first_row;    /* first row with a value when the inputs are complete */
} base_feature;

static const base_feature base_features[F_BASE_COUNT] = {
    [F_DOW_SIN] = {"dow_sin", 0}, [F_DOW_COS] = {"dow_cos", 0}, [F_DOY_SIN] = {"doy_sin", 0},
    [F_DOY_COS] = {"doy_cos", 0}, [F_MONTH] = {"month", 0}, [F_LOGRET] = {"logret", 1},
    [F_LAG1] = {"logret_lag1", 2}, [F_LAG2] = {"logret_lag2", 3}, [F_LAG3] = {"logret_lag3", 4},
    [F_LAG4] = {"logret_lag4", 5}, [F_LAG5] = {"logret_lag5", 6},
    [F_ROLL5] = {NULL, 5}, [F_ROLL5 + 1] = {NULL, 5}, [F_ROLL5 + 2] = {NULL, 5}, [F_ROLL5 + 3] = {NULL, 5},
    [F_ROLL10] = {NULL, 10}, [F_ROLL10 + 1] = {NULL, 10}, [F_ROLL10 + 2] = {NULL, 10}, [F_ROLL10 + 3] = {NULL, 10},
    [F_ROLL20] = {NULL, 20}, [F_ROLL20 + 1] = {NULL, 20}, [F_ROLL20 + 2] = {NULL, 20}, [F_ROLL20 + 3] = {NULL, 20},
    [F_ROLL60] = {NULL, 60}, [F_ROLL60 + 1] = {NULL, 60}, [F_ROLL60 + 2] = {NULL, 60}, [F_ROLL60 + 3] = {NULL, 60},
    [F_RSI14] = {"rsi14", 14}, [F_MACD] = {"macd", 33}, [F_MACD_SIGNAL] = {"macd_signal", 33},
    [F_MACD_HIST] = {"macd_hist", 33}, [F_BB_PCTB] = {"bb_pctb", 19}, [F_BB_BANDWIDTH] = {"bb_bandwidth", 19},
    [F_ROC10] = {"roc10", 10}, [F_MOM10] = {"mom10", 10}, [F_STDDEV20] = {"stddev20", 19}, [F_ATR14] = {"atr14", 14},
    [F_REL_SMA5] = {"price_rel_sma5", 4}, [F_REL_SMA10] = {"price_rel_sma10", 9},
    [F_REL_SMA20] = {"price_rel_sma20", 19}, [F_REL_SMA60] = {"price_rel_sma60", 59}, [F_SMA20] = {"sma20", 19},
    [F_EMA12] = {"ema12", 11}, [F_EMA26] = {"ema26", 25}, [F_BB_UPPER] = {"bb_upper", 19},
    [F_BB_MIDDLE] = {"bb_middle", 19}, [F_BB_LOWER] = {"bb_lower", 19},
};

size_t oc_features_count(size_t nexog) { return F_BASE_COUNT + EXOG_FEATURES * nexog; }

size_t oc_features_required_history(void) {
  int last_first_row = 1; /* the exogenous spread change needs two rows */
  for (int i = 0; i < F_BASE_COUNT; i++)
    if (base_features[i].first_row > last_first_row) last_first_row = base_features[i].first_row;
  return (size_t)last_first_row + 1;
}

char **oc_features_names(const char *const *exog_names, size_t nexog) {
  size_t count = oc_features_count(nexog);
  char **names = oc_xcalloc(count, sizeof *names);
  oc_buf b = {0};
  for (int i = 0; i < F_BASE_COUNT; i++) {
    if (base_features[i].name) {
      names[i] = oc_xstrdup(base_features[i].name);
      continue;
    }
    int rel = i - F_ROLL5;
    oc_buf_printf(&b, "ret_%s_%d", rolling_stats[rel % 4], rolling_windows[rel / 4]);
    names[i] = oc_buf_steal(&b);
  }
  for (size_t e = 0; e < nexog; e++) {
    oc_buf_printf(&b, "spread_%s", exog_names[e]);
    names[F_BASE_COUNT + EXOG_FEATURES * e] = oc_buf_steal(&b);
    oc_buf_printf(&b, "spread_%s_chg", exog_names[e]);
    names[F_BASE_COUNT + EXOG_FEATURES * e + 1] = oc_buf_steal(&b);
  }
  return names;
}

void oc_features_free_names(char **names, size_t count) {
  if (!names) return;
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
}

double **oc_features_alloc_columns(size_t count, size_t n) {
  const size_t huge = (size_t)2 << 20;
  double **cols = oc_xcalloc(count + 1, sizeof *cols);
  size_t bytes = (n + 1) * sizeof(double);
  for (size_t c = 0; c < count; c++) {
    if (bytes < 2 * huge) {
      cols[c] = oc_xmalloc(bytes);
      continue;
    }
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, rounded) != 0) p = oc_xmalloc(bytes);
    else madvise(p, rounded, MADV_HUGEPAGE); /* advice only: without THP the pages are simply small */
    cols[c] = p;
  }
  return cols;
}

void oc_features_free_columns(double **cols, size_t count) {
  if (!cols) return;
  for (size_t c = 0; c < count; c++) free(cols[c]);
  free(cols);
}

/* ---- feature groups (jobs) ---- */

typedef struct job_ctx {
  const oc_feature_input *in;
  double *const *out;
} job_ctx;

static void job_calendar(const job_ctx *c, size_t arg) {
  const double two_pi = 2.0 * M_PI;
  double dow_sin[8], dow_cos[8];
  for (int wd = 1; wd <= 7; wd++) {
    dow_sin[wd] = sin(two_pi * (wd - 1) / 7.0);
    dow_cos[wd] = cos(two_pi * (wd - 1) / 7.0);
  }
  /* Day-of-year angles depend on the year's length; cache them per year length. */
  double doy_sin[2][367], doy_cos[2][367];
  for (int leap = 0; leap < 2; leap++) {
    int days = 365 + leap;
    for (int d = 1; d <= days; d++) {
      doy_sin[leap][d] = sin(two_pi * (d - 1) / days);
      doy_cos[leap][d] = cos(two_pi * (d - 1) / days);
    }
  }
  double *const *out = c->out;
  /* Dates ascend, so the calendar month is recomputed only when a date leaves the current one. */
  int year = 0, month = 0, day = 0, leap = 0;
  oc_date month_start = 1, next_month = 0, year_start = 0;
  int weekday_at_epoch = oc_date_weekday(0); /* 1970-01-01 */
  for (size_t i = 0; i < c->in->n; i++) {
    oc_date d = c->in->dates[i];
    if (d < month_start || d >= next_month) {
      oc_date_to_ymd(d, &year, &month, &day);
      month_start = d - (day - 1);
      next_month = month_start + oc_date_days_in_month(year, month);
      year_start = oc_date_from_ymd(year, 1, 1);
      leap = oc_date_days_in_year(year) == 366;
    }
    int wd = (int)(((int64_t)d % 7 + 7 + weekday_at_epoch - 1) % 7) + 1, doy = (int)(d - year_start) + 1;
    out[F_DOW_SIN][i] = dow_sin[wd];
    out[F_DOW_COS][i] = dow_cos[wd];
    out[F_DOY_SIN][i] = doy_sin[leap][doy];
    out[F_DOY_COS][i] = doy_cos[leap][doy];
    out[F_MONTH][i] = month;
  }
  (void)arg;
}

static void job_lag(const job_ctx *c, size_t lag) {
  oc_lag(c->out[F_LOGRET], c->in->n, lag, c->out[F_LOGRET + lag]);
}

static void job_rolling(const job_ctx *c, size_t w) {
  size_t first = F_ROLL5 + 4 * w, window = (size_t)rolling_windows[w];
  const double *ret = c->out[F_LOGRET];
  oc_rolling_mean_std(ret, c->in->n, window, c->out[first], c->out[first + 1]);
  oc_rolling_min_max(ret, c->in->n, window, c->out[first + 2], c->out[first + 3]);
}

static void job_rsi(const job_ctx *c, size_t arg) {
  oc_ta_rsi(c->in->close, c->in->n, 14, c->out[F_RSI14]);
  (void)arg;
}

static void job_macd(const job_ctx *c, size_t arg) {
  oc_ta_macd(c->in->close, c->in->n, 12, 26, 9, c->out[F_MACD], c->out[F_MACD_SIGNAL], c->out[F_MACD_HIST]);
  (void)arg;
}

static void job_bbands(const job_ctx *c, size_t arg) {
  const double *close = c->in->close;
  double *up = c->out[F_BB_UPPER], *mid = c->out[F_BB_MIDDLE], *lo = c->out[F_BB_LOWER];
  oc_ta_bbands(close, c->in->n, 20, 2.0, 2.0, up, mid, lo);
  for (size_t i = 0; i < c->in->n; i++) {
    double width = up[i] - lo[i];
    /* Flat bands (zero deviation): the price sits on the middle band, %B = 0.5 by definition. */
    c->out[F_BB_PCTB][i] = width > 0 ? (close[i] - lo[i]) / width : (width == 0 ? 0.5 : NAN);
    c->out[F_BB_BANDWIDTH][i] = mid[i] != 0 ? width / mid[i] : NAN;
  }
  (void)arg;
}

static void job_momentum(const job_ctx *c, size_t arg) {
  oc_ta_roc(c->in->close, c->in->n, 10, c->out[F_ROC10]);
  oc_ta_mom(c->in->close, c->in->n, 10, c->out[F_MOM10]);
  (void)arg;
}

static void job_volatility(const job_ctx *c, size_t arg) {
  oc_ta_stddev(c->in->close, c->in->n, 20, 1.0, c->out[F_STDDEV20]);
  oc_ta_atr_close(c->in->close, c->in->n, 14, c->out[F_ATR14]);
  (void)arg;
}

static void job_ema(const job_ctx *c, size_t arg) {
  oc_ta_ema(c->in->close, c->in->n, 12, c->out[F_EMA12]);
  oc_ta_ema(c->in->close, c->in->n, 26, c->out[F_EMA26]);
  (void)arg;
}

/* arg: index into sma_periods. SMA(20) is also a feature column; the others are scratch space. */
static const int sma_periods[] = {5, 10, 20, 60};
static void job_price_rel(const job_ctx *c, size_t arg) {
  size_t n = c->in->n;
  double *rel = c->out[F_REL_SMA5 + arg];
  if (sma_periods[arg] == 20) {
    oc_ta_sma(c->in->close, n, 20, c->out[F_SMA20]);
    oc_relative_to(c->in->close, c->out[F_SMA20], n, rel);
    return;
  }
  /* The relative column doubles as the SMA's buffer: rel[i] only needs sma[i]. */
  oc_ta_sma(c->in->close, n, sma_periods[arg], rel);
  oc_relative_to(c->in->close, rel, n, rel);
}

static void job_exog(const job_ctx *c, size_t e) {
  double *spread = c->out[F_BASE_COUNT + EXOG_FEATURES * e];
  oc_subtract(c->in->exog[e], c->in->close, c->in->n, spread);
  oc_diff(spread, c->in->n, c->out[F_BASE_COUNT + EXOG_FEATURES * e + 1]);
}

typedef struct job {
  void (*run)(const job_ctx *c, size_t arg);
  size_t arg;
} job;

/* Longest jobs first so a thread pool finishes together. */
static const job fixed_jobs[] = {
    {job_rolling, 3}, {job_rolling, 2}, {job_rolling, 1}, {job_rolling, 0}, {job_calendar, 0},
    {job_bbands, 0},  {job_macd, 0},    {job_rsi, 0},     {job_volatility, 0}, {job_ema, 0},
    {job_momentum, 0}, {job_price_rel, 0}, {job_price_rel, 1}, {job_price_rel, 2}, {job_price_rel, 3},
    {job_lag, 1},     {job_lag, 2},     {job_lag, 3},     {job_lag, 4},     {job_lag, 5},
};
#define FIXED_JOBS (sizeof fixed_jobs / sizeof fixed_jobs[0])

typedef struct pool {
  job_ctx ctx;
  size_t njobs;
  atomic_size_t next;
} pool;

static void run_job(const job_ctx *c, size_t j) {
  if (j < FIXED_JOBS)
    fixed_jobs[j].run(c, fixed_jobs[j].arg);
  else
    job_exog(c, j - FIXED_JOBS);
}

static void *pool_worker(void *arg) {
  pool *p = arg;
  for (size_t j; (j = atomic_fetch_add(&p->next, 1)) < p->njobs;) run_job(&p->ctx, j);
  return NULL;
}

void oc_features_compute(const oc_feature_input *in, double *const *out, int threads) {
  /* Log returns feed the lag and rolling jobs, so they come first. */
  oc_log_returns(in->close, in->n, out[F_LOGRET]);
  pool p = {.ctx = {in, out}, .njobs = FIXED_JOBS + in->nexog};
  atomic_init(&p.next, 0);
  if (threads > (int)p.njobs) threads = (int)p.njobs;
  pthread_t *workers = NULL;
  int started = 0;
  if (threads > 1) {
    workers = oc_xcalloc((size_t)threads - 1, sizeof *workers);
    for (; started < threads - 1; started++)
      if (pthread_create(&workers[started], NULL, pool_worker, &p) != 0) break; /* fewer threads is fine */
  }
  pool_worker(&p);
  for (int t = 0; t < started; t++) pthread_join(workers[t], NULL);
  free(workers);
}
