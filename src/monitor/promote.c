/* promote.c: see promote.h. The rules live here; the store only keeps the state and the log, the
 * registry changes the endpoint, pipeline/train.h trains and pipeline/forecast.h forecasts. Must not
 * print, and must not change an endpoint without recording the decision in the same transaction. */
#include "monitor/promote.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/json.h"
#include "model/backtest.h"
#include "model/registry.h"
#include "monitor/drift.h"
#include "monitor/score.h"
#include "pipeline/forecast.h"
#include "pipeline/pipeline.h"

oc_promote_options oc_promote_options_default(void) {
  return (oc_promote_options){.horizon = 1, .mode = OC_CHALLENGER_SHADOW, .challenger_weight = 0.1,
                              .degrade_rel_mae = 1.1, .degrade_origins = 10, .min_origins = 20, .max_origins = 60,
                              .max_p = 0.05, .rollback_rel_mae = 1.25, .rollback_origins = 10,
                              .drift_psi = 0.25, .drift_recent = OC_DRIFT_RECENT_DEFAULT};
}

void oc_promote_result_free(oc_promote_result *r) {
  free(r->decisions);
  memset(r, 0, sizeof *r);
}

static int check_options(const oc_promote_options *o, oc_error *err) {
  if (!o->endpoint || !*o->endpoint) return oc_pipeline_bad_option(err, "an endpoint is required");
  if (o->horizon < 1 || o->horizon > OC_STORED_FORECAST_MAX_POINTS)
    return oc_pipeline_bad_option(err, "the horizon compared is 1..%d, not %zu", OC_STORED_FORECAST_MAX_POINTS,
                                  o->horizon);
  if (!(o->drift_psi >= 0) || (o->drift_psi > 0 && o->drift_recent < OC_DRIFT_RECENT_MIN))
    return oc_pipeline_bad_option(err, "drift triggers need a PSI threshold >= 0 and at least %d recent values",
                                  OC_DRIFT_RECENT_MIN);
  /* below the champion's 1 - w: at a tie the endpoint answers with the newest version, the challenger */
  if (!(o->challenger_weight > 0 && o->challenger_weight < 0.5))
    return oc_pipeline_bad_option(err, "a challenger's traffic weight is in (0, 0.5), not %g", o->challenger_weight);
  if (!(o->degrade_rel_mae > 0) || !(o->rollback_rel_mae > 0))
    return oc_pipeline_bad_option(err, "relMAE thresholds are positive");
  if (o->degrade_origins < 1 || o->rollback_origins < 1)
    return oc_pipeline_bad_option(err, "degradation and rollback need at least 1 scored origin");
  if (o->min_origins < 2 || o->max_origins < o->min_origins)
    return oc_pipeline_bad_option(err, "the promotion rule needs 2 <= min origins <= max origins, not %zu and %zu",
                                  o->min_origins, o->max_origins);
  if (!(o->max_p > 0 && o->max_p < 1)) return oc_pipeline_bad_option(err, "the p-value threshold is in (0, 1)");
  return 0;
}

/* One run's view of the endpoint. */
typedef struct run {
  const char *data_dir;
  oc_store *store;
  const oc_promote_options *opt;
  oc_promote_result *out;
  oc_challenger_state st;
  /* the pending trigger as the run read it: one stored since came from the alert webhook (put_state) */
  char read_trigger[sizeof ((oc_challenger_state *)0)->pending_trigger];
  char read_reason[sizeof ((oc_challenger_state *)0)->pending_reason];
  int64_t champion;
  char series[OC_SERIES_NAME_MAX + 1];
  oc_date latest; /* the series' latest observation: the next forecast origin */
} run;

static int run_open(run *r, const char *data_dir, oc_store *store, const oc_promote_options *opt,
                    oc_promote_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  *r = (run){.data_dir = data_dir, .store = store, .opt = opt, .out = out, .latest = OC_DATE_INVALID};
  int rc = check_options(opt, err);
  if (rc != 0) return rc;
  if (oc_registry_endpoint_version(store, opt->endpoint, &r->champion, err) != 0) return -1;
  oc_model_version row;
  bool found;
  if (oc_store_model_version_get(store, r->champion, &row, &found, err) != 0) return -1;
  if (!found) return oc_error_set(err, "endpoint %s serves v%lld, which is not registered", opt->endpoint,
                                  (long long)r->champion);
  snprintf(r->series, sizeof r->series, "%s", row.series);
  oc_model_version_free(&row);
  oc_series_info info;
  if (oc_store_series_get(store, r->series, &info, &found, err) != 0) return -1;
  if (found) {
    r->latest = info.last;
    oc_series_info_free(&info);
  }
  if (oc_store_challenger_get(store, opt->endpoint, &r->st, &found, err) != 0) return -1;
  snprintf(r->read_trigger, sizeof r->read_trigger, "%s", r->st.pending_trigger);
  snprintf(r->read_reason, sizeof r->read_reason, "%s", r->st.pending_reason);
  return 0;
}

