/* market.c: see market.h. The driver every provider shares: the incremental start, paging, retries,
 * the raw zone and its manifest, the replay, and the read function that hands each row to the ingest
 * batch. What a provider's URL and answer look like lives in market_<provider>.c, never here. */
#include "ingest/market.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/publish.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "ingest/row.h"

static const oc_market_provider *const providers[] = {&oc_market_eia, &oc_market_fred, &oc_market_alphavantage};
#define NPROVIDERS (sizeof providers / sizeof providers[0])
const char oc_market_provider_names[] = "eia, fred or alphavantage";

/* Keys shorter than this are not masked: masking "k" would garble every answer that holds a "k". */
#define KEY_MASK_MIN 6
#define KEY_MASK "REDACTED"

const oc_market_provider *oc_market_provider_find(const char *name) {
  for (size_t i = 0; i < NPROVIDERS; i++)
    if (strcmp(providers[i]->name, name) == 0) return providers[i];
  return NULL;
}

/* ---- helpers of the provider files ------------------------------------------------------------- */

int oc_market_page_refused(oc_market_page *page, const char *said, oc_error *err) {
  /* a provider's refusal may carry an empty text ({"error_message":""}): it is still a refusal */
  oc_error_set(err, "%s", said && *said ? said : "an error without a message");
  oc_market_page_free(page);
  return 1;
}

int oc_market_page_rows(oc_market_page *page, oc_error *err) {
  if (page->has_rows) return 0;
  oc_market_page_free(page);
  return oc_error_set(err, "the answer has no array of observations");
}

int oc_market_json_count(const json_t *value, size_t *count) {
  if (json_is_integer(value) && json_integer_value(value) >= 0) {
    *count = (size_t)json_integer_value(value);
    return 0;
  }
  if (!json_is_string(value)) return -1;
  const char *s = json_string_value(value);
  char *end;
  errno = 0;
  unsigned long long n = strtoull(s, &end, 10);
  if (end == s || *end || errno || *s == '-' || *s == '+' || *s == ' ') return -1;
  *count = (size_t)n;
  return 0;
}

void oc_market_url_param(oc_buf *url, const char *name, const char *value) {
  char *escaped = oc_http_escape(value);
  oc_buf_printf(url, "%s%s=%s", url->len && url->data[url->len - 1] == '?' ? "" : "&", name, escaped);
  free(escaped);
}

static void mask_text(char *text, size_t len, const char *key) {
  size_t klen = strlen(key);
  if (klen < KEY_MASK_MIN || len < klen) return;
  for (char *p = text; (p = memmem(p, len - (size_t)(p - text), key, klen)) != NULL; p += klen) memset(p, 'X', klen);
}

void oc_market_mask_key(char *text, size_t len, const char *key) {
  if (!key) return;
  mask_text(text, len, key);
  /* a key with characters a URL encodes travels encoded, and a server quoting the request (an error,
   * a Link or Location header) quotes it so */
  char *sent = oc_http_escape(key);
  if (strcmp(sent, key) != 0) mask_text(text, len, sent);
  free(sent);
}

/* err's message with the key masked (a provider or libcurl may quote the URL or the key back). */
static int fail_masked(oc_error *err, const char *key) {
  oc_market_mask_key(err->message, strlen(err->message), key);
  return -1;
}

/* ---- retry policy ------------------------------------------------------------------------------ */

oc_market_options oc_market_options_default(void) {
  return (oc_market_options){.unit = "USD/bbl",
                             .since = OC_DATE_INVALID,
                             .overlap = 10,
                             .retry = {.max_attempts = 5,
                                       .backoff_base = 1.0,
                                       .backoff_max = 60.0,
                                       .total_seconds = 300.0,
                                       .timeout_ms = 30000},
                             .on_error = OC_ON_ERROR_ABORT};
}

double oc_market_backoff(const oc_market_retry *retry, int attempt, double jitter01) {
  assert(attempt >= 1 && jitter01 >= 0 && jitter01 < 1);
  double wait = retry->backoff_base;
  for (int i = 1; i < attempt && wait < retry->backoff_max; i++) wait *= 2;
  if (wait > retry->backoff_max) wait = retry->backoff_max;
  return wait / 2 + wait / 2 * jitter01;
}

