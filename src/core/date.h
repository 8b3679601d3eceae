/* date.h: civil (calendar) dates as a day count, with no time zone anywhere. Prices are quoted per
 * trading day (which days trade is core/calendar.h), so a date is never a timestamp: converting
 * through time_t/mktime and the local zone is how off-by-one-day bugs are born, and this module must
 * never do it.
 * oc_date = days since 1970-01-01 in the proleptic Gregorian calendar (negative before 1970). */
#ifndef OC_DATE_H
#define OC_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t oc_date;
#define OC_DATE_INVALID INT32_MIN
#define OC_DATE_STRLEN 11 /* "YYYY-MM-DD" + NUL */

bool oc_date_ymd_valid(int year, int month, int day);
/* The caller guarantees a valid y/m/d (see oc_date_ymd_valid). */
oc_date oc_date_from_ymd(int year, int month, int day);
void oc_date_to_ymd(oc_date date, int *year, int *month, int *day);

/* Strict ISO 8601 calendar date: exactly "YYYY-MM-DD" (len bytes, no surrounding blanks), year
 * 0001..9999, a real day of that month. On failure returns -1 and, when reason != NULL, points it at
 * a static description ("day 31 does not exist in 2023-04"). */
int oc_date_parse(const char *text, size_t len, oc_date *out, const char **reason);
/* Writes "YYYY-MM-DD" and a NUL into buf (at least OC_DATE_STRLEN bytes). Returns buf. */
char *oc_date_format(oc_date date, char *buf);

/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int oc_date_weekday(oc_date date);
/* 1..366 */
int oc_date_day_of_year(oc_date date);
int oc_date_days_in_year(int year);
int oc_date_days_in_month(int year, int month);
/* Today's date in UTC. */
oc_date oc_date_today_utc(void);

/* A moment (Unix seconds) as ISO 8601 UTC, "2026-11-26T16:40:00Z", into buf (OC_TIMESTAMP_STRLEN bytes).
 * Returns buf. */
#define OC_TIMESTAMP_STRLEN 21
char *oc_timestamp_format(int64_t unix_seconds, char *buf);

#endif
