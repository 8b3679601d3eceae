/* cmd_etl.c: `oilcast etl`: parses the options, runs the ETL pipeline step (pipeline/etl.h: the
 * stored series -> the training table, Parquet or CSV, and its Hive-style partition
 * processed/training/series=NAME/part-0.parquet) and prints what it wrote and its report. Option
 * parsing and printing only: the pipeline logic lives in the library. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "pipeline/etl.h"
#include "store/store.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_etl = {
    .name = "etl", .summary = "clean, align and engineer features into the training table (Parquet or CSV)",
    .usage = "Usage: oilcast etl [--series WTI] [--exog BRENT,...] [--horizon 7]\n"
    "                   [--out processed/training_data.parquet] [--train-end D] [--val-frac 0.1]\n"
    "                   [--format parquet|csv] [policy options]\n\n"
    "Builds the model-ready table from stored prices: clean (gaps reported, outliers flagged, one\n"
    "policy for non-positive prices), align exogenous series on the target's trading days, compute\n"
    "the features (docs/features.md), targets log(P[t+h]/P[t]) for h = 1..horizon, then select and\n"
    "normalize features fitted on training rows only. Without --out, also writes the Hive-style\n"
    "partition processed/training/series=SERIES/part-0.parquet; with --out, only that file is written\n"
    "(the data directory's tables are left as they are). A relative --out is inside the data directory.\n\n"
    "  --series NAME        target series (default WTI)\n"
    "  --exog A,B           exogenous series (spread features), comma-separated (default none)\n"
    "  --horizon H          targets target_h1..target_hH (default 7)\n"
    "  --out PATH           output file (default processed/training_data.parquet, .csv with --format csv)\n"
    "  --format F           parquet (default) or csv (+ PATH.meta.json with the metadata)\n"
    "  --train-end D        rows dated <= D are training (default: all but the last --val-frac)\n"
    "  --val-frac F         share of rows with all targets kept for validation (default 0.1)\n"
    "Policies (recorded in the table's metadata):\n"
    "  --non-positive P     drop (default) | clip | fail: prices <= 0, e.g. WTI -36.98 on 2020-04-20\n"
    "  --clip-floor X       the price the clip policy uses (default 0.01)\n"
    "  --outliers P         flag (default, report only) | drop: robust z-score of log returns\n"
    "  --outlier-z Z        robust z-score threshold (default 5)\n"
    "  --outlier-window N   trailing returns for the median/MAD (default 250)\n"
    "  --gap-days N         report runs of more than N missing trading days (default 3)\n"
    "  --ffill-days N       exogenous forward-fill limit in trading days (default 3)\n"
    "  --normalization M    zscore (default) | robust (median/IQR)\n"
    "  --corr-threshold X   drop one of each feature pair with |corr| > X (default 0.98)\n"
    "  --near-constant X    drop a feature whose commonest value covers >= X of training rows (0.99)\n"
    "  --threads N          threads for the feature computation (default 1)\n",
    .run = run};

enum { OPT_SERIES = 1, OPT_EXOG, OPT_HORIZON, OPT_OUT, OPT_FORMAT, OPT_TRAIN_END, OPT_VAL_FRAC, OPT_NONPOS,
       OPT_CLIP_FLOOR, OPT_OUTLIERS, OPT_OUTLIER_Z, OPT_OUTLIER_WINDOW, OPT_GAP_DAYS, OPT_FFILL_DAYS, OPT_NORM,
       OPT_CORR, OPT_NEAR_CONSTANT, OPT_THREADS };

/* Parses one command-specific option into a; returns 0, or an exit code after a usage error. */
static int parse_option(const oc_command *cmd, int opt, const char *arg, oc_pipeline_etl_options *a) {
  long lv;
  double dv;
  int code = 0;
  switch (opt) {
  case OPT_SERIES: a->series = arg; return 0;
  case OPT_EXOG: a->exog = arg; return 0;
  case OPT_OUT: a->out = arg; return 0;
  case OPT_FORMAT:
    if (strcmp(arg, "parquet") != 0 && strcmp(arg, "csv") != 0)
      return oc_cli_usage_error(cmd, "--format must be parquet or csv, not '%s'", arg);
    a->format = strcmp(arg, "csv") == 0 ? OC_PIPELINE_ETL_CSV : OC_PIPELINE_ETL_PARQUET;
    return 0;
  case OPT_TRAIN_END: return oc_cli_parse_date(cmd, "--train-end", arg, &a->etl.train_end, &code) ? code : 0;
  case OPT_NONPOS:
    return oc_nonpos_policy_parse(arg, &a->etl.nonpositive)
               ? oc_cli_usage_error(cmd, "--non-positive must be drop, clip or fail, not '%s'", arg)
               : 0;
  case OPT_OUTLIERS:
    return oc_outlier_policy_parse(arg, &a->etl.outliers)
               ? oc_cli_usage_error(cmd, "--outliers must be flag or drop, not '%s'", arg)
               : 0;
  case OPT_NORM:
    return oc_norm_method_parse(arg, &a->etl.normalization)
               ? oc_cli_usage_error(cmd, "--normalization must be zscore or robust, not '%s'", arg)
               : 0;
  case OPT_HORIZON:
  case OPT_OUTLIER_WINDOW:
  case OPT_GAP_DAYS:
  case OPT_FFILL_DAYS:
  case OPT_THREADS:
    if (oc_cli_parse_int(arg, 0, 100000, &lv) != 0)
      return oc_cli_usage_error(cmd, "expected a whole number 0..100000, not '%s'", arg);
    *(opt == OPT_HORIZON          ? &a->etl.horizon
      : opt == OPT_OUTLIER_WINDOW ? &a->etl.outlier_window
      : opt == OPT_GAP_DAYS       ? &a->etl.gap_days
      : opt == OPT_FFILL_DAYS     ? &a->etl.ffill_days
                                  : &a->etl.threads) = (int)lv;
    return 0;
  default:
    if (oc_cli_parse_double(arg, &dv) != 0) return oc_cli_usage_error(cmd, "expected a number, not '%s'", arg);
    *(opt == OPT_VAL_FRAC     ? &a->etl.val_frac
      : opt == OPT_CLIP_FLOOR ? &a->etl.clip_floor
      : opt == OPT_OUTLIER_Z  ? &a->etl.outlier_z
      : opt == OPT_CORR       ? &a->etl.corr_threshold
                              : &a->etl.near_constant_share) = dv;
    return 0;
  }
}

