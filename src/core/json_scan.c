/* json_scan.c: see json_scan.h. A tokenizer for valid JSON that keeps only the path to the current
 * value (a stack of containers: the key being read or the array index); it trusts the text to be
 * well-formed (jansson checked it) and never reads past len. */
#include "core/json_scan.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Containers deeper than this still scan; their path shows the outer levels only. */
#define SCAN_DEPTH 32

typedef struct level {
  bool object;
  size_t index;            /* an array's current element */
  const char *key;         /* an object's current key (raw text between the quotes) */
  size_t key_len;
} level;

static void path_format(const level *stack, size_t depth, char *path, size_t cap) {
  size_t used = 0;
  path[0] = '\0';
  for (size_t i = 0; i < depth && i < SCAN_DEPTH && used < cap; i++) {
    int n = stack[i].object ? snprintf(path + used, cap - used, "%s%.*s", used ? "." : "", (int)stack[i].key_len, stack[i].key)
                            : snprintf(path + used, cap - used, "[%zu]", stack[i].index);
    used += n > 0 ? (size_t)n : 0;
  }
}

/* Whether the number token [p, end) reads as 0 while a digit of its mantissa is not 0. */
static bool underflows(const char *p, const char *end) {
  const char *e = p; /* the exponent's 'e', or end */
  bool nonzero = false;
  for (; e < end && *e != 'e' && *e != 'E'; e++) nonzero |= *e >= '1' && *e <= '9';
  if (!nonzero) return false;
  /* A mantissa of k characters with a non-zero digit is at least 10^-k, times 10^-d for an exponent of
   * -d: at least 1e-319, a double that is not 0, while k + d < 320. Only a number past that is read
   * (jansson has read every one already; a second strtod per price cost a third of its parse). */
  size_t down = 0;
  if (end - e >= 2 && e[1] == '-')
    for (const char *q = e + 2; q < end && down < 1000; q++) down = down * 10 + (size_t)(*q - '0');
  if ((size_t)(e - p) + down < 320) return false;
  char small[64];
  size_t n = (size_t)(end - p);
  char *copy = n < sizeof small ? small : malloc(n + 1);
  if (!copy) return false;
  memcpy(copy, p, n);
  copy[n] = '\0';
  bool zero = strtod(copy, NULL) == 0.0;
  if (copy != small) free(copy);
  return zero;
}

bool oc_json_find_underflow(const char *text, size_t len, char *path, char *number, size_t cap, size_t *line) {
  assert(cap > 0);
  level stack[SCAN_DEPTH];
  size_t depth = 0, lineno = 1;
  bool expect_key = false;
  const char *p = text, *end = text + len;
  while (p < end) {
    char c = *p;
    level *top = depth && depth <= SCAN_DEPTH ? &stack[depth - 1] : NULL;
    if (c == '\n') {
      lineno++;
      p++;
    } else if (c == '{' || c == '[') {
      if (depth < SCAN_DEPTH) stack[depth] = (level){.object = c == '{'};
      depth++;
      expect_key = c == '{';
      p++;
    } else if (c == '}' || c == ']') {
      depth -= depth > 0;
      expect_key = false;
      p++;
    } else if (c == ',') {
      if (top && !top->object) top->index++;
      expect_key = top && top->object;
      p++;
    } else if (c == '"') {
      const char *start = ++p;
      while (p < end && *p != '"') p += *p == '\\' ? 2 : 1;
      if (expect_key && top) {
        top->key = start;
        top->key_len = (size_t)((p < end ? p : end) - start);
      }
      expect_key = false;
      p++;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const char *start = p;
      while (p < end && (memchr("+-.eE", *p, 5) || (*p >= '0' && *p <= '9'))) p++;
      if (underflows(start, p)) {
        path_format(stack, depth, path, cap);
        snprintf(number, cap, "%.*s", (int)(p - start), start);
        *line = lineno;
        return true;
      }
    } else {
      p++; /* whitespace, ':', the letters of true/false/null */
    }
  }
  return false;
}
