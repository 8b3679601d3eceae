/* train.c: see train.h. Orchestration only: the choice is model/auto_select.h, the fits are
 * model/forecaster.h and model/trainer.h, tuning model/tune.h, intervals model/mlp_calibration.h,
 * publishing and deploying model/registry.h. */
#include "pipeline/train.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "lake/lake.h"
#include "model/feature_reference.h"
#include "model/forecaster.h"
#include "model/mlp_calibration.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "model/training_table.h"
#include "pipeline/backtest.h"
#include "pipeline/forecast.h"
#include "pipeline/pipeline.h"

/* `auto`'s candidates, in tie-breaking order; with --exog, arx (given them) joins after ar. */
static const char *const auto_candidates[] = {"naive", "drift", "mean", "ets", "ar", "mlp", "ensemble"};
#define AUTO_EXOG_CANDIDATE "arx"

oc_train_options oc_train_options_default(void) {
  oc_train_options o = {.model = OC_TRAIN_DEFAULT_MODEL, .data_path = "processed/training_data.parquet",
                        .arch = oc_mlp_arch_default(1, 1), .params = oc_train_params_default(), .bag = 3,
                        .endpoint = OC_DEFAULT_ENDPOINT};
  oc_tune_config_default(&o.tuning);
  oc_auto_config_default(&o.choice);
  return o;
}

void oc_train_result_free(oc_train_result *r) {
  json_decref(r->selection);
  oc_buf_free(&r->tuning);
  oc_buf_free(&r->summary);
  memset(r, 0, sizeof *r);
}

/* The walk-forward comparison of candidates on the stored series' validation origins (model/auto_select.h),
 * kept in out (selection, origins); *best is the index of the candidate the rule chose. */
static int compare(const oc_auto_config *config, const oc_series *hist, const char *const *candidates, size_t n,
                   oc_train_result *out, size_t *best, oc_error *err) {
  oc_auto_choice choice = {0};
  int rc = oc_auto_select(hist, candidates, n, config, &choice, err);
  if (rc == 0) {
    out->selection = oc_auto_choice_to_json(&choice);
    out->validation_origins = oc_auto_choice_origins(&choice, &out->validation_start, &out->validation_end);
    *best = choice.best;
  }
  oc_auto_choice_free(&choice);
  return rc;
}

#define RUN_MAX_SPECS (sizeof auto_candidates / sizeof *auto_candidates + 1)

/* What a run compares and fits on the stored series: its specs with --exog applied (made here, freed
 * with run_free), the stored series they read and the comparison's configuration. */
typedef struct forecaster_run {
  size_t n;
  char *specs[RUN_MAX_SPECS];
  oc_series_memo memo;
  oc_series *exogs; /* views into memo */
  size_t nexog;
  oc_auto_config choice;
} forecaster_run;

/* The run's specs: `auto`'s candidates (and arx after ar when there are exogenous series; the network,
 * "mlp", reads its exogenous series from its ETL table, so it stays as named) or the named spec. */
static int run_prepare(oc_store *store, const oc_train_options *opt, forecaster_run *run, oc_error *err) {
  *run = (forecaster_run){.memo = {.store = store}, .choice = opt->choice};
  if (strcmp(opt->model, "auto") != 0) {
    run->specs[run->n++] = oc_model_spec_with_exog(opt->model, opt->exog);
  } else {
    for (size_t i = 0; i < sizeof auto_candidates / sizeof *auto_candidates; i++) {
      const char *c = auto_candidates[i];
      run->specs[run->n++] = strcmp(c, "mlp") == 0 ? oc_xstrdup(c) : oc_model_spec_with_exog(c, opt->exog);
      if (opt->exog && strcmp(c, "ar") == 0) run->specs[run->n++] = oc_model_spec_with_exog(AUTO_EXOG_CANDIDATE, opt->exog);
    }
  }
  assert(run->n <= RUN_MAX_SPECS);
  int rc = oc_pipeline_models_exogs((const char *const *)run->specs, run->n, &run->memo, &run->exogs, &run->nexog, err);
  run->choice.exogs = run->exogs;
  run->choice.nexog = run->nexog;
  return rc;
}

