/* store_models.c: backend-independent helpers for the model-registry structs of store.h. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void oc_model_version_free(oc_model_version *v) {
  free(v->kind);
  free(v->series);
  free(v->path);
  free(v->card_sha256);
  free(v->status);
  memset(v, 0, sizeof *v);
}

void oc_model_version_list_free(oc_model_version *list, size_t n) {
  for (size_t i = 0; i < n; i++) oc_model_version_free(&list[i]);
  free(list);
}

void oc_endpoint_free(oc_endpoint *ep) {
  free(ep->name);
  free(ep->variants);
  memset(ep, 0, sizeof *ep);
}
