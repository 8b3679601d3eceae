/* batch_forecast.c: input parsing (the importers' CSV tokenizer and date rules), history views cut at
 * each origin, a pool of threads sharing one loaded version (pipeline/served_model.h), and the atomic output
 * write. Never branches on the version's kind: the loader does. */
#include "pipeline/batch_forecast.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "core/csv.h"
#include "lake/parquet.h"
#include "pipeline/pipeline.h"
#include "pipeline/served_model.h"

/* The numbers of one forecast day, in output column order. */
enum { PRICE, LOWER80, UPPER80, LOWER95, UPPER95, VALUES_PER_DAY };
static const char *const value_names[VALUES_PER_DAY] = {"price", "lower80", "upper80", "lower95", "upper95"};

typedef struct batch_row {
  size_t series; /* index into the loaded histories */
  oc_date origin;
  size_t line;
  oc_date as_of;
  double *values; /* [days][VALUES_PER_DAY] once forecast */
  char error[200];
} batch_row;

typedef struct batch_job {
  oc_served_model *model;
  oc_series *histories; /* one per distinct series */
  oc_series *exogs;
  size_t nexog;
  batch_row *rows;
  size_t nrows;
  size_t days;
  _Atomic size_t next;
} batch_job;

static void *worker(void *arg) {
  batch_job *job = arg;
  oc_series *views = oc_xcalloc(job->nexog + 1, sizeof *views);
  for (;;) {
    size_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->nrows) break;
    batch_row *row = &job->rows[i];
    oc_series history = oc_series_view_until(&job->histories[row->series], row->origin);
    for (size_t k = 0; k < job->nexog; k++) views[k] = oc_series_view_until(&job->exogs[k], row->origin);
    oc_error err;
    oc_price_forecast fc;
    if (history.n == 0) {
      char date[OC_DATE_STRLEN];
      snprintf(row->error, sizeof row->error, "%s has no observation on or before %s", history.name,
               oc_date_format(row->origin, date));
      continue;
    }
    if (oc_served_model_forecast(job->model, &history, views, false, job->days, &fc, &err) != 0) {
      snprintf(row->error, sizeof row->error, "%s", err.message);
      continue;
    }
    row->as_of = fc.origin;
    row->values = oc_xcalloc(job->days * VALUES_PER_DAY, sizeof *row->values);
    for (size_t h = 0; h < job->days; h++) {
      double *v = &row->values[h * VALUES_PER_DAY];
      v[PRICE] = fc.mean[h];
      v[LOWER80] = fc.lo80[h];
      v[UPPER80] = fc.hi80[h];
      v[LOWER95] = fc.lo95[h];
      v[UPPER95] = fc.hi95[h];
    }
  }
  free(views);
  return NULL;
}

/* The input: rows, and the distinct series names they use. */
typedef struct batch_input {
  const char *path;
  batch_row *rows;
  size_t nrows, rows_cap;
  char **names;
  size_t nnames, names_cap;
} batch_input;

static int add_row(batch_input *in, const char *name, size_t len, oc_date origin, size_t line, oc_error *err) {
  const char *why;
  if (oc_series_name_check(name, len, &why) != 0) {
    return oc_error_set(err, "%s:%zu: series '%.*s': %s", in->path, line, (int)len, name, why);
  }
  size_t k = 0;
  while (k < in->nnames && !(strlen(in->names[k]) == len && memcmp(in->names[k], name, len) == 0)) k++;
  if (k == in->nnames) {
    oc_xgrow((void **)&in->names, &in->names_cap, in->nnames + 1, sizeof *in->names);
    in->names[in->nnames++] = strndup(name, len);
  }
  oc_xgrow((void **)&in->rows, &in->rows_cap, in->nrows + 1, sizeof *in->rows);
  batch_row *row = &in->rows[in->nrows++];
  memset(row, 0, sizeof *row);
  row->series = k;
  row->origin = origin;
  row->line = line;
  return 0;
}

/* Parquet input: a BYTE_ARRAY column "series" and an INT32 DATE column "origin"; "line" is the row
 * number (1-based). */