static const struct option options[] = {
    {"series", required_argument, NULL, OPT_SERIES},
    {"exog", required_argument, NULL, OPT_EXOG},
    {"horizon", required_argument, NULL, OPT_HORIZON},
    {"out", required_argument, NULL, OPT_OUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"train-end", required_argument, NULL, OPT_TRAIN_END},
    {"val-frac", required_argument, NULL, OPT_VAL_FRAC},
    {"non-positive", required_argument, NULL, OPT_NONPOS},
    {"clip-floor", required_argument, NULL, OPT_CLIP_FLOOR},
    {"outliers", required_argument, NULL, OPT_OUTLIERS},
    {"outlier-z", required_argument, NULL, OPT_OUTLIER_Z},
    {"outlier-window", required_argument, NULL, OPT_OUTLIER_WINDOW},
    {"gap-days", required_argument, NULL, OPT_GAP_DAYS},
    {"ffill-days", required_argument, NULL, OPT_FFILL_DAYS},
    {"normalization", required_argument, NULL, OPT_NORM},
    {"corr-threshold", required_argument, NULL, OPT_CORR},
    {"near-constant", required_argument, NULL, OPT_NEAR_CONSTANT},
    {"threads", required_argument, NULL, OPT_THREADS},
    OC_CLI_COMMON_OPTIONS,
    {0}};

static void print_result(const oc_pipeline_etl_options *opt, const oc_pipeline_etl_result *r) {
  printf("wrote %s (%zu rows, %zu columns + date)%s\n", r->table_path, r->rows, r->columns,
         opt->format == OC_PIPELINE_ETL_CSV ? " and its .meta.json" : "");
  if (r->partition_path) printf("wrote %s\n", r->partition_path);
  oc_buf text = {0};
  oc_etl_report_format(&r->report, &text);
  fputs(text.data, stdout);
  oc_buf_free(&text);
}

static int run(oc_cli *cli, int argc, char **argv) {
  const oc_command *cmd = &oc_cmd_etl;
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  int o, code;
  while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
    int handled = oc_cli_common_option(cli, cmd, o, optarg, &code);
    if (handled < 0) return code;
    if (handled > 0) continue;
    if (o == '?') return oc_cli_unknown_option(cmd);
    if ((code = parse_option(cmd, o, optarg, &opt)) != 0) return code;
  }
  if (optind < argc) return oc_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

  oc_store *store;
  if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
  oc_error err;
  oc_pipeline_etl_result result;
  int rc = oc_pipeline_etl(cli->data_dir, store, &opt, &result, &err);
  if (rc != 0) {
    rc = oc_cli_step_error(cmd, rc, &err);
  } else {
    print_result(&opt, &result);
    oc_pipeline_etl_result_free(&result);
  }
  oc_store_close(store);
  return rc;
}