double oc_market_retry_after(const char *value, time_t now) {
  if (!value || !*value) return -1;
  /* delta-seconds, digits only (RFC 9110 10.2.3); one too large for a long is a very long wait, not an
   * unreadable value (strtol's ERANGE made it one, so the backoff's short wait was used instead) */
  size_t digits = strspn(value, "0123456789");
  if (digits && !value[digits]) return strtod(value, NULL);
  struct tm tm = {0}; /* an HTTP-date: "Wed, 21 Oct 2015 07:28:00 GMT" */
  const char *rest = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!rest || *rest) return -1;
  double delta = difftime(timegm(&tm), now);
  return delta > 0 ? delta : 0;
}

static void sleep_seconds(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- answers ----------------------------------------------------------------------------------- */

/* The SHA-256 of one answer's body, taken on a thread of its own while the driver parses the page and
 * asks for the next one (on the heap: the answers array may move meanwhile). */
typedef struct answer_hash {
  const char *data;
  size_t len;
  char hex[OC_SHA256_HEX_LEN];
  pthread_t thread;
  bool threaded;
} answer_hash;

/* One HTTP answer as kept in the raw zone (the key masked in its body and headers, which is what its
 * SHA-256 covers). */
typedef struct market_answer {
  char *url_shown;  /* the key redacted */
  size_t offset;    /* the page's first row */
  long status;
  oc_buf body, headers;
  int64_t received_at; /* Unix seconds */
  double seconds;
  answer_hash *hashing; /* until answer_hashed: sha256 and file are not set yet */
  char sha256[OC_SHA256_HEX_LEN];
  char *file;       /* relative to the provider's folder: YYYY-MM-DD/<sha256>.json */
  bool used;        /* the answer whose rows were read (the others were retried) */
  char *staged;     /* this run's copy, written and synced under a temporary name (publish_answers
                     * names it file just before the commit; a run that does not commit removes it):
                     * NULL when the file existed or no copy is due */
} market_answer;

typedef struct market_fetch {
  oc_store *store;
  const oc_market_options *opt;
  const oc_market_provider *provider;
  const char *series, *unit; /* the options', or a replayed manifest's (copied into the buffers) */
  char series_buf[OC_SERIES_NAME_MAX + 1], unit_buf[64];
  oc_market_query query;
  market_answer *answers;
  size_t nanswers, answers_cap;
  oc_market_page *pages;
  size_t npages, pages_cap;
  char *provider_dir; /* raw_dir/<provider> */
  oc_http_session *http; /* the pages' requests, on one connection */
  oc_series stored;   /* the stored window from `since` on, for the revisions listed */
  oc_market_report *report;
  /* the raw zone's writer (write_answers), on its own thread while the rows go in */
  pthread_t writer;
  bool writer_running;
  int writer_rc;
  oc_error writer_err;
} market_fetch;

static market_answer *answer_add(market_fetch *f) {
  oc_xgrow((void **)&f->answers, &f->answers_cap, f->nanswers + 1, sizeof *f->answers);
  market_answer *a = &f->answers[f->nanswers++];
  memset(a, 0, sizeof *a);
  return a;
}

static void *hash_run(void *arg) {
  answer_hash *h = arg;
  oc_sha256_hex(h->data, h->len, h->hex);
  return NULL;
}

/* Waits for the answer's SHA-256 (a no-op once it has it) and names its file after it. The body must
 * not change before this returned. */
static void answer_hashed(market_answer *a) {
  answer_hash *h = a->hashing;
  if (!h) return;
  if (h->threaded) pthread_join(h->thread, NULL);
  memcpy(a->sha256, h->hex, sizeof a->sha256);
  free(h);
  a->hashing = NULL;
  char day[OC_DATE_STRLEN];
  oc_buf file = {0};
  oc_buf_printf(&file, "%s/%s.json", oc_date_format(oc_date_today_utc(), day), a->sha256);
  a->file = oc_buf_steal(&file);
}

static void answers_hashed(market_fetch *f) {
  for (size_t i = 0; i < f->nanswers; i++) answer_hashed(&f->answers[i]);
}

/* Masks the key in the answer and starts taking its SHA-256 (inline when no thread can start). */
static void answer_seal(market_answer *a, const char *key) {
  oc_market_mask_key(a->body.data, a->body.len, key);
  oc_market_mask_key(a->headers.data, a->headers.len, key);
  answer_hash *h = a->hashing = oc_xmalloc(sizeof *h);
  *h = (answer_hash){.data = a->body.data ? a->body.data : "", .len = a->body.len};
  h->threaded = pthread_create(&h->thread, NULL, hash_run, h) == 0;
  if (!h->threaded) hash_run(h);
}

static bool status_retried(long status) { return status == 429 || status >= 500; }

/* Parses the answer a; on an error status or an unreadable body, err says so in full: the provider's
 * words when it answered in its error shape, else the parser's reason (a 2xx) or the body's start; a
 * redirect, which is not followed, says where it pointed (its Location, the key masked by answer_seal). */
static int answer_parse(const market_fetch *f, const market_answer *a, oc_market_page *page, oc_error *err) {
  oc_error said;
  bool ok_status = a->status >= 200 && a->status < 300;
  int parsed = f->provider->parse(a->body.data ? a->body.data : "", a->body.len, page, &said);
  if (parsed == 0 && ok_status) return 0;
  if (parsed == 0) oc_market_page_free(page);
  if (parsed == 0 || (parsed < 0 && !ok_status)) /* an error status without the provider's error shape */
    snprintf(said.message, sizeof said.message, "%.200s", a->body.len ? a->body.data : "(empty body)");
  char note[400] = "", location[320];
  const char *first = a->body.data ? a->body.data : "";
  while (*first == ' ' || *first == '\t' || *first == '\r' || *first == '\n') first++;
  if (a->status >= 300 && a->status < 400) {
    const oc_http_response kept = {.headers = a->headers};
    const char *to = oc_http_header(&kept, "Location", location, sizeof location);
    snprintf(note, sizeof note, " (a redirect, not followed, %s%s)", to ? "to " : "without a Location header",
             to ? to : "");
  } else if (parsed < 0 && ok_status && *first && *first != '{' && *first != '[') {
    /* a 2xx that is no JSON at all is usually someone else's page (a proxy's or a portal's error, sent
     * with 200): the parser's "unexpected character" alone hides what it said */
    snprintf(note, sizeof note, " (the answer begins: %.200s)", first);
  }
  return oc_error_set(err, "HTTP %ld from %s: %s%s", a->status, a->url_shown, said.message, note);
}

/* Sends one page's request until an answer is usable, retrying what may pass (timeouts, connection
 * errors, 5xx, 429) within the attempt and time limits; keeps every answer. */
static int fetch_page(market_fetch *f, size_t offset, double deadline, oc_rng *rng, oc_market_page *page,
                      oc_error *err) {
  const oc_market_retry *retry = &f->opt->retry;
  oc_buf url = {0}, shown = {0};
  f->provider->page_url(&f->query, offset, &url);
  oc_market_query masked = f->query;
  masked.api_key = KEY_MASK;
  f->provider->page_url(&masked, offset, &shown);
  int rc = -1;
  for (int attempt = 1;; attempt++) {
    /* the limit is on the whole fetch: a slow answer that comes must not carry it past, so no request
     * starts once it passed and none may last longer than the time left */
    double left = deadline - oc_monotonic_seconds();
    if (left <= 0) {
      oc_error_set(err, "gave up (the %g s limit passed) before the page at offset %zu", retry->total_seconds, offset);
      break;
    }
    long timeout_ms = left * 1000 < (double)retry->timeout_ms ? (long)(left * 1000) + 1 : retry->timeout_ms;
    oc_http_request req = {.method = "GET", .url = url.data, .url_shown = shown.data, .timeout_ms = timeout_ms};
    oc_http_response resp = {0};
    f->report->requests++;
    int sent = oc_http_session_exchange(f->http, &req, &resp, err);
    bool again;
    double wait = oc_market_backoff(retry, attempt, oc_rng_uniform(rng));
    if (sent != 0) {
      again = resp.transient;
      oc_http_response_free(&resp);
    } else {
      market_answer *a = answer_add(f);
      *a = (market_answer){.url_shown = oc_xstrdup(shown.data), .offset = offset, .status = resp.status,
                           .body = resp.body, .headers = resp.headers, .received_at = (int64_t)time(NULL),
                           .seconds = resp.seconds};
      answer_seal(a, f->query.api_key);
      if (answer_parse(f, a, page, err) == 0) {
        a->used = true;
        rc = 0;
        break;
      }
      again = status_retried(a->status);
      char value[64];
      const oc_http_response kept = {.headers = a->headers};
      double after = oc_market_retry_after(oc_http_header(&kept, "Retry-After", value, sizeof value), time(NULL));
      if (again && after >= 0) wait = after; /* a 429's or a 503's own word on when to come back */
    }
    if (!again) break;
    if (attempt >= retry->max_attempts) {
      oc_error_prefix(err, "gave up after %d attempts: ", attempt);
      break;
    }
    if (oc_monotonic_seconds() + wait > deadline) {
      oc_error_prefix(err, "gave up (the %g s limit would pass before the next attempt, in %.1f s): ",
                      retry->total_seconds, wait);
      break;
    }
    sleep_seconds(wait);
  }
  if (rc != 0) oc_error_prefix(err, "%s: ", f->provider->name);
  oc_buf_free(&url);
  oc_buf_free(&shown);
  return rc;
}

static void page_add(market_fetch *f, const oc_market_page *page) {
  oc_xgrow((void **)&f->pages, &f->pages_cap, f->npages + 1, sizeof *f->pages);
  f->pages[f->npages++] = *page;
}

/* Every page of the query, in memory: nothing is written until all of them came. */
static int fetch_all(market_fetch *f, oc_error *err) {
  double deadline = oc_monotonic_seconds() + f->opt->retry.total_seconds;
  f->http = oc_http_session_new();
  oc_rng rng;
  oc_rng_seed(&rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
  size_t offset = 0;
  for (;;) {
    oc_market_page page;
    if (fetch_page(f, offset, deadline, &rng, &page, err) != 0) return -1;
    page_add(f, &page);
    /* rows that went away while paging shift the later ones to lower offsets, past the one asked
     * next: some would be skipped, and a total that fell to the rows read would end the fetch with
     * them missing and call it whole */
    const oc_market_page *before = f->npages > 1 ? &f->pages[f->npages - 2] : NULL;
    if (before && page.total < before->total)
      return oc_error_set(err, "%s: the total fell from %zu to %zu rows between the pages at offsets %zu and %zu "
                               "(the answer changed while it was read)",
                          f->provider->name, before->total, page.total, offset - before->nrows, offset);
    size_t got = page.nrows;
    offset += got;
    if (f->provider->page_size == 0 || offset >= page.total) return 0;
    if (got == 0)
      return oc_error_set(err, "%s: the page at offset %zu is empty though the total is %zu rows", f->provider->name,
                          offset, page.total);
  }
}

/* ---- the raw zone ------------------------------------------------------------------------------ */

/* Every answer not in the raw zone yet, written and fsynced under this process's temporary names
 * (oc_write_files_staged). They take their names, and the day's folder its one fsync, only inside the
 * batch's transaction (publish_answers), so a run that fails removes its own files and never a named
 * one: another fetch of the same answers beside it may have committed a manifest naming it. */
static int write_answers(market_fetch *f, oc_error *err) {
  oc_file_write *files = oc_xcalloc(f->nanswers ? f->nanswers : 1, sizeof *files);
  size_t *answer_of = oc_xcalloc(f->nanswers ? f->nanswers : 1, sizeof *answer_of), nfiles = 0;
  int rc = 0;
  for (size_t i = 0; i < f->nanswers && rc == 0; i++) {
    market_answer *a = &f->answers[i];
    char *path = oc_path_join(f->provider_dir, a->file);
    char *dir = oc_xstrdup(path);
    *strrchr(dir, '/') = '\0';
    rc = oc_mkdir_p(dir, err);
    free(dir);
    bool wanted = rc == 0 && !oc_path_exists(path);
    for (size_t j = 0; wanted && j < nfiles; j++) wanted = strcmp(files[j].path, path) != 0; /* the same bytes twice */
    if (!wanted) {
      free(path);
      continue;
    }
    files[nfiles] = (oc_file_write){.path = path, .data = a->body.data ? a->body.data : "", .len = a->body.len};
    answer_of[nfiles++] = i;
  }
  if (rc == 0) rc = oc_write_files_staged(files, nfiles, err);
  for (size_t j = 0; j < nfiles; j++) {
    if (files[j].written) f->answers[answer_of[j]].staged = oc_publish_staging_path(files[j].path);
    free((char *)files[j].path);
  }
  free(files);
  free(answer_of);
  return rc;
}

static void *writer_run(void *arg) {
  market_fetch *f = arg;
  f->writer_rc = write_answers(f, &f->writer_err);
  return NULL;
}

/* Starts writing the answers (inline when no thread can start). Their fsyncs wait on the disk while
 * the batch parses, checks and inserts the rows: the whole fetch's wall time, not its CPU. */
static void writer_start(market_fetch *f) {
  f->writer_running = pthread_create(&f->writer, NULL, writer_run, f) == 0;
  if (!f->writer_running) writer_run(f);
}

/* Waits for the writer (a no-op once it was waited for, or when none ran): 0 when every answer is in
 * the raw zone, durable; else -1 with its error. The batch must not commit before this said 0. */
static int writer_wait(market_fetch *f, oc_error *err) {
  if (f->writer_running) {
    pthread_join(f->writer, NULL);
    f->writer_running = false;
  }
  if (f->writer_rc == 0) return 0;
  *err = f->writer_err;
  return -1;
}

/* oc_ingest_batch_options.before_commit: this run's copies take their names (replacing identical ones
 * another run named meanwhile), and each day's folder they went into is synced once. */
static int publish_answers(void *source, oc_error *err) {
  market_fetch *f = source;
  const char *synced_day = NULL; /* a->file is "DAY/<sha256>.json" */
  int rc = 0;
  for (size_t i = 0; i < f->nanswers && rc == 0; i++) {
    market_answer *a = &f->answers[i];
    if (!a->staged) continue;
    char *path = oc_path_join(f->provider_dir, a->file);
    if (rename(a->staged, path) != 0) rc = oc_error_errno(err, "cannot rename %s to %s", a->staged, path);
    bool new_day = !synced_day || strncmp(synced_day, a->file, OC_DATE_STRLEN - 1) != 0;
    if (rc == 0 && new_day && oc_fsync_parent_dir(path) != 0)
      rc = oc_error_errno(err, "cannot sync the folder of %s", path);
    if (rc == 0) {
      synced_day = a->file;
      free(a->staged);
      a->staged = NULL;
    }
    free(path);
  }
  return rc;
}

/* The copies this run wrote and did not name (it is not committing). */
static void discard_staged_answers(market_fetch *f) {
  for (size_t i = 0; i < f->nanswers; i++) {
    if (!f->answers[i].staged) continue;
    unlink(f->answers[i].staged);
    free(f->answers[i].staged);
    f->answers[i].staged = NULL;
  }
}

/* The header lines as a JSON array of strings (the status line and the blank end left out). */
static json_t *headers_json(const oc_buf *headers) {
  json_t *out = json_array();
  const char *p = headers->data, *end = p ? p + headers->len : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end, *le = line_end;
    while (le > p && le[-1] == '\r') le--;
    if (le > p && strncmp(p, "HTTP/", 5) != 0) json_array_append_new(out, json_stringn_nocheck(p, (size_t)(le - p)));
    p = eol ? eol + 1 : end;
  }
  return out;
}

/* The manifest: what was asked and every answer (the batch keeps it as the run's lineage copy). */
static char *manifest_text(const market_fetch *f) {
  char day[OC_DATE_STRLEN], stamp[OC_TIMESTAMP_STRLEN];
  json_t *m = json_object();
  json_object_set_new(m, "provider", json_string(f->provider->name));
  json_object_set_new(m, "series", json_string(f->series));
  json_object_set_new(m, "symbol", json_string(f->query.symbol));
  json_object_set_new(m, "since", f->query.since == OC_DATE_INVALID ? json_null()
                                                                     : json_string(oc_date_format(f->query.since, day)));
  json_object_set_new(m, "unit", json_string(f->unit));
  json_t *answers = json_array();
  for (size_t i = 0; i < f->nanswers; i++) {
    const market_answer *a = &f->answers[i];
    json_t *j = json_object();
    json_object_set_new(j, "url", json_string(a->url_shown));
    json_object_set_new(j, "offset", json_integer((json_int_t)a->offset));
    json_object_set_new(j, "status", json_integer(a->status));
    json_object_set_new(j, "headers", headers_json(&a->headers));
    json_object_set_new(j, "received_at", json_string(oc_timestamp_format(a->received_at, stamp)));
    json_object_set_new(j, "seconds", oc_json_number(a->seconds));
    json_object_set_new(j, "bytes", json_integer((json_int_t)a->body.len));
    json_object_set_new(j, "sha256", json_string(a->sha256));
    json_object_set_new(j, "file", json_string(a->file));
    json_object_set_new(j, "used", json_boolean(a->used));
    json_array_append_new(answers, j);
  }
  json_object_set_new(m, "answers", answers);
  char *text = oc_json_dumps(m, OC_JSON_INDENT);
  json_decref(m);
  return text;
}

/* ---- the replay -------------------------------------------------------------------------------- */

static const char *manifest_string(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Reads one answer of the manifest back from its file, checking its SHA-256. */
static int replay_answer(market_fetch *f, const json_t *j, const char *manifest, oc_error *err) {
  const char *file = manifest_string(j, "file"), *sha = manifest_string(j, "sha256"), *url = manifest_string(j, "url");
  const json_t *status = json_object_get(j, "status");
  if (!file || !sha || !url || !json_is_integer(status) || strstr(file, ".."))
    return oc_error_set(err, "%s: an answer without its file, sha256, url or status", manifest);
  market_answer *a = answer_add(f);
  a->url_shown = oc_xstrdup(url);
  a->file = oc_xstrdup(file);
  a->status = (long)json_integer_value(status);
  a->used = json_is_true(json_object_get(j, "used"));
  char *path = oc_path_join(f->provider_dir, file), *data;
  size_t len;
  int rc = oc_read_file(path, &data, &len, err);
  if (rc == 0) {
    oc_buf_append(&a->body, data, len);
    free(data);
    oc_sha256_hex(a->body.data ? a->body.data : "", a->body.len, a->sha256);
    if (strcmp(a->sha256, sha) != 0) rc = oc_error_set(err, "%s: %s does not match its SHA-256 %s", manifest, path, sha);
  }
  free(path);
  return rc;
}

/* The pages of a manifest written by an earlier fetch: the provider, series and start it names, the
 * bytes of its used answers from the files beside it. *text receives the manifest (the lineage). */
static int replay_all(market_fetch *f, const char *manifest, char **text, size_t *len, oc_error *err) {
  if (oc_read_file(manifest, text, len, err) != 0) return -1;
  json_error_t jerr;
  json_t *m = json_loadb(*text, *len, 0, &jerr);
  if (!m) return oc_error_set(err, "%s:%d: not a manifest: %s", manifest, jerr.line, jerr.text);
  int rc = 0;
  const char *provider = manifest_string(m, "provider"), *symbol = manifest_string(m, "symbol"),
             *since = manifest_string(m, "since"), *series = manifest_string(m, "series"),
             *unit = manifest_string(m, "unit");
  const json_t *answers = json_object_get(m, "answers");
  f->provider = provider ? oc_market_provider_find(provider) : NULL;
  if (!f->provider || !symbol || !series || !json_is_array(answers))
    rc = oc_error_set(err, "%s: not a market manifest (provider, series, symbol and answers are required)", manifest);
  if (rc == 0) {
    snprintf(f->series_buf, sizeof f->series_buf, "%s", series);
    f->series = f->series_buf;
    if (unit) {
      snprintf(f->unit_buf, sizeof f->unit_buf, "%s", unit);
      f->unit = f->unit_buf;
    }
    snprintf(f->report->symbol, sizeof f->report->symbol, "%s", symbol);
    f->query.symbol = f->report->symbol;
    if (since && oc_row_parse_date(since, strlen(since), &f->query.since, err->message, sizeof err->message) != 0)
      rc = oc_error_prefix(err, "%s: since: ", manifest);
    /* <provider folder>/<day>/<sha>.manifest.json: the files are named relative to the provider folder */
    char *dir = oc_xstrdup(manifest);
    int up = 0;
    for (; up < 2 && strrchr(dir, '/'); up++) *strrchr(dir, '/') = '\0';
    if (up < 2) { /* a path relative to the provider folder ("DAY/M") or to the day's folder ("M") */
      free(dir);
      dir = oc_xstrdup(up == 1 ? "." : "..");
    }
    f->provider_dir = dir;
  }
  size_t i;
  const json_t *j;
  json_array_foreach(answers, i, j) {
    if (rc != 0) break;
    if ((rc = replay_answer(f, j, manifest, err)) != 0) break;
    const market_answer *a = &f->answers[f->nanswers - 1];
    oc_market_page page;
    if (!a->used) continue;
    if ((rc = answer_parse(f, a, &page, err)) != 0) oc_error_prefix(err, "%s: %s: ", manifest, f->provider->name);
    else page_add(f, &page);
  }
  json_decref(m);
  return rc;
}

/* ---- the rows ---------------------------------------------------------------------------------- */

static void note_revision(market_fetch *f, oc_date date, double value) {
  const oc_series *s = &f->stored;
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->dates[mid] < date) lo = mid + 1;
    else hi = mid;
  }
  oc_market_report *r = f->report;
  if (lo < s->n && s->dates[lo] == date && s->values[lo] != value && r->nrevisions < OC_MARKET_REVISIONS_LISTED)
    r->revisions[r->nrevisions++] = (oc_market_revision){date, s->values[lo], value};
}

