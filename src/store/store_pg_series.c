/* store_pg_series.c: the PostgreSQL side of series, observations and the ingest-run log (tables series,
 * observations, ingest_runs, ingest_run_series). An upsert checks the series of its chunk once each
 * (the foreign key of observations, which PostgreSQL would check per row) and sends the rows in COPY's
 * binary format: straight into observations when every row is later than its series' last stored
 * date (a first import, new days), else into a session staging table whose new rows are inserted and
 * changed values updated in set statements. A 10-million-row import is COPYs, not 10 million round
 * trips or trigger calls. A bulk load into an empty observations table goes in without the table's
 * primary key, which is built once when the transaction commits (as pg_restore does: one sort instead of
 * a descent of the key per row); see "Deferring the key" below.
 * Must not validate rows (the ingest batch does) or print. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_series_session_setup(oc_pg_store *s, oc_error *err) {
  return oc_pg_run(s,
                   "CREATE TEMP TABLE IF NOT EXISTS oc_staged_observations (series_id BIGINT NOT NULL,"
                   " date DATE NOT NULL, value DOUBLE PRECISION NOT NULL, source TEXT NOT NULL, ingested_at BIGINT NOT NULL)"
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
  /* One statement (an import names hundreds of series, each a round trip or more): the statement's
   * snapshot does not see the row its CTE inserts, so exactly one of the two parts answers. */
  PGresult *r = oc_pg_query(s,
                            "WITH created AS (INSERT INTO series(id, name, unit, source, created_at)"
                            " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4 FROM series"
                            " ON CONFLICT (name) DO NOTHING RETURNING id)"
                            " SELECT id FROM created UNION ALL SELECT id FROM series WHERE name = $1",
                            &p, "creating a series", err);
  bool ok = r && PQntuples(r) == 1;
  if (ok) *id = oc_pg_get_int(r, 0, 0);
  else if (r) oc_pg_fail(s, err, "creating a series", "the series is not there after its creation");
  PQclear(r);
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
  PGresult *r = oc_pg_query(s, SERIES_INFO_COLUMNS " ORDER BY s.name COLLATE \"C\"", NULL, "listing series", err);
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

/* A series id's home slot in an open-addressing table of cap slots (a power of two). */
static size_t series_slot(int64_t id, size_t cap) {
  assert(cap > 0 && (cap & (cap - 1)) == 0);
  return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15u >> 32) & (cap - 1);
}

/* A series of a chunk: its id, its earliest date in the chunk, and where its rows go in key order. */
typedef struct {
  int64_t id;
  oc_date first, latest;    /* its earliest and latest dates in the chunk */
  oc_date last_seen;        /* the date of its latest row in the chunk's order */
  size_t count, start;
  bool ascending; /* its rows came in ascending date order */
} chunk_series;

static int by_id(const void *a, const void *b) {
  int64_t x = (*(chunk_series *const *)a)->id, y = (*(chunk_series *const *)b)->id;
  return (x > y) - (x < y);
}

static int by_date(const void *a, const void *b) {
  oc_date x = ((const oc_observation *)a)->date, y = ((const oc_observation *)b)->date;
  return (x > y) - (x < y);
}

/* The rows of a chunk in key order (series id, date), and its distinct series in the order they first
 * appear (*series, *nseries); *repeated: some (series, date) is there twice (the ingest batch never
 * sends that, but the op takes it as it always did: on the merge path, where the second row is not a
 * new one). Linear for the usual chunk, whose series come interleaved and each in date order (a
 * counting sort by series); only a series whose rows came out of date order is sorted. */