static int read_rows_parquet(batch_input *in, oc_error *err) {
  oc_pq_reader r;
  if (oc_pq_reader_open(&r, in->path, err) != 0) return -1;
  long series_col = oc_pq_find_column(&r, "series"), origin_col = oc_pq_find_column(&r, "origin");
  int rc = 0;
  if (series_col < 0 || origin_col < 0 || r.info.cols[series_col].type != OC_PQ_BYTE_ARRAY ||
      r.info.cols[origin_col].type != OC_PQ_INT32 || r.info.cols[origin_col].logical != OC_PQ_LOGICAL_DATE) {
    rc = oc_error_set(err, "%s: expected columns series (string) and origin (DATE)", in->path);
  }
  size_t line = 0;
  for (size_t g = 0; rc == 0 && g < r.info.nrow_groups; g++) {
    oc_pq_column names = {0}, origins = {0};
    rc = oc_pq_read_column(&r, g, (size_t)series_col, &names, err);
    if (rc == 0) rc = oc_pq_read_column(&r, g, (size_t)origin_col, &origins, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
      line++;
      if ((names.valid && !names.valid[i]) || (origins.valid && !origins.valid[i])) {
        rc = oc_error_set(err, "%s: row %zu: series or origin is null", in->path, line);
        break;
      }
      const oc_pq_bytes *name = &((const oc_pq_bytes *)names.values)[i];
      rc = add_row(in, (const char *)name->data, name->len, ((const int32_t *)origins.values)[i], line, err);
    }
    oc_pq_column_free(&names);
    oc_pq_column_free(&origins);
  }
  oc_pq_reader_close(&r);
  return rc;
}

/* CSV input: columns series and origin (any order; others ignored). */
static int read_rows_csv(batch_input *in, oc_error *err) {
  const char *path = in->path;
  char *data;
  size_t len;
  if (oc_read_file(path, &data, &len, err) != 0) return -1;
  oc_csv_reader r;
  oc_csv_init(&r, data, len, ',');
  size_t line;
  const char *reason;
  int rc = 0;
  long series_col = -1, origin_col = -1;
  if (oc_csv_next(&r, &line, &reason) != OC_CSV_RECORD) {
    rc = oc_error_set(err, "%s: expected a header line with columns series and origin", path);
  } else {
    for (size_t i = 0; i < r.nfields; i++) {
      if (oc_csv_field_is(&r.fields[i], "series")) series_col = (long)i;
      if (oc_csv_field_is(&r.fields[i], "origin")) origin_col = (long)i;
    }
    if (series_col < 0 || origin_col < 0) rc = oc_error_set(err, "%s:%zu: the header needs columns series and origin", path, line);
  }
  int status;
  while (rc == 0 && (status = oc_csv_next(&r, &line, &reason)) != OC_CSV_END) {
    if (status == OC_CSV_BAD) {
      rc = oc_error_set(err, "%s:%zu: %s", path, line, reason);
      break;
    }
    if ((size_t)series_col >= r.nfields || (size_t)origin_col >= r.nfields) {
      rc = oc_error_set(err, "%s:%zu: %zu fields, the header has more", path, line, r.nfields);
      break;
    }
    const oc_csv_field *name = &r.fields[series_col], *origin = &r.fields[origin_col];
    oc_date date;
    const char *why;
    if (oc_date_parse(origin->data, origin->len, &date, &why) != 0) {
      rc = oc_error_set(err, "%s:%zu: origin '%.*s': %s", path, line, (int)origin->len, origin->data, why);
      break;
    }
    rc = add_row(in, name->data, name->len, date, line, err);
  }
  oc_csv_free(&r);
  free(data);
  return rc;
}

static bool is_parquet(const char *path) { return strcmp(oc_path_extension(path), "parquet") == 0; }

