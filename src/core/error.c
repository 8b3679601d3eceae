/* error.c: formatting of oc_error messages. Never allocates and never prints. */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int oc_error_set(oc_error *err, const char *fmt, ...) {
  if (!err) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->kind = OC_ERROR_FAILED;
  return -1;
}

int oc_error_busy(oc_error *err, const char *fmt, ...) {
  if (!err) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->kind = OC_ERROR_BUSY;
  return -1;
}

int oc_error_prefix(oc_error *err, const char *fmt, ...) {
  if (!err) return -1;
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[sizeof err->message];
  memcpy(old, err->message, sizeof old);
  snprintf(err->message, sizeof err->message, "%s%s", prefix, old);
  return -1;
}

int oc_error_errno(oc_error *err, const char *fmt, ...) {
  int saved = errno;
  if (!err) return -1;
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(err->message, sizeof err->message, "%s: %s", what, strerror(saved));
  err->kind = OC_ERROR_FAILED;
  return -1;
}

void oc_error_clear(oc_error *err) {
  if (!err) return;
  err->message[0] = '\0';
  err->kind = OC_ERROR_FAILED;
}
