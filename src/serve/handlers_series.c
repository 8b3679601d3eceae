/* handlers_series.c: series and observations over HTTP: list series, read a date range, and append or
 * revise observations. A POST body is a source of the one ingest path (ingest/batch.h): this file
 * only reads the JSON rows and words the answer; validation, duplicate checks, the transaction and the
 * run record are the batch's. Writes are all-or-nothing: one bad row rejects the request. */
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/json.h"
#include "ingest/batch.h"
#include "ingest/row.h"
#include "serve/context.h"
#include "serve/handlers.h"

static json_t *date_or_null(oc_date d) {
  if (d == OC_DATE_INVALID) return json_null();
  char text[OC_DATE_STRLEN];
  return json_string(oc_date_format(d, text));
}

void oc_handle_series_list(const oc_request *req, oc_response *resp) {
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_series_info *list = NULL;
  size_t n = 0;
  oc_error err;
  if (oc_store_series_list(store, &list, &n, &err) != 0) {
    oc_serve_store_release(req->server, store);
    oc_serve_store_failed(req->server, resp, "series_list", &err);
    return;
  }
  oc_serve_store_release(req->server, store);
  json_t *array = json_array();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(array, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o}", "name", list[i].name, "unit",
                                           list[i].unit, "source", list[i].source, "provider", list[i].provider,
                                           "provider_id", list[i].provider_id, "count", (json_int_t)list[i].count,
                                           "first", date_or_null(list[i].first), "last", date_or_null(list[i].last)));
  }
  oc_series_info_list_free(list, n);
  oc_respond_json(resp, 200, json_pack("{s:o}", "series", array));
}

/* Parses an optional date query argument; false (resp filled with 400) when present and invalid. */
static bool query_date(const oc_request *req, oc_response *resp, const char *name, oc_date *out) {
  *out = OC_DATE_INVALID;
  const char *text = oc_request_query(req, name);
  if (!text || !*text) return true;
  const char *reason = NULL;
  if (oc_date_parse(text, strlen(text), out, &reason) != 0) {
    oc_respond_error(resp, 400, "invalid_parameter", "query parameter '%s' = '%s': %s (expected YYYY-MM-DD)", name,
                     text, reason);
    return false;
  }
  return true;
}

/* A store connection and the named series' info; NULL (resp filled: 404, 500 or 503) otherwise. */
static oc_store *acquire_with_series(const oc_request *req, oc_response *resp, const char *name,
                                     oc_series_info *info) {
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return NULL;
  bool found = false;
  oc_error err;
  if (oc_store_series_get(store, name, info, &found, &err) != 0) {
    oc_serve_store_release(req->server, store);
    oc_serve_store_failed(req->server, resp, "series_get", &err);
    return NULL;
  }
  if (!found) {
    oc_serve_store_release(req->server, store);
    oc_respond_error(resp, 404, "not_found", "no series named '%s'", name);
    return NULL;
  }
  return store;
}

void oc_handle_series_show(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  oc_date from, to;
  if (!query_date(req, resp, "from", &from) || !query_date(req, resp, "to", &to)) return;
  if (from != OC_DATE_INVALID && to != OC_DATE_INVALID && from > to) {
    oc_respond_error(resp, 400, "invalid_parameter", "'from' (%s) is after 'to' (%s)", oc_request_query(req, "from"),
                     oc_request_query(req, "to"));
    return;
  }
  oc_series_info info;
  oc_store *store = acquire_with_series(req, resp, name, &info);
  if (!store) return;
  oc_error err;
  oc_series series = {0};
  int rc = oc_store_series_load(store, name, from, to, &series, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_series_info_free(&info);
    oc_serve_store_failed(req->server, resp, "series_load", &err);
    return;
  }
  /* Written piece by piece: a long history through jansson objects costs more than the request itself. */
  oc_buf *b = &resp->body;
  oc_buf_reserve(b, 64 + series.n * 40);
  oc_buf_puts(b, "{\"series\":");
  oc_json_put_string(b, info.name);
  oc_buf_puts(b, ",\"unit\":");
  oc_json_put_string(b, info.unit);
  oc_buf_puts(b, ",\"source\":");
  oc_json_put_string(b, info.source);
  oc_buf_puts(b, ",\"provider\":");
  oc_json_put_string(b, info.provider);
  oc_buf_puts(b, ",\"provider_id\":");
  oc_json_put_string(b, info.provider_id);
  oc_buf_puts(b, ",\"observations\":[");
  char date[OC_DATE_STRLEN];
  for (size_t i = 0; i < series.n; i++) {
    oc_buf_puts(b, i ? ",{\"date\":\"" : "{\"date\":\"");
    oc_buf_puts(b, oc_date_format(series.dates[i], date));
    oc_buf_puts(b, "\",\"value\":");
    oc_json_put_number(b, series.values[i]);
    oc_buf_putc(b, '}');
  }
  oc_buf_puts(b, "]}\n");
  resp->status = 200;
  resp->content_type = "application/json";
  oc_series_free(&series);
  oc_series_info_free(&info);
}

/* A POST body as an ingest source: its "observations" array, and each element's date and value once
 * parsed (date OC_DATE_INVALID when the element was not), for the answer and the events. */
