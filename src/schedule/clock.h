/* clock.h: the time the scheduler service (service.h) goes by: the real clock, or, as a TEST FACILITY,
 * a simulated one read from a file. OILCAST_CLOCK=file:PATH makes `oilcast run` and `oilcast serve`'s
 * scheduler take "now" from PATH, which holds one ISO 8601 UTC instant ("2026-01-09T22:00:05Z") that
 * a test rewrites to move time (forward, by days at once: slots, weekends and catch-up then happen
 * in well under a second). The sensor stream's silence checks (`oilcast stream`, and the stream
 * inside `oilcast serve`) go by it too. Other steps, the API and everything else keep the real clock. Not for
 * production: a frozen file freezes the schedule. Knows no job and no store. */
#ifndef OC_SCHEDULE_CLOCK_H
#define OC_SCHEDULE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define OC_CLOCK_ENV "OILCAST_CLOCK"
/* How often a sleeper on a simulated clock reads the file again (real seconds). */
#define OC_CLOCK_SIMULATED_POLL_SECONDS 0.1

typedef struct oc_clock {
  char *file;   /* NULL: the real clock */
  int64_t last; /* the file's last good reading */
} oc_clock;

/* From spec (OILCAST_CLOCK's value): NULL or "" is the real clock, "file:PATH" a simulated one whose
 * file must hold a readable instant now; anything else is an error saying what is accepted. */
int oc_clock_init(oc_clock *clock, const char *spec, oc_error *err);
void oc_clock_free(oc_clock *clock);
static inline bool oc_clock_simulated(const oc_clock *clock) { return clock->file != NULL; }
/* Unix seconds: time(NULL), or the file's instant (its last good reading while it is being rewritten
 * or unreadable). */
int64_t oc_clock_now(oc_clock *clock);
/* oc_clock_now in Unix milliseconds, shaped as a clock callback (ctx: the oc_clock; pipeline/stream.h's
 * clock, which OILCAST_CLOCK also moves for the stream's silence checks). */
int64_t oc_clock_now_ms(void *clock);
/* "2026-01-09T22:00:05Z" as Unix seconds; -1 with err when text is not exactly that shape. */
int oc_clock_parse_instant(const char *text, int64_t *out, oc_error *err);

#endif
