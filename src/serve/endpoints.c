/* endpoints.c: the endpoint table, snapshot building (reusing already loaded models, the shadow
 * challenger's included), persistence with previous configurations (in the store, through the
 * registry: the one record of what an endpoint serves; no file), the pointer swap, and the
 * deterministic A/B pick. A shadow challenger that fails to load must not fail its endpoint.
 * Locks: `lock` is held only to read or swap a slot's pointer (never while loading or writing);
 * `write_lock` serialises changes (PUT, rollback) end to end. */
#include "serve/endpoints.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/lock.h"
#include "core/log.h"
#include "model/registry.h"
#include "pipeline/forecast.h"

typedef struct slot {
  char name[128];
  oc_endpoint_snapshot *current; /* NULL when loading failed */
  char problem[600];
  json_t *previous; /* array of earlier configurations, newest first (guarded by write_lock) */
} slot;

struct oc_endpoints {
  char *data_dir;
  oc_series_loader loader;
  oc_endpoint_store_lend lend;
  oc_endpoint_store_return give_back;
  void *loader_ctx;
  oc_lock lock, write_lock;
  slot *slots;
  size_t n, cap;
};

oc_endpoints *oc_endpoints_new(const char *data_dir, oc_series_loader loader, oc_endpoint_store_lend lend,
                               oc_endpoint_store_return give_back, void *ctx) {
  oc_endpoints *e = oc_xcalloc(1, sizeof *e);
  e->data_dir = oc_xstrdup(data_dir);
  e->loader = loader;
  e->lend = lend;
  e->give_back = give_back;
  e->loader_ctx = ctx;
  oc_lock_init(&e->lock);
  oc_lock_init(&e->write_lock);
  return e;
}

void oc_endpoint_snapshot_release(oc_endpoint_snapshot *snap) {
  if (!snap || atomic_fetch_sub(&snap->refs, 1) != 1) return;
  for (size_t i = 0; i < snap->spec.n_variants; i++) oc_served_model_release(snap->models[i]);
  oc_served_model_release(snap->shadow);
  free(snap);
}

void oc_endpoints_free(oc_endpoints *e) {
  if (!e) return;
  for (size_t i = 0; i < e->n; i++) {
    oc_endpoint_snapshot_release(e->slots[i].current);
    json_decref(e->slots[i].previous);
  }
  free(e->slots);
  oc_lock_destroy(&e->lock);
  oc_lock_destroy(&e->write_lock);
  free(e->data_dir);
  free(e);
}

static bool valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= 64) return false;
  for (const char *p = name; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.')) {
      return false;
    }
  }
  return name[0] != '.';
}

/* A variant's model: a version ("v3") or a model spec, non-empty and short enough to be kept whole. */
static bool valid_model_version(const json_t *version) {
  return json_is_string(version) && json_string_length(version) > 0 &&
         json_string_length(version) < sizeof(((oc_variant_spec *)0)->model_version);
}

