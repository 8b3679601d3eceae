/* cmd_models.c: `oilcast models list` and `oilcast models show vN`: the model registry as the store
 * records it, and one version's model card (checked against its registered checksum). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "model/forecaster.h"
#include "model/registry.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_models = {
    .name = "models",
    .summary = "list registered model versions, show one version's model card, or list the model kinds",
    .usage = "Usage: oilcast models list [--format table|csv|json]\n"
    "       oilcast models show vN [--format table|json]\n"
    "       oilcast models kinds\n\n"
    "  list   every version: status (deployed while an endpoint serves it), series, kind, validation\n"
    "         relMAE against the no-change forecast on the same validation rows or origins (every kind;\n"
    "         '-' when the version was not validated), both MAEs (USD/bbl), creation time\n"
    "  show   the version's model.json (architecture, features, data checksums, hyperparameters,\n"
    "         metrics; a network's bag: how many networks it averages, their seeds), after checking it\n"
    "         and its tensors against the registry\n"
    "  kinds  the model kinds a spec (--model, --models) may name, each with its parameters' defaults\n"
    "  --format F   table (default), csv or json\n",
    .run = run};

enum { OPT_FORMAT = 1 };

static void iso_time(int64_t t, char *buf, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The one validation figure every kind has, comparable across kinds: relMAE against no-change on the
 * version's validation rows or origins, from the two MAEs (versions registered before val_loss held
 * it for the network too keep their MSE there); absent when the version was not validated. */
static bool validated(const oc_model_version *v) { return v->naive_mae > 0 && v->val_mae > 0; }
static double rel_mae(const oc_model_version *v) { return v->val_mae / v->naive_mae; }

static void print_list(const oc_model_version *v, size_t n, oc_cli_format fmt) {
  char when[32];
  json_t *records = json_array();
  if (fmt == OC_CLI_TABLE)
    printf("%-7s %-10s %-8s %-9s %11s %10s %10s  %s\n", "version", "status", "series", "kind", "val_rel_mae", "val_mae",
           "naive_mae", "created");
  for (size_t i = 0; i < n; i++) {
    iso_time(v[i].created_at, when, sizeof when);
    char version[32];
    snprintf(version, sizeof version, "v%lld", (long long)v[i].version);
    if (fmt == OC_CLI_TABLE && validated(&v[i]))
      printf("%-7s %-10s %-8s %-9s %11.4f %10.4f %10.4f  %s\n", version, v[i].status, v[i].series, v[i].kind,
             rel_mae(&v[i]), v[i].val_mae, v[i].naive_mae, when);
    else if (fmt == OC_CLI_TABLE)
      printf("%-7s %-10s %-8s %-9s %11s %10s %10s  %s\n", version, v[i].status, v[i].series, v[i].kind, "-", "-", "-",
             when);
    else
      json_array_append_new(records,
                            json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s}", "version", version, "status",
                                      v[i].status, "series", v[i].series, "val_rel_mae",
                                      validated(&v[i]) ? oc_json_number(rel_mae(&v[i])) : json_null(), "val_mae",
                                      validated(&v[i]) ? oc_json_number(v[i].val_mae) : json_null(), "naive_mae",
                                      validated(&v[i]) ? oc_json_number(v[i].naive_mae) : json_null(), "created", when,
                                      "path", v[i].path, "kind", v[i].kind));
  }
  if (fmt != OC_CLI_TABLE) oc_cli_print_records(records, fmt);
  json_decref(records);
}

static int show(const oc_cli *cli, oc_store *store, int64_t version, oc_cli_format fmt) {
  oc_error err;
  oc_buf text = {0};
  if (oc_registry_describe(cli->data_dir, store, version, fmt == OC_CLI_JSON, &text, &err) != 0)
    return oc_cli_runtime_error("%s", err.message);
  fputs(text.data, stdout);
  oc_buf_free(&text);
  return OC_EXIT_OK;
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"format", required_argument, NULL, OPT_FORMAT}, OC_CLI_COMMON_OPTIONS, {0}};
  const oc_command *cmd = &oc_cmd_models;
  oc_cli_format fmt = OC_CLI_TABLE;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_FORMAT) {
      if (oc_cli_format_parse(optarg, &fmt) != 0)
        return oc_cli_usage_error(cmd, "--format must be table, csv or json, not '%s'", optarg);
      continue;
    }
    int handled = oc_cli_common_option(cli, cmd, opt, optarg, &code);
    if (handled < 0) return code;
    if (handled == 0) return oc_cli_unknown_option(cmd);
  }
  const char *action = optind < argc ? argv[optind] : NULL;
  bool list = action && strcmp(action, "list") == 0, show_one = action && strcmp(action, "show") == 0;
  if (action && strcmp(action, "kinds") == 0) {
    if (optind + 1 != argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    for (const oc_model_type *const *t = oc_model_types; *t; t++) printf("%-10s %s\n", (*t)->kind, (*t)->summary);
    return OC_EXIT_OK;
  }
  if (!list && !show_one) return oc_cli_usage_error(cmd, "expected 'models list', 'models show vN' or 'models kinds'");
  if (list && optind + 1 != argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  int64_t version = 0;
  if (show_one) {
    if (optind + 2 != argc) return oc_cli_usage_error(cmd, "'models show' takes exactly one version (vN)");
    if (oc_model_version_parse(argv[optind + 1], &version) != 0)
      return oc_cli_usage_error(cmd, "'%s' is not a model version (v1, v2, ...)", argv[optind + 1]);
    if (fmt == OC_CLI_CSV) return oc_cli_usage_error(cmd, "'models show' prints table or json");
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
