/* import.c: see import.h. The row path (tokenize, validate, duplicate check, batch) allocates nothing
 * per row; the store sees batches of observations inside the one import transaction. */
#include "ingest/import.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/progress.h"
#include "ingest/csv.h"

#define BATCH 8192

void oc_import_options_init(oc_import_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->source_kind = "historical";
  opt->series = "WTI";
  opt->unit = "USD/bbl";
  opt->start_date = OC_DATE_INVALID;
  opt->on_error = OC_ON_ERROR_ABORT;
}

void oc_import_report_free(oc_import_report *report) {
  free(report->raw_path);
  report->raw_path = NULL;
}

/* A series seen in the file: its store id and a bitmap of the dates seen so far (duplicate check). */
typedef struct series_slot {
  char *name;
  int64_t id;
  oc_date lo; /* date of bit 0; a multiple of 64 */
  size_t nwords;
  uint64_t *seen;
  int64_t rows;       /* rows written for it (recorded with the run) */
  oc_date last_date;  /* the latest of those dates, and its value */
  double last_value;
} series_slot;

typedef struct importer {
  oc_store *store;
  const oc_import_options *opt;
  oc_import_report *rep;
  const char *path;
  series_slot *slots;
  size_t nslots, slots_cap;
  size_t *table; /* open addressing: slot index + 1, 0 = empty */
  size_t table_cap;
  oc_observation *batch;
  size_t nbatch;
  int64_t now;
  bool writing; /* false once an abort-mode import has seen a bad row */
  bool fred;    /* '.' and empty values mean missing */
  oc_error *err;
} importer;

