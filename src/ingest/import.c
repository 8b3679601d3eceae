/* import.c: see import.h. A file source: map the file (core/mapped_file.h), detect its format (Parquet by its magic, JSON,
 * else CSV), hand every row to the batch. The CSV and JSON readers are here, Parquet's is in
 * import_parquet.c. The row path (tokenize, parse, oc_ingest_add) allocates nothing per row. A file can
 * be long: its batch is staged (batch.h), so the store's write lock is held for the final move only. */
#include "ingest/import.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/csv.h"
#include "core/fsutil.h"
#include "core/json_scan.h"
#include "core/mapped_file.h"
#include "core/progress.h"
#include "ingest/import_internal.h"
#include "ingest/row.h"
#include "ingest/simulate.h"

void oc_import_options_init(oc_import_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->source_kind = "historical";
  opt->series = "WTI";
  opt->unit = "USD/bbl";
  opt->start_date = OC_DATE_INVALID;
  opt->on_error = OC_ON_ERROR_ABORT;
}

/* ---- columns by name ---------------------------------------------------------------------------- */

static long find_column(const oc_csv_field *fields, size_t n, const char *const *names) {
  for (const char *const *name = names; *name; name++)
    for (size_t i = 0; i < n; i++)
      if (oc_csv_field_is(&fields[i], *name)) return (long)i;
  return -1;
}

static int no_column(const char *where, const oc_csv_field *fields, size_t n, const char *what, const char *name,
                     oc_error *err) {
  oc_buf cols = {0};
  for (size_t i = 0; i < n; i++) oc_buf_printf(&cols, "%s'%.*s'", i ? ", " : "", (int)fields[i].len, fields[i].data);
  if (name) {
    oc_error_set(err, "%s: no column named '%s' (columns: %s)", where, name, cols.data ? cols.data : "none");
  } else {
    oc_error_set(err, "%s: cannot tell which column holds the %s (columns: %s); name it with --%s-col", where, what,
                 cols.data ? cols.data : "none", what);
  }
  oc_buf_free(&cols);
  return -1;
}

/* A chosen column whose name another column has too: which of the two is meant cannot be told. */
static int named_twice(const char *where, const oc_csv_field *fields, size_t n, long chosen, oc_error *err) {
  for (size_t i = 0; chosen >= 0 && i < n; i++) {
    if ((long)i == chosen || !oc_csv_fields_same_name(&fields[i], &fields[chosen])) continue;
    size_t len;
    const char *name = oc_csv_field_trimmed(&fields[chosen], &len);
    return oc_error_set(err, "%s: columns %ld and %zu are both named '%.*s': which one to read cannot be told "
                             "(rename one)", where, chosen + 1, i + 1, (int)len, name);
  }
  return 0;
}

int oc_import_choose_columns(const char *where, const oc_csv_field *names, size_t n, const oc_import_options *opt,
                             oc_import_columns *out, oc_error *err) {
  static const char *const date_names[] = {"date", "observation_date", "day", NULL};
  static const char *const value_names[] = {"price", "value", "close", NULL};
  static const char *const series_names[] = {"series", NULL};
  const char *const date_named[] = {opt->date_col, NULL};
  const char *const value_named[] = {opt->value_col, NULL};
  const char *const series_named[] = {opt->series_col, NULL};
  out->date = find_column(names, n, opt->date_col ? date_named : date_names);
  out->series = find_column(names, n, opt->series_col ? series_named : series_names);
  out->value = find_column(names, n, opt->value_col ? value_named : value_names);
  if (out->date < 0) return no_column(where, names, n, "date", opt->date_col, err);
  if (out->value < 0 && !opt->value_col && n == 2 + (out->series >= 0)) {
    for (size_t i = 0; i < n; i++)
      if ((long)i != out->date && (long)i != out->series) out->value = (long)i;
  }
  if (out->value < 0) return no_column(where, names, n, "value", opt->value_col, err);
  if (opt->series_col && out->series < 0) return no_column(where, names, n, "series", opt->series_col, err);
  if (named_twice(where, names, n, out->date, err) != 0 || named_twice(where, names, n, out->value, err) != 0 ||
      named_twice(where, names, n, out->series, err) != 0)
    return -1;
  return 0;
}

/* ---- CSV --------------------------------------------------------------------------------------- */

