/* calendar.c: the rules of calendar.h, and a per-year table built from them once: a bitmap of the
 * year's trading days and the count of trading days before the year, so that a test, a step of n days
 * and a count between two dates cost a few word operations. The rules are the only source of truth:
 * the table is their cache, and years outside it are answered by the rules directly. Must not read
 * files or the clock. */
#include "core/calendar.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { FIRST_YEAR = 1900, LAST_YEAR = 2299, YEARS = LAST_YEAR - FIRST_YEAR + 1, WORDS = 6 /* 366 bits */ };

typedef struct {
  const char *name;
  oc_date date;
} closure;

/* The n-th (1-based) given ISO weekday of year/month; n == -1: the last one. */
static oc_date nth_weekday(int year, int month, int weekday, int n) {
  if (n < 0) {
    oc_date last = oc_date_from_ymd(year, month, oc_date_days_in_month(year, month));
    return last - (oc_date_weekday(last) - weekday + 7) % 7;
  }
  oc_date first = oc_date_from_ymd(year, month, 1);
  return first + (weekday - oc_date_weekday(first) + 7) % 7 + 7 * (n - 1);
}

/* Western Easter Sunday (the anonymous Gregorian computus, "Meeus/Jones/Butcher"). */
static oc_date easter(int year) {
  int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return oc_date_from_ymd(year, month, day);
}

/* A fixed-date holiday moved off the weekend: Saturday -> Friday before, Sunday -> Monday after. */
static oc_date observed(int year, int month, int day) {
  oc_date d = oc_date_from_ymd(year, month, day);
  int wd = oc_date_weekday(d);
  return wd == 6 ? d - 1 : wd == 7 ? d + 1 : d;
}

enum { MAX_CLOSURES = 12, SHORT_STEP = 8 };

/* The closures of one year (each a weekday of that year), in no particular order. Returns the count. */
static int closures_of_year(int year, closure out[MAX_CLOSURES]) {
  int n = 0;
  oc_date new_year = oc_date_from_ymd(year, 1, 1);
  if (oc_date_weekday(new_year) != 6) /* NYSE Rule 7.2: a Saturday New Year's Day is not observed */
    out[n++] = (closure){"New Year's Day", observed(year, 1, 1)};
  if (year >= 1998) out[n++] = (closure){"Martin Luther King Jr. Day", nth_weekday(year, 1, 1, 3)};
  out[n++] = (closure){"Washington's Birthday", nth_weekday(year, 2, 1, 3)};
  out[n++] = (closure){"Good Friday", easter(year) - 2};
  out[n++] = (closure){"Memorial Day", nth_weekday(year, 5, 1, -1)};
  if (year >= 2022) out[n++] = (closure){"Juneteenth", observed(year, 6, 19)};
  out[n++] = (closure){"Independence Day", observed(year, 7, 4)};
  out[n++] = (closure){"Labor Day", nth_weekday(year, 9, 1, 1)};
  out[n++] = (closure){"Thanksgiving Day", nth_weekday(year, 11, 4, 4)};
  /* Christmas on a Saturday closes Friday 24 December of the same year, so no year's closure falls in
   * another year (New Year's Day never moves back into December, see above). */
  out[n++] = (closure){"Christmas Day", observed(year, 12, 25)};
  if (year == 2004) out[n++] = (closure){"National Day of Mourning (President Reagan)", oc_date_from_ymd(2004, 6, 11)};
  if (year == 2025) out[n++] = (closure){"National Day of Mourning (President Carter)", oc_date_from_ymd(2025, 1, 9)};
  assert(n <= MAX_CLOSURES);
  return n;
}

static int year_of(oc_date date) {
  int y, m, d;
  oc_date_to_ymd(date, &y, &m, &d);
  return y;
}

static const char *rules_holiday_name(oc_date date) {
  closure c[MAX_CLOSURES];
  int n = closures_of_year(year_of(date), c);
  for (int i = 0; i < n; i++)
    if (c[i].date == date) return c[i].name;
  return NULL;
}

static bool rules_is_trading_day(oc_date date) {
  return oc_date_weekday(date) <= 5 && rules_holiday_name(date) == NULL;
}

/* Year FIRST_YEAR + i: open[] bit k is day k (0-based day of year) being a trading day; before = the
 * trading days from FIRST_YEAR-01-01 up to the year's first day. */
