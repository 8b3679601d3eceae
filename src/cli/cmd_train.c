/* cmd_train.c: `oilcast train`: the reference guide's train_model.py. Reads the ETL training table
 * (Parquet, via the lake), fits the reference network (model/trainer.h), calibrates its intervals on the
 * stored history (model/mlp_calibration.h), publishes the result as the next model version and, with --deploy, points an endpoint at it; prints a progress bar per epoch
 * (terminals only) and a final report comparing the validation MAE with the no-change forecast's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/progress.h"
#include "lake/lake.h"
#include "model/auto_select.h"
#include "model/forecaster.h"
#include "model/mlp_calibration.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "model/tune.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_train = {
    "train", "train the reference network (or choose among every model: --model auto) and register a new version",
    "Usage: oilcast train [--data-path processed/training_data.parquet] [--epochs 100] [--batch-size 32]\n"
    "                     [--learning-rate 1e-3] [--hidden 64,32] [--dropout 0.2] [--weight-decay 0]\n"
    "                     [--loss mse|huber] [--patience 10] [--seed 42] [--deploy]\n"
    "                     [--tune [--trials 50] [--tune-method random|halving] [--threads N]]\n"
    "                     [--endpoint-name " OC_DEFAULT_ENDPOINT "]\n"
    "       oilcast train --model auto|naive|drift|mean|ets|ar|ensemble|SPEC [--series WTI]\n"
    "                     [--validation-origins 250] [--threads N] [--deploy] [--endpoint-name E]\n\n"
    "--model mlp (the default) trains the network below on the ETL table. Any other model is fitted on the\n"
    "stored series (--series, default WTI) and registered as forecaster.json + model.json. --model auto\n"
    "runs every model (naive, drift, mean, ets, ar, mlp, ensemble) through the walk-forward backtest on the\n"
    "same validation origins (the last --validation-origins that still have 7 observations after them,\n"
    "refit every 20), prints the comparison, and registers the one with the lowest validation relMAE; its\n"
    "card keeps the whole comparison (docs/evaluation.md).\n\n"
    "Network: Dense(h1, relu) > BatchNorm > Dropout(p) > Dense(h2, relu) > BatchNorm > Dropout(p) > Dense(H),\n"
    "one output per horizon of the table. Adam (Keras defaults), He initialisation, mini-batches in a\n"
    "seeded shuffle; the same data, options and seed give a bit-identical model.\n\n"
    "  --data-path F       the `oilcast etl` table; a relative path is inside the data directory, as for\n"
    "                      `oilcast etl --out` (default processed/training_data.parquet)\n"
    "  --hidden H1,H2      hidden widths (default 64,32)\n"
    "  --dropout P         dropout rate in [0, 1) (default 0.2)\n"
    "  --weight-decay W    decoupled (AdamW) decay of the dense weights (default 0)\n"
    "  --loss L            mse (default) or huber (delta 1)\n"
    "  --patience N        stop after N epochs without a better validation loss and keep the best\n"
    "                      epoch's weights (default 10; 0 = run every epoch, still keeping the best);\n"
    "                      the learning rate halves after N/2 epochs without improvement\n"
    "  --seed S            initialisation, shuffles and dropout (default 42)\n"
    "  --deploy            serve the new version at 100% on the endpoint (created if needed)\n"
    "  --endpoint-name E   endpoint for --deploy (default " OC_DEFAULT_ENDPOINT ")\n"
    "  --tune              search learning rate, hidden sizes, dropout, weight decay and batch size first\n"
    "                      (objective: validation MAE over walk-forward folds of the training rows; see\n"
    "                      docs/evaluation.md), print the trials and train the best\n"
    "  --trials N          tuning trials (default 50); --tune-method random (default) or halving;\n"
    "  --threads N         parallel tuning fits (default 2); the result does not depend on it\n\n"
    "Writes DATA_DIR/models/artifacts/vN/{model.safetensors,model.json} and registers vN in the store; model.json\n"
    "keeps the 80%/95% interval calibration, computed on the stored series' most recent 250 origins.\n",
    run};

enum { OPT_DATA = 1, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_HIDDEN, OPT_DROPOUT, OPT_WD, OPT_LOSS, OPT_PATIENCE,
       OPT_SEED, OPT_DEPLOY, OPT_ENDPOINT, OPT_TUNE, OPT_TRIALS, OPT_TUNE_METHOD, OPT_THREADS, OPT_MODEL, OPT_SERIES,
       OPT_ORIGINS };

/* --model auto's candidates, in tie-breaking order. */
static const char *const auto_candidates[] = {"naive", "drift", "mean", "ets", "ar", "mlp", "ensemble"};