/* Writes the run's state of the endpoint (inside the caller's transaction), keeping a pending trigger
 * the alert webhook stored after the run read the state: a run trains for seconds, and its copy written
 * over the webhook's lost an alert the webhook had accepted. The trigger the run read is its own to
 * spend (the webhook refuses another while one is pending). */
static int put_state(run *r, oc_error *err) {
  oc_challenger_state stored;
  bool found;
  if (oc_store_challenger_get(r->store, r->opt->endpoint, &stored, &found, err) != 0) return -1;
  if (*stored.pending_trigger &&
      (strcmp(stored.pending_trigger, r->read_trigger) != 0 || strcmp(stored.pending_reason, r->read_reason) != 0)) {
    snprintf(r->st.pending_trigger, sizeof r->st.pending_trigger, "%s", stored.pending_trigger);
    snprintf(r->st.pending_reason, sizeof r->st.pending_reason, "%s", stored.pending_reason);
  }
  return oc_store_challenger_put(r->store, &r->st, err);
}

static void version_name(int64_t version, char name[32]) { snprintf(name, 32, "v%lld", (long long)version); }

static json_t *date_json(oc_date d) {
  char text[OC_DATE_STRLEN];
  return d == OC_DATE_INVALID ? json_null() : json_string(oc_date_format(d, text));
}