static oc_observation *sort_chunk(const oc_observation *obs, size_t n, chunk_series **series, size_t *nseries,
                                  bool *repeated) {
  assert(n < UINT32_MAX);
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  size_t *slots = oc_xcalloc(cap, sizeof *slots); /* open addressing on the id: index + 1, 0 empty */
  uint32_t *series_of = oc_xmalloc((n ? n : 1) * sizeof *series_of);
  chunk_series *list = NULL;
  size_t count = 0, list_cap = 0;
  for (size_t i = 0; i < n; i++) {
    size_t h = series_slot(obs[i].series_id, cap);
    while (slots[h] && list[slots[h] - 1].id != obs[i].series_id) h = (h + 1) & (cap - 1);
    if (!slots[h]) {
      oc_xgrow((void **)&list, &list_cap, count + 1, sizeof *list);
      list[count++] = (chunk_series){obs[i].series_id, obs[i].date, obs[i].date, OC_DATE_INVALID, 0, 0, true};
      slots[h] = count;
    }
    chunk_series *cs = &list[slots[h] - 1];
    if (cs->count++ && obs[i].date <= cs->last_seen) cs->ascending = false;
    if (obs[i].date < cs->first) cs->first = obs[i].date;
    if (obs[i].date > cs->latest) cs->latest = obs[i].date;
    cs->last_seen = obs[i].date;
    series_of[i] = (uint32_t)(slots[h] - 1);
  }
  free(slots);
  chunk_series **by_key = oc_xmalloc((count ? count : 1) * sizeof *by_key);
  for (size_t k = 0; k < count; k++) by_key[k] = &list[k];
  qsort(by_key, count, sizeof *by_key, by_id);
  size_t start = 0;
  for (size_t k = 0; k < count; k++) {
    by_key[k]->start = start;
    start += by_key[k]->count;
  }
  assert(start == n);
  free(by_key);
  oc_observation *sorted = oc_xmalloc((n ? n : 1) * sizeof *sorted);
  size_t *next = oc_xmalloc((count ? count : 1) * sizeof *next);
  for (size_t k = 0; k < count; k++) next[k] = list[k].start;
  for (size_t i = 0; i < n; i++) sorted[next[series_of[i]]++] = obs[i];
  free(next);
  free(series_of);
  *repeated = false;
  for (size_t k = 0; k < count; k++) {
    oc_observation *rows = sorted + list[k].start;
    if (list[k].ascending) continue;
    qsort(rows, list[k].count, sizeof *rows, by_date);
    for (size_t i = 1; i < list[k].count; i++)
      if (rows[i].date == rows[i - 1].date) *repeated = true;
  }
  *series = list;
  *nseries = count;
  return sorted;
}

static void put_be16(char *p, uint16_t v) {
  p[0] = (char)(v >> 8);
  p[1] = (char)v;
}
static void put_be32(char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (char)(v >> (24 - 8 * i));
}
static void put_be64(char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (char)(v >> (56 - 8 * i));
}

/* The rows of sorted as COPY's binary format, in the column order of observations and of the staging
 * table (series_id, date, value, source, ingested_at): no number or date goes through text, on either
 * side. A date is days since 2000-01-01, a double its IEEE bits, big-endian. */
static void encode_binary(oc_buf *out, const oc_observation *sorted, size_t n, const char *source,
                          int64_t ingested_at) {
  static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  size_t source_len = strlen(source);
  size_t row_len = 2 + (4 + 8) + (4 + 4) + (4 + 8) + (4 + source_len) + (4 + 8);
  const oc_date pg_epoch = oc_date_from_ymd(2000, 1, 1);
  oc_buf_reserve(out, sizeof header + n * row_len + 2);
  oc_buf_append(out, header, sizeof header);
  char *p = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    const oc_observation *o = &sorted[i];
    uint64_t bits;
    memcpy(&bits, &o->value, sizeof bits);
    put_be16(p, 5);
    put_be32(p + 2, 8);
    put_be64(p + 6, (uint64_t)o->series_id);
    put_be32(p + 14, 4);
    put_be32(p + 18, (uint32_t)(o->date - pg_epoch));
    put_be32(p + 22, 8);
    put_be64(p + 26, bits);
    put_be32(p + 34, (uint32_t)source_len);
    memcpy(p + 38, source, source_len);
    p += 38 + source_len;
    put_be32(p, 8);
    put_be64(p + 4, (uint64_t)ingested_at);
    p += 12;
  }
  assert(p == out->data + out->len + n * row_len);
  put_be16(p, 0xffff); /* the trailer: a field count of -1 */
  out->len += n * row_len + 2;
  out->data[out->len] = '\0';
}

/* The foreign key of observations, checked once per series of the chunk (PostgreSQL's per-row trigger
 * cost a 10-million-row import most of its time; observations has none since migration 20, and no op
 * deletes a series), and whether every row of the chunk is later than its series' last stored date:
 * then none of them can exist yet. */
