/* auto_select.c: model choice by validation relMAE through the backtest engine (see auto_select.h). */
#include "model/auto_select.h"

#include <string.h>

void oc_auto_config_default(oc_auto_config *c) {
  *c = (oc_auto_config){.origins = 250, .horizon = 7, .refit_every = 20, .threads = 0};
}

int oc_auto_select(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                   oc_auto_choice *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (c->origins < 2 || hist->n < c->origins + c->horizon + 2)
    return oc_error_set(err, "choosing a model needs more than %zu observations for %zu validation origins at horizon %zu",
                        hist->n, c->origins, c->horizon);
  size_t last = hist->n - 1 - c->horizon;
  oc_backtest_config cfg = {.start = hist->dates[last + 1 - c->origins], .end = hist->dates[last], .horizon = c->horizon,
                            .refit_every = c->refit_every, .threads = c->threads,
                            .exogs = c->exogs, .nexog = c->nexog};
  if (oc_backtest_run(hist, candidates, n, &cfg, &out->result, err) != 0) return oc_error_prefix(err, "choosing a model: ");
  double best = 0;
  for (size_t m = 0; m < n; m++) {
    double rel = oc_backtest_summarize(&out->result, m).rel_mae;
    if (m == 0 || rel < best) {
      best = rel;
      out->best = m;
    }
  }
  return 0;
}

void oc_auto_choice_free(oc_auto_choice *choice) { oc_backtest_result_free(&choice->result); }

json_t *oc_auto_choice_to_json(const oc_auto_choice *choice) {
  const oc_backtest_result *r = &choice->result;
  json_t *cands = json_array();
  for (size_t m = 0; m < r->n_models; m++) {
    oc_backtest_summary s = oc_backtest_summarize(r, m);
    double mae = 0;
    for (size_t h = 0; h < r->horizon; h++) mae += r->rows[m * r->horizon + h].mae / (double)r->horizon;
    json_array_append_new(cands, json_pack("{s:s,s:f,s:f,s:f,s:f}", "model", r->models[m], "rel_mae", s.rel_mae, "mae",
                                           mae, "coverage80", s.coverage80, "width80", s.width80));
  }
  return json_pack("{s:s,s:s,s:o,s:o}", "chosen", r->models[choice->best], "criterion",
                   "lowest validation relMAE over all horizons (walk-forward, same origins for every candidate)",
                   "candidates", cands, "validation", oc_backtest_to_json(r, NULL));
}
