/* fc_mlp.h: a registered reference-network version as a forecaster (model/forecaster.h), so the
 * registry hands out every version, of every kind, as one oc_forecaster. Only the registry calls it
 * (and tests read the mlp kind's cache count); must not read files (the registry has read and checked
 * them). */
#ifndef OC_MODEL_FC_MLP_H
#define OC_MODEL_FC_MLP_H

#include "core/error.h"
#include "model/forecaster.h"
#include "model/mlp.h"
#include "model/model_file.h"

/* Takes net and card (a loaded version: oc_model_load) and leaves them empty, also on failure. */
oc_forecaster *oc_mlp_forecaster_from_version(oc_mlp *net, oc_model_card *card, oc_error *err);

/* How many ETL sessions the mlp kind keeps between fits (its cache; oc_model_types_release_caches
 * empties it). */
size_t oc_mlp_etl_sessions_kept(void);

#endif
