/* csv.h: a fast RFC 4180 tokenizer over an in-memory buffer (a mapped file), and the strict number
 * parser and printer every stage shares (importers, the lake, the features, the CLI). The tokenizer
 * hands out fields that point into the buffer (quoted fields with doubled quotes are unescaped into a
 * per-record scratch buffer): no allocation per row.
 * Accepts a UTF-8 BOM, CRLF or LF line ends, quoted fields spanning lines, and skips blank lines.
 * It knows nothing about dates, prices or the store (the price-row validator is ingest/row.h). */
#ifndef OC_CORE_CSV_H
#define OC_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

typedef struct oc_csv_field {
  const char *data; /* not NUL-terminated */
  size_t len;
} oc_csv_field;

typedef struct oc_csv_reader {
  const char *pos, *end;
  size_t line; /* line number (1-based) where the next record starts */
  char delim;
  oc_csv_field *fields; /* the current record */
  size_t nfields, fields_cap;
  size_t *unescaped_at; /* per field: offset into unescaped, or SIZE_MAX when data points into the input */
  size_t unescaped_cap;
  oc_buf unescaped;
} oc_csv_reader;

enum { OC_CSV_END = 0, OC_CSV_RECORD = 1, OC_CSV_BAD = -1 };

/* Bounds on one record, so that a hostile line (100 MB of commas) is a bad record, not gigabytes of
 * field table: a price file has a handful of fields and short lines. */
#define OC_CSV_MAX_FIELDS 4096
#define OC_CSV_MAX_RECORD_BYTES (1u << 20)

void oc_csv_init(oc_csv_reader *r, const char *data, size_t len, char delim);
void oc_csv_free(oc_csv_reader *r);
/* Reads the next non-blank record. OC_CSV_RECORD: r->fields[0..nfields) are valid until the next call;
 * OC_CSV_BAD: the record is malformed or beyond the bounds above (*reason says why), skipped to the
 * end of its line; OC_CSV_END.
 * *line is the line the record starts on. */
int oc_csv_next(oc_csv_reader *r, size_t *line, const char **reason);
/* Bytes consumed so far (for progress). */
size_t oc_csv_offset(const oc_csv_reader *r, const char *start);

/* Strict decimal number: [+-]digits[.digits][(e|E)[+-]digits] (or .digits), finite, nothing else
 * (no blanks, no thousands separators, no inf/nan/hex), and not so small that it would be stored as 0
 * (1e-400; subnormal doubles are kept). Correctly rounded. -1 and a reason otherwise. */
int oc_parse_number(const char *text, size_t len, double *out, const char **reason);
/* The shortest decimal text that parses back (oc_parse_number) to exactly value ("71.23", not
 * "71.230000000000004"), into buf (at least OC_NUMBER_STRLEN bytes). Returns buf. */
#define OC_NUMBER_STRLEN 32
char *oc_format_number(double value, char *buf);
/* Case-insensitive, blank-trimmed comparison of a field with a name. */
bool oc_csv_field_is(const oc_csv_field *f, const char *name);
/* f's text without surrounding white space (what names are compared on); its length in *len. */
const char *oc_csv_field_trimmed(const oc_csv_field *f, size_t *len);
/* Whether two fields hold the same name as oc_csv_field_is compares them: trimmed, in any case. */
bool oc_csv_fields_same_name(const oc_csv_field *a, const oc_csv_field *b);

#endif
