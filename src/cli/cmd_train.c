/* cmd_train.c: `oilcast train`: the reference guide's train_model.py. Parses options, calls
 * pipeline/train.h (choose or take a model, fit, calibrate, publish, deploy) and prints what it did: the
 * comparison that chose the model, the tuning trials, one progress bar over the bag's epochs (terminals only) and a
 * report comparing the validation MAE with the no-change forecast's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/registry.h"
#include "pipeline/train.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_train = {
    .name = "train",
    .summary = "fit a model (default " OC_TRAIN_DEFAULT_MODEL "; the reference network: --model mlp; the best by validation "
             "years: --model auto) and register a new version",
    .usage = "Usage: oilcast train [--model " OC_TRAIN_DEFAULT_MODEL "|auto|naive|drift|mean|ar|arx|ensemble|SPEC] [--series WTI]\n"
    "                     [--exog S,...] [--validation-origins 250] [--validation-years 2] [--threads N]\n"
    "                     [--deploy] [--endpoint-name " OC_DEFAULT_ENDPOINT "]\n"
    "       oilcast train --model mlp [--data-path processed/training_data.parquet] [--epochs 100]\n"
    "                     [--batch-size 32] [--learning-rate 1e-3] [--hidden 64,32] [--dropout 0.2]\n"
    "                     [--weight-decay 0] [--loss mse|huber] [--patience 10] [--seed 42] [--bag 3]\n"
    "                     [--deploy]\n"
    "                     [--tune [--trials 50] [--tune-method random|halving] [--threads N]]\n"
    "                     [--endpoint-name " OC_DEFAULT_ENDPOINT "]\n\n"
    "Without --model, " OC_TRAIN_DEFAULT_MODEL " is fitted on the stored series (--series, default WTI): of the kinds, it had\n"
    "the best worst year of relMAE against no-change, near-ties by the median year, on the validation\n"
    "years 2015-2022 (docs/evaluation.md, \"Choosing by validation years\"). --model mlp trains the\n"
    "reference guide's network below on the ETL table (of its own series: a --series given, or the one auto\n"
    "compares on, must be that one); the network's options need --model mlp (or auto, which trains the\n"
    "network when it wins). Any other model is fitted on the stored series and registered\n"
    "as forecaster.json + model.json, after a validation against no-change on the same origins. --model auto\n"
    "runs every model (naive, drift, mean, ets, ar, mlp, ensemble) through the walk-forward backtest on the\n"
    "same validation origins: the last --validation-years blocks (default 2) of --validation-origins (about\n"
    "a year each) that still have 7 observations after them, refit every 20. It prints each model's relMAE\n"
    "per block and registers the one with the lowest worst-year relMAE, near-ties (within 0.001) by the\n"
    "median year (--validation-years 1: the lowest relMAE of the single window); the card keeps the whole\n"
    "comparison (docs/evaluation.md). --exog S,... gives stored series to every model\n"
    "that reads other series (arx, a spec'd mlp: --model arx --exog Brent is arx:exog=Brent) and adds arx to\n"
    "auto's candidates; the served version reads them from the store at each origin.\n\n"
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
    "  --bag K             train K networks with seeds S..S+K-1 and register their average, merged into\n"
    "                      one K times as wide (default 3, chosen on validation: docs/evaluation.md; K times\n"
    "                      the training time; --bag 1: the single network)\n"
    "  --deploy            serve the new version at 100% on the endpoint (created if needed) and store\n"
    "                      its forecast from the last observation\n"
    "  --endpoint-name E   endpoint for --deploy (default " OC_DEFAULT_ENDPOINT ")\n"
    "  --tune              search learning rate, hidden sizes, dropout, weight decay and batch size first\n"
    "                      (objective: validation MAE over walk-forward folds of the training rows; see\n"
    "                      docs/evaluation.md), print the trials and train the best\n"
    "  --trials N          tuning trials (default 50); --tune-method random (default) or halving;\n"
    "  --threads N         parallel tuning fits (default 2); the result does not depend on it\n\n"
    "Writes DATA_DIR/models/artifacts/vN/{model.safetensors,model.json} and registers vN in the store; model.json\n"
    "keeps the 80%/95% interval calibration, computed on the stored series' most recent 250 origins.\n",
    .run = run};

enum { OPT_DATA = 1, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_HIDDEN, OPT_DROPOUT, OPT_WD, OPT_LOSS, OPT_PATIENCE,
       OPT_SEED, OPT_BAG, OPT_DEPLOY, OPT_ENDPOINT, OPT_TUNE, OPT_TRIALS, OPT_TUNE_METHOD, OPT_THREADS, OPT_MODEL, OPT_SERIES,
       OPT_ORIGINS, OPT_YEARS, OPT_EXOG };

/* With more than one validation block: the relMAE of each (its year) and the worst and median. */
static void print_years(const json_t *selection, int width) {
  const json_t *blocks = json_object_get(selection, "validation_years");
  if (json_array_size(blocks) < 2) return;
  size_t i, b;
  json_t *c, *x;
  printf("%-*s", width, "by year");
  json_array_foreach(blocks, b, x) printf(" %8d", (int)json_integer_value(json_object_get(x, "year")));
  printf(" %8s %8s\n", "worst", "median");
  json_array_foreach(json_object_get(selection, "candidates"), i, c) {
    printf("%-*s", width, json_string_value(json_object_get(c, "model")));
    json_array_foreach(json_object_get(c, "years"), b, x) printf(" %8.4f", json_number_value(x));
    printf(" %8.4f %8.4f\n", json_number_value(json_object_get(c, "worst")), json_number_value(json_object_get(c, "median")));
  }
  printf("chosen by: %s\n", json_string_value(json_object_get(selection, "criterion")));
}