static int write_csv(const oc_batch_options *opt, const batch_job *job, char **names, const char *model,
                     size_t *written, oc_error *err) {
  oc_buf out = {0};
  oc_buf_puts(&out, "series,origin,as_of,date,horizon");
  for (int k = 0; k < VALUES_PER_DAY; k++) oc_buf_printf(&out, ",%s", value_names[k]);
  oc_buf_puts(&out, ",model\n");
  char origin[OC_DATE_STRLEN], as_of[OC_DATE_STRLEN], date[OC_DATE_STRLEN], number[OC_NUMBER_STRLEN];
  for (size_t i = 0; i < job->nrows; i++) {
    const batch_row *row = &job->rows[i];
    oc_date_format(row->origin, origin);
    oc_date_format(row->as_of, as_of);
    for (size_t h = 0; h < job->days; h++) {
      oc_buf_printf(&out, "%s,%s,%s,%s,%zu", names[row->series], origin, as_of,
                    oc_date_format(oc_calendar_add_trading_days(row->as_of, (int)h + 1), date), h + 1);
      for (int k = 0; k < VALUES_PER_DAY; k++)
        oc_buf_printf(&out, ",%s", oc_format_number(row->values[h * VALUES_PER_DAY + (size_t)k], number));
      oc_buf_printf(&out, ",%s\n", model);
      (*written)++;
    }
  }
  int rc = oc_write_file_atomic(opt->out_path, out.data, out.len, err);
  oc_buf_free(&out);
  return rc;
}

/* The same columns as the CSV, typed: strings, DATEs, INT32 horizon, DOUBLE values; one row group. */
static int write_parquet(const oc_batch_options *opt, const batch_job *job, char **names, const char *model,
                         size_t *written, oc_error *err) {
  size_t n = job->nrows * job->days;
  oc_pq_bytes *series = oc_xcalloc(n + 1, sizeof *series), *models = oc_xcalloc(n + 1, sizeof *models);
  int32_t *origin = oc_xcalloc(n + 1, sizeof *origin), *as_of = oc_xcalloc(n + 1, sizeof *as_of),
          *date = oc_xcalloc(n + 1, sizeof *date), *horizon = oc_xcalloc(n + 1, sizeof *horizon);
  double *values[VALUES_PER_DAY];
  for (int v = 0; v < VALUES_PER_DAY; v++) values[v] = oc_xcalloc(n + 1, sizeof *values[v]);
  size_t k = 0;
  for (size_t i = 0; i < job->nrows; i++) {
    const batch_row *row = &job->rows[i];
    for (size_t h = 0; h < job->days; h++, k++) {
      series[k] = (oc_pq_bytes){(const uint8_t *)names[row->series], (uint32_t)strlen(names[row->series])};
      models[k] = (oc_pq_bytes){(const uint8_t *)model, (uint32_t)strlen(model)};
      origin[k] = row->origin;
      as_of[k] = row->as_of;
      date[k] = oc_calendar_add_trading_days(row->as_of, (int)h + 1);
      horizon[k] = (int32_t)h + 1;
      for (int v = 0; v < VALUES_PER_DAY; v++) values[v][k] = row->values[h * VALUES_PER_DAY + (size_t)v];
    }
  }
  enum { FIXED = 5, COLUMNS = FIXED + VALUES_PER_DAY + 1 };
  oc_pq_column_spec specs[COLUMNS] = {
      {"series", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, false}, {"origin", OC_PQ_INT32, OC_PQ_LOGICAL_DATE, false},
      {"as_of", OC_PQ_INT32, OC_PQ_LOGICAL_DATE, false},         {"date", OC_PQ_INT32, OC_PQ_LOGICAL_DATE, false},
      {"horizon", OC_PQ_INT32, OC_PQ_LOGICAL_NONE, false}};
  oc_pq_column_data data[COLUMNS] = {{series, NULL}, {origin, NULL}, {as_of, NULL}, {date, NULL}, {horizon, NULL}};
  for (int v = 0; v < VALUES_PER_DAY; v++) {
    specs[FIXED + v] = (oc_pq_column_spec){value_names[v], OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, false};
    data[FIXED + v] = (oc_pq_column_data){values[v], NULL};
  }
  specs[COLUMNS - 1] = (oc_pq_column_spec){"model", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, false};
  data[COLUMNS - 1] = (oc_pq_column_data){models, NULL};
  oc_pq_writer *w;
  oc_pq_write_options wopt = {.codec = OC_PQ_ZSTD};
  int rc = oc_pq_writer_open(&w, opt->out_path, specs, COLUMNS, &wopt, err);
  if (rc == 0) {
    oc_pq_writer_add_meta(w, "oilcast.batch_model", model);
    if (oc_pq_writer_write_row_group(w, n, data, err) != 0) {
      oc_pq_writer_abort(w);
      rc = -1;
    } else {
      rc = oc_pq_writer_close(w, err);
    }
  }
  if (rc == 0) *written = n;
  free(series);
  free(models);
  free(origin);
  free(as_of);
  free(date);
  free(horizon);
  for (int v = 0; v < VALUES_PER_DAY; v++) free(values[v]);
  return rc;
}