/* d's figures as compact JSON text (consumed; NULL: {}); {} when they would not fit. */
static void set_figures(oc_promotion_decision *d, json_t *figures) {
  char *text = figures ? json_dumps(figures, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(figures);
  snprintf(d->figures, sizeof d->figures, "%s", text && strlen(text) < sizeof d->figures ? text : "{}");
  free(text);
}

/* Records a decision (inside the caller's transaction, if one is open) and keeps it in the result.
 * figures: a JSON object, consumed (NULL: {}). */
static int decide(run *r, const char *action, const char *trigger, int64_t version, json_t *figures, oc_error *err,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int decide(run *r, const char *action, const char *trigger, int64_t version, json_t *figures, oc_error *err,
                  const char *fmt, ...) {
  oc_promotion_decision d = {.at = r->opt->now, .version = version, .champion = r->champion};
  snprintf(d.endpoint, sizeof d.endpoint, "%s", r->opt->endpoint);
  snprintf(d.action, sizeof d.action, "%s", action);
  snprintf(d.trigger, sizeof d.trigger, "%s", trigger ? trigger : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d.reason, sizeof d.reason, fmt, ap);
  va_end(ap);
  set_figures(&d, figures);
  if (oc_store_decision_record(r->store, &d, err) != 0) return -1;
  size_t cap = r->out->n;
  oc_xgrow((void **)&r->out->decisions, &cap, r->out->n + 1, sizeof *r->out->decisions);
  r->out->decisions[r->out->n++] = d;
  return 0;
}

/* Ends a transaction opened for a decision: commit when ok, else roll back (and forget the decisions
 * this transaction added to the result: they were never recorded). */
static int finish_transaction(run *r, bool ok, size_t decisions_before, oc_error *err) {
  if (ok && oc_store_commit(r->store, err) == 0) return 0;
  oc_error rollback_err;
  oc_store_rollback(r->store, &rollback_err);
  r->out->n = decisions_before;
  return -1;
}

/* The endpoint serving only `version`. */
static int serve_only(run *r, int64_t version, oc_error *err) {
  oc_endpoint_variant v = {.version = version, .weight = 1.0};
  return oc_registry_endpoint_write(r->store, r->opt->endpoint, &v, 1, err);
}

/* The latest `limit` scored origins of version (newest forecast of each) after `after`, ascending. */
static int scored_errors(run *r, int64_t version, oc_date after, size_t limit, oc_scored_error **rows, size_t *n,
                         oc_error *err) {
  char name[32];
  version_name(version, name);
  return oc_store_forecast_errors(r->store, r->opt->endpoint, name, (int64_t)r->opt->horizon, after, limit, rows, n,
                                  err);
}

typedef struct error_summary {
  double mae, naive_mae, rel_mae;
  oc_date first, last;
} error_summary;

static error_summary summarize(const oc_scored_error *rows, size_t n) {
  assert(n > 0);
  double sum = 0, naive = 0;
  for (size_t i = 0; i < n; i++) {
    sum += rows[i].abs_error;
    naive += rows[i].naive_abs_error;
  }
  return (error_summary){.mae = sum / (double)n, .naive_mae = naive / (double)n,
                         .rel_mae = naive > 0 ? sum / naive : NAN, .first = rows[0].origin, .last = rows[n - 1].origin};
}

static json_t *summary_json(const error_summary *s, size_t origins, double threshold) {
  return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "origins", (json_int_t)origins, "first_origin",
                   date_json(s->first), "last_origin", date_json(s->last), "mae", oc_json_number(s->mae), "naive_mae",
                   oc_json_number(s->naive_mae), "rel_mae", oc_json_number(s->rel_mae), "threshold",
                   oc_json_number(threshold));
}

/* Whether the champion's relMAE over its latest `origins` scored origins after `after` exceeds
 * threshold (*over; false while it has fewer), with the figures in *s and *n. */
static int champion_exceeds(run *r, oc_date after, size_t origins, double threshold, error_summary *s, size_t *n,
                            bool *over, oc_error *err) {
  oc_scored_error *rows;
  *over = false;
  if (scored_errors(r, r->champion, after, origins, &rows, n, err) != 0) return -1;
  if (*n >= origins) {
    *s = summarize(rows, *n);
    *over = s->rel_mae > threshold;
  }
  free(rows);
  return 0;
}

/* Step 2: a promoted version degraded beyond the rollback threshold gives way to the one it replaced. */
static int check_rollback(run *r, bool *rolled_back, oc_error *err) {
  *rolled_back = false;
  if (!r->st.promoted || r->st.promoted != r->champion || !r->st.previous) return 0;
  const oc_promote_options *o = r->opt;
  error_summary s;
  size_t n;
  bool over;
  if (champion_exceeds(r, r->st.promoted_since, o->rollback_origins, o->rollback_rel_mae, &s, &n, &over, err) != 0)
    return -1;
  if (!over) return 0;
  int64_t restored = r->st.previous, retired = r->st.challenger;
  size_t before = r->out->n;
  json_t *figures = summary_json(&s, n, o->rollback_rel_mae);
  json_object_set_new(figures, "restored", json_integer(restored));
  if (oc_store_begin(r->store, err) != 0) {
    json_decref(figures);
    return -1;
  }
  r->st.promoted = r->st.previous = r->st.challenger = 0;
  r->st.quiet_until = r->st.forecast_origin;
  bool ok = serve_only(r, restored, err) == 0 && put_state(r, err) == 0 &&
            decide(r, "rollback", "degradation", restored, figures, err,
                   "v%lld, promoted, scored relMAE %.3f over its latest %zu origins (above %.3f): v%lld restored%s",
                   (long long)r->champion, s.rel_mae, n, o->rollback_rel_mae, (long long)restored,
                   retired ? "; the challenger under evaluation is retired with it" : "") == 0;
  if (finish_transaction(r, ok, before, err) != 0) return -1;
  r->champion = restored;
  *rolled_back = true;
  return 0;
}

/* Pairs the two ascending error lists on their common origins: d = |e_a| - |e_b| per shared origin. */
static size_t pair_origins(const oc_scored_error *a, size_t na, const oc_scored_error *b, size_t nb, double *d,
                           oc_scored_error *a_out, oc_scored_error *b_out) {
  size_t n = 0;
  for (size_t i = 0, j = 0; i < na && j < nb;) {
    if (a[i].origin < b[j].origin) i++;
    else if (a[i].origin > b[j].origin) j++;
    else {
      d[n] = a[i].abs_error - b[j].abs_error;
      a_out[n] = a[i++];
      b_out[n++] = b[j++];
    }
  }
  return n;
}

/* One-sided Diebold-Mariano p-value for H1: E d > 0, from the backtest's two-sided test. */
static double dm_one_sided_p(const double *d, size_t n, size_t h) {
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += d[i];
  double p = oc_diebold_mariano_p(d, n, h);
  return mean > 0 ? p / 2 : 1 - p / 2;
}

/* Step 3: the promotion rule for the challenger under evaluation. Every origin since its deployment is
 * paired first, then the latest max_origins pairs are compared: each version's latest max_origins
 * origins would pair fewer whenever one of them lacks an origin the other has (a failed shadow
 * forecast), and a challenger short of its max_origins pairs for ever would never be decided. */
static int check_challenger(run *r, oc_error *err) {
  if (!r->st.challenger) return 0;
  const oc_promote_options *o = r->opt;
  oc_scored_error *champ = NULL, *chall = NULL;
  size_t nc = 0, nh = 0;
  if (scored_errors(r, r->champion, r->st.challenger_since, SIZE_MAX, &champ, &nc, err) != 0 ||
      scored_errors(r, r->st.challenger, r->st.challenger_since, SIZE_MAX, &chall, &nh, err) != 0) {
    free(champ);
    return -1;
  }
  size_t cap = nc < nh ? nc : nh;
  double *d = oc_xmalloc((cap + 1) * sizeof *d);
  oc_scored_error *pc = oc_xmalloc((cap + 1) * sizeof *pc), *ph = oc_xmalloc((cap + 1) * sizeof *ph);
  size_t n = pair_origins(champ, nc, chall, nh, d, pc, ph);
  free(champ);
  free(chall);
  if (n > o->max_origins) { /* the latest max_origins pairs */
    size_t drop = n - o->max_origins;
    memmove(d, d + drop, o->max_origins * sizeof *d);
    memmove(pc, pc + drop, o->max_origins * sizeof *pc);
    memmove(ph, ph + drop, o->max_origins * sizeof *ph);
    n = o->max_origins;
  }
  int rc = 0;
  if (n >= o->min_origins) {
    double p = dm_one_sided_p(d, n, o->horizon);
    error_summary sc = summarize(pc, n), sh = summarize(ph, n);
    bool wins = p < o->max_p;
    if (wins || n >= o->max_origins) {
      int64_t challenger = r->st.challenger, champion = r->champion;
      json_t *figures = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s}", "paired_origins",
                                  (json_int_t)n, "first_origin", date_json(sc.first), "last_origin",
                                  date_json(sc.last), "champion_mae", oc_json_number(sc.mae), "challenger_mae",
                                  oc_json_number(sh.mae), "champion_rel_mae", oc_json_number(sc.rel_mae),
                                  "challenger_rel_mae", oc_json_number(sh.rel_mae), "dm_p_one_sided",
                                  oc_json_number(p), "max_p", oc_json_number(o->max_p), "horizon",
                                  (json_int_t)o->horizon, "mode", r->st.mode);
      size_t before = r->out->n;
      if (oc_store_begin(r->store, err) != 0) {
        json_decref(figures);
        rc = -1;
      } else {
        r->st.challenger = 0;
        r->st.quiet_until = r->st.forecast_origin;
        bool ok;
        if (wins) {
          r->st.promoted = challenger;
          r->st.previous = champion;
          r->st.promoted_since = r->st.forecast_origin;
          ok = serve_only(r, challenger, err) == 0 && put_state(r, err) == 0 &&
               decide(r, "promote", "", challenger, figures, err,
                      "v%lld beat v%lld on the same %zu origins: MAE %.4f against %.4f at horizon %zu, one-sided "
                      "Diebold-Mariano p = %.4f < %.4f",
                      (long long)challenger, (long long)champion, n, sh.mae, sc.mae, o->horizon, p, o->max_p) == 0;
        } else {
          ok = (strcmp(r->st.mode, "variant") != 0 || serve_only(r, champion, err) == 0) &&
               put_state(r, err) == 0 &&
               decide(r, "refusal", "", challenger, figures, err,
                      "v%lld not promoted after %zu paired origins: MAE %.4f against the champion's %.4f, one-sided "
                      "Diebold-Mariano p = %.4f (needs < %.4f); retired",
                      (long long)challenger, n, sh.mae, sc.mae, p, o->max_p) == 0;
        }
        rc = finish_transaction(r, ok, before, err);
        if (rc == 0 && wins) r->champion = challenger;
      }
    }
  }
  free(d);
  free(pc);
  free(ph);
  return rc;
}