/* One row's date and value (what jansson used to give: a date string; a value string, "." or ""
 * missing, a number, or null missing); reason names the field, and the row by its page (page_no,
 * from 1), its place in the page and its byte in that answer: a byte offset alone does not say which
 * of a fetch's answers holds it. */
static oc_row_status row_read(const oc_market_page *page, size_t page_no, size_t row_no, oc_date *date, double *value,
                              char *reason, size_t cap) {
  const oc_market_row *row = &page->rows[row_no];
  const char *text = page->text.data;
  oc_row_status st = OC_ROW_BAD;
  if (row->repeated) {
    snprintf(reason, cap, "%s given twice", row->repeated);
  } else if (row->date_kind != OC_MARKET_STRING) {
    snprintf(reason, cap, "no %s string", page->date_key);
  } else if (row->value_kind == OC_MARKET_STRING || row->value_kind == OC_MARKET_NUMBER) {
    st = oc_row_validate(text + row->date_at, row->date_len, text + row->value_at, row->value_len,
                         row->value_kind == OC_MARKET_STRING, date, value, reason, cap);
  } else if (row->value_kind == OC_MARKET_NULL) {
    st = oc_row_parse_date(text + row->date_at, row->date_len, date, reason, cap) == 0 ? OC_ROW_MISSING : OC_ROW_BAD;
  } else {
    snprintf(reason, cap, "no value (a string, a number or null)");
  }
  if (st == OC_ROW_BAD) {
    size_t used = strlen(reason);
    snprintf(reason + used, cap - used, " (row %zu of page %zu, at byte %zu of that answer)", row_no + 1, page_no,
             row->offset);
  }
  return st;
}

