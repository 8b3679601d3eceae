/* schedule.c: see schedule.h. A day schedule's slots are found by walking civil days (at most a week
 * for weekdays, a couple of weeks over holiday runs for trading days), never by local-time
 * conversions of the C library. */
#include "schedule/schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/date.h"

#define DAY_SECONDS 86400
#define ALL_WEEKDAYS 0xFEu /* bits 1..7 */

static const char *const weekday_names[8] = {"", "monday", "tuesday", "wednesday", "thursday",
                                             "friday", "saturday", "sunday"};

/* Floor division: the civil day holding local second t. */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static bool runs_on(const oc_schedule *s, oc_date day) {
  if (s->kind == OC_SCHEDULE_TRADING_DAYS) return oc_calendar_is_trading_day(day);
  return s->weekdays & (1u << oc_date_weekday(day));
}

static int64_t slot_of(const oc_schedule *s, oc_date day) {
  return (int64_t)day * DAY_SECONDS + s->time_of_day - s->offset;
}

int64_t oc_schedule_next(const oc_schedule *s, int64_t t) {
  if (s->kind == OC_SCHEDULE_INTERVAL) {
    int64_t local = t + s->offset;
    return (floor_div(local, s->interval) + 1) * s->interval - s->offset;
  }
  oc_date day = (oc_date)floor_div(t + s->offset, DAY_SECONDS);
  while (!runs_on(s, day) || slot_of(s, day) <= t) day++;
  return slot_of(s, day);
}

int64_t oc_schedule_latest(const oc_schedule *s, int64_t t) {
  if (s->kind == OC_SCHEDULE_INTERVAL) {
    int64_t local = t + s->offset;
    return floor_div(local, s->interval) * s->interval - s->offset;
  }
  oc_date day = (oc_date)floor_div(t + s->offset, DAY_SECONDS);
  while (!runs_on(s, day) || slot_of(s, day) > t) day--;
  return slot_of(s, day);
}

/* The next blank-separated word of *p (at most cap-1 bytes, lowercased); "" at the end. */
static const char *next_word(const char **p, char *word, size_t cap) {
  while (isspace((unsigned char)**p)) (*p)++;
  size_t n = 0;
  while (**p && !isspace((unsigned char)**p)) {
    if (n + 1 < cap) word[n++] = (char)tolower((unsigned char)**p);
    (*p)++;
  }
  word[n] = '\0';
  return word;
}

static int parse_interval(const char *word, int64_t *seconds) {
  char *end;
  long long n = strtoll(word, &end, 10);
  int64_t unit = strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600 : 0;
  if (end == word || n <= 0 || !unit || n > 366LL * DAY_SECONDS / unit) return -1;
  *seconds = n * unit;
  return 0;
}

static int parse_weekdays(const char *word, unsigned *days) {
  *days = 0;
  char copy[96];
  snprintf(copy, sizeof copy, "%s", word);
  for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    int found = 0;
    for (int d = 1; d <= 7 && !found; d++)
      if (strcmp(name, weekday_names[d]) == 0 || (strlen(name) == 3 && strncmp(name, weekday_names[d], 3) == 0))
        found = d;
    if (!found) return -1;
    *days |= 1u << found;
  }
  return *days ? 0 : -1;
}

/* "H:MM" or "HH:MM", digits only, as *h and *m (m <= 59); -1 otherwise. Not sscanf's %d, which takes a
 * sign: "+-1:00" was read as the zone -01:00, "--1:00" as +01:00 and "-0:30" as the time 00:30. */
static int parse_hours_minutes(const char *word, int *h, int *m) {
  size_t hours = 0;
  while (isdigit((unsigned char)word[hours])) hours++;
  if (hours < 1 || hours > 2 || word[hours] != ':' || !isdigit((unsigned char)word[hours + 1]) ||
      !isdigit((unsigned char)word[hours + 2]) || word[hours + 3])
    return -1;
  *h = atoi(word);
  *m = (word[hours + 1] - '0') * 10 + (word[hours + 2] - '0');
  return *m <= 59 ? 0 : -1;
}

static int parse_time(const char *word, int *seconds) {
  int h, m;
  if (parse_hours_minutes(word, &h, &m) != 0 || h > 23) return -1;
  *seconds = h * 3600 + m * 60;
  return 0;
}

