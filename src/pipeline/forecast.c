/* forecast.c: see forecast.h. Resolves the version, gathers the histories (the series and the other
 * series the model reads, from the store), forecasts through pipeline/served_model.h and records the
 * result, with the endpoint's shadow challenger's forecast beside it in the same write. A failing
 * challenger must not fail the forecast. */
#include "pipeline/forecast.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/json.h"
#include "ingest/price_range.h"
#include "model/registry.h"
#include "pipeline/forecast_remote.h"
#include "pipeline/pipeline.h"
#include "pipeline/served_model.h"

oc_forecast_options oc_forecast_options_default(void) {
  return (oc_forecast_options){.current_price = NAN, .save = true};
}

void oc_forecast_record_fill(oc_forecast_record *rec, const oc_price_forecast *fc, const char *series,
                             const char *model_version, const char *model_kind, const char *history,
                             const char *request_id) {
  assert(fc->horizon <= OC_STORED_FORECAST_MAX_POINTS);
  memset(rec, 0, offsetof(oc_forecast_record, points)); /* every point below is set */
  rec->origin = fc->origin;
  rec->created_at = (int64_t)time(NULL);
  rec->n_points = fc->horizon;
  snprintf(rec->series, sizeof rec->series, "%s", series);
  snprintf(rec->model_version, sizeof rec->model_version, "%s", model_version);
  snprintf(rec->model_kind, sizeof rec->model_kind, "%s", model_kind);
  snprintf(rec->history, sizeof rec->history, "%s", history);
  snprintf(rec->request_id, sizeof rec->request_id, "%s", request_id);
  rec->origin_price = fc->origin_price;
  for (size_t h = 0; h < fc->horizon; h++)
    rec->points[h] = (oc_stored_forecast_point){oc_calendar_add_trading_days(fc->origin, (int)h + 1), fc->mean[h],
                                                fc->lo80[h], fc->hi80[h], fc->lo95[h], fc->hi95[h]};
}

int oc_forecast_shadow_version(oc_store *store, const char *endpoint, char version[64], oc_error *err) {
  oc_challenger_state st;
  bool found;
  version[0] = '\0';
  if (oc_store_challenger_get(store, endpoint, &st, &found, err) != 0) return -1;
  if (found && st.challenger > 0 && strcmp(st.mode, "shadow") == 0) /* not a weighted variant */
    snprintf(version, 64, "v%lld", (long long)st.challenger);
  return 0;
}

int oc_forecast_shadow(oc_served_model *challenger, const oc_series *history, const oc_series *exogs, bool stored,
                       const oc_forecast_record *served, oc_forecast_record *out, oc_error *err) {
  size_t steps = served->n_points, max = oc_served_model_max_horizon(challenger);
  oc_price_forecast fc;
  if (oc_served_model_forecast(challenger, history, exogs, stored, steps < max ? steps : max, &fc, err) != 0)
    return oc_error_prefix(err, "shadow challenger %s: ", oc_served_model_version(challenger));
  oc_forecast_record_fill(out, &fc, served->series, oc_served_model_version(challenger),
                          oc_served_model_kind(challenger), served->history, served->request_id);
  snprintf(out->endpoint, sizeof out->endpoint, "%s", served->endpoint);
  snprintf(out->variant, sizeof out->variant, "%s", OC_SHADOW_VARIANT);
  return 0;
}

void oc_forecast_points_json(oc_buf *out, const oc_forecast_record *rec) {
  char date[OC_DATE_STRLEN];
  oc_buf_putc(out, '[');
  for (size_t i = 0; i < rec->n_points; i++) {
    const oc_stored_forecast_point *p = &rec->points[i];
    oc_buf_puts(out, i ? ",{\"date\":\"" : "{\"date\":\"");
    oc_buf_puts(out, oc_date_format(p->date, date));
    const char *names[] = {"\",\"price\":", ",\"lower80\":", ",\"upper80\":", ",\"lower95\":", ",\"upper95\":"};
    const double values[] = {p->price, p->lower80, p->upper80, p->lower95, p->upper95};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
      oc_buf_puts(out, names[k]);
      oc_json_put_number(out, values[k]);
    }
    oc_buf_putc(out, '}');
  }
  oc_buf_putc(out, ']');
}

void oc_forecast_object_json(oc_buf *out, const oc_forecast_record *rec, const char *points_json, size_t points_len) {
  char date[OC_DATE_STRLEN], created[OC_TIMESTAMP_STRLEN];
  const struct {
    const char *name, *value;
  } texts[] = {{"{\"series\":", rec->series},
               {",\"origin\":", oc_date_format(rec->origin, date)},
               {",\"model_version\":", rec->model_version},
               {",\"model\":", rec->model_kind},
               {",\"endpoint\":", rec->endpoint},
               {",\"variant\":", rec->variant},
               {",\"created_at\":", oc_timestamp_format(rec->created_at, created)},
               {",\"history\":", rec->history}};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    oc_buf_puts(out, texts[i].name);
    oc_json_put_string(out, texts[i].value);
  }
  oc_buf_printf(out, ",\"forecast_days\":%zu,\"last_price\":", rec->n_points);
  oc_json_put_number(out, rec->origin_price);
  oc_buf_puts(out, ",\"points\":");
  if (points_json) oc_buf_append(out, points_json, points_len);
  else oc_forecast_points_json(out, rec);
  oc_buf_putc(out, '}');
}