/* Whether the row is dated before the first date the fetch wants (Alpha Vantage answers with the whole
 * history): such a row is not this run's, whatever its value ("." or broken) is, so it is neither
 * counted missing nor rejected. A row whose date cannot be read is not known to be before. */
static bool before_since(const market_fetch *f, const oc_market_page *page, const oc_market_row *row) {
  if (f->query.since == OC_DATE_INVALID || row->date_kind != OC_MARKET_STRING) return false;
  oc_date date;
  const char *why;
  return oc_date_parse(page->text.data + row->date_at, row->date_len, &date, &why) == 0 && date < f->query.since;
}

/* oc_ingest_read_fn: every row of every page, numbered across pages from 0; rows before `since` are
 * left out (before_since). Writes them into the batch's transaction and returns once the raw zone's
 * writer is done, so the batch commits only rows whose answers are durable. */
static int read_rows(void *source, oc_ingest_sink *sink, oc_error *err) {
  market_fetch *f = source;
    oc_ingest_set_format(sink, f->provider->name);
  const char *series = f->series;
  size_t series_len = strlen(series), where = 0, added = 0;
  for (size_t p = 0; p < f->npages; p++) {
    const oc_market_page *page = &f->pages[p];
    for (size_t i = 0; i < page->nrows; i++, where++) {
      oc_date date;
      double value = 0;
      char reason[256];
      if (before_since(f, page, &page->rows[i])) continue;
      oc_row_status st = row_read(page, p + 1, i, &date, &value, reason, sizeof reason);
      if (st == OC_ROW_BAD) oc_ingest_reject(sink, where, NULL, "%s", reason);
      else if (st == OC_ROW_MISSING) oc_ingest_missing(sink);
      else {
        note_revision(f, date, value);
        if (oc_ingest_add(sink, where, series, series_len, date, value) != 0) return -1;
        added++;
      }
    }
  }
  /* The rows go into the batch's transaction now, while the raw zone's writer may still be writing
   * and syncing the answers: only the commit has to wait for it (writer_wait, last). */
  if (oc_ingest_sync(sink) != 0) return -1;
  /* The series' provenance commits with its rows, in the batch's transaction (one commit and one WAL
   * sync, and never rows without it); an unchanged provider writes nothing. The batch created the
   * series at its first row unless the name breaks the rule (then every row is rejected). */
  const char *bad_name;
  if (added > 0 && oc_series_name_check(series, series_len, &bad_name) == 0 &&
      oc_store_series_provider_set(f->store, series, f->provider->name, f->query.symbol, err) != 0)
    return -1;
  return writer_wait(f, err);
}