static int parse_zone(const char *word, int *offset) {
  if (!*word || strcmp(word, "utc") == 0 || strcmp(word, "z") == 0) {
    *offset = 0;
    return 0;
  }
  int h, m;
  if ((word[0] != '+' && word[0] != '-') || parse_hours_minutes(word + 1, &h, &m) != 0 || h > 14) return -1;
  *offset = (word[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
  return 0;
}

int oc_schedule_parse(const char *text, oc_schedule *out, oc_error *err) {
  const char *p = text;
  char word[96];
  memset(out, 0, sizeof *out);
  if (strcmp(next_word(&p, word, sizeof word), "every") != 0)
    return oc_error_set(err, "schedule '%s': must start with 'every'", text);
  next_word(&p, word, sizeof word);
  if (isdigit((unsigned char)word[0])) {
    out->kind = OC_SCHEDULE_INTERVAL;
    if (parse_interval(word, &out->interval) != 0)
      return oc_error_set(err, "schedule '%s': '%s' is not an interval such as 90s, 15m or 2h (up to a year)", text,
                          word);
  } else {
    if (strcmp(word, "day") == 0) {
      out->kind = OC_SCHEDULE_DAYS;
      out->weekdays = ALL_WEEKDAYS;
    } else if (strcmp(word, "trading-day") == 0) {
      out->kind = OC_SCHEDULE_TRADING_DAYS;
    } else if (parse_weekdays(word, &out->weekdays) == 0) {
      out->kind = OC_SCHEDULE_DAYS;
    } else {
      return oc_error_set(err,
                          "schedule '%s': '%s' is not 'day', 'trading-day', weekdays (monday,thursday) or an "
                          "interval (15m)",
                          text, word);
    }
    if (strcmp(next_word(&p, word, sizeof word), "at") != 0)
      return oc_error_set(err, "schedule '%s': expected 'at HH:MM' after the days", text);
    if (parse_time(next_word(&p, word, sizeof word), &out->time_of_day) != 0)
      return oc_error_set(err, "schedule '%s': '%s' is not a time of day HH:MM (00:00..23:59)", text, word);
  }
  if (parse_zone(next_word(&p, word, sizeof word), &out->offset) != 0)
    return oc_error_set(err,
                        "schedule '%s': zone '%s' must be UTC or a fixed offset such as +01:00 (zones with "
                        "daylight saving are not accepted: give the UTC time)",
                        text, word);
  if (*next_word(&p, word, sizeof word)) return oc_error_set(err, "schedule '%s': unexpected '%s' at the end", text, word);
  return 0;
}

static void format_zone(int offset, char *buf, size_t cap) {
  if (offset == 0) snprintf(buf, cap, "UTC");
  else snprintf(buf, cap, "%c%02d:%02d", offset < 0 ? '-' : '+', abs(offset) / 3600, abs(offset) % 3600 / 60);
}

char *oc_schedule_format(const oc_schedule *s, char *buf) {
  char zone[8], days[72] = "";
  format_zone(s->offset, zone, sizeof zone);
  if (s->kind == OC_SCHEDULE_INTERVAL) {
    int64_t n = s->interval;
    const char *unit = n % 3600 == 0 ? "h" : n % 60 == 0 ? "m" : "s";
    n /= n % 3600 == 0 ? 3600 : n % 60 == 0 ? 60 : 1;
    snprintf(buf, OC_SCHEDULE_STRLEN, "every %lld%s %s", (long long)n, unit, zone);
    return buf;
  }
  if (s->kind == OC_SCHEDULE_TRADING_DAYS) {
    snprintf(days, sizeof days, "trading-day");
  } else if (s->weekdays == ALL_WEEKDAYS) {
    snprintf(days, sizeof days, "day");
  } else {
    for (int d = 1; d <= 7; d++)
      if (s->weekdays & (1u << d)) snprintf(days + strlen(days), sizeof days - strlen(days), "%s%s", *days ? "," : "", weekday_names[d]);
  }
  snprintf(buf, OC_SCHEDULE_STRLEN, "every %s at %02d:%02d %s", days, s->time_of_day / 3600, s->time_of_day % 3600 / 60,
           zone);
  return buf;
}
