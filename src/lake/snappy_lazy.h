/* snappy_lazy.h: libsnappy, loaded on first use. Snappy is written in C++: linking it brought
 * libstdc++ and libgcc_s into every oilcast process (three libraries, ~1,700 relocations and ~55 page
 * faults of every start, --version included), while only the Parquet reader's Snappy pages use it.
 * oc_snappy() loads it once, from any thread, and hands out the two entry points the reader calls.
 * Must not be bypassed: no other file calls snappy_ functions directly (they would not link). */
#ifndef OC_LAKE_SNAPPY_LAZY_H
#define OC_LAKE_SNAPPY_LAZY_H

#include <snappy-c.h>

#include "core/error.h"

/* The soname libsnappy-dev's -lsnappy resolves to, and the Debian package shipping it */
#define OC_SNAPPY_SONAME "libsnappy.so.1"
#define OC_SNAPPY_PACKAGE "libsnappy1v5"

typedef struct oc_snappy_lib {
  __typeof__(snappy_uncompressed_length) *uncompressed_length;
  __typeof__(snappy_uncompress) *uncompress;
} oc_snappy_lib;

/* The loaded library's entry points, or NULL with err saying which library (and which Debian package)
 * is missing; a failed load is not retried (every call gives the same message). */
const oc_snappy_lib *oc_snappy(oc_error *err);

/* Loads the entry points from the library soname into lib: 0, or -1 with err naming soname, the
 * package and the loader's reason. What oc_snappy() does once; tests give it a soname that does not
 * exist to check the message. */
int oc_snappy_load(const char *soname, oc_snappy_lib *lib, oc_error *err);

#endif
