/* Unit tests for src/lake: Parquet round trips of every supported type, logical type, codec and null
 * pattern; statistics as the spec wants them (null counts, NaN and signed-zero rules, no legacy
 * min/max for strings); definition-level coding; frames with metadata, row groups and no rows;
 * Hive partitions; CSV into frames; and the reader's defences: every truncation and thousands of seeded bit flips of
 * small files and of every file other tools wrote (tests/fixtures/parquet), plus forged counts (2^40
 * rows, an RLE bomb) that must be refused without allocating. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "lake/lake.h"
#include "lake/parquet.h"
#include "lake/pq_internal.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void) { /* xorshift64*: deterministic, seeded above */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static char *tmp_file(const char *dir, const char *name) { return oc_path_join(dir, name); }

/* ---- Low-level round trip ---- */

enum { NCOLS = 12 };

typedef struct table {
  size_t n;
  int32_t *i32;
  int64_t *i64;
  double *f64;
  oc_pq_bytes *str;
  char *strbuf;
  uint8_t *valid_some, *valid_none, *valid_all_null;
} table;

static void table_make(table *t, size_t n) {
  t->n = n;
  t->i32 = oc_xcalloc(n, 4);
  t->i64 = oc_xcalloc(n, 8);
  t->f64 = oc_xcalloc(n, 8);
  t->str = oc_xcalloc(n, sizeof *t->str);
  t->strbuf = oc_xcalloc(n, 16);
  t->valid_some = oc_xcalloc(n, 1);
  t->valid_none = oc_xcalloc(n, 1);
  t->valid_all_null = oc_xcalloc(n, 1);
  for (size_t i = 0; i < n; i++) {
    t->i32[i] = (int32_t)(next_rand() % 40000) - 20000;
    t->i64[i] = (int64_t)(next_rand() >> 1) - (INT64_C(1) << 61);
    t->f64[i] = i % 17 == 3 ? -0.0 : ((double)(int64_t)(next_rand() >> 11) - 4.5e15) / 3.0e13;
    int len = (int)(i % 13);
    for (int k = 0; k < len; k++) t->strbuf[16 * i + k] = (char)(0x20 + (next_rand() % 0x5F));
    if (i % 29 == 5) t->strbuf[16 * i] = (char)0xC3; /* high bytes order as unsigned */
    t->str[i] = (oc_pq_bytes){(const uint8_t *)t->strbuf + 16 * i, (uint32_t)len};
    t->valid_some[i] = (i / 7 + i) % 3 != 0; /* mixed runs: bit-packed and RLE groups */
    t->valid_none[i] = 1;
  }
}

static void table_free(table *t) {
  free(t->i32);
  free(t->i64);
  free(t->f64);
  free(t->str);
  free(t->strbuf);
  free(t->valid_some);
  free(t->valid_none);
  free(t->valid_all_null);
}

static const oc_pq_column_spec SPECS[NCOLS] = {
    {"i32", OC_PQ_INT32, OC_PQ_LOGICAL_NONE, false},
    {"date", OC_PQ_INT32, OC_PQ_LOGICAL_DATE, true},
    {"i64", OC_PQ_INT64, OC_PQ_LOGICAL_NONE, true},
    {"ts", OC_PQ_INT64, OC_PQ_LOGICAL_TIMESTAMP_MICROS, false},
    {"f64", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, false},
    {"f64_some", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, true},
    {"f64_none", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, true},
    {"f64_all_null", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, true},
    {"bytes", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_NONE, false},
    {"str_some", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, true},
    {"str_all_null", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, true},
    {"i32_valid_null_ptr", OC_PQ_INT32, OC_PQ_LOGICAL_NONE, true},
};

static void table_columns(const table *t, size_t a, oc_pq_column_data *d) {
  d[0] = (oc_pq_column_data){t->i32 + a, NULL};
  d[1] = (oc_pq_column_data){t->i32 + a, t->valid_some + a};
  d[2] = (oc_pq_column_data){t->i64 + a, t->valid_some + a};
  d[3] = (oc_pq_column_data){t->i64 + a, NULL};
  d[4] = (oc_pq_column_data){t->f64 + a, NULL};
  d[5] = (oc_pq_column_data){t->f64 + a, t->valid_some + a};
  d[6] = (oc_pq_column_data){t->f64 + a, t->valid_none + a};
  d[7] = (oc_pq_column_data){t->f64 + a, t->valid_all_null + a};
  d[8] = (oc_pq_column_data){t->str + a, NULL};
  d[9] = (oc_pq_column_data){t->str + a, t->valid_some + a};
  d[10] = (oc_pq_column_data){t->str + a, t->valid_all_null + a};
  d[11] = (oc_pq_column_data){t->i32 + a, NULL};
}

