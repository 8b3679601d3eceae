/* store_sqlite_copy.c: the SQLite side of the store copy (`oilcast migrate`): reading a table of
 * oc_store_tables() as text in key order, and appending rows to one as they are (the columns' affinity
 * turns the text back into integers and reals; an infinity, which has no decimal form, is bound as
 * one). Must not interpret the rows. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "store/store_sqlite_internal.h"

/* "c1, c2, ..." of the table's first n columns. */
static void column_list(oc_buf *sql, const oc_store_table *t, size_t n) {
  for (size_t c = 0; c < n; c++) oc_buf_printf(sql, "%s\"%s\"", c ? ", " : "", t->columns[c]);
}

int oc_sqlite_table_read(oc_store *store, const oc_store_table *table,
                         int (*row)(void *ctx, const char *const *values), void *ctx, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  oc_buf sql = {0};
  oc_buf_puts(&sql, "SELECT ");
  column_list(&sql, table, table->ncolumns);
  oc_buf_printf(&sql, " FROM \"%s\" ORDER BY ", table->name);
  column_list(&sql, table, table->nkey);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
  oc_buf_free(&sql);
  if (rc != SQLITE_OK) return oc_sqlite_fail(s, err, "reading a table to copy");
  char numbers[OC_STORE_TABLE_MAX_COLUMNS][OC_NUMBER_STRLEN];
  const char *values[OC_STORE_TABLE_MAX_COLUMNS];
  int stopped = 0;
  while (!stopped && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (size_t c = 0; c < table->ncolumns; c++) {
      switch (sqlite3_column_type(st, (int)c)) {
      case SQLITE_NULL: values[c] = NULL; break;
      case SQLITE_INTEGER:
        snprintf(numbers[c], sizeof numbers[c], "%lld", (long long)sqlite3_column_int64(st, (int)c));
        values[c] = numbers[c];
        break;
      case SQLITE_FLOAT:
        oc_format_number(sqlite3_column_double(st, (int)c), numbers[c]);
        values[c] = numbers[c];
        break;
      default: values[c] = (const char *)sqlite3_column_text(st, (int)c); break;
      }
    }
    stopped = row(ctx, values);
  }
  if (!stopped && rc != SQLITE_DONE) oc_sqlite_fail(s, err, "reading a table to copy");
  sqlite3_finalize(st);
  return stopped ? stopped : rc == SQLITE_DONE ? 0 : -1;
}

/* Which of the table's columns are REAL: 0, or -1 with err. */
static int real_columns(oc_sqlite_store *s, const oc_store_table *table, bool *real, oc_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT name, type FROM pragma_table_info(?1)", -1, &st, NULL) != SQLITE_OK)
    return oc_sqlite_fail(s, err, "reading a table's columns");
  sqlite3_bind_text(st, 1, table->name, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    for (size_t c = 0; c < table->ncolumns; c++)
      if (strcmp((const char *)sqlite3_column_text(st, 0), table->columns[c]) == 0)
        real[c] = strcmp((const char *)sqlite3_column_text(st, 1), "REAL") == 0;
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a table's columns");
}

int oc_sqlite_table_write(oc_store *store, const oc_store_table *table, const char *const *values, size_t nrows,
                          oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: a table is copied inside a transaction", s->path);
  /* The text of an infinity ("inf", as oc_format_number writes it) is no real literal to SQLite: a REAL
   * column would keep it as a text, which reads back as 0. */
  bool real[OC_STORE_TABLE_MAX_COLUMNS] = {false};
  if (real_columns(s, table, real, err) != 0) return -1;
  oc_buf sql = {0};
  oc_buf_printf(&sql, "INSERT INTO \"%s\"(", table->name);
  column_list(&sql, table, table->ncolumns);
  oc_buf_puts(&sql, ") VALUES (");
  for (size_t c = 0; c < table->ncolumns; c++) oc_buf_puts(&sql, c ? ", ?" : "?");
  oc_buf_puts(&sql, ")");
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
  oc_buf_free(&sql);
  if (rc != SQLITE_OK) return oc_sqlite_fail(s, err, "copying rows into a table");
  for (size_t r = 0; rc != -1 && r < nrows; r++) {
    for (size_t c = 0; c < table->ncolumns; c++) {
      const char *v = values[r * table->ncolumns + c];
      if (!v) sqlite3_bind_null(st, (int)c + 1);
      else if (real[c] && (strcmp(v, "inf") == 0 || strcmp(v, "-inf") == 0))
        sqlite3_bind_double(st, (int)c + 1, v[0] == '-' ? -INFINITY : INFINITY);
      else sqlite3_bind_text(st, (int)c + 1, v, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE) rc = oc_sqlite_fail(s, err, "copying rows into a table");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return rc == -1 ? -1 : 0;
}