int oc_endpoint_spec_parse(json_t *json, const char *name, oc_endpoint_spec *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (!valid_name(name)) {
    return oc_error_set(err, "endpoint name '%s': use 1..63 letters, digits, '-', '_' or '.'", name);
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  if (!json_is_object(json)) return oc_error_set(err, "endpoint %s: expected a JSON object", name);
  json_t *series = json_object_get(json, "series");
  if (series && !json_is_string(series)) return oc_error_set(err, "endpoint %s: 'series' must be a string", name);
  /* Without a series (the registry's deploy files) the endpoint forecasts what its model was trained on. */
  snprintf(out->series, sizeof out->series, "%s", series ? json_string_value(series) : "");
  json_t *variants = json_object_get(json, "variants");
  json_t *single = json_object_get(json, "model_version");
  if (!variants && json_is_string(single)) { /* {"model_version":"v3"}: one variant at 100% */
    if (!valid_model_version(single))
      return oc_error_set(err, "endpoint %s: model_version must be a version (\"v3\") or a model spec", name);
    out->n_variants = 1;
    snprintf(out->variants[0].name, sizeof out->variants[0].name, "primary");
    snprintf(out->variants[0].model_version, sizeof out->variants[0].model_version, "%s", json_string_value(single));
    out->variants[0].weight = 1;
    return 0;
  }
  size_t n = json_array_size(variants);
  if (!json_is_array(variants) || n == 0 || n > OC_ENDPOINT_MAX_VARIANTS) {
    return oc_error_set(err, "endpoint %s: 'variants' must be an array of 1..%d {\"name\",\"model_version\",\"weight\"}",
                        name, OC_ENDPOINT_MAX_VARIANTS);
  }
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(variants, i);
    json_t *vname = json_object_get(v, "name"), *version = json_object_get(v, "model_version"),
           *weight = json_object_get(v, "weight"), *registered = json_object_get(v, "version");
    if (!vname && !version && json_is_integer(registered)) { /* a deploy's {"model":"v3","version":3} */
      char label[32];
      snprintf(label, sizeof label, "v%lld", (long long)json_integer_value(registered));
      json_object_set_new(v, "name", json_string(label));
      json_object_set_new(v, "model_version", json_string(label));
      vname = json_object_get(v, "name");
      version = json_object_get(v, "model_version");
    }
    if (!json_is_string(vname) || !valid_name(json_string_value(vname))) {
      return oc_error_set(err, "endpoint %s: variants[%zu].name must be 1..63 letters, digits, '-', '_' or '.'", name, i);
    }
    if (!valid_model_version(version)) {
      return oc_error_set(err, "endpoint %s: variants[%zu].model_version must be a version (\"v3\") or a model spec", name, i);
    }
    double w = weight ? json_number_value(weight) : 1.0;
    if ((weight && !json_is_number(weight)) || !(w >= 0) || w > 1e6) {
      return oc_error_set(err, "endpoint %s: variants[%zu].weight must be a number >= 0", name, i);
    }
    oc_variant_spec *vs = &out->variants[i];
    snprintf(vs->name, sizeof vs->name, "%s", json_string_value(vname));
    snprintf(vs->model_version, sizeof vs->model_version, "%s", json_string_value(version));
    vs->weight = w;
    total += w;
    for (size_t k = 0; k < i; k++) {
      if (strcmp(out->variants[k].name, vs->name) == 0) {
        return oc_error_set(err, "endpoint %s: two variants are named '%s'", name, vs->name);
      }
    }
  }
  if (!(total > 0)) return oc_error_set(err, "endpoint %s: the variant weights add up to 0", name);
  out->n_variants = n;
  return 0;
}

static json_t *spec_variants_json(const oc_endpoint_spec *spec) {
  json_t *variants = json_array();
  for (size_t i = 0; i < spec->n_variants; i++) {
    json_array_append_new(variants, json_pack("{s:s,s:s,s:f}", "name", spec->variants[i].name, "model_version",
                                              spec->variants[i].model_version, "weight", spec->variants[i].weight));
  }
  return variants;
}

static json_t *config_json(const oc_endpoint_spec *spec, const char *updated_at) {
  return json_pack("{s:s,s:o,s:s}", "series", spec->series, "variants", spec_variants_json(spec), "updated_at",
                   updated_at);
}

/* A model already serving (version, series) somewhere, retained; NULL when none. Caller holds lock. */
static oc_served_model *find_loaded(oc_endpoints *e, const char *version, const char *series) {
  assert(oc_lock_held(&e->lock));
  for (size_t i = 0; i < e->n; i++) {
    oc_endpoint_snapshot *snap = e->slots[i].current;
    if (!snap || strcmp(snap->spec.series, series) != 0) continue;
    for (size_t v = 0; v < snap->spec.n_variants; v++) {
      if (strcmp(snap->spec.variants[v].model_version, version) == 0) {
        oc_served_model_retain(snap->models[v]);
        return snap->models[v];
      }
    }
    if (snap->shadow && strcmp(snap->shadow_version, version) == 0) {
      oc_served_model_retain(snap->shadow);
      return snap->shadow;
    }
  }
  return NULL;
}

/* The endpoint's shadow challenger as the store records it ("" for none, or when it cannot be read:
 * logged, and the endpoint serves without one). */
static void stored_shadow(oc_endpoints *e, const char *name, char version[64]) {
  oc_error err;
  oc_store *store = e->lend(e->loader_ctx, &err);
  int rc = store ? oc_forecast_shadow_version(store, name, version, &err) : -1;
  if (store) e->give_back(e->loader_ctx, store);
  if (rc != 0) {
    version[0] = '\0';
    oc_warn("serve: endpoint %s: its shadow challenger is not known: %s", name, err.message);
  }
}

/* The snapshot's shadow challenger: an already loaded model, or loaded now (outside the lock); a
 * failure is kept as the snapshot's shadow problem, never the endpoint's. */