static void write_table(const char *path, const table *t, const size_t *groups, size_t ngroups, oc_pq_codec codec) {
  oc_pq_writer *w;
  oc_error err;
  oc_pq_write_options opt = {.codec = codec};
  assert_int_equal(oc_pq_writer_open(&w, path, SPECS, NCOLS, &opt, &err), 0);
  oc_pq_writer_add_meta(w, "k1", "v1");
  oc_pq_writer_add_meta(w, "no_value", NULL);
  size_t a = 0;
  for (size_t g = 0; g < ngroups; g++) {
    oc_pq_column_data d[NCOLS];
    table_columns(t, a, d);
    assert_int_equal(oc_pq_writer_write_row_group(w, groups[g], d, &err), 0);
    a += groups[g];
  }
  assert_int_equal(a, t->n);
  assert_int_equal(oc_pq_writer_close(w, &err), 0);
}

static void check_column(const oc_pq_column *c, const oc_pq_column_data *d, const oc_pq_column_spec *spec, size_t n) {
  assert_int_equal(c->n, n);
  assert_int_equal(c->valid != NULL, spec->optional);
  size_t nulls = 0;
  for (size_t i = 0; i < n; i++) {
    bool present = !spec->optional || !d->valid || d->valid[i];
    if (spec->optional) assert_int_equal(c->valid[i], present);
    nulls += !present;
    if (!present) continue;
    if (spec->type == OC_PQ_BYTE_ARRAY) {
      const oc_pq_bytes *got = &((const oc_pq_bytes *)c->values)[i], *want = &((const oc_pq_bytes *)d->values)[i];
      assert_int_equal(got->len, want->len);
      assert_memory_equal(got->data, want->data, want->len);
    } else {
      size_t w = oc_pq_value_size(spec->type);
      assert_memory_equal((const uint8_t *)c->values + i * w, (const uint8_t *)d->values + i * w, w);
    }
  }
  assert_int_equal(c->null_count, nulls);
}

