/* fswatch.c: see fswatch.h. */
#include "core/fswatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "core/buf.h"
#include "core/progress.h"

typedef struct watched {
  int wd;     /* the inotify watch of the file's directory */
  char *name; /* the file's name in it */
} watched;

struct oc_fswatch {
  int fd;           /* inotify instance, -1 when inactive */
  int interrupt[2]; /* a pipe: readable once interrupted */
  watched *files;
  size_t n;
  double last_changed; /* when CHANGED was last returned */
};

#ifdef __linux__
static int watch_files(oc_fswatch *w, const char *const *paths, size_t n, oc_error *why) {
  if (n == 0) return oc_error_set(why, "no files to watch");
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0) return oc_error_set(why, "inotify_init1: %s", strerror(errno));
  w->files = oc_xcalloc(n ? n : 1, sizeof *w->files);
  for (; w->n < n; w->n++) {
    const char *slash = strrchr(paths[w->n], '/');
    char *dir = oc_xstrdup(slash ? paths[w->n] : ".");
    if (slash) dir[slash == paths[w->n] ? 1 : slash - paths[w->n]] = '\0';
    int wd = inotify_add_watch(w->fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    int saved = errno;
    free(dir);
    if (wd < 0) return oc_error_set(why, "inotify_add_watch on the directory of %s: %s", paths[w->n], strerror(saved));
    w->files[w->n] = (watched){wd, oc_xstrdup(slash ? slash + 1 : paths[w->n])};
  }
  return 0;
}

/* Reads every queued event; true when one concerns a watched file (or events were lost). */
static bool drain(oc_fswatch *w) {
  bool relevant = false;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t len = read(w->fd, buf, sizeof buf);
    if (len <= 0) return relevant;
    for (char *p = buf; p < buf + len;) {
      const struct inotify_event *e = (const struct inotify_event *)p;
      if (e->mask & IN_Q_OVERFLOW) relevant = true;
      for (size_t i = 0; !relevant && e->len && i < w->n; i++)
        relevant = e->wd == w->files[i].wd && strcmp(e->name, w->files[i].name) == 0;
      p += sizeof *e + e->len;
    }
  }
}
#else
static int watch_files(oc_fswatch *w, const char *const *paths, size_t n, oc_error *why) {
  (void)w, (void)paths, (void)n;
  return oc_error_set(why, "inotify is Linux-only");
}

static bool drain(oc_fswatch *w) {
  (void)w;
  return false;
}
#endif

oc_fswatch *oc_fswatch_open(const char *const *paths, size_t n, oc_error *why) {
  oc_fswatch *w = oc_xcalloc(1, sizeof *w);
  w->fd = -1;
  if (pipe(w->interrupt) != 0) abort(); /* out of descriptors at start-up: nothing sensible to do */
  for (int i = 0; i < 2; i++) fcntl(w->interrupt[i], F_SETFD, FD_CLOEXEC);
  oc_error ignored;
  if (watch_files(w, paths, n, why ? why : &ignored) != 0 && w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  w->last_changed = -1e9;
  return w;
}

bool oc_fswatch_active(const oc_fswatch *w) { return w->fd >= 0; }

/* Polls the interrupt pipe, and the inotify instance when `changes`, for up to seconds; returns the
 * poll result with the revents in ready[0] (interrupt) and ready[1] (changes). */
static int wait_on(oc_fswatch *w, bool changes, double seconds, short ready[2]) {
  struct pollfd fds[2] = {{.fd = w->interrupt[0], .events = POLLIN}, {.fd = w->fd, .events = POLLIN}};
  int ms = seconds <= 0 ? 0 : seconds > INT_MAX / 1000 ? INT_MAX : (int)(seconds * 1000 + 0.999);
  int rc;
  do rc = poll(fds, changes ? 2 : 1, ms);
  while (rc < 0 && errno == EINTR);
  ready[0] = fds[0].revents;
  ready[1] = changes ? fds[1].revents : 0;
  return rc;
}

oc_fswatch_event oc_fswatch_wait(oc_fswatch *w, double timeout, double min_gap) {
  double deadline = oc_monotonic_seconds() + timeout;
  short ready[2];
  for (;;) {
    double left = deadline - oc_monotonic_seconds();
    if (wait_on(w, w->fd >= 0, left, ready) <= 0) return OC_FSWATCH_TIMEOUT;
    if (ready[0]) return OC_FSWATCH_INTERRUPTED;
    if (!drain(w)) continue; /* another file of the directory */
    /* Coalesce: let a burst of writes go by until min_gap after the last CHANGED. */
    double hold = w->last_changed + min_gap - oc_monotonic_seconds();
    if (hold > 0 && wait_on(w, false, hold, ready) > 0 && ready[0]) return OC_FSWATCH_INTERRUPTED;
    drain(w);
    w->last_changed = oc_monotonic_seconds();
    return OC_FSWATCH_CHANGED;
  }
}

void oc_fswatch_interrupt(oc_fswatch *w) {
  char byte = 1;
  ssize_t ignored = write(w->interrupt[1], &byte, 1);
  (void)ignored;
}

void oc_fswatch_close(oc_fswatch *w) {
  if (!w) return;
  if (w->fd >= 0) close(w->fd);
  close(w->interrupt[0]);
  close(w->interrupt[1]);
  for (size_t i = 0; i < w->n; i++) free(w->files[i].name);
  free(w->files);
  free(w);
}
