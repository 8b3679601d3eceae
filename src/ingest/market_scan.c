/* market_scan.c: see market_scan.h. A recursive-descent JSON checker over the bytes, which keeps what
 * the spec names on the way: the rows of one array (their date and value text) and a few members (as
 * jansson values, parsed from their already-checked bytes). Building a jansson tree of every answer
 * took two thirds of a full-history EIA fetch's CPU; this keeps two short strings per row. */
#include "ingest/market_scan.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

typedef enum {
  ROLE_PLAIN,   /* checked only */
  ROLE_TRACKED, /* an object on the way to what the spec reads (s->path is its path) */
  ROLE_ROWS,  /* the rows array: its elements are rows */
  ROLE_ROW    /* one row: its date and value are kept */
} role;

/* Where a kept text goes: a row's date or value. */
typedef struct capture {
  oc_market_kind *kind;
  size_t *at, *len;
} capture;

#define PATH_MAX_LEN 128
#define PREFIXES_MAX 16

typedef struct scanner {
  const char *start, *p, *end;
  const oc_market_scan_spec *spec;
  oc_market_page *page;
  const char *name;        /* the current member name, decoded: in the body (no escape) or in key */
  size_t name_len;
  bool escaped;            /* the last string scanned held an escape */
  oc_buf key;              /* a member name with an escape, decoded */
  size_t date_key_len;     /* strlen(spec->date_key), taken once: every row member is compared to it */
  char path[PATH_MAX_LEN]; /* the dotted path of the ROLE_TRACKED object being read */
  size_t rows_cap;
  bool rows_seen, member_seen[OC_MARKET_SCAN_MEMBERS];
  char prefixes_seen[PREFIXES_MAX][PATH_MAX_LEN]; /* objects on the way ("response"): one of each */
  size_t nprefixes;
  const char *fail_at, *why;
  char why_buf[96];
} scanner;

static int fail(scanner *s, const char *at, const char *why) {
  s->fail_at = at;
  s->why = why;
  return -1;
}

static void skip_blank(scanner *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

static void utf8_put(oc_buf *out, uint32_t cp) {
  char b[4];
  size_t n;
  if (cp < 0x80) b[0] = (char)cp, n = 1;
  else if (cp < 0x800) b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3F)), b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3F)), b[2] = (char)(0x80 | (cp >> 6 & 0x3F)),
    b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  oc_buf_append(out, b, n);
}

/* Four hex digits at q (q + 4 <= end checked by the caller); -1 when one is not hex. */
static long hex4(const char *q) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    char c = q[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

/* The escape after the backslash at q; *next past it. */
static int scan_escape(scanner *s, const char *q, oc_buf *out, const char **next) {
  static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
  if (q + 1 >= s->end) return fail(s, q, "unterminated string");
  const char *e = strchr(plain, q[1]);
  if (q[1] && e) {
    if (out) oc_buf_putc(out, meant[e - plain]);
    *next = q + 2;
    return 0;
  }
  if (q[1] != 'u') return fail(s, q, "invalid escape");
  long cp = s->end - q >= 6 ? hex4(q + 2) : -1;
  if (cp < 0) return fail(s, q, "invalid \\u escape");
  if (cp == 0) return fail(s, q, "\\u0000 is not allowed");
  const char *after = q + 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(s, q, "invalid Unicode: a lone low surrogate");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    long low = s->end - after >= 6 && after[0] == '\\' && after[1] == 'u' ? hex4(after + 2) : -1;
    if (low < 0xDC00 || low > 0xDFFF) return fail(s, q, "invalid Unicode: a high surrogate without its low half");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    after += 6;
  }
  if (out) utf8_put(out, (uint32_t)cp);
  *next = after;
  return 0;
}

/* The high bit of each of the eight bytes of w that needs a look inside a string: '"', '\\', a control
 * character (< 0x20) or a byte of a multi-byte UTF-8 character (>= 0x80). Word-at-a-time tests: a
 * borrow can set the bit of a plain byte, but only above (at a higher address than) a byte that does
 * need a look, so the lowest bit set is exact. The answers' strings are mostly plain ASCII. */
static uint64_t word_specials(uint64_t w) {
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  uint64_t zero_in_quote = (quote - ones) & ~quote, zero_in_backslash = (backslash - ones) & ~backslash;
  uint64_t below_space = (w - ones * 0x20) & ~w;
  return (zero_in_quote | zero_in_backslash | below_space | w) & high;
}

static bool byte_is_plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* The string at s->p (its opening quote), decoded onto out when out is not NULL; s->escaped says
 * whether it held an escape. */