/* The header decides the columns and the format; every later record is one row for the sink. */
static int read_csv(void *source, oc_ingest_sink *sink, oc_error *err) {
  const oc_import_source *file = source;
  const oc_import_options *opt = file->opt;
  oc_csv_reader r;
  oc_csv_init(&r, file->data, file->len, ',');
  r.line = file->first_line;
  size_t line;
  const char *reason;
  int status = oc_csv_next(&r, &line, &reason);
  if (status != OC_CSV_RECORD) {
    oc_error_set(err, "%s:%zu: %s", opt->path, line, status == OC_CSV_END ? "no header row (empty file)" : reason);
    oc_csv_free(&r);
    return -1;
  }
  size_t ncols = r.nfields;
  int rc = -1;
  for (size_t i = 0; i < ncols; i++) {
    if (memchr(r.fields[i].data, '\0', r.fields[i].len)) { /* else: "cannot tell which column holds the date" */
      oc_error_set(err, "%s:%zu: the header holds a NUL byte: UTF-16 or binary data, not CSV text (oilcast reads "
                        "UTF-8; convert UTF-16 first, e.g. iconv -f UTF-16 -t UTF-8)", opt->path, line);
      goto done;
    }
  }
  char where[512];
  snprintf(where, sizeof where, "%s:%zu", opt->path, line);
  oc_import_columns chosen;
  if (oc_import_choose_columns(where, r.fields, ncols, opt, &chosen, err) != 0) goto done;
  long date_col = chosen.date, value_col = chosen.value, series_col = chosen.series;
  const oc_csv_field *dh = &r.fields[date_col];
  /* FRED: '.' and empty values mean missing, in each series' column of a download of several. */
  bool fred = series_col < 0 &&
              ((dh->len == 4 && memcmp(dh->data, "DATE", 4) == 0) || oc_csv_field_is(dh, "observation_date"));
  oc_ingest_set_format(sink, series_col >= 0 ? "csv-long"
                             : fred          ? "fred"
                             : ncols == 2 && date_col == 0 && value_col == 1 && oc_csv_field_is(&r.fields[0], "Date") &&
                                     oc_csv_field_is(&r.fields[1], "Price")
                                 ? "eia"
                                 : "csv");
  size_t single_len = strlen(opt->series), header_line = line;
  oc_progress progress;
  oc_progress_start(&progress, "importing", file->len);
  for (size_t records = 1;; records++) {
    status = oc_csv_next(&r, &line, &reason);
    if (status == OC_CSV_END && records == 1) {
      /* A header alone is a file cut short or exported empty, not "0 rows, all fine": refused like an
       * empty file, before anything is stored (no series, no run, no raw copy). */
      oc_error_set(err, "%s:%zu: a header and no data rows: nothing to import", opt->path, header_line);
      goto progress_done;
    }
    if (status == OC_CSV_END) break;
    if ((records & 0xFFFF) == 0) oc_progress_update(&progress, oc_csv_offset(&r, file->data), NULL);
    if (status == OC_CSV_BAD) {
      oc_ingest_reject(sink, line, NULL, "%s", reason);
      continue;
    }
    if (r.nfields != ncols) {
      oc_ingest_reject(sink, line, NULL, "expected %zu fields as in the header, found %zu", ncols, r.nfields);
      continue;
    }
    const oc_csv_field *df = &r.fields[date_col], *vf = &r.fields[value_col];
    oc_date date;
    double value;
    char why[160];
    oc_row_status row = oc_row_validate(df->data, df->len, vf->data, vf->len, fred, &date, &value, why, sizeof why);
    if (row == OC_ROW_BAD) {
      oc_ingest_reject(sink, line, NULL, "%s", why);
      continue;
    }
    if (row == OC_ROW_MISSING) {
      oc_ingest_missing(sink);
      continue;
    }
    const oc_csv_field *sf = series_col >= 0 ? &r.fields[series_col] : NULL;
    if (oc_ingest_add(sink, line, sf ? sf->data : opt->series, sf ? sf->len : single_len, date, value) != 0)
      goto progress_done;
  }
  rc = 0;
progress_done:
  oc_progress_finish(&progress);
done:
  oc_csv_free(&r);
  return rc;
}

/* ---- JSON -------------------------------------------------------------------------------------- */

/* Line on which each top-level array element starts (jansson keeps no positions per element). */
static size_t *element_lines(const char *data, size_t len, size_t count) {
  size_t *lines = oc_xcalloc(count + 1, sizeof *lines);
  size_t line = 1, depth = 0, index = 0;
  bool in_string = false, expecting = false;
  for (size_t i = 0; i < len && index < count; i++) {
    char c = data[i];
    if (c == '\n') line++;
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
      continue;
    }
    if (depth == 1 && expecting && !isspace((unsigned char)c)) {
      if (c != ']') lines[index++] = line;
      expecting = false;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth == 1) expecting = true;
    } else if (c == ']' || c == '}') depth--;
    else if (c == ',' && depth == 1) expecting = true;
  }
  return lines;
}

