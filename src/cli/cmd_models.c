/* cmd_models.c: `oilcast models list` and `oilcast models show vN`: the model registry as the store
 * records it, and one version's model card (checked against its registered checksum). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "model/forecaster.h"
#include "model/registry.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_models = {
    "models", "list registered model versions, or show one version's model card",
    "Usage: oilcast models list [--format table|csv|json]\n"
    "       oilcast models show vN [--format table|json]\n\n"
    "  list   every version: status (deployed while an endpoint serves it), series, validation loss,\n"
    "         validation MAE (USD/bbl) against the no-change forecast's, creation time\n"
    "  show   the version's model.json (architecture, features, data checksums, hyperparameters,\n"
    "         metrics), after checking it and its tensors against the registry\n"
    "  --format F   table (default), csv or json\n",
    run};

enum { OPT_FORMAT = 1 };

static void iso_time(int64_t t, char *buf, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_list(const oc_model_version *v, size_t n, const char *fmt) {
  char when[32];
  if (strcmp(fmt, "table") == 0)
    printf("%-7s %-10s %-8s %-9s %12s %10s %10s  %s\n", "version", "status", "series", "kind", "val_loss", "val_mae",
           "naive_mae", "created");
  else if (strcmp(fmt, "csv") == 0)
    printf("version,status,series,val_loss,val_mae,naive_mae,created,path,kind\n");
  else
    printf("[");
  for (size_t i = 0; i < n; i++) {
    iso_time(v[i].created_at, when, sizeof when);
    if (strcmp(fmt, "table") == 0)
      printf("v%-6lld %-10s %-8s %-9s %12.6g %10.4f %10.4f  %s\n", (long long)v[i].version, v[i].status, v[i].series,
             v[i].kind, v[i].val_loss, v[i].val_mae, v[i].naive_mae, when);
    else if (strcmp(fmt, "csv") == 0)
      printf("v%lld,%s,%s,%.9g,%.9g,%.9g,%s,%s,%s\n", (long long)v[i].version, v[i].status, v[i].series, v[i].val_loss,
             v[i].val_mae, v[i].naive_mae, when, v[i].path, v[i].kind);
    else
      printf("%s{\"version\":\"v%lld\",\"status\":\"%s\",\"series\":\"%s\",\"val_loss\":%.9g,\"val_mae\":%.9g,"
             "\"naive_mae\":%.9g,\"created\":\"%s\",\"path\":\"%s\",\"kind\":\"%s\"}",
             i ? "," : "", (long long)v[i].version, v[i].status, v[i].series, v[i].val_loss, v[i].val_mae,
             v[i].naive_mae, when, v[i].path, v[i].kind);
  }
  if (strcmp(fmt, "json") == 0) printf("]\n");
}

/* The `train --model auto` comparison kept in a card (nothing when there is none). */
static void print_selection(const json_t *selection) {
  if (!json_is_object(selection)) return;
  printf("chosen by      %s\n", json_string_value(json_object_get(selection, "criterion")));
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(selection, "candidates"), i, c)
    printf("  %-10s relMAE %.4f  MAE %.4f  coverage80 %.3f\n", json_string_value(json_object_get(c, "model")),
           json_number_value(json_object_get(c, "rel_mae")), json_number_value(json_object_get(c, "mae")),
           json_number_value(json_object_get(c, "coverage80")));
}