static int scan_string(scanner *s, oc_buf *out) {
  assert(s->p < s->end && *s->p == '"');
  const char *q = s->p + 1;
  s->escaped = false;
  for (;;) {
    const char *run = q;
    while (s->end - q >= 8) { /* eight bytes at a time; the loop below finishes the answer's last ones */
      uint64_t w, specials;
      memcpy(&w, q, 8);
      if ((specials = word_specials(w)) == 0) {
        q += 8;
        continue;
      }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      q += __builtin_ctzll(specials) / 8; /* the lowest address is the lowest byte */
#endif
      break;
    }
    while (q < s->end && byte_is_plain((unsigned char)*q)) q++;
    if (out && q > run) oc_buf_append(out, run, (size_t)(q - run));
    if (q >= s->end) return fail(s, s->p, "unterminated string");
    unsigned char c = (unsigned char)*q;
    if (c == '"') break;
    if (c < 0x20) return fail(s, q, "control character in a string");
    if (c == '\\') {
      s->escaped = true;
      if (scan_escape(s, q, out, &q) != 0) return -1;
      continue;
    }
    size_t n = oc_utf8_sequence(q, (size_t)(s->end - q));
    if (n == 0) return fail(s, q, "invalid UTF-8 in a string");
    if (out) oc_buf_append(out, q, n);
    q += n;
  }
  s->p = q + 1;
  return 0;
}

static bool is_digit(const scanner *s, const char *q) { return q < s->end && *q >= '0' && *q <= '9'; }

static int scan_number(scanner *s) {
  const char *q = s->p;
  if (*q == '-') q++;
  if (!is_digit(s, q)) return fail(s, s->p, "invalid number");
  if (*q == '0') q++;
  else
    while (is_digit(s, q)) q++;
  if (q < s->end && *q == '.') {
    if (!is_digit(s, ++q)) return fail(s, s->p, "invalid number");
    while (is_digit(s, q)) q++;
  }
  if (q < s->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < s->end && (*q == '+' || *q == '-')) q++;
    if (!is_digit(s, q)) return fail(s, s->p, "invalid number");
    while (is_digit(s, q)) q++;
  }
  s->p = q;
  return 0;
}

static int scan_literal(scanner *s, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return fail(s, s->p, "invalid literal");
  s->p += n;
  return 0;
}

static int scan_value(scanner *s, int depth, role r, const capture *keep);

/* A value checked only. Most of an answer's values are strings nobody keeps ("units":"$/BBL"): they
 * go to scan_string straight, without scan_value's frame. */
static int scan_plain_value(scanner *s, int depth) {
  skip_blank(s);
  if (s->p < s->end && *s->p == '"') return scan_string(s, NULL);
  return scan_value(s, depth, ROLE_PLAIN, NULL);
}

/* What the spec reads at path: the rows (-2), member i (i >= 0), something under it (-3), or nothing (-1). */
static int path_role(const oc_market_scan_spec *spec, const char *path) {
  size_t n = strlen(path);
  if (strcmp(spec->rows, path) == 0) return -2;
  for (int i = 0; i < OC_MARKET_SCAN_MEMBERS && spec->members[i]; i++)
    if (strcmp(spec->members[i], path) == 0) return i;
  if (strncmp(spec->rows, path, n) == 0 && spec->rows[n] == '.') return -3;
  for (int i = 0; i < OC_MARKET_SCAN_MEMBERS && spec->members[i]; i++)
    if (strncmp(spec->members[i], path, n) == 0 && spec->members[i][n] == '.') return -3;
  return -1;
}

/* The value of member `which` of the spec, parsed from its checked bytes by jansson. */
static int keep_member(scanner *s, int depth, int which) {
  if (s->member_seen[which]) return fail(s, s->p, "a repeated member the answer is read by");
  s->member_seen[which] = true;
  skip_blank(s);
  const char *from = s->p;
  if (scan_value(s, depth, ROLE_PLAIN, NULL) != 0) return -1;
  json_error_t jerr;
  s->page->members[which] = json_loadb(from, (size_t)(s->p - from), JSON_DECODE_ANY, &jerr);
  if (!s->page->members[which]) {
    snprintf(s->why_buf, sizeof s->why_buf, "%s", jerr.text);
    return fail(s, from, s->why_buf);
  }
  return 0;
}