/* ---- the source -------------------------------------------------------------------------------- */

/* The first date to ask for: as given, or (incremental) the last stored date minus the overlap; also
 * loads the stored values from there on (to list revisions). */
static int choose_since(oc_store *store, market_fetch *f, bool incremental, oc_error *err) {
  oc_series_info info;
  bool found;
  if (oc_store_series_get(store, f->series, &info, &found, err) != 0) return -1;
  if (!found) return 0;
  if (incremental && f->query.since == OC_DATE_INVALID && info.last != OC_DATE_INVALID)
    f->query.since = oc_calendar_add_trading_days(info.last, -f->opt->overlap);
  oc_series_info_free(&info);
  if (f->query.since == OC_DATE_INVALID) return 0;
  oc_series_free(&f->stored);
  return oc_store_series_load(store, f->series, f->query.since, OC_DATE_INVALID, &f->stored, err);
}

static const char *default_symbol(const oc_market_provider *p, const char *series) {
  if (strcasecmp(series, "WTI") == 0) return p->wti;
  if (strcasecmp(series, "Brent") == 0) return p->brent;
  return NULL;
}

static void fetch_free(market_fetch *f) {
  answers_hashed(f); /* no thread may outlive the bodies it reads */
  for (size_t i = 0; i < f->nanswers; i++) {
    free(f->answers[i].url_shown);
    free(f->answers[i].file);
    oc_buf_free(&f->answers[i].body);
    oc_buf_free(&f->answers[i].headers);
  }
  free(f->answers);
  for (size_t i = 0; i < f->npages; i++) oc_market_page_free(&f->pages[i]);
  free(f->pages);
  free(f->provider_dir);
  oc_http_session_free(f->http);
  oc_series_free(&f->stored);
}

