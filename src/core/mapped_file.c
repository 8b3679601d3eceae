/* mapped_file.c: see mapped_file.h. The guarded mappings are a fixed table the SIGBUS handler reads
 * without locks (atomics only: a handler may run on any thread, at any instant). */
#include "core/mapped_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARDS 16 /* files mapped at once; past it a mapping is unguarded (as every mapping was before) */

static _Atomic uintptr_t guard_start[GUARDS];
static _Atomic size_t guard_len[GUARDS];
static struct sigaction previous_bus; /* what SIGBUS did before the handler was installed */
static uintptr_t page_size;
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  (void)sig, (void)context;
  uintptr_t at = (uintptr_t)info->si_addr;
  for (int i = 0; i < GUARDS; i++) {
    uintptr_t start = atomic_load(&guard_start[i]);
    if (start && at >= start && at < start + atomic_load(&guard_len[i])) {
      /* the page past a truncation reads as zeros from now on; the faulting read is retried */
      if (mmap((void *)(at & ~(page_size - 1)), page_size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) !=
          MAP_FAILED)
        return;
    }
  }
  /* not a guarded page: the disposition of before, which the retried read meets */
  sigaction(SIGBUS, &previous_bus, NULL);
}

/* Installs the handler unless it is the one in place: at every open, as another part of the program (a
 * test framework, a runtime) may have installed its own since, keeping that one as what a SIGBUS
 * elsewhere gets. */
static void install_handler(void) {
  pthread_mutex_lock(&handler_lock);
  if (!page_size) page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
  struct sigaction now;
  if (sigaction(SIGBUS, NULL, &now) == 0 && !((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigbus)) {
    struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    previous_bus = now;
    sigaction(SIGBUS, &sa, NULL);
  }
  pthread_mutex_unlock(&handler_lock);
}

/* A slot's length is 0 whenever its start is not yet or no longer a mapping's (set after the start is
 * taken, cleared before it is freed): the handler never matches an address against a stale range. */
static int guard(const char *data, size_t len) {
  install_handler();
  for (int i = 0; i < GUARDS; i++) {
    uintptr_t free_slot = 0;
    if (atomic_compare_exchange_strong(&guard_start[i], &free_slot, (uintptr_t)data)) {
      atomic_store(&guard_len[i], len);
      return i;
    }
  }
  return -1;
}

static void unguard(int slot) {
  atomic_store(&guard_len[slot], 0);
  atomic_store(&guard_start[slot], 0);
}

int oc_mapped_file_open(const char *path, oc_mapped_file *file, oc_error *err) {
  *file = (oc_mapped_file){.fd = open(path, O_RDONLY | O_CLOEXEC), .data = "", .guard = -1};
  if (file->fd < 0) return oc_error_errno(err, "cannot open %s", path);
  int rc = 0;
  if (fstat(file->fd, &file->opened) != 0) rc = oc_error_errno(err, "cannot stat %s", path);
  else if (!S_ISREG(file->opened.st_mode)) rc = oc_error_set(err, "%s is not a regular file", path);
  file->len = rc == 0 ? (size_t)file->opened.st_size : 0;
  if (rc == 0 && file->len) {
    void *p = mmap(NULL, file->len, PROT_READ, MAP_PRIVATE, file->fd, 0);
    if (p == MAP_FAILED) {
      rc = oc_error_errno(err, "cannot map %s", path);
    } else {
      madvise(p, file->len, MADV_SEQUENTIAL);
      file->data = p;
      file->guard = guard(p, file->len);
    }
  }
  if (rc != 0) {
    close(file->fd);
    file->fd = -1;
  }
  return rc;
}

void oc_mapped_file_close(oc_mapped_file *file) {
  if (file->guard >= 0) unguard(file->guard);
  if (file->len) munmap((void *)file->data, file->len);
  if (file->fd >= 0) close(file->fd);
  *file = (oc_mapped_file){.fd = -1, .data = "", .guard = -1};
}