/* The champion's configuration: its spec (a forecaster's card) or kind (a network), into spec. */
static int champion_spec(run *r, char *spec, size_t cap, oc_error *err) {
  oc_forecaster *f;
  json_t *card;
  if (oc_registry_load_forecaster(r->data_dir, r->store, r->champion, &f, &card, err) != 0) return -1;
  const char *s = json_string_value(json_object_get(card, "spec"));
  if (!s) s = json_string_value(json_object_get(card, "kind"));
  snprintf(spec, cap, "%s", s ? s : oc_forecaster_kind(f));
  json_decref(card);
  oc_forecaster_free(f);
  return 0;
}

/* A trigger: trains a challenger with the champion's configuration on the data stored now and deploys it,
 * or refuses when one is under evaluation. record_trigger: the trigger is not yet in the log. figures:
 * the trigger's, consumed. */
static int retrain(run *r, const char *trigger, bool record_trigger, json_t *figures, const char *reason,
                   oc_error *err) {
  if (r->st.challenger) {
    char since[OC_DATE_STRLEN];
    r->st.pending_trigger[0] = r->st.pending_reason[0] = '\0';
    size_t before = r->out->n;
    if (oc_store_begin(r->store, err) != 0) {
      json_decref(figures);
      return -1;
    }
    bool ok = put_state(r, err) == 0 &&
              decide(r, "refusal", trigger, r->st.challenger, figures, err,
                     "%s; not retrained: challenger v%lld is under evaluation (origins after %s)", reason,
                     (long long)r->st.challenger,
                     r->st.challenger_since == OC_DATE_INVALID ? "its deployment"
                                                               : oc_date_format(r->st.challenger_since, since)) == 0;
    return finish_transaction(r, ok, before, err);
  }
  if (record_trigger && decide(r, "trigger", trigger, 0, figures, err, "%s", reason) != 0) return -1;
  if (!record_trigger) json_decref(figures);
  const oc_promote_options *o = r->opt;
  char spec[160];
  oc_train_options t = o->train ? *o->train : oc_train_options_default();
  t.series = r->series;
  t.deploy = false;
  t.model = spec;
  oc_train_result tr = {0};
  int rc = champion_spec(r, spec, sizeof spec, err);
  if (rc == 0) rc = oc_pipeline_train(r->data_dir, r->store, &t, &tr, err);
  r->st.pending_trigger[0] = r->st.pending_reason[0] = '\0';
  r->st.quiet_until = r->st.forecast_origin;
  size_t before = r->out->n;
  if (rc != 0) { /* the failure is a decision too; the trigger is spent (the next one tries again) */
    oc_error failed = *err;
    if (oc_store_begin(r->store, err) != 0) return -1;
    bool ok = put_state(r, err) == 0 &&
              decide(r, "training", trigger, 0, NULL, err, "training %s on %s failed: %s", spec, r->series,
                     failed.message) == 0;
    if (finish_transaction(r, ok, before, err) == 0) *err = failed;
    return -1;
  }
  oc_model_version row = {0};
  bool found = false;
  rc = oc_store_model_version_get(r->store, tr.version, &row, &found, err);
  double val_rel_mae = found && row.naive_mae > 0 ? row.val_loss : NAN;
  if (found) oc_model_version_free(&row);
  json_t *trained = json_pack("{s:s, s:s, s:s, s:I, s:o}", "kind", tr.kind, "spec", tr.spec, "series", r->series,
                              "validation_origins", (json_int_t)tr.validation_origins, "validation_rel_mae",
                              oc_json_number(val_rel_mae));
  bool variant = o->mode == OC_CHALLENGER_VARIANT;
  json_t *deployed = json_pack("{s:s, s:o}", "mode", variant ? "variant" : "shadow", "weight",
                               oc_json_number(variant ? o->challenger_weight : 0));
  if (rc != 0 || oc_store_begin(r->store, err) != 0) {
    json_decref(trained);
    json_decref(deployed);
    oc_train_result_free(&tr);
    return -1;
  }
  r->st.challenger = tr.version;
  r->st.challenger_since = r->st.forecast_origin;
  snprintf(r->st.mode, sizeof r->st.mode, "%s", variant ? "variant" : "shadow");
  oc_endpoint_variant both[2] = {{r->champion, 1 - o->challenger_weight}, {tr.version, o->challenger_weight}};
  bool ok = decide(r, "training", trigger, tr.version, trained, err, "v%lld trained (%s on %s, the champion's "
                   "configuration, data up to now)", (long long)tr.version, tr.spec, r->series) == 0 &&
            (!variant || oc_registry_endpoint_write(r->store, o->endpoint, both, 2, err) == 0) &&
            put_state(r, err) == 0 &&
            (variant ? decide(r, "deploy", trigger, tr.version, deployed, err,
                              "v%lld deployed as a variant beside v%lld at weight %.3f", (long long)tr.version,
                              (long long)r->champion, o->challenger_weight)
                     : decide(r, "deploy", trigger, tr.version, deployed, err,
                              "v%lld deployed in shadow beside v%lld (forecasts scored, never served)",
                              (long long)tr.version, (long long)r->champion)) == 0;
  oc_train_result_free(&tr);
  return finish_transaction(r, ok, before, err);
}

