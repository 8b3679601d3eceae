/* error.h: the one way oilcast functions report failure. A function that can fail returns int
 * (0 success, -1 failure) and fills an oc_error with a complete human-readable message that says
 * what went wrong and where (file:line, field, byte offset). It must not print or exit: callers decide. */
#ifndef OC_ERROR_H
#define OC_ERROR_H

#include <stddef.h>

typedef struct oc_error {
  char message[1024];
} oc_error;

/* Sets the message (printf-style). Safe to call with err == NULL. Always returns -1 so callers can
 * write `return oc_error_set(err, ...)`. */
int oc_error_set(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with context ("loading model v3: " + old message). Returns -1. */
int oc_error_prefix(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the message from errno, as "<what>: <strerror(errno)>". Returns -1. */
int oc_error_errno(oc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void oc_error_clear(oc_error *err);

#endif
