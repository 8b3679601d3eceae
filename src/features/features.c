/* features.c: see features.h. The feature list is one table (name, first row with a value). The
 * computation is split into lanes that each own their output columns, so running them on any number
 * of threads gives bit-identical results. A lane walks the rows in blocks small enough to stay in
 * the core's cache: every feature of the block is computed from the cached inputs into a tile, then
 * the tile is streamed to the output columns. Each input is read from memory once and each output
 * written once, where a pass per feature would read a 10-million-row input dozens of times; the
 * indicator and rolling states carry from block to block (indicators.h, rolling.h), which is what
 * keeps the values identical to whole-array calls. The states live in a stream (oc_feature_stream)
 * between calls, so a longer history extends the rows already computed: a whole computation is one
 * stream extended once from row 0. Must not clean, align, normalize or select. */
#include "features/features.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/buf.h"
#include "features/indicators.h"
#include "features/rolling.h"
#include "features/vectorize.h"

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

static const size_t rolling_windows[] = {5, 10, 20, 60};
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
    oc_buf_printf(&b, "ret_%s_%zu", rolling_stats[rel % 4], rolling_windows[rel / 4]);
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

/* ---- computing in blocks ---- */

/* Rows per block: a lane's tile (up to 22 columns of BLOCK_ROWS doubles, 176 KiB) and its inputs stay
 * in a core's L2 cache. A multiple of 8, so the blocks of a computation from row 0 start on cache
 * lines of aligned columns (an extension's blocks start where the stream stopped). */
#define BLOCK_ROWS 1024
static_assert(BLOCK_ROWS % 8 == 0, "blocks start on cache lines");
/* Log returns kept from earlier blocks: at least the longest rolling window and lag (rolling.h). */
#define RETURN_HISTORY 64

/* Computes rows [first_row, first_row + count) of a lane's columns into col[c][0..count). */
typedef void (*block_fn)(void *state, const oc_feature_input *in, size_t first_row, size_t count,
                         double *const *col);

/* Copies a finished tile column to its output. Streaming (non-temporal) stores where the output is
 * 16-byte aligned: the output is written once and not read back, so bypassing the cache avoids
 * reading every output line from memory before overwriting it, and keeps the tile cached. */
static void flush_column(double *dst, const double *src, size_t count) {
#if defined(__SSE2__)
  if (((uintptr_t)dst & 15) == 0) {
    size_t i = 0;
    for (; i + 2 <= count; i += 2) _mm_stream_pd(dst + i, _mm_loadu_pd(src + i));
    if (i < count) dst[i] = src[i];
    return;
  }
#endif
  memcpy(dst, src, count * sizeof *dst);
}

/* Runs block_fn over the blocks of rows [first_row, end_row) for the columns [from[r], to[r]) of each
 * range r. */
OC_VECTOR_CLONES static void run_in_blocks(const oc_feature_input *in, double *const *out, size_t total_columns,
                                           const size_t *from, const size_t *to, size_t ranges, size_t first_row,
                                           size_t end_row, block_fn fn, void *state) {
  size_t owned = 0;
  for (size_t r = 0; r < ranges; r++) owned += to[r] - from[r];
  if (owned == 0 || first_row >= end_row) return;
  /* A short range (an inference tail, a small table) gets a tile of its own length, not a block's. */
  size_t stride = end_row - first_row < BLOCK_ROWS ? end_row - first_row : BLOCK_ROWS;
  double *tile = oc_xmalloc(owned * stride * sizeof *tile);
  double **col = oc_xcalloc(total_columns, sizeof *col);
  size_t slot = 0;
  for (size_t r = 0; r < ranges; r++)
    for (size_t c = from[r]; c < to[r]; c++) col[c] = tile + stride * slot++;
  for (size_t first = first_row; first < end_row; first += BLOCK_ROWS) {
    size_t count = end_row - first < BLOCK_ROWS ? end_row - first : BLOCK_ROWS;
    fn(state, in, first, count, col);
    for (size_t r = 0; r < ranges; r++)
      for (size_t c = from[r]; c < to[r]; c++) flush_column(out[c] + first, col[c], count);
  }
#if defined(__SSE2__)
  _mm_sfence(); /* streaming stores are weakly ordered: complete them before the lane reports done */
#endif
  free(col);
  free(tile);
}

/* ---- lane: calendar and exogenous spreads ---- */

/* Angles are looked up, never computed per row: the weekday of a date in the current month is the
 * month's first weekday plus the days since, an index into a table long enough for any month. The
 * tables are built once per process (a forecast computes the features of a short tail each time). */
