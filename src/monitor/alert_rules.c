/* alert_rules.c: reads the rules file of monitor/alerts.h (DIR/alerts.json) into oc_alert_rules,
 * checking every field (a key it does not know is refused: a misspelt optional one would take its
 * default); errors name the file and the rule or webhook. Knows nothing of figures, the store or
 * delivery. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "monitor/alerts.h"

#define MAX_RETRIES 10

/* "90s", "15m", "2h", "3d", "250ms" or "0": seconds scaled to ms; -1 otherwise. */
static int64_t duration_ms(const char *text) {
  static const struct {
    const char *unit;
    int64_t ms;
  } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  char *end;
  errno = 0;
  long long n = strtoll(text, &end, 10);
  if (end == text || errno || n < 0 || *text == '+' || *text == '-' || n > 366LL * 86400) return -1;
  if (!*end) return n == 0 ? 0 : -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(end, units[i].unit) == 0) return n * units[i].ms;
  return -1;
}

/* An object whose every value is a string; NULL absent is an empty object. */
static int string_object(json_t *value, json_t **out, const char *what, oc_error *err) {
  if (!value) {
    *out = json_object();
    return 0;
  }
  const char *key;
  json_t *v;
  if (!json_is_object(value)) return oc_error_set(err, "%s must be an object of strings", what);
  json_object_foreach(value, key, v) {
    if (!json_is_string(v)) return oc_error_set(err, "%s.%s must be a string", what, key);
  }
  *out = json_incref(value);
  return 0;
}

static const char *const root_keys[] = {"external_url", "webhooks", "rules", NULL};
static const char *const webhook_keys[] = {"name", "url", "timeout", "retries", "backoff", "credentials_file", NULL};
static const char *const rule_keys[] = {"alert", "metric", "match", "above", "below", "for", "severity", "labels",
                                        "annotations", NULL};

/* where: "unknown key" when obj has a member keys does not list. */
static int known_keys(json_t *obj, const char *const *keys, const char *where, oc_error *err) {
  const char *unknown = oc_json_unknown_member(obj, keys);
  if (!unknown) return 0;
  oc_buf known = {0};
  for (size_t k = 0; keys[k]; k++) oc_buf_printf(&known, "%s%s", k ? ", " : "", keys[k]);
  oc_error_set(err, "%s%sunknown key \"%s\" (known: %s)", where, *where ? ": " : "", unknown, known.data);
  oc_buf_free(&known);
  return -1;
}

static const char *string_field(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int duration_field(json_t *obj, const char *key, int64_t dflt, int64_t *ms, const char *where, oc_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) {
    *ms = dflt;
    return 0;
  }
  if (!json_is_string(v) || (*ms = duration_ms(json_string_value(v))) < 0)
    return oc_error_set(err, "%s: \"%s\" must be a duration such as \"90s\", \"15m\", \"2h\" or \"3d\"", where, key);
  return 0;
}

static int parse_webhook(json_t *w, size_t i, oc_alert_webhook *out, oc_error *err) {
  char where[64];
  snprintf(where, sizeof where, "webhooks[%zu]", i);
  const char *name = string_field(w, "name"), *url = string_field(w, "url");
  if (!json_is_object(w) || !name || !*name) return oc_error_set(err, "%s needs a \"name\"", where);
  char named[128];
  snprintf(named, sizeof named, "%s (%s)", where, name);
  if (known_keys(w, webhook_keys, named, err) != 0) return -1;
  if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
    return oc_error_set(err, "%s (%s): \"url\" must be an http:// or https:// URL", where, name);
  json_t *retries = json_object_get(w, "retries");
  if (retries && (!json_is_integer(retries) || json_integer_value(retries) < 0 || json_integer_value(retries) > MAX_RETRIES))
    return oc_error_set(err, "%s (%s): \"retries\" must be a whole number in 0..%d", where, name, MAX_RETRIES);
  out->retries = retries ? (int)json_integer_value(retries) : 3;
  if (duration_field(w, "timeout", 10000, &out->timeout_ms, where, err) != 0 ||
      duration_field(w, "backoff", 1000, &out->backoff_ms, where, err) != 0)
    return -1;
  if (out->timeout_ms == 0) return oc_error_set(err, "%s (%s): \"timeout\" must be more than 0", where, name);
  json_t *credentials = json_object_get(w, "credentials_file");
  if (credentials && (!json_is_string(credentials) || !*json_string_value(credentials)))
    return oc_error_set(err, "%s (%s): \"credentials_file\" must be a file name", where, name);
  out->name = strdup(name);
  out->url = strdup(url);
  out->credentials_file = credentials ? strdup(json_string_value(credentials)) : NULL;
  return 0;
}