static int check_series(oc_pg_store *s, const chunk_series *list, size_t count, bool *all_new, oc_error *err) {
  oc_buf array = {0};
  oc_buf_putc(&array, '{');
  for (size_t i = 0; i < count; i++) oc_buf_printf(&array, "%s%lld", i ? "," : "", (long long)list[i].id);
  oc_buf_putc(&array, '}');
  oc_pg_params p = {0};
  oc_pg_text(&p, array.data);
  /* (while the key is deferred, the latest dates are known here, and the table has no index to find
   * them: see appends_to_load) */
  PGresult *r = oc_pg_query(s,
                            s->key_deferred
                                ? "SELECT EXISTS (SELECT 1 FROM series se WHERE se.id = u.id), NULL::date"
                                  " FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, nth) ORDER BY u.nth"
                                : "SELECT EXISTS (SELECT 1 FROM series se WHERE se.id = u.id),"
                                  " (SELECT max(o.date) FROM observations o WHERE o.series_id = u.id)"
                                  " FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, nth) ORDER BY u.nth",
                            &p, "checking the series of observations", err);
  oc_buf_free(&array);
  if (!r) return -1;
  assert((size_t)PQntuples(r) == count);
  int rc = 0;
  *all_new = true;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    if (strcmp(oc_pg_get(r, (int)i, 0), "t") != 0) {
      char why[128];
      snprintf(why, sizeof why, "FOREIGN KEY constraint failed: an observation names series id %lld, which does not exist",
               (long long)list[i].id);
      rc = oc_pg_fail(s, err, "checking the series of observations", why);
    } else if (!oc_pg_is_null(r, (int)i, 1) && list[i].first <= oc_pg_get_date(r, (int)i, 1)) {
      *all_new = false;
    }
  }
  PQclear(r);
  return rc;
}

/* Rows that may exist already: staged, the new ones inserted and (only when some existed) those whose
 * value differs updated, in set statements; rows just inserted are equal, so not counted twice. */
static int merge_staged(oc_pg_store *s, const oc_buf *rows, size_t n, int64_t *inserted, int64_t *updated,
                        oc_error *err) {
  if (oc_pg_run(s, "TRUNCATE oc_staged_observations", NULL, "clearing the staging table", NULL, err) != 0 ||
      oc_pg_copy_in(s, "COPY oc_staged_observations FROM STDIN (FORMAT binary)", rows->data, rows->len,
                    "copying observations", err) != 0 ||
      oc_pg_run(s,
                "INSERT INTO observations(series_id, date, value, source, ingested_at)"
                " SELECT series_id, date, value, source, ingested_at FROM oc_staged_observations"
                " ON CONFLICT (series_id, date) DO NOTHING",
                NULL, "inserting observations", inserted, err) != 0)
    return -1;
  if (*inserted == (int64_t)n) return 0;
  /* Statistics first, so the update probes the key per staged row instead of scanning the table. */
  return oc_pg_run(s, "ANALYZE oc_staged_observations", NULL, "analysing the staged observations", NULL, err) == 0 &&
                 oc_pg_run(s,
                           "UPDATE observations o SET value = t.value, source = t.source, ingested_at = t.ingested_at"
                           " FROM oc_staged_observations t"
                           " WHERE o.series_id = t.series_id AND o.date = t.date AND o.value IS DISTINCT FROM t.value",
                           NULL, "updating observations", updated, err) == 0
             ? 0
             : -1;
}

/* ---- Deferring the key ----------------------------------------------------------------------------
 * Keeping the primary key of observations while millions of rows go in costs a descent of the key per
 * row (more than half the server's time of a 10-million-row import); building it once after the load
 * is one sort. So when a chunk of at least BULK_LOAD_MIN_ROWS rows comes inside an explicit transaction
 * (an import) into an empty observations table, the key is dropped in that transaction and built again
 * before it commits (oc_pg_deferred_key_build from pg_commit); a rollback brings it back by itself.
 * Meanwhile:
 *   - the store-wide write lock keeps other writers out, and the dropped key holds an ACCESS EXCLUSIVE
 *     lock on observations until the end of the transaction: other sessions' reads of the table wait
 *     for the import (there was nothing in it to read);
 *   - every row of the table is this load's, so the latest date of each series it loaded is known here
 *     (s->loaded), and a chunk whose every series starts after its latest date needs no key: it is
 *     appended. Any other chunk (a revision of a date loaded, or a date given twice) builds the key
 *     first and takes the usual path: a duplicate can never reach the key's build;
 *   - each change of state is an op of its own (a savepoint), so a chunk that fails afterwards and is
 *     rolled back to its savepoint does not undo it.
 * The store copy (`oilcast migrate`, oc_pg_table_write) defers the key the same way for its rows of
 * observations, which come from another store's key and so are unique; their dates are not tracked
 * (s->loaded_untracked), so an upsert in the same transaction would build the key first. */
