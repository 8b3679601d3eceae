/* calendar.h: the trading calendar of the EIA daily spot price series (RWTC, WTI Cushing; RBRTE,
 * Brent): which dates carry a price. Every date oilcast generates (forecast points, simulated days,
 * counts of missing days) comes from here, so that the label of horizon h is the h-th trading day after
 * the origin, the day whose price it forecasts. This module knows dates only: it must not read data
 * files, and it never guesses from data at run time (the rules below are fixed, and tested against the
 * real file in tests/unit/test_calendar.c).
 *
 * A date is a trading day unless it is a Saturday, a Sunday, or one of these closures:
 *   New Year's Day          1 Jan                                  (a Sunday -> Monday 2 Jan)
 *   Martin Luther King Day  3rd Monday of January, from 1998       (NYSE first closed for it in 1998)
 *   Washington's Birthday   3rd Monday of February ("Presidents' Day")
 *   Good Friday             2 days before Western (Gregorian) Easter
 *   Memorial Day            last Monday of May
 *   Juneteenth              19 June, from 2022                     (first observed by the exchanges 2022)
 *   Independence Day        4 July
 *   Labor Day               1st Monday of September
 *   Thanksgiving            4th Thursday of November
 *   Christmas Day           25 December
 *   Days of mourning        2004-06-11 (President Reagan), 2025-01-09 (President Carter)
 * Observed dates: a fixed-date holiday on a Saturday is observed on the Friday before, on a Sunday on
 * the Monday after; except New Year's Day on a Saturday, which is not observed at all (NYSE Rule 7.2:
 * the Friday before closes a year and stays a trading day; the EIA series has prices on 2010-12-31 and
 * 2021-12-31).
 *
 * Sources: NYSE holiday rules (Rule 7.2 and the exchange's holiday schedules) and CME/NYMEX energy holiday
 * calendars for the rules; checked day by day against the EIA file 1986..2024 (see the test). Found in
 * that data, and deliberately NOT closures here: Columbus Day and Veterans Day are trading days (NYMEX
 * trades; the EIA series has prices on them in all but a handful of years); the day after Thanksgiving,
 * Christmas Eve and New Year's Eve are trading days; 2001-09-11..14, 2012-10-29..30 (Hurricane Sandy),
 * 2007-01-02 and 2018-12-05 (days of mourning), when the NYSE closed, all carry an EIA price. The test
 * lists and explains every date where the file and these rules disagree.
 *
 * Years 1900..2299 are answered from a table built once (thread-safe); any other year from the rules
 * directly (the same answers, slower). */
#ifndef OC_CALENDAR_H
#define OC_CALENDAR_H

#include <stdbool.h>

#include "core/date.h"

bool oc_calendar_is_trading_day(oc_date date);
/* The name of the closure observed on date ("Good Friday", "Christmas Day", ...), or NULL when date is
 * not a holiday closure (a weekend is not one: it has no name). */
const char *oc_calendar_holiday_name(oc_date date);
/* The first trading day after date (strictly). */
oc_date oc_calendar_next_trading_day(oc_date date);
/* The last trading day before date (strictly). */
oc_date oc_calendar_previous_trading_day(oc_date date);
/* date itself when it is a trading day, else the next one / the previous one. */
oc_date oc_calendar_trading_day_on_or_after(oc_date date);
oc_date oc_calendar_trading_day_on_or_before(oc_date date);
/* The n-th trading day after date (n > 0) or the -n-th before it (n < 0), date itself not counted
 * (so +1 from a Saturday is the Monday, or the Tuesday when that Monday is a holiday); n == 0 returns
 * date unchanged, whatever day it is. */
oc_date oc_calendar_add_trading_days(oc_date date, int n);
/* The number of trading days d with from < d <= to (negative when to < from). */
int oc_calendar_trading_days_between(oc_date from, oc_date to);

#endif