static int json_value(const json_t *v, double *out, bool *missing, const char **reason) {
  *missing = false;
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return 0;
  }
  if (json_is_null(v)) {
    *missing = true;
    return 0;
  }
  if (json_is_string(v)) return oc_parse_number(json_string_value(v), json_string_length(v), out, reason);
  *reason = "price is not a number";
  return -1;
}

/* One element of an array of {"date","price"} objects: its date and price into *date and *price, or a
 * rejected row (false). */
static bool json_object_row(oc_ingest_sink *sink, size_t line, const json_t *el, oc_date *date, const json_t **price) {
  if (!json_is_object(el)) {
    oc_ingest_reject(sink, line, NULL, "expected an object with \"date\" and \"price\"");
    return false;
  }
  const json_t *d = json_object_get(el, "date");
  if (!json_is_string(d)) {
    oc_ingest_reject(sink, line, NULL, "missing \"date\" (a \"YYYY-MM-DD\" string)");
    return false;
  }
  char reason[160];
  if (oc_row_parse_date(json_string_value(d), json_string_length(d), date, reason, sizeof reason) != 0) {
    oc_ingest_reject(sink, line, NULL, "%s", reason);
    return false;
  }
  *price = json_object_get(el, "price");
  if (!*price) *price = json_object_get(el, "value");
  if (!*price) {
    oc_ingest_reject(sink, line, NULL, "missing \"price\"");
    return false;
  }
  return true;
}

static int read_json(void *source, oc_ingest_sink *sink, oc_error *err) {
  const oc_import_source *file = source;
  const oc_import_options *opt = file->opt;
  const char *data = file->data;
  size_t len = file->len;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3, len -= 3; /* BOM: not JSON, but common */
  json_error_t jerr;
  /* a repeated key ({"price":70,"price":71}) is refused, as the API refuses it, rather than one of
   * the two values being kept silently */
  json_t *root = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
  if (!root) return oc_error_set(err, "%s:%d:%d: malformed JSON: %s", opt->path, jerr.line, jerr.column, jerr.text);
  int rc = -1;
  size_t *lines = NULL;
  char field[96], number[96];
  size_t at_line;
  if (oc_json_find_underflow(data, len, field, number, sizeof field, &at_line)) {
    oc_error_set(err, "%s:%zu: %s%s%s is too small for a double (it would read as 0)", opt->path, at_line, field,
                 field[0] ? ": " : "", number);
    goto done;
  }
  if (!json_is_array(root)) {
    oc_error_set(err, "%s:1: expected a JSON array of prices or of {\"date\",\"price\"} objects", opt->path);
    goto done;
  }
  size_t n = json_array_size(root);
  if (n == 0) { /* an export of nothing: refused as a CSV of its header alone is */
    size_t line = 1;
    for (const char *c = data; *c != '['; c++) line += *c == '\n';
    oc_error_set(err, "%s:%zu: an empty array: nothing to import", opt->path, line);
    goto done;
  }
  lines = element_lines(data, len, n);
  bool numbers = n > 0 && !json_is_object(json_array_get(root, 0));
  oc_ingest_set_format(sink, numbers ? "json-numbers" : "json-objects");
  if (numbers && opt->start_date == OC_DATE_INVALID) {
    oc_error_set(err, "%s: a bare array of prices needs --start-date (the date of the first price)", opt->path);
    goto done;
  }
  size_t series_len = strlen(opt->series);
  /* Prices of a bare array fall on consecutive trading days from the start date (or the next one). */
  oc_date date = opt->start_date;
  if (numbers) date = oc_calendar_trading_day_on_or_after(date);
  for (size_t i = 0; i < n; i++, date = numbers ? oc_calendar_next_trading_day(date) : date) {
    const json_t *el = json_array_get(root, i);
    size_t line = lines[i];
    if (numbers && json_is_object(el)) {
      oc_ingest_reject(sink, line, NULL, "an object in an array of prices");
      continue;
    }
    if (!numbers && !json_object_row(sink, line, el, &date, &el)) continue;
    const char *reason = NULL;
    double value;
    bool missing;
    if (json_value(el, &value, &missing, &reason) != 0) {
      oc_ingest_reject(sink, line, NULL, "bad value: %s", reason);
      continue;
    }
    if (missing) {
      oc_ingest_missing(sink);
      continue;
    }
    if (oc_ingest_add(sink, line, opt->series, series_len, date, value) != 0) goto done;
  }
  rc = 0;
done:
  free(lines);
  json_decref(root);
  return rc;
}

/* ---- the import ---------------------------------------------------------------------------------- */

