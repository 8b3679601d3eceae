/* alerts.c: the evaluator and the webhook delivery of alerts.h. State lives in the store (one row per
 * fingerprint); nothing is kept in memory between evaluations. */
#include "monitor/alerts.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/sha256.h"

/* Alertmanager's zero time: the endsAt of an alert that has not ended. */
#define ZERO_TIME "0001-01-01T00:00:00Z"

static int by_key(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The first 16 hex digits of SHA-256 over "name\xffvalue\xff" for every label, sorted by name. */
static void fingerprint(const json_t *labels, char out[OC_ALERT_FINGERPRINT_LEN + 1]) {
  size_t n = json_object_size(labels), i = 0;
  const char **keys = malloc((n ? n : 1) * sizeof *keys);
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)labels, key, v) keys[i++] = key;
  qsort(keys, n, sizeof *keys, by_key);
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  for (i = 0; i < n; i++) {
    const char *value = json_string_value(json_object_get(labels, keys[i]));
    oc_sha256_update(&ctx, keys[i], strlen(keys[i]));
    oc_sha256_update(&ctx, "\xff", 1);
    oc_sha256_update(&ctx, value, strlen(value));
    oc_sha256_update(&ctx, "\xff", 1);
  }
  free(keys);
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  char hex[65];
  oc_hex_encode(digest, 32, hex);
  memcpy(out, hex, OC_ALERT_FINGERPRINT_LEN);
  out[OC_ALERT_FINGERPRINT_LEN] = '\0';
}

static bool labels_include(const json_t *labels, const json_t *match) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)match, key, v) {
    const char *have = json_string_value(json_object_get(labels, key));
    if (!have || strcmp(have, json_string_value(v)) != 0) return false;
  }
  return true;
}

static bool holds(const oc_alert_rule *r, double value) {
  return !isnan(value) && (r->above ? value > r->threshold : value < r->threshold);
}

/* text with "{{ $value }}" and "{{ $labels.NAME }}" replaced (Prometheus' spelling, so an annotation
 * reads the same in both rule files); anything else is kept as written. */
static char *expand(const char *text, const json_t *labels, double value) {
  oc_buf out = {0};
  oc_buf_puts(&out, "");
  for (const char *p = text; *p;) {
    const char *open = strstr(p, "{{"), *close = open ? strstr(open, "}}") : NULL;
    if (!close) {
      oc_buf_puts(&out, p);
      break;
    }
    oc_buf_append(&out, p, (size_t)(open - p));
    char inner[128];
    const char *a = open + 2, *b = close;
    while (a < b && *a == ' ') a++;
    while (b > a && b[-1] == ' ') b--;
    snprintf(inner, sizeof inner, "%.*s", (int)(b - a), a);
    const char *label = strncmp(inner, "$labels.", 8) == 0 ? json_string_value(json_object_get(labels, inner + 8)) : NULL;
    if (strcmp(inner, "$value") == 0) oc_buf_printf(&out, "%.6g", value);
    else if (label) oc_buf_puts(&out, label);
    else oc_buf_append(&out, open, (size_t)(close + 2 - open));
    p = close + 2;
  }
  return oc_buf_steal(&out);
}

static json_t *merged_labels(const oc_alert_rule *r, const json_t *figure_labels) {
  json_t *labels = json_pack("{s:s, s:s}", "alertname", r->alert, "severity", r->severity);
  json_object_update(labels, (json_t *)figure_labels);
  json_object_update(labels, r->labels);
  return labels;
}

static json_t *expanded_annotations(const oc_alert_rule *r, const json_t *labels, double value) {
  json_t *out = json_object();
  const char *key;
  json_t *v;
  json_object_foreach(r->annotations, key, v) {
    char *text = expand(json_string_value(v), labels, value);
    json_object_set_new(out, key, json_string(text));
    free(text);
  }
  return out;
}

static oc_alert *find_alert(oc_alert *alerts, size_t n, const char *fp) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(alerts[i].fingerprint, fp) == 0) return &alerts[i];
  return NULL;
}

static void set_state(oc_alert *a, const char *state) { snprintf(a->state, sizeof a->state, "%s", state); }

static void replace_json(char **field, const json_t *value) {
  free(*field);
  *field = oc_json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
}

/* Applies one (rule, figure) that holds at now to the stored alerts (appending a new one), saving any
 * state change (an event in the history) and any new value or annotations of an alert that stays as
 * it was (no event: `alerts list` shows the figure of the latest evaluation, not the one it fired with).
 * seen[i] marks the stored alerts a holding figure still backs. */
