/* batch.h: THE ingest path. Every source of observations (a CSV or JSON file, an HTTP POST body, and
 * next the market APIs and the MQTT stream) parses its own input and hands each row to a sink;
 * oc_ingest_batch() does all the rest, the same way for every source:
 *   - validation: series name ([A-Za-z0-9_.-]{1,64}), date within 0001-01-01..9999-12-31, finite
 *     value, no second row for a (series, date) in the batch; negative values are legal but flagged;
 *   - conflict policy: a value equal to the stored one is unchanged, a different one is updated and
 *     counted as a revision, a new (series, date) is inserted; new series are created;
 *   - ONE store transaction around every write (with opt->stage, only around the move of the staged
 *     rows, the series and the run record); under OC_ON_ERROR_ABORT one bad row writes nothing
 *     (validation goes on so that every bad row is reported), under OC_ON_ERROR_SKIP the good rows
 *     commit (with bad rows and not one good row, nothing is written, as under abort);
 *   - the run record (oc_store_ingest_run_record, with its per-series rows: what a running server's
 *     change notification reads); a rejected batch is still logged, as "rejected";
 *   - lineage: the SHA-256 of the input as received and, with a raw_dir, an unchanged copy
 *     raw_dir/YYYY-MM-DD/<sha256>.<ext>, written to a temporary file (synced) while the rows are read
 *     and renamed to its name in the transaction, just before the commit; a batch that does not
 *     commit removes its temporary file only (a batch of the same bytes beside it may have committed
 *     naming the copy), so a kill at any instant leaves the old state or the new.
 * A source never opens a transaction, never writes to the store and never decides what a bad row does.
 * Library code: prints nothing. */
#ifndef OC_INGEST_BATCH_H
#define OC_INGEST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/sha256.h"
#include "store/store.h"

typedef enum { OC_ON_ERROR_ABORT = 0, OC_ON_ERROR_SKIP = 1 } oc_on_error;

#define OC_INGEST_LISTED 20 /* bad rows listed one by one; the rest are counted */
#define OC_INGEST_NEGATIVES_LISTED 5

/* `where` is a row's position as its source numbers rows: the line of a file (1-based), the index
 * of an element of a JSON body (0-based). */
typedef struct oc_ingest_problem {
  size_t where;
  const char *field; /* the field at fault ("date", "value") when the source names fields; NULL: the row */
  bool duplicate;    /* the row repeats the (series, date) of an earlier row of the batch */
  char reason[384];  /* without the position, which the caller prints its own way */
} oc_ingest_problem;

typedef struct oc_ingest_negative {
  size_t where;
  oc_date date;
  double value;
  char series[OC_SERIES_NAME_MAX + 1];
} oc_ingest_negative;

typedef struct oc_ingest_report {
  const char *format; /* how the source read its input ("eia", "json-objects", ...; "unknown") */
  char sha256[OC_SHA256_HEX_LEN];
  char *raw_path;     /* lineage copy ("" when none) */
  int64_t rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_missing;
  int64_t negative_values;
  size_t nseries; /* distinct valid series names among the rows */
  oc_ingest_problem problems[OC_INGEST_LISTED];
  size_t nproblems; /* listed (<= OC_INGEST_LISTED); rows_rejected is the total */
  oc_ingest_negative negatives[OC_INGEST_NEGATIVES_LISTED];
  size_t nnegatives; /* listed */
  int64_t run_id;    /* the recorded run (also for a rejected batch); 0 when none was recorded */
  bool written;      /* the transaction committed */
} oc_ingest_report;

void oc_ingest_report_free(oc_ingest_report *report);

/* ---- the source's side ------------------------------------------------------------------------ */

/* The batch in progress, as a source sees it: where it hands its rows. Every row read is exactly one
 * of add, reject or missing (each counts it in rows_read). */
typedef struct oc_ingest_sink oc_ingest_sink;

