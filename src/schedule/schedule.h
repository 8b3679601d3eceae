/* schedule.h: when a job runs. A schedule is one line of text, parsed once, and two questions asked
 * of it: the first slot after a moment, and the latest slot at or before a moment (what a scheduler
 * that was down must catch up). Slots are Unix seconds; days are civil dates in the schedule's own
 * fixed UTC offset, and "trading-day" means core/calendar.h's trading days (the EIA spot calendar):
 *   every 15m | every 2h | every 90s               fixed interval, slots at multiples of it since
 *                                                   1970-01-01 00:00 in the offset
 *   every day at 22:00 [ZONE]                       each day
 *   every trading-day at 22:00 [ZONE]               each trading day
 *   every monday,thursday at 07:30 [ZONE]           given weekdays (monday..sunday, or mon..sun)
 * ZONE is UTC (the default), Z, or a fixed offset +HH:MM / -HH:MM. Zones with daylight saving are not
 * accepted: a slot that moves twice a year is a surprise, so give its UTC time. Knows time and the
 * calendar; must not know what a job does. */
#ifndef OC_SCHEDULE_SCHEDULE_H
#define OC_SCHEDULE_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum { OC_SCHEDULE_INTERVAL, OC_SCHEDULE_DAYS, OC_SCHEDULE_TRADING_DAYS } oc_schedule_kind;

typedef struct oc_schedule {
  oc_schedule_kind kind;
  int64_t interval;      /* OC_SCHEDULE_INTERVAL: seconds, > 0 */
  int time_of_day;       /* seconds after local midnight, for the day kinds */
  unsigned weekdays;     /* OC_SCHEDULE_DAYS: bit (1 << ISO weekday 1..7); all seven for "day" */
  int offset;            /* seconds east of UTC */
} oc_schedule;

/* Parses text (the grammar above); an error names the part that is wrong. */
int oc_schedule_parse(const char *text, oc_schedule *out, oc_error *err);
/* The first slot strictly after t. */
int64_t oc_schedule_next(const oc_schedule *s, int64_t t);
/* The latest slot at or before t. */
int64_t oc_schedule_latest(const oc_schedule *s, int64_t t);
/* The schedule in its canonical spelling ("every trading-day at 22:00 UTC"), into buf. */
#define OC_SCHEDULE_STRLEN 96
char *oc_schedule_format(const oc_schedule *s, char *buf);

#endif