static int apply_holding(oc_store *store, const oc_alert_rule *r, const oc_figure *f, int64_t now, oc_alert **alerts,
                         size_t *n, size_t *cap, bool **seen, oc_alerts_result *out, oc_error *err) {
  json_t *labels = merged_labels(r, f->labels);
  char fp[OC_ALERT_FINGERPRINT_LEN + 1];
  fingerprint(labels, fp);
  oc_alert *a = find_alert(*alerts, *n, fp);
  bool changed = false;
  if (a && strcmp(a->state, "resolved") == 0 && strcmp(a->notified, "firing") == 0) {
    /* its resolution never reached the webhooks: for them it is still firing, and it fires on (pending
     * anew, it could be dropped unannounced and the webhooks would keep it firing for ever) */
    set_state(a, "firing");
    a->resolved_at = 0;
    changed = true;
  } else if (!a || strcmp(a->state, "resolved") == 0) {
    if (!a) {
      oc_xgrow((void **)alerts, cap, *n + 1, sizeof **alerts);
      *seen = realloc(*seen, *cap * sizeof **seen);
      a = &(*alerts)[(*n)++];
      memset(a, 0, sizeof *a);
      memcpy(a->fingerprint, fp, sizeof fp);
    }
    snprintf(a->rule, sizeof a->rule, "%s", r->alert);
    set_state(a, "pending");
    a->active_since = now;
    a->fired_at = a->resolved_at = 0;
    a->notified[0] = '\0';
    changed = true;
  }
  if (strcmp(a->state, "pending") == 0 && now - a->active_since >= r->for_seconds) {
    set_state(a, "firing");
    a->fired_at = now;
    changed = true;
  }
  (*seen)[a - *alerts] = true;
  char *before = a->annotations_json;
  a->annotations_json = NULL;
  bool moved = a->value != f->value;
  a->value = f->value;
  json_t *annotations = expanded_annotations(r, labels, f->value);
  replace_json(&a->labels_json, labels);
  replace_json(&a->annotations_json, annotations);
  moved |= !before || strcmp(before, a->annotations_json) != 0;
  free(before);
  json_decref(labels);
  json_decref(annotations);
  if (!changed) return moved ? oc_store_alert_save(store, a, false, err) : 0;
  a->updated_at = now;
  out->changed++;
  return oc_store_alert_save(store, a, true, err);
}

/* A stored pending or firing alert no holding figure backs any more: resolved (a pending one owes the
 * webhooks nothing: it never fired). */
static int resolve(oc_store *store, oc_alert *a, int64_t now, oc_alerts_result *out, oc_error *err) {
  bool was_firing = strcmp(a->state, "firing") == 0;
  set_state(a, "resolved");
  a->resolved_at = a->updated_at = now;
  if (!was_firing) snprintf(a->notified, sizeof a->notified, "resolved");
  out->changed++;
  return oc_store_alert_save(store, a, true, err);
}

static char *timestamp(int64_t t, char *buf) { return t ? oc_timestamp_format(t, buf) : strcpy(buf, ZERO_TIME); }

static json_t *parsed_object(const char *text) {
  json_t *j = text ? json_loads(text, 0, NULL) : NULL;
  return j ? j : json_object();
}

/* The pairs every object of objs shares (key and value). */
static json_t *common_pairs(json_t *const *objs, size_t n) {
  json_t *common = n ? json_deep_copy(objs[0]) : json_object();
  for (size_t i = 1; i < n; i++) {
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(common, tmp, key, v) {
      if (!json_equal(v, json_object_get(objs[i], key))) json_object_del(common, key);
    }
  }
  return common;
}

