/* alerts.h: alert rules over the monitor's figures (monitor/health.h), their evaluator, and delivery
 * to webhooks in Alertmanager's webhook format (version 4).
 *
 * The rules file is DIR/alerts.json (docs/monitoring.md documents it; deploy/prometheus/oilcast-rules.yml
 * holds the same rules for Prometheus):
 *   {"external_url": "http://oilcast.example:8080",
 *    "webhooks": [{"name": "ops", "url": "http://127.0.0.1:9093/hook",
 *                  "timeout": "5s", "retries": 3, "backoff": "1s"}],
 *    "rules": [{"alert": "ForecastDegraded", "metric": "oilcast_forecast_rel_mae",
 *               "match": {"window": "20"}, "above": 1.2, "for": "2d", "severity": "warning",
 *               "labels": {"team": "forecasting"},
 *               "annotations": {"summary": "relMAE {{ $value }} on {{ $labels.endpoint }}"}}]}
 * A rule watches every figure of its metric whose labels include `match`, and holds for a figure when
 * its value is above (or below) the threshold; NaN never holds.
 *
 * The evaluator, for each (rule, figure) that holds, keeps one alert named by its fingerprint (the
 * first 16 hex digits of the SHA-256 of its sorted labels: alertname, severity, the figure's labels,
 * the rule's labels), so a condition that keeps holding is one alert, never a second:
 *   - new (or resolved before): pending since now; firing at once when `for` is 0; resolved, but the
 *     webhooks not told so yet: firing on (for them it never stopped);
 *   - pending for at least `for`: firing;
 *   - a pending alert whose condition stops holding is dropped (resolved, nothing sent: it never fired);
 *   - a firing alert whose condition stops holding (or whose rule is gone): resolved.
 * Every state change is kept in the store's alert history. Firing and resolved alerts not yet told to
 * the webhooks are then sent, one POST per webhook and rule (the group: alertname), retried with
 * doubling backoff on a transport failure, 429 or 5xx; an alert is marked told only when every
 * webhook took it, so a delivery that failed is tried again at the next evaluation.
 * Time comes from the caller (the scheduler's clock), so tests run on a simulated one. Prints nothing. */
#ifndef OC_MONITOR_ALERTS_H
#define OC_MONITOR_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "monitor/health.h"
#include "store/store.h"

#define OC_ALERTS_FILE "alerts.json"

typedef struct oc_alert_webhook {
  char *name, *url;
  int64_t timeout_ms;
  int retries;        /* after the first attempt, 0..10 */
  int64_t backoff_ms; /* before the first retry, doubled for each next one */
  char *credentials_file; /* NULL, or a file whose text (trimmed) is sent as "Authorization: Bearer ...",
                           * read at each delivery (a key rotated in the file is used at once); a
                           * relative path is resolved against the rules file's folder */
} oc_alert_webhook;

typedef struct oc_alert_rule {
  char alert[OC_ALERT_RULE_MAX + 1];
  char *metric;
  json_t *match;       /* object of strings the figure's labels must include */
  bool above;          /* holds when value > threshold (else value < threshold) */
  double threshold;
  int64_t for_seconds; /* pending this long before firing */
  char *severity;
  json_t *labels, *annotations; /* objects of strings */
} oc_alert_rule;

typedef struct oc_alert_rules {
  char *external_url; /* "" when not given */
  oc_alert_webhook *webhooks;
  size_t nwebhooks;
  oc_alert_rule *rules;
  size_t nrules;
} oc_alert_rules;

/* Reads path; a file that does not exist is no rules and no webhooks. Errors name the file and the
 * rule or webhook (and the JSON line for a syntax error). */
int oc_alert_rules_read(const char *path, oc_alert_rules *out, oc_error *err);
int oc_alert_rules_parse(const char *path, const char *text, oc_alert_rules *out, oc_error *err);
void oc_alert_rules_free(oc_alert_rules *rules);

typedef struct oc_alerts_options {
  int64_t now; /* Unix seconds: the evaluation's moment */
} oc_alerts_options;

typedef struct oc_alerts_result {
  size_t rules, figures;          /* evaluated */
  size_t pending, firing;         /* alerts in each state after the evaluation */
  size_t changed;                 /* state changes recorded */
  size_t notifications;           /* POSTs that a webhook accepted */
  size_t undelivered;             /* alerts still owed to the webhooks (a webhook failed) */
  char delivery_error[512];       /* the last delivery failure ("" none) */
} oc_alerts_result;

/* Evaluates DIR/alerts.json at opt->now against the figures of the store, records the alerts' states,
 * and delivers what the webhooks have not been told. A webhook that fails is not an error here (see
 * out->undelivered): the store and rule problems are. */
int oc_alerts_evaluate(const char *data_dir, oc_store *store, const oc_alerts_options *opt, oc_alerts_result *out,
                       oc_error *err);

/* The Alertmanager v4 webhook payload for one receiver and one group of alerts (all of one rule). */
json_t *oc_alerts_payload(const char *receiver, const char *external_url, const oc_alert *alerts, size_t n);

/* An alert as the API and `oilcast alerts list --format json` show it. */
json_t *oc_alert_json(const oc_alert *alert);
json_t *oc_alert_event_json(const oc_alert_event *event);

#endif
