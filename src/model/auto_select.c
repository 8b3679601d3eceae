/* auto_select.c: model choice by validation relMAE through the backtest engine (see auto_select.h),
 * and the `auto` kind that makes that choice again at every fit. The kind must not read past the
 * history it is given: its comparison is a backtest whose origins all have their targets inside it. */
#include "model/auto_select.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void oc_auto_config_default(oc_auto_config *c) {
  *c = (oc_auto_config){.origins = 250, .years = 2, .horizon = 7, .refit_every = 20, .threads = 0};
}

static size_t block_count(const oc_auto_config *c) { return c->years > 1 ? c->years : 1; }

/* Are there enough observations for `blocks` blocks of c->origins validation origins? */
static int check_length(const oc_series *hist, const oc_auto_config *c, size_t blocks, oc_error *err) {
  if (c->origins < 2 || hist->n < blocks * c->origins + c->horizon + 2)
    return oc_error_set(err, "choosing a model needs more than %zu observations for %zu validation origins at horizon %zu",
                        hist->n, blocks * c->origins, c->horizon);
  return 0;
}

/* The backtest of block `back` (0: the most recent) of c->origins origins, every target inside hist;
 * the caller has checked the length (check_length). */
static int validate_block(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                          size_t back, oc_backtest_result *out, oc_error *err) {
  size_t last = hist->n - 1 - c->horizon - back * c->origins;
  assert(last + 1 >= c->origins + 2);
  oc_backtest_config cfg = {.start = hist->dates[last + 1 - c->origins], .end = hist->dates[last], .horizon = c->horizon,
                            .refit_every = c->refit_every, .threads = c->threads,
                            .exogs = c->exogs, .nexog = c->nexog};
  if (oc_backtest_run(hist, candidates, n, &cfg, out, err) != 0) return oc_error_prefix(err, "choosing a model: ");
  return 0;
}

int oc_auto_validate(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                     oc_backtest_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (check_length(hist, c, 1, err) != 0) return -1;
  return validate_block(hist, candidates, n, c, 0, out, err);
}

size_t oc_auto_rule(const oc_backtest_years *blocks, size_t n) {
  assert(n > 0 && blocks->n_years > 0);
  oc_backtest_years_summary *score = oc_xmalloc(n * sizeof *score);
  double lowest_worst = INFINITY;
  for (size_t m = 0; m < n; m++) {
    score[m] = oc_backtest_years_summarize(blocks, m);
    if (score[m].worst < lowest_worst) lowest_worst = score[m].worst;
  }
  size_t best = n;
  for (size_t m = 0; m < n; m++)
    if (score[m].worst <= lowest_worst + OC_AUTO_NEAR_TIE && (best == n || score[m].median < score[best].median)) best = m;
  free(score);
  assert(best < n);
  return best;
}

int oc_auto_select(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                   oc_auto_choice *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  size_t blocks = block_count(c);
  if (check_length(hist, c, blocks, err) != 0) return -1;
  oc_backtest_years *y = &out->blocks;
  y->years = oc_xcalloc(blocks, sizeof *y->years);
  y->runs = oc_xcalloc(blocks, sizeof *y->runs);
  for (size_t b = 0; b < blocks; b++) {
    if (validate_block(hist, candidates, n, c, blocks - 1 - b, &y->runs[b], err) != 0) {
      oc_auto_choice_free(out);
      return -1;
    }
    const oc_backtest_result *r = &y->runs[b];
    int month, day;
    oc_date_to_ymd(r->origin_dates[r->n_origins - 1], &y->years[b], &month, &day);
    y->n_years++;
  }
  out->best = oc_auto_rule(y, n);
  return 0;
}

size_t oc_auto_choice_origins(const oc_auto_choice *choice, oc_date *start, oc_date *end) {
  const oc_backtest_years *y = &choice->blocks;
  assert(y->n_years > 0);
  size_t origins = 0;
  for (size_t b = 0; b < y->n_years; b++) origins += y->runs[b].n_origins;
  *start = y->runs[0].origin_dates[0];
  const oc_backtest_result *last = &y->runs[y->n_years - 1];
  *end = last->origin_dates[last->n_origins - 1];
  return origins;
}

