/* Unit tests for src/core/calendar: known answers for every holiday rule and observed-date rule (no data
 * needed), the table against the rules and against stepping day by day, and then the real EIA WTI file:
 * for every full year in it, the calendar's trading days are exactly the file's dates, except the dates
 * listed below with their reasons. The data part reports itself skipped without the shared data (and
 * fails when CI=true), after the known-answer tests have run. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"

static oc_date D(const char *s) {
  oc_date d;
  assert_int_equal(oc_date_parse(s, strlen(s), &d, NULL), 0);
  return d;
}

static void assert_closed(const char *date, const char *holiday) {
  const char *name = oc_calendar_holiday_name(D(date));
  if (!name || strcmp(name, holiday) != 0) fail_msg("%s: expected %s, got %s", date, holiday, name ? name : "no holiday");
  assert_false(oc_calendar_is_trading_day(D(date)));
}

static void assert_open(const char *date) {
  if (!oc_calendar_is_trading_day(D(date))) fail_msg("%s: expected a trading day", date);
  assert_null(oc_calendar_holiday_name(D(date)));
}

static void test_holidays(void **state) {
  (void)state;
  assert_closed("2025-01-01", "New Year's Day");
  assert_closed("2023-01-02", "New Year's Day"); /* Sunday 1 Jan -> Monday */
  assert_open("2021-12-31");                     /* Saturday 1 Jan 2022: not observed (NYSE Rule 7.2) */
  assert_open("2010-12-31");
  assert_closed("2025-01-20", "Martin Luther King Jr. Day");
  assert_open("1997-01-20"); /* before 1998 a trading day */
  assert_closed("1998-01-19", "Martin Luther King Jr. Day");
  assert_closed("2025-02-17", "Washington's Birthday");
  assert_closed("2025-04-18", "Good Friday");
  assert_closed("2024-03-29", "Good Friday");
  assert_closed("2019-04-19", "Good Friday");
  assert_closed("2038-04-23", "Good Friday"); /* latest possible Easter: 25 April */
  assert_closed("2285-03-20", "Good Friday"); /* earliest possible Easter: 22 March */
  assert_closed("2025-05-26", "Memorial Day");
  assert_open("2021-06-18"); /* Juneteenth only from 2022 */
  assert_closed("2022-06-20", "Juneteenth"); /* Sunday -> Monday */
  assert_closed("2025-06-19", "Juneteenth");
  assert_closed("2027-06-18", "Juneteenth"); /* Saturday -> Friday */
  assert_closed("2025-07-04", "Independence Day");
  assert_closed("2020-07-03", "Independence Day"); /* Saturday -> Friday */
  assert_closed("2021-07-05", "Independence Day"); /* Sunday -> Monday */
  assert_closed("2025-09-01", "Labor Day");
  assert_closed("2025-11-27", "Thanksgiving Day");
  assert_open("2025-11-28"); /* the day after */
  assert_closed("2025-12-25", "Christmas Day");
  assert_closed("2021-12-24", "Christmas Day"); /* Saturday -> Friday */
  assert_closed("2022-12-26", "Christmas Day"); /* Sunday -> Monday */
  assert_open("2025-12-24");
  assert_open("2025-12-26");
  assert_closed("2004-06-11", "National Day of Mourning (President Reagan)");
  assert_closed("2025-01-09", "National Day of Mourning (President Carter)");
  /* Columbus Day and Veterans Day trade (NYMEX is open; the bond market is not). */
  assert_open("2025-10-13");
  assert_open("2025-11-11");
  /* A weekend is closed but is no holiday. */
  assert_false(oc_calendar_is_trading_day(D("2025-01-04")));
  assert_null(oc_calendar_holiday_name(D("2025-01-04")));
}

