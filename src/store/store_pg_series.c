/* store_pg_series.c: the PostgreSQL side of series, observations and the ingest-run log (tables series,
 * observations, ingest_runs, ingest_run_series). An upsert streams its rows with COPY into a session
 * staging table, then inserts the new ones and (only when some existed) updates those whose value
 * differs, in set statements: a 10-million-row import is COPYs and set statements, not 10 million
 * round trips.
 * Must not validate rows (the ingest batch does) or print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_series_session_setup(oc_pg_store *s, oc_error *err) {
  return oc_pg_run(s,
                   "CREATE TEMP TABLE IF NOT EXISTS oc_staged_observations"
                   " (series_id BIGINT NOT NULL, date DATE NOT NULL, value DOUBLE PRECISION NOT NULL)"
                   " ON COMMIT DELETE ROWS",
                   NULL, "creating the staging table", NULL, err);
}

int oc_pg_series_ensure(oc_store *store, const char *name, const char *unit, const char *source, int64_t *id,
                        oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  const char *reason;
  if (oc_series_name_check(name, strlen(name), &reason) != 0)
    return oc_error_set(err, "invalid series name '%s': %s", name, reason);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_text(&p, unit ? unit : "");
  oc_pg_text(&p, source ? source : "");
  oc_pg_int(&p, (int64_t)time(NULL));
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s,
                      "INSERT INTO series(id, name, unit, source, created_at)"
                      " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4 FROM series ON CONFLICT (name) DO NOTHING",
                      &p, "creating a series", NULL, err) == 0;
  if (ok) {
    p.n = 1;
    PGresult *r = oc_pg_query(s, "SELECT id FROM series WHERE name = $1", &p, "looking up a series", err);
    ok = r && PQntuples(r) == 1;
    if (ok) *id = oc_pg_get_int(r, 0, 0);
    else if (r) oc_pg_fail(s, err, "looking up a series", "the series just created is not there");
    PQclear(r);
  }
  return oc_pg_op_end(s, ok, err);
}

#define SERIES_INFO_COLUMNS                                                                            \
  "SELECT s.id, s.name, s.unit, s.source, s.provider, s.provider_id,"                                  \
  " (SELECT count(*) FROM observations o WHERE o.series_id = s.id),"                                   \
  " (SELECT min(date) FROM observations o WHERE o.series_id = s.id),"                                  \
  " (SELECT max(date) FROM observations o WHERE o.series_id = s.id) FROM series s"

static void read_series_info(const PGresult *r, int row, oc_series_info *info) {
  info->id = oc_pg_get_int(r, row, 0);
  info->name = oc_pg_get_strdup(r, row, 1);
  info->unit = oc_pg_get_strdup(r, row, 2);
  info->source = oc_pg_get_strdup(r, row, 3);
  oc_pg_get_copy(info->provider, sizeof info->provider, r, row, 4);
  oc_pg_get_copy(info->provider_id, sizeof info->provider_id, r, row, 5);
  info->count = oc_pg_get_int(r, row, 6);
  info->first = oc_pg_get_date(r, row, 7);
  info->last = oc_pg_get_date(r, row, 8);
}

int oc_pg_series_get(oc_store *store, const char *name, oc_series_info *info, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  PGresult *r = oc_pg_query(s, SERIES_INFO_COLUMNS " WHERE s.name = $1", &p, "reading a series", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) read_series_info(r, 0, info);
  PQclear(r);
  return 0;
}

int oc_pg_series_list(oc_store *store, oc_series_info **list, size_t *n, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  PGresult *r = oc_pg_query(s, SERIES_INFO_COLUMNS " ORDER BY s.name", NULL, "listing series", err);
  if (!r) return -1;
  int rows = PQntuples(r);
  oc_series_info *out = rows ? oc_xcalloc((size_t)rows, sizeof *out) : NULL;
  for (int i = 0; i < rows; i++) read_series_info(r, i, &out[i]);
  PQclear(r);
  *list = out;
  *n = (size_t)rows;
  return 0;
}

/* Writes only a changed provenance, so a daily fetch records no change of its own. */
int oc_pg_series_provider_set(oc_store *store, const char *name, const char *provider, const char *provider_id,
                              oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (strlen(provider) >= sizeof((oc_series_info *)0)->provider ||
      strlen(provider_id) >= sizeof((oc_series_info *)0)->provider_id)
    return oc_error_set(err, "series '%s': provider '%s' or its id '%s' is too long", name, provider, provider_id);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_text(&p, provider);
  oc_pg_text(&p, provider_id);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  oc_pg_params one = {.n = 1, .values = {name}};
  PGresult *r = oc_pg_query(s, "SELECT 1 FROM series WHERE name = $1", &one, "looking up a series", err);
  bool ok = r != NULL;
  if (r && PQntuples(r) == 0) {
    oc_error_set(err, "no series named '%s' in the store (see: oilcast series list)", name);
    ok = false;
  }
  PQclear(r);
  int64_t changed = 0;
  if (ok)
    ok = oc_pg_run(s,
                   "UPDATE series SET provider = $2, provider_id = $3"
                   " WHERE name = $1 AND (provider IS DISTINCT FROM $2 OR provider_id IS DISTINCT FROM $3)",
                   &p, "recording a series' provider", &changed, err) == 0;
  if (ok && changed > 0) ok = oc_pg_change_record(s, OC_CHANGE_OBSERVATIONS, name, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

/* Streams obs into the staging table as COPY text rows ("id\tdate\tvalue\n"). */
static int stage_observations(oc_pg_store *s, const oc_observation *obs, size_t n, oc_error *err) {
  if (oc_pg_run(s, "TRUNCATE oc_staged_observations", NULL, "clearing the staging table", NULL, err) != 0) return -1;
  oc_buf rows = {0};
  oc_buf_reserve(&rows, 1 << 20);
  for (size_t i = 0; i < n; i++) {
    char date[OC_DATE_STRLEN];
    oc_buf_printf(&rows, "%lld\t%s\t%.17g\n", (long long)obs[i].series_id, oc_date_format(obs[i].date, date),
                  obs[i].value);
  }
  int rc = oc_pg_copy_in(s, "COPY oc_staged_observations(series_id, date, value) FROM STDIN", rows.data, rows.len,
                         "copying observations", err);
  oc_buf_free(&rows);
  return rc;
}

int oc_pg_observations_upsert(oc_store *store, const oc_observation *obs, size_t n, const char *source,
                              int64_t ingested_at, oc_upsert_counts *counts, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, source);
  oc_pg_int(&p, ingested_at);
  int64_t inserted = 0, updated = 0;
  if (oc_pg_op_begin(s, err) != 0) return -1;
  /* Insert first (the common case on a first import: then there is nothing else to do); a row that
   * existed is updated only when its value differs (rows just inserted are equal, so not counted). */
  bool ok = stage_observations(s, obs, n, err) == 0 &&
            oc_pg_run(s,
                      "INSERT INTO observations(series_id, date, value, source, ingested_at)"
                      " SELECT series_id, date, value, $1, $2 FROM oc_staged_observations"
                      " ON CONFLICT (series_id, date) DO NOTHING",
                      &p, "inserting observations", &inserted, err) == 0;
  /* Statistics first, so the update probes the key per staged row instead of scanning the table. */
  if (ok && inserted < (int64_t)n)
    ok = oc_pg_run(s, "ANALYZE oc_staged_observations", NULL, "analysing the staged observations", NULL, err) == 0 &&
         oc_pg_run(s,
                   "UPDATE observations o SET value = t.value, source = $1, ingested_at = $2"
                   " FROM oc_staged_observations t"
                   " WHERE o.series_id = t.series_id AND o.date = t.date AND o.value IS DISTINCT FROM t.value",
                   &p, "updating observations", &updated, err) == 0;
  /* One change per series and transaction, only when the batch wrote something. */
  if (ok && inserted + updated > 0) ok = oc_pg_changes_note_series(s, obs, n, err) == 0;
  if (oc_pg_op_end(s, ok, err) != 0) return -1;
  counts->inserted += inserted;
  counts->updated += updated;
  counts->unchanged += (int64_t)n - inserted - updated;
  return 0;
}

int oc_pg_series_load(oc_store *store, const char *name, oc_date from, oc_date to, oc_series *out, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_date(&p, from == OC_DATE_INVALID ? oc_date_from_ymd(1, 1, 1) : from);
  oc_pg_date(&p, to == OC_DATE_INVALID ? oc_date_from_ymd(9999, 12, 31) : to);
  /* One statement answers both questions: no row, no series; one row without a date, a series with no
   * observation in the range. */
  PGresult *r = oc_pg_query(s,
                            "SELECT o.date, o.value FROM series s LEFT JOIN observations o"
                            " ON o.series_id = s.id AND o.date >= $2 AND o.date <= $3"
                            " WHERE s.name = $1 ORDER BY o.date",
                            &p, "loading a series", err);
  if (!r) return -1;
  size_t rows = (size_t)PQntuples(r);
  if (rows == 0) {
    PQclear(r);
    return oc_error_set(err, "no series named '%s' in the store (see: oilcast series list)", name);
  }
  if (rows == 1 && oc_pg_is_null(r, 0, 0)) rows = 0;
  oc_series_init(out, name, rows);
  for (size_t i = 0; i < rows; i++) {
    out->dates[i] = oc_pg_get_date(r, (int)i, 0);
    out->values[i] = oc_pg_get_double(r, (int)i, 1);
  }
  PQclear(r);
  return 0;
}

int oc_pg_observations_count(oc_store *store, int64_t *count, oc_error *err) {
  PGresult *r = oc_pg_query(oc_pg_of(store), "SELECT count(*) FROM observations", NULL, "counting observations", err);
  if (!r) return -1;
  *count = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

static int record_run_series(oc_pg_store *s, const oc_ingest_run *run, oc_error *err) {
  for (size_t i = 0; i < run->nseries; i++) {
    const oc_ingest_run_series *rs = &run->series[i];
    oc_pg_params p = {0};
    oc_pg_int(&p, run->id);
    oc_pg_text(&p, rs->name);
    oc_pg_int(&p, rs->rows);
    oc_pg_date(&p, rs->last_date);
    oc_pg_double(&p, rs->last_value);
    if (oc_pg_run(s, "INSERT INTO ingest_run_series(run_id, series, rows, last_date, last_value) VALUES ($1, $2, $3, $4, $5)",
                  &p, "recording the series of an ingest run", NULL, err) != 0)
      return -1;
  }
  return 0;
}

int oc_pg_ingest_run_record(oc_store *store, oc_ingest_run *run, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  const char *texts[] = {run->source_kind, run->path, run->raw_path, run->sha256, run->status};
  for (int i = 0; i < 5; i++) oc_pg_text(&p, texts[i] ? texts[i] : "");
  const int64_t numbers[] = {run->rows_read,      run->rows_inserted, run->rows_updated,
                             run->rows_unchanged,  run->rows_rejected, run->rows_missing,
                             run->negative_values, run->started_at,    run->finished_at};
  for (int i = 0; i < 9; i++) oc_pg_int(&p, numbers[i]);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  PGresult *r = oc_pg_query(s,
                            "INSERT INTO ingest_runs(id, source_kind, path, raw_path, sha256, status, rows_read,"
                            " rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_missing,"
                            " negative_values, started_at, finished_at)"
                            " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                            " $13, $14 FROM ingest_runs RETURNING id",
                            &p, "recording an ingest run", err);
  bool ok = r != NULL;
  if (ok) run->id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  if (ok) ok = record_run_series(s, run, err) == 0;
  if (ok) {
    char subject[24];
    snprintf(subject, sizeof subject, "%lld", (long long)run->id);
    ok = oc_pg_change_record(s, OC_CHANGE_INGEST_RUN, subject, err) == 0;
  }
  return oc_pg_op_end(s, ok, err);
}

/* Fills run->nseries and its first max_series series (by name). */
static int load_run_series(oc_pg_store *s, oc_ingest_run_info *run, size_t max_series, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_int(&p, run->id);
  /* count(*) OVER () is the count before the limit. */
  PGresult *r = oc_pg_query(s,
                            "SELECT series, rows, last_date, last_value, count(*) OVER () FROM ingest_run_series"
                            " WHERE run_id = $1 ORDER BY series",
                            &p, "reading the series of an ingest run", err);
  if (!r) return -1;
  size_t rows = (size_t)PQntuples(r);
  run->nseries = rows ? (size_t)oc_pg_get_int(r, 0, 4) : 0;
  size_t want = rows < max_series ? rows : max_series;
  if (want) run->series = oc_xcalloc(want, sizeof *run->series);
  for (size_t i = 0; i < want; i++) {
    oc_ingest_run_series *rs = &run->series[run->listed++];
    oc_pg_get_copy(rs->name, sizeof rs->name, r, (int)i, 0);
    rs->rows = oc_pg_get_int(r, (int)i, 1);
    rs->last_date = oc_pg_get_date(r, (int)i, 2);
    rs->last_value = oc_pg_get_double(r, (int)i, 3);
  }
  PQclear(r);
  return 0;
}

int oc_pg_ingest_runs_after(oc_store *store, int64_t after_id, size_t max_runs, size_t max_series,
                            oc_ingest_run_info **runs, size_t *n, int64_t *newest_id, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *runs = NULL;
  *n = 0;
  PGresult *r = oc_pg_query(s, "SELECT coalesce(max(id), 0) FROM ingest_runs", NULL, "reading the newest ingest run",
                            err);
  if (!r) return -1;
  *newest_id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  if (max_runs == 0) return 0;
  oc_pg_params p = {0};
  oc_pg_int(&p, after_id);
  oc_pg_int(&p, oc_pg_limit(max_runs));
  r = oc_pg_query(s,
                  "SELECT id, source_kind, status, rows_inserted, rows_updated, finished_at FROM ingest_runs"
                  " WHERE id > $1 ORDER BY id LIMIT $2",
                  &p, "listing ingest runs", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_ingest_run_info *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_ingest_run_info *run = &list[i];
    run->id = oc_pg_get_int(r, (int)i, 0);
    oc_pg_get_copy(run->source_kind, sizeof run->source_kind, r, (int)i, 1);
    oc_pg_get_copy(run->status, sizeof run->status, r, (int)i, 2);
    run->rows_inserted = oc_pg_get_int(r, (int)i, 3);
    run->rows_updated = oc_pg_get_int(r, (int)i, 4);
    run->finished_at = oc_pg_get_int(r, (int)i, 5);
  }
  PQclear(r);
  for (size_t i = 0; i < count; i++) {
    if (load_run_series(s, &list[i], max_series, err) != 0) {
      oc_ingest_run_info_list_free(list, count);
      return -1;
    }
  }
  *runs = list;
  *n = count;
  return 0;
}
