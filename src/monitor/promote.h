/* promote.h: retraining and champion/challenger promotion for one endpoint. The champion is the
 * version the endpoint answers with (its heaviest variant); a challenger is a version trained with the
 * champion's configuration (its kind or spec, its series) on the data stored up to now, and evaluated
 * beside it on the same forecast origins, either in shadow (its forecasts stored and scored, never
 * served) or as a variant served at a small traffic weight.
 *
 * One run (oc_monitor_promote, the `oilcast retrain` step; the clock is opt->now):
 *   1. score what became scorable (monitor/score.h);
 *   2. rollback: a version this loop promoted whose relMAE against no-change over its latest
 *      rollback_origins scored origins since the promotion exceeds rollback_rel_mae is replaced by the
 *      champion it replaced;
 *   3. promotion rule: with at least min_origins origins scored for both champion and challenger
 *      (the same origins, after the challenger's deployment), d_t = |e_champion,t| - |e_challenger,t|
 *      at horizon h; the challenger is promoted when the one-sided Diebold-Mariano test (H1: E d > 0,
 *      the challenger is more accurate; model/backtest.h's statistic, its two-sided p halved on the
 *      side of mean d) gives p < max_p; after max_origins paired origins without that, it is refused
 *      and retired;
 *   4. triggers, while no challenger is under evaluation: a pending alert (oc_monitor_alerts_receive),
 *      degradation (the champion's relMAE over its latest degrade_origins scored origins, counted
 *      after the last decision, above degrade_rel_mae) or input drift (the PSI of the champion's input
 *      over its latest drift_recent values against its card's reference, monitor/drift.h, above
 *      drift_psi, the window wholly after the last decision) trains and deploys a challenger; a
 *      trigger while one is under evaluation is refused;
 *   5. forecasts: at a new origin (the series' latest observation) the champion forecasts through the
 *      endpoint and the challenger beside it, both stored under the endpoint (the challenger's variant
 *      "shadow" in shadow mode, "vN" as a variant), so the next runs can score them on the same origins.
 *      A shadow challenger's forecast is made by the endpoint's forecast itself (pipeline/forecast.h),
 *      as for every forecast the endpoint makes (API invocations, scheduled forecasts), and never
 *      fails the run.
 * Every decision (trigger, training, deploy, promote, rollback, refusal) is recorded in the store with
 * its reason and figures; a decision that changes the endpoint is recorded in the same transaction.
 * Never prints. */
#ifndef OC_MONITOR_PROMOTE_H
#define OC_MONITOR_PROMOTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "pipeline/train.h"
#include "store/store.h"

typedef enum oc_challenger_mode { OC_CHALLENGER_SHADOW, OC_CHALLENGER_VARIANT } oc_challenger_mode;

typedef struct oc_promote_options {
  const char *endpoint;        /* required */
  int64_t now;                 /* the clock, Unix seconds: decisions' time and scoring's */
  size_t horizon;              /* the forecast step compared, 1..OC_STORED_FORECAST_MAX_POINTS (default 1) */
  oc_challenger_mode mode;     /* how a new challenger is deployed (default shadow) */
  double challenger_weight;    /* variant mode: its traffic share, in (0, 0.5) (default 0.1) */
  double degrade_rel_mae;      /* the champion's relMAE above which it is retrained (default 1.1) ... */
  size_t degrade_origins;      /* ... over this many latest scored origins, M (default 10) */
  double drift_psi;            /* the champion's input PSI above which it is retrained (default 0.25, the
                                * "significant" band; 0 turns drift triggers off) ... */
  size_t drift_recent;         /* ... over this many latest values (default OC_DRIFT_RECENT_DEFAULT) */
  size_t min_origins;          /* N: paired origins before a challenger may be promoted (default 20) */
  size_t max_origins;          /* paired origins after which an unproven challenger is refused (default 60) */
  double max_p;                /* the one-sided Diebold-Mariano p-value it must beat (default 0.05) */
  double rollback_rel_mae;     /* a promoted version's relMAE above which it is rolled back (default 1.25) ... */
  size_t rollback_origins;     /* ... over this many latest scored origins since its promotion (default 10) */
  const oc_train_options *train; /* the training options a challenger starts from (NULL: the defaults);
                                  * its model and series are the champion's */
} oc_promote_options;

oc_promote_options oc_promote_options_default(void);

typedef struct oc_promote_result {
  int64_t champion, challenger;      /* after the run; 0 for none */
  oc_promotion_decision *decisions;  /* recorded by this call, oldest first */
  size_t n;
  int64_t scored;                    /* forecast points scored by this call */
  size_t forecasts;                  /* forecasts stored by this call */
} oc_promote_result;

void oc_promote_result_free(oc_promote_result *r);

/* One run of the loop (above). OC_PIPELINE_BAD_OPTION (pipeline.h) for options out of range. */
int oc_monitor_promote(const char *data_dir, oc_store *store, const oc_promote_options *opt, oc_promote_result *out,
                       oc_error *err);

/* A trigger now (trigger "schedule" from a scheduled job, or "manual"): trains and deploys a
 * challenger, or records a refusal when one is under evaluation; then forecasts as a run does. */
int oc_monitor_retrain(const char *data_dir, oc_store *store, const oc_promote_options *opt, const char *trigger,
                       oc_promote_result *out, oc_error *err);

/* An operator's promotion of a registered version of the endpoint's series, bypassing the rule
 * (recorded as such, reason given; a challenger under evaluation is retired); the version is then watched for rollback like any
 * promoted one. */
int oc_monitor_promote_version(const char *data_dir, oc_store *store, const oc_promote_options *opt, int64_t version,
                               const char *reason, oc_promote_result *out, oc_error *err);

/* An Alertmanager v4 webhook payload ({"version":"4","status","receiver","alerts":[{"status",
 * "labels","annotations","startsAt","fingerprint"}],...}). Every firing alert labelled action="retrain"
 * and endpoint=NAME (an existing endpoint) leaves a pending trigger for that endpoint's next run and is
 * recorded as a "trigger" decision, once per firing (fingerprint and startsAt: Alertmanager's repeats
 * of it are ignored); *accepted lists them ({"endpoint","alertname","fingerprint"}) and
 * *ignored the other alerts with why (both new references). OC_PIPELINE_BAD_OPTION for a payload that
 * is not v4, -1 when the store fails. */
int oc_monitor_alerts_receive(oc_store *store, const json_t *payload, int64_t now, json_t **accepted,
                              json_t **ignored, oc_error *err);

/* A decision as JSON ({"id","endpoint","at","action","trigger","version","champion","reason",
 * "figures"}): the shape the CLI's json and the API share. */
json_t *oc_promotion_decision_json(const oc_promotion_decision *d);

#endif
