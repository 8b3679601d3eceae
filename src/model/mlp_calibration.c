/* mlp_calibration.c: see mlp_calibration.h. */
#include "model/mlp_calibration.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/mlp_forecast.h"

#define CALIBRATION_ORIGINS 250
#define CALIBRATION_MIN 20

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* q as model.json keeps it: the double its OC_MODEL_CARD_DIGITS-digit decimal reads back as. */
static double card_precision(double q) {
  char text[40];
  snprintf(text, sizeof text, "%.*g", OC_MODEL_CARD_DIGITS, q);
  return strtod(text, NULL);
}

int oc_mlp_calibrate(const oc_mlp *m, const oc_model_card *card, const oc_series *history, const oc_series *exogs,
                     size_t nexog, oc_mlp_calibration *out, oc_error *err) {
  const int H = m->arch.n_out;
  const char *label = card->version && *card->version ? card->version : "being trained";
  size_t n = history->n;
  if (n < (size_t)H + 2) return oc_error_set(err, "model %s: %zu observations are too few to calibrate", label, n);
  size_t last_origin = n - 1 - (size_t)H, first_origin = last_origin > CALIBRATION_ORIGINS ? last_origin - CALIBRATION_ORIGINS : 0;
  size_t after_training = 0;
  while (after_training < n && history->dates[after_training] <= card->train_end) after_training++;
  /* Out-of-sample origins when there are enough of them; otherwise the most recent ones, in-sample. */
  if (after_training + CALIBRATION_MIN <= last_origin && after_training > first_origin) first_origin = after_training;
  oc_feature_transform transform;
  if (oc_mlp_card_transform(card, &transform, err) != 0) return -1;
  const size_t span = last_origin - first_origin + 1;
  double *residuals = oc_xcalloc((size_t)H * span, sizeof *residuals);
  size_t count = 0;
  oc_date first_used = OC_DATE_INVALID, last_used = OC_DATE_INVALID;
  oc_series *views = oc_xcalloc(nexog ? nexog : 1, sizeof *views);
  for (size_t t = first_origin; t <= last_origin; t++) {
    if (!(history->values[t] > 0)) continue;
    oc_series target = oc_series_view_until(history, history->dates[t]);
    for (size_t k = 0; k < nexog; k++) views[k] = oc_series_view_until(&exogs[k], history->dates[t]);
    oc_mlp_prediction f;
    oc_error ignored;
    if (oc_mlp_forecast_with(m, card, &transform, &target, views, nexog, H, &f, &ignored) != 0) continue;
    bool usable = f.as_of == history->dates[t];
    for (int h = 1; usable && h <= H; h++) usable = history->values[t + (size_t)h] > 0;
    if (usable) {
      for (int h = 1; h <= H; h++) {
        double actual = log(history->values[t + (size_t)h] / history->values[t]);
        residuals[(size_t)(h - 1) * span + count] = fabs(actual - f.points[h - 1].log_return);
      }
      if (count == 0) first_used = history->dates[t];
      last_used = history->dates[t];
      count++;
    }
    oc_mlp_prediction_free(&f);
  }
  free(views);
  oc_feature_transform_free(&transform);
  if (count < CALIBRATION_MIN) {
    free(residuals);
    return oc_error_set(err, "model %s: only %zu usable origins to calibrate its intervals (need %d)", label,
                        count, CALIBRATION_MIN);
  }
  oc_mlp_calibration_free(out);
  *out = (oc_mlp_calibration){.origins = count, .first_origin = first_used, .last_origin = last_used,
                              .out_of_sample = first_used > card->train_end,
                              .q80 = oc_xcalloc((size_t)H, sizeof *out->q80), .q95 = oc_xcalloc((size_t)H, sizeof *out->q95)};
  for (int h = 0; h < H; h++) {
    double *r = residuals + (size_t)h * span;
    qsort(r, count, sizeof *r, compare_double);
    /* Split-conformal quantile: the ceil((n + 1) p)-th smallest residual. */
    size_t k80 = (size_t)ceil((double)(count + 1) * 0.8), k95 = (size_t)ceil((double)(count + 1) * 0.95);
    out->q80[h] = card_precision(r[(k80 > count ? count : k80) - 1]);
    out->q95[h] = card_precision(r[(k95 > count ? count : k95) - 1]);
    /* never narrower than the horizon before: a wider interval keeps at least its coverage */
    if (h > 0 && out->q80[h] < out->q80[h - 1]) out->q80[h] = out->q80[h - 1];
    if (h > 0 && out->q95[h] < out->q95[h - 1]) out->q95[h] = out->q95[h - 1];
  }
  free(residuals);
  return 0;
}

int oc_mlp_calibrate_on_store(oc_store *store, const oc_mlp *m, oc_model_card *card, oc_error *err) {
  char **names = NULL;
  size_t nexog = 0;
  if (oc_mlp_card_exogs(card, &names, &nexog, err) != 0) return -1;
  oc_series history = {0};
  oc_series *exogs = oc_xcalloc(nexog + 1, sizeof *exogs);
  int rc = oc_store_series_load(store, card->series, OC_DATE_INVALID, OC_DATE_INVALID, &history, err);
  for (size_t i = 0; rc == 0 && i < nexog; i++)
    rc = oc_store_series_load(store, names[i], OC_DATE_INVALID, OC_DATE_INVALID, &exogs[i], err);
  if (rc == 0) rc = oc_mlp_calibrate(m, card, &history, exogs, nexog, &card->calibration, err);
  for (size_t i = 0; i < nexog; i++) {
    if (exogs[i].name) oc_series_free(&exogs[i]);
    free(names[i]);
  }
  free(names);
  free(exogs);
  if (history.name) oc_series_free(&history);
  return rc;
}
