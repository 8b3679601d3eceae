/* fswatch.h: waiting for other processes' writes to a few named files, without polling: Linux inotify
 * on the files' directories (so a file deleted and created again stays watched), filtered by name.
 * Where inotify is unavailable (not Linux, no instances or watches left, a directory that cannot be
 * watched) the watch is inactive and waiting only times out: the caller then polls. A pipe lets another
 * thread interrupt a wait (shutdown). Knows nothing of what the files hold. */
#ifndef OC_FSWATCH_H
#define OC_FSWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct oc_fswatch oc_fswatch;

typedef enum { OC_FSWATCH_TIMEOUT = 0, OC_FSWATCH_CHANGED = 1, OC_FSWATCH_INTERRUPTED = 2 } oc_fswatch_event;

/* Watches the files at paths (they need not exist yet; their directories must). Always returns a watch;
 * when inotify cannot be used (or n = 0) it is inactive and *why (may be NULL) says why. */
oc_fswatch *oc_fswatch_open(const char *const *paths, size_t n, oc_error *why);
bool oc_fswatch_active(const oc_fswatch *w);
/* Waits up to timeout seconds. CHANGED when a watched file was modified, closed after writing, created
 * or renamed into place (or the kernel's queue overflowed) since the previous CHANGED; everything queued
 * is consumed before returning, so a write after the return is reported by a later wait. Bursts are
 * coalesced: CHANGED is returned at most once per min_gap seconds. INTERRUPTED once oc_fswatch_interrupt
 * was called (and from then on). */
oc_fswatch_event oc_fswatch_wait(oc_fswatch *w, double timeout, double min_gap);
/* Makes every wait from now on return INTERRUPTED at once. Thread-safe, async-signal-safe. */
void oc_fswatch_interrupt(oc_fswatch *w);
void oc_fswatch_close(oc_fswatch *w);

#endif