static void test_stepping(void **state) {
  (void)state;
  /* The examples: a forecast from 2024-12-31 starts on 2025-01-02; origin 2025-01-02, h5 is
   * 2025-01-10 (2025-01-09 closed). */
  assert_int_equal(oc_calendar_next_trading_day(D("2024-12-31")), D("2025-01-02"));
  assert_int_equal(oc_calendar_add_trading_days(D("2025-01-02"), 5), D("2025-01-10"));
  assert_int_equal(oc_calendar_add_trading_days(D("2024-12-27"), 1), D("2024-12-30"));  /* Friday + 1 */
  assert_int_equal(oc_calendar_add_trading_days(D("2024-12-30"), -1), D("2024-12-27")); /* Monday - 1 */
  assert_int_equal(oc_calendar_add_trading_days(D("2024-12-28"), 1), D("2024-12-30"));  /* Saturday + 1 */
  assert_int_equal(oc_calendar_add_trading_days(D("2024-12-29"), -1), D("2024-12-27")); /* Sunday - 1 */
  assert_int_equal(oc_calendar_add_trading_days(D("2024-12-28"), 5), D("2025-01-06"));
  assert_int_equal(oc_calendar_add_trading_days(D("2025-01-01"), 0), D("2025-01-01"));
  assert_int_equal(oc_calendar_previous_trading_day(D("2025-01-02")), D("2024-12-31"));
  assert_int_equal(oc_calendar_trading_day_on_or_after(D("2025-01-01")), D("2025-01-02"));
  assert_int_equal(oc_calendar_trading_day_on_or_after(D("2025-01-02")), D("2025-01-02"));
  assert_int_equal(oc_calendar_trading_day_on_or_before(D("2025-01-01")), D("2024-12-31"));
  assert_int_equal(oc_calendar_trading_day_on_or_before(D("2025-01-05")), D("2025-01-03"));
  assert_int_equal(oc_calendar_trading_days_between(D("2024-12-31"), D("2025-01-10")), 6);
  assert_int_equal(oc_calendar_trading_days_between(D("2025-01-10"), D("2024-12-31")), -6);
  assert_int_equal(oc_calendar_trading_days_between(D("2025-01-01"), D("2025-01-01")), 0);
  /* 2025: 365 days, 104 weekend days, 11 closures (10 holidays, one day of mourning). */
  assert_int_equal(oc_calendar_trading_days_between(D("2024-12-31"), D("2025-12-31")), 250);
}

/* The table's answers (rank and select) against stepping one day at a time, for starts spread over the
 * table and across its edges (1900-01-01 and 2300-01-01, where the rules answer directly). */
static void test_table_agrees_with_stepping(void **state) {
  (void)state;
  const char *starts[] = {"1899-12-20", "1900-01-01", "1999-12-24", "2004-06-05", "2024-12-20", "2299-12-20", "2300-01-05"};
  for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
    for (oc_date start = D(starts[s]); start < D(starts[s]) + 21; start++) {
      for (int n = -30; n <= 30; n++) {
        oc_date slow = start;
        for (int k = 0; k < abs(n); k++) {
          do slow += n > 0 ? 1 : -1;
          while (!oc_calendar_is_trading_day(slow));
        }
        assert_int_equal(oc_calendar_add_trading_days(start, n), slow);
        int between = 0;
        for (oc_date d = start + 1; d <= slow; d++) between += oc_calendar_is_trading_day(d);
        for (oc_date d = slow + 1; d <= start; d++) between -= oc_calendar_is_trading_day(d);
        assert_int_equal(oc_calendar_trading_days_between(start, slow), between);
      }
    }
  }
  /* Long counts: the table's rank against a day-by-day count over 1900..2300. */
  int count = 0;
  for (oc_date d = D("1899-12-31") + 1; d <= D("2300-01-10"); d++) {
    count += oc_calendar_is_trading_day(d);
    if (d % 997 == 0) assert_int_equal(oc_calendar_trading_days_between(D("1899-12-31"), d), count);
  }
}

/* Where the EIA WTI file and the calendar disagree, 1986..2024. */
typedef struct {
  const char *date;
  const char *why;
} exception;

/* Trading days by the rules that have no price in the file: one-off gaps in the EIA series, not rules
 * (each kind below also occurs, in other years, with a price). */
static const exception missing[] = {
    {"1986-10-13", "Columbus Day: priced in every other year to 2022"},
    {"1986-12-26", "day after Christmas"},
    {"1987-03-24", "a Tuesday without a price (gap in the series)"},
    {"1993-02-03", "a Wednesday without a price (gap in the series)"},
    {"1993-04-28", "a Wednesday without a price (gap in the series)"},
    {"1993-12-31", "Friday before a Saturday New Year's Day: closed in 1993, 1999, 2004; open 2010, 2021 (NYSE rule)"},
    {"1999-12-31", "Friday before a Saturday New Year's Day (Y2K eve)"},
    {"2004-12-31", "Friday before a Saturday New Year's Day"},
    {"2000-01-03", "first trading day of 2000 (Y2K)"},
    {"2003-12-26", "day after Christmas"},
    {"2004-01-02", "day after New Year's Day"},
    {"2001-12-24", "Christmas Eve on a Monday (priced in 2007 and 2012, the other Monday Christmas Eves)"},
    {"2018-12-24", "Christmas Eve on a Monday"},
    {"2018-12-31", "New Year's Eve on a Monday"},
    {"2000-07-03", "Monday before a Tuesday Independence Day (priced in 1995 and 2023)"},
    {"2006-07-03", "Monday before a Tuesday Independence Day"},
    {"2017-07-03", "Monday before a Tuesday Independence Day"},
    {"2002-07-05", "Friday after a Thursday Independence Day (priced in 1991, 1996, 2013, 2024)"},
    {"2019-07-05", "Friday after a Thursday Independence Day"},
    {"1994-11-25", "day after Thanksgiving: without a price in 13 of 39 years, with one in the other 26"},
    {"1995-11-24", "day after Thanksgiving"},
    {"1997-11-28", "day after Thanksgiving"},
    {"1998-11-27", "day after Thanksgiving"},
    {"2001-11-23", "day after Thanksgiving"},
    {"2002-11-29", "day after Thanksgiving"},
    {"2003-11-28", "day after Thanksgiving"},
    {"2004-11-26", "day after Thanksgiving"},
    {"2005-11-25", "day after Thanksgiving"},
    {"2006-11-24", "day after Thanksgiving"},
    {"2018-11-23", "day after Thanksgiving"},
    {"2020-11-27", "day after Thanksgiving"},
    {"2021-11-26", "day after Thanksgiving"},
    {"2019-11-11", "Veterans Day (a bond-market holiday; NYMEX trades): priced in every other year to 2022"},
    {"2023-10-09", "Columbus Day (a bond-market holiday; NYMEX trades)"},
    {"2023-11-10", "Friday before Veterans Day on a Saturday"},
    {"2024-10-14", "Columbus Day"},
    {"2024-11-11", "Veterans Day"},
};