static void print_comparison(const json_t *selection) {
  printf("%-10s %14s %10s %12s\n", "model", "val relMAE", "val MAE", "coverage80");
  size_t i;
  json_t *c;
  const char *chosen = json_string_value(json_object_get(selection, "chosen"));
  json_array_foreach(json_object_get(selection, "candidates"), i, c) {
    const char *name = json_string_value(json_object_get(c, "model"));
    printf("%-10s %14.4f %10.4f %12.3f%s\n", name, json_number_value(json_object_get(c, "rel_mae")),
           json_number_value(json_object_get(c, "mae")), json_number_value(json_object_get(c, "coverage80")),
           strcmp(name, chosen) == 0 ? "  <- chosen" : "");
  }
}

/* --model other than mlp: choose (auto) or take the model, fit it on the stored series, register it.
 * When auto chooses the network, nothing is registered here: *network_selection receives the
 * comparison and the caller trains the network on the ETL table as `--model mlp` does. */
static int train_forecaster(oc_cli *cli, const char *model, const char *series, const oc_auto_config *ac,
                            bool deploy, const char *endpoint, json_t **network_selection) {
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  oc_series hist = {0};
  oc_auto_choice choice = {0};
  json_t *selection = NULL;
  oc_forecaster *f = NULL;
  int64_t version;
  const char *spec = model;
  int rc = oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &hist, &err);
  if (rc == 0 && strcmp(model, "auto") == 0) {
    rc = oc_auto_select(&hist, auto_candidates, sizeof auto_candidates / sizeof *auto_candidates, ac, &choice, &err);
    if (rc == 0) {
      selection = oc_auto_choice_to_json(&choice);
      spec = auto_candidates[choice.best];
      char from[OC_DATE_STRLEN], to[OC_DATE_STRLEN];
      printf("validation: %zu origins of %s, %s to %s, horizons 1..%zu, refit every %zu\n", choice.result.n_origins,
             series, oc_date_format(choice.result.start, from), oc_date_format(choice.result.end, to), ac->horizon,
             ac->refit_every);
      print_comparison(selection);
    }
  }
  if (rc == 0 && selection && strcmp(spec, "mlp") == 0) {
    *network_selection = json_incref(selection);
    spec = NULL;
  }
  if (rc == 0 && spec && !(f = oc_forecaster_create(spec, &err))) rc = -1;
  if (rc == 0 && f) rc = oc_forecaster_fit(f, &hist, NULL, &err);
  if (rc == 0 && f) rc = oc_registry_publish_forecaster(cli->data_dir, store, f, &hist, selection, &version, &err);
  if (rc == 0 && f && deploy) rc = oc_registry_deploy(cli->data_dir, store, endpoint, version, &err);
  if (rc == 0 && f) {
    char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
    printf("trained v%lld: %s on %s, %zu observations %s to %s\n", (long long)version, spec, series, hist.n,
           oc_date_format(hist.dates[0], first), oc_date_format(hist.dates[hist.n - 1], last));
    printf("model files       %s/models/artifacts/v%lld/{forecaster.json,model.json}\n", cli->data_dir, (long long)version);
    if (deploy) printf("deployed          endpoint %s -> v%lld (100%%)\n", endpoint, (long long)version);
  }
  oc_forecaster_free(f);
  json_decref(selection);
  oc_auto_choice_free(&choice);
  if (hist.name) oc_series_free(&hist);
  oc_store_close(store);
  return rc == 0 ? OC_EXIT_OK : oc_cli_runtime_error("%s", err.message);
}

typedef struct progress_ctx {
  oc_progress bar;
} progress_ctx;

static void on_epoch(void *ctx, int epoch, int epochs, float train_loss, float val_loss, float lr) {
  progress_ctx *p = ctx;
  char detail[128];
  snprintf(detail, sizeof detail, "epoch %d/%d train %.6g val %.6g lr %.2g", epoch, epochs, train_loss, val_loss, lr);
  oc_progress_update(&p->bar, (uint64_t)epoch, detail);
}

static int parse_hidden(const char *text, int *h1, int *h2) {
  long a, b;
  char first[32];
  const char *comma = strchr(text, ',');
  if (!comma || (size_t)(comma - text) >= sizeof first) return -1;
  memcpy(first, text, (size_t)(comma - text));
  first[comma - text] = '\0';
  if (oc_cli_parse_int(first, 1, 65536, &a) != 0 || oc_cli_parse_int(comma + 1, 1, 65536, &b) != 0) return -1;
  *h1 = (int)a;
  *h2 = (int)b;
  return 0;
}