/* A member of an object on the way to what the spec reads (path = the object's path). */
static int scan_tracked_member(scanner *s, int depth) {
  size_t path_len = strlen(s->path);
  int which = -1;
  if (path_len + 1 + s->name_len < PATH_MAX_LEN) {
    snprintf(s->path + path_len, PATH_MAX_LEN - path_len, "%s%.*s", path_len ? "." : "", (int)s->name_len, s->name);
    which = path_role(s->spec, s->path);
  }
  int rc;
  skip_blank(s);
  if (which == -2) {
    if (s->rows_seen) return fail(s, s->p, "a repeated member the answer is read by");
    s->rows_seen = true;
    s->page->has_rows = s->p < s->end && *s->p == '[';
    rc = scan_value(s, depth, s->page->has_rows ? ROLE_ROWS : ROLE_PLAIN, NULL);
  } else if (which >= 0) {
    rc = keep_member(s, depth, which);
  } else if (which == -3) { /* jansson keeps the last of repeated members: refused, as for the rest */
    for (size_t i = 0; i < s->nprefixes; i++)
      if (strcmp(s->prefixes_seen[i], s->path) == 0) return fail(s, s->p, "a repeated member the answer is read by");
    assert(s->nprefixes < PREFIXES_MAX); /* distinct proper prefixes of the spec's few short paths */
    memcpy(s->prefixes_seen[s->nprefixes++], s->path, PATH_MAX_LEN);
    rc = scan_value(s, depth, ROLE_TRACKED, NULL);
  } else {
    rc = scan_value(s, depth, ROLE_PLAIN, NULL);
  }
  s->path[path_len] = '\0';
  return rc;
}

static bool key_is(const scanner *s, const char *name, size_t len) {
  return s->name_len == len && memcmp(s->name, name, len) == 0;
}

/* One member of a row object: its date and value kept, the rest checked. */
static int scan_row_member(scanner *s, int depth, oc_market_row *row) {
  const char *name = key_is(s, s->page->date_key, s->date_key_len) ? s->page->date_key
                     : key_is(s, "value", strlen("value"))         ? "value"
                                                                   : NULL;
  if (!name) return scan_plain_value(s, depth);
  bool date = name == s->page->date_key;
  oc_market_kind *kind = date ? &row->date_kind : &row->value_kind;
  if (*kind != OC_MARKET_ABSENT) row->repeated = name;
  capture keep = {kind, date ? &row->date_at : &row->value_at, date ? &row->date_len : &row->value_len};
  return scan_value(s, depth, ROLE_PLAIN, &keep);
}

/* Past the '{' or '[' at s->p: true (and past close) when the object or array is empty. */
static bool opens_empty(scanner *s, char close) {
  s->p++;
  skip_blank(s);
  if (s->p >= s->end || *s->p != close) return false;
  s->p++;
  return true;
}

/* After an item of an object or array: 1 when a ',' announces another, 0 at the closing char, -1. */
static int next_item(scanner *s, char close, const char *expected) {
  skip_blank(s);
  if (s->p < s->end && (*s->p == ',' || *s->p == close)) return *s->p++ == ',';
  return fail(s, s->p, expected);
}

/* The member name at s->p, checked; when wanted, also s->name: in place when it holds no escape
 * (every name a provider writes), else decoded into s->key. */
static int scan_name(scanner *s, bool wanted) {
  const char *raw = s->p + 1;
  if (scan_string(s, NULL) != 0) return -1;
  size_t raw_len = (size_t)(s->p - 1 - raw);
  if (!wanted) return 0;
  s->name = raw;
  s->name_len = raw_len;
  if (!s->escaped) return 0;
  const char *after = s->p;
  s->p = raw - 1;
  oc_buf_clear(&s->key);
  int decoded = scan_string(s, &s->key);
  assert(decoded == 0 && s->p == after); /* the same bytes, checked just above */
  (void)decoded, (void)after;
  s->name = s->key.data;
  s->name_len = s->key.len;
  return 0;
}

static int scan_object(scanner *s, int depth, role r) {
  bool tracked = r == ROLE_TRACKED;
  if (opens_empty(s, '}')) return 0;
  for (;;) {
    skip_blank(s);
    if (s->p >= s->end || *s->p != '"') return fail(s, s->p, "string or '}' expected");
    if (scan_name(s, tracked || r == ROLE_ROW) != 0) return -1;
    skip_blank(s);
    if (s->p >= s->end || *s->p != ':') return fail(s, s->p, "':' expected");
    s->p++;
    int rc;
    if (tracked) rc = scan_tracked_member(s, depth);
    else if (r == ROLE_ROW) rc = scan_row_member(s, depth, &s->page->rows[s->page->nrows - 1]);
    else rc = scan_plain_value(s, depth);
    if (rc != 0 || (rc = next_item(s, '}', "',' or '}' expected")) <= 0) return rc;
  }
}