static struct {
  uint64_t open[YEARS][WORDS];
  int32_t before[YEARS + 1];
  oc_date jan1[YEARS];        /* the year's first day */
  oc_date first_day, end_day; /* FIRST_YEAR-01-01 and (LAST_YEAR + 1)-01-01 */
} table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
  table.first_day = oc_date_from_ymd(FIRST_YEAR, 1, 1);
  table.end_day = oc_date_from_ymd(LAST_YEAR + 1, 1, 1);
  int32_t count = 0;
  for (int i = 0; i < YEARS; i++) {
    int year = FIRST_YEAR + i;
    oc_date jan1 = oc_date_from_ymd(year, 1, 1);
    table.jan1[i] = jan1;
    table.before[i] = count;
    for (int k = 0; k < oc_date_days_in_year(year); k++)
      if (oc_date_weekday(jan1 + k) <= 5) table.open[i][k / 64] |= 1ull << (k % 64);
    closure c[MAX_CLOSURES];
    int n = closures_of_year(year, c);
    for (int j = 0; j < n; j++) {
      int k = c[j].date - jan1;
      assert(k >= 0 && k < oc_date_days_in_year(year) && oc_date_weekday(c[j].date) <= 5);
      table.open[i][k / 64] &= ~(1ull << (k % 64));
    }
    for (int w = 0; w < WORDS; w++) count += __builtin_popcountll(table.open[i][w]);
  }
  table.before[YEARS] = count;
}

static bool in_table(oc_date date) {
  pthread_once(&table_once, build_table);
  return date >= table.first_day && date < table.end_day;
}

/* The table's year index and 0-based day of year of an in-table date. */
static void locate(oc_date date, int *index, int *day) {
  *index = year_of(date) - FIRST_YEAR;
  *day = date - table.jan1[*index];
}

bool oc_calendar_is_trading_day(oc_date date) {
  if (!in_table(date)) return rules_is_trading_day(date);
  int i, k;
  locate(date, &i, &k);
  return (table.open[i][k / 64] >> (k % 64)) & 1;
}

const char *oc_calendar_holiday_name(oc_date date) { return rules_holiday_name(date); }

/* Trading days from FIRST_YEAR-01-01 up to and including an in-table date. */
static int32_t rank(oc_date date) {
  int i, k;
  locate(date, &i, &k);
  int32_t r = table.before[i];
  for (int w = 0; w < k / 64; w++) r += __builtin_popcountll(table.open[i][w]);
  uint64_t upto = k % 64 == 63 ? ~0ull : (1ull << (k % 64 + 1)) - 1;
  return r + __builtin_popcountll(table.open[i][k / 64] & upto);
}

/* The trading day of rank r (1 <= r <= table.before[YEARS]). */
static oc_date select_rank(int32_t r) {
  assert(r >= 1 && r <= table.before[YEARS]);
  int lo = 0, hi = YEARS - 1; /* the year i with before[i] < r <= before[i + 1] */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (table.before[mid] < r) lo = mid;
    else hi = mid - 1;
  }
  int32_t left = r - table.before[lo];
  int w = 0;
  for (; left > __builtin_popcountll(table.open[lo][w]); w++) left -= __builtin_popcountll(table.open[lo][w]);
  uint64_t bits = table.open[lo][w];
  while (--left > 0) bits &= bits - 1; /* drop the lowest set bits before the wanted one */
  return table.jan1[lo] + w * 64 + __builtin_ctzll(bits);
}

oc_date oc_calendar_add_trading_days(oc_date date, int n) {
  if (n == 0) return date;
  /* A few days (the common step of 1) are quicker day by day than by rank and select. */
  if (in_table(date) && (n > SHORT_STEP || n < -SHORT_STEP)) {
    /* n > 0: the day ranked n after date; n < 0: ranks counted back from the day before date. */
    int64_t r = n > 0 ? (int64_t)rank(date) + n : (date > table.first_day ? rank(date - 1) : 0) + (int64_t)n + 1;
    if (r >= 1 && r <= table.before[YEARS]) return select_rank((int32_t)r);
  }
  int step = n > 0 ? 1 : -1;
  for (int left = n > 0 ? n : -n; left > 0;) {
    date += step;
    if (oc_calendar_is_trading_day(date)) left--;
  }
  return date;
}

oc_date oc_calendar_next_trading_day(oc_date date) { return oc_calendar_add_trading_days(date, 1); }

oc_date oc_calendar_previous_trading_day(oc_date date) { return oc_calendar_add_trading_days(date, -1); }

oc_date oc_calendar_trading_day_on_or_after(oc_date date) { return oc_calendar_next_trading_day(date - 1); }

oc_date oc_calendar_trading_day_on_or_before(oc_date date) { return oc_calendar_previous_trading_day(date + 1); }

int oc_calendar_trading_days_between(oc_date from, oc_date to) {
  if (to < from) return -oc_calendar_trading_days_between(to, from);
  if (in_table(from) && in_table(to)) return (int)(rank(to) - rank(from));
  int count = 0;
  for (oc_date d = from + 1; d <= to; d++) count += oc_calendar_is_trading_day(d);
  return count;
}