/* The history to forecast from: the given one (under the series' name), or the stored one, as a view;
 * with a current price, a copy of the stored one with it appended (*owned: the caller frees *out). */
static int gather_history(oc_series_memo *memo, const oc_forecast_options *opt, char *series, oc_series *out,
                          bool *owned, oc_error *err) {
  *owned = false;
  if (opt->history) {
    *out = *opt->history;
    out->name = series;
    return 0;
  }
  const oc_series *stored = oc_series_memo_get(memo, series, err);
  if (!stored) return -1;
  if (isnan(opt->current_price)) {
    *out = *stored;
    return 0;
  }
  oc_series_init(out, series, stored->n + 1);
  memcpy(out->dates, stored->dates, stored->n * sizeof *stored->dates);
  memcpy(out->values, stored->values, stored->n * sizeof *stored->values);
  out->dates[stored->n] = stored->n ? oc_calendar_next_trading_day(stored->dates[stored->n - 1]) : oc_date_today_utc();
  out->values[stored->n] = opt->current_price;
  *owned = true;
  return 0;
}

/* Views of the stored histories of the other series the model reads (exogs: room for nexog). */
static int gather_exogs(oc_series_memo *memo, const oc_served_model *m, const char *const *names, size_t nexog,
                        oc_series *exogs, oc_error *err) {
  for (size_t i = 0; i < nexog; i++) {
    const oc_series *stored = oc_series_memo_get(memo, names[i], err);
    if (!stored) return oc_error_prefix(err, "model %s needs series %s: ", oc_served_model_version(m), names[i]);
    exogs[i] = *stored;
  }
  return 0;
}

/* The endpoint's shadow challenger's forecast beside `served` into *shadow: true when made; a
 * challenger that fails is named in out->shadow_problem and never fails the forecast served. */
static bool shadow_here(const char *data_dir, oc_store *store, oc_series_memo *memo, const oc_forecast_options *opt,
                        const oc_series *history, bool stored, const oc_forecast_record *served,
                        oc_forecast_record *shadow, oc_forecast_result *out) {
  oc_error err;
  if (oc_forecast_shadow_version(store, served->endpoint, out->shadow_version, &err) != 0) {
    snprintf(out->shadow_problem, sizeof out->shadow_problem, "%s", err.message);
    return false;
  }
  if (!out->shadow_version[0]) return false;
  oc_served_model *m = oc_served_model_load(data_dir, out->shadow_version, out->series, oc_series_memo_loader, memo,
                                            &err);
  int rc = m ? 0 : -1;
  const char *const *names = NULL;
  size_t nexog = m ? oc_served_model_exogs(m, &names) : 0;
  oc_series *exogs = oc_xcalloc(nexog + 1, sizeof *exogs);
  if (rc == 0 && opt->history && nexog > 0)
    rc = oc_error_set(&err, "model %s needs the exogenous series %s, which a given history cannot supply",
                      out->shadow_version, names[0]);
  if (rc == 0) rc = gather_exogs(memo, m, names, nexog, exogs, &err);
  if (rc == 0) rc = oc_forecast_shadow(m, history, exogs, stored, served, shadow, &err);
  if (rc != 0) snprintf(out->shadow_problem, sizeof out->shadow_problem, "%s", err.message);
  free(exogs);
  oc_served_model_release(m);
  return rc == 0;
}

/* The prices the caller gives (a history, a current price) in the series' range, as the server checks
 * an invocation's: a price such as 1e300 turns the forecast into infinities, which would be stored. */
static int check_given_prices(oc_store *store, const oc_forecast_options *opt, const char *series, oc_error *err) {
  if (!opt->history && isnan(opt->current_price)) return 0;
  oc_price_range range;
  if (oc_price_range_get(store, series, &range, err) != 0) return -1;
  char reason[256];
  for (size_t i = 0; opt->history && i < opt->history->n; i++)
    if (!oc_price_range_check(&range, series, opt->history->values[i], reason, sizeof reason)) {
      char date[OC_DATE_STRLEN];
      return oc_pipeline_bad_option(err, "the given history at %s: %s", oc_date_format(opt->history->dates[i], date),
                                    reason);
    }
  if (!isnan(opt->current_price) && !oc_price_range_check(&range, series, opt->current_price, reason, sizeof reason))
    return oc_pipeline_bad_option(err, "the current price: %s", reason);
  return 0;
}

