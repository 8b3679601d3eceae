/* cmd_retrain.c: `oilcast retrain`: one run of an endpoint's retraining and champion/challenger loop
 * (monitor/promote.h), a retraining triggered now, or an operator's promotion; prints the decisions
 * taken. Parses options and prints only: the rules are the monitor's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/log.h"
#include "model/registry.h"
#include "monitor/promote.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_retrain = {
    .name = "retrain", .summary = "retrain an endpoint's model when it degrades; promote or roll back challengers",
    .usage = "Usage: oilcast retrain --endpoint NAME [--trigger schedule|manual | --promote VERSION --reason TEXT]\n"
    "                       [--mode shadow|variant] [--weight W] [--horizon H] [rule options]\n"
    "Without --trigger or --promote: one run of the loop (run it after every import, e.g. as a daily\n"
    "job step): scores stored forecasts, rolls back a promoted version that degraded, decides on the\n"
    "challenger under evaluation, retrains on degradation or a pending alert, and forecasts the newest\n"
    "origin with the champion and the challenger. Every decision is recorded (`oilcast decisions`).\n"
    "  --trigger T         retrain now (T = schedule for a scheduled job step, or manual)\n"
    "  --promote VERSION   promote this version now, bypassing the rule (needs --reason)\n"
    "  --mode M            a new challenger in shadow (default: scored, never served) or as a variant\n"
    "  --weight W          a variant challenger's traffic share, (0, 0.5) (default 0.1)\n"
    "  --horizon H         the forecast step compared (default 1)\n"
    "Rule options (defaults in parentheses; relMAE is MAE over the no-change forecast's on the same origins):\n"
    "  --degrade-relmae X  --degrade-origins M   retrain when the champion's relMAE over its latest M\n"
    "                                            scored origins exceeds X (1.1, 10)\n"
    "  --min-origins N  --max-origins K  --p-value P   promote when, over at least N paired origins, the\n"
    "                      one-sided Diebold-Mariano p of the absolute-error difference is below P;\n"
    "                      refuse after K (20, 60, 0.05)\n"
    "  --rollback-relmae X  --rollback-origins M  roll a promoted version back when its relMAE over its\n"
    "                      latest M origins since the promotion exceeds X (1.25, 10)\n"
    "  --drift-psi X  --drift-recent M   retrain when the PSI of the champion's input over its latest M\n"
    "                      values against its training reference exceeds X (0.25, 60; 0 turns it off)\n",
    .run = run};

/* In the order of run()'s options[] (usage errors name options[opt - 1]). */
enum {
  OPT_ENDPOINT = 1, OPT_TRIGGER, OPT_PROMOTE, OPT_REASON, OPT_MODE, OPT_WEIGHT, OPT_HORIZON, OPT_DEGRADE_RELMAE,
  OPT_DEGRADE_ORIGINS, OPT_MIN_ORIGINS, OPT_MAX_ORIGINS, OPT_P_VALUE, OPT_ROLLBACK_RELMAE, OPT_ROLLBACK_ORIGINS,
  OPT_DRIFT_PSI, OPT_DRIFT_RECENT
};

/* The numeric options: where each goes (a count or a figure). */
static int parse_number(int opt, const char *arg, oc_promote_options *o) {
  size_t *count = opt == OPT_HORIZON ? &o->horizon : opt == OPT_DEGRADE_ORIGINS ? &o->degrade_origins
                : opt == OPT_MIN_ORIGINS ? &o->min_origins : opt == OPT_MAX_ORIGINS ? &o->max_origins
                : opt == OPT_ROLLBACK_ORIGINS ? &o->rollback_origins : opt == OPT_DRIFT_RECENT ? &o->drift_recent
                : NULL;
  double *figure = opt == OPT_WEIGHT ? &o->challenger_weight : opt == OPT_DEGRADE_RELMAE ? &o->degrade_rel_mae
                 : opt == OPT_P_VALUE ? &o->max_p : opt == OPT_ROLLBACK_RELMAE ? &o->rollback_rel_mae
                 : opt == OPT_DRIFT_PSI ? &o->drift_psi : NULL;
  long v;
  if (count) {
    if (oc_cli_parse_int(arg, 1, 1000000, &v) != 0) return -1;
    *count = (size_t)v;
    return 0;
  }
  return figure ? oc_cli_parse_double(arg, figure) : 1;
}