static void print_comparison(const oc_train_result *r, const char *series, const oc_auto_config *ac) {
  char from[OC_DATE_STRLEN], to[OC_DATE_STRLEN];
  printf("validation: %zu origins of %s, %s to %s, horizons 1..%zu, refit every %zu\n", r->validation_origins, series,
         oc_date_format(r->validation_start, from), oc_date_format(r->validation_end, to), ac->horizon, ac->refit_every);
  size_t i;
  json_t *c;
  int width = 10; /* the model column fits the longest spec (arx:exog=Brent) */
  json_array_foreach(json_object_get(r->selection, "candidates"), i, c) {
    int len = (int)strlen(json_string_value(json_object_get(c, "model")));
    if (len > width) width = len;
  }
  if (json_array_size(json_object_get(r->selection, "validation_years")) > 1)
    printf("the most recent %zu origins:\n", ac->origins);
  printf("%-*s %14s %10s %12s\n", width, "model", "val relMAE", "val MAE", "coverage80");
  const char *chosen = json_string_value(json_object_get(r->selection, "chosen"));
  json_array_foreach(json_object_get(r->selection, "candidates"), i, c) {
    const char *name = json_string_value(json_object_get(c, "model"));
    printf("%-*s %14.4f %10.4f %12.3f%s\n", width, name, json_number_value(json_object_get(c, "rel_mae")),
           json_number_value(json_object_get(c, "mae")), json_number_value(json_object_get(c, "coverage80")),
           strcmp(name, chosen) == 0 ? "  <- chosen" : "");
  }
  print_years(r->selection, width);
}

/* One bar for the whole network training, over the bag's epochs (a network that stops early jumps
 * the bar to the end of its share), with "network k/K" in its detail: the bar's percentage and ETA
 * are then the command's own, which a bar restarting for each network would not give. It appears
 * with the first epoch (a forecaster, or `auto`'s comparison, has none). */
typedef struct epoch_bar {
  oc_progress bar;
  bool started;
} epoch_bar;

