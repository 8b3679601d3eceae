/* registry.h: model versions and endpoints in a data directory. A version is the immutable folder
 * DIR/models/artifacts/vN/ (model_file.h) plus its row in the store; an endpoint is
 * DIR/models/endpoints/NAME.json plus store rows naming the versions it serves and their traffic
 * weights. Publishing claims vN by renaming a finished temporary folder into place, so two trainings
 * never share a number and a half-written version never appears. Loading re-checks model.json against
 * the sha256 the store recorded. Must not print. */
#ifndef OC_MODEL_REGISTRY_H
#define OC_MODEL_REGISTRY_H

#include <stdint.h>

#include "core/error.h"
#include "model/mlp.h"
#include "model/model_file.h"
#include "store/store.h"

#define OC_DEFAULT_ENDPOINT "oil-market-forecast-endpoint"

/* "v3" or "3" -> 3; -1 when it is neither. */
int oc_model_version_parse(const char *text, int64_t *version);

/* Saves m and card as the next free version (card->version becomes "vN") and registers it. */
int oc_registry_publish(const char *data_dir, oc_store *store, const oc_mlp *m, oc_model_card *card,
                        int64_t *version, oc_error *err);

/* Points endpoint `name` at `version` with weight 1 (creating the endpoint if needed): store rows and
 * the endpoint file change together or not at all. Names follow the series-name rule. */
int oc_registry_deploy(const char *data_dir, oc_store *store, const char *name, int64_t version, oc_error *err);

/* The version an endpoint answers with locally: its heaviest variant (ties: the newest). */
int oc_registry_endpoint_version(oc_store *store, const char *name, int64_t *version, oc_error *err);

/* Loads a registered version, checking model.json against the registered sha256 and everything
 * model_file.h checks. */
int oc_registry_load(const char *data_dir, oc_store *store, int64_t version, oc_mlp *m, oc_model_card *card,
                     oc_error *err);

#endif