static uint64_t hash_name(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static void table_insert(importer *im, size_t slot) {
  const char *name = im->slots[slot].name;
  size_t i = hash_name(name, strlen(name)) & (im->table_cap - 1);
  while (im->table[i]) i = (i + 1) & (im->table_cap - 1);
  im->table[i] = slot + 1;
}

/* The slot for a series name (creating the series in the store when new); NULL on a store error. */
static series_slot *slot_for(importer *im, const char *name, size_t len) {
  if (im->table_cap) {
    size_t i = hash_name(name, len) & (im->table_cap - 1);
    while (im->table[i]) {
      series_slot *s = &im->slots[im->table[i] - 1];
      if (strlen(s->name) == len && memcmp(s->name, name, len) == 0) return s;
      i = (i + 1) & (im->table_cap - 1);
    }
  }
  char *copy = oc_xmalloc(len + 1);
  memcpy(copy, name, len);
  copy[len] = '\0';
  int64_t id;
  if (oc_store_series_ensure(im->store, copy, im->opt->unit, im->opt->source_kind, &id, im->err) != 0) {
    free(copy);
    return NULL;
  }
  oc_xgrow((void **)&im->slots, &im->slots_cap, im->nslots + 1, sizeof *im->slots);
  im->slots[im->nslots] = (series_slot){.name = copy, .id = id};
  im->nslots++;
  if (im->nslots * 2 > im->table_cap) {
    free(im->table);
    im->table_cap = im->table_cap ? im->table_cap * 2 : 64;
    im->table = oc_xcalloc(im->table_cap, sizeof *im->table);
    for (size_t i = 0; i < im->nslots; i++) table_insert(im, i);
  } else {
    table_insert(im, im->nslots - 1);
  }
  return &im->slots[im->nslots - 1];
}

static oc_date floor64(oc_date d) { return d - (((d % 64) + 64) % 64); }

/* Marks date as seen for the series; returns true when it already was. */
static bool seen_before(series_slot *s, oc_date date) {
  if (s->nwords == 0) {
    s->nwords = 256; /* ~45 years of days */
    s->lo = floor64(date) - 64 * 128;
    s->seen = oc_xcalloc(s->nwords, sizeof *s->seen);
  }
  if (date < s->lo) {
    size_t extra = (size_t)((s->lo - floor64(date)) / 64) + s->nwords;
    s->seen = oc_xrealloc(s->seen, (s->nwords + extra) * sizeof *s->seen);
    memmove(s->seen + extra, s->seen, s->nwords * sizeof *s->seen);
    memset(s->seen, 0, extra * sizeof *s->seen);
    s->nwords += extra;
    s->lo -= (oc_date)(64 * extra);
  }
  size_t bit = (size_t)(date - s->lo);
  if (bit / 64 >= s->nwords) {
    size_t n = s->nwords * 2;
    while (bit / 64 >= n) n *= 2;
    s->seen = oc_xrealloc(s->seen, n * sizeof *s->seen);
    memset(s->seen + s->nwords, 0, (n - s->nwords) * sizeof *s->seen);
    s->nwords = n;
  }
  uint64_t mask = 1ull << (bit % 64);
  bool was = s->seen[bit / 64] & mask;
  s->seen[bit / 64] |= mask;
  return was;
}

static void reject(importer *im, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reject(importer *im, size_t line, const char *fmt, ...) {
  oc_import_report *rep = im->rep;
  rep->rows_rejected++;
  if (im->opt->on_error == OC_ON_ERROR_ABORT) {
    im->writing = false;
    im->nbatch = 0;
  }
  if (rep->nproblems < OC_IMPORT_LISTED) {
    oc_import_problem *p = &rep->problems[rep->nproblems++];
    p->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
  }
}

static int flush(importer *im) {
  if (im->nbatch == 0) return 0;
  oc_upsert_counts c = {0};
  int rc = oc_store_observations_upsert(im->store, im->batch, im->nbatch, im->opt->source_kind, im->now, &c, im->err);
  im->nbatch = 0;
  if (rc != 0) return -1;
  im->rep->rows_inserted += c.inserted;
  im->rep->rows_updated += c.updated;
  im->rep->rows_unchanged += c.unchanged;
  return 0;
}

/* A validated row: duplicate check, negative flag, into the batch. -1 only on a store error. */
static int accept(importer *im, size_t line, series_slot *s, oc_date date, double value) {
  char text[OC_DATE_STRLEN];
  if (seen_before(s, date)) {
    reject(im, line, "duplicate date %s for series %s (an earlier row has it)", oc_date_format(date, text), s->name);
    return 0;
  }
  if (value < 0) {
    oc_import_report *rep = im->rep;
    rep->negative_values++;
    if (rep->nnegatives < OC_IMPORT_NEGATIVES_LISTED) {
      oc_import_negative *n = &rep->negatives[rep->nnegatives++];
      *n = (oc_import_negative){.line = line, .date = date, .value = value};
      snprintf(n->series, sizeof n->series, "%s", s->name);
    }
  }
  if (!im->writing) return 0;
  if (s->rows++ == 0 || date > s->last_date) {
    s->last_date = date;
    s->last_value = value;
  }
  im->batch[im->nbatch++] = (oc_observation){s->id, date, value};
  return im->nbatch == BATCH ? flush(im) : 0;
}

/* ---- CSV --------------------------------------------------------------------------------------- */

static long find_column(const oc_csv_reader *r, const char *const *names) {
  for (const char *const *n = names; *n; n++)
    for (size_t i = 0; i < r->nfields; i++)
      if (oc_csv_field_is(&r->fields[i], *n)) return (long)i;
  return -1;
}

static int no_column(importer *im, const oc_csv_reader *r, const char *what, const char *name) {
  oc_buf cols = {0};
  for (size_t i = 0; i < r->nfields; i++)
    oc_buf_printf(&cols, "%s'%.*s'", i ? ", " : "", (int)r->fields[i].len, r->fields[i].data);
  if (name) {
    oc_error_set(im->err, "%s:1: no column named '%s' (columns: %s)", im->path, name, cols.data);
  } else {
    oc_error_set(im->err, "%s:1: cannot tell which column holds the %s (columns: %s); name it with --%s-col",
                 im->path, what, cols.data, what);
  }
  oc_buf_free(&cols);
  return -1;
}

static int import_csv(importer *im, const char *data, size_t len) {
  const oc_import_options *opt = im->opt;
  oc_csv_reader r;
  oc_csv_init(&r, data, len, ',');
  size_t line;
  const char *reason;
  int status = oc_csv_next(&r, &line, &reason);
  if (status != OC_CSV_RECORD) {
    oc_error_set(im->err, "%s:%zu: %s", im->path, line, status == OC_CSV_END ? "no header row (empty file)" : reason);
    oc_csv_free(&r);
    return -1;
  }
  size_t ncols = r.nfields;
  static const char *const date_names[] = {"date", "observation_date", "day", NULL};
  static const char *const value_names[] = {"price", "value", "close", NULL};
  static const char *const series_names[] = {"series", NULL};
  const char *const date_named[] = {opt->date_col, NULL};
  const char *const value_named[] = {opt->value_col, NULL};
  const char *const series_named[] = {opt->series_col, NULL};
  long date_col = find_column(&r, opt->date_col ? date_named : date_names);
  long series_col = find_column(&r, opt->series_col ? series_named : series_names);
  long value_col = find_column(&r, opt->value_col ? value_named : value_names);
  int rc = -1;
  if (date_col < 0) {
    no_column(im, &r, "date", opt->date_col);
    goto done;
  }
  const oc_csv_field *dh = &r.fields[date_col];
  im->fred = ncols == 2 && ((dh->len == 4 && memcmp(dh->data, "DATE", 4) == 0) || oc_csv_field_is(dh, "observation_date"));
  if (value_col < 0 && !opt->value_col && ncols == 2 + (series_col >= 0)) {
    for (size_t i = 0; i < ncols; i++)
      if ((long)i != date_col && (long)i != series_col) value_col = (long)i;
  }
  if (value_col < 0) {
    no_column(im, &r, "value", opt->value_col);
    goto done;
  }
  if (opt->series_col && series_col < 0) {
    no_column(im, &r, "series", opt->series_col);
    goto done;
  }
  im->rep->format = series_col >= 0 ? "csv-long"
                    : im->fred      ? "fred"
                    : ncols == 2 && date_col == 0 && value_col == 1 && oc_csv_field_is(&r.fields[0], "Date") &&
                            oc_csv_field_is(&r.fields[1], "Price")
                        ? "eia"
                        : "csv";
  series_slot *single = NULL;
  if (series_col < 0 && !(single = slot_for(im, opt->series, strlen(opt->series)))) goto done;

  oc_progress progress;
  oc_progress_start(&progress, "importing", len);
  for (;;) {
    status = oc_csv_next(&r, &line, &reason);
    if (status == OC_CSV_END) break;
    im->rep->rows_read++;
    if ((im->rep->rows_read & 0xFFFF) == 0) oc_progress_update(&progress, oc_csv_offset(&r, data), NULL);
    if (status == OC_CSV_BAD) {
      reject(im, line, "%s", reason);
      continue;
    }
    if (r.nfields != ncols) {
      reject(im, line, "expected %zu fields as in the header, found %zu", ncols, r.nfields);
      continue;
    }
    const oc_csv_field *df = &r.fields[date_col], *vf = &r.fields[value_col];
    oc_date date;
    double value;
    char why[160];
    oc_row_status row = oc_row_validate(df->data, df->len, vf->data, vf->len, im->fred, &date, &value, why, sizeof why);
    if (row == OC_ROW_BAD) {
      reject(im, line, "%s", why);
      continue;
    }
    if (row == OC_ROW_MISSING) {
      im->rep->rows_missing++;
      continue;
    }
    series_slot *s = single;
    if (!s) {
      const oc_csv_field *sf = &r.fields[series_col];
      if (oc_series_name_check(sf->data, sf->len, &reason) != 0) {
        reject(im, line, "bad series '%.*s': %s", (int)(sf->len > 40 ? 40 : sf->len), sf->data, reason);
        continue;
      }
      if (!(s = slot_for(im, sf->data, sf->len))) goto progress_done;
    }
    if (accept(im, line, s, date, value) != 0) goto progress_done;
  }
  rc = flush(im);
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

static int import_json(importer *im, const char *data, size_t len) {
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3, len -= 3; /* BOM: not JSON, but common */
  json_error_t jerr;
  json_t *root = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (!root) return oc_error_set(im->err, "%s:%d:%d: malformed JSON: %s", im->path, jerr.line, jerr.column, jerr.text);
  int rc = -1;
  size_t *lines = NULL;
  if (!json_is_array(root)) {
    oc_error_set(im->err, "%s:1: expected a JSON array of prices or of {\"date\",\"price\"} objects", im->path);
    goto done;
  }
  size_t n = json_array_size(root);
  lines = element_lines(data, len, n);
  bool numbers = n > 0 && !json_is_object(json_array_get(root, 0));
  im->rep->format = numbers ? "json-numbers" : "json-objects";
  if (numbers && im->opt->start_date == OC_DATE_INVALID) {
    oc_error_set(im->err, "%s: a bare array of prices needs --start-date (the date of the first price)", im->path);
    goto done;
  }
  series_slot *s = slot_for(im, im->opt->series, strlen(im->opt->series));
  if (!s) goto done;
  /* Prices of a bare array fall on consecutive business days from the start date (or the next one). */
  oc_date date = im->opt->start_date;
  if (numbers && !oc_date_is_business_day(date)) date = oc_date_add_business_days(date, 1);
  for (size_t i = 0; i < n; i++, date = numbers ? oc_date_add_business_days(date, 1) : date) {
    const json_t *el = json_array_get(root, i);
    size_t line = lines[i];
    const char *reason = NULL;
    double value;
    bool missing;
    im->rep->rows_read++;
    if (numbers) {
      if (json_is_object(el)) {
        reject(im, line, "an object in an array of prices");
        continue;
      }
    } else {
      if (!json_is_object(el)) {
        reject(im, line, "expected an object with \"date\" and \"price\"");
        continue;
      }
      const json_t *d = json_object_get(el, "date");
      if (!json_is_string(d)) {
        reject(im, line, "missing \"date\" (a \"YYYY-MM-DD\" string)");
        continue;
      }
      if (oc_date_parse(json_string_value(d), json_string_length(d), &date, &reason) != 0) {
        reject(im, line, "bad date '%.40s': %s", json_string_value(d), reason);
        continue;
      }
      el = json_object_get(el, "price");
      if (!el) el = json_object_get(json_array_get(root, i), "value");
      if (!el) {
        reject(im, line, "missing \"price\"");
        continue;
      }
    }
    if (json_value(el, &value, &missing, &reason) != 0) {
      reject(im, line, "bad value: %s", reason);
      continue;
    }
    if (missing) {
      im->rep->rows_missing++;
      continue;
    }
    if (accept(im, line, s, date, value) != 0) goto done;
  }
  rc = flush(im);
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

/* The lineage job runs on its own thread while the rows are parsed and written: SHA-256 of the bytes,
 * then (with a raw_dir) the unchanged copy raw_dir/YYYY-MM-DD/<sha256>.<ext>, content-addressed so a
 * second import of the same file reuses it. The import commits only after it succeeded. */
typedef struct lineage_job {
  const char *data;
  size_t len;
  const char *raw_dir, *path;
  char sha256[OC_SHA256_HEX_LEN];
  char *raw_path;
  bool created; /* this import wrote raw_path (and removes it when the import is rejected) */
  int rc;
  oc_error err;
} lineage_job;

static void *lineage_run(void *arg) {
  lineage_job *job = arg;
  oc_sha256_hex(job->data, job->len, job->sha256);
  if (!job->raw_dir) return NULL;
  char day[OC_DATE_STRLEN];
  oc_date_format(oc_date_today_utc(), day);
  char *dir = oc_path_join(job->raw_dir, day);
  job->rc = oc_mkdir_p(dir, &job->err);
  if (job->rc == 0) {
    const char *ext = oc_path_extension(job->path);
    oc_buf name = {0};
    oc_buf_printf(&name, "%s.%s", job->sha256, *ext ? ext : "dat");
    job->raw_path = oc_path_join(dir, name.data);
    oc_buf_free(&name);
    if (!oc_path_exists(job->raw_path)) {
      job->rc = oc_write_file_atomic(job->raw_path, job->data, job->len, &job->err);
      job->created = job->rc == 0;
    }
  }
  free(dir);
  return NULL;
}

static int map_file(const char *path, const char **data, size_t *len, oc_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return oc_error_errno(err, "cannot open %s", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return oc_error_errno(err, "cannot stat %s", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return oc_error_set(err, "%s is not a regular file", path);
  }
  *len = (size_t)st.st_size;
  if (*len == 0) {
    close(fd);
    *data = "";
    return 0;
  }
  void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return oc_error_errno(err, "cannot map %s", path);
  madvise(p, *len, MADV_SEQUENTIAL);
  *data = p;
  return 0;
}

static void record_run(importer *im, const char *status, int64_t started) {
  oc_import_report *rep = im->rep;
  oc_ingest_run run = {.source_kind = im->opt->source_kind,
                       .path = im->path,
                       .raw_path = rep->raw_path ? rep->raw_path : "",
                       .sha256 = rep->sha256,
                       .status = status,
                       .rows_read = rep->rows_read,
                       .rows_inserted = rep->rows_inserted,
                       .rows_updated = rep->rows_updated,
                       .rows_unchanged = rep->rows_unchanged,
                       .rows_rejected = rep->rows_rejected,
                       .rows_missing = rep->rows_missing,
                       .negative_values = rep->negative_values,
                       .started_at = started,
                       .finished_at = (int64_t)time(NULL)};
  oc_ingest_run_series *series = oc_xcalloc(im->nslots ? im->nslots : 1, sizeof *series);
  for (size_t i = 0; i < im->nslots; i++) {
    const series_slot *s = &im->slots[i];
    if (s->rows == 0) continue;
    oc_ingest_run_series *rs = &series[run.nseries++];
    *rs = (oc_ingest_run_series){.rows = s->rows, .last_date = s->last_date, .last_value = s->last_value};
    snprintf(rs->name, sizeof rs->name, "%s", s->name);
  }
  run.series = series;
  oc_error ignored;
  if (oc_store_ingest_run_record(im->store, &run, strcmp(status, "ok") == 0 ? im->err : &ignored) == 0)
    rep->run_id = run.id;
  free(series);
}

int oc_import_file(oc_store *store, const oc_import_options *opt, oc_import_report *report, oc_error *err) {
  memset(report, 0, sizeof *report);
  report->format = "unknown";
  const char *data = NULL;
  size_t len = 0;
  if (map_file(opt->path, &data, &len, err) != 0) return -1;
  int64_t started = (int64_t)time(NULL);
  double t0 = oc_monotonic_seconds();
  lineage_job job = {.data = data, .len = len, .raw_dir = opt->raw_dir, .path = opt->path};
  pthread_t lineage_thread;
  bool threaded = pthread_create(&lineage_thread, NULL, lineage_run, &job) == 0;
  if (!threaded) lineage_run(&job);
  importer im = {.store = store, .opt = opt, .rep = report, .path = opt->path, .now = started, .writing = true,
                 .err = err};
  im.batch = oc_xmalloc(BATCH * sizeof *im.batch);
  int rc = -1;
  bool began = oc_store_begin(store, err) == 0;
  int parsed = -1;
  if (began)
    parsed = looks_like_json(opt->path, data, len) ? import_json(&im, data, len) : import_csv(&im, data, len);
  double t1 = oc_monotonic_seconds();
  if (threaded) pthread_join(lineage_thread, NULL);
  memcpy(report->sha256, job.sha256, sizeof report->sha256);
  report->raw_path = job.raw_path ? job.raw_path : oc_xstrdup("");
  report->nseries = im.nslots;
  oc_error ignored;
  if (!began) {
    /* nothing to undo */
  } else if (parsed != 0) {
    oc_store_rollback(store, &ignored);
  } else if (report->rows_rejected > 0 && opt->on_error == OC_ON_ERROR_ABORT) {
    oc_store_rollback(store, &ignored);
    report->rows_inserted = report->rows_updated = report->rows_unchanged = 0;
    if (job.created) { /* keep no lineage of what was not imported */
      unlink(job.raw_path);
      job.created = false;
      report->raw_path[0] = '\0';
    }
    record_run(&im, "rejected", started);
    oc_error_set(err, "%s: %lld of %lld rows rejected; nothing written (--on-error skip writes the good rows)",
                 opt->path, (long long)report->rows_rejected, (long long)report->rows_read);
  } else if (job.rc != 0) {
    *err = job.err;
    oc_store_rollback(store, &ignored);
  } else if (record_run(&im, "ok", started), !report->run_id || oc_store_commit(store, err) != 0) {
    oc_store_rollback(store, &ignored);
  } else {
    report->written = true;
    rc = 0;
  }
  if (rc != 0 && job.created) unlink(job.raw_path);
  oc_debug("import %s: rows %.2f s, lineage and commit %.2f s", opt->path, t1 - t0, oc_monotonic_seconds() - t1);
  for (size_t i = 0; i < im.nslots; i++) {
    free(im.slots[i].name);
    free(im.slots[i].seen);
  }
  free(im.slots);
  free(im.table);
  free(im.batch);
  if (len) munmap((void *)data, len);
  return rc;
}
