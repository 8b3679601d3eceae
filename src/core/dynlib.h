/* dynlib.h: a shared library oilcast does not link, opened on first use (dlopen) with the entry points
 * it needs looked up by name: the one loader behind model/blas.h (OpenBLAS), lake/snappy_lazy.h
 * (libsnappy) and the tables of the client and server libraries only some commands use (libcurl,
 * libpq, libmicrohttpd, libmosquitto: core/curl_lazy.h and its siblings), so that no command pays for
 * loading and relocating a library it does not call (libcurl's tree alone was ~3 ms of every process
 * start). Must not decide what a failure means (abort or error): the caller does, except for a
 * table's functions (oc_dynlib_table_fn), which end the process as a missing NEEDED library did. */
#ifndef OC_CORE_DYNLIB_H
#define OC_CORE_DYNLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Opens soname and looks up names[0..n) into fns[0..n). 0, or -1 with err "cannot load SONAME
 * (WHAT): REASON" or "cannot load SONAME (WHAT): no NAME: REASON" (what: the library's role and its
 * Debian package), and nothing left open. */
int oc_dynlib_load(const char *soname, const char *what, const char *const *names, void **fns, size_t n,
                   oc_error *err);

/* A library whose functions the code calls by their own names: a header of the library's (e.g.
 * core/curl_lazy.h) lists them once (an X-macro), numbers them, and defines each name as its entry in
 * the table, cast to the function's type, so call sites read as plain calls. The table loads on the
 * first call from any thread (or oc_dynlib_table_load), once per process. */
typedef struct oc_dynlib_table {
  const char *soname, *what;
  const char *const *names;
  void **fns;
  size_t n;
  pthread_mutex_t lock;
  atomic_bool loaded; /* set under lock once fns are filled; read without it */
} oc_dynlib_table;

#define OC_DYNLIB_TABLE(soname_, what_, names_, fns_)                                                             \
  {                                                                                                               \
    .soname = soname_, .what = what_, .names = names_, .fns = fns_, .n = sizeof names_ / sizeof names_[0],        \
    .lock = PTHREAD_MUTEX_INITIALIZER                                                                             \
  }

/* Loads the table's library now (a no-op once loaded): 0, or -1 with err as oc_dynlib_load says. For a
 * caller that wants to meet a missing library as an error, or to load it ahead on a thread of its own. */
int oc_dynlib_table_load(oc_dynlib_table *table, oc_error *err);
/* Function i of the table, loading the library first if it is not yet: a library that cannot be
 * loaded ends the process with the loader's message. */
void *oc_dynlib_table_fn(oc_dynlib_table *table, size_t i);

#endif