/* The champion's input drift (monitor/drift.h) when its whole recent window lies after `after`
 * (*found false otherwise, or when its card keeps no reference). Reads the champion's card only. */
static int champion_drift(run *r, oc_date after, oc_feature_drift *out, bool *found, oc_error *err) {
  oc_model_version row;
  *found = false;
  if (oc_store_model_version_get(r->store, r->champion, &row, found, err) != 0) return -1;
  if (!*found) return 0;
  int rc = oc_monitor_version_drift(r->data_dir, r->store, &row, r->opt->drift_recent, out, found, err);
  oc_model_version_free(&row);
  if (rc == 0 && *found && after != OC_DATE_INVALID && out->recent_first <= after) *found = false;
  return rc;
}

/* Step 4: a pending alert, the champion's degradation, or its input drift triggers retraining. */
static int check_triggers(run *r, oc_error *err) {
  if (*r->st.pending_trigger) {
    char trigger[sizeof r->st.pending_trigger], reason[sizeof r->st.pending_reason];
    snprintf(trigger, sizeof trigger, "%s", r->st.pending_trigger);
    snprintf(reason, sizeof reason, "%s", r->st.pending_reason);
    return retrain(r, trigger, false, NULL, reason, err);
  }
  if (r->st.challenger) return 0;
  const oc_promote_options *o = r->opt;
  error_summary s;
  size_t n;
  bool over;
  if (champion_exceeds(r, r->st.quiet_until, o->degrade_origins, o->degrade_rel_mae, &s, &n, &over, err) != 0)
    return -1;
  char reason[256];
  if (over) {
    snprintf(reason, sizeof reason, "v%lld scored relMAE %.3f over its latest %zu origins (above %.3f)",
             (long long)r->champion, s.rel_mae, n, o->degrade_rel_mae);
    return retrain(r, "degradation", true, summary_json(&s, n, o->degrade_rel_mae), reason, err);
  }
  if (!(o->drift_psi > 0)) return 0;
  oc_feature_drift d;
  bool found;
  if (champion_drift(r, r->st.quiet_until, &d, &found, err) != 0) return -1;
  if (!found || !(d.psi > o->drift_psi)) return 0;
  snprintf(reason, sizeof reason, "v%lld's input %s drifted: PSI %.3f over its latest %zu values (above %.3f), KS %.3f",
           (long long)r->champion, d.feature, d.psi, d.recent_n, o->drift_psi, d.ks);
  json_t *figures = oc_feature_drift_json(&d);
  json_object_set_new(figures, "threshold", oc_json_number(o->drift_psi));
  return retrain(r, "drift", true, figures, reason, err);
}