/* Closures by the rules that carry a price in the file: 1987..1992, the series' first years, has prices
 * on exchange holidays (the rules hold from 1993 on without exception). */
static const exception priced[] = {
    {"1987-07-03", "Independence Day observed"}, {"1987-09-07", "Labor Day"},
    {"1988-02-15", "Washington's Birthday"},     {"1988-05-30", "Memorial Day"},
    {"1988-09-05", "Labor Day"},                 {"1988-11-24", "Thanksgiving Day"},
    {"1989-02-20", "Washington's Birthday"},     {"1989-05-29", "Memorial Day"},
    {"1989-07-04", "Independence Day"},          {"1989-09-04", "Labor Day"},
    {"1989-11-23", "Thanksgiving Day"},          {"1990-02-19", "Washington's Birthday"},
    {"1990-07-04", "Independence Day"},          {"1990-09-03", "Labor Day"},
    {"1990-11-22", "Thanksgiving Day"},          {"1991-02-18", "Washington's Birthday"},
    {"1991-07-04", "Independence Day"},          {"1991-11-28", "Thanksgiving Day"},
    {"1992-02-17", "Washington's Birthday"},     {"1992-07-03", "Independence Day observed"},
    {"1992-09-07", "Labor Day"},
};

static bool listed(const exception *list, size_t n, oc_date date) {
  char text[OC_DATE_STRLEN];
  oc_date_format(date, text);
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i].date, text) == 0) return true;
  return false;
}

static void test_wti_dates(void **state) {
  (void)state;
  char *path = oc_test_data_path("wti-daily.csv");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[128];
  assert_non_null(fgets(line, sizeof line, f)); /* header */
  size_t n = 0, cap = 16384;
  oc_date *dates = malloc(cap * sizeof *dates);
  while (fgets(line, sizeof line, f)) {
    assert_true(n < cap);
    dates[n++] = D(strtok(line, ","));
  }
  fclose(f);
  free(path);
  int first_year, last_year, m, d;
  oc_date_to_ymd(dates[0], &first_year, &m, &d);
  if (oc_calendar_trading_day_on_or_after(oc_date_from_ymd(first_year, 1, 1)) != dates[0]) first_year++;
  oc_date_to_ymd(dates[n - 1], &last_year, &m, &d);
  if (oc_calendar_trading_day_on_or_before(oc_date_from_ymd(last_year, 12, 31)) != dates[n - 1]) last_year--;
  assert_true(last_year - first_year >= 30);
  size_t nmissing = sizeof missing / sizeof *missing, npriced = sizeof priced / sizeof *priced;
  int disagreements = 0, excused = 0;
  size_t i = 0;
  char text[OC_DATE_STRLEN];
  for (oc_date day = oc_date_from_ymd(first_year, 1, 1); day <= oc_date_from_ymd(last_year, 12, 31); day++) {
    while (i < n && dates[i] < day) i++;
    bool in_file = i < n && dates[i] == day, trading = oc_calendar_is_trading_day(day);
    if (in_file == trading) continue;
    if (listed(trading ? missing : priced, trading ? nmissing : npriced, day)) {
      excused++;
      continue;
    }
    print_error("%s: %s\n", oc_date_format(day, text),
                trading ? "a trading day without a price" : "a price on a closure");
    disagreements++;
  }
  free(dates);
  assert_int_equal(disagreements, 0);
  /* Every exception is used: a listed date that agrees is a stale entry. */
  assert_int_equal(excused, (int)(nmissing + npriced));
}

int main(void) {
  const struct CMUnitTest rules[] = {
      cmocka_unit_test(test_holidays),
      cmocka_unit_test(test_stepping),
      cmocka_unit_test(test_table_agrees_with_stepping),
  };
  int failed = cmocka_run_group_tests_name("calendar rules", rules, NULL, NULL);
  if (failed) return failed;
  const struct CMUnitTest data[] = {cmocka_unit_test(test_wti_dates)};
  return cmocka_run_group_tests_name("calendar against the EIA WTI file", data, NULL, NULL);
}
