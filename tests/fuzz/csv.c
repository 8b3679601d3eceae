/* csv.c (fuzz target "csv"): the CSV tokenizer (core/csv.h), the strict number parser and the price-row
 * validator (ingest/row.h) on arbitrary bytes as a comma-separated file. Beyond "no crash, no
 * out-of-bounds read, no leak" it asserts:
 *   - each record's line is within the file and never goes back; each field lies inside the input or
 *     the tokenizer's unescape buffer, and an unquoted field holds no comma, quote or line feed;
 *   - round trip: the good records written back with every field quoted (quotes doubled) tokenize to
 *     exactly the same records;
 *   - every field oc_parse_number accepts equals strtod's correctly rounded value, and its
 *     oc_format_number text parses back to the same double;
 *   - a row the validator accepts has a date whose YYYY-MM-DD form is its text; a rejected one has a
 *     non-empty reason inside the reason buffer.
 * It must not write files or touch a store. */
#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/date.h"
#include "fuzz.h"
#include "ingest/row.h"

/* The tokenizer's records, flattened: every field quoted, records ended by "\n". */
static void write_quoted(oc_buf *out, const oc_csv_reader *r) {
  for (size_t i = 0; i < r->nfields; i++) {
    oc_buf_puts(out, i ? ",\"" : "\"");
    const char *p = r->fields[i].data, *end = p + r->fields[i].len;
    for (const char *q; p < end && (q = memchr(p, '"', (size_t)(end - p))); p = q + 1)
      oc_buf_append(out, p, (size_t)(q + 1 - p)), oc_buf_putc(out, '"'); /* the quote, doubled */
    oc_buf_append(out, p, (size_t)(end - p));
    oc_buf_putc(out, '"');
  }
  oc_buf_putc(out, '\n');
}

static void check_number(const oc_csv_field *f) {
  double value;
  const char *reason;
  if (oc_parse_number(f->data, f->len, &value, &reason) != 0) {
    FUZZ_CHECK(reason && *reason, "a rejected number needs a reason");
    return;
  }
  FUZZ_CHECK(isfinite(value), "'%.*s' parsed to a non-finite value", (int)f->len, f->data);
  char *copy = oc_xmalloc(f->len + 1);
  memcpy(copy, f->data, f->len);
  copy[f->len] = '\0';
  double expect = strtod(copy, NULL);
  FUZZ_CHECK(value == expect && signbit(value) == signbit(expect), "'%s': %.17g, strtod says %.17g", copy, value,
             expect);
  free(copy);
  char text[OC_NUMBER_STRLEN];
  oc_format_number(value, text);
  double back;
  FUZZ_CHECK(oc_parse_number(text, strlen(text), &back, &reason) == 0 && back == value,
             "%.17g formats as '%s', which does not parse back", value, text);
}

static void check_row(const oc_csv_reader *r) {
  if (r->nfields < 2) return;
  const oc_csv_field *d = &r->fields[0], *v = &r->fields[1];
  oc_date date;
  double value;
  char reason[160];
  memset(reason, 0x55, sizeof reason);
  oc_row_status status = oc_row_validate(d->data, d->len, v->data, v->len, true, &date, &value, reason, sizeof reason);
  if (status == OC_ROW_BAD) {
    FUZZ_CHECK(memchr(reason, '\0', sizeof reason) && reason[0], "a bad row needs a NUL-terminated reason");
    return;
  }
  char text[OC_DATE_STRLEN];
  oc_date_format(date, text);
  FUZZ_CHECK(d->len == 10 && memcmp(text, d->data, 10) == 0, "date '%.*s' read as %s", (int)d->len, d->data, text);
}

/* Tokenizes data, checking each record; the good records go to quoted (when non-NULL). */
static void tokenize(const char *data, size_t size, oc_buf *quoted, oc_buf *records_again) {
  size_t lines = 1;
  for (const char *nl = data; (nl = memchr(nl, '\n', (size_t)(data + size - nl))); nl++) lines++;
  oc_csv_reader r;
  oc_csv_init(&r, data, size, ',');
  size_t line, last_line = 1;
  const char *reason;
  for (int status; (status = oc_csv_next(&r, &line, &reason)) != OC_CSV_END;) {
    FUZZ_CHECK(line >= last_line && line <= lines, "record on line %zu (previous %zu, %zu lines)", line, last_line,
               lines);
    last_line = line;
    if (status == OC_CSV_BAD) {
      FUZZ_CHECK(reason && *reason, "a bad record needs a reason");
      continue;
    }
    FUZZ_CHECK(status == OC_CSV_RECORD && r.nfields >= 1, "status %d with %zu fields", status, r.nfields);
    for (size_t i = 0; i < r.nfields; i++) {
      const oc_csv_field *f = &r.fields[i];
      bool in_input = f->data >= data && f->data + f->len <= data + size;
      bool unescaped = r.unescaped.data && f->data >= r.unescaped.data &&
                       f->data + f->len <= r.unescaped.data + r.unescaped.len;
      FUZZ_CHECK(in_input || unescaped, "field %zu of line %zu points outside its buffers", i, line);
      if (in_input && (f->data == data || f->data[-1] != '"')) {
        FUZZ_CHECK(!memchr(f->data, ',', f->len) && !memchr(f->data, '"', f->len) && !memchr(f->data, '\n', f->len),
                   "unquoted field %zu of line %zu holds a comma, quote or line feed", i, line);
      }
      check_number(f);
    }
    check_row(&r);
    if (quoted) write_quoted(quoted, &r);
    if (records_again) write_quoted(records_again, &r);
  }
  FUZZ_CHECK(oc_csv_offset(&r, data) <= size, "read past the end");
  oc_csv_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  oc_buf quoted = {0}, again = {0};
  tokenize((const char *)data, size, &quoted, NULL);
  tokenize(quoted.data ? quoted.data : "", quoted.len, NULL, &again);
  FUZZ_CHECK(quoted.len == again.len && (quoted.len == 0 || memcmp(quoted.data, again.data, quoted.len) == 0),
             "the records written back quoted tokenize differently");
  oc_buf_free(&quoted);
  oc_buf_free(&again);
  return 0;
}