static bool looks_like_json(const char *path, const char *data, size_t len) {
  if (strcasecmp(oc_path_extension(path), "json") == 0) return true;
  size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  while (i < len && isspace((unsigned char)data[i])) i++;
  return i < len && data[i] == '[';
}

/* Whether the file is still as it was opened (size and modification time); if not, -1 naming it: rows
 * read while another process rewrites or truncates a file may be half old and half new, or cut short
 * (past a truncation the mapping reads as zeros: core/mapped_file.h). */
static int file_unchanged(const char *path, const oc_mapped_file *file, oc_error *err) {
  struct stat now;
  if (fstat(file->fd, &now) != 0) return oc_error_errno(err, "cannot stat %s", path);
  if (now.st_size == file->opened.st_size && now.st_mtim.tv_sec == file->opened.st_mtim.tv_sec &&
      now.st_mtim.tv_nsec == file->opened.st_mtim.tv_nsec)
    return 0;
  return oc_error_set(err, "%s: %s while it was read (%lld bytes when opened, %lld now; another process is writing "
                           "it?): nothing written; import it again once it is complete",
                      path, now.st_size < file->opened.st_size ? "shrank" : "changed",
                      (long long)file->opened.st_size, (long long)now.st_size);
}

/* The source the batch reads: the format's reader over the snapshot, then the check that the file did
 * not change meanwhile (before anything commits). */
typedef struct snapshot_source {
  oc_import_source rows;
  oc_ingest_read_fn read_format;
  const oc_mapped_file *file;
} snapshot_source;

static int read_snapshot_rows(void *source, oc_ingest_sink *sink, oc_error *err) {
  snapshot_source *s = source;
  if (s->read_format(&s->rows, sink, err) != 0) return -1;
  return file_unchanged(s->rows.opt->path, s->file, err);
}

/* Whether the file starts with the simulator's mark (simulate.h); if so, file's rows start after it. */
static bool skip_simulated_mark(oc_import_source *file) {
  const size_t mark_len = strlen(OC_SIMULATE_MARK);
  if (file->len < mark_len || memcmp(file->data, OC_SIMULATE_MARK, mark_len) != 0) return false;
  const char *nl = memchr(file->data, '\n', file->len);
  size_t skip = nl ? (size_t)(nl + 1 - file->data) : file->len;
  file->data += skip;
  file->len -= skip;
  file->first_line = 2;
  return true;
}

int oc_import_file(oc_store *store, const oc_import_options *opt, oc_import_report *report, oc_error *err) {
  memset(report, 0, sizeof *report);
  report->format = "unknown";
  oc_mapped_file snapshot;
  if (oc_mapped_file_open(opt->path, &snapshot, err) != 0) return -1;
  const char *data = snapshot.data;
  size_t len = snapshot.len;
  if (len >= 2 && (memcmp(data, "\xFF\xFE", 2) == 0 || memcmp(data, "\xFE\xFF", 2) == 0)) {
    oc_error_set(err, "%s: UTF-16 text (byte order mark %s): oilcast reads UTF-8; convert it first, e.g. iconv -f "
                      "UTF-16 -t UTF-8", opt->path, data[0] == '\xFF' ? "FF FE" : "FE FF");
    oc_mapped_file_close(&snapshot);
    return -1;
  }
  snapshot_source source = {.rows = {.opt = opt, .data = data, .len = len, .first_line = 1}, .file = &snapshot};
  oc_import_source *file = &source.rows;
  bool simulated = skip_simulated_mark(file);
  bool parquet = (file->len >= 4 && memcmp(file->data, "PAR1", 4) == 0) ||
                 strcasecmp(oc_path_extension(opt->path), "parquet") == 0; /* the reader says what is wrong */
  source.read_format = parquet                                             ? oc_import_read_parquet
                       : looks_like_json(opt->path, file->data, file->len) ? read_json
                                                                           : read_csv;
  oc_ingest_batch_options batch = {.read = read_snapshot_rows,
                                   .source = &source,
                                   .source_kind = simulated ? "simulated" : opt->source_kind,
                                   .origin = opt->path,
                                   .unit = opt->unit,
                                   .on_error = opt->on_error,
                                   .raw_from_fd = true, /* the mapping is read by this thread only */
                                   .raw_fd = snapshot.fd,
                                   .raw_len = snapshot.len,
                                   .raw_dir = opt->raw_dir,
                                   .raw_ext = oc_path_extension(opt->path),
                                   .stage = true};
  int rc = oc_ingest_batch(store, &batch, report, err);
  oc_mapped_file_close(&snapshot);
  return rc;
}