typedef struct body_source {
  const json_t *list;
  const char *series;
  oc_date *dates;
  double *values;
} body_source;

static int read_body(void *source, oc_ingest_sink *sink, oc_error *err) {
  (void)err; /* oc_ingest_add has put a store error there already */
  body_source *body = source;
  size_t series_len = strlen(body->series);
  for (size_t i = 0; i < json_array_size(body->list); i++) {
    json_t *row = json_array_get(body->list, i);
    body->dates[i] = OC_DATE_INVALID;
    if (!json_is_object(row)) {
      oc_ingest_reject(sink, i, NULL, "expected an object {\"date\":..., \"value\":...}");
      continue;
    }
    json_t *date = json_object_get(row, "date"), *value = json_object_get(row, "value");
    static const char *const row_members[] = {"date", "value", NULL};
    const char *unknown = oc_json_unknown_member(row, row_members);
    char reason[160];
    oc_date parsed;
    if (!json_is_string(date)) {
      oc_ingest_reject(sink, i, "date", "missing or not a string");
    } else if (!json_is_number(value)) {
      oc_ingest_reject(sink, i, "value", "missing or not a number");
    } else if (oc_row_parse_date(json_string_value(date), json_string_length(date), &parsed, reason,
                                 sizeof reason) != 0) {
      oc_ingest_reject(sink, i, NULL, "%s", reason);
    } else if (unknown) {
      oc_ingest_reject(sink, i, NULL, "unknown field '%s'", unknown);
    } else {
      body->dates[i] = parsed;
      body->values[i] = json_number_value(value);
      if (oc_ingest_add(sink, i, body->series, series_len, parsed, body->values[i]) != 0) return -1;
    }
  }
  return 0;
}

/* The 422 answer: each listed problem as "observations[i]...: reason". */
static json_t *invalid_observations(const body_source *body, const oc_ingest_report *r) {
  json_t *details = json_array();
  for (size_t k = 0; k < r->nproblems; k++) {
    const oc_ingest_problem *p = &r->problems[k];
    char msg[320], text[OC_DATE_STRLEN];
    if (p->duplicate) {
      size_t first = 0;
      while (first < p->where && body->dates[first] != body->dates[p->where]) first++;
      snprintf(msg, sizeof msg, "observations[%zu] and [%zu] both have date %s", first, p->where,
               oc_date_format(body->dates[p->where], text));
    } else if (p->field) {
      snprintf(msg, sizeof msg, "observations[%zu].%s: %s", p->where, p->field, p->reason);
    } else {
      snprintf(msg, sizeof msg, "observations[%zu]: %s", p->where, p->reason);
    }
    json_array_append_new(details, json_string(msg));
  }
  return json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "invalid_observations", "message",
                   r->rows_rejected == 1 ? "1 observation is invalid; nothing was stored"
                                         : "some observations are invalid; nothing was stored",
                   "details", details);
}

void oc_handle_series_append(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  json_t *body = oc_request_json_object(req, resp);
  if (!body) return;
  json_t *list = json_object_get(body, "observations");
  if (!json_is_array(list) || json_array_size(list) == 0) {
    json_decref(body);
    oc_respond_error(resp, 422, "invalid_observations",
                     "the body must be {\"observations\":[{\"date\":\"YYYY-MM-DD\",\"value\":N},...]} with at least one row");
    return;
  }
  oc_series_info info;
  oc_store *store = acquire_with_series(req, resp, name, &info);
  if (!store) {
    json_decref(body);
    return;
  }
  size_t n = json_array_size(list);
  body_source rows = {.list = list, .series = info.name, .dates = oc_xmalloc(n * sizeof *rows.dates),
                      .values = oc_xmalloc(n * sizeof *rows.values)};
  char origin[160];
  snprintf(origin, sizeof origin, "POST /v1/series/%s/observations", name);
  oc_ingest_batch_options batch = {.read = read_body, .source = &rows, .source_kind = "api", .origin = origin,
                                   .unit = info.unit, .on_error = OC_ON_ERROR_ABORT, .raw = req->body,
                                   .raw_len = req->body_len};
  oc_ingest_report report;
  oc_error err;
  int rc = oc_ingest_batch(store, &batch, &report, &err);
  oc_serve_store_release(req->server, store);
  if (report.rows_rejected > 0) {
    oc_respond_json(resp, 422, invalid_observations(&rows, &report));
  } else if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "observations_upsert", &err);
  } else {
    oc_serve_history_invalidate(req->server, info.name);
    char date[OC_DATE_STRLEN];
    for (size_t i = 0; i < n; i++) {
      oc_serve_publish(req->server, "observation",
                       json_pack("{s:s,s:s,s:o}", "series", info.name, "date", oc_date_format(rows.dates[i], date),
                                 "value", oc_json_number(rows.values[i])));
    }
    oc_respond_json(resp, 200, json_pack("{s:I,s:I,s:I}", "inserted", (json_int_t)report.rows_inserted, "updated",
                                         (json_int_t)report.rows_updated, "unchanged",
                                         (json_int_t)report.rows_unchanged));
  }
  oc_ingest_report_free(&report);
  oc_series_info_free(&info);
  free(rows.dates);
  free(rows.values);
  json_decref(body);
}