static void print_result(const oc_promote_result *r) {
  for (size_t i = 0; i < r->n; i++) {
    const oc_promotion_decision *d = &r->decisions[i];
    printf("%-9s %-12s %s\n", d->action, *d->trigger ? d->trigger : "-", d->reason);
  }
  if (r->n == 0) printf("no decision\n");
  printf("champion v%lld", (long long)r->champion);
  if (r->challenger) printf(", challenger v%lld under evaluation", (long long)r->challenger);
  printf("; %lld point(s) scored, %zu forecast(s) stored\n", (long long)r->scored, r->forecasts);
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {
      {"endpoint", required_argument, NULL, OPT_ENDPOINT}, {"trigger", required_argument, NULL, OPT_TRIGGER},
      {"promote", required_argument, NULL, OPT_PROMOTE}, {"reason", required_argument, NULL, OPT_REASON},
      {"mode", required_argument, NULL, OPT_MODE}, {"weight", required_argument, NULL, OPT_WEIGHT},
      {"horizon", required_argument, NULL, OPT_HORIZON}, {"degrade-relmae", required_argument, NULL, OPT_DEGRADE_RELMAE},
      {"degrade-origins", required_argument, NULL, OPT_DEGRADE_ORIGINS},
      {"min-origins", required_argument, NULL, OPT_MIN_ORIGINS}, {"max-origins", required_argument, NULL, OPT_MAX_ORIGINS},
      {"p-value", required_argument, NULL, OPT_P_VALUE}, {"rollback-relmae", required_argument, NULL, OPT_ROLLBACK_RELMAE},
      {"rollback-origins", required_argument, NULL, OPT_ROLLBACK_ORIGINS},
      {"drift-psi", required_argument, NULL, OPT_DRIFT_PSI}, {"drift-recent", required_argument, NULL, OPT_DRIFT_RECENT},
      OC_CLI_COMMON_OPTIONS, {0}};
  oc_promote_options o = oc_promote_options_default();
  const char *trigger = NULL, *promote = NULL, *reason = NULL;
  int opt, code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == OPT_ENDPOINT) o.endpoint = optarg;
    else if (opt == OPT_TRIGGER) trigger = optarg;
    else if (opt == OPT_PROMOTE) promote = optarg;
    else if (opt == OPT_REASON) reason = optarg;
    else if (opt == OPT_MODE && (strcmp(optarg, "shadow") == 0 || strcmp(optarg, "variant") == 0))
      o.mode = strcmp(optarg, "shadow") == 0 ? OC_CHALLENGER_SHADOW : OC_CHALLENGER_VARIANT;
    else if (opt == OPT_MODE) return oc_cli_usage_error(&oc_cmd_retrain, "--mode is shadow or variant, not '%s'", optarg);
    else if (opt > OPT_MODE && opt <= OPT_DRIFT_RECENT) {
      if (parse_number(opt, optarg, &o) != 0)
        return oc_cli_usage_error(&oc_cmd_retrain, "--%s takes a number, not '%s'", options[opt - 1].name, optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_retrain, opt, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_retrain);
    }
  }
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_retrain, "unexpected argument '%s'", argv[optind]);
  if (trigger && strcmp(trigger, "schedule") != 0 && strcmp(trigger, "manual") != 0)
    return oc_cli_usage_error(&oc_cmd_retrain, "--trigger is schedule or manual, not '%s'", trigger);
  int64_t version = 0;
  if (promote && (trigger || !reason || oc_model_version_parse(promote, &version) != 0))
    return oc_cli_usage_error(&oc_cmd_retrain, "--promote takes a version (v3 or 3) and a --reason, without --trigger");
  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  o.now = (int64_t)time(NULL);
  oc_promote_result r;
  oc_error err;
  int rc = promote ? oc_monitor_promote_version(cli->data_dir, store, &o, version, reason, &r, &err)
           : trigger ? oc_monitor_retrain(cli->data_dir, store, &o, trigger, &r, &err)
                     : oc_monitor_promote(cli->data_dir, store, &o, &r, &err);
  oc_store_close(store);
  if (rc == 0) print_result(&r);
  oc_promote_result_free(&r);
  return rc == 0 ? OC_EXIT_OK : oc_cli_step_error(&oc_cmd_retrain, rc, &err);
}