static void rule_free(oc_alert_rule *r) {
  free(r->metric);
  free(r->severity);
  json_decref(r->match);
  json_decref(r->labels);
  json_decref(r->annotations);
}

static int parse_rule(json_t *r, size_t i, oc_alert_rule *out, oc_error *err) {
  char where[OC_ALERT_RULE_MAX + 32];
  const char *alert = string_field(r, "alert"), *metric = string_field(r, "metric");
  const char *severity = string_field(r, "severity");
  if (!json_is_object(r) || !alert || !*alert || strlen(alert) > OC_ALERT_RULE_MAX)
    return oc_error_set(err, "rules[%zu] needs an \"alert\" name of 1..%d characters", i, OC_ALERT_RULE_MAX);
  snprintf(out->alert, sizeof out->alert, "%s", alert);
  snprintf(where, sizeof where, "rule %s", alert);
  if (known_keys(r, rule_keys, where, err) != 0) return -1;
  if (!metric || !*metric) return oc_error_set(err, "%s needs a \"metric\" (a figure's name)", where);
  json_t *above = json_object_get(r, "above"), *below = json_object_get(r, "below");
  json_t *threshold = above ? above : below;
  if (!above == !below || !json_is_number(threshold) || !isfinite(json_number_value(threshold)))
    return oc_error_set(err, "%s needs one threshold: \"above\" or \"below\" and a number", where);
  out->above = above != NULL;
  out->threshold = json_number_value(threshold);
  int64_t for_ms;
  if (duration_field(r, "for", 0, &for_ms, where, err) != 0) return -1;
  out->for_seconds = (for_ms + 999) / 1000; /* at least as long as asked: "250ms" is not 0 (firing at once) */
  char what[OC_ALERT_RULE_MAX + 48];
  snprintf(what, sizeof what, "%s: \"match\"", where);
  if (string_object(json_object_get(r, "match"), &out->match, what, err) != 0) return -1;
  snprintf(what, sizeof what, "%s: \"labels\"", where);
  if (string_object(json_object_get(r, "labels"), &out->labels, what, err) != 0) return -1;
  if (json_object_get(out->labels, "alertname") || json_object_get(out->labels, "severity"))
    return oc_error_set(err, "%s: \"labels\" may not set alertname or severity (the rule's \"alert\" and \"severity\" do)", where);
  snprintf(what, sizeof what, "%s: \"annotations\"", where);
  if (string_object(json_object_get(r, "annotations"), &out->annotations, what, err) != 0) return -1;
  out->metric = strdup(metric);
  out->severity = strdup(severity && *severity ? severity : "warning");
  return 0;
}

/* The rule's metric is a figure, and each label it matches is one of that figure's. */
static int check_figure(const oc_alert_rule *r, oc_error *err) {
  const char *const *labels = oc_monitor_figure_labels(r->metric);
  oc_buf known = {0};
  if (!labels) {
    for (size_t k = 0; oc_monitor_figure_kinds[k].metric; k++)
      oc_buf_printf(&known, "%s%s", k ? ", " : "", oc_monitor_figure_kinds[k].metric);
    oc_error_set(err, "rule %s: \"metric\" %s is not a figure (one of %s)", r->alert, r->metric, known.data);
    oc_buf_free(&known);
    return -1;
  }
  const char *unknown = oc_json_unknown_member(r->match, labels);
  if (!unknown) return 0;
  for (size_t k = 0; labels[k]; k++) oc_buf_printf(&known, "%s%s", k ? ", " : "", labels[k]);
  oc_error_set(err, "rule %s: \"match\" names %s, a label %s does not have (its labels: %s)", r->alert, unknown,
               r->metric, known.data);
  oc_buf_free(&known);
  return -1;
}