int oc_combination_members(const char *list, const char *self, const char *exog, char **out, size_t max, oc_error *err) {
  char names[128];
  snprintf(names, sizeof names, "%s", list);
  size_t n = 0;
  for (char *name = names, *end; name; name = end ? end + 1 : NULL) {
    if ((end = strchr(name, '+'))) *end = '\0';
    bool ok = *name || oc_error_set(err, "%s: '%s' has an empty member (a+b+...)", self, list) == 0;
    if (ok && strcmp(name, self) == 0) ok = oc_error_set(err, "%s cannot contain %s", self, self) == 0;
    if (ok && n == max) ok = oc_error_set(err, "%s takes at most %zu members", self, max) == 0;
    char spec[64];
    snprintf(spec, sizeof spec, "%s:intervals=analytic", name);
    oc_forecaster *check = NULL;
    if (ok) {
      out[n++] = oc_model_spec_with_exog(spec, exog);
      for (size_t k = 0; ok && k + 1 < n; k++)
        if (strcmp(out[k], out[n - 1]) == 0) ok = oc_error_set(err, "%s: '%s' names %s twice", self, list, name) == 0;
      if (ok) ok = (check = oc_forecaster_create(out[n - 1], err)) != NULL;
    }
    oc_forecaster_free(check);
    if (!ok) {
      while (n > 0) free(out[--n]);
      return -1;
    }
  }
  if (n < 2) {
    while (n > 0) free(out[--n]);
    return oc_error_set(err, "%s needs at least two members (a+b+...)", self);
  }
  return (int)n;
}

void oc_auto_choice_free(oc_auto_choice *choice) { oc_backtest_years_free(&choice->blocks); }

json_t *oc_auto_choice_to_json(const oc_auto_choice *choice) {
  const oc_backtest_years *y = &choice->blocks;
  const oc_backtest_result *r = &y->runs[y->n_years - 1];
  json_t *cands = json_array();
  for (size_t m = 0; m < r->n_models; m++) {
    oc_backtest_summary s = oc_backtest_summarize(r, m);
    oc_backtest_years_summary by_year = oc_backtest_years_summarize(y, m);
    double mae = 0;
    for (size_t h = 0; h < r->horizon; h++) mae += r->rows[m * r->horizon + h].mae / (double)r->horizon;
    json_t *years = json_array();
    for (size_t b = 0; b < y->n_years; b++) json_array_append_new(years, json_real(oc_backtest_summarize(&y->runs[b], m).rel_mae));
    json_array_append_new(cands, json_pack("{s:s,s:f,s:f,s:f,s:f,s:o,s:f,s:f}", "model", r->models[m], "rel_mae", s.rel_mae,
                                           "mae", mae, "coverage80", s.coverage80, "width80", s.width80, "years", years,
                                           "worst", by_year.worst, "median", by_year.median));
  }
  json_t *blocks = json_array();
  for (size_t b = 0; b < y->n_years; b++) {
    const oc_backtest_result *run = &y->runs[b];
    char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
    json_array_append_new(blocks, json_pack("{s:i,s:s,s:s,s:I}", "year", y->years[b], "start",
                                            oc_date_format(run->origin_dates[0], first), "end",
                                            oc_date_format(run->origin_dates[run->n_origins - 1], last), "origins",
                                            (json_int_t)run->n_origins));
  }
  char criterion[256];
  if (y->n_years == 1)
    snprintf(criterion, sizeof criterion,
             "lowest validation relMAE over all horizons (walk-forward, same origins for every candidate)");
  else
    snprintf(criterion, sizeof criterion,
             "lowest validation relMAE in the worst of %zu years (blocks of %zu origins), near-ties (within %.3f) "
             "by the median year (walk-forward, same origins for every candidate)",
             y->n_years, r->n_origins, OC_AUTO_NEAR_TIE);
  return json_pack("{s:s,s:s,s:o,s:o,s:o}", "chosen", r->models[choice->best], "criterion", criterion, "candidates", cands,
                   "validation_years", blocks, "validation", oc_backtest_to_json(r, NULL));
}

/* ---- the `auto` kind ------------------------------------------------------------------------
 * auto:candidates=naive+drift+mean+ets+ar:validation=250:years=2:refit=20:horizon=7[:exog=A+B]
 * fit(hist): oc_auto_select over the candidates (each with its analytic bounds: the choice is by point
 * error, and the auto forecaster calibrates its own intervals) on hist's last `years` blocks of
 * `validation` origins, refitted every `refit`, on one thread (a backtest already runs blocks in
 * parallel); then the winner is fitted on hist. update and predict go to the winner. exog=A+B is
 * handed on to every candidate kind that reads other series (oc_model_spec_with_exog), so `--exog`
 * reaches them. A history too short for the validation (fewer than years * validation + horizon + 2
 * + AUTO_MIN_FIT_HISTORY observations: a backtest's first refits on a short series) is not an error:
 * auto then fits its first candidate (naive by default) without a comparison and its saved state says
 * so ("fallback": the reason), so a backtest row of auto is what the kind would have served. */