static int forecast_here(const char *data_dir, oc_store *store, const oc_forecast_options *opt, oc_forecast_result *out,
                         oc_error *err) {
  int64_t version = opt->version;
  if (!version && oc_registry_endpoint_version(store, opt->endpoint ? opt->endpoint : OC_DEFAULT_ENDPOINT, &version, err) != 0)
    return -1;
  snprintf(out->model_version, sizeof out->model_version, "v%lld", (long long)version);
  if (opt->series) snprintf(out->series, sizeof out->series, "%s", opt->series);
  else if (oc_served_model_default_series(data_dir, out->model_version, out->series, sizeof out->series, err) != 0)
    return -1;
  int bad = check_given_prices(store, opt, out->series, err);
  if (bad != 0) return bad;
  /* the model's load and the forecast read each stored series once */
  oc_series_memo memo = {.store = store};
  oc_served_model *m = oc_served_model_load(data_dir, out->model_version, out->series, oc_series_memo_loader, &memo, err);
  if (!m) {
    oc_series_memo_free(&memo);
    return -1;
  }
  snprintf(out->model_kind, sizeof out->model_kind, "%s", oc_served_model_kind(m));
  size_t days = opt->days ? opt->days : oc_served_model_default_horizon(m), max = oc_served_model_max_horizon(m);
  const char *const *names;
  size_t nexog = oc_served_model_exogs(m, &names);
  oc_series history = {0}, *exogs = oc_xcalloc(nexog + 1, sizeof *exogs);
  bool stored = !opt->history && isnan(opt->current_price), owned = false;
  int rc = 0;
  if (days > max) {
    rc = oc_pipeline_bad_option(err, "model %s predicts 1 to %zu trading days ahead (its horizon H = %zu)",
                                out->model_version, max, max);
  }
  if (rc == 0 && opt->history && nexog > 0)
    rc = oc_error_set(err, "model %s also needs the exogenous series %s%s, which a given history cannot supply; "
                      "forecast from the stored history instead", out->model_version, names[0], nexog > 1 ? " and others" : "");
  if (rc == 0) rc = gather_history(&memo, opt, out->series, &history, &owned, err);
  if (rc == 0) rc = gather_exogs(&memo, m, names, nexog, exogs, err);
  if (rc == 0) rc = oc_served_model_forecast(m, &history, exogs, stored, days, &out->forecast, err);
  if (rc == 0 && opt->save) {
    /* recs[1]: the answer; its shadow's (recs[0]) goes first, so the answer stays the series' newest */
    oc_forecast_record recs[2], *rec = &recs[1];
    bool shadowed = false;
    oc_forecast_record_fill(rec, &out->forecast, out->series, out->model_version, out->model_kind,
                            stored ? "stored" : "given", "cli");
    if (!opt->version) { /* through an endpoint: scored as the endpoint's (its variant named by version) */
      snprintf(rec->endpoint, sizeof rec->endpoint, "%s", opt->endpoint ? opt->endpoint : OC_DEFAULT_ENDPOINT);
      snprintf(rec->variant, sizeof rec->variant, "%s", out->model_version);
      shadowed = shadow_here(data_dir, store, &memo, opt, &history, stored, rec, &recs[0], out);
    }
    rc = oc_store_forecasts_save(store, shadowed ? recs : rec, shadowed ? 2 : 1, err);
    out->stored_id = rc == 0 ? rec->id : 0;
    out->shadow_stored_id = rc == 0 && shadowed ? recs[0].id : 0;
    if (rc != 0 && err->kind == OC_ERROR_READ_ONLY) rc = 0; /* a read-only data directory: made, not stored */
  }
  free(exogs);
  if (owned) oc_series_free(&history);
  oc_served_model_release(m);
  oc_series_memo_free(&memo);
  return rc;
}

static int forecast_remote(const oc_forecast_options *opt, oc_forecast_result *out, oc_error *err) {
  if (opt->version) return oc_error_set(err, "a server is asked through an endpoint, not a version");
  oc_remote_request req = {.url = opt->url, .api_key = opt->api_key,
                           .endpoint = opt->endpoint ? opt->endpoint : OC_DEFAULT_ENDPOINT, .days = (int)opt->days,
                           .history = opt->history};
  oc_remote_answer answer;
  if (oc_remote_forecast(&req, &out->forecast, &answer, err) != 0) return -1;
  snprintf(out->series, sizeof out->series, "%s", answer.series);
  snprintf(out->model_version, sizeof out->model_version, "%s", answer.model_version);
  snprintf(out->model_kind, sizeof out->model_kind, "%s", answer.model_kind);
  return 0;
}

int oc_pipeline_forecast(const char *data_dir, oc_store *store, const oc_forecast_options *opt, oc_forecast_result *out,
                         oc_error *err) {
  memset(out, 0, sizeof *out);
  if (opt->history && !isnan(opt->current_price))
    return oc_pipeline_bad_option(err, "a given history carries its own current price (its last observation)");
  if (opt->days > OC_FORECAST_MAX_HORIZON)
    return oc_pipeline_bad_option(err, "%zu days ahead: at most %d", opt->days, OC_FORECAST_MAX_HORIZON);
  int rc = opt->url ? forecast_remote(opt, out, err) : forecast_here(data_dir, store, opt, out, err);
  for (size_t h = 0; rc == 0 && h < out->forecast.horizon; h++)
    out->dates[h] = oc_calendar_add_trading_days(out->forecast.origin, (int)h + 1);
  return rc;
}