/* Fills f's pages from the network (or the replayed manifest) and *lineage with the manifest text. */
static int gather(oc_store *store, market_fetch *f, char **lineage, size_t *lineage_len, oc_error *err) {
  const oc_market_options *opt = f->opt;
  if (opt->replay) {
    if (replay_all(f, opt->replay, lineage, lineage_len, err) != 0) return -1;
    f->report->provider = f->provider;
    return choose_since(store, f, false, err);
  }
  if (!opt->provider) return oc_error_set(err, "market: no provider (%s)", oc_market_provider_names);
  f->provider = f->report->provider = opt->provider;
  const char *symbol = opt->symbol ? opt->symbol : default_symbol(opt->provider, opt->series);
  if (!symbol)
    return oc_error_set(err, "%s: no provider id for series '%s' (give --symbol; known without it: WTI, Brent)",
                        opt->provider->name, opt->series);
  if (!opt->api_key || !*opt->api_key) return oc_error_set(err, "%s: no API key", opt->provider->name);
  snprintf(f->report->symbol, sizeof f->report->symbol, "%s", symbol);
  f->query = (oc_market_query){.base_url = opt->base_url ? opt->base_url : opt->provider->base_url,
                               .symbol = f->report->symbol, .api_key = opt->api_key, .since = opt->since};
  f->provider_dir = oc_path_join(opt->raw_dir, opt->provider->name);
  double t0 = oc_monotonic_seconds();
  if (choose_since(store, f, true, err) != 0 || fetch_all(f, err) != 0) return fail_masked(err, opt->api_key);
  answers_hashed(f);
  oc_debug("%s: %zu answers fetched and read in %.3f s", opt->provider->name, f->nanswers, oc_monotonic_seconds() - t0);
  writer_start(f);
  *lineage = manifest_text(f);
  *lineage_len = strlen(*lineage);
  return 0;
}

