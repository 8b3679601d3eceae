/* endpoints.h: named forecast endpoints (the reference guide's SageMaker endpoints) with weighted A/B
 * variants. Each endpoint's configuration is an immutable, reference-counted snapshot (variants with
 * their loaded models); a change builds a new snapshot (loading models outside any lock), persists it,
 * and swaps one pointer, RCU-style: requests that took the old snapshot finish on it, new ones see the
 * new one. Persisted in the store with the previous configurations (for rollback), through the model
 * registry (oc_registry_endpoint_save: the one record of what an endpoint serves, which `oilcast
 * forecast` and the registry's deploy use too), with the registry's rows when every variant is a
 * registered version; a change another process made is followed with oc_endpoints_reload. Knows
 * nothing about HTTP. */
#ifndef OC_SERVE_ENDPOINTS_H
#define OC_SERVE_ENDPOINTS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "pipeline/served_model.h"
#include "store/store.h"

#define OC_ENDPOINT_MAX_VARIANTS 8
#define OC_ENDPOINT_MAX_PREVIOUS 20

typedef struct oc_variant_spec {
  char name[64];
  char model_version[64];
  double weight;
} oc_variant_spec;

typedef struct oc_endpoint_spec {
  char name[128];
  char series[65];
  size_t n_variants;
  oc_variant_spec variants[OC_ENDPOINT_MAX_VARIANTS];
} oc_endpoint_spec;

/* One immutable configuration of an endpoint, as requests use it: its variants and the challenger its
 * promotion loop evaluates in shadow (pipeline/forecast.h: forecast beside every answer, stored, never
 * returned), loaded with them from the store's challenger state. */
typedef struct oc_endpoint_snapshot {
  _Atomic long refs;
  oc_endpoint_spec spec;
  oc_served_model *models[OC_ENDPOINT_MAX_VARIANTS]; /* one reference per variant */
  char shadow_version[64];  /* the shadow challenger ("vN"); "" for none */
  oc_served_model *shadow;  /* its model, one reference; NULL when none or it failed to load ... */
  char shadow_problem[600]; /* ... and then why (a broken challenger never breaks the endpoint) */
  char updated_at[32];
  size_t previous_count;
} oc_endpoint_snapshot;

typedef struct oc_endpoints oc_endpoints;

/* How the table reaches the store: a connection lent for one read or write (NULL with err when none
 * can be had) and given back. */
typedef oc_store *(*oc_endpoint_store_lend)(void *ctx, oc_error *err);
typedef void (*oc_endpoint_store_return)(void *ctx, oc_store *store);

oc_endpoints *oc_endpoints_new(const char *data_dir, oc_series_loader loader, oc_endpoint_store_lend lend,
                               oc_endpoint_store_return give_back, void *ctx);
void oc_endpoints_free(oc_endpoints *e);
/* Loads every endpoint the store records. Endpoints that fail stay listed as problems (readiness);
 * -1 with err when the store cannot list them. */
int oc_endpoints_load_all(oc_endpoints *e, oc_error *err);
/* Re-reads the endpoint's configuration and shadow challenger from the store after another process
 * changed them (a deploy, a PUT or rollback on another server, a promotion decision) and swaps in its
 * snapshot; a configuration and challenger already served are left alone, and a configuration that
 * fails to load leaves the previous snapshot serving (logged). */
void oc_endpoints_reload(oc_endpoints *e, const char *name);
/* oc_endpoints_reload for every endpoint the store records (SIGHUP); -1 with err when it cannot list them. */
int oc_endpoints_reload_all(oc_endpoints *e, oc_error *err);
/* Reloads every endpoint that serves model_version ("v3"). */
void oc_endpoints_reload_serving(oc_endpoints *e, const char *model_version);
/* Appends a description of every endpoint that failed to load to problems. */
void oc_endpoints_problems(oc_endpoints *e, json_t *problems);
/* True when name is an endpoint whose models could not be loaded; its reason into problem. */
bool oc_endpoints_broken(oc_endpoints *e, const char *name, char *problem, size_t cap);

/* Parses and validates {"series":"WTI","variants":[{"name","model_version","weight"}]}; also reads the
 * configurations the registry writes for a deploy or a promotion (oc_registry_endpoint_write:
 * {"variants":[{"model":"v3","version":3,"weight":1}]}, naming variants "vN"). */
int oc_endpoint_spec_parse(json_t *json, const char *name, oc_endpoint_spec *out, oc_error *err);

/* Replaces (or creates, *created = true) the endpoint's configuration; the old one becomes the newest
 * previous configuration. */
int oc_endpoints_put(oc_endpoints *e, const oc_endpoint_spec *spec, bool *created, oc_error *err);
/* Restores the newest previous configuration. *found = false when the endpoint is unknown; an
 * endpoint with no previous configuration is an error. */
int oc_endpoints_rollback(oc_endpoints *e, const char *name, bool *found, oc_error *err);

/* The endpoint's current snapshot with a reference held (NULL when unknown); release it after use. */
oc_endpoint_snapshot *oc_endpoints_acquire(oc_endpoints *e, const char *name);
void oc_endpoint_snapshot_release(oc_endpoint_snapshot *snap);

/* JSON {"endpoints":[{"name","series","variants":[...],"updated_at","previous_configs"}]} and the
 * models in use {"models":[{"version","kind","status","load_seconds","endpoints":[...]}]}. */
json_t *oc_endpoints_describe(oc_endpoints *e);
json_t *oc_endpoints_models(oc_endpoints *e);

/* The variant for a request: forced by name (-1 when no such variant), or by weight from a
 * deterministic hash of request_id. */
int oc_endpoint_pick_variant(const oc_endpoint_snapshot *snap, const char *request_id, const char *forced);

#endif