/* A parsed observation of `series` (series_len bytes, need not be NUL-terminated). Validation
 * failures are recorded as problems and return 0; -1 only on a store error, already in the batch's
 * err: the source stops and returns -1. */
int oc_ingest_add(oc_ingest_sink *sink, size_t where, const char *series, size_t series_len, oc_date date,
                  double value);
/* A row the source could not parse (field is "date", "value" or NULL for the whole row). */
void oc_ingest_reject(oc_ingest_sink *sink, size_t where, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A row that says "no value for this date" (FRED's "."): counted, not stored. */
void oc_ingest_missing(oc_ingest_sink *sink);
/* Names the input's format in the report (a string literal). */
void oc_ingest_set_format(oc_ingest_sink *sink, const char *format);
/* Writes every row added so far into the batch (after the chunk the sink may be writing on a thread
 * of its own), on this thread, so that the store's connection is free and the rows are in: a source
 * calls it before it uses the store itself, or to put its rows in while something else it waits for
 * before the commit goes on (the market source's raw zone). 0, or -1 with the batch's err (a store
 * error writing them: the source stops and returns -1). */
int oc_ingest_sync(oc_ingest_sink *sink);

/* Reads the source's whole input into the sink. 0, or -1 with err: the input cannot be read at all
 * (no header, malformed JSON, a store error from oc_ingest_add): then nothing is written. */
typedef int (*oc_ingest_read_fn)(void *source, oc_ingest_sink *sink, oc_error *err);

/* ---- the batch --------------------------------------------------------------------------------- */

typedef struct oc_ingest_batch_options {
  oc_ingest_read_fn read;
  void *source;            /* read's first argument */
  const char *source_kind; /* "historical", "simulated", "api", ...: stamped on the run, new series, rows */
  const char *origin;      /* what the run read, as recorded: a file path, "POST /v1/series/WTI/observations" */
  const char *unit;        /* unit of newly created series */
  oc_on_error on_error;
  const void *raw;         /* the input as received (raw_len bytes): its SHA-256 is the run's checksum */
  size_t raw_len;
  /* The input is the first raw_len bytes of the open file raw_fd instead: the lineage job reads it
   * itself (pread, and the copy kernel-side), never raw, which may be a mapping only the reading
   * thread may touch (core/mapped_file.h: a page past a truncation is replaced under the reader). */
  bool raw_from_fd;
  int raw_fd;
  const char *raw_dir;     /* lineage root, e.g. DIR/raw/historical_data; NULL: keep no copy */
  const char *raw_ext;     /* extension of the copy ("csv", "json"; NULL or "": "dat") */
  /* Where the store can (store.h: staged imports), read and stage the rows outside any transaction,
   * then move them in with one short transaction: the store's write lock is held for that move only,
   * not while a long input is read. read must then not write to the store itself. */
  bool stage;
  size_t chunk_rows; /* observations per store write (0: 65536); tests make it small to cross chunks */
  /* Optional: called with source inside the batch's transaction once every row passed, just before
   * the raw copy takes its name and the run is recorded (the market source names its answers' files
   * there). 0, or -1 with err: the batch fails and its transaction is rolled back. */
  int (*before_commit)(void *source, oc_error *err);
} oc_ingest_batch_options;

/* Runs one batch: opt->read hands over the rows, the batch validates and writes them, records the
 * run and keeps the lineage copy. Returns 0 when the batch committed (under OC_ON_ERROR_SKIP bad rows
 * are in the report). Returns -1 when nothing was written: a runtime error, or bad rows under
 * OC_ON_ERROR_ABORT, or under OC_ON_ERROR_SKIP bad rows and no good one (report->problems lists them;
 * a "rejected" run is logged). Free the report with
 * oc_ingest_report_free either way. */
int oc_ingest_batch(oc_store *store, const oc_ingest_batch_options *opt, oc_ingest_report *report, oc_error *err);

#endif
