/* store_pg_copy.c: the PostgreSQL side of the store copy (`oilcast migrate`): reading a table of
 * oc_store_tables() as text in key order (rows streamed one at a time, text keys in byte order as
 * SQLite sorts them), and appending rows with COPY. Must not interpret the rows. A bytea column
 * (dead letters' raw payloads) travels as its bytes, as SQLite reads a blob as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "store/store_pg_internal.h"

/* Type oids of pg_type (fixed in PostgreSQL's catalogue). */
#define FLOAT8_OID 701
#define TEXT_OID 25
#define BYTEA_OID 17

static void column_list(oc_buf *sql, const oc_store_table *t) {
  for (size_t c = 0; c < t->ncolumns; c++) oc_buf_printf(sql, "%s\"%s\"", c ? ", " : "", t->columns[c]);
}

/* "SELECT columns FROM table ORDER BY key", text keys in the "C" collation. */
static int select_sql(oc_pg_store *s, const oc_store_table *t, oc_buf *sql, oc_error *err) {
  oc_buf_puts(sql, "SELECT ");
  column_list(sql, t);
  oc_buf_printf(sql, " FROM \"%s\"", t->name);
  oc_buf probe = {0};
  oc_buf_printf(&probe, "%s LIMIT 0", sql->data);
  PGresult *r = oc_pg_query(s, probe.data, NULL, "reading a table to copy", err);
  oc_buf_free(&probe);
  if (!r) return -1;
  oc_buf_puts(sql, " ORDER BY ");
  for (size_t c = 0; c < t->nkey; c++)
    oc_buf_printf(sql, "%s\"%s\"%s", c ? ", " : "", t->columns[c],
                  PQftype(r, (int)c) == TEXT_OID ? " COLLATE \"C\"" : "");
  PQclear(r);
  return 0;
}

int oc_pg_table_read(oc_store *store, const oc_store_table *table, int (*row)(void *ctx, const char *const *values),
                     void *ctx, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_buf sql = {0};
  if (select_sql(s, table, &sql, err) != 0) {
    oc_buf_free(&sql);
    return -1;
  }
  int rc = 0;
  if (!PQsendQuery(s->conn, sql.data) || !PQsetSingleRowMode(s->conn))
    rc = oc_pg_fail(s, err, "reading a table to copy", PQerrorMessage(s->conn));
  oc_buf_free(&sql);
  char numbers[OC_STORE_TABLE_MAX_COLUMNS][OC_NUMBER_STRLEN];
  const char *values[OC_STORE_TABLE_MAX_COLUMNS];
  oc_buf blobs[OC_STORE_TABLE_MAX_COLUMNS] = {0};
  PGresult *r;
  while ((r = PQgetResult(s->conn)) != NULL) {
    ExecStatusType status = PQresultStatus(r);
    if (rc == 0 && status == PGRES_SINGLE_TUPLE) {
      for (size_t c = 0; c < table->ncolumns; c++) {
        values[c] = oc_pg_is_null(r, 0, (int)c) ? NULL : oc_pg_get(r, 0, (int)c);
        if (values[c] && PQftype(r, (int)c) == FLOAT8_OID) {
          oc_format_number(oc_pg_get_double(r, 0, (int)c), numbers[c]);
          values[c] = numbers[c];
        } else if (values[c] && PQftype(r, (int)c) == BYTEA_OID) {
          size_t len = 0;
          unsigned char *bytes = PQunescapeBytea((const unsigned char *)values[c], &len);
          oc_buf_clear(&blobs[c]);
          if (bytes) oc_buf_append(&blobs[c], bytes, len);
          oc_buf_putc(&blobs[c], '\0');
          PQfreemem(bytes);
          values[c] = blobs[c].data;
        }
      }
      rc = row(ctx, values); /* a stop: the remaining results are drained */
    } else if (rc == 0 && status != PGRES_TUPLES_OK) {
      rc = oc_pg_fail(s, err, "reading a table to copy", PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  for (size_t c = 0; c < table->ncolumns; c++) oc_buf_free(&blobs[c]);
  return rc;
}

/* One value in COPY's text format: backslash escapes, \N for NULL; a bytea column's bytes in bytea's
 * hex form (its backslash escaped for COPY). */
static void copy_value(oc_buf *out, const char *v, bool bytea) {
  if (!v) {
    oc_buf_puts(out, "\\N");
    return;
  }
  if (bytea) {
    oc_buf_puts(out, "\\\\x");
    for (; *v; v++) oc_buf_printf(out, "%02x", (unsigned char)*v);
    return;
  }
  for (; *v; v++) {
    switch (*v) {
    case '\\': oc_buf_puts(out, "\\\\"); break;
    case '\t': oc_buf_puts(out, "\\t"); break;
    case '\n': oc_buf_puts(out, "\\n"); break;
    case '\r': oc_buf_puts(out, "\\r"); break;
    default: oc_buf_putc(out, *v);
    }
  }
}

int oc_pg_table_write(oc_store *store, const oc_store_table *table, const char *const *values, size_t nrows,
                      oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: a table is copied inside a transaction", s->display);
  /* Rows read from another store's key: unique, so the key is built once at commit (as pg_restore does) */
  if (strcmp(table->name, "observations") == 0 && oc_pg_defer_key_for_copy(s, err) != 0) return -1;
  oc_buf sql = {0}, rows = {0};
  bool bytea[OC_STORE_TABLE_MAX_COLUMNS] = {0};
  oc_buf_puts(&sql, "SELECT ");
  column_list(&sql, table);
  oc_buf_printf(&sql, " FROM \"%s\" LIMIT 0", table->name);
  PGresult *types = oc_pg_query(s, sql.data, NULL, "copying rows into a table", err);
  if (!types) {
    oc_buf_free(&sql);
    return -1;
  }
  for (size_t c = 0; c < table->ncolumns; c++) bytea[c] = PQftype(types, (int)c) == BYTEA_OID;
  PQclear(types);
  oc_buf_clear(&sql);
  oc_buf_printf(&sql, "COPY \"%s\"(", table->name);
  column_list(&sql, table);
  oc_buf_puts(&sql, ") FROM STDIN");
  for (size_t r = 0; r < nrows; r++) {
    for (size_t c = 0; c < table->ncolumns; c++) {
      if (c) oc_buf_putc(&rows, '\t');
      copy_value(&rows, values[r * table->ncolumns + c], bytea[c]);
    }
    oc_buf_putc(&rows, '\n');
  }
  int rc = oc_pg_copy_in(s, sql.data, rows.data, rows.len, "copying rows into a table", err);
  oc_buf_free(&sql);
  oc_buf_free(&rows);
  return rc;
}
