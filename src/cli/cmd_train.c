/* cmd_train.c: `oilcast train`: the reference guide's train_model.py. Reads the ETL training table
 * (Parquet, via the lake), fits the reference network (model/trainer.h), publishes the result as the
 * next model version and, with --deploy, points an endpoint at it; prints a progress bar per epoch
 * (terminals only) and a final report comparing the validation MAE with the no-change forecast's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "lake/lake.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "model/tune.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_train = {
    "train", "train the reference network on the ETL table and register it as a new model version",
    "Usage: oilcast train [--data-path processed/training_data.parquet] [--epochs 100] [--batch-size 32]\n"
    "                     [--learning-rate 1e-3] [--hidden 64,32] [--dropout 0.2] [--weight-decay 0]\n"
    "                     [--loss mse|huber] [--patience 10] [--seed 42] [--deploy]\n"
    "                     [--tune [--trials 50] [--tune-method random|halving] [--threads N]]\n"
    "                     [--endpoint-name " OC_DEFAULT_ENDPOINT "]\n\n"
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
    "Writes DATA_DIR/models/artifacts/vN/{model.safetensors,model.json} and registers vN in the store.\n",
    run};

enum { OPT_DATA = 1, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_HIDDEN, OPT_DROPOUT, OPT_WD, OPT_LOSS, OPT_PATIENCE,
       OPT_SEED, OPT_DEPLOY, OPT_ENDPOINT, OPT_TUNE, OPT_TRIALS, OPT_TUNE_METHOD, OPT_THREADS };

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
      OC_CLI_COMMON_OPTIONS,                               {0}};
  const oc_command *cmd = &oc_cmd_train;
  const char *data_arg = "processed/training_data.parquet", *endpoint = OC_DEFAULT_ENDPOINT;
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
    int64_t version;
    if (fit != 0 || oc_registry_publish(cli->data_dir, store, &model, &card, &version, &err) != 0 ||
        (deploy && oc_registry_deploy(cli->data_dir, store, endpoint, version, &err) != 0))
      rc = oc_cli_runtime_error("%s", err.message);
    else
      report(&table, &card, &res, &p, cli->data_dir, deploy ? endpoint : NULL);
  }
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