static void on_progress(void *ctx, const oc_train_progress *at) {
  epoch_bar *p = ctx;
  if (!p->started) oc_progress_start(&p->bar, "train", at->total);
  p->started = true;
  char network[48] = "";
  if (at->networks > 1) snprintf(network, sizeof network, "network %zu/%zu ", at->network, at->networks);
  char detail[160];
  snprintf(detail, sizeof detail, "%sepoch %d/%d train %.6g val %.6g lr %.2g%s", network, at->epoch, at->epochs,
           at->train_loss, at->val_loss, at->lr, at->network_done && at->epoch < at->epochs ? " (stopped early)" : "");
  oc_progress_update(&p->bar, at->done, detail);
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

/* Reads the options into *o; returns -1 when parsing is done (OK), else the exit code of a usage error. */
static int parse_options(oc_cli *cli, int argc, char **argv, oc_train_options *o) {
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
      {"exog", required_argument, NULL, OPT_EXOG},         {"bag", required_argument, NULL, OPT_BAG},
      {"validation-origins", required_argument, NULL, OPT_ORIGINS},
      {"validation-years", required_argument, NULL, OPT_YEARS},
      OC_CLI_COMMON_OPTIONS,                               {0}};
  const oc_command *cmd = &oc_cmd_train;
  long v;
  double d;
  int opt, code, index = 0;
  const char *network_option = NULL; /* the first option only the network reads */
  while ((opt = getopt_long(argc, argv, "", options, &index)) != -1) {
    bool network = (opt >= OPT_DATA && opt <= OPT_BAG) || (opt >= OPT_TUNE && opt <= OPT_TUNE_METHOD);
    if (network && !network_option) network_option = options[index].name;
    switch (opt) {
    case OPT_DATA: o->data_path = optarg; break;
    case OPT_EPOCHS:
      if (oc_cli_parse_int(optarg, 1, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--epochs must be 1..100000");
      o->params.epochs = (int)v;
      break;
    case OPT_BATCH:
      if (oc_cli_parse_int(optarg, 1, 65536, &v) != 0) return oc_cli_usage_error(cmd, "--batch-size must be 1..65536");
      o->params.batch_size = (int)v;
      break;
    case OPT_LR:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d > 0 && d <= 10))
        return oc_cli_usage_error(cmd, "--learning-rate must be in (0, 10], not '%s'", optarg);
      o->params.learning_rate = (float)d;
      break;
    case OPT_HIDDEN:
      if (parse_hidden(optarg, &o->arch.h1, &o->arch.h2) != 0)
        return oc_cli_usage_error(cmd, "--hidden must be two widths like 64,32, not '%s'", optarg);
      break;
    case OPT_DROPOUT:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d >= 0 && d < 1))
        return oc_cli_usage_error(cmd, "--dropout must be in [0, 1), not '%s'", optarg);
      o->arch.dropout = (float)d;
      break;
    case OPT_WD:
      if (oc_cli_parse_double(optarg, &d) != 0 || !(d >= 0))
        return oc_cli_usage_error(cmd, "--weight-decay must be >= 0, not '%s'", optarg);
      o->params.weight_decay = (float)d;
      break;
    case OPT_LOSS:
      if (oc_loss_parse(optarg, &o->params.loss) != 0) return oc_cli_usage_error(cmd, "--loss must be mse or huber");
      break;
    case OPT_PATIENCE:
      if (oc_cli_parse_int(optarg, 0, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--patience must be >= 0");
      o->params.early_stopping_patience = (int)v;
      o->params.lr_patience = (int)(v / 2);
      break;
    case OPT_SEED:
      if (oc_cli_parse_int(optarg, 0, __LONG_MAX__, &v) != 0) return oc_cli_usage_error(cmd, "--seed must be >= 0");
      o->params.seed = (uint64_t)v;
      break;
    case OPT_BAG:
      if (oc_cli_parse_int(optarg, 1, OC_TRAIN_MAX_BAG, &v) != 0)
        return oc_cli_usage_error(cmd, "--bag must be 1..%d", OC_TRAIN_MAX_BAG);
      o->bag = (size_t)v;
      break;
    case OPT_DEPLOY: o->deploy = true; break;
    case OPT_TUNE: o->tune = true; break;
    case OPT_TRIALS:
      if (oc_cli_parse_int(optarg, 1, 10000, &v) != 0) return oc_cli_usage_error(cmd, "--trials must be 1..10000");
      o->tuning.trials = (int)v;
      break;
    case OPT_TUNE_METHOD:
      if (oc_tune_method_parse(optarg, &o->tuning.method) != 0)
        return oc_cli_usage_error(cmd, "--tune-method must be random or halving, not '%s'", optarg);
      break;
    case OPT_THREADS:
      if (oc_cli_parse_int(optarg, 1, 1024, &v) != 0) return oc_cli_usage_error(cmd, "--threads must be 1..1024");
      o->tuning.threads = (int)v;
      o->choice.threads = (size_t)v;
      break;
    case OPT_MODEL: o->model = optarg; break;
    case OPT_SERIES: o->series = optarg; break;
    case OPT_EXOG: o->exog = optarg; break;
    case OPT_ORIGINS:
      if (oc_cli_parse_int(optarg, 2, 100000, &v) != 0) return oc_cli_usage_error(cmd, "--validation-origins must be 2..100000");
      o->choice.origins = (size_t)v;
      break;
    case OPT_YEARS:
      if (oc_cli_parse_int(optarg, 1, 20, &v) != 0) return oc_cli_usage_error(cmd, "--validation-years must be 1..20");
      o->choice.years = (size_t)v;
      break;
    case OPT_ENDPOINT: o->endpoint = optarg; break;
    default: {
      int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(cmd);
    }
    }
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (network_option && strcmp(o->model, "mlp") != 0 && strcmp(o->model, "auto") != 0)
    return oc_cli_usage_error(cmd, "--%s is an option of the network: add --model mlp (the model is %s)", network_option,
                              o->model);
  oc_error err;
  if (oc_train_params_check(&o->params, &err) != 0) return oc_cli_usage_error(cmd, "%s", err.message);
  return -1;
}

static int run(oc_cli *cli, int argc, char **argv) {
  oc_train_options opt = oc_train_options_default();
  int code = parse_options(cli, argc, argv, &opt);
  if (code >= 0) return code;
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  epoch_bar bar = {.started = false};
  opt.on_progress = on_progress;
  opt.on_progress_ctx = &bar;
  oc_train_result result;
  oc_error err;
  int rc = oc_pipeline_train(cli->data_dir, store, &opt, &result, &err);
  if (bar.started) oc_progress_finish(&bar.bar);
  if (result.selection) print_comparison(&result, opt.series ? opt.series : OC_TRAIN_DEFAULT_SERIES, &opt.choice);
  if (result.tuning.len) fputs(result.tuning.data, stdout);
  if (rc == 0 && result.calibration_error[0])
    oc_warn("the intervals are not calibrated (%s): the server will calibrate them when it loads the version",
            result.calibration_error);
  if (rc == 0) fputs(result.summary.data, stdout);
  if (rc == 0 && opt.deploy) printf("deployed          endpoint %s -> v%lld (100%%)\n", opt.endpoint, (long long)result.version);
  if (rc == 0 && result.forecast_error[0])
    oc_warn("deployed, but no forecast is stored yet (%s): run oilcast forecast", result.forecast_error);
  oc_train_result_free(&result);
  oc_store_close(store);
  return rc == 0 ? OC_EXIT_OK : oc_cli_step_error(&oc_cmd_train, rc, &err);
}
