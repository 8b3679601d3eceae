/* progress.c: see progress.h. */
#include "core/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

double oc_monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void oc_progress_start(oc_progress *p, const char *label, uint64_t total) {
  memset(p, 0, sizeof *p);
  snprintf(p->label, sizeof p->label, "%s", label);
  p->total = total;
  p->started = oc_monotonic_seconds();
  p->enabled = isatty(STDERR_FILENO) && oc_log_get_level() <= OC_LOG_INFO && !oc_log_is_json();
}

void oc_progress_update(oc_progress *p, uint64_t done, const char *detail) {
  if (!p->enabled) return;
  double now = oc_monotonic_seconds();
  double elapsed = now - p->started;
  if (elapsed < 0.5 || now - p->last_draw < 0.1) return;
  p->last_draw = now;
  p->drawn = true;
  char line[256];
  if (p->total > 0) {
    double frac = done > p->total ? 1.0 : (double)done / (double)p->total;
    char bar[31];
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    snprintf(line, sizeof line, "\r%s [%s] %3.0f%% ETA %.0fs %s\033[K", p->label, bar, frac * 100, eta,
             detail ? detail : "");
  } else {
    snprintf(line, sizeof line, "\r%s %llu %s\033[K", p->label, (unsigned long long)done, detail ? detail : "");
  }
  fputs(line, stderr);
  fflush(stderr);
}

void oc_progress_finish(oc_progress *p) {
  if (p->enabled && p->drawn) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  p->drawn = false;
}
