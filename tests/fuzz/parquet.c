/* parquet.c (fuzz target "parquet"): the Parquet reader (lake/parquet.h) on arbitrary bytes, written
 * to a file and opened with oc_pq_reader_open, then every column chunk of every row group decoded and
 * every statistic formatted. The same bytes are also opened in memory (oc_pq_reader_open_memory, under
 * the file's name). Beyond "no crash, no leak, no allocation a file's size does not justify" it asserts:
 *   - the file and memory readers agree: the same outcome and the same error message, the same
 *     metadata, and bit-identical column data;
 *   - an error names the file first;
 *   - a decoded column has the row group's row count, a null count equal to its validity bytes' zeros
 *     (no validity and no nulls for a required column), and byte arrays inside its heap.
 * Seeds are files the writer made (tests/fuzz/corpus/parquet/) and DuckDB-shaped variants. */
#include <string.h>

#include "core/fsutil.h"
#include "fuzz.h"
#include "lake/parquet.h"
#include "testutil.h"

static char *scratch_dir, *file_path;

static void scratch_close(void) {
  oc_test_rmtree(scratch_dir);
  free(scratch_dir);
  free(file_path);
}

static void check_column(const oc_pq_reader *r, size_t g, size_t c, const oc_pq_column *col) {
  const oc_pq_column_info *ci = &r->info.cols[c];
  FUZZ_CHECK((int64_t)col->n == r->info.row_groups[g].num_rows, "row group %zu column %zu: %zu values of %lld rows",
             g, c, col->n, (long long)r->info.row_groups[g].num_rows);
  size_t nulls = 0;
  if (ci->optional) {
    for (size_t i = 0; i < col->n; i++) nulls += !col->valid[i];
  } else {
    FUZZ_CHECK(!col->valid, "required column %zu has validity bytes", c);
  }
  FUZZ_CHECK(nulls == col->null_count, "column %zu: %zu nulls counted as %zu", c, nulls, col->null_count);
  if (col->type != OC_PQ_BYTE_ARRAY) return;
  const oc_pq_bytes *v = col->values;
  for (size_t i = 0; i < col->n; i++) {
    if (v[i].len) FUZZ_CHECK(col->heap && v[i].data >= col->heap, "column %zu value %zu lies outside its heap", c, i);
  }
}

static bool same_column(const oc_pq_column *a, const oc_pq_column *b) {
  if (a->type != b->type || a->n != b->n || a->null_count != b->null_count || !a->valid != !b->valid) return false;
  if (a->valid && memcmp(a->valid, b->valid, a->n) != 0) return false;
  if (a->type != OC_PQ_BYTE_ARRAY) return a->n == 0 || memcmp(a->values, b->values, a->n * oc_pq_value_size(a->type)) == 0;
  const oc_pq_bytes *x = a->values, *y = b->values;
  for (size_t i = 0; i < a->n; i++)
    if (x[i].len != y[i].len || (x[i].len && memcmp(x[i].data, y[i].data, x[i].len) != 0)) return false;
  return true;
}

static void format_stats(const oc_pq_column_info *ci, const oc_pq_statistics *st) {
  const oc_pq_stat_value *values[] = {&st->min, &st->max, &st->min_value, &st->max_value};
  for (size_t i = 0; i < 4; i++) {
    if (!values[i]->present) continue;
    char buf[96];
    memset(buf, 0x55, sizeof buf);
    oc_pq_format_stat(ci, values[i], buf, sizeof buf);
    FUZZ_CHECK(memchr(buf, '\0', sizeof buf), "a formatted statistic is not NUL-terminated");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scratch_dir) {
    scratch_dir = oc_test_tmpdir("fuzz-parquet");
    file_path = oc_path_join(scratch_dir, "input.parquet");
    atexit(scratch_close);
  }
  oc_error err, mem_err;
  FUZZ_CHECK(oc_write_file_atomic(file_path, data, size, &err) == 0, "%s", err.message);
  oc_pq_reader file, mem;
  int rc = oc_pq_reader_open(&file, file_path, &err);
  int mem_rc = oc_pq_reader_open_memory(&mem, data, size, file_path, &mem_err);
  FUZZ_CHECK(rc == mem_rc, "the file reader says %d, the memory reader %d", rc, mem_rc);
  if (rc != 0) {
    FUZZ_CHECK(strcmp(err.message, mem_err.message) == 0, "'%s' != '%s'", err.message, mem_err.message);
    FUZZ_CHECK(strncmp(err.message, file_path, strlen(file_path)) == 0, "error does not name the file: %s",
               err.message);
    return 0;
  }
  FUZZ_CHECK(file.info.ncols == mem.info.ncols && file.info.nrow_groups == mem.info.nrow_groups &&
                 file.info.num_rows == mem.info.num_rows,
             "the readers disagree on the metadata");
  for (size_t g = 0; g < file.info.nrow_groups; g++) {
    for (size_t c = 0; c < file.info.ncols; c++) {
      format_stats(&file.info.cols[c], &file.info.row_groups[g].chunks[c].stats);
      oc_pq_column a = {0}, b = {0};
      rc = oc_pq_read_column(&file, g, c, &a, &err);
      mem_rc = oc_pq_read_column(&mem, g, c, &b, &mem_err);
      FUZZ_CHECK(rc == mem_rc, "row group %zu column %zu: file %d, memory %d", g, c, rc, mem_rc);
      if (rc == 0) {
        check_column(&file, g, c, &a);
        FUZZ_CHECK(same_column(&a, &b), "row group %zu column %zu: the readers decode different values", g, c);
        oc_pq_column_free(&a);
        oc_pq_column_free(&b);
      } else {
        FUZZ_CHECK(strcmp(err.message, mem_err.message) == 0, "'%s' != '%s'", err.message, mem_err.message);
        FUZZ_CHECK(strncmp(err.message, file_path, strlen(file_path)) == 0, "error does not name the file: %s",
                   err.message);
      }
    }
  }
  oc_pq_reader_close(&file);
  oc_pq_reader_close(&mem);
  return 0;
}