/* Step 5: champion and challenger forecast the new origin, stored under the endpoint. A shadow
 * challenger's forecast is made and stored by the endpoint's forecast itself (pipeline/forecast.h), as
 * for every forecast the endpoint makes; a variant's goes first here, so the champion's is the
 * series' newest (what GET /v1/forecasts/latest shows). */
static int forecast_new_origin(run *r, oc_error *err) {
  if (r->latest == OC_DATE_INVALID || (r->st.forecast_origin != OC_DATE_INVALID && r->latest <= r->st.forecast_origin))
    return 0;
  if (r->st.challenger && strcmp(r->st.mode, "variant") == 0) {
    oc_forecast_options fo = oc_forecast_options_default();
    fo.version = r->st.challenger;
    fo.series = r->series;
    fo.save = false;
    oc_forecast_result fr;
    if (oc_pipeline_forecast(r->data_dir, r->store, &fo, &fr, err) != 0) return -1;
    oc_forecast_record rec;
    oc_forecast_record_fill(&rec, &fr.forecast, fr.series, fr.model_version, fr.model_kind, "stored", "promote");
    snprintf(rec.endpoint, sizeof rec.endpoint, "%s", r->opt->endpoint);
    snprintf(rec.variant, sizeof rec.variant, "%s", fr.model_version);
    if (oc_store_forecast_save(r->store, &rec, err) != 0) return -1;
    r->out->forecasts++;
  }
  oc_forecast_options fo = oc_forecast_options_default();
  fo.endpoint = r->opt->endpoint;
  fo.series = r->series;
  oc_forecast_result fr;
  if (oc_pipeline_forecast(r->data_dir, r->store, &fo, &fr, err) != 0) return -1;
  r->out->forecasts += 1 + (fr.shadow_stored_id != 0);
  if (fr.forecast.horizon < r->opt->horizon)
    return oc_pipeline_bad_option(err, "v%lld forecasts %zu steps, fewer than the horizon compared (%zu)",
                                  (long long)r->champion, fr.forecast.horizon, r->opt->horizon);
  r->st.forecast_origin = r->latest;
  if (oc_store_begin(r->store, err) != 0) return -1;
  return finish_transaction(r, put_state(r, err) == 0, r->out->n, err);
}

static int run_finish(run *r, oc_error *err) {
  if (forecast_new_origin(r, err) != 0) return -1;
  r->out->champion = r->champion;
  r->out->challenger = r->st.challenger;
  return 0;
}

int oc_monitor_promote(const char *data_dir, oc_store *store, const oc_promote_options *opt, oc_promote_result *out,
                       oc_error *err) {
  run r;
  int rc = run_open(&r, data_dir, store, opt, out, err);
  if (rc != 0) return rc;
  bool rolled_back;
  if (oc_store_forecast_score(store, opt->now, &out->scored, err) != 0 || check_rollback(&r, &rolled_back, err) != 0 ||
      (!rolled_back && (check_challenger(&r, err) != 0 || check_triggers(&r, err) != 0)))
    return -1;
  return run_finish(&r, err);
}

