/* batch_forecast.c: input parsing (the importers' CSV tokenizer and date rules), history views cut at
 * each origin, a pool of threads sharing one read-only network, and the atomic output write. */
#include "model/batch_forecast.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "ingest/csv.h"
#include "model/forecast.h"
#include "model/registry.h"

typedef struct batch_row {
  size_t series; /* index into the loaded histories */
  oc_date origin;
  size_t line;
  oc_forecast result;
  char error[200];
} batch_row;

typedef struct batch_job {
  const oc_mlp *net;
  const oc_model_card *card;
  oc_series *histories; /* one per distinct series */
  oc_series *exogs;
  size_t nexog;
  batch_row *rows;
  size_t nrows;
  int days;
  _Atomic size_t next;
} batch_job;

/* The observations of s dated <= last (a view, no copy). */
static oc_series view_until(const oc_series *s, oc_date last) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->dates[mid] <= last) lo = mid + 1;
    else hi = mid;
  }
  return (oc_series){.name = s->name, .n = lo, .dates = s->dates, .values = s->values};
}

static void *worker(void *arg) {
  batch_job *job = arg;
  oc_series *views = oc_xcalloc(job->nexog + 1, sizeof *views);
  for (;;) {
    size_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->nrows) break;
    batch_row *row = &job->rows[i];
    oc_series history = view_until(&job->histories[row->series], row->origin);
    for (size_t k = 0; k < job->nexog; k++) views[k] = view_until(&job->exogs[k], row->origin);
    oc_error err;
    if (oc_mlp_forecast(job->net, job->card, &history, views, job->nexog, job->days, &row->result, &err) != 0) {
      snprintf(row->error, sizeof row->error, "%s", err.message);
    }
  }
  free(views);
  return NULL;
}

/* Reads the input rows; distinct series names go to *names. */
static int read_rows(const char *path, batch_row **rows, size_t *nrows, char ***names, size_t *nnames, oc_error *err) {
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
  size_t cap = 0, names_cap = 0;
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
    const char *why;
    if (oc_series_name_check(name->data, name->len, &why) != 0) {
      rc = oc_error_set(err, "%s:%zu: series '%.*s': %s", path, line, (int)name->len, name->data, why);
      break;
    }
    oc_xgrow((void **)rows, &cap, *nrows + 1, sizeof **rows);
    batch_row *row = &(*rows)[*nrows];
    memset(row, 0, sizeof *row);
    row->line = line;
    if (oc_date_parse(origin->data, origin->len, &row->origin, &why) != 0) {
      rc = oc_error_set(err, "%s:%zu: origin '%.*s': %s", path, line, (int)origin->len, origin->data, why);
      break;
    }
    size_t k = 0;
    while (k < *nnames && !(strlen((*names)[k]) == name->len && memcmp((*names)[k], name->data, name->len) == 0)) k++;
    if (k == *nnames) {
      oc_xgrow((void **)names, &names_cap, *nnames + 1, sizeof **names);
      (*names)[(*nnames)++] = strndup(name->data, name->len);
    }
    row->series = k;
    (*nrows)++;
  }
  oc_csv_free(&r);
  free(data);
  if (rc == 0 && *nrows == 0) rc = oc_error_set(err, "%s: no rows to forecast", path);
  return rc;
}

static int write_output(const oc_batch_options *opt, const batch_job *job, char **names, const char *model,
                        size_t *written, oc_error *err) {
  oc_buf out = {0};
  oc_buf_puts(&out, "series,origin,as_of,date,horizon,price,model\n");
  char origin[OC_DATE_STRLEN], as_of[OC_DATE_STRLEN], date[OC_DATE_STRLEN], price[OC_NUMBER_STRLEN];
  for (size_t i = 0; i < job->nrows; i++) {
    const batch_row *row = &job->rows[i];
    oc_date_format(row->origin, origin);
    oc_date_format(row->result.as_of, as_of);
    for (size_t h = 0; h < row->result.n; h++) {
      const oc_forecast_point *p = &row->result.points[h];
      oc_buf_printf(&out, "%s,%s,%s,%s,%d,%s,%s\n", names[row->series], origin, as_of, oc_date_format(p->date, date),
                    p->horizon, oc_format_number(p->price, price), model);
      (*written)++;
    }
  }
  int rc = oc_write_file_atomic(opt->out_path, out.data, out.len, err);
  oc_buf_free(&out);
  return rc;
}

int oc_batch_forecast(oc_store *store, const oc_batch_options *opt, oc_batch_report *report, oc_error *err) {
  double start = oc_monotonic_seconds();
  memset(report, 0, sizeof *report);
  batch_job job = {.days = opt->days};
  char **names = NULL, **exog_names = NULL;
  size_t nnames = 0;
  oc_mlp net = {0};
  oc_model_card card = {0};
  int rc = read_rows(opt->in_path, &job.rows, &job.nrows, &names, &nnames, err);
  if (rc == 0) rc = oc_registry_load(opt->data_dir, store, opt->version, &net, &card, err);
  if (rc == 0) rc = oc_forecast_required_exogs(&card, &exog_names, &job.nexog, err);
  if (rc == 0 && job.days == 0) job.days = net.arch.n_out;
  job.histories = oc_xcalloc(nnames + 1, sizeof *job.histories);
  job.exogs = oc_xcalloc(job.nexog + 1, sizeof *job.exogs);
  for (size_t i = 0; rc == 0 && i < nnames; i++) {
    rc = oc_store_series_load(store, names[i], OC_DATE_INVALID, OC_DATE_INVALID, &job.histories[i], err);
  }
  for (size_t i = 0; rc == 0 && i < job.nexog; i++) {
    rc = oc_store_series_load(store, exog_names[i], OC_DATE_INVALID, OC_DATE_INVALID, &job.exogs[i], err);
  }
  if (rc == 0) {
    job.net = &net;
    job.card = &card;
    int threads = opt->threads > 0 ? opt->threads : 1;
    pthread_t *pool = oc_xcalloc((size_t)threads, sizeof *pool);
    for (int t = 0; t < threads; t++) pthread_create(&pool[t], NULL, worker, &job);
    for (int t = 0; t < threads; t++) pthread_join(pool[t], NULL);
    free(pool);
    for (size_t i = 0; rc == 0 && i < job.nrows; i++) {
      if (job.rows[i].error[0]) rc = oc_error_set(err, "%s:%zu: %s", opt->in_path, job.rows[i].line, job.rows[i].error);
    }
  }
  if (rc == 0) rc = write_output(opt, &job, names, card.version, &report->forecasts, err);
  report->rows = job.nrows;
  for (size_t i = 0; i < job.nrows; i++) oc_forecast_free(&job.rows[i].result);
  free(job.rows);
  for (size_t i = 0; i < nnames; i++) {
    if (job.histories[i].name) oc_series_free(&job.histories[i]);
    free(names[i]);
  }
  for (size_t i = 0; i < job.nexog; i++) {
    if (job.exogs[i].name) oc_series_free(&job.exogs[i]);
    free(exog_names[i]);
  }
  free(job.histories);
  free(job.exogs);
  free(names);
  free(exog_names);
  oc_mlp_free(&net);
  if (card.version) oc_model_card_free(&card);
  report->seconds = oc_monotonic_seconds() - start;
  return rc;
}