static void run_free(forecaster_run *run) {
  for (size_t i = 0; i < run->n; i++) free(run->specs[i]);
  free(run->exogs);
  oc_series_memo_free(&run->memo);
}

/* `auto`: the comparison on the stored series; *spec becomes the chosen candidate (owned by run). */
static int choose(const forecaster_run *run, const oc_series *hist, const char **spec, oc_train_result *out,
                  oc_error *err) {
  size_t best;
  int rc = compare(&run->choice, hist, (const char *const *)run->specs, run->n, out, &best, err);
  if (rc == 0) *spec = run->specs[best];
  return rc;
}

/* A named forecaster, validated as `auto`'s candidates are, against no-change on the same origins, so
 * that its card and the registry hold the relMAE every kind has. A series too short to validate on
 * is still trained on (the version then has no validation figure). */
static void validate_named(const forecaster_run *run, const oc_series *hist, const char *spec, oc_train_result *out) {
  const char *const candidates[] = {spec, "naive"};
  size_t best;
  oc_error why;
  if (compare(&run->choice, hist, candidates, strcmp(spec, "naive") == 0 ? 1 : 2, out, &best, &why) != 0) return;
  json_object_set_new(out->selection, "chosen", json_string(spec));
  json_object_set_new(out->selection, "criterion", json_string("named by --model (or train's default, " OC_TRAIN_DEFAULT_MODEL
                                                               "); validated against no-change (naive) on the same "
                                                               "walk-forward origins"));
}

/* A forecaster of spec fitted on the stored series (and the other series it reads), published. */
static int train_forecaster(const char *data_dir, oc_store *store, forecaster_run *run, const char *spec,
                            const oc_series *hist, oc_train_result *out, oc_error *err) {
  oc_forecaster *f = oc_forecaster_create(spec, err);
  oc_series *exogs = NULL; /* in the order spec names them */
  size_t nexog = 0;
  int rc = f ? oc_pipeline_models_exogs(&spec, 1, &run->memo, &exogs, &nexog, err) : -1;
  if (rc == 0) rc = oc_forecaster_fit(f, hist, nexog ? exogs : NULL, err);
  free(exogs);
  if (rc == 0) rc = oc_registry_publish_forecaster(data_dir, store, f, hist, out->selection, &out->version, err);
  if (rc == 0) {
    snprintf(out->kind, sizeof out->kind, "%s", oc_forecaster_kind(f));
    char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
    oc_buf_printf(&out->summary, "trained v%lld: %s on %s, %zu observations %s to %s\n", (long long)out->version, spec,
                  hist->name, hist->n, oc_date_format(hist->dates[0], first), oc_date_format(hist->dates[hist->n - 1], last));
    oc_buf_printf(&out->summary, "model files       %s/models/artifacts/v%lld/{forecaster.json,model.json}\n", data_dir,
                  (long long)out->version);
  }
  oc_forecaster_free(f);
  return rc;
}

static void describe_network_training(oc_buf *out, const oc_training_table *t, const oc_model_card *card,
                                      const oc_fit_result *fit, const char *data_dir) {
  char end[OC_DATE_STRLEN];
  oc_buf_printf(out, "trained %s on %s: %zu training rows (to %s), %zu validation rows, %zu features, %zu horizons\n",
                card->version, card->data_path, t->n_train, oc_date_format(t->train_end, end), t->n_val, t->n_in, t->n_out);
  if (t->skipped)
    oc_buf_printf(out, "skipped rows      %zu (a feature, target or price missing: warm-up and the last horizons)\n",
                  t->skipped);
  if (t->purged) /* the ETL report counts them among its rows: say where they went */
    oc_buf_printf(out, "purged rows       %zu (dated up to %s, their targets in the validation window: in neither set)\n",
                  t->purged, end);
  oc_buf_printf(out, "epochs run        %d of %d (best epoch %d), %.2f s\n", fit->epochs_run, card->params.epochs,
                fit->best_epoch, fit->seconds);
  oc_buf_printf(out, "validation loss   %.6g (%s)\n", card->metrics.val_loss, oc_loss_name(card->params.loss));
  oc_buf_printf(out, "validation MAE    %.4f USD/bbl over all horizons; no-change forecast on the same rows: %.4f USD/bbl "
                "(ratio %.4f)\n", card->metrics.val_mae_price, card->metrics.naive_mae_price,
                card->metrics.val_mae_price / card->metrics.naive_mae_price);
  oc_buf_printf(out, "model files       %s/models/artifacts/%s/{model.safetensors,model.json}\n", data_dir, card->version);
}