/* A forecaster version: its card as JSON, or a summary with the comparison that chose it. */
static int show_forecaster(const oc_cli *cli, oc_store *store, int64_t version, const char *fmt) {
  oc_forecaster *f;
  json_t *card;
  oc_error err;
  if (oc_registry_load_forecaster(cli->data_dir, store, version, &f, &card, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  if (strcmp(fmt, "json") == 0) {
    char *text = json_dumps(card, JSON_INDENT(2) | JSON_SORT_KEYS);
    puts(text);
    free(text);
  } else {
    json_t *training = json_object_get(card, "training"), *metrics = json_object_get(card, "metrics");
    json_t *selection = json_object_get(card, "selection");
    printf("version        %s\n", json_string_value(json_object_get(card, "version")));
    printf("kind           %s (spec %s)\n", oc_forecaster_kind(f), oc_forecaster_name(f));
    printf("series         %s, %lld observations %s to %s\n", json_string_value(json_object_get(card, "series")),
           (long long)json_integer_value(json_object_get(training, "observations")),
           json_string_value(json_object_get(training, "first")), json_string_value(json_object_get(training, "last")));
    if (json_is_object(metrics))
      printf("validation     relMAE %.4f, MAE %.4f USD/bbl (no-change forecast: %.4f)\n",
             json_number_value(json_object_get(metrics, "validation_rel_mae")),
             json_number_value(json_object_get(metrics, "validation_mae")),
             json_number_value(json_object_get(metrics, "naive_validation_mae")));
    print_selection(selection);
    printf("created        %s by oilcast %s\n", json_string_value(json_object_get(card, "created")),
           json_string_value(json_object_get(card, "oilcast_version")));
  }
  json_decref(card);
  oc_forecaster_free(f);
  return OC_EXIT_OK;
}

static int show(const oc_cli *cli, oc_store *store, int64_t version, const char *fmt) {
  oc_error err;
  bool is_forecaster;
  if (oc_registry_is_forecaster(cli->data_dir, store, version, &is_forecaster, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  if (is_forecaster) return show_forecaster(cli, store, version, fmt);
  oc_mlp m;
  oc_model_card card;
  if (oc_registry_load(cli->data_dir, store, version, &m, &card, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  oc_model_version row;
  bool found;
  int rc = OC_EXIT_OK;
  if (oc_store_model_version_get(store, version, &row, &found, &err) != 0 || !found) {
    rc = oc_cli_runtime_error("%s", found ? err.message : "model version vanished from the registry");
  } else if (strcmp(fmt, "json") == 0) {
    char *text = oc_model_card_to_json(&card, &m.arch);
    fputs(text, stdout);
    free(text);
  } else {
    char end[OC_DATE_STRLEN];
    printf("version        %s (%s)\n", card.version, row.status);
    printf("path           %s\n", row.path);
    printf("series         %s, %d horizons (business days)\n", card.series, m.arch.n_out);
    printf("network        Dense(%d, relu) > BatchNorm > Dropout(%g) > Dense(%d, relu) > BatchNorm > Dropout(%g) > "
           "Dense(%d)\n", m.arch.h1, m.arch.dropout, m.arch.h2, m.arch.dropout, m.arch.n_out);
    printf("features       %zu:", card.n_features);
    for (size_t i = 0; i < card.n_features; i++) printf(" %s", card.features[i]);
    printf("\ntraining data  %s (%zu train rows to %s, %zu validation rows)\n", card.data_path, card.train_rows,
           oc_date_format(card.train_end, end), card.val_rows);
    printf("source sha256  %s\n", card.source_checksum);
    printf("hyperparams    epochs %d, batch %d, lr %g, weight decay %g, loss %s, seed %llu\n", card.params.epochs,
           card.params.batch_size, card.params.learning_rate, card.params.weight_decay, oc_loss_name(card.params.loss),
           (unsigned long long)card.params.seed);
    printf("training       %d epochs run, best epoch %d, %.2f s\n", card.metrics.epochs_run, card.metrics.best_epoch,
           card.metrics.train_seconds);
    printf("validation     loss %.6g, MAE %.4f USD/bbl (no-change forecast: %.4f)\n", card.metrics.val_loss,
           card.metrics.val_mae_price, card.metrics.naive_mae_price);
    const oc_mlp_calibration *cal = &card.calibration;
    if (cal->q80) {
      char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
      printf("intervals      split-conformal on %zu %s origins %s to %s; 80%% +-%.2f%% at h1, +-%.2f%% at h%d\n",
             cal->origins, cal->out_of_sample ? "out-of-sample" : "in-sample", oc_date_format(cal->first_origin, first),
             oc_date_format(cal->last_origin, last), 100 * cal->q80[0], 100 * cal->q80[m.arch.n_out - 1], m.arch.n_out);
    } else {
      printf("intervals      not stored (trained by an older oilcast): calibrated when loaded\n");
    }
    if (card.selection_json) {
      json_t *selection = json_loads(card.selection_json, 0, NULL);
      print_selection(selection);
      json_decref(selection);
    }
    printf("created        %s by oilcast %s\n", card.created, card.oilcast_version);
  }
  if (found) oc_model_version_free(&row);
  oc_mlp_free(&m);
  oc_model_card_free(&card);
  return rc;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"format", required_argument, NULL, OPT_FORMAT}, OC_CLI_COMMON_OPTIONS, {0}};
  const oc_command *cmd = &oc_cmd_models;
  const char *fmt = "table";
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_FORMAT) {
      if (strcmp(optarg, "table") != 0 && strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
        return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", optarg);
      fmt = optarg;
      continue;
    }
    int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_usage_error(cmd, "unknown option");
  }
  const char *action = optind < argc ? argv[optind] : NULL;
  bool list = action && strcmp(action, "list") == 0, show_one = action && strcmp(action, "show") == 0;
  if (!list && !show_one) return oc_cli_usage_error(cmd, "expected 'models list' or 'models show vN'");
  if (list && optind + 1 != argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  int64_t version = 0;
  if (show_one) {
    if (optind + 2 != argc) return oc_cli_usage_error(cmd, "'models show' takes exactly one version (vN)");
    if (oc_model_version_parse(argv[optind + 1], &version) != 0)
      return oc_cli_usage_error(cmd, "'%s' is not a model version (v1, v2, ...)", argv[optind + 1]);
    if (strcmp(fmt, "csv") == 0) return oc_cli_usage_error(cmd, "'models show' prints table or json");
  }
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  int rc = OC_EXIT_OK;
  if (list) {
    oc_model_version *rows;
    size_t n;
    oc_error err;
    if (oc_store_model_version_list(store, &rows, &n, &err) != 0) {
      rc = oc_cli_runtime_error("%s", err.message);
    } else {
      print_list(rows, n, fmt);
      oc_model_version_list_free(rows, n);
    }
  } else {
    rc = show(cli, store, version, fmt);
  }
  oc_store_close(store);
  return rc;
}