/* The version, loaded for its own series as the server loads an endpoint's variant. */
static oc_served_model *load_version(oc_series_memo *memo, const oc_batch_options *opt, oc_error *err) {
  char name[32], series[OC_SERIES_NAME_MAX + 1];
  snprintf(name, sizeof name, "v%lld", (long long)opt->version);
  if (oc_served_model_default_series(opt->data_dir, name, series, sizeof series, err) != 0) return NULL;
  return oc_served_model_load(opt->data_dir, name, series, oc_series_memo_loader, memo, err);
}

/* Views of the stored series named (room for n), read through memo. */
static int stored_views(oc_series_memo *memo, const char *const *names, size_t n, oc_series *views, oc_error *err) {
  for (size_t i = 0; i < n; i++) {
    const oc_series *s = oc_series_memo_get(memo, names[i], err);
    if (!s) return -1;
    views[i] = *s;
  }
  return 0;
}

int oc_batch_forecast(oc_store *store, const oc_batch_options *opt, oc_batch_report *report, oc_error *err) {
  double start = oc_monotonic_seconds();
  memset(report, 0, sizeof *report);
  batch_job job = {0};
  batch_input in = {.path = opt->in_path};
  const char *const *exog_names = NULL;
  int rc = is_parquet(opt->in_path) ? read_rows_parquet(&in, err) : read_rows_csv(&in, err);
  if (rc == 0 && in.nrows == 0) rc = oc_error_set(err, "%s: no rows to forecast", opt->in_path);
  char **names = in.names;
  size_t nnames = in.nnames;
  job.rows = in.rows;
  job.nrows = in.nrows;
  oc_series_memo memo = {.store = store}; /* the model's load and the rows read each series once */
  if (rc == 0 && !(job.model = load_version(&memo, opt, err))) rc = -1;
  if (rc == 0) {
    job.nexog = oc_served_model_exogs(job.model, &exog_names);
    job.days = opt->days > 0 ? (size_t)opt->days : oc_served_model_default_horizon(job.model);
  }
  job.histories = oc_xcalloc(nnames + 1, sizeof *job.histories);
  job.exogs = oc_xcalloc(job.nexog + 1, sizeof *job.exogs);
  if (rc == 0) rc = stored_views(&memo, (const char *const *)names, nnames, job.histories, err);
  if (rc == 0) rc = stored_views(&memo, exog_names, job.nexog, job.exogs, err);
  if (rc == 0) {
    int threads = opt->threads > 0 ? opt->threads : 1;
    pthread_t *pool = oc_xcalloc((size_t)threads, sizeof *pool);
    for (int t = 0; t < threads; t++) pthread_create(&pool[t], NULL, worker, &job);
    for (int t = 0; t < threads; t++) pthread_join(pool[t], NULL);
    free(pool);
    for (size_t i = 0; rc == 0 && i < job.nrows; i++) {
      if (job.rows[i].error[0]) rc = oc_error_set(err, "%s:%zu: %s", opt->in_path, job.rows[i].line, job.rows[i].error);
    }
  }
  if (rc == 0) {
    rc = (is_parquet(opt->out_path) ? write_parquet : write_csv)(opt, &job, names, oc_served_model_version(job.model),
                                                                 &report->forecasts, err);
  }
  report->rows = job.nrows;
  for (size_t i = 0; i < job.nrows; i++) free(job.rows[i].values);
  free(job.rows);
  for (size_t i = 0; i < nnames; i++) free(names[i]);
  free(job.histories);
  free(job.exogs);
  free(names);
  oc_served_model_release(job.model);
  oc_series_memo_free(&memo);
  report->seconds = oc_monotonic_seconds() - start;
  return rc;
}
