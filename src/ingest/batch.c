/* batch.c: see batch.h. The row path (series lookup, checks, duplicate bitmap, write buffer)
 * allocates nothing per row, and the lineage job (SHA-256 and the raw copy) runs on its own thread
 * while the rows go in. A staged batch (opt->stage, on a store that stages rows: SQLite) stages the
 * chunks of observations as they are read, outside any transaction, and its one transaction is short:
 * it creates the batch's series, moves the staged rows in and records the run, so a long import holds
 * the store's write lock for that move only. Otherwise (PostgreSQL, or a source that writes to the
 * store as it reads) the chunks are upserted inside the one transaction as they are read. From the
 * second chunk on, a full chunk is written on a writer thread while the reader fills the next (see
 * "the chunk writer"). */
#include "ingest/batch.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/publish.h"
#include "core/progress.h"
#include "ingest/price_range.h"

#define WRITE_CHUNK 65536 /* observations per store write, unless opt->chunk_rows says otherwise */
/* Smaller inputs without a raw copy to keep are hashed inline (a thread costs more than their hash);
 * a raw copy waits for two syncs (the file's and its folder's), which the rows need not wait for. */
#define LINEAGE_THREAD_MIN (1u << 20)

void oc_ingest_report_free(oc_ingest_report *report) {
  free(report->raw_path);
  report->raw_path = NULL;
}

/* A series seen in the batch: its store id and a bitmap of the dates seen so far (duplicate check). */
typedef struct series_slot {
  char *name;
  size_t name_len;
  int64_t id; /* staged: the slot's index, its key in the staging area, until the move */
  oc_date lo; /* date of bit 0; a multiple of 64 */
  size_t nwords;
  uint64_t *seen;
  int64_t rows;      /* rows written for it (recorded with the run) */
  oc_date last_date; /* the latest of those dates, and its value */
  double last_value;
  oc_price_range range; /* the values it accepts */
} series_slot;

/* The chunk writer: a full chunk is handed to a thread that writes it to the store while the reader
 * parses and checks the next, so reading and the store's work overlap (a 10 M-row PostgreSQL import:
 * the server inserts one chunk while the client parses the next). At most one chunk is in flight, and
 * chunks are written in the order read. The thread starts when the first chunk fills, so a batch of
 * one chunk (a market fetch, an API post) is written on the calling thread as before. While a chunk is
 * in flight the store connection is the writer's: the reading side uses it only after writer_drain (a
 * new series, oc_ingest_sync, the end of the reading). Guarded by lock: pending, quit, rc, err, counts. */
typedef struct chunk_writer {
  bool running; /* the thread exists (set and read by the reading thread only) */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool pending;          /* chunk[0..n) is handed over and not yet written */
  bool quit;             /* no more chunks: the thread ends */
  oc_observation *chunk; /* the writer's buffer: the chunk to write, or the spare one the reader takes next */
  size_t n;
  int rc;                  /* -1 once a write failed (then err says why and later chunks are dropped) */
  oc_error err;
  oc_upsert_counts counts; /* of the chunks written since the reading side last collected them */
} chunk_writer;

struct oc_ingest_sink {
  oc_store *store;
  const oc_ingest_batch_options *opt;
  oc_ingest_report *rep;
  series_slot *slots;
  size_t nslots, slots_cap;
  size_t *table; /* open addressing: slot index + 1, 0 = empty; capacity a power of two */
  size_t table_cap;
  size_t last_slot; /* slot of the previous row + 1 (0 = none): rows of one series usually come together */
  oc_observation *chunk;
  size_t nchunk, chunk_rows; /* rows in chunk; its capacity, the rows of one store write */
  int64_t now;
  oc_date date_min, date_max;
  bool staged;  /* the store stages the rows; the transaction begins after the reading */
  double began_at; /* monotonic time the transaction began (0: not yet), for the debug log */
  bool writing; /* false once an abort-mode batch has seen a bad row */
  oc_error *err;
  chunk_writer writer;
};

static int writer_drain(oc_ingest_sink *b);