int oc_monitor_retrain(const char *data_dir, oc_store *store, const oc_promote_options *opt, const char *trigger,
                       oc_promote_result *out, oc_error *err) {
  run r;
  int rc = run_open(&r, data_dir, store, opt, out, err);
  if (rc != 0) return rc;
  char reason[128];
  snprintf(reason, sizeof reason, "%s retraining of v%lld", strcmp(trigger, "schedule") == 0 ? "scheduled" : trigger,
           (long long)r.champion);
  if (retrain(&r, trigger, true, NULL, reason, err) != 0) return -1;
  return run_finish(&r, err);
}

int oc_monitor_promote_version(const char *data_dir, oc_store *store, const oc_promote_options *opt, int64_t version,
                               const char *reason, oc_promote_result *out, oc_error *err) {
  run r;
  int rc = run_open(&r, data_dir, store, opt, out, err);
  if (rc != 0) return rc;
  oc_model_version row;
  bool found;
  if (oc_store_model_version_get(store, version, &row, &found, err) != 0) return -1;
  if (!found) return oc_pipeline_bad_option(err, "no registered version v%lld", (long long)version);
  if (strcmp(row.series, r.series) != 0) { /* it would forecast its own series under this endpoint */
    rc = oc_pipeline_bad_option(err, "v%lld forecasts %s, not %s (the series of endpoint %s)", (long long)version,
                                row.series, r.series, opt->endpoint);
    oc_model_version_free(&row);
    return rc;
  }
  oc_model_version_free(&row);
  if (version == r.champion)
    return oc_pipeline_bad_option(err, "v%lld is already the champion of %s", (long long)version, opt->endpoint);
  size_t before = out->n;
  if (oc_store_begin(store, err) != 0) return -1;
  int64_t champion = r.champion;
  r.st.previous = champion;
  r.st.promoted = version;
  r.st.promoted_since = r.st.quiet_until = r.st.forecast_origin;
  int64_t retired = r.st.challenger;
  r.st.challenger = 0;
  bool ok = serve_only(&r, version, err) == 0 && put_state(&r, err) == 0 &&
            decide(&r, "promote", "manual", version, json_pack("{s:b}", "forced", 1), err,
                   "forced by an operator, without the promotion rule: %s; v%lld kept for rollback%s", reason,
                   (long long)champion, retired && retired != version ? "; the challenger under evaluation retired" : "") == 0;
  if (finish_transaction(&r, ok, before, err) != 0) return -1;
  r.champion = version;
  return run_finish(&r, err);
}

/* The endpoint's decisions read for an alert's earlier trigger: Alertmanager re-sends a firing alert
 * every repeat_interval (4 h by default), and an endpoint records a few decisions a day. */
#define ALERT_TRIGGERS_READ 1000

/* Whether the alert (fingerprint, startsAt: one firing of it) left a trigger for endpoint already. */
static int alert_taken(oc_store *store, const char *endpoint, const char *fingerprint, const char *starts_at,
                       bool *taken, oc_error *err) {
  oc_promotion_decision *d;
  size_t n;
  *taken = false;
  if (oc_store_decisions_list(store, endpoint, ALERT_TRIGGERS_READ, &d, &n, err) != 0) return -1;
  for (size_t i = 0; i < n && !*taken; i++) {
    if (strcmp(d[i].action, "trigger") != 0 || strcmp(d[i].trigger, "alert") != 0) continue;
    json_t *figures = json_loads(d[i].figures, 0, NULL);
    const char *fp = json_string_value(json_object_get(figures, "fingerprint"));
    const char *since = json_string_value(json_object_get(figures, "startsAt"));
    *taken = fp && since && strcmp(fp, fingerprint) == 0 && strcmp(since, starts_at) == 0;
    json_decref(figures);
  }
  free(d);
  return 0;
}