enum { BULK_LOAD_MIN_ROWS = 32768 };

typedef struct oc_pg_loaded_series {
  int64_t id; /* 0: an empty slot (series ids start at 1) */
  oc_date latest;
} oc_pg_loaded_series;

static oc_pg_loaded_series *loaded_slot(oc_pg_store *s, int64_t id) {
  assert(id > 0);
  size_t h = series_slot(id, s->loaded_cap);
  while (s->loaded[h].id && s->loaded[h].id != id) h = (h + 1) & (s->loaded_cap - 1);
  return &s->loaded[h];
}

/* Whether every series of the chunk starts after the latest date the load gave it. */
static bool appends_to_load(oc_pg_store *s, const chunk_series *list, size_t count) {
  if (s->loaded_untracked) return false;
  for (size_t i = 0; i < count; i++) {
    const oc_pg_loaded_series *slot = loaded_slot(s, list[i].id);
    if (slot->id && list[i].first <= slot->latest) return false;
  }
  return true;
}

/* Records the chunk's series as loaded up to their latest dates. */
static void note_loaded(oc_pg_store *s, const chunk_series *list, size_t count) {
  if (2 * (s->loaded_count + count) > s->loaded_cap) { /* at most half full: rehash into a larger table */
    oc_pg_loaded_series *old = s->loaded;
    size_t old_cap = s->loaded_cap;
    while (2 * (s->loaded_count + count) > s->loaded_cap) s->loaded_cap = s->loaded_cap ? 2 * s->loaded_cap : 64;
    s->loaded = oc_xcalloc(s->loaded_cap, sizeof *s->loaded);
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].id) *loaded_slot(s, old[i].id) = old[i];
    free(old);
  }
  for (size_t i = 0; i < count; i++) {
    oc_pg_loaded_series *slot = loaded_slot(s, list[i].id);
    if (!slot->id) {
      *slot = (oc_pg_loaded_series){list[i].id, list[i].latest};
      s->loaded_count++;
    } else if (list[i].latest > slot->latest) {
      slot->latest = list[i].latest;
    }
  }
}

void oc_pg_deferred_key_forget(oc_pg_store *s) {
  s->key_deferred = s->observations_held = s->loaded_untracked = false;
  free(s->loaded);
  s->loaded = NULL;
  s->loaded_count = s->loaded_cap = 0;
}

int oc_pg_deferred_key_build(oc_pg_store *s, oc_error *err) {
  if (!s->key_deferred) return 0;
  if (oc_pg_run(s, "ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (series_id, date)", NULL,
                "building the key of observations after a bulk load", NULL, err) != 0)
    return -1;
  oc_pg_deferred_key_forget(s);
  return 0;
}

/* Drops the key of observations when the table is empty (inside the transaction), and remembers which
 * it was: key deferred, or rows held. */
static int defer_key_if_empty(oc_pg_store *s, oc_error *err) {
  assert(s->in_transaction && !s->key_deferred && !s->observations_held);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  PGresult *r = oc_pg_query(s, "SELECT NOT EXISTS (SELECT 1 FROM observations)", NULL, "looking for observations", err);
  bool empty = r && strcmp(oc_pg_get(r, 0, 0), "t") == 0, ok = r != NULL;
  PQclear(r);
  if (ok && empty)
    ok = oc_pg_run(s, "ALTER TABLE observations DROP CONSTRAINT observations_pkey", NULL,
                   "deferring the key of observations for a bulk load", NULL, err) == 0;
  if (oc_pg_op_end(s, ok, err) != 0) return -1;
  s->key_deferred = empty;
  s->observations_held = !empty; /* no op deletes observations: it holds rows until the transaction ends */
  return 0;
}

/* Before a chunk of n rows is written: defers the key for a bulk load into an empty table, or builds a
 * deferred one the chunk needs (see above). */
static int prepare_key(oc_pg_store *s, const chunk_series *list, size_t count, bool repeated, size_t n,
                       oc_error *err) {
  if (s->key_deferred && !repeated && appends_to_load(s, list, count)) return 0;
  if (!s->key_deferred && (!s->in_transaction || repeated || n < BULK_LOAD_MIN_ROWS || s->observations_held))
    return 0;
  if (s->key_deferred) {
    if (oc_pg_op_begin(s, err) != 0) return -1;
    return oc_pg_op_end(s, oc_pg_deferred_key_build(s, err) == 0, err);
  }
  return defer_key_if_empty(s, err);
}