static uint64_t hash_name(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static bool slot_named(const series_slot *s, const char *name, size_t len) {
  return s->name_len == len && memcmp(s->name, name, len) == 0;
}

static void table_insert(oc_ingest_sink *b, size_t slot) {
  assert(b->table_cap && (b->table_cap & (b->table_cap - 1)) == 0);
  size_t i = hash_name(b->slots[slot].name, b->slots[slot].name_len) & (b->table_cap - 1);
  while (b->table[i]) i = (i + 1) & (b->table_cap - 1);
  b->table[i] = slot + 1;
}

static void record_problem(oc_ingest_sink *b, size_t where, const char *field, bool duplicate, const char *fmt,
                           va_list ap) {
  oc_ingest_report *rep = b->rep;
  rep->rows_rejected++;
  if (b->opt->on_error == OC_ON_ERROR_ABORT) {
    b->writing = false;
    b->nchunk = 0;
  }
  if (rep->nproblems < OC_INGEST_LISTED) {
    oc_ingest_problem *p = &rep->problems[rep->nproblems++];
    *p = (oc_ingest_problem){.where = where, .field = field, .duplicate = duplicate};
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
  }
}

/* A bad row found by the batch itself (the source's rejects go through oc_ingest_reject). */
static void problem(oc_ingest_sink *b, size_t where, const char *field, bool duplicate, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void problem(oc_ingest_sink *b, size_t where, const char *field, bool duplicate, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record_problem(b, where, field, duplicate, fmt, ap);
  va_end(ap);
}

/* Whether the series is stored already (*stored: else the batch creates it), and that a simulated
 * batch does not write into a stored series of real prices: the simulator's one-series file names no
 * series, so imported without --series it would overwrite the WTI history under its historical label.
 * -1 with b->err (the whole batch is refused: nothing written). */
static int check_stored(oc_ingest_sink *b, size_t where, const char *name, bool *stored) {
  oc_series_info info;
  if (oc_store_series_get(b->store, name, &info, stored, b->err) != 0) return -1;
  if (!*stored) return 0;
  int rc = 0;
  if (strcmp(b->opt->source_kind, "simulated") == 0 && strcmp(info.source, "simulated") != 0)
    rc = oc_error_set(b->err,
                      "%s:%zu: series '%s' holds %s prices and this file is simulated (oilcast simulate market): "
                      "nothing written; import it into a series of its own with --series (e.g. %s-SIM)",
                      b->opt->origin, where, name, info.source[0] ? info.source : "real", name);
  oc_series_info_free(&info);
  return rc;
}

/* The slot of a series (creating the series in the store when new) in *out. A bad name is a problem
 * of the row (*out = NULL, 0 returned); -1 on a store error. */
static int slot_for(oc_ingest_sink *b, size_t where, const char *name, size_t len, series_slot **out) {
  *out = NULL;
  if (b->last_slot && slot_named(&b->slots[b->last_slot - 1], name, len)) {
    *out = &b->slots[b->last_slot - 1];
    return 0;
  }
  if (b->table_cap) {
    size_t i = hash_name(name, len) & (b->table_cap - 1);
    while (b->table[i]) {
      series_slot *s = &b->slots[b->table[i] - 1];
      if (slot_named(s, name, len)) {
        b->last_slot = b->table[i];
        *out = s;
        return 0;
      }
      i = (i + 1) & (b->table_cap - 1);
    }
  }
  const char *reason;
  if (oc_series_name_check(name, len, &reason) != 0) {
    problem(b, where, NULL, false, "bad series '%.*s': %s", (int)(len > 40 ? 40 : len), name, reason);
    return 0;
  }
  char *copy = oc_xmalloc(len + 1);
  memcpy(copy, name, len);
  copy[len] = '\0';
  int64_t id = (int64_t)b->nslots; /* staged: the series is created by move_staged */
  oc_price_range range;
  bool stored;
  if (writer_drain(b) != 0 || check_stored(b, where, copy, &stored) != 0 ||
      (!b->staged && oc_store_series_ensure(b->store, copy, b->opt->unit, b->opt->source_kind, &id, b->err) != 0) ||
      oc_price_range_get(b->store, copy, &range, b->err) != 0) {
    free(copy);
    return -1;
  }
  if (!stored) { /* its range's advice: create it as this batch would, with the range */
    range.new_unit = b->opt->unit;
    range.new_source = b->opt->source_kind;
  }
  oc_xgrow((void **)&b->slots, &b->slots_cap, b->nslots + 1, sizeof *b->slots);
  b->slots[b->nslots] = (series_slot){.name = copy, .name_len = len, .id = id, .range = range};
  b->nslots++;
  if (b->nslots * 2 > b->table_cap) {
    free(b->table);
    b->table_cap = b->table_cap ? b->table_cap * 2 : 64;
    b->table = oc_xcalloc(b->table_cap, sizeof *b->table);
    for (size_t i = 0; i < b->nslots; i++) table_insert(b, i);
  } else {
    table_insert(b, b->nslots - 1);
  }
  b->last_slot = b->nslots;
  *out = &b->slots[b->nslots - 1];
  return 0;
}

static oc_date floor64(oc_date d) { return d - (((d % 64) + 64) % 64); }

/* Marks date as seen for the series; returns true when it already was. */
static bool seen_before(series_slot *s, oc_date date) {
  if (s->nwords == 0) {
    s->nwords = 256; /* ~45 years of days */
    s->lo = floor64(date) - 64 * 128;
    s->seen = oc_xcalloc(s->nwords, sizeof *s->seen);
  }
  if (date < s->lo) {
    size_t extra = (size_t)((s->lo - floor64(date)) / 64) + s->nwords;
    s->seen = oc_xrealloc(s->seen, (s->nwords + extra) * sizeof *s->seen);
    memmove(s->seen + extra, s->seen, s->nwords * sizeof *s->seen);
    memset(s->seen, 0, extra * sizeof *s->seen);
    s->nwords += extra;
    s->lo -= (oc_date)(64 * extra);
  }
  size_t bit = (size_t)(date - s->lo);
  if (bit / 64 >= s->nwords) {
    size_t n = s->nwords * 2;
    while (bit / 64 >= n) n *= 2;
    s->seen = oc_xrealloc(s->seen, n * sizeof *s->seen);
    memset(s->seen + s->nwords, 0, (n - s->nwords) * sizeof *s->seen);
    s->nwords = n;
  }
  uint64_t mask = 1ull << (bit % 64);
  bool was = s->seen[bit / 64] & mask;
  s->seen[bit / 64] |= mask;
  return was;
}

static void add_counts(oc_ingest_report *rep, const oc_upsert_counts *c) {
  rep->rows_inserted += c->inserted;
  rep->rows_updated += c->updated;
  rep->rows_unchanged += c->unchanged;
}

static void add_upsert_counts(oc_upsert_counts *sum, const oc_upsert_counts *c) {
  sum->inserted += c->inserted;
  sum->updated += c->updated;
  sum->unchanged += c->unchanged;
}

/* Writes chunk[0..n) to the store: staged, or upserted (its counts into *c). */
static int write_chunk(oc_ingest_sink *b, const oc_observation *chunk, size_t n, oc_upsert_counts *c, oc_error *err) {
  return b->staged ? oc_store_observations_stage(b->store, chunk, n, err)
                   : oc_store_observations_upsert(b->store, chunk, n, b->opt->source_kind, b->now, c, err);
}

static void *writer_run(void *arg) {
  oc_ingest_sink *b = arg;
  chunk_writer *w = &b->writer;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->pending && !w->quit) pthread_cond_wait(&w->changed, &w->lock);
    if (!w->pending) break;
    bool failed = w->rc != 0;
    pthread_mutex_unlock(&w->lock);
    oc_upsert_counts c = {0};
    oc_error err;
    int rc = failed ? 0 : write_chunk(b, w->chunk, w->n, &c, &err);
    pthread_mutex_lock(&w->lock);
    if (rc != 0) {
      w->rc = -1;
      w->err = err;
    }
    add_upsert_counts(&w->counts, &c);
    w->pending = false;
    pthread_cond_broadcast(&w->changed);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* Waits until the chunk in flight (if any) is written, and collects the written counts. 0, or -1 with
 * b->err when a write failed. Afterwards the store is the reading side's until the next hand-over. */
static int writer_drain(oc_ingest_sink *b) {
  chunk_writer *w = &b->writer;
  if (!w->running) return 0;
  pthread_mutex_lock(&w->lock);
  while (w->pending) pthread_cond_wait(&w->changed, &w->lock);
  int rc = w->rc;
  if (rc != 0) *b->err = w->err;
  add_counts(b->rep, &w->counts);
  w->counts = (oc_upsert_counts){0};
  pthread_mutex_unlock(&w->lock);
  return rc;
}

/* Ends the writer thread (after the reading, whatever its outcome) and frees its buffer. */
static void writer_stop(oc_ingest_sink *b) {
  chunk_writer *w = &b->writer;
  if (!w->running) return;
  pthread_mutex_lock(&w->lock);
  w->quit = true;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->changed);
  free(w->chunk);
  w->running = false;
}

/* Writes what the reading side holds, on this thread, after the chunk in flight. */
static int flush(oc_ingest_sink *b) {
  if (writer_drain(b) != 0) return -1;
  if (b->nchunk == 0) return 0;
  oc_upsert_counts c = {0};
  int rc = write_chunk(b, b->chunk, b->nchunk, &c, b->err);
  b->nchunk = 0;
  if (rc != 0) return -1;
  add_counts(b->rep, &c);
  return 0;
}

int oc_ingest_sync(oc_ingest_sink *sink) { return flush(sink); }

/* The full chunk to the writer thread (started at the first full chunk; if it cannot be started the
 * chunk is written here), and the writer's spare buffer back for the next rows. */
static int hand_over(oc_ingest_sink *b) {
  chunk_writer *w = &b->writer;
  if (!w->running) {
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    w->chunk = oc_xmalloc(b->chunk_rows * sizeof *w->chunk);
    if (pthread_create(&w->thread, NULL, writer_run, b) != 0) {
      pthread_mutex_destroy(&w->lock);
      pthread_cond_destroy(&w->changed);
      free(w->chunk);
      w->chunk = NULL;
      return flush(b);
    }
    w->running = true;
  }
  pthread_mutex_lock(&w->lock);
  while (w->pending) pthread_cond_wait(&w->changed, &w->lock);
  int rc = w->rc;
  if (rc == 0) {
    oc_observation *spare = w->chunk;
    w->chunk = b->chunk;
    w->n = b->nchunk;
    w->pending = true;
    b->chunk = spare;
    b->nchunk = 0;
    pthread_cond_broadcast(&w->changed);
  } else {
    *b->err = w->err;
  }
  pthread_mutex_unlock(&w->lock);
  return rc;
}

void oc_ingest_reject(oc_ingest_sink *sink, size_t where, const char *field, const char *fmt, ...) {
  sink->rep->rows_read++;
  va_list ap;
  va_start(ap, fmt);
  record_problem(sink, where, field, false, fmt, ap);
  va_end(ap);
}

void oc_ingest_missing(oc_ingest_sink *sink) {
  sink->rep->rows_read++;
  sink->rep->rows_missing++;
}

void oc_ingest_set_format(oc_ingest_sink *sink, const char *format) { sink->rep->format = format; }

int oc_ingest_add(oc_ingest_sink *b, size_t where, const char *series, size_t series_len, oc_date date,
                  double value) {
  oc_ingest_report *rep = b->rep;
  rep->rows_read++;
  series_slot *s;
  if (slot_for(b, where, series, series_len, &s) != 0) return -1;
  if (!s) return 0;
  char text[OC_DATE_STRLEN];
  if (date < b->date_min || date > b->date_max) {
    problem(b, where, "date", false, "date out of range (0001-01-01..9999-12-31)");
    return 0;
  }
  if (!isfinite(value)) {
    problem(b, where, "value", false, "bad value: not a finite number");
    return 0;
  }
  char reason[sizeof ((oc_ingest_problem *)0)->reason];
  if (!oc_price_range_check(&s->range, s->name, value, reason, sizeof reason)) {
    problem(b, where, "value", false, "%s", reason);
    return 0;
  }
  if (seen_before(s, date)) {
    problem(b, where, NULL, true, "duplicate date %s for series %s (an earlier row has it)",
            oc_date_format(date, text), s->name);
    return 0;
  }
  if (value < 0) {
    rep->negative_values++;
    if (rep->nnegatives < OC_INGEST_NEGATIVES_LISTED) {
      oc_ingest_negative *n = &rep->negatives[rep->nnegatives++];
      *n = (oc_ingest_negative){.where = where, .date = date, .value = value};
      snprintf(n->series, sizeof n->series, "%s", s->name);
    }
  }
  if (!b->writing) return 0;
  if (s->rows++ == 0 || date > s->last_date) {
    s->last_date = date;
    s->last_value = value;
  }
  assert(b->nchunk < b->chunk_rows);
  b->chunk[b->nchunk++] = (oc_observation){s->id, date, value};
  return b->nchunk == b->chunk_rows ? hand_over(b) : 0;
}

/* ---- lineage ----------------------------------------------------------------------------------- */

/* SHA-256 of the input, then (with a raw_dir) the unchanged copy raw_dir/YYYY-MM-DD/<sha256>.<ext>,
 * content-addressed so a later batch of the same bytes reuses it. The copy is written under this
 * process's temporary name and synced (oc_write_files_staged, oc_copy_fd_staged) while the rows are
 * read, and takes its name only inside the batch's transaction, just before the commit (publish_copy). A batch that does
 * not commit removes its own temporary file, never the named copy: another batch of the same bytes,
 * running beside it, may have committed naming it (when the failing batch removed the copy it had
 * named, a committed run was left naming a removed file). */
typedef struct lineage_job {
  const char *data;
  size_t len;
  int fd; /* >= 0: the input is the file's first len bytes, read here (not data) */
  const char *raw_dir, *ext;
  char sha256[OC_SHA256_HEX_LEN];
  char *raw_path;
  char *staged_path; /* this batch's copy until publish_copy names it raw_path; NULL: raw_path existed */
  int rc;
  oc_error err;
} lineage_job;

/* The SHA-256 of the first len bytes of fd, read in chunks (a file cut short meanwhile: of what is left;
 * the caller finds out otherwise). */
static int hash_fd(int fd, size_t len, char hex[OC_SHA256_HEX_LEN], oc_error *err) {
  enum { CHUNK = 1 << 20 };
  char *buf = oc_xmalloc(CHUNK);
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  int rc = 0;
  for (size_t off = 0; off < len;) {
    ssize_t got = pread(fd, buf, len - off < CHUNK ? len - off : CHUNK, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) rc = oc_error_errno(err, "cannot read the input to hash it");
    if (got <= 0) break;
    oc_sha256_update(&ctx, buf, (size_t)got);
    off += (size_t)got;
  }
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
  free(buf);
  return rc;
}

static void *lineage_run(void *arg) {
  lineage_job *job = arg;
  if (job->fd >= 0) job->rc = hash_fd(job->fd, job->len, job->sha256, &job->err);
  else oc_sha256_hex(job->data, job->len, job->sha256);
  if (job->rc != 0) return NULL;
  if (!job->raw_dir) return NULL;
  char day[OC_DATE_STRLEN];
  oc_date_format(oc_date_today_utc(), day);
  char *dir = oc_path_join(job->raw_dir, day);
  job->rc = oc_mkdir_p(dir, &job->err);
  if (job->rc == 0) {
    oc_buf name = {0};
    oc_buf_printf(&name, "%s.%s", job->sha256, job->ext && *job->ext ? job->ext : "dat");
    job->raw_path = oc_path_join(dir, name.data);
    oc_buf_free(&name);
    if (!oc_path_exists(job->raw_path)) {
      oc_file_write copy = {.path = job->raw_path, .data = job->data, .len = job->len};
      job->rc = job->fd >= 0 ? oc_copy_fd_staged(job->raw_path, job->fd, job->len, &job->err)
                             : oc_write_files_staged(&copy, 1, &job->err);
      if (job->rc == 0) job->staged_path = oc_publish_staging_path(job->raw_path);
    }
  }
  free(dir);
  return NULL;
}

/* The batch's copy under its name (replacing an identical one another batch named meanwhile), synced. */
static int publish_copy(lineage_job *job, oc_error *err) {
  if (!job->staged_path) return 0;
  if (rename(job->staged_path, job->raw_path) != 0)
    return oc_error_errno(err, "cannot rename %s to %s", job->staged_path, job->raw_path);
  free(job->staged_path);
  job->staged_path = NULL;
  if (oc_fsync_parent_dir(job->raw_path) != 0) return oc_error_errno(err, "cannot sync the folder of %s", job->raw_path);
  return 0;
}

/* The batch did not commit: its temporary copy goes (a copy it named before a failed commit stays,
 * named by no run: another batch may have named it too). */
static void discard_copy(lineage_job *job) {
  if (!job->staged_path) return;
  unlink(job->staged_path);
  free(job->staged_path);
  job->staged_path = NULL;
}

/* ---- the batch --------------------------------------------------------------------------------- */

/* The staged batch's transaction: its series (every slot, as the unstaged batch creates them while
 * reading), then its rows. */
static int move_staged(oc_ingest_sink *b) {
  int64_t *ids = oc_xmalloc((b->nslots ? b->nslots : 1) * sizeof *ids);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < b->nslots; i++)
    rc = oc_store_series_ensure(b->store, b->slots[i].name, b->opt->unit, b->opt->source_kind, &ids[i], b->err);
  oc_upsert_counts c = {0};
  if (rc == 0)
    rc = oc_store_observations_stage_move(b->store, ids, b->nslots, b->opt->source_kind, b->now, &c, b->err);
  free(ids);
  add_counts(b->rep, &c);
  return rc;
}