enum { WEEK_SPAN = 7 + 31 };
static struct {
  double dow_sin[WEEK_SPAN], dow_cos[WEEK_SPAN]; /* k: the weekday (k mod 7) + 1 */
  double doy_sin[2][366], doy_cos[2][366];       /* day of year - 1, per year length (leap or not) */
} angles;
static pthread_once_t angles_once = PTHREAD_ONCE_INIT;

static void build_angles(void) {
  const double two_pi = 2.0 * M_PI;
  for (int k = 0; k < WEEK_SPAN; k++) {
    angles.dow_sin[k] = sin(two_pi * (k % 7) / 7.0);
    angles.dow_cos[k] = cos(two_pi * (k % 7) / 7.0);
  }
  for (int leap = 0; leap < 2; leap++) {
    int days = 365 + leap;
    for (int d = 1; d <= days; d++) {
      angles.doy_sin[leap][d - 1] = sin(two_pi * (d - 1) / days);
      angles.doy_cos[leap][d - 1] = cos(two_pi * (d - 1) / days);
    }
  }
}

/* The current month, recomputed when a date leaves it. */
typedef struct calendar_state {
  double month;
  oc_date month_start, next_month;
  size_t month_weekday;                        /* weekday of month_start - 1 (0 = Monday) */
  const double *month_doy_sin, *month_doy_cos; /* the entries of month_start */
} calendar_state;

OC_VECTOR_CLONES static void calendar_block(void *state, const oc_feature_input *in, size_t first_row, size_t count,
                                            double *const *col) {
  calendar_state *s = state;
  const oc_date *dates = in->dates + first_row;
  double *dow_sin = col[F_DOW_SIN], *dow_cos = col[F_DOW_COS], *doy_sin = col[F_DOY_SIN], *doy_cos = col[F_DOY_COS];
  double *month = col[F_MONTH];
  for (size_t i = 0; i < count; i++) {
    oc_date d = dates[i];
    /* Dates ascend, so the calendar month is recomputed only when a date leaves the current one. */
    if (d < s->month_start || d >= s->next_month) {
      int year, month_of_year, day;
      oc_date_to_ymd(d, &year, &month_of_year, &day);
      s->month = month_of_year;
      s->month_start = d - (day - 1);
      s->next_month = s->month_start + oc_date_days_in_month(year, month_of_year);
      s->month_weekday = (size_t)oc_date_weekday(s->month_start) - 1;
      int leap = oc_date_days_in_year(year) == 366;
      size_t first_day = (size_t)(s->month_start - oc_date_from_ymd(year, 1, 1));
      s->month_doy_sin = angles.doy_sin[leap] + first_day;
      s->month_doy_cos = angles.doy_cos[leap] + first_day;
    }
    size_t day = (size_t)(d - s->month_start);
    dow_sin[i] = angles.dow_sin[s->month_weekday + day];
    dow_cos[i] = angles.dow_cos[s->month_weekday + day];
    doy_sin[i] = s->month_doy_sin[day];
    doy_cos[i] = s->month_doy_cos[day];
    month[i] = s->month;
  }
  /* Per exogenous series: spread = exog - target, and its change from the previous row. */
  const double *close = in->close + first_row;
  for (size_t e = 0; e < in->nexog; e++) {
    const double *exog = in->exog[e] + first_row;
    double *spread = col[F_BASE_COUNT + EXOG_FEATURES * e], *change = col[F_BASE_COUNT + EXOG_FEATURES * e + 1];
    oc_subtract(exog, close, count, spread);
    for (size_t i = 0; i < count; i++)
      change[i] = i > 0 ? spread[i] - spread[i - 1]
                        : (first_row > 0 ? spread[0] - (exog[-1] - close[-1]) : NAN);
  }
}

/* Every row of this lane depends on its own inputs only (the month cache refills at the first date),
 * so the lane keeps no state in the stream and runs as CALENDAR_PARTS parts of the new rows that
 * threads pick up as they free: they even out the two long lanes. */
#define CALENDAR_PARTS 4
static void lane_calendar_exog(oc_feature_stream *stream, const oc_feature_input *in, double *const *out, size_t first,
                               size_t part) {
  (void)stream;
  pthread_once(&angles_once, build_angles);
  calendar_state s = {.month_start = 1, .next_month = 0}; /* an empty month: the first date fills it */
  size_t blocks = (in->n - first + BLOCK_ROWS - 1) / BLOCK_ROWS;
  size_t first_row = first + blocks * part / CALENDAR_PARTS * BLOCK_ROWS;
  size_t end_row = first + blocks * (part + 1) / CALENDAR_PARTS * BLOCK_ROWS;
  if (end_row > in->n) end_row = in->n;
  const size_t from[] = {F_DOW_SIN, F_BASE_COUNT}, to[] = {F_LOGRET, oc_features_count(in->nexog)};
  run_in_blocks(in, out, oc_features_count(in->nexog), from, to, 2, first_row, end_row, calendar_block, &s);
}