static void load_shadow(oc_endpoints *e, oc_endpoint_snapshot *snap) {
  const oc_endpoint_spec *spec = &snap->spec;
  if (!snap->shadow_version[0]) return;
  for (size_t i = 0; i < spec->n_variants && !snap->shadow; i++) {
    if (strcmp(spec->variants[i].model_version, snap->shadow_version) == 0) {
      oc_served_model_retain(snap->models[i]);
      snap->shadow = snap->models[i];
    }
  }
  if (!snap->shadow) {
    oc_lock_acquire(&e->lock);
    snap->shadow = find_loaded(e, snap->shadow_version, spec->series);
    oc_lock_release(&e->lock);
  }
  if (snap->shadow) return;
  oc_error err;
  snap->shadow = oc_served_model_load(e->data_dir, snap->shadow_version, spec->series, e->loader, e->loader_ctx, &err);
  if (snap->shadow)
    oc_info("serve: endpoint %s: shadow challenger %s (%s) loaded in %.3f s", spec->name, snap->shadow_version,
            oc_served_model_kind(snap->shadow), oc_served_model_load_seconds(snap->shadow));
  else {
    snprintf(snap->shadow_problem, sizeof snap->shadow_problem, "%s", err.message);
    oc_err("serve: endpoint %s: shadow challenger %s not loaded (the endpoint serves without it): %s", spec->name,
           snap->shadow_version, err.message);
  }
}

/* Builds a snapshot for spec and its shadow challenger (shadow: "vN", "" for none): reuses loaded
 * models, loads the others (outside the lock). */
static oc_endpoint_snapshot *build_snapshot(oc_endpoints *e, const oc_endpoint_spec *spec, const char *updated_at,
                                            const char *shadow, oc_error *err) {
  oc_endpoint_snapshot *snap = oc_xcalloc(1, sizeof *snap);
  atomic_init(&snap->refs, 1);
  snap->spec = *spec;
  snprintf(snap->shadow_version, sizeof snap->shadow_version, "%s", shadow);
  if (!snap->spec.series[0] &&
      oc_served_model_default_series(e->data_dir, spec->variants[0].model_version, snap->spec.series,
                                     sizeof snap->spec.series, err) != 0) {
    free(snap);
    return NULL;
  }
  spec = &snap->spec;
  snprintf(snap->updated_at, sizeof snap->updated_at, "%s", updated_at);
  for (size_t i = 0; i < spec->n_variants; i++) {
    const char *version = spec->variants[i].model_version;
    for (size_t k = 0; k < i && !snap->models[i]; k++) {
      if (strcmp(spec->variants[k].model_version, version) == 0) {
        oc_served_model_retain(snap->models[k]);
        snap->models[i] = snap->models[k];
      }
    }
    if (!snap->models[i]) {
      oc_lock_acquire(&e->lock);
      snap->models[i] = find_loaded(e, version, spec->series);
      oc_lock_release(&e->lock);
    }
    if (snap->models[i]) continue;
    snap->models[i] = oc_served_model_load(e->data_dir, version, spec->series, e->loader, e->loader_ctx, err);
    if (!snap->models[i]) {
      oc_error_prefix(err, "endpoint %s, variant %s: ", spec->name, spec->variants[i].name);
      break;
    }
    oc_info("serve: endpoint %s variant %s: model %s (%s) loaded in %.3f s", spec->name, spec->variants[i].name,
            version, oc_served_model_kind(snap->models[i]), oc_served_model_load_seconds(snap->models[i]));
  }
  for (size_t i = 0; i < spec->n_variants; i++) {
    if (!snap->models[i]) {
      for (size_t k = 0; k < spec->n_variants; k++) oc_served_model_release(snap->models[k]);
      free(snap);
      return NULL;
    }
  }
  load_shadow(e, snap);
  return snap;
}

static int persist(oc_endpoints *e, const oc_endpoint_spec *spec, const char *updated_at, json_t *previous,
                   oc_error *err) {
  json_t *doc = config_json(spec, updated_at);
  json_object_set_new(doc, "name", json_string(spec->name));
  json_object_set_new(doc, "endpoint", json_string(spec->name));
  json_object_set(doc, "previous", previous);
  oc_store *store = e->lend(e->loader_ctx, err);
  int rc = store ? oc_registry_endpoint_save(store, spec->name, doc, err) : -1;
  if (store) e->give_back(e->loader_ctx, store);
  json_decref(doc);
  return rc;
}

