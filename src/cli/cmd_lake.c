/* cmd_lake.c: `oilcast lake inspect FILE` and `oilcast lake cat FILE [--format csv|json] [--limit N]`,
 * for people without Parquet tools (and the interop tests): what a Parquet file holds, as text. Uses
 * the reader in src/lake/parquet.h; presentation only. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "lake/lake.h"
#include "lake/parquet.h"

static int run_lake(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_lake = {
    .name = "lake",
    .summary = "inspect, print or create Parquet files (schema, statistics, rows)",
    .usage = "Usage: oilcast lake inspect FILE\n"
    "       oilcast lake cat FILE [--format csv|json] [--limit N]\n"
    "       oilcast lake from-csv IN.csv OUT.parquet [--codec zstd|none] [--rows-per-group N]\n\n"
    "inspect  schema, row groups, codecs, column statistics and key/value metadata of a Parquet file\n"
    "cat      the rows: CSV with a header line (nulls are empty fields) or a JSON array of objects\n"
    "         (nulls are null); doubles (and floats) print in their shortest exact form, DATE as\n"
    "         YYYY-MM-DD, TIMESTAMP as YYYY-MM-DDTHH:MM:SS.ffffff (3, 6 or 9 decimals as its unit;\n"
    "         Z when adjusted to UTC), DECIMAL with its scale (70.010)\n"
    "from-csv a date-keyed table as a Parquet file: the first CSV column (ISO dates) becomes the\n"
    "         required DATE column 'date', every other column an optional DOUBLE (empty = null);\n"
    "         written atomically\n\n"
    "Options:\n"
    "  --format F          csv (default) or json (cat)\n"
    "  --limit N           print at most N rows (cat)\n"
    "  --codec C           zstd (default) or none (from-csv)\n"
    "  --rows-per-group N  rows per row group (from-csv; default 1048576)\n",
    .run = run_lake,
};

static void print_stat_line(const oc_pq_column_info *col, const oc_pq_chunk_info *ch) {
  char lo[256], hi[256];
  const oc_pq_statistics *s = &ch->stats;
  printf("    %-24s %-12s %12" PRId64 " -> %-12" PRId64, col->name, oc_pq_codec_name(ch->codec),
         ch->total_uncompressed_size, ch->total_compressed_size);
  if (!s->present) {
    printf(" no statistics\n");
    return;
  }
  if (s->has_null_count) printf(" nulls=%" PRId64, s->null_count);
  if (s->has_nan_count) printf(" nans=%" PRId64, s->nan_count);
  if (s->min_value.present || s->max_value.present)
    printf(" min=%s max=%s", oc_pq_format_stat(col, &s->min_value, lo, sizeof lo),
           oc_pq_format_stat(col, &s->max_value, hi, sizeof hi));
  if (s->min.present || s->max.present)
    printf(" legacy_min=%s legacy_max=%s", oc_pq_format_stat(col, &s->min, lo, sizeof lo),
           oc_pq_format_stat(col, &s->max, hi, sizeof hi));
  printf("\n");
}

static int inspect(const char *path) {
  oc_pq_reader r;
  oc_error err;
  if (oc_pq_reader_open(&r, path, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  const oc_pq_file_info *info = &r.info;
  printf("file: %s (%" PRIu64 " bytes, footer %" PRIu64 " bytes)\n", path, r.file_size,
         r.file_size - 8 - r.footer_offset);
  printf("created_by: %s\nformat version: %d\n", info->created_by ? info->created_by : "-", info->version);
  printf("rows: %" PRId64 " in %zu row group(s)\n", info->num_rows, info->nrow_groups);
  printf("columns: %zu\n", info->ncols);
  for (size_t c = 0; c < info->ncols; c++) {
    const oc_pq_column_info *col = &info->cols[c];
    printf("  %-24s %-10s %-22s %s\n", col->name, oc_pq_type_name(col->type), oc_pq_column_logical_name(col),
           col->optional ? "optional" : "required");
  }
  printf("statistics order: %s\n", info->type_defined_order ? "TYPE_ORDER (min_value/max_value valid)" : "legacy");
  for (size_t g = 0; g < info->nrow_groups; g++) {
    const oc_pq_row_group_info *rg = &info->row_groups[g];
    printf("row group %zu: %" PRId64 " rows, %" PRId64 " bytes uncompressed\n", g, rg->num_rows, rg->total_byte_size);
    for (size_t c = 0; c < info->ncols; c++) print_stat_line(&info->cols[c], &rg->chunks[c]);
  }
  printf("metadata: %zu key(s)\n", info->nmeta);
  for (size_t i = 0; i < info->nmeta; i++)
    printf("  %s = %s\n", info->meta_keys[i], info->meta_values[i] ? info->meta_values[i] : "(none)");
  oc_pq_reader_close(&r);
  return OC_EXIT_OK;
}

/* JSON strings always quoted; CSV fields only when they hold a comma, quote or line break. */
static void print_escaped(const uint8_t *s, size_t n, bool json) {
  bool quote = json;
  for (size_t i = 0; i < n && !quote; i++) quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (!quote) {
    fwrite(s, 1, n, stdout);
    return;
  }
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (json && (c == '"' || c == '\\')) {
      printf("\\%c", c);
    } else if (json && c < 0x20) {
      printf("\\u%04x", c);
    } else if (!json && c == '"') {
      fputs("\"\"", stdout);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static void print_value(const oc_pq_column_info *col, const oc_pq_column *c, size_t i, bool json) {
  char buf[64];
  if (c->valid && !c->valid[i]) {
    if (json) fputs("null", stdout);
    return;
  }
  oc_pq_stat_value v = {.present = true};
  switch (c->type) {
  case OC_PQ_INT32:
    v.data = (uint8_t *)c->values + 4 * i, v.len = 4;
    break;
  case OC_PQ_INT64:
    v.data = (uint8_t *)c->values + 8 * i, v.len = 8;
    break;
  case OC_PQ_DOUBLE: {
    double d = ((const double *)c->values)[i];
    if (col->physical == OC_PQ_PHYSICAL_FLOAT) { /* as the float it is, not its widened double */
      fputs(isfinite(d) || !json ? oc_pq_format_float(d, buf) : "null", stdout);
    } else if (json) { /* as every JSON document oilcast writes: shortest round-trip, null when not finite */
      oc_buf number = {0};
      oc_json_put_number(&number, d);
      fputs(number.data, stdout);
      oc_buf_free(&number);
    } else {
      fputs(oc_pq_format_double(d, buf), stdout);
    }
    return;
  }
  case OC_PQ_BYTE_ARRAY: {
    const oc_pq_bytes *b = &((const oc_pq_bytes *)c->values)[i];
    if (col->logical != OC_PQ_LOGICAL_DECIMAL) {
      print_escaped(b->data, b->len, json);
      return;
    }
    v.data = (uint8_t *)b->data, v.len = b->len; /* a DECIMAL's big-endian integer */
    break;
  }
  }
  oc_pq_format_stat(col, &v, buf, sizeof buf);
  bool quote = json && (col->logical == OC_PQ_LOGICAL_DATE || oc_pq_timestamp_units_per_second(col->logical) > 0);
  printf(quote ? "\"%s\"" : "%s", buf);
}

static int cat(const char *path, bool json, long limit) {
  oc_pq_reader r;
  oc_error err;
  if (oc_pq_reader_open(&r, path, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  const oc_pq_file_info *info = &r.info;
  oc_pq_column *cols = oc_xcalloc(info->ncols ? info->ncols : 1, sizeof *cols);
  long printed = 0;
  int rc = OC_EXIT_OK;
  if (json) {
    fputs("[", stdout);
  } else {
    for (size_t c = 0; c < info->ncols; c++) {
      if (c) putchar(',');
      print_escaped((const uint8_t *)info->cols[c].name, strlen(info->cols[c].name), false);
    }
    putchar('\n');
  }
  for (size_t g = 0; g < info->nrow_groups && rc == OC_EXIT_OK && (limit < 0 || printed < limit); g++) {
    for (size_t c = 0; c < info->ncols && rc == OC_EXIT_OK; c++)
      if (oc_pq_read_column(&r, g, c, &cols[c], &err) != 0) rc = oc_cli_runtime_error("%s", err.message);
    size_t n = (size_t)info->row_groups[g].num_rows;
    for (size_t i = 0; i < n && rc == OC_EXIT_OK && (limit < 0 || printed < limit); i++, printed++) {
      if (json) fputs(printed ? ",\n{" : "\n{", stdout);
      for (size_t c = 0; c < info->ncols; c++) {
        if (c) putchar(',');
        if (json) {
          print_escaped((const uint8_t *)info->cols[c].name, strlen(info->cols[c].name), true);
          putchar(':');
        }
        print_value(&info->cols[c], &cols[c], i, json);
      }
      fputs(json ? "}" : "\n", stdout);
    }
    for (size_t c = 0; c < info->ncols; c++) oc_pq_column_free(&cols[c]);
  }
  if (json) fputs("\n]\n", stdout);
  free(cols);
  oc_pq_reader_close(&r);
  return rc;
}

static int from_csv(const char *in, const char *out, const oc_lake_write_options *opt) {
  oc_frame f;
  oc_error err;
  if (oc_lake_read_frame_csv(in, &f, &err) != 0) return oc_cli_runtime_error("%s", err.message);
  int rc = oc_lake_write_frame(out, &f, opt, &err);
  size_t rows = f.nrows, cols = f.ncols;
  oc_frame_free(&f);
  if (rc != 0) return oc_cli_runtime_error("%s", err.message);
  oc_info("wrote %s: %zu rows, date + %zu columns", out, rows, cols);
  return OC_EXIT_OK;
}

static int run_lake(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                          {"limit", required_argument, NULL, 'n'},
                                          {"codec", required_argument, NULL, 'c'},
                                          {"rows-per-group", required_argument, NULL, 'g'},
                                          OC_CLI_COMMON_OPTIONS,
                                          {0}};
  bool json = false;
  long limit = -1, per_group;
  oc_lake_write_options wopt = {0};
  int opt, exit_code;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case 'f':
      if (strcmp(optarg, "json") != 0 && strcmp(optarg, "csv") != 0)
        return oc_cli_usage_error(&oc_cmd_lake, "--format must be csv or json, not '%s'", optarg);
      json = strcmp(optarg, "json") == 0;
      break;
    case 'n':
      if (oc_cli_parse_int(optarg, 0, LONG_MAX, &limit) != 0)
        return oc_cli_usage_error(&oc_cmd_lake, "--limit needs a count >= 0, not '%s'", optarg);
      break;
    case 'c':
      if (strcmp(optarg, "zstd") != 0 && strcmp(optarg, "none") != 0)
        return oc_cli_usage_error(&oc_cmd_lake, "--codec must be zstd or none, not '%s'", optarg);
      wopt.codec = strcmp(optarg, "none") == 0 ? OC_LAKE_UNCOMPRESSED : OC_LAKE_ZSTD;
      break;
    case 'g':
      if (oc_cli_parse_int(optarg, 1, LONG_MAX, &per_group) != 0)
        return oc_cli_usage_error(&oc_cmd_lake, "--rows-per-group needs a count >= 1, not '%s'", optarg);
      wopt.rows_per_row_group = (size_t)per_group;
      break;
    default: {
      int handled = oc_cli_common_option(cli, &oc_cmd_lake, opt, optarg, &exit_code);
      if (handled < 0) return exit_code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_lake);
    }
    }
  }
  const char *sub = optind < argc ? argv[optind] : "";
  int nargs = argc - optind - 1;
  if (strcmp(sub, "inspect") == 0 && nargs == 1) return inspect(argv[optind + 1]);
  if (strcmp(sub, "cat") == 0 && nargs == 1) return cat(argv[optind + 1], json, limit);
  if (strcmp(sub, "from-csv") == 0 && nargs == 2) return from_csv(argv[optind + 1], argv[optind + 2], &wopt);
  return oc_cli_usage_error(&oc_cmd_lake, "expected 'inspect FILE', 'cat FILE' or 'from-csv IN.csv OUT.parquet'");
}
