/* buf.h: a growable byte buffer (and NUL-terminated string builder). Allocation failure aborts the
 * process with a message: oilcast treats out-of-memory as fatal rather than threading it through every
 * caller. Must not be used for data that has to survive a crash: see fsutil.h for durable writes. */
#ifndef OC_BUF_H
#define OC_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct oc_buf {
  char *data; /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
} oc_buf;

void oc_buf_reserve(oc_buf *b, size_t extra);
void oc_buf_append(oc_buf *b, const void *data, size_t len);
void oc_buf_puts(oc_buf *b, const char *s);
void oc_buf_putc(oc_buf *b, char c);
void oc_buf_printf(oc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oc_buf_vprintf(oc_buf *b, const char *fmt, va_list ap);
void oc_buf_clear(oc_buf *b);
void oc_buf_free(oc_buf *b);
/* Hands the bytes to the caller (who frees them) and resets b. Never returns NULL. */
char *oc_buf_steal(oc_buf *b);

/* Checked allocation helpers: abort with a message on failure. */
void *oc_xmalloc(size_t n);
void *oc_xcalloc(size_t count, size_t size);
void *oc_xrealloc(void *p, size_t n);
/* Grows *array (of *cap elements of elem_size) to hold at least need elements. */
void oc_xgrow(void **array, size_t *cap, size_t need, size_t elem_size);
char *oc_xstrdup(const char *s);

#endif