/* One alert of a webhook: a pending trigger for its endpoint, or why not (into *why). */
static int receive_alert(oc_store *store, const json_t *alert, int64_t now, json_t *accepted, char *why, size_t cap,
                         oc_error *err) {
  const json_t *labels = json_object_get(alert, "labels");
  const char *status = json_string_value(json_object_get(alert, "status"));
  const char *action = json_string_value(json_object_get(labels, "action"));
  const char *endpoint = json_string_value(json_object_get(labels, "endpoint"));
  const char *name = json_string_value(json_object_get(labels, "alertname"));
  const char *fingerprint = json_string_value(json_object_get(alert, "fingerprint"));
  const char *summary = json_string_value(json_object_get(json_object_get(alert, "annotations"), "summary"));
  const char *starts_at = json_string_value(json_object_get(alert, "startsAt"));
  if (!status || strcmp(status, "firing") != 0) return snprintf(why, cap, "not firing"), 0;
  if (!action || strcmp(action, "retrain") != 0) return snprintf(why, cap, "no label action=\"retrain\""), 0;
  if (!endpoint || !*endpoint) return snprintf(why, cap, "no label endpoint"), 0;
  oc_endpoint ep;
  bool found;
  if (oc_store_endpoint_get(store, endpoint, &ep, &found, err) != 0) return -1;
  if (!found) return snprintf(why, cap, "no endpoint named '%s'", endpoint), 0;
  oc_endpoint_free(&ep);
  bool taken = false;
  if (fingerprint && starts_at && alert_taken(store, endpoint, fingerprint, starts_at, &taken, err) != 0) return -1;
  if (taken)
    return snprintf(why, cap, "alert %s firing since %s triggered %s's retraining already", fingerprint, starts_at,
                    endpoint), 0;
  char pending_reason[sizeof ((oc_challenger_state *)0)->pending_reason];
  snprintf(pending_reason, sizeof pending_reason, "alert %s fired%s%s", name ? name : "(unnamed)",
           summary ? ": " : "", summary ? summary : "");
  oc_promotion_decision d = {.at = now};
  snprintf(d.endpoint, sizeof d.endpoint, "%s", endpoint);
  snprintf(d.action, sizeof d.action, "trigger");
  snprintf(d.trigger, sizeof d.trigger, "alert");
  snprintf(d.reason, sizeof d.reason, "%s; retraining at the endpoint's next promotion run", pending_reason);
  /* the labels only when they fit: the fingerprint and startsAt are what alert_taken reads */
  json_t *figures =
      json_pack("{s:s?, s:s?, s:O?}", "fingerprint", fingerprint, "startsAt", starts_at, "labels", labels);
  char *text = json_dumps(figures, JSON_COMPACT | JSON_SORT_KEYS);
  if (text && strlen(text) >= sizeof d.figures) json_object_del(figures, "labels");
  free(text);
  set_figures(&d, figures);
  if (oc_registry_endpoint_version(store, endpoint, &d.champion, err) != 0 || oc_store_begin(store, err) != 0)
    return -1;
  /* the state read in the transaction that writes it: a promotion run's write in between is kept */
  oc_challenger_state st;
  int rc = oc_store_challenger_get(store, endpoint, &st, &found, err);
  bool pending = rc == 0 && *st.pending_trigger;
  if (rc == 0 && !pending) {
    snprintf(st.pending_trigger, sizeof st.pending_trigger, "alert");
    snprintf(st.pending_reason, sizeof st.pending_reason, "%s", pending_reason);
    if (oc_store_challenger_put(store, &st, err) != 0 || oc_store_decision_record(store, &d, err) != 0 ||
        oc_store_commit(store, err) != 0)
      rc = -1;
  }
  if (rc != 0 || pending) {
    oc_error rollback_err;
    oc_store_rollback(store, &rollback_err);
    if (rc != 0) return -1;
    return snprintf(why, cap, "a retraining of %s is pending already", endpoint), 0;
  }
  json_array_append_new(accepted, json_pack("{s:s, s:s?, s:s?}", "endpoint", endpoint, "alertname", name,
                                            "fingerprint", fingerprint));
  return 0;
}

int oc_monitor_alerts_receive(oc_store *store, const json_t *payload, int64_t now, json_t **accepted,
                              json_t **ignored, oc_error *err) {
  *accepted = *ignored = NULL;
  const char *version = json_string_value(json_object_get(payload, "version"));
  const json_t *alerts = json_object_get(payload, "alerts");
  if (!json_is_object(payload) || !version || strcmp(version, "4") != 0 || !json_is_array(alerts))
    return oc_pipeline_bad_option(err, "not an Alertmanager v4 webhook payload (an object with \"version\": \"4\" "
                                       "and an \"alerts\" array)");
  *accepted = json_array();
  *ignored = json_array();
  size_t i;
  const json_t *alert;
  json_array_foreach(alerts, i, alert) {
    char why[160] = "";
    if (!json_is_object(alert)) snprintf(why, sizeof why, "not an object");
    else if (receive_alert(store, alert, now, *accepted, why, sizeof why, err) != 0) {
      json_decref(*accepted);
      json_decref(*ignored);
      *accepted = *ignored = NULL;
      return oc_error_prefix(err, "alerts[%zu]: ", i);
    }
    if (*why)
      json_array_append_new(*ignored, json_pack("{s:I, s:s?, s:s}", "index", (json_int_t)i, "fingerprint",
                                                json_string_value(json_object_get(alert, "fingerprint")), "reason",
                                                why));
  }
  return 0;
}

json_t *oc_promotion_decision_json(const oc_promotion_decision *d) {
  json_t *figures = json_loads(d->figures, 0, NULL);
  char at[32];
  return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "id", (json_int_t)d->id, "endpoint", d->endpoint,
                   "at", oc_timestamp_format(d->at, at), "action", d->action, "trigger", d->trigger, "version",
                   (json_int_t)d->version, "champion", (json_int_t)d->champion, "reason", d->reason, "figures",
                   figures ? figures : json_object());
}
