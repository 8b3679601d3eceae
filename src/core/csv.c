/* csv.c: see csv.h. Hot path of every import: keep it branch-light and allocation-free. */
#include "core/csv.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oc_csv_init(oc_csv_reader *r, const char *data, size_t len, char delim) {
  memset(r, 0, sizeof *r);
  r->pos = data;
  r->end = data + len;
  r->line = 1;
  r->delim = delim;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) r->pos += 3;
}

void oc_csv_free(oc_csv_reader *r) {
  free(r->fields);
  free(r->unescaped_at);
  oc_buf_free(&r->unescaped);
  memset(r, 0, sizeof *r);
}

size_t oc_csv_offset(const oc_csv_reader *r, const char *start) { return (size_t)(r->pos - start); }

static void push_field(oc_csv_reader *r, const char *data, size_t len, size_t unescaped_at) {
  if (r->nfields == r->fields_cap) {
    oc_xgrow((void **)&r->fields, &r->fields_cap, r->nfields + 1, sizeof *r->fields);
    r->unescaped_at = oc_xrealloc(r->unescaped_at, r->fields_cap * sizeof *r->unescaped_at);
  }
  r->fields[r->nfields] = (oc_csv_field){data, len};
  r->unescaped_at[r->nfields] = unescaped_at;
  r->nfields++;
}

/* Skips the rest of the current line (after a malformed record). */
static void skip_line(oc_csv_reader *r) {
  const char *nl = memchr(r->pos, '\n', (size_t)(r->end - r->pos));
  r->pos = nl ? nl + 1 : r->end;
  if (nl) r->line++;
}

int oc_csv_next(oc_csv_reader *r, size_t *line, const char **reason) {
  const char *p = r->pos, *end = r->end;
  /* Blank lines (LF or CRLF) between records and at the end are not records. */
  for (;;) {
    if (p >= end) {
      r->pos = p;
      *line = r->line;
      return OC_CSV_END;
    }
    if (*p == '\n') {
      p++, r->line++;
    } else if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2, r->line++;
    } else {
      break;
    }
  }
  *line = r->line;
  r->nfields = 0;
  oc_buf_clear(&r->unescaped); /* not len = 0 alone: an oc_buf keeps data[len] == '\0' */
  const char delim = r->delim;
  const char *record_start = p;
  for (;;) {
    if (r->nfields == OC_CSV_MAX_FIELDS || (size_t)(p - record_start) > OC_CSV_MAX_RECORD_BYTES) {
      r->pos = p;
      skip_line(r);
      *reason = r->nfields == OC_CSV_MAX_FIELDS ? "more than 4096 fields in one record"
                                                : "record longer than 1 MiB";
      return OC_CSV_BAD;
    }
    if (p < end && *p == '"') {
      /* Quoted field: runs to the next quote not doubled; may span lines. */
      const char *start = ++p;
      size_t esc_at = SIZE_MAX;
      for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) {
          for (const char *c = p; c < end; c++) r->line += *c == '\n';
          r->pos = end;
          *reason = "unterminated quoted field (no closing '\"' before the end of the file)";
          return OC_CSV_BAD;
        }
        for (const char *c = p; c < q; c++) r->line += *c == '\n';
        if (q + 1 < end && q[1] == '"') {
          if (esc_at == SIZE_MAX) esc_at = r->unescaped.len;
          oc_buf_append(&r->unescaped, p, (size_t)(q + 1 - p)); /* keeps one of the two quotes */
          p = q + 2;
          continue;
        }
        if (esc_at != SIZE_MAX) {
          oc_buf_append(&r->unescaped, p, (size_t)(q - p));
          push_field(r, NULL, r->unescaped.len - esc_at, esc_at);
        } else {
          push_field(r, start, (size_t)(q - start), SIZE_MAX);
        }
        p = q + 1;
        break;
      }
      if (p < end && *p != delim && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n') &&
          !(*p == '\r' && p + 1 == end)) {
        r->pos = p;
        skip_line(r);
        *reason = "unexpected character after a closing quote";
        return OC_CSV_BAD;
      }
    } else {
      const char *start = p;
      while (p < end && *p != delim && *p != '\n') {
        if (*p == '"') {
          r->pos = p;
          skip_line(r);
          *reason = "quote inside an unquoted field (quote the whole field and double the quote)";
          return OC_CSV_BAD;
        }
        p++;
      }
      size_t len = (size_t)(p - start);
      if (len && start[len - 1] == '\r' && (p == end || *p == '\n')) len--;
      push_field(r, start, len, SIZE_MAX);
    }
    if (p < end && *p == delim) {
      p++;
      continue;
    }
    if (p < end && *p == '\r') p++;
    if (p < end && *p == '\n') {
      p++;
      r->line++;
    }
    break;
  }
  r->pos = p;
  if ((size_t)(p - record_start) > OC_CSV_MAX_RECORD_BYTES) {
    *reason = "record longer than 1 MiB";
    return OC_CSV_BAD;
  }
  for (size_t i = 0; i < r->nfields; i++)
    if (r->unescaped_at[i] != SIZE_MAX) r->fields[i].data = r->unescaped.data + r->unescaped_at[i];
  return OC_CSV_RECORD;
}