/* ---- lane: log returns, lags, rolling statistics ---- */

typedef struct returns_state {
  double ret[RETURN_HISTORY + BLOCK_ROWS]; /* the block's log returns after the earlier ones */
  oc_rolling_set windows;
} returns_state;

OC_VECTOR_CLONES static void returns_block(void *state, const oc_feature_input *in, size_t first_row, size_t count,
                          double *const *col) {
  returns_state *s = state;
  double *ret = s->ret + RETURN_HISTORY;
  oc_log_returns_step(in->close + first_row, first_row, count, ret);
  memcpy(col[F_LOGRET], ret, count * sizeof *ret);
  for (size_t lag = 1; lag <= 5; lag++) oc_lag_step(ret, first_row, count, lag, col[F_LOGRET + lag]);
  oc_rolling_set_step(&s->windows, ret, count, col + F_ROLL5); /* mean, std, min, max per window */
  memmove(s->ret, s->ret + count, RETURN_HISTORY * sizeof *s->ret);
}

static void returns_init(returns_state *s) {
  for (size_t i = 0; i < RETURN_HISTORY; i++) s->ret[i] = NAN; /* never read: rows before 0 */
  for (size_t w = 0; w < sizeof rolling_windows / sizeof rolling_windows[0]; w++)
    assert(rolling_windows[w] - 1 <= RETURN_HISTORY); /* a window looks back window-1 earlier returns */
  oc_rolling_set_init(&s->windows, rolling_windows, sizeof rolling_windows / sizeof rolling_windows[0]);
}

/* ---- lane: technical indicators on the price ---- */

/* Moving-average windows: Bollinger's SMA(20), which is also the sma20 feature and the reference of
 * price_rel_sma20, then the SMAs of the other price-relative features. */
static const int sma_periods[] = {20, 5, 10, 60};
static const int sma_rel_columns[] = {F_REL_SMA20, F_REL_SMA5, F_REL_SMA10, F_REL_SMA60};
#define SMAS (sizeof sma_periods / sizeof sma_periods[0])

typedef struct price_state {
  oc_ta_moments sma[SMAS];
  oc_ta_ema_state ema12, ema26;
  oc_ta_macd_state macd;
  oc_ta_wilder rsi, atr;
} price_state;

OC_VECTOR_CLONES static void price_block(void *state, const oc_feature_input *in, size_t first_row, size_t count,
                        double *const *col) {
  price_state *s = state;
  const double *close = in->close + first_row;
  double *up = col[F_BB_UPPER], *mid = col[F_BB_MIDDLE], *lo = col[F_BB_LOWER];
  /* Each relative column holds its SMA first (rel[i] needs only sma[i]); the upper band holds the
   * Bollinger variance until the bands are formed. */
  double *const means[SMAS] = {mid, col[F_REL_SMA5], col[F_REL_SMA10], col[F_REL_SMA60]};
  double *const variances[SMAS] = {up, NULL, NULL, NULL};
  oc_ta_moments_step(s->sma, SMAS, close, count, means, variances);
  /* The recursive indicators in one loop: their dependency chains overlap (indicators.h). The RSI
   * column holds the average gain and the ROC column the average loss until the RSI values are
   * formed in a vectorized pass. */
  double *rsi_gain = col[F_RSI14], *rsi_loss = col[F_ROC10];
  oc_ta_ema_state ema12 = s->ema12, ema26 = s->ema26;
  oc_ta_macd_state macd = s->macd;
  oc_ta_wilder rsi = s->rsi, atr = s->atr;
  for (size_t i = 0; i < count; i++) {
    double x = close[i], change = first_row + i > 0 ? x - close[(ptrdiff_t)i - 1] : 0.0;
    col[F_EMA12][i] = oc_ta_ema_push(&ema12, x);
    col[F_EMA26][i] = oc_ta_ema_push(&ema26, x);
    oc_ta_macd_push(&macd, x, &col[F_MACD][i], &col[F_MACD_SIGNAL][i], &col[F_MACD_HIST][i]);
    oc_ta_rsi_push(&rsi, change, &rsi_gain[i], &rsi_loss[i]);
    col[F_ATR14][i] = oc_ta_atr_close_push(&atr, change);
  }
  s->ema12 = ema12;
  s->ema26 = ema26;
  s->macd = macd;
  s->rsi = rsi;
  s->atr = atr;
  oc_ta_bbands_from_variance(mid, up, lo, col[F_STDDEV20], count, 2.0, 2.0);
  memcpy(col[F_SMA20], mid, count * sizeof *mid);
  for (size_t k = 0; k < SMAS; k++) oc_relative_to(close, means[k], count, col[sma_rel_columns[k]]);
  double *pctb = col[F_BB_PCTB], *bandwidth = col[F_BB_BANDWIDTH];
  for (size_t i = 0; i < count; i++) { /* quotients first, then selects: the loop vectorizes */
    double width = up[i] - lo[i], position = (close[i] - lo[i]) / width, relative_width = width / mid[i];
    /* Flat bands (zero deviation): the price sits on the middle band, %B = 0.5 by definition. */
    pctb[i] = width > 0 ? position : (width == 0 ? 0.5 : NAN);
    bandwidth[i] = mid[i] != 0 ? relative_width : NAN;
  }
  for (size_t i = 0; i < count; i++) rsi_gain[i] = oc_ta_rsi_value(rsi_gain[i], rsi_loss[i]);
  oc_ta_roc_step(close, first_row, count, 10, col[F_ROC10]);
  oc_ta_mom_step(close, first_row, count, 10, col[F_MOM10]);
}