static slot *find_slot(oc_endpoints *e, const char *name) {
  for (size_t i = 0; i < e->n; i++) {
    if (strcmp(e->slots[i].name, name) == 0) return &e->slots[i];
  }
  return NULL;
}

/* Swaps the slot's snapshot (creating the slot when needed) and releases the old one. */
static void publish(oc_endpoints *e, const char *name, oc_endpoint_snapshot *snap, json_t *previous, bool *created) {
  oc_lock_acquire(&e->lock);
  slot *s = find_slot(e, name);
  if (created) *created = s == NULL;
  if (!s) {
    oc_xgrow((void **)&e->slots, &e->cap, e->n + 1, sizeof *e->slots);
    s = &e->slots[e->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
  }
  oc_endpoint_snapshot *old = s->current;
  s->current = snap;
  s->problem[0] = '\0';
  if (previous != s->previous) {
    json_decref(s->previous);
    s->previous = previous;
  }
  if (snap) snap->previous_count = json_array_size(previous);
  oc_lock_release(&e->lock);
  oc_endpoint_snapshot_release(old);
}

int oc_endpoints_put(oc_endpoints *e, const oc_endpoint_spec *spec, bool *created, oc_error *err) {
  oc_lock_acquire(&e->write_lock);
  char updated_at[OC_TIMESTAMP_STRLEN];
  oc_timestamp_format((int64_t)time(NULL), updated_at);
  char shadow[64];
  stored_shadow(e, spec->name, shadow);
  oc_endpoint_snapshot *snap = build_snapshot(e, spec, updated_at, shadow, err);
  if (!snap) {
    oc_lock_release(&e->write_lock);
    return -1;
  }
  oc_lock_acquire(&e->lock);
  slot *s = find_slot(e, spec->name);
  json_t *previous = s && s->previous ? json_copy(s->previous) : json_array();
  if (s && s->current) json_array_insert_new(previous, 0, config_json(&s->current->spec, s->current->updated_at));
  oc_lock_release(&e->lock);
  while (json_array_size(previous) > OC_ENDPOINT_MAX_PREVIOUS) json_array_remove(previous, OC_ENDPOINT_MAX_PREVIOUS);
  if (persist(e, spec, updated_at, previous, err) != 0) {
    json_decref(previous);
    oc_endpoint_snapshot_release(snap);
    oc_lock_release(&e->write_lock);
    return -1;
  }
  publish(e, spec->name, snap, previous, created);
  oc_lock_release(&e->write_lock);
  return 0;
}

int oc_endpoints_rollback(oc_endpoints *e, const char *name, bool *found, oc_error *err) {
  oc_lock_acquire(&e->write_lock);
  oc_lock_acquire(&e->lock);
  slot *s = find_slot(e, name);
  *found = s != NULL;
  json_t *previous = s && s->previous ? json_copy(s->previous) : NULL;
  oc_lock_release(&e->lock);
  int rc = -1;
  oc_endpoint_spec spec;
  if (!s) {
    rc = 0;
  } else if (json_array_size(previous) == 0) {
    oc_error_set(err, "endpoint %s has no previous configuration to roll back to", name);
  } else if (oc_endpoint_spec_parse(json_array_get(previous, 0), name, &spec, err) == 0) {
    char updated_at[OC_TIMESTAMP_STRLEN];
    oc_timestamp_format((int64_t)time(NULL), updated_at);
    char shadow[64];
    stored_shadow(e, name, shadow);
    oc_endpoint_snapshot *snap = build_snapshot(e, &spec, updated_at, shadow, err);
    json_array_remove(previous, 0);
    if (snap && persist(e, &spec, updated_at, previous, err) == 0) {
      publish(e, name, snap, previous, NULL);
      previous = NULL;
      rc = 0;
    } else {
      oc_endpoint_snapshot_release(snap);
    }
  }
  json_decref(previous);
  oc_lock_release(&e->write_lock);
  return rc;
}

/* Every current snapshot, retained (caller releases each and frees the array). */
static oc_endpoint_snapshot **acquire_all(oc_endpoints *e, size_t *count) {
  oc_lock_acquire(&e->lock);
  oc_endpoint_snapshot **all = oc_xcalloc(e->n + 1, sizeof *all);
  size_t n = 0;
  for (size_t i = 0; i < e->n; i++) {
    if (e->slots[i].current) {
      atomic_fetch_add(&e->slots[i].current->refs, 1);
      all[n++] = e->slots[i].current;
    }
  }
  oc_lock_release(&e->lock);
  *count = n;
  return all;
}

/* Whether the slot already serves exactly this configuration and shadow challenger (the change may be
 * the one this process just recorded). Caller holds lock. */
static bool serves_locked(const oc_endpoints *e, const slot *sl, json_t *doc, const char *shadow) {
  assert(oc_lock_held(&e->lock));
  if (!sl || !sl->current || strcmp(sl->current->shadow_version, shadow) != 0) return false;
  json_t *mine = config_json(&sl->current->spec, sl->current->updated_at);
  json_t *series = json_object_get(doc, "series");
  json_t *theirs = json_pack("{s:s,s:O,s:O}", "series", json_is_string(series) ? json_string_value(series) : "",
                             "variants", json_object_get(doc, "variants"), "updated_at", json_object_get(doc, "updated_at"));
  bool same = theirs && json_equal(mine, theirs) && json_equal(sl->previous, json_object_get(doc, "previous"));
  json_decref(mine);
  json_decref(theirs);
  return same;
}

/* The endpoint's configuration as the store records it; NULL with err when it cannot be read or there
 * is no such endpoint. */
static json_t *stored_config(oc_endpoints *e, const char *name, oc_error *err) {
  oc_store *store = e->lend(e->loader_ctx, err);
  if (!store) return NULL;
  json_t *doc = NULL;
  bool found = false;
  if (oc_registry_endpoint_config(store, name, &doc, &found, err) == 0 && !found)
    oc_error_set(err, "no endpoint named '%s' in the store", name);
  e->give_back(e->loader_ctx, store);
  return doc;
}

/* Loads the endpoint's configuration from the store into its slot. following: a reload after a change
 * another process made, which keeps a working snapshot when the configuration fails and skips one
 * already served; otherwise (start-up) a failure is recorded as the endpoint's problem. */
static void load_config(oc_endpoints *e, const char *name, bool following) {
  oc_error err;
  json_t *doc = stored_config(e, name, &err);
  oc_endpoint_spec spec;
  oc_endpoint_snapshot *snap = NULL;
  bool current = false;
  if (doc && oc_endpoint_spec_parse(doc, name, &spec, &err) == 0) { /* else err says why */
    char shadow[64];
    stored_shadow(e, name, shadow);
    oc_lock_acquire(&e->lock);
    current = following && serves_locked(e, find_slot(e, name), doc, shadow);
    oc_lock_release(&e->lock);
    json_t *updated = json_object_get(doc, "updated_at");
    if (!current)
      snap = build_snapshot(e, &spec, json_is_string(updated) ? json_string_value(updated) : "", shadow, &err);
  }
  json_t *previous = json_object_get(doc, "previous");
  if (snap || !following) publish(e, name, snap, json_is_array(previous) ? json_incref(previous) : json_array(), NULL);
  if (snap && following) oc_info("serve: endpoint %s reloaded after a change in the store", name);
  if (!snap && !current) {
    oc_err("serve: endpoint %s not %s: %s", name, following ? "reloaded (still serving the previous configuration)"
                                                            : "loaded", err.message);
    oc_lock_acquire(&e->lock);
    slot *sl = find_slot(e, name);
    if (sl && !sl->current) snprintf(sl->problem, sizeof sl->problem, "%s", err.message);
    oc_lock_release(&e->lock);
  }
  json_decref(doc);
}

/* Loads (following: reloads) every endpoint the store records; -1 with err when they cannot be listed. */
static int load_every(oc_endpoints *e, bool following, oc_error *err) {
  oc_store *store = e->lend(e->loader_ctx, err);
  char **names = NULL;
  size_t n = 0;
  int rc = store ? oc_store_endpoint_names(store, &names, &n, err) : -1;
  if (store) e->give_back(e->loader_ctx, store);
  for (size_t i = 0; i < n; i++) {
    if (!following) load_config(e, names[i], false);
    else oc_endpoints_reload(e, names[i]);
    free(names[i]);
  }
  free(names);
  return rc;
}

int oc_endpoints_load_all(oc_endpoints *e, oc_error *err) { return load_every(e, false, err); }

int oc_endpoints_reload_all(oc_endpoints *e, oc_error *err) { return load_every(e, true, err); }

void oc_endpoints_reload(oc_endpoints *e, const char *name) {
  if (!valid_name(name)) return; /* not an endpoint this server could serve */
  oc_lock_acquire(&e->write_lock);
  load_config(e, name, true);
  oc_lock_release(&e->write_lock);
}

void oc_endpoints_reload_serving(oc_endpoints *e, const char *model_version) {
  size_t n;
  oc_endpoint_snapshot **all = acquire_all(e, &n);
  for (size_t i = 0; i < n; i++) {
    for (size_t v = 0; v < all[i]->spec.n_variants; v++) {
      if (strcmp(all[i]->spec.variants[v].model_version, model_version) == 0) {
        oc_endpoints_reload(e, all[i]->spec.name);
        break;
      }
    }
    oc_endpoint_snapshot_release(all[i]);
  }
  free(all);
}

void oc_endpoints_problems(oc_endpoints *e, json_t *problems) {
  oc_lock_acquire(&e->lock);
  for (size_t i = 0; i < e->n; i++) {
    if (!e->slots[i].current) json_array_append_new(problems, json_string(e->slots[i].problem));
  }
  oc_lock_release(&e->lock);
}

bool oc_endpoints_broken(oc_endpoints *e, const char *name, char *problem, size_t cap) {
  oc_lock_acquire(&e->lock);
  slot *s = find_slot(e, name);
  bool broken = s && !s->current;
  if (broken) snprintf(problem, cap, "%s", s->problem);
  oc_lock_release(&e->lock);
  return broken;
}

oc_endpoint_snapshot *oc_endpoints_acquire(oc_endpoints *e, const char *name) {
  oc_lock_acquire(&e->lock);
  slot *s = find_slot(e, name);
  oc_endpoint_snapshot *snap = s ? s->current : NULL;
  if (snap) atomic_fetch_add(&snap->refs, 1);
  oc_lock_release(&e->lock);
  return snap;
}

json_t *oc_endpoints_describe(oc_endpoints *e) {
  size_t n;
  oc_endpoint_snapshot **all = acquire_all(e, &n);
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *item = config_json(&all[i]->spec, all[i]->updated_at);
    json_object_set_new(item, "name", json_string(all[i]->spec.name));
    json_object_set_new(item, "previous_configs", json_integer((json_int_t)all[i]->previous_count));
    json_array_append_new(list, item);
    oc_endpoint_snapshot_release(all[i]);
  }
  free(all);
  return json_pack("{s:o}", "endpoints", list);
}