#define AUTO_MAX_CANDIDATES 8
#define AUTO_MAX_YEARS 20
/* Observations before the first validation origin that every default candidate can fit on (ar wants
 * 12 positive prices in its window); with fewer the kind falls back rather than fail the fit. */
#define AUTO_MIN_FIT_HISTORY 60
#define AUTO_DEFAULT_CANDIDATES "naive+drift+mean+ets+ar"

typedef struct auto_state {
  size_t n;
  char *candidates[AUTO_MAX_CANDIDATES]; /* specs as the candidates are created */
  oc_auto_config config;
  char exog_list[128]; /* exog=A+B with '+' replaced by NULs */
  const char *exog_names[OC_BACKTEST_MAX_EXOGS];
  size_t nexog;
  size_t chosen;        /* index into candidates; valid when model != NULL */
  oc_forecaster *model; /* the fitted winner */
  char fallback[192];   /* why the first candidate was fitted without a choice; empty after a choice */
} auto_state;

static void auto_destroy(void *state) {
  auto_state *s = state;
  for (size_t i = 0; i < s->n; i++) free(s->candidates[i]);
  oc_forecaster_free(s->model);
  free(s);
}

/* exog=A+B into s->exog_names. */
static int read_exogs(auto_state *s, const char *exog, oc_error *err) {
  if (!exog) return 0;
  if (strlen(exog) >= sizeof s->exog_list) return oc_error_set(err, "auto: exog=%s is too long", exog);
  snprintf(s->exog_list, sizeof s->exog_list, "%s", exog);
  char *save = NULL;
  for (char *name = strtok_r(s->exog_list, "+", &save); name; name = strtok_r(NULL, "+", &save)) {
    if (s->nexog == OC_BACKTEST_MAX_EXOGS) return oc_error_set(err, "auto: at most %d exog series", OC_BACKTEST_MAX_EXOGS);
    s->exog_names[s->nexog++] = name;
  }
  return 0;
}

static void *auto_create(oc_model_params *p, oc_error *err) {
  auto_state *s = oc_xcalloc(1, sizeof *s);
  oc_auto_config_default(&s->config);
  s->config.threads = 1;
  long origins = (long)s->config.origins, years = (long)s->config.years, refit = (long)s->config.refit_every,
       horizon = (long)s->config.horizon;
  const char *list = oc_model_param_str(p, "candidates"), *exog = oc_model_param_str(p, "exog");
  if (oc_model_param_long(p, "validation", 2, 100000, &origins, err) < 0 ||
      oc_model_param_long(p, "years", 1, AUTO_MAX_YEARS, &years, err) < 0 ||
      oc_model_param_long(p, "refit", 1, 100000, &refit, err) < 0 ||
      oc_model_param_long(p, "horizon", 1, OC_FORECAST_MAX_HORIZON, &horizon, err) < 0 || read_exogs(s, exog, err) < 0)
    goto fail;
  s->config.origins = (size_t)origins;
  s->config.years = (size_t)years;
  s->config.refit_every = (size_t)refit;
  s->config.horizon = (size_t)horizon;
  int n = oc_combination_members(list ? list : AUTO_DEFAULT_CANDIDATES, "auto", exog, s->candidates, AUTO_MAX_CANDIDATES, err);
  if (n < 0) goto fail;
  s->n = (size_t)n;
  return s;
fail:
  auto_destroy(s);
  return NULL;
}

/* The series of `given` (in s's exog order) that f reads, in f's order, into picked; -1 with err when
 * f reads one auto was not told of. */
static int pick_exogs(const auto_state *s, const oc_forecaster *f, const oc_series *given, oc_series *picked,
                      oc_error *err) {
  const char *const *names;
  size_t k = oc_forecaster_exogs(f, &names);
  assert(k <= OC_BACKTEST_MAX_EXOGS);
  for (size_t i = 0; i < k; i++) {
    size_t j = 0;
    while (j < s->nexog && strcmp(s->exog_names[j], names[i]) != 0) j++;
    if (j == s->nexog || !given) return oc_error_set(err, "auto: %s reads %s, which is not in auto's exog", oc_forecaster_name(f), names[i]);
    picked[i] = given[j];
  }
  return 0;
}

