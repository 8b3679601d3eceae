/* error.h: the one way oilcast functions report failure. A function that can fail returns int
 * (0 success, -1 failure) and fills an oc_error with a complete human-readable message that says
 * what went wrong and where (file:line, field, byte offset). It must not print or exit: callers decide. */
#ifndef OC_ERROR_H
#define OC_ERROR_H

#include <stddef.h>

/* What kind of failure: callers that react differently (a server answering 503 with Retry-After to a
 * busy store instead of 500) test the kind, never the message's text. */
typedef enum oc_error_kind {
  OC_ERROR_FAILED = 0, /* anything else */
  OC_ERROR_BUSY = 1,   /* a resource another process holds (the store's write lock): worth a retry later */
  OC_ERROR_READ_ONLY = 2, /* a write to what was opened read-only (a store in a read-only data directory) */
  OC_ERROR_CONFLICT = 3,  /* what is to be created exists already (a device id taken): the caller's 409 */
  OC_ERROR_INVALID = 4,   /* the store refused the data itself (a constraint it breaks, a value its column
                             cannot hold): the same data fails the same way at every retry */
} oc_error_kind;

typedef struct oc_error {
  char message[1024];
  oc_error_kind kind; /* OC_ERROR_FAILED unless the setter says otherwise; prefixing keeps it */
} oc_error;

/* Sets the message (printf-style). Safe to call with err == NULL. Always returns -1 so callers can
 * write `return oc_error_set(err, ...)`. */
int oc_error_set(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with context ("loading model v3: " + old message). Returns -1. */
int oc_error_prefix(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the message from errno, as "<what>: <strerror(errno)>". Returns -1. */
int oc_error_errno(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* oc_error_set, of kind OC_ERROR_BUSY. */
int oc_error_busy(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void oc_error_clear(oc_error *err);

#endif