static void roundtrip(oc_pq_codec codec, const size_t *groups, size_t ngroups, size_t n) {
  char *dir = oc_test_tmpdir("lake");
  char *path = tmp_file(dir, "t.parquet");
  table t;
  table_make(&t, n);
  write_table(path, &t, groups, ngroups, codec);
  oc_pq_reader r;
  oc_error err;
  assert_int_equal(oc_pq_reader_open(&r, path, &err), 0);
  assert_int_equal(r.info.ncols, NCOLS);
  assert_int_equal(r.info.num_rows, (int64_t)n);
  assert_int_equal(r.info.nrow_groups, ngroups);
  assert_true(r.info.type_defined_order);
  for (size_t c = 0; c < NCOLS; c++) {
    assert_string_equal(r.info.cols[c].name, SPECS[c].name);
    assert_int_equal(r.info.cols[c].type, SPECS[c].type);
    assert_int_equal(r.info.cols[c].logical, SPECS[c].logical);
    assert_int_equal(r.info.cols[c].optional, SPECS[c].optional);
  }
  assert_int_equal(r.info.nmeta, 2);
  assert_string_equal(r.info.meta_keys[0], "k1");
  assert_string_equal(r.info.meta_values[0], "v1");
  assert_null(r.info.meta_values[1]);
  size_t a = 0;
  for (size_t g = 0; g < ngroups; g++) {
    oc_pq_column_data d[NCOLS];
    table_columns(&t, a, d);
    for (size_t c = 0; c < NCOLS; c++) {
      oc_pq_column col;
      assert_int_equal(oc_pq_read_column(&r, g, c, &col, &err), 0);
      check_column(&col, &d[c], &SPECS[c], groups[g]);
      assert_int_equal(r.info.row_groups[g].chunks[c].codec, codec);
      oc_pq_column_free(&col);
    }
    a += groups[g];
  }
  oc_pq_reader_close(&r);
  table_free(&t);
  free(path);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_roundtrip_every_type_and_codec(void **state) {
  (void)state;
  const size_t one[] = {1000};
  const size_t several[] = {1, 8, 9, 300000, 7}; /* tiny groups, and one spanning several pages */
  for (int k = 0; k < 2; k++) {
    oc_pq_codec codec = k ? OC_PQ_ZSTD : OC_PQ_UNCOMPRESSED;
    roundtrip(codec, one, 1, 1000);
    roundtrip(codec, several, 5, 1 + 8 + 9 + 300000 + 7);
  }
}

/* ---- Statistics ---- */

static double stat_double(const oc_pq_stat_value *v) {
  double d;
  assert_true(v->present);
  assert_int_equal(v->len, 8);
  memcpy(&d, v->data, 8);
  return d;
}

static void test_statistics_follow_the_spec(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  char *path = tmp_file(dir, "s.parquet");
  const oc_pq_column_spec specs[] = {{"d", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, true},
                                     {"z", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, false},
                                     {"nan", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, false},
                                     {"s", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, false},
                                     {"t", OC_PQ_INT64, OC_PQ_LOGICAL_TIMESTAMP_MICROS, true}};
  double d[] = {3.5, NAN, -2.25, 10, 7};
  uint8_t dv[] = {1, 1, 1, 0, 1}; /* 10 is null: not the max */
  double z[] = {0.0, 0.0, 0.0, 0.0, 0.0};
  double nan[] = {NAN, NAN, NAN, NAN, NAN};
  oc_pq_bytes s[] = {{(const uint8_t *)"b", 1}, {(const uint8_t *)"\xC3\xA9", 2}, {(const uint8_t *)"a", 1},
                     {(const uint8_t *)"ab", 2}, {(const uint8_t *)"", 0}};
  int64_t t[] = {5, -7, 1, 2, 3};
  uint8_t tv[] = {0, 0, 0, 0, 0};
  oc_pq_column_data data[] = {{d, dv}, {z, NULL}, {nan, NULL}, {s, NULL}, {t, tv}};
  oc_pq_writer *w;
  oc_error err;
  assert_int_equal(oc_pq_writer_open(&w, path, specs, 5, NULL, &err), 0);
  assert_int_equal(oc_pq_writer_write_row_group(w, 5, data, &err), 0);
  assert_int_equal(oc_pq_writer_close(w, &err), 0);
  oc_pq_reader r;
  assert_int_equal(oc_pq_reader_open(&r, path, &err), 0);
  const oc_pq_chunk_info *ch = r.info.row_groups[0].chunks;
  /* NaN excluded, null excluded, nan_count and null_count present, legacy fields equal. */
  assert_true(ch[0].stats.has_null_count && ch[0].stats.null_count == 1);
  assert_true(ch[0].stats.has_nan_count && ch[0].stats.nan_count == 1);
  assert_true(stat_double(&ch[0].stats.min_value) == -2.25 && stat_double(&ch[0].stats.max_value) == 7);
  assert_true(stat_double(&ch[0].stats.min) == -2.25 && stat_double(&ch[0].stats.max) == 7);
  /* Zero bounds: -0.0 as min, +0.0 as max. */
  assert_true(signbit(stat_double(&ch[1].stats.min_value)) && !signbit(stat_double(&ch[1].stats.max_value)));
  /* All NaN: no bounds at all. */
  assert_false(ch[2].stats.min_value.present || ch[2].stats.max_value.present || ch[2].stats.min.present);
  assert_int_equal(ch[2].stats.nan_count, 5);
  /* Strings: unsigned byte order, and no legacy (signed) min/max. */
  assert_true(ch[3].stats.min_value.len == 0);
  assert_true(ch[3].stats.max_value.len == 2 && memcmp(ch[3].stats.max_value.data, "\xC3\xA9", 2) == 0);
  assert_false(ch[3].stats.min.present || ch[3].stats.max.present);
  /* All null: null_count only. */
  assert_int_equal(ch[4].stats.null_count, 5);
  assert_false(ch[4].stats.min_value.present);
  char buf[64];
  oc_pq_stat_value ts = {.present = true, .len = 8, .data = (uint8_t *)&(int64_t){INT64_C(1587340800123456)}};
  assert_string_equal(oc_pq_format_stat(&r.info.cols[4], &ts, buf, sizeof buf), "2020-04-20T00:00:00.123456Z");
  oc_pq_reader_close(&r);
  free(path);
  oc_test_rmtree(dir);
  free(dir);
}

/* ---- Definition levels ---- */

static void test_levels_roundtrip(void **state) {
  (void)state;
  for (size_t n = 0; n < 300; n++) {
    for (int pattern = 0; pattern < 5; pattern++) {
      uint8_t valid[300], back[300];
      for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0: valid[i] = 1; break;
        case 1: valid[i] = 0; break;
        case 2: valid[i] = next_rand() & 1; break;
        case 3: valid[i] = (i / 11) & 1; break; /* runs not aligned to 8 */
        default: valid[i] = i % 50 != 49; break;
        }
      }
      oc_buf b = {0};
      oc_pq_levels_encode(valid, n, &b);
      size_t present = 0, want = 0;
      oc_error err;
      assert_int_equal(oc_pq_levels_decode((const uint8_t *)b.data, b.len, n, back, &present, 0, &err), 0);
      for (size_t i = 0; i < n; i++) want += valid[i];
      assert_int_equal(present, want);
      if (n) assert_memory_equal(back, valid, n);
      if (pattern == 0 && n) assert_true(b.len <= 4); /* a no-null page is one RLE run */
      oc_buf_free(&b);
    }
  }
}