int oc_market_ingest(oc_store *store, const oc_market_options *opt, oc_ingest_report *batch,
                     oc_market_report *report, oc_error *err) {
  memset(report, 0, sizeof *report);
  memset(batch, 0, sizeof *batch);
  batch->format = "unknown";
  report->since = OC_DATE_INVALID;
  market_fetch f = {.store = store, .opt = opt, .series = opt->series, .unit = opt->unit, .report = report,
                    .query.since = opt->since};
  char *lineage = NULL;
  size_t lineage_len = 0;
  int rc = gather(store, &f, &lineage, &lineage_len, err);
  report->since = f.query.since;
  snprintf(report->series, sizeof report->series, "%s", f.series);
  report->pages = f.npages;
  if (rc == 0) {
    char origin[128];
    snprintf(origin, sizeof origin, "%s:%s", f.provider->name, f.query.symbol);
    oc_ingest_batch_options bo = {.read = read_rows, .source = &f, .source_kind = "market", .origin = origin,
                                  .unit = f.unit, .on_error = opt->on_error, .raw = lineage,
                                  .raw_len = lineage_len, .raw_dir = f.provider_dir, .raw_ext = "manifest.json",
                                  .before_commit = publish_answers};
    rc = oc_ingest_batch(store, &bo, batch, err);
  }
  oc_error ignored; /* read_rows waited for it already unless the batch failed before */
  writer_wait(&f, &ignored);
  discard_staged_answers(&f); /* named when the batch committed: nothing left then */
  free(lineage);
  fetch_free(&f);
  return rc;
}
