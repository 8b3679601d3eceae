/* registry.h: model versions and endpoints in a data directory. A version is the immutable folder
 * DIR/models/artifacts/vN/ (model_file.h) plus its row in the store; an endpoint is its configuration
 * document in the store (the one record of what it serves, which `oilcast forecast` and every server
 * read) with the rows naming the registered versions it serves and their traffic weights, written in
 * one store op. Publishing claims vN by renaming a finished temporary folder into place and then
 * registers it, so two trainings never share a number, a half-written version never appears and a
 * folder without its row is never served. Loading re-checks model.json against the sha256 the store
 * recorded. Must not print. */
#ifndef OC_MODEL_REGISTRY_H
#define OC_MODEL_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/frame.h"
#include "model/forecaster.h"
#include "model/mlp.h"
#include "model/model_file.h"
#include "store/store.h"

/* A version of any other kind than the network (and an auto-chosen network) holds the forecaster's
 * saved state (oc_forecaster_save) and a card model.json of format OC_FORECASTER_CARD_FORMAT:
 * {"format","version","kind","spec","series","training":{"first","last","observations","last_value"},
 *  "selection": oc_auto_choice_to_json's comparison or null, "metrics": {"validation_rel_mae",
 *  "validation_mae","naive_validation_mae"} or null, "created","oilcast_version","forecaster_sha256"}.
 * A network version holds model.safetensors and a card of format OC_MODEL_CARD_FORMAT (model_file.h).
 * Either way, oc_registry_load_forecaster hands it out as one oc_forecaster. */
#define OC_FORECASTER_FILE "forecaster.json"
#define OC_FORECASTER_CARD_FORMAT "oilcast-forecaster-card/1"

#define OC_DEFAULT_ENDPOINT "oil-market-forecast-endpoint"

/* "v3" or "3" -> 3; -1 when it is neither. */
int oc_model_version_parse(const char *text, int64_t *version);

/* Saves m and card as the next free version (card->version becomes "vN") and registers it. */
int oc_registry_publish(const char *data_dir, oc_store *store, const oc_mlp *m, oc_model_card *card,
                        int64_t *version, oc_error *err);

/* Points endpoint `name` at `version` with weight 1 (creating the endpoint if needed), as one store op
 * (and removes the endpoint file an older oilcast wrote, no longer read). Names follow the series-name
 * rule. */
int oc_registry_deploy(const char *data_dir, oc_store *store, const char *name, int64_t version, oc_error *err);

/* Records config as endpoint name's configuration, in one store op with the registry rows of its
 * versions when every variant names a registered version ("model_version":"v3", or a deploy's
 * "version":3) once with weight > 0; an endpoint serving forecaster specs ("naive") gets no rows.
 * config: {"variants":[...], ...}, stored as given (serve/endpoints.h gives the rest its meaning). */
int oc_registry_endpoint_save(oc_store *store, const char *name, const json_t *config, oc_error *err);

/* Endpoint name's configuration as recorded (*config a new reference; *found false and *config NULL
 * when there is no such endpoint). An endpoint last written by oc_store_endpoint_set alone is its
 * variant rows: {"endpoint","variants":[{"model":"v3","version":3,"weight":1}],"updated_at"}. */
int oc_registry_endpoint_config(oc_store *store, const char *name, json_t **config, bool *found, oc_error *err);

/* Gives endpoint `name` exactly these variants (n >= 1, registered versions, weights > 0) as its
 * configuration, through oc_registry_endpoint_save: one store op, which joins the caller's transaction
 * (oc_store_begin .. commit) when there is one, so a caller can change an endpoint together with its
 * own records. */
int oc_registry_endpoint_write(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n,
                               oc_error *err);

/* The version an endpoint answers with locally: its heaviest variant (ties: the newest). */
int oc_registry_endpoint_version(oc_store *store, const char *name, int64_t *version, oc_error *err);

/* Loads a registered network version's files, checking model.json against the registered sha256 and
 * everything model_file.h checks. */
int oc_registry_load(const char *data_dir, oc_store *store, int64_t version, oc_mlp *m, oc_model_card *card,
                     oc_error *err);

/* Saves f, fitted on hist (its training window), as the next free version and registers it with f's
 * kind; selection (may be NULL) is the comparison that chose it, copied into the card. */
int oc_registry_publish_forecaster(const char *data_dir, oc_store *store, const oc_forecaster *f,
                                   const oc_series *hist, const json_t *selection, int64_t *version, oc_error *err);

/* Loads any registered version as a forecaster: model.json against the registered sha256 and its
 * version against the registry's; then, as the card's format says, forecaster.json against the card's
 * sha256 and kind (a forecaster version) or the network's files as oc_registry_load checks them. *card
 * is the card (new reference). */
int oc_registry_load_forecaster(const char *data_dir, oc_store *store, int64_t version, oc_forecaster **f,
                                json_t **card, oc_error *err);

/* The checks a version's card passes before its other files are read, on its text (path names it in
 * every error): JSON without repeated keys, "format" of a known layout, "version" equal to "vN".
 * *card: the parsed card (new reference; NULL on failure). */
int oc_registry_card_parse(const char *path, const char *text, size_t len, int64_t version, json_t **card,
                           oc_error *err);

/* A forecaster version's state (forecaster.json's text, state_path naming it) against its card (the
 * card's kind is registered_kind, its forecaster_sha256 the text's), loaded as *f (NULL on failure). */
int oc_registry_forecaster_from_card(const json_t *card, const char *card_path, const char *registered_kind,
                                     const char *state, size_t state_len, const char *state_path, oc_forecaster **f,
                                     oc_error *err);

/* Appends to out what `oilcast models show` prints of a version: its card as stored (as_json), or a
 * summary (version and status, kind, series, training, validation, intervals, the comparison that chose
 * it, creation). */
int oc_registry_describe(const char *data_dir, oc_store *store, int64_t version, bool as_json, oc_buf *out,
                         oc_error *err);

#endif
