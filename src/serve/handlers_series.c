/* handlers_series.c: series and observations over HTTP: list series, read a date range, and append or
 * revise observations. Writes are validated like a file import (strict dates, finite numbers, no
 * duplicate dates) and are all-or-nothing: one bad row rejects the request and nothing is stored. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/sha256.h"
#include "ingest/csv.h"
#include "serve/context.h"
#include "serve/handlers.h"

#define MAX_LISTED_PROBLEMS 20

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
    json_array_append_new(array, json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "name", list[i].name, "unit", list[i].unit,
                                           "source", list[i].source, "count", (json_int_t)list[i].count, "first",
                                           date_or_null(list[i].first), "last", date_or_null(list[i].last)));
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
  /* Built by hand: a long history through jansson objects costs more than the request itself. */
  oc_buf *b = &resp->body;
  oc_buf_reserve(b, 64 + series.n * 40);
  json_t *head = json_pack("{s:s,s:s}", "series", info.name, "unit", info.unit);
  char *head_text = json_dumps(head, JSON_COMPACT);
  json_decref(head);
  oc_buf_append(b, head_text, strlen(head_text) - 1); /* without the closing brace */
  free(head_text);
  oc_buf_puts(b, ",\"observations\":[");
  char date[OC_DATE_STRLEN];
  for (size_t i = 0; i < series.n; i++) {
    oc_buf_printf(b, "%s{\"date\":\"%s\",\"value\":%.17g}", i ? "," : "", oc_date_format(series.dates[i], date),
                  series.values[i]);
  }
  oc_buf_puts(b, "]}\n");
  resp->status = 200;
  resp->content_type = "application/json";
  oc_series_free(&series);
  oc_series_info_free(&info);
}

typedef struct dated_index {
  oc_date date;
  size_t index;
} dated_index;

static int compare_dated_index(const void *a, const void *b) {
  const dated_index *x = a, *y = b;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Validates every row; on any problem fills resp (422, listing up to MAX_LISTED_PROBLEMS) and returns
 * false. On success *obs holds the rows (series_id left 0). */
static bool validate_observations(json_t *list, oc_response *resp, oc_observation **obs, size_t *count) {
  size_t n = json_array_size(list);
  oc_observation *rows = oc_xcalloc(n ? n : 1, sizeof *rows);
  json_t *problems = json_array();
  size_t problem_count = 0;
#define PROBLEM(...)                                                                                               \
  do {                                                                                                             \
    if (problem_count++ < MAX_LISTED_PROBLEMS) {                                                                   \
      char msg_[256];                                                                                              \
      snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                                    \
      json_array_append_new(problems, json_string(msg_));                                                          \
    }                                                                                                              \
  } while (0)
  for (size_t i = 0; i < n; i++) {
    json_t *row = json_array_get(list, i);
    if (!json_is_object(row)) {
      PROBLEM("observations[%zu]: expected an object {\"date\":..., \"value\":...}", i);
      continue;
    }
    json_t *date = json_object_get(row, "date"), *value = json_object_get(row, "value");
    if (!json_is_string(date)) {
      PROBLEM("observations[%zu].date: missing or not a string", i);
    } else if (!json_is_number(value)) {
      PROBLEM("observations[%zu].value: missing or not a number", i);
    } else {
      /* The import's own row validator, on the number's shortest exact text. */
      char number[OC_NUMBER_STRLEN], reason[200];
      oc_format_number(json_number_value(value), number);
      if (oc_row_validate(json_string_value(date), json_string_length(date), number, strlen(number), false,
                          &rows[i].date, &rows[i].value, reason, sizeof reason) != OC_ROW_OK) {
        PROBLEM("observations[%zu]: %s", i, reason);
      }
    }
    const char *key;
    json_t *ignored;
    json_object_foreach(row, key, ignored) {
      if (strcmp(key, "date") != 0 && strcmp(key, "value") != 0) PROBLEM("observations[%zu]: unknown field '%s'", i, key);
    }
  }
  if (problem_count == 0 && n > 1) {
    /* Duplicate dates within one request are ambiguous: reject them like a file import does. */
    dated_index *order = oc_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = (dated_index){rows[i].date, i};
    qsort(order, n, sizeof *order, compare_dated_index);
    for (size_t i = 1; i < n; i++) {
      if (order[i].date == order[i - 1].date) {
        char text[OC_DATE_STRLEN];
        PROBLEM("observations[%zu] and [%zu] both have date %s", order[i - 1].index, order[i].index,
                oc_date_format(order[i].date, text));
      }
    }
    free(order);
  }
#undef PROBLEM
  if (problem_count) {
    free(rows);
    oc_respond_json(resp, 422,
                    json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "invalid_observations", "message",
                              problem_count == 1 ? "1 observation is invalid; nothing was stored"
                                                 : "some observations are invalid; nothing was stored",
                              "details", problems));
    return false;
  }
  json_decref(problems);
  *obs = rows;
  *count = n;
  return true;
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
  oc_observation *obs = NULL;
  size_t n = 0;
  bool valid = validate_observations(list, resp, &obs, &n);
  if (!valid) {
    json_decref(body);
    return;
  }
  oc_series_info info;
  oc_store *store = acquire_with_series(req, resp, name, &info);
  if (!store) {
    free(obs);
    json_decref(body);
    return;
  }
  oc_error err;
  for (size_t i = 0; i < n; i++) obs[i].series_id = info.id;
  oc_upsert_counts counts = {0};
  int64_t now = (int64_t)time(NULL);
  char sha[OC_SHA256_HEX_LEN];
  oc_sha256_hex(req->body, req->body_len, sha);
  char path[160];
  snprintf(path, sizeof path, "POST /v1/series/%s/observations", name);
  oc_ingest_run run = {.source_kind = "api", .path = path, .raw_path = "", .sha256 = sha, .status = "ok",
                       .rows_read = (int64_t)n, .started_at = now, .finished_at = now};
  int rc = oc_store_begin(store, &err);
  if (rc == 0) rc = oc_store_observations_upsert(store, obs, n, "api", now, &counts, &err);
  if (rc == 0) {
    run.rows_inserted = counts.inserted;
    run.rows_updated = counts.updated;
    run.rows_unchanged = counts.unchanged;
    rc = oc_store_ingest_run_record(store, &run, &err);
  }
  if (rc == 0) {
    rc = oc_store_commit(store, &err);
  } else {
    oc_error ignored;
    oc_store_rollback(store, &ignored);
  }
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "observations_upsert", &err);
  } else {
    oc_serve_history_invalidate(req->server, info.name);
    char date[OC_DATE_STRLEN];
    for (size_t i = 0; i < n; i++) {
      oc_serve_publish(req->server, "observation",
                       json_pack("{s:s,s:s,s:f}", "series", info.name, "date", oc_date_format(obs[i].date, date),
                                 "value", obs[i].value));
    }
    oc_respond_json(resp, 200, json_pack("{s:I,s:I,s:I}", "inserted", (json_int_t)counts.inserted, "updated",
                                         (json_int_t)counts.updated, "unchanged", (json_int_t)counts.unchanged));
  }
  oc_series_info_free(&info);
  free(obs);
  json_decref(body);
}