int oc_pg_defer_key_for_copy(oc_pg_store *s, oc_error *err) {
  assert(s->in_transaction);
  if (s->key_deferred || s->observations_held) return 0;
  if (defer_key_if_empty(s, err) != 0) return -1;
  s->loaded_untracked = s->key_deferred;
  return 0;
}

int oc_pg_observations_upsert(oc_store *store, const oc_observation *obs, size_t n, const char *source,
                              int64_t ingested_at, oc_upsert_counts *counts, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  /* In key order, so the index receives each series' rows together; encoded before the write lock is
   * taken. */
  size_t nseries;
  bool repeated;
  chunk_series *series;
  oc_observation *sorted = sort_chunk(obs, n, &series, &nseries, &repeated);
  oc_buf rows = {0};
  encode_binary(&rows, sorted, n, source, ingested_at);
  free(sorted);
  int64_t inserted = 0, updated = 0;
  bool ok = prepare_key(s, series, nseries, repeated, n, err) == 0 && oc_pg_op_begin(s, err) == 0;
  if (ok) {
    bool all_new = false;
    ok = check_series(s, series, nseries, &all_new, err) == 0;
    /* The common case of a first import or of new days: COPY straight into observations (always,
     * while the key is deferred: prepare_key saw to it). */
    if (ok && all_new && !repeated) {
      ok = oc_pg_copy_in(s,
                         "COPY observations(series_id, date, value, source, ingested_at) FROM STDIN (FORMAT binary)",
                         rows.data, rows.len, "copying observations", err) == 0;
      inserted = (int64_t)n;
    } else if (ok) {
      ok = merge_staged(s, &rows, n, &inserted, &updated, err) == 0;
    }
    /* One change per series and transaction, only when the chunk wrote something (named in the order
     * the series first appear in it). */
    if (ok && inserted + updated > 0) {
      oc_observation *firsts = oc_xmalloc(nseries * sizeof *firsts);
      for (size_t i = 0; i < nseries; i++) firsts[i] = (oc_observation){series[i].id, series[i].first, 0};
      ok = oc_pg_changes_note_series(s, firsts, nseries, err) == 0;
      free(firsts);
    }
    ok = oc_pg_op_end(s, ok, err) == 0;
    if (ok && s->key_deferred) note_loaded(s, series, nseries);
  }
  free(series);
  oc_buf_free(&rows);
  if (!ok) return -1;
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

/* Appends text to an array literal as a quoted element (NULL: the NULL element). */
static void array_element(oc_buf *array, const char *text) {
  oc_buf_putc(array, array->len ? ',' : '{');
  if (!text) {
    oc_buf_puts(array, "NULL");
    return;
  }
  oc_buf_putc(array, '"');
  for (; *text; text++) {
    if (*text == '"' || *text == '\\') oc_buf_putc(array, '\\');
    oc_buf_putc(array, *text);
  }
  oc_buf_putc(array, '"');
}

/* The run's series in one statement, as arrays (an import of hundreds of series: one round trip). */
static int record_run_series(oc_pg_store *s, const oc_ingest_run *run, oc_error *err) {
  if (run->nseries == 0) return 0;
  enum { COLUMNS = 4 };
  oc_buf arrays[COLUMNS] = {0};
  for (size_t i = 0; i < run->nseries; i++) {
    const oc_ingest_run_series *rs = &run->series[i];
    oc_pg_params row = {0};
    oc_pg_text(&row, rs->name);
    oc_pg_int(&row, rs->rows);
    oc_pg_date(&row, rs->last_date);
    oc_pg_double(&row, rs->last_value);
    for (int c = 0; c < COLUMNS; c++) array_element(&arrays[c], row.values[c]);
  }
  oc_pg_params p = {0};
  oc_pg_int(&p, run->id);
  for (int c = 0; c < COLUMNS; c++) {
    oc_buf_putc(&arrays[c], '}');
    oc_pg_text(&p, arrays[c].data);
  }
  int rc = oc_pg_run(s,
                     "INSERT INTO ingest_run_series(run_id, series, rows, last_date, last_value)"
                     " SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::date[], $5::float8[])",
                     &p, "recording the series of an ingest run", NULL, err);
  for (int c = 0; c < COLUMNS; c++) oc_buf_free(&arrays[c]);
  return rc;
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
                            " WHERE run_id = $1 ORDER BY series COLLATE \"C\"",
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
