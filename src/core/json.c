/* json.c: see json.h. A recursive walk over a jansson value; deep nesting is bounded by what jansson
 * builds (oilcast's documents are a few levels deep). */
#include "core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"

json_t *oc_json_number(double x) { return isfinite(x) ? json_real(x) : json_null(); }

void oc_json_put_number(oc_buf *out, double x) {
  char text[OC_NUMBER_STRLEN];
  if (!isfinite(x)) {
    oc_buf_puts(out, "null");
    return;
  }
  oc_buf_puts(out, oc_format_number(x, text));
  /* a whole number keeps a ".0" so that readers which tell integers from reals (jansson, Python) read
   * back a real, as written */
  if (!strpbrk(text, ".e")) oc_buf_puts(out, ".0");
}

static void put_string(oc_buf *out, const char *s, size_t len, unsigned flags) {
  oc_buf_putc(out, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': oc_buf_puts(out, "\\\""); break;
    case '\\': oc_buf_puts(out, "\\\\"); break;
    case '\n': oc_buf_puts(out, "\\n"); break;
    case '\r': oc_buf_puts(out, "\\r"); break;
    case '\t': oc_buf_puts(out, "\\t"); break;
    case '/':
      oc_buf_puts(out, flags & OC_JSON_ESCAPE_SLASH ? "\\/" : "/");
      break;
    default:
      if (c < 0x20 || c == 0x7f) oc_buf_printf(out, "\\u%04x", c);
      else oc_buf_putc(out, (char)c);
    }
  }
  oc_buf_putc(out, '"');
}

void oc_json_put_string(oc_buf *out, const char *s) { put_string(out, s, strlen(s), OC_JSON_COMPACT); }

static void newline(oc_buf *out, unsigned flags, int depth) {
  if (!(flags & OC_JSON_INDENT)) return;
  oc_buf_putc(out, '\n');
  for (int i = 0; i < depth; i++) oc_buf_puts(out, "  ");
}

static int compare_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void write_value(oc_buf *out, const json_t *j, unsigned flags, int depth);

static void write_object(oc_buf *out, const json_t *j, unsigned flags, int depth) {
  size_t n = json_object_size(j);
  if (n == 0) {
    oc_buf_puts(out, "{}");
    return;
  }
  const char **keys = oc_xmalloc(n * sizeof *keys);
  size_t k = 0;
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)j, key, value) keys[k++] = key;
  if (flags & OC_JSON_SORT_KEYS) qsort(keys, n, sizeof *keys, compare_keys);
  oc_buf_putc(out, '{');
  for (size_t i = 0; i < n; i++) {
    if (i) oc_buf_putc(out, ',');
    newline(out, flags, depth + 1);
    put_string(out, keys[i], strlen(keys[i]), flags);
    oc_buf_puts(out, flags & OC_JSON_INDENT ? ": " : ":");
    write_value(out, json_object_get(j, keys[i]), flags, depth + 1);
  }
  newline(out, flags, depth);
  oc_buf_putc(out, '}');
  free(keys);
}

static void write_array(oc_buf *out, const json_t *j, unsigned flags, int depth) {
  size_t n = json_array_size(j);
  if (n == 0) {
    oc_buf_puts(out, "[]");
    return;
  }
  oc_buf_putc(out, '[');
  for (size_t i = 0; i < n; i++) {
    if (i) oc_buf_putc(out, ',');
    newline(out, flags, depth + 1);
    write_value(out, json_array_get(j, i), flags, depth + 1);
  }
  newline(out, flags, depth);
  oc_buf_putc(out, ']');
}

static void write_value(oc_buf *out, const json_t *j, unsigned flags, int depth) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: write_object(out, j, flags, depth); break;
  case JSON_ARRAY: write_array(out, j, flags, depth); break;
  case JSON_STRING: put_string(out, json_string_value(j), json_string_length(j), flags); break;
  case JSON_INTEGER: oc_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j)); break;
  case JSON_REAL: oc_json_put_number(out, json_real_value(j)); break;
  case JSON_TRUE: oc_buf_puts(out, "true"); break;
  case JSON_FALSE: oc_buf_puts(out, "false"); break;
  case JSON_NULL: oc_buf_puts(out, "null"); break;
  }
}

void oc_json_write(oc_buf *out, const json_t *j, unsigned flags) { write_value(out, j, flags, 0); }

char *oc_json_dumps(const json_t *j, unsigned flags) {
  oc_buf out = {0};
  oc_json_write(&out, j, flags);
  return oc_buf_steal(&out);
}

int oc_json_print(FILE *f, const json_t *j, unsigned flags) {
  char *text = oc_json_dumps(j, flags);
  int rc = fputs(text, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
  free(text);
  return rc;
}

const char *oc_json_unknown_member(json_t *object, const char *const *known) {
  const char *member;
  json_t *ignored;
  json_object_foreach(object, member, ignored) {
    const char *const *k = known;
    while (*k && strcmp(*k, member) != 0) k++;
    if (!*k) return member;
  }
  return NULL;
}