json_t *oc_alerts_payload(const char *receiver, const char *external_url, const oc_alert *alerts, size_t n) {
  assert(n > 0);
  json_t *list = json_array();
  json_t **labels = calloc(n, sizeof *labels), **annotations = calloc(n, sizeof *annotations);
  bool any_firing = false;
  for (size_t i = 0; i < n; i++) {
    const oc_alert *a = &alerts[i];
    char starts[OC_TIMESTAMP_STRLEN + 4], ends[OC_TIMESTAMP_STRLEN + 4];
    bool firing = strcmp(a->state, "firing") == 0;
    any_firing |= firing;
    labels[i] = parsed_object(a->labels_json);
    annotations[i] = parsed_object(a->annotations_json);
    char *generator = *external_url ? NULL : strdup("");
    if (!generator) {
      oc_buf url = {0};
      oc_buf_printf(&url, "%s/v1/alerts?fingerprint=%s", external_url, a->fingerprint);
      generator = oc_buf_steal(&url);
    }
    json_array_append_new(list, json_pack("{s:s, s:O, s:O, s:s, s:s, s:s, s:s}", "status", firing ? "firing" : "resolved",
                                          "labels", labels[i], "annotations", annotations[i], "startsAt",
                                          timestamp(a->fired_at, starts), "endsAt",
                                          timestamp(firing ? 0 : a->resolved_at, ends), "generatorURL", generator,
                                          "fingerprint", a->fingerprint));
    free(generator);
  }
  const char *alertname = json_string_value(json_object_get(labels[0], "alertname"));
  oc_buf group_key = {0};
  oc_buf_printf(&group_key, "{}:{alertname=\"%s\"}", alertname ? alertname : "");
  json_t *payload = json_pack(
      "{s:s, s:s, s:o, s:{s:s}, s:o, s:o, s:s, s:s, s:s, s:i}", "receiver", receiver, "status",
      any_firing ? "firing" : "resolved", "alerts", list, "groupLabels", "alertname", alertname ? alertname : "",
      "commonLabels", common_pairs(labels, n), "commonAnnotations", common_pairs(annotations, n), "externalURL",
      external_url, "version", "4", "groupKey", group_key.data, "truncatedAlerts", 0);
  oc_buf_free(&group_key);
  for (size_t i = 0; i < n; i++) {
    json_decref(labels[i]);
    json_decref(annotations[i]);
  }
  free(labels);
  free(annotations);
  return payload;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* POSTs body to the webhook, retrying with doubling backoff while the failure may pass. */
static int post(const oc_alert_webhook *w, const char *body, oc_error *err) {
  char authorization[600] = "";
  const char *headers[] = {"Content-Type: application/json", NULL, NULL};
  if (w->credentials_file) {
    char *token;
    size_t len;
    if (oc_read_file(w->credentials_file, &token, &len, err) != 0)
      return oc_error_prefix(err, "webhook %s: its credentials_file: ", w->name);
    while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' ')) token[--len] = '\0';
    int fits = len && len < 512 && !memchr(token, '\n', len);
    if (fits) snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", token);
    free(token);
    if (!fits) return oc_error_set(err, "webhook %s: %s must hold one token of 1..511 bytes", w->name, w->credentials_file);
    headers[1] = authorization;
  }
  int64_t backoff = w->backoff_ms;
  for (int attempt = 0;; attempt++) {
    oc_http_response resp = {0};
    oc_http_request req = {.method = "POST", .url = w->url, .headers = headers, .body = body,
                           .timeout_ms = (long)w->timeout_ms};
    oc_error e;
    int rc = oc_http_exchange(&req, &resp, &e);
    long status = resp.status;
    bool retry = rc != 0 ? resp.transient : status == 429 || status >= 500;
    oc_http_response_free(&resp);
    if (rc == 0 && status >= 200 && status < 300) return 0;
    if (rc == 0) oc_error_set(&e, "webhook %s (%s) answered HTTP %ld", w->name, w->url, status);
    if (!retry || attempt >= w->retries) {
      oc_error_set(err, "%s (after %d attempt%s)", e.message, attempt + 1, attempt ? "s" : "");
      return -1;
    }
    sleep_ms(backoff);
    backoff *= 2;
  }
}

/* Sends the alerts owed to the webhooks (firing or resolved, not told yet), one POST per webhook and
 * rule; marks each group told when every webhook took it. */
static int deliver(oc_store *store, const oc_alert_rules *rules, oc_alert *alerts, size_t n, oc_alerts_result *out,
                   oc_error *err) {
  oc_alert *group = calloc(n ? n : 1, sizeof *group);
  bool *done = calloc(n ? n : 1, sizeof *done);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (done[i] || strcmp(alerts[i].state, "pending") == 0 || strcmp(alerts[i].state, alerts[i].notified) == 0) continue;
    size_t m = 0;
    for (size_t j = i; j < n; j++) {
      if (done[j] || strcmp(alerts[j].rule, alerts[i].rule) != 0 || strcmp(alerts[j].state, "pending") == 0 ||
          strcmp(alerts[j].state, alerts[j].notified) == 0)
        continue;
      done[j] = true;
      group[m++] = alerts[j]; /* shallow: the strings stay alerts[j]'s */
    }
    bool all = true; /* no webhook: nothing is owed */
    for (size_t w = 0; w < rules->nwebhooks; w++) {
      json_t *payload = oc_alerts_payload(rules->webhooks[w].name, rules->external_url, group, m);
      char *body = oc_json_dumps(payload, JSON_COMPACT);
      json_decref(payload);
      oc_error e;
      if (post(&rules->webhooks[w], body, &e) == 0) {
        out->notifications++;
      } else {
        all = false;
        snprintf(out->delivery_error, sizeof out->delivery_error, "%s", e.message);
      }
      free(body);
    }
    for (size_t j = i; j < n && rc == 0; j++) {
      if (!done[j] || strcmp(alerts[j].rule, alerts[i].rule) != 0 || strcmp(alerts[j].state, alerts[j].notified) == 0)
        continue;
      if (!all) {
        out->undelivered++;
        continue;
      }
      snprintf(alerts[j].notified, sizeof alerts[j].notified, "%s", alerts[j].state);
      rc = oc_store_alert_save(store, &alerts[j], false, err);
    }
  }
  free(group);
  free(done);
  return rc;
}