static void record_run(oc_ingest_sink *b, const char *status, int64_t started) {
  oc_ingest_report *rep = b->rep;
  oc_ingest_run run = {.source_kind = b->opt->source_kind,
                       .path = b->opt->origin,
                       .raw_path = rep->raw_path,
                       .sha256 = rep->sha256,
                       .status = status,
                       .rows_read = rep->rows_read,
                       .rows_inserted = rep->rows_inserted,
                       .rows_updated = rep->rows_updated,
                       .rows_unchanged = rep->rows_unchanged,
                       .rows_rejected = rep->rows_rejected,
                       .rows_missing = rep->rows_missing,
                       .negative_values = rep->negative_values,
                       .started_at = started,
                       .finished_at = (int64_t)time(NULL)};
  oc_ingest_run_series *series = oc_xcalloc(b->nslots ? b->nslots : 1, sizeof *series);
  for (size_t i = 0; i < b->nslots; i++) {
    const series_slot *s = &b->slots[i];
    if (s->rows == 0) continue;
    oc_ingest_run_series *rs = &series[run.nseries++];
    *rs = (oc_ingest_run_series){.rows = s->rows, .last_date = s->last_date, .last_value = s->last_value};
    snprintf(rs->name, sizeof rs->name, "%s", s->name);
  }
  run.series = series;
  oc_error ignored;
  if (oc_store_ingest_run_record(b->store, &run, strcmp(status, "ok") == 0 ? b->err : &ignored) == 0)
    rep->run_id = run.id;
  free(series);
}