/* The card's "feature_reference" (model/feature_reference.h) from the stored series up to the end of
 * training; without the series (a table made elsewhere) the card simply has none. */
static void add_feature_reference(oc_store *store, oc_model_card *card) {
  oc_series hist = {0};
  oc_error ignored;
  if (oc_store_series_load(store, card->series, OC_DATE_INVALID, card->train_end, &hist, &ignored) != 0) return;
  json_t *reference = oc_feature_reference_block(&hist, card->train_end);
  if (reference) card->feature_reference_json = oc_json_dumps(reference, OC_JSON_COMPACT);
  json_decref(reference);
  oc_series_free(&hist);
}

/* The network on the ETL table (tuned first when asked), calibrated on the stored history, published;
 * series (NULL: any) is the one the caller meant, which the table must hold. */
static int train_network(const char *data_dir, oc_store *store, const oc_train_options *opt, const char *series,
                         oc_train_result *out, oc_error *err) {
  char *path = oc_pipeline_path(data_dir, opt->data_path);
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp model = {0};
  oc_model_card card = {0};
  oc_fit_result fit = {0};
  oc_mlp_arch arch = opt->arch;
  oc_train_params params = opt->params;
  oc_tune_config tuning = opt->tuning;
  tuning.base = params;
  tuning.seed = params.seed;
  int rc = oc_lake_read_frame(path, &frame, err);
  if (rc == 0) rc = oc_training_table_from_frame(&frame, &table, err);
  if (rc != 0) oc_error_prefix(err, "%s: ", path);
  if (rc == 0 && series && (!table.series || strcmp(table.series, series) != 0))
    rc = oc_pipeline_bad_option(err, "%s: the network's ETL table holds %s, not %s (make the table with: oilcast etl "
                                "--series %s)", path, table.series ? table.series : "no named series", series, series);
  if (rc == 0 && opt->tune) rc = oc_tune_choose(&table, &tuning, &arch, &params, &out->tuning, err);
  snprintf(out->kind, sizeof out->kind, "mlp");
  if (rc == 0)
    rc = oc_train_bag_on_table(&table, &arch, &params, opt->bag, opt->data_path, opt->on_progress, opt->on_progress_ctx,
                               &model, &card, &fit, err);
  if (rc == 0) {
    if (out->selection) card.selection_json = oc_json_dumps(out->selection, OC_JSON_COMPACT);
    add_feature_reference(store, &card);
    /* Without a calibration the version still works: the server calibrates it when it loads it. */
    oc_error cal_err;
    if (oc_mlp_calibrate_on_store(store, &model, &card, &cal_err) != 0)
      snprintf(out->calibration_error, sizeof out->calibration_error, "%s", cal_err.message);
    rc = oc_registry_publish(data_dir, store, &model, &card, &out->version, err);
  }
  if (rc == 0) describe_network_training(&out->summary, &table, &card, &fit, data_dir);
  if (rc == 0 && opt->bag > 1)
    oc_buf_printf(&out->summary, "bagged            %zu networks (seeds %llu..%llu) averaged as one of %dx%d hidden units; "
                  "epochs above: the first network's\n", opt->bag, (unsigned long long)params.seed,
                  (unsigned long long)(params.seed + opt->bag - 1), model.arch.h1, model.arch.h2);
  oc_fit_result_free(&fit);
  oc_model_card_free(&card);
  oc_mlp_free(&model);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  free(path);
  return rc;
}

/* The deployed version's forecast from the last stored observation, stored as every forecast is, so
 * the dashboard has one as soon as a model serves. The version stays deployed when it cannot
 * forecast now: out->forecast_error says why. */
