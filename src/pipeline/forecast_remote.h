/* forecast_remote.h: the client side of `oilcast serve`: one forecast from a running server's endpoint
 * (POST /v1/endpoints/{name}/invocations, core/http_client.h), returned as the same oc_price_forecast a
 * local forecast gives, so `oilcast forecast --url` prints exactly what the local path prints. Never
 * prints; errors carry the server's error envelope. */
#ifndef OC_PIPELINE_FORECAST_REMOTE_H
#define OC_PIPELINE_FORECAST_REMOTE_H

#include "core/error.h"
#include "core/frame.h"
#include "model/forecaster.h"

typedef struct oc_remote_request {
  const char *url;      /* "http://127.0.0.1:8080" */
  const char *api_key;  /* read scope; NULL sends none */
  const char *endpoint; /* endpoint name */
  int days;             /* 0: the server's default */
  const oc_series *history; /* NULL: the server's stored history; else sent as {date, price} objects */
} oc_remote_request;

typedef struct oc_remote_answer {
  char series[65];
  char model_version[64]; /* the version that answered */
  char model_kind[32];
} oc_remote_answer;

int oc_remote_forecast(const oc_remote_request *req, oc_price_forecast *out, oc_remote_answer *answer, oc_error *err);

#endif