static int auto_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  auto_state *s = state;
  oc_auto_config c = s->config;
  c.exogs = exogs;
  c.nexog = exogs ? s->nexog : 0;
  size_t best = 0, needed = block_count(&c) * c.origins + c.horizon + 2 + AUTO_MIN_FIT_HISTORY;
  char fallback[sizeof s->fallback] = "";
  if (hist->n < needed) {
    snprintf(fallback, sizeof fallback,
             "%zu observations are too few to validate on %zu origins at horizon %zu with %d before them (%zu needed): "
             "the first candidate, unchosen", hist->n, block_count(&c) * c.origins, c.horizon, AUTO_MIN_FIT_HISTORY, needed);
  } else {
    oc_auto_choice choice;
    if (oc_auto_select(hist, (const char *const *)s->candidates, s->n, &c, &choice, err) != 0) return -1;
    best = choice.best;
    oc_auto_choice_free(&choice);
  }
  oc_forecaster *f = oc_forecaster_create(s->candidates[best], err);
  oc_series picked[OC_BACKTEST_MAX_EXOGS];
  if (!f || pick_exogs(s, f, exogs, picked, err) < 0 || oc_forecaster_fit(f, hist, exogs ? picked : NULL, err) < 0) {
    oc_forecaster_free(f);
    return -1;
  }
  oc_forecaster_free(s->model);
  s->model = f;
  s->chosen = best;
  snprintf(s->fallback, sizeof s->fallback, "%s", fallback);
  return 0;
}

static int auto_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  auto_state *s = state;
  oc_series picked[OC_BACKTEST_MAX_EXOGS];
  if (pick_exogs(s, s->model, exogs, picked, err) < 0) return -1;
  return oc_forecaster_update(s->model, hist, exogs ? picked : NULL, err);
}

static int auto_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const auto_state *s = state;
  return oc_forecaster_predict(s->model, horizon, out, err);
}

static size_t auto_exogs(const void *state, const char *const **names) {
  const auto_state *s = state;
  *names = s->nexog ? s->exog_names : NULL;
  return s->nexog;
}

static json_t *auto_save(const void *state) {
  const auto_state *s = state;
  char *text = s->model ? oc_forecaster_save(s->model) : NULL;
  json_t *model = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!model) return NULL;
  json_t *saved = json_pack("{s:s,s:o}", "chosen", s->candidates[s->chosen], "model", model);
  if (s->fallback[0]) json_object_set_new(saved, "fallback", json_string(s->fallback));
  return saved;
}

static int auto_load(void *state, const json_t *saved, oc_error *err) {
  auto_state *s = state;
  const char *chosen = json_string_value(json_object_get(saved, "chosen"));
  size_t i = 0;
  while (chosen && i < s->n && strcmp(s->candidates[i], chosen) != 0) i++;
  if (!chosen || i == s->n) return oc_error_set(err, "auto state: 'chosen' is not one of the candidates");
  char *text = json_dumps(json_object_get(saved, "model"), JSON_COMPACT | JSON_REAL_PRECISION(17));
  oc_forecaster *f = text ? oc_forecaster_load(text, err) : NULL;
  free(text);
  if (!f) return oc_error_prefix(err, "auto state: model: ");
  oc_forecaster_free(s->model);
  s->model = f;
  s->chosen = i;
  const char *fallback = json_string_value(json_object_get(saved, "fallback"));
  snprintf(s->fallback, sizeof s->fallback, "%s", fallback ? fallback : "");
  return 0;
}

const oc_model_type oc_model_auto = {
    .kind = "auto",
    .summary = "the candidate with the best worst-year (then median-year) validation relMAE, chosen again at "
               "every fit (candidates=" AUTO_DEFAULT_CANDIDATES ", validation=250 origins per year, years=2, refit=20, "
               "horizon=7, exog=A+B; too short a history: the first candidate)",
    .create = auto_create,
    .fit = auto_fit,
    .update = auto_update,
    .predict = auto_predict,
    .save = auto_save,
    .load = auto_load,
    .destroy = auto_destroy,
    .exogs = auto_exogs,
};
