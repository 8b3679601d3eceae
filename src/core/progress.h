/* progress.h: a one-line progress bar on stderr for work that can take over a second. Shown only when
 * stderr is a terminal, logging is not quiet and the work has already run for half a second, so
 * pipes, logs and tests never see it. Must not write to stdout. */
#ifndef OC_PROGRESS_H
#define OC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct oc_progress {
  char label[64];
  uint64_t total;   /* 0 = unknown */
  double started;   /* monotonic seconds */
  double last_draw; /* monotonic seconds */
  bool enabled;
  bool drawn;
} oc_progress;

void oc_progress_start(oc_progress *p, const char *label, uint64_t total);
/* done: units completed so far; detail: extra text after the bar (may be NULL). Cheap when called
 * often: redraws at most 10 times a second. */
void oc_progress_update(oc_progress *p, uint64_t done, const char *detail);
void oc_progress_finish(oc_progress *p);
double oc_monotonic_seconds(void);

#endif
