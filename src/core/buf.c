/* buf.c: growable buffer and checked allocation. */
#include "core/buf.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n) {
  fprintf(stderr, "oilcast: fatal: out of memory allocating %zu bytes\n", n);
  abort();
}

void *oc_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory(n);
  return p;
}

void *oc_xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) out_of_memory(count * size);
  return p;
}

void *oc_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) out_of_memory(n);
  return q;
}

void oc_xgrow(void **array, size_t *cap, size_t need, size_t elem_size) {
  if (need <= *cap) return;
  size_t n = *cap ? *cap : 16;
  while (n < need) {
    if (n > SIZE_MAX / 2 / elem_size) out_of_memory(SIZE_MAX);
    n *= 2;
  }
  *array = oc_xrealloc(*array, n * elem_size);
  *cap = n;
}

char *oc_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = oc_xmalloc(n);
  memcpy(p, s, n);
  return p;
}

void oc_buf_reserve(oc_buf *b, size_t extra) {
  /* buf.h: data is NULL (empty, no capacity) or holds len bytes and a NUL within cap. */
  assert(b->data ? b->len < b->cap && b->data[b->len] == '\0' : b->len == 0 && b->cap == 0);
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  b->data = oc_xrealloc(b->data, cap);
  b->data[b->len] = '\0'; /* a first allocation becomes the empty string */
  b->cap = cap;
}

void oc_buf_append(oc_buf *b, const void *data, size_t len) {
  oc_buf_reserve(b, len);
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void oc_buf_puts(oc_buf *b, const char *s) { oc_buf_append(b, s, strlen(s)); }

void oc_buf_putc(oc_buf *b, char c) { oc_buf_append(b, &c, 1); }

void oc_buf_vprintf(oc_buf *b, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, copy);
  va_end(copy);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    oc_buf_append(b, small, (size_t)n);
    return;
  }
  oc_buf_reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void oc_buf_printf(oc_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  oc_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void oc_buf_clear(oc_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void oc_buf_free(oc_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *oc_buf_steal(oc_buf *b) {
  if (!b->data) oc_buf_reserve(b, 0), b->data[0] = '\0';
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}