/* The alerts' state changes of one evaluation are one transaction, from reading the stored alerts to
 * the last change: all or none are recorded, and an evaluation running beside it (a job step and a
 * manual `alerts evaluate`) cannot interleave with it. Delivery, with its network waits, comes after
 * the commit. */
static int evaluate(oc_store *store, const oc_alert_rules *rules, const oc_figures *figures, int64_t now,
                    oc_alerts_result *out, oc_error *err) {
  oc_alert *alerts;
  size_t n;
  if (oc_store_begin(store, err) != 0) return -1;
  if (oc_store_alerts_list(store, NULL, &alerts, &n, err) != 0) {
    oc_error rollback_err;
    oc_store_rollback(store, &rollback_err);
    return -1;
  }
  size_t cap = n;
  bool *seen = calloc(n ? n : 1, sizeof *seen);
  int rc = 0;
  for (size_t r = 0; r < rules->nrules && rc == 0; r++) {
    const oc_alert_rule *rule = &rules->rules[r];
    for (size_t i = 0; i < figures->n && rc == 0; i++) {
      const oc_figure *f = &figures->items[i];
      if (strcmp(f->metric, rule->metric) == 0 && labels_include(f->labels, rule->match) && holds(rule, f->value))
        rc = apply_holding(store, rule, f, now, &alerts, &n, &cap, &seen, out, err);
    }
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    bool active = strcmp(alerts[i].state, "resolved") != 0;
    if (active && !seen[i]) rc = resolve(store, &alerts[i], now, out, err);
  }
  if (rc == 0) {
    rc = oc_store_commit(store, err);
  } else {
    oc_error rollback_err;
    oc_store_rollback(store, &rollback_err);
  }
  for (size_t i = 0; i < n; i++) {
    out->pending += strcmp(alerts[i].state, "pending") == 0;
    out->firing += strcmp(alerts[i].state, "firing") == 0;
  }
  if (rc == 0) rc = deliver(store, rules, alerts, n, out, err);
  free(seen);
  oc_alert_list_free(alerts, n);
  return rc;
}

int oc_alerts_evaluate(const char *data_dir, oc_store *store, const oc_alerts_options *opt, oc_alerts_result *out,
                       oc_error *err) {
  memset(out, 0, sizeof *out);
  char *path = oc_path_join(data_dir, OC_ALERTS_FILE);
  oc_alert_rules rules;
  int rc = oc_alert_rules_read(path, &rules, err);
  free(path);
  if (rc != 0) return -1;
  oc_figures figures;
  if (oc_monitor_figures(data_dir, store, opt->now, &figures, err) != 0) {
    oc_alert_rules_free(&rules);
    return -1;
  }
  out->rules = rules.nrules;
  out->figures = figures.n;
  rc = evaluate(store, &rules, &figures, opt->now, out, err);
  oc_figures_free(&figures);
  oc_alert_rules_free(&rules);
  return rc;
}

static json_t *time_or_null(int64_t t) {
  char buf[OC_TIMESTAMP_STRLEN];
  return t ? json_string(oc_timestamp_format(t, buf)) : json_null();
}

json_t *oc_alert_json(const oc_alert *a) {
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "fingerprint", a->fingerprint, "rule",
                   a->rule, "state", a->state, "labels", parsed_object(a->labels_json), "annotations",
                   parsed_object(a->annotations_json), "value", oc_json_number(a->value), "active_since",
                   time_or_null(a->active_since), "fired_at", time_or_null(a->fired_at), "resolved_at",
                   time_or_null(a->resolved_at), "updated_at", time_or_null(a->updated_at), "delivered",
                   strcmp(a->state, "pending") == 0 || strcmp(a->state, a->notified) == 0);
}

json_t *oc_alert_event_json(const oc_alert_event *e) {
  return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)e->id, "fingerprint", e->fingerprint,
                   "rule", e->rule, "state", e->state, "value", oc_json_number(e->value), "at", time_or_null(e->at),
                   "labels", parsed_object(e->labels_json));
}