/* Ends a batch whose rows all passed: a staged batch's transaction begins here and moves its rows in;
 * then the raw copy takes its name, the run is recorded and the transaction committed. -1 with b->err;
 * *open says whether the transaction is still open, for the caller to roll back. */
static int commit_batch(oc_ingest_sink *b, lineage_job *job, bool *open, int64_t started) {
  if (b->staged) {
    if (oc_store_begin(b->store, b->err) != 0) return -1;
    *open = true;
    b->began_at = oc_monotonic_seconds();
    if (move_staged(b) != 0) return -1;
  }
  if (b->opt->before_commit && b->opt->before_commit(b->opt->source, b->err) != 0) return -1;
  if (publish_copy(job, b->err) != 0) return -1;
  record_run(b, "ok", started);
  if (!b->rep->run_id || oc_store_commit(b->store, b->err) != 0) return -1;
  *open = false;
  return 0;
}

int oc_ingest_batch(oc_store *store, const oc_ingest_batch_options *opt, oc_ingest_report *report, oc_error *err) {
  assert(opt->read && opt->source_kind && opt->origin && opt->unit);
  memset(report, 0, sizeof *report);
  report->format = "unknown";
  int64_t started = (int64_t)time(NULL);
  double t0 = oc_monotonic_seconds();
  lineage_job job = {.data = opt->raw ? opt->raw : "", .len = opt->raw || opt->raw_from_fd ? opt->raw_len : 0,
                     .fd = opt->raw_from_fd ? opt->raw_fd : -1, .raw_dir = opt->raw_dir, .ext = opt->raw_ext};
  pthread_t lineage_thread;
  bool threaded = (job.len >= LINEAGE_THREAD_MIN || job.raw_dir) &&
                  pthread_create(&lineage_thread, NULL, lineage_run, &job) == 0;
  if (!threaded) lineage_run(&job);
  oc_ingest_sink b = {.store = store, .opt = opt, .rep = report, .now = started, .writing = true, .err = err,
                      .date_min = oc_date_from_ymd(1, 1, 1), .date_max = oc_date_from_ymd(9999, 12, 31),
                      .staged = opt->stage && oc_store_stages_observations(store),
                      .chunk_rows = opt->chunk_rows ? opt->chunk_rows : WRITE_CHUNK};
  b.chunk = oc_xmalloc(b.chunk_rows * sizeof *b.chunk);
  int rc = -1;
  /* Unstaged, the one transaction spans the reading; staged, it begins once every row is read. */
  bool open = !b.staged && oc_store_begin(store, err) == 0;
  if (open) b.began_at = t0;
  int parsed = b.staged || open ? opt->read(opt->source, &b, err) : -1;
  if (parsed == 0) parsed = flush(&b);
  writer_stop(&b);
  double t1 = oc_monotonic_seconds();
  if (threaded) pthread_join(lineage_thread, NULL);
  memcpy(report->sha256, job.sha256, sizeof report->sha256);
  report->raw_path = job.raw_path ? job.raw_path : oc_xstrdup("");
  report->nseries = b.nslots;
  oc_error ignored;
  /* skip writes the good rows; with none (every row rejected or missing), it would leave only the
   * batch's new series, empty, and an "ok" run: refused as abort refuses a bad row */
  bool none_usable = report->rows_read == report->rows_rejected + report->rows_missing;
  if (parsed != 0) {
    /* err says why; nothing was committed */
  } else if (report->rows_rejected > 0 && (opt->on_error == OC_ON_ERROR_ABORT || none_usable)) {
    if (open) oc_store_rollback(store, &ignored);
    open = false;
    report->rows_inserted = report->rows_updated = report->rows_unchanged = 0;
    if (job.staged_path) { /* keep no lineage of what was not ingested */
      discard_copy(&job);
      report->raw_path[0] = '\0';
    }
    record_run(&b, "rejected", started);
    if (opt->on_error == OC_ON_ERROR_ABORT)
      oc_error_set(err, "%s: %lld of %lld rows rejected; nothing written (--on-error skip writes the good rows)",
                   opt->origin, (long long)report->rows_rejected, (long long)report->rows_read);
    else
      oc_error_set(err, "%s: no row was usable (%lld of %lld rows rejected, %lld missing); nothing written",
                   opt->origin, (long long)report->rows_rejected, (long long)report->rows_read,
                   (long long)report->rows_missing);
  } else if (job.rc != 0) {
    *err = job.err;
  } else if (commit_batch(&b, &job, &open, started) == 0) {
    report->written = true;
    rc = 0;
  }
  if (open) oc_store_rollback(store, &ignored);
  if (b.staged) oc_store_observations_stage_clear(store);
  discard_copy(&job);
  double t2 = oc_monotonic_seconds();
  oc_debug("ingest %s: rows %.2f s, lineage and commit %.2f s, write transaction %.2f s", opt->origin, t1 - t0,
           t2 - t1, b.began_at > 0 ? t2 - b.began_at : 0.0);
  for (size_t i = 0; i < b.nslots; i++) {
    free(b.slots[i].name);
    free(b.slots[i].seen);
  }
  free(b.slots);
  free(b.table);
  free(b.chunk);
  return rc;
}