/* ---- Frames ---- */

static void make_frame(oc_frame *f, size_t n) {
  oc_frame_init(f, n);
  for (size_t i = 0; i < n; i++) f->dates[i] = 5844 + (oc_date)i; /* 1986-01-02 onwards */
  double *price = oc_frame_add_column(f, "price");
  double *gappy = oc_frame_add_column(f, "gappy");
  oc_frame_add_column(f, "all_missing");
  for (size_t i = 0; i < n; i++) {
    price[i] = i == 3 ? -36.98 : 20 + 0.01 * (double)i;
    gappy[i] = i % 4 == 1 ? NAN : 1.0 / (double)(i + 1);
  }
  oc_frame_set_meta(f, "features", "price,gappy");
  oc_frame_set_meta(f, "oilcast_version", "test");
}

static void assert_frames_equal(const oc_frame *a, const oc_frame *b) {
  assert_int_equal(a->nrows, b->nrows);
  assert_int_equal(a->ncols, b->ncols);
  if (a->nrows) assert_memory_equal(a->dates, b->dates, a->nrows * sizeof *a->dates);
  for (size_t c = 0; c < a->ncols; c++) {
    assert_string_equal(a->names[c], b->names[c]);
    for (size_t i = 0; i < a->nrows; i++) {
      if (isnan(a->cols[c][i])) {
        assert_true(isnan(b->cols[c][i]));
      } else {
        assert_memory_equal(&a->cols[c][i], &b->cols[c][i], sizeof(double));
      }
    }
  }
  assert_int_equal(a->nmeta, b->nmeta);
  for (size_t i = 0; i < a->nmeta; i++) assert_string_equal(oc_frame_get_meta(b, a->meta_keys[i]), a->meta_values[i]);
}