static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The decimal m * 10^-k with at most 15 significant digits that reads back as a (1e-4 <= a < 1e15),
 * written as printf's %.15g writes it: fixed notation, no trailing zeros. false when a has no such
 * form (then it needs 16 or 17 digits, or an exponent). Why it is exact: m / 10^k with m < 10^15 and
 * k <= 22 divides two exact doubles, so the quotient is the double nearest m * 10^-k, which is what
 * reading the text gives; and a decimal of at most 15 digits within half an ulp of a is the only one
 * (15-digit decimals are further apart than an ulp), so it is the one %.15g rounds a to. The smallest
 * k that works has no trailing zero in m. */
static bool format_short_fixed(double a, char *buf) {
  if (!(a >= 1e-4 && a < 1e15)) return false;
  for (int k = 0; k <= 22; k++) {
    double scaled = a * exact_pow10[k];
    if (scaled >= 1e15) return false;
    double m = nearbyint(scaled);
    if (m / exact_pow10[k] != a) continue;
    char digits[24];
    int n = 0;
    for (uint64_t u = (uint64_t)m; u; u /= 10) digits[n++] = (char)('0' + u % 10);
    char *p = buf;
    if (k >= n) { /* 0.000ddd */
      *p++ = '0';
      *p++ = '.';
      for (int z = 0; z < k - n; z++) *p++ = '0';
    }
    for (int i = n - 1; i >= 0; i--) {
      *p++ = digits[i];
      if (i == k && k > 0 && k < n) *p++ = '.';
    }
    *p = '\0';
    return true;
  }
  return false;
}

char *oc_format_number(double value, char *buf) {
  /* Most values (prices, rates, counts) have a short exact decimal: found with a few multiplications
   * instead of printf's and strtod's multi-precision arithmetic, and written exactly as they write it */
  if (isfinite(value) && value != 0.0 && format_short_fixed(fabs(value), buf + (value < 0))) {
    if (value < 0) buf[0] = '-';
    return buf;
  }
  for (int precision = 15; precision <= 17; precision++) {
    snprintf(buf, OC_NUMBER_STRLEN, "%.*g", precision, value);
    if (strtod(buf, NULL) == value) break;
  }
  return buf;
}

const char *oc_csv_field_trimmed(const oc_csv_field *f, size_t *len) {
  const char *s = f->data;
  size_t n = f->len;
  while (n && isspace((unsigned char)*s)) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  *len = n;
  return s;
}

bool oc_csv_field_is(const oc_csv_field *f, const char *name) {
  size_t len;
  const char *s = oc_csv_field_trimmed(f, &len);
  return strlen(name) == len && strncasecmp(s, name, len) == 0;
}

bool oc_csv_fields_same_name(const oc_csv_field *a, const oc_csv_field *b) {
  size_t alen, blen;
  const char *as = oc_csv_field_trimmed(a, &alen), *bs = oc_csv_field_trimmed(b, &blen);
  return alen == blen && strncasecmp(as, bs, alen) == 0;
}

int oc_parse_number(const char *text, size_t len, double *out, const char **reason) {
  const char *p = text, *end = text + len;
  if (len == 0) {
    *reason = "empty value";
    return -1;
  }
  bool negative = false;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  uint64_t mantissa = 0;
  int significant = 0, exp10 = 0, ndigits = 0;
  for (; p < end && *p >= '0' && *p <= '9'; p++, ndigits++) {
    if (mantissa || *p != '0') {
      if (significant < 19) mantissa = mantissa * 10 + (uint64_t)(*p - '0');
      else exp10++;
      significant++;
    }
  }
  if (p < end && *p == '.') {
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, ndigits++) {
      if (mantissa || *p != '0') {
        if (significant < 19) {
          mantissa = mantissa * 10 + (uint64_t)(*p - '0');
          exp10--;
        }
        significant++;
      } else {
        exp10--;
      }
    }
  }
  if (ndigits == 0) {
    *reason = "not a number";
    return -1;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool exp_negative = false;
    if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
    if (p >= end || *p < '0' || *p > '9') {
      *reason = "not a number (bad exponent)";
      return -1;
    }
    int e = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
      if (e < 100000) e = e * 10 + (*p - '0');
    exp10 += exp_negative ? -e : e;
  }
  if (p != end) {
    *reason = "not a number";
    return -1;
  }
  double value;
  if (significant <= 15 && exp10 >= -22 && exp10 <= 22) {
    /* Both operands are exact doubles, so one IEEE operation rounds correctly (Clinger's fast path). */
    value = exp10 < 0 ? (double)mantissa / exact_pow10[-exp10] : (double)mantissa * exact_pow10[exp10];
  } else {
    char copy[128];
    if (len >= sizeof copy) {
      *reason = "number has too many characters";
      return -1;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    value = fabs(strtod(copy, NULL));
  }
  if (!isfinite(value)) {
    *reason = "number out of range";
    return -1;
  }
  if (mantissa != 0 && value == 0) { /* 1e-400 would be stored as 0; subnormals (4.9e-324) are kept */
    *reason = "number too small to store (it would be stored as 0)";
    return -1;
  }
  *out = negative ? -value : value;
  return 0;
}