/* A relative --data-path is inside the data directory (as `oilcast etl --out` writes it). */
static char *resolve_data_path(const oc_cli *cli, const char *path) {
  return path[0] == '/' ? oc_xstrdup(path) : oc_path_join(cli->data_dir, path);
}

static void report(const oc_training_table *t, const oc_model_card *card, const oc_fit_result *res,
                   const oc_train_params *p, const char *data_dir, const char *deployed) {
  char end[OC_DATE_STRLEN];
  printf("trained %s on %s: %zu training rows (to %s), %zu validation rows, %zu features, %zu horizons\n",
         card->version, card->data_path, t->n_train, oc_date_format(t->train_end, end), t->n_val, t->n_in, t->n_out);
  if (t->skipped) printf("skipped rows      %zu (a feature, target or price missing: warm-up and the last horizons)\n", t->skipped);
  printf("epochs run        %d of %d (best epoch %d), %.2f s\n", res->epochs_run, p->epochs, res->best_epoch, res->seconds);
  printf("validation loss   %.6g (%s)\n", card->metrics.val_loss, oc_loss_name(p->loss));
  printf("validation MAE    %.4f USD/bbl over all horizons; no-change forecast on the same rows: %.4f USD/bbl "
         "(ratio %.4f)\n", card->metrics.val_mae_price, card->metrics.naive_mae_price,
         card->metrics.val_mae_price / card->metrics.naive_mae_price);
  printf("model files       %s/models/artifacts/%s/{model.safetensors,model.json}\n", data_dir, card->version);
  if (deployed) printf("deployed          endpoint %s -> %s (100%%)\n", deployed, card->version);
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {
      {"data-path", required_argument, NULL, OPT_DATA},    {"epochs", required_argument, NULL, OPT_EPOCHS},
      {"batch-size", required_argument, NULL, OPT_BATCH},  {"learning-rate", required_argument, NULL, OPT_LR},
      {"hidden", required_argument, NULL, OPT_HIDDEN},     {"dropout", required_argument, NULL, OPT_DROPOUT},
      {"weight-decay", required_argument, NULL, OPT_WD},   {"loss", required_argument, NULL, OPT_LOSS},
      {"patience", required_argument, NULL, OPT_PATIENCE}, {"seed", required_argument, NULL, OPT_SEED},
      {"deploy", no_argument, NULL, OPT_DEPLOY},           {"endpoint-name", required_argument, NULL, OPT_ENDPOINT},
      {"tune", no_argument, NULL, OPT_TUNE},               {"trials", required_argument, NULL, OPT_TRIALS},
      {"tune-method", required_argument, NULL, OPT_TUNE_METHOD}, {"threads", required_argument, NULL, OPT_THREADS},
      {"model", required_argument, NULL, OPT_MODEL},       {"series", required_argument, NULL, OPT_SERIES},
      {"validation-origins", required_argument, NULL, OPT_ORIGINS},
      OC_CLI_COMMON_OPTIONS,                               {0}};
  const oc_command *cmd = &oc_cmd_train;
  const char *data_arg = "processed/training_data.parquet", *endpoint = OC_DEFAULT_ENDPOINT;
  const char *model_arg = "mlp", *series = "WTI";
  oc_auto_config ac;
  oc_auto_config_default(&ac);
  oc_train_params p = oc_train_params_default();
  oc_mlp_arch arch = oc_mlp_arch_default(1, 1);
  bool deploy = false, tune = false;
  oc_tune_config tuning;
  oc_tune_config_default(&tuning);
  long v;
  double d;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case OPT_DATA: data_arg = optarg; break;
    case OPT_EPOCHS:
      if (oc_cli_parse_int(optarg, 1, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--epochs must be 1..100000");
      p.epochs = (int)v;
      break;
    case OPT_BATCH:
      if (oc_cli_parse_int(optarg, 1, 65536, &v) != 0) return oc_cli_usage_error(cmd, "--batch-size must be 1..65536");
      p.batch_size = (int)v;
      break;
    case OPT_LR:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d > 0 && d <= 10))
        return oc_cli_usage_error(cmd, "--learning-rate must be in (0, 10], not '%s'", optarg);
      p.learning_rate = (float)d;
      break;
    case OPT_HIDDEN:
      if (parse_hidden(optarg, &arch.h1, &arch.h2) != 0)
        return oc_cli_usage_error(cmd, "--hidden must be two widths like 64,32, not '%s'", optarg);
      break;
    case OPT_DROPOUT:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d >= 0 && d < 1))
        return oc_cli_usage_error(cmd, "--dropout must be in [0, 1), not '%s'", optarg);
      arch.dropout = (float)d;
      break;
    case OPT_WD:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d >= 0))
        return oc_cli_usage_error(cmd, "--weight-decay must be >= 0, not '%s'", optarg);
      p.weight_decay = (float)d;
      break;
    case OPT_LOSS:
      if (oc_loss_parse(optarg, &p.loss) != 0) return oc_cli_usage_error(cmd, "--loss must be mse or huber");
      break;
    case OPT_PATIENCE:
      if (oc_cli_parse_int(optarg, 0, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--patience must be >= 0");
      p.early_stopping_patience = (int)v;
      p.lr_patience = (int)(v / 2);
      break;
    case OPT_SEED:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &v) != 0) return oc_cli_usage_error(cmd, "--seed must be >= 0");
      p.seed = (uint64_t)v;
      break;
    case OPT_DEPLOY: deploy = true; break;
    case OPT_TUNE: tune = true; break;
    case OPT_TRIALS:
      if (oc_cli_parse_int(optarg, 1, 10000, &v) != 0) return oc_cli_usage_error(cmd, "--trials must be 1..10000");
      tuning.trials = (int)v;
      break;
    case OPT_TUNE_METHOD:
      if (oc_tune_method_parse(optarg, &tuning.method) != 0)
        return oc_cli_usage_error(cmd, "--tune-method must be random or halving, not '%s'", optarg);
      break;
    case OPT_THREADS:
      if (oc_cli_parse_int(optarg, 1, 1024, &v) != 0) return oc_cli_usage_error(cmd, "--threads must be 1..1024");
      tuning.threads = (int)v;
      ac.threads = (size_t)v;
      break;
    case OPT_MODEL: model_arg = optarg; break;
    case OPT_SERIES: series = optarg; break;
    case OPT_ORIGINS:
      if (oc_cli_parse_int(optarg, 2, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--validation-origins must be 2..100000");
      ac.origins = (size_t)v;
      break;
    case OPT_ENDPOINT: endpoint = optarg; break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_usage_error(cmd, "unknown option");
    }
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  oc_error err;
  if (oc_train_params_check(&p, &err) != 0) return oc_cli_usage_error(cmd, "%s", err.message);
  json_t *selection = NULL;
  if (strcmp(model_arg, "mlp") != 0) {
    code = train_forecaster(cli, model_arg, series, &ac, deploy, endpoint, &selection);
    if (code != OC_EXIT_OK || !selection) return code;
  }

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  char *data_path = resolve_data_path(cli, data_arg);
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp model = {0};
  oc_model_card card = {0};
  oc_fit_result res = {0};
  int rc = OC_EXIT_OK;
  oc_buf tuned = {0};
  tuning.base = p;
  tuning.seed = p.seed;
  if (oc_lake_read_frame(data_path, &frame, &err) != 0 || oc_training_table_from_frame(&frame, &table, &err) != 0) {
    rc = oc_cli_runtime_error("%s: %s", data_path, err.message);
  } else if (tune && oc_tune_choose(&table, &tuning, &arch, &p, &tuned, &err) != 0) {
    rc = oc_cli_runtime_error("%s", err.message);
  } else {
    if (tune) fputs(tuned.data, stdout);
    progress_ctx prog;
    oc_progress_start(&prog.bar, "train", (uint64_t)p.epochs);
    int fit = oc_train_on_table(&table, &arch, &p, data_arg, on_epoch, &prog, &model, &card, &res, &err);
    oc_progress_finish(&prog.bar);
    if (fit == 0 && selection) card.selection_json = json_dumps(selection, JSON_COMPACT | JSON_REAL_PRECISION(17));
    oc_error cal_err;
    if (fit == 0 && oc_mlp_calibrate_on_store(store, &model, &card, &cal_err) != 0)
      oc_warn("the intervals are not calibrated (%s): the server will calibrate them when it loads the version",
              cal_err.message);
    int64_t version;
    if (fit != 0 || oc_registry_publish(cli->data_dir, store, &model, &card, &version, &err) != 0 ||
        (deploy && oc_registry_deploy(cli->data_dir, store, endpoint, version, &err) != 0))
      rc = oc_cli_runtime_error("%s", err.message);
    else
      report(&table, &card, &res, &p, cli->data_dir, deploy ? endpoint : NULL);
  }
  json_decref(selection);
  oc_buf_free(&tuned);
  oc_fit_result_free(&res);
  oc_model_card_free(&card);
  oc_mlp_free(&model);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  free(data_path);
  oc_store_close(store);
  return rc;
}