static int scan_array(scanner *s, int depth, role r) {
  if (opens_empty(s, ']')) return 0;
  for (;;) {
    skip_blank(s);
    if (r == ROLE_ROWS) {
      oc_market_page *page = s->page;
      oc_xgrow((void **)&page->rows, &s->rows_cap, page->nrows + 1, sizeof *page->rows);
      page->rows[page->nrows++] = (oc_market_row){.offset = (size_t)(s->p - s->start)};
    }
    int rc = scan_value(s, depth, r == ROLE_ROWS ? ROLE_ROW : ROLE_PLAIN, NULL);
    if (rc != 0 || (rc = next_item(s, ']', "',' or ']' expected")) <= 0) return rc;
  }
}

/* The value at s->p (blanks first); r says what it is to the spec, keep where its text goes. */
static int scan_value(scanner *s, int depth, role r, const capture *keep) {
  skip_blank(s);
  if (s->p >= s->end) return fail(s, s->p, "unexpected end of the answer");
  if (depth >= OC_MARKET_SCAN_DEPTH) return fail(s, s->p, "nested too deep");
  const char *from = s->p;
  oc_market_kind kind;
  int rc;
  switch (*s->p) {
  case '{':
    kind = OC_MARKET_OTHER;
    rc = scan_object(s, depth + 1, r);
    break;
  case '[':
    kind = OC_MARKET_OTHER;
    rc = scan_array(s, depth + 1, r == ROLE_ROWS ? ROLE_ROWS : ROLE_PLAIN);
    break;
  case '"':
    kind = OC_MARKET_STRING;
    if (keep) *keep->at = s->page->text.len;
    rc = scan_string(s, keep ? &s->page->text : NULL);
    break;
  case 't': kind = OC_MARKET_OTHER, rc = scan_literal(s, "true"); break;
  case 'f': kind = OC_MARKET_OTHER, rc = scan_literal(s, "false"); break;
  case 'n': kind = OC_MARKET_NULL, rc = scan_literal(s, "null"); break;
  default:
    if (*s->p != '-' && (*s->p < '0' || *s->p > '9')) return fail(s, s->p, "unexpected character");
    kind = OC_MARKET_NUMBER;
    rc = scan_number(s);
    if (rc == 0 && keep) {
      *keep->at = s->page->text.len;
      oc_buf_append(&s->page->text, from, (size_t)(s->p - from));
    }
  }
  if (rc == 0 && keep) {
    *keep->kind = kind;
    if (kind == OC_MARKET_STRING || kind == OC_MARKET_NUMBER) *keep->len = s->page->text.len - *keep->at;
  }
  return rc;
}

void oc_market_page_free(oc_market_page *page) {
  free(page->rows);
  oc_buf_free(&page->text);
  for (int i = 0; i < OC_MARKET_SCAN_MEMBERS; i++) json_decref(page->members[i]);
  memset(page, 0, sizeof *page);
}

int oc_market_scan(const char *body, size_t len, const oc_market_scan_spec *spec, oc_market_page *page,
                   oc_error *err) {
  assert(spec->rows && spec->date_key);
  memset(page, 0, sizeof *page);
  page->date_key = spec->date_key;
  /* The kept texts are at most the body's bytes (escapes only shrink), so this is their one allocation;
   * it also makes page->text.data a string even when every kept text is empty: rows point into it
   * (text.data + date_at), and an offset on a NULL pointer is undefined even when it is zero. */
  oc_buf_reserve(&page->text, len);
  scanner s = {.start = body, .p = body, .end = body + len, .spec = spec, .page = page,
               .date_key_len = strlen(spec->date_key)};
  /* a UTF-8 byte order mark before the answer: RFC 8259 (8.1) lets a reader ignore it, and some servers
   * and proxies write one; refusing it refused every answer of such a server ("unexpected character") */
  if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) s.p += 3;
  skip_blank(&s);
  bool object = s.p < s.end && *s.p == '{';
  int rc = scan_value(&s, 0, ROLE_TRACKED, NULL);
  if (rc == 0) {
    skip_blank(&s);
    if (s.p < s.end) rc = fail(&s, s.p, "end of the answer expected");
  }
  oc_buf_free(&s.key);
  if (rc != 0) {
    size_t line = 1;
    const char *line_start = body;
    for (const char *q = body; q < s.fail_at; q++)
      if (*q == '\n') line++, line_start = q + 1;
    oc_error_set(err, "malformed JSON at line %zu column %zu (byte %zu): %s", line, (size_t)(s.fail_at - line_start) + 1,
                 (size_t)(s.fail_at - body), s.why);
  } else if (!object) {
    rc = oc_error_set(err, "the answer is not a JSON object");
  }
  if (rc != 0) oc_market_page_free(page);
  return rc;
}