static void test_frame_roundtrip(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  char *path = tmp_file(dir, "frame.parquet");
  const size_t sizes[] = {0, 1, 1000};
  for (size_t s = 0; s < 3; s++) {
    for (int codec = 0; codec < 3; codec++) {
      oc_frame f, g;
      oc_error err;
      make_frame(&f, sizes[s]);
      oc_lake_write_options opt = {.codec = (oc_lake_codec)codec, .rows_per_row_group = 333};
      assert_int_equal(oc_lake_write_frame(path, &f, &opt, &err), 0);
      assert_int_equal(oc_lake_read_frame(path, &g, &err), 0);
      assert_frames_equal(&f, &g);
      oc_pq_reader r;
      assert_int_equal(oc_pq_reader_open(&r, path, &err), 0);
      assert_int_equal(r.info.nrow_groups, (sizes[s] + 332) / 333);
      if (r.info.nrow_groups)
        assert_int_equal(r.info.row_groups[0].chunks[0].codec, codec == OC_LAKE_UNCOMPRESSED ? OC_PQ_UNCOMPRESSED : OC_PQ_ZSTD);
      oc_pq_reader_close(&r);
      oc_frame_free(&f);
      oc_frame_free(&g);
    }
  }
  /* A "date" frame column would collide with the date column. */
  oc_frame f;
  oc_error err;
  make_frame(&f, 3);
  oc_frame_add_column(&f, "date");
  assert_int_equal(oc_lake_write_frame(path, &f, NULL, &err), -1);
  assert_non_null(strstr(err.message, "date"));
  oc_frame_free(&f);
  free(path);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_frame_needs_date_column(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  char *path = tmp_file(dir, "nodate.parquet");
  const oc_pq_column_spec specs[] = {{"x", OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, false}};
  double x[] = {1, 2};
  oc_pq_column_data d[] = {{x, NULL}};
  oc_pq_writer *w;
  oc_error err;
  assert_int_equal(oc_pq_writer_open(&w, path, specs, 1, NULL, &err), 0);
  assert_int_equal(oc_pq_writer_write_row_group(w, 2, d, &err), 0);
  assert_int_equal(oc_pq_writer_close(w, &err), 0);
  oc_frame f;
  assert_int_equal(oc_lake_read_frame(path, &f, &err), -1);
  assert_non_null(strstr(err.message, "no 'date' column"));
  free(path);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_partition_layout(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  oc_frame f, g;
  oc_error err;
  char *path;
  make_frame(&f, 10);
  path = oc_lake_partition_path(dir, "series", "WTI/x");
  char *want = oc_path_join(dir, "series=WTI%2Fx/part-0.parquet");
  assert_string_equal(path, want);
  char *part_dir = oc_path_join(dir, "series=WTI%2Fx");
  assert_int_equal(oc_mkdir_p(part_dir, &err), 0);
  free(part_dir);
  assert_int_equal(oc_lake_write_frame(path, &f, NULL, &err), 0);
  assert_int_equal(oc_lake_read_frame(path, &g, &err), 0);
  assert_frames_equal(&f, &g);
  oc_frame_free(&f);
  oc_frame_free(&g);
  free(want);
  free(path);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_frame_from_csv(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  char *ok = oc_test_write_file(dir, "ok.csv", "Date,price,spread\n2020-04-17,18.27,\n2020-04-20,-36.98,-0\n");
  oc_frame f;
  oc_error err;
  assert_int_equal(oc_lake_read_frame_csv(ok, &f, &err), 0);
  assert_int_equal(f.nrows, 2);
  assert_int_equal(f.ncols, 2);
  assert_string_equal(f.names[1], "spread");
  assert_true(isnan(f.cols[1][0]) && signbit(f.cols[1][1]) && f.cols[0][1] == -36.98);
  oc_frame_free(&f);
  char *bad = oc_test_write_file(dir, "bad.csv", "date,x\n2020-01-01,1\n2020-01-02,1,5\n");
  assert_int_equal(oc_lake_read_frame_csv(bad, &f, &err), -1);
  assert_non_null(strstr(err.message, "bad.csv:3: 3 fields"));
  char *num = oc_test_write_file(dir, "num.csv", "date,x\n2020-01-01,1e\n");
  assert_int_equal(oc_lake_read_frame_csv(num, &f, &err), -1);
  assert_non_null(strstr(err.message, "num.csv:2: column 'x': bad number '1e'"));
  /* names the Parquet file cannot hold are the CSV's header's fault, and said so (they were refused
   * only by the writer, naming the output file and no line) */
  char *twice = oc_test_write_file(dir, "twice.csv", "date,x,\"x\"\n2020-01-01,1,2\n");
  assert_int_equal(oc_lake_read_frame_csv(twice, &f, &err), -1);
  assert_non_null(strstr(err.message, "twice.csv:1: columns 2 and 3 are both named 'x'"));
  char *dated = oc_test_write_file(dir, "dated.csv", "day,date\n2020-01-01,1\n");
  assert_int_equal(oc_lake_read_frame_csv(dated, &f, &err), -1);
  assert_non_null(strstr(err.message, "dated.csv:1: column 2 is named 'date'"));
  free(twice);
  free(dated);
  free(ok);
  free(bad);
  free(num);
  oc_test_rmtree(dir);
  free(dir);
}

/* ---- Hostile input ---- */

/* Opens and fully decodes a file held in memory; returns 0 or -1 with a non-empty message. */
static int read_everything(const uint8_t *data, size_t len) {
  oc_pq_reader r;
  oc_error err = {0};
  if (oc_pq_reader_open_memory(&r, data, len, "fuzz.parquet", &err) != 0) {
    assert_true(err.message[0] != '\0');
    return -1;
  }
  int rc = 0;
  for (size_t g = 0; g < r.info.nrow_groups; g++) {
    for (size_t c = 0; c < r.info.ncols; c++) {
      oc_pq_column col;
      err.message[0] = '\0';
      if (oc_pq_read_column(&r, g, c, &col, &err) != 0) {
        assert_true(err.message[0] != '\0');
        rc = -1;
        continue;
      }
      oc_pq_column_free(&col);
    }
  }
  oc_pq_reader_close(&r);
  return rc;
}

static uint8_t *small_file(const char *dir, oc_pq_codec codec, size_t *len) {
  char *path = tmp_file(dir, "small.parquet");
  table t;
  table_make(&t, 40);
  const size_t groups[] = {25, 15};
  write_table(path, &t, groups, 2, codec);
  char *data;
  oc_error err;
  assert_int_equal(oc_read_file(path, &data, len, &err), 0);
  table_free(&t);
  free(path);
  return (uint8_t *)data;
}

/* Every prefix cut at the given step fails; iterations copies with 1..3 flipped bits read or fail
 * cleanly (either outcome is fine; crashing or overreading is not). */
static void damage(const uint8_t *file, size_t len, size_t step, int iterations) {
  for (size_t cut = 0; cut < len; cut += step) {
    uint8_t *prefix = oc_xmalloc(cut + 1); /* exact-size copy so ASan sees any overread */
    memcpy(prefix, file, cut);
    assert_int_equal(read_everything(prefix, cut), -1);
    free(prefix);
  }
  uint8_t *copy = oc_xmalloc(len);
  for (int iter = 0; iter < iterations; iter++) {
    memcpy(copy, file, len);
    int flips = 1 + (int)(next_rand() % 3);
    for (int f = 0; f < flips; f++) {
      size_t bit = next_rand() % (len * 8);
      copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    read_everything(copy, len);
  }
  free(copy);
}

static void test_truncated_and_bit_flipped_files(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("lake");
  for (int k = 0; k < 2; k++) {
    size_t len;
    uint8_t *file = small_file(dir, k ? OC_PQ_ZSTD : OC_PQ_UNCOMPRESSED, &len);
    assert_int_equal(read_everything(file, len), 0);
    damage(file, len, 1, 3000);
    free(file);
  }
  oc_test_rmtree(dir);
  free(dir);
}

/* The files other tools wrote (tests/fixtures/parquet: Snappy and ZSTD pages, dictionary pages, data
 * page v2, the DELTA and BYTE_STREAM_SPLIT encodings, every physical type): each reads whole, and cut
 * short or with bits flipped it fails cleanly (ASan watches the reads). */
static void test_other_writers_files_hostile(void **state) {
  (void)state;
  const char *names[] = {"duckdb_snappy.parquet", "duckdb_zstd.parquet", "duckdb_types.parquet",
                         "duckdb_types_v2.parquet", "duckdb_long.parquet", "pandas_default.parquet",
                         "pandas_row_groups.parquet", "arrow_encodings.parquet"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[512], *data;
    size_t len;
    oc_error err;
    snprintf(path, sizeof path, "%s/tests/fixtures/parquet/%s", OILCAST_SOURCE_DIR, names[i]);
    assert_int_equal(oc_read_file(path, &data, &len, &err), 0);
    if (read_everything((const uint8_t *)data, len) != 0) fail_msg("%s does not read", names[i]);
    damage((const uint8_t *)data, len, 1 + len / 500, 1500);
    free(data);
  }
}

/* Assembles "PAR1" + chunk + footer(info) + length + "PAR1" with the chunk at offset 4. */
static uint8_t *forge(oc_pq_file_info *info, const uint8_t *chunk, size_t chunk_len, size_t *len) {
  oc_buf b = {0};
  oc_buf_append(&b, "PAR1", 4);
  oc_buf_append(&b, chunk, chunk_len);
  oc_buf footer = {0};
  oc_pq_encode_file_meta(info, &footer);
  uint32_t n = (uint32_t)footer.len;
  oc_buf_append(&b, footer.data, footer.len);
  oc_buf_append(&b, &n, 4);
  oc_buf_append(&b, "PAR1", 4);
  oc_buf_free(&footer);
  *len = b.len;
  return (uint8_t *)oc_buf_steal(&b);
}

static void test_forged_counts_are_refused(void **state) {
  (void)state;
  /* One optional DOUBLE column whose single page says: INT32_MAX values, all null (one RLE run). */
  oc_buf page = {0};
  uint8_t rle[] = {6, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0}; /* length 6: run of 2^31-1 zeros */
  oc_pq_page_header h = {.type = 0, .uncompressed_size = sizeof rle, .compressed_size = sizeof rle,
                         .has_data_header = true, .num_values = INT32_MAX, .encoding = 0, .def_encoding = 3,
                         .rep_encoding = 3};
  oc_pq_encode_page_header(&h, &page);
  oc_buf_append(&page, rle, sizeof rle);
  oc_pq_column_info col = {.name = "x", .type = OC_PQ_DOUBLE, .optional = true};
  int32_t enc[] = {0, 3};
  oc_pq_chunk_info ch = {.codec = 0, .num_values = INT32_MAX, .total_uncompressed_size = (int64_t)page.len,
                         .total_compressed_size = (int64_t)page.len, .data_page_offset = 4, .nencodings = 2,
                         .encodings = enc};
  oc_pq_row_group_info rg = {.num_rows = INT32_MAX, .total_byte_size = (int64_t)page.len, .chunks = &ch};
  oc_pq_file_info info = {.version = 2, .num_rows = INT32_MAX, .ncols = 1, .cols = &col, .nrow_groups = 1,
                          .row_groups = &rg};
  size_t len;
  uint8_t *file = forge(&info, (const uint8_t *)page.data, page.len, &len);
  oc_pq_reader r;
  oc_error err;
  assert_int_equal(oc_pq_reader_open_memory(&r, file, len, "bomb.parquet", &err), 0);
  oc_pq_column c;
  assert_int_equal(oc_pq_read_column(&r, 0, 0, &c, &err), -1);
  assert_non_null(strstr(err.message, "expansion limit"));
  oc_pq_reader_close(&r);
  free(file);
  /* The footer claims 2^40 rows for the same one-page chunk. */
  int64_t huge = INT64_C(1) << 40;
  ch.num_values = rg.num_rows = info.num_rows = huge;
  file = forge(&info, (const uint8_t *)page.data, page.len, &len);
  assert_int_equal(oc_pq_reader_open_memory(&r, file, len, "huge.parquet", &err), 0);
  assert_int_equal(oc_pq_read_column(&r, 0, 0, &c, &err), -1);
  assert_non_null(strstr(err.message, "1099511627776 rows"));
  oc_pq_reader_close(&r);
  free(file);
  /* A footer length pointing before the start of the file. */
  uint8_t bad[] = {'P', 'A', 'R', '1', 0xFF, 0xFF, 0, 0, 'P', 'A', 'R', '1'};
  assert_int_equal(oc_pq_reader_open_memory(&r, bad, sizeof bad, "len.parquet", &err), -1);
  assert_non_null(strstr(err.message, "footer length 65535"));
  oc_buf_free(&page);
  /* An unknown footer field holding a list of a list of ... (a million deep): refused, where the
   * skipping of unknown fields recursed once per level and overflowed the stack. */
  enum { DEEP = 1000000 };
  oc_buf deep = {0};
  oc_buf_append(&deep, "PAR1\xF9", 5); /* field 15 of FileMetaData, a LIST */
  for (size_t i = 0; i < DEEP; i++) oc_buf_putc(&deep, 0x19); /* one element, itself a LIST */
  oc_buf_append(&deep, "\x09\x00", 2);                         /* an empty list; the struct's STOP */
  uint32_t footer_len = (uint32_t)(deep.len - 4);
  oc_buf_append(&deep, &footer_len, 4);
  oc_buf_append(&deep, "PAR1", 4);
  assert_int_equal(oc_pq_reader_open_memory(&r, deep.data, deep.len, "deep.parquet", &err), -1);
  if (!strstr(err.message, "deep.parquet") || !strstr(err.message, "nested deeper than 32 levels")) fail_msg("%s", err.message);
  oc_buf_free(&deep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_every_type_and_codec),
      cmocka_unit_test(test_statistics_follow_the_spec),
      cmocka_unit_test(test_levels_roundtrip),
      cmocka_unit_test(test_frame_roundtrip),
      cmocka_unit_test(test_frame_needs_date_column),
      cmocka_unit_test(test_partition_layout),
      cmocka_unit_test(test_frame_from_csv),
      cmocka_unit_test(test_truncated_and_bit_flipped_files),
      cmocka_unit_test(test_forged_counts_are_refused),
      cmocka_unit_test(test_other_writers_files_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