static int parse_list(json_t *root, const char *key, size_t *count, oc_error *err) {
  json_t *list = json_object_get(root, key);
  if (list && !json_is_array(list)) return oc_error_set(err, "\"%s\" must be an array", key);
  *count = list ? json_array_size(list) : 0;
  return 0;
}

static int parse_root(json_t *root, oc_alert_rules *out, oc_error *err) {
  if (!json_is_object(root)) return oc_error_set(err, "the file must hold one JSON object");
  if (known_keys(root, root_keys, "", err) != 0) return -1;
  json_t *url = json_object_get(root, "external_url");
  if (url && !json_is_string(url)) return oc_error_set(err, "\"external_url\" must be a string");
  out->external_url = strdup(url ? json_string_value(url) : "");
  size_t nhooks = 0, nrules = 0;
  if (parse_list(root, "webhooks", &nhooks, err) != 0 || parse_list(root, "rules", &nrules, err) != 0) return -1;
  out->webhooks = calloc(nhooks ? nhooks : 1, sizeof *out->webhooks);
  out->rules = calloc(nrules ? nrules : 1, sizeof *out->rules);
  for (size_t i = 0; i < nhooks; i++, out->nwebhooks++)
    if (parse_webhook(json_array_get(json_object_get(root, "webhooks"), i), i, &out->webhooks[i], err) != 0) return -1;
  for (size_t i = 0; i < nrules; i++) {
    if (parse_rule(json_array_get(json_object_get(root, "rules"), i), i, &out->rules[i], err) != 0) {
      rule_free(&out->rules[i]); /* what it set before the field that was wrong */
      return -1;
    }
    out->nrules++; /* complete: oc_alert_rules_free frees it from here on */
    for (size_t j = 0; j < i; j++)
      if (strcmp(out->rules[j].alert, out->rules[i].alert) == 0)
        return oc_error_set(err, "rule %s is defined twice (rules[%zu] and rules[%zu])", out->rules[i].alert, j, i);
  }
  for (size_t i = 0; i < out->nrules; i++) /* a metric that is no figure, or a match on a label its */
    if (check_figure(&out->rules[i], err) != 0) return -1; /* figures lack, would never hold */
  return 0;
}

int oc_alert_rules_parse(const char *path, const char *text, oc_alert_rules *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) return oc_error_set(err, "%s:%d: %s", path, jerr.line, jerr.text);
  oc_error inner;
  int rc = parse_root(root, out, &inner);
  json_decref(root);
  if (rc != 0) {
    oc_alert_rules_free(out);
    return oc_error_set(err, "%s: %s", path, inner.message);
  }
  const char *slash = strrchr(path, '/');
  for (size_t i = 0; slash && i < out->nwebhooks; i++) {
    char *relative = out->webhooks[i].credentials_file;
    if (!relative || relative[0] == '/') continue;
    char *folder = strndup(path, (size_t)(slash - path));
    out->webhooks[i].credentials_file = oc_path_join(folder, relative);
    free(folder);
    free(relative);
  }
  return 0;
}

int oc_alert_rules_read(const char *path, oc_alert_rules *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (!oc_path_exists(path)) {
    out->external_url = strdup("");
    return 0;
  }
  char *text;
  size_t len;
  if (oc_read_file(path, &text, &len, err) != 0) return -1;
  int rc = oc_alert_rules_parse(path, text, out, err);
  free(text);
  return rc;
}

void oc_alert_rules_free(oc_alert_rules *rules) {
  for (size_t i = 0; i < rules->nwebhooks; i++) {
    free(rules->webhooks[i].name);
    free(rules->webhooks[i].url);
    free(rules->webhooks[i].credentials_file);
  }
  for (size_t i = 0; i < rules->nrules; i++) rule_free(&rules->rules[i]);
  free(rules->webhooks);
  free(rules->rules);
  free(rules->external_url);
  memset(rules, 0, sizeof *rules);
}