static void price_init(price_state *s) {
  for (size_t k = 0; k < SMAS; k++) oc_ta_moments_init(&s->sma[k], sma_periods[k]);
  oc_ta_ema_init(&s->ema12, 12, (size_t)oc_ta_ema_lookback(12));
  oc_ta_ema_init(&s->ema26, 26, (size_t)oc_ta_ema_lookback(26));
  oc_ta_macd_init(&s->macd, 12, 26, 9);
  oc_ta_wilder_init(&s->rsi, 14);
  oc_ta_wilder_init(&s->atr, 14);
}

/* ---- the stream: the lanes' states between calls ---- */

struct oc_feature_stream {
  size_t nexog, rows; /* rows computed so far */
  price_state price;
  returns_state *returns; /* large: its own allocation */
};

oc_feature_stream *oc_feature_stream_new(size_t nexog) {
  oc_feature_stream *s = oc_xcalloc(1, sizeof *s);
  s->nexog = nexog;
  price_init(&s->price);
  s->returns = oc_xmalloc(sizeof *s->returns);
  returns_init(s->returns);
  return s;
}

void oc_feature_stream_free(oc_feature_stream *s) {
  if (!s) return;
  oc_rolling_set_free(&s->returns->windows);
  free(s->returns);
  free(s);
}

size_t oc_feature_stream_rows(const oc_feature_stream *s) { return s->rows; }

static void lane_returns(oc_feature_stream *stream, const oc_feature_input *in, double *const *out, size_t first,
                         size_t part) {
  (void)part;
  const size_t from[] = {F_LOGRET}, to[] = {F_RSI14};
  run_in_blocks(in, out, oc_features_count(in->nexog), from, to, 1, first, in->n, returns_block, stream->returns);
}

static void lane_price(oc_feature_stream *stream, const oc_feature_input *in, double *const *out, size_t first,
                       size_t part) {
  (void)part;
  const size_t from[] = {F_RSI14}, to[] = {F_BASE_COUNT};
  run_in_blocks(in, out, oc_features_count(in->nexog), from, to, 1, first, in->n, price_block, &stream->price);
}

/* ---- lanes on threads ---- */

typedef struct lane {
  void (*run)(oc_feature_stream *stream, const oc_feature_input *in, double *const *out, size_t first, size_t part);
  size_t part;
} lane;
/* Longest first, the short parts last, so two threads finish together. */
static const lane lanes[] = {{lane_price, 0},         {lane_returns, 0},       {lane_calendar_exog, 0},
                             {lane_calendar_exog, 1}, {lane_calendar_exog, 2}, {lane_calendar_exog, 3}};
#define LANES (sizeof lanes / sizeof lanes[0])

typedef struct pool {
  oc_feature_stream *stream;
  const oc_feature_input *in;
  double *const *out;
  size_t first;
  atomic_size_t next;
} pool;

static void *pool_worker(void *arg) {
  pool *p = arg;
  for (size_t l; (l = atomic_fetch_add(&p->next, 1)) < LANES;) lanes[l].run(p->stream, p->in, p->out, p->first, lanes[l].part);
  return NULL;
}

void oc_feature_stream_extend(oc_feature_stream *stream, const oc_feature_input *in, double *const *out, int threads) {
  assert(in->nexog == stream->nexog && in->n >= stream->rows);
  pool p = {.stream = stream, .in = in, .out = out, .first = stream->rows};
  atomic_init(&p.next, 0);
  if (threads > (int)LANES) threads = (int)LANES;
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
  stream->rows = in->n;
}

void oc_features_compute(const oc_feature_input *in, double *const *out, int threads) {
  oc_feature_stream *stream = oc_feature_stream_new(in->nexog);
  oc_feature_stream_extend(stream, in, out, threads);
  oc_feature_stream_free(stream);
}
