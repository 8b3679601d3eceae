/* dynlib.h: a shared library oilcast does not link, opened on first use (dlopen) with the entry points
 * it needs looked up by name: the one loader behind model/blas.h (OpenBLAS) and lake/snappy_lazy.h
 * (libsnappy). Must not decide what a failure means (abort or error): the caller does. */
#ifndef OC_CORE_DYNLIB_H
#define OC_CORE_DYNLIB_H

#include <stddef.h>

#include "core/error.h"

/* Opens soname and looks up names[0..n) into fns[0..n). 0, or -1 with err "cannot load SONAME
 * (WHAT): REASON" or "cannot load SONAME (WHAT): no NAME: REASON" (what: the library's role and its
 * Debian package), and nothing left open. */
int oc_dynlib_load(const char *soname, const char *what, const char *const *names, void **fns, size_t n,
                   oc_error *err);

#endif
