/* utf8.c: see utf8.h. */
#include "core/utf8.h"

#include <stdint.h>

size_t oc_utf8_sequence(const void *s, size_t avail) {
  const unsigned char *p = s;
  unsigned char c = p[0];
  size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || n > avail) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))) return 0; /* overlong, surrogate */
  if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))) return 0; /* overlong, > U+10FFFF */
  return n;
}

bool oc_utf8_valid(const char *s) {
  for (const char *p = s; *p;) {
    size_t n = oc_utf8_sequence(p, SIZE_MAX);
    if (n == 0) return false;
    p += n;
  }
  return true;
}
