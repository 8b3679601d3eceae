/* date.c: civil-date arithmetic (days-from-civil / civil-from-days, the era-based algorithms published
 * by Howard Hinnant) and strict ISO parsing. Must not touch time zones. */
#include "core/date.h"

#include <assert.h>
#include <stdio.h>
#include <time.h>

static bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int oc_date_days_in_year(int year) { return is_leap(year) ? 366 : 365; }

int oc_date_days_in_month(int year, int month) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

bool oc_date_ymd_valid(int year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= oc_date_days_in_month(year, month);
}

oc_date oc_date_from_ymd(int year, int month, int day) {
  assert(oc_date_ymd_valid(year, month, day));
  int y = year - (month <= 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void oc_date_to_ymd(oc_date date, int *year, int *month, int *day) {
  int z = date + 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = yoe + era * 400;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  int d = doy - (153 * mp + 2) / 5 + 1;
  int m = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (m <= 2);
  *month = m;
  *day = d;
}

static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int oc_date_parse(const char *text, size_t len, oc_date *out, const char **reason) {
  const char *why = NULL;
  int year = -1, month = -1, day = -1;
  if (len != 10 || text[4] != '-' || text[7] != '-') {
    why = "expected a date as YYYY-MM-DD";
  } else if ((year = digits(text, 4)) < 0 || (month = digits(text + 5, 2)) < 0 ||
             (day = digits(text + 8, 2)) < 0) {
    why = "expected a date as YYYY-MM-DD (digits only)";
  } else if (year < 1) {
    why = "year 0000 is not a valid date";
  } else if (month < 1 || month > 12) {
    why = "month out of range 01..12";
  } else if (day < 1 || day > oc_date_days_in_month(year, month)) {
    why = "day does not exist in that month";
  }
  if (why) {
    if (reason) *reason = why;
    return -1;
  }
  *out = oc_date_from_ymd(year, month, day);
  return 0;
}

char *oc_date_format(oc_date date, char *buf) {
  int y, m, d;
  oc_date_to_ymd(date, &y, &m, &d);
  if (y < 0 || y > 9999) {
    snprintf(buf, OC_DATE_STRLEN, "invalid");
  } else {
    /* By hand: this runs once per stored row on imports of millions of rows, where printf shows up. */
    buf[0] = (char)('0' + y / 1000), buf[1] = (char)('0' + y / 100 % 10), buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10), buf[4] = '-', buf[5] = (char)('0' + m / 10), buf[6] = (char)('0' + m % 10);
    buf[7] = '-', buf[8] = (char)('0' + d / 10), buf[9] = (char)('0' + d % 10), buf[10] = '\0';
  }
  return buf;
}

int oc_date_weekday(oc_date date) {
  /* 1970-01-01 was a Thursday (ISO 4). */
  int w = (date + 3) % 7; /* 0 = Monday */
  if (w < 0) w += 7;
  return w + 1;
}

int oc_date_day_of_year(oc_date date) {
  int y, m, d;
  oc_date_to_ymd(date, &y, &m, &d);
  return date - oc_date_from_ymd(y, 1, 1) + 1;
}

char *oc_timestamp_format(int64_t unix_seconds, char *buf) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
  int64_t secs = unix_seconds - days * 86400;
  int y, m, d;
  oc_date_to_ymd((oc_date)days, &y, &m, &d);
  snprintf(buf, OC_TIMESTAMP_STRLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(secs / 3600),
           (int)(secs / 60 % 60), (int)(secs % 60));
  return buf;
}

oc_date oc_date_today_utc(void) {
  time_t now = time(NULL);
  return (oc_date)(now / 86400);
}