json_t *oc_endpoints_models(oc_endpoints *e) {
  size_t n;
  oc_endpoint_snapshot **all = acquire_all(e, &n);
  json_t *models = json_array();
  for (size_t i = 0; i < n; i++) {
    for (size_t v = 0; v < all[i]->spec.n_variants; v++) {
      const oc_served_model *m = all[i]->models[v];
      json_t *found = NULL;
      size_t k;
      json_t *item;
      json_array_foreach(models, k, item) {
        if (strcmp(json_string_value(json_object_get(item, "version")), oc_served_model_version(m)) == 0) found = item;
      }
      if (!found) {
        found = json_pack("{s:s,s:s,s:s,s:s,s:f,s:[]}", "version", oc_served_model_version(m), "kind",
                          oc_served_model_kind(m), "status", "serving", "series", all[i]->spec.series,
                          "load_seconds", oc_served_model_load_seconds(m), "endpoints");
        json_array_append_new(models, found);
      }
      json_array_append_new(json_object_get(found, "endpoints"),
                            json_pack("{s:s,s:s,s:f}", "endpoint", all[i]->spec.name, "variant",
                                      all[i]->spec.variants[v].name, "weight", all[i]->spec.variants[v].weight));
    }
    oc_endpoint_snapshot_release(all[i]);
  }
  free(all);
  return json_pack("{s:o}", "models", models);
}

int oc_endpoint_pick_variant(const oc_endpoint_snapshot *snap, const char *request_id, const char *forced) {
  const oc_endpoint_spec *spec = &snap->spec;
  if (forced) {
    for (size_t i = 0; i < spec->n_variants; i++) {
      if (strcmp(spec->variants[i].name, forced) == 0) return (int)i;
    }
    return -1;
  }
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)request_id; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33; /* FNV's low bits are weak for short keys: mix before scaling */
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  double total = 0;
  for (size_t i = 0; i < spec->n_variants; i++) total += spec->variants[i].weight;
  double target = (double)(h >> 11) * 0x1.0p-53 * total, cumulative = 0;
  int last = 0;
  for (size_t i = 0; i < spec->n_variants; i++) {
    if (spec->variants[i].weight <= 0) continue;
    cumulative += spec->variants[i].weight;
    last = (int)i;
    if (target < cumulative) return (int)i;
  }
  return last;
}