static void forecast_deployed(const char *data_dir, oc_store *store, const oc_train_options *opt, oc_train_result *out) {
  oc_forecast_options fo = oc_forecast_options_default();
  fo.endpoint = opt->endpoint;
  oc_forecast_result fr;
  oc_error err;
  if (oc_pipeline_forecast(data_dir, store, &fo, &fr, &err) != 0) {
    snprintf(out->forecast_error, sizeof out->forecast_error, "%s", err.message);
    return;
  }
  out->forecast_id = fr.stored_id;
  char origin[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  oc_buf_printf(&out->summary, "forecast          %s from %s (%zu days, to %s), stored (id %lld)\n", fr.series,
                oc_date_format(fr.forecast.origin, origin), fr.forecast.horizon,
                oc_date_format(fr.dates[fr.forecast.horizon - 1], last), (long long)fr.stored_id);
}

/* The options' own faults, found before anything is read or written: 0 or OC_PIPELINE_BAD_OPTION. */
static int check_options(const oc_train_options *opt, oc_error *err) {
  if (oc_train_params_check(&opt->params, err) != 0) return OC_PIPELINE_BAD_OPTION;
  if (opt->bag < 1 || opt->bag > OC_TRAIN_MAX_BAG)
    return oc_pipeline_bad_option(err, "bag %zu: the networks averaged must be 1..%d", opt->bag, OC_TRAIN_MAX_BAG);
  const char *why;
  if (opt->deploy && oc_series_name_check(opt->endpoint, strlen(opt->endpoint), &why) != 0)
    return oc_pipeline_bad_option(err, "endpoint name '%s': %s", opt->endpoint, why);
  if (strcmp(opt->model, "mlp") == 0 && opt->exog && *opt->exog)
    return oc_pipeline_bad_option(err, "exog %s: the network reads the exogenous series of its ETL table (make it with: "
                                  "oilcast etl --exog %s)", opt->exog, opt->exog);
  if (strcmp(opt->model, "mlp") == 0 || strcmp(opt->model, "auto") == 0) return 0;
  char *spec = oc_model_spec_with_exog(opt->model, opt->exog);
  oc_forecaster *f = oc_forecaster_create(spec, err);
  oc_forecaster_free(f);
  free(spec);
  return f ? 0 : OC_PIPELINE_BAD_OPTION;
}

int oc_pipeline_train(const char *data_dir, oc_store *store, const oc_train_options *opt, oc_train_result *out,
                      oc_error *err) {
  memset(out, 0, sizeof *out);
  int bad = check_options(opt, err);
  if (bad != 0) return bad;
  const char *spec = opt->model, *series = opt->series ? opt->series : OC_TRAIN_DEFAULT_SERIES;
  oc_series hist = {0};
  forecaster_run run = {0};
  int rc = 0;
  if (strcmp(spec, "mlp") != 0) {
    rc = oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &hist, err);
    if (rc == 0) rc = run_prepare(store, opt, &run, err);
    if (rc == 0 && strcmp(spec, "auto") == 0) rc = choose(&run, &hist, &spec, out, err);
    else if (rc == 0) {
      spec = run.specs[0];
      validate_named(&run, &hist, spec, out);
    }
  }
  if (rc == 0) {
    snprintf(out->spec, sizeof out->spec, "%s", spec);
    /* `auto` compared the candidates on series: the network it chose must be of that series too */
    const char *network_series = strcmp(opt->model, "mlp") == 0 ? opt->series : series;
    rc = strcmp(spec, "mlp") == 0 ? train_network(data_dir, store, opt, network_series, out, err)
                                  : train_forecaster(data_dir, store, &run, spec, &hist, out, err);
  }
  run_free(&run);
  oc_model_types_release_caches(); /* a server retrains now and then: nothing stays for the next */
  if (rc == 0 && opt->deploy) rc = oc_registry_deploy(data_dir, store, opt->endpoint, out->version, err);
  if (rc == 0 && opt->deploy) forecast_deployed(data_dir, store, opt, out);
  if (hist.name) oc_series_free(&hist);
  return rc;
}
