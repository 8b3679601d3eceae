/* The market source (ingest/market.h) through the library, offline: each provider's URL exactly as
 * documented and its answers read (EIA's total as a string or a number, values as strings or numbers,
 * both error shapes; FRED's "." and error_message; Alpha Vantage's HTTP 200 throttle answers), malformed
 * JSON refused, the backoff and Retry-After arithmetic, the key masked; then the pipeline step on a
 * replayed raw zone (rows, "." counted as missing, -36.98 kept, the provider recorded, a re-run
 * inserting 0, a tampered answer refused with nothing written) and the store's provider op. The
 * network path (retries, timeouts, throttling, kill -9) is tests/e2e/ingest_market.sh's. */
#include "testutil.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/http_client.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "ingest/market.h"
#include "pipeline/ingest.h"

static oc_date day(const char *text) {
  oc_date d;
  assert_int_equal(oc_date_parse(text, strlen(text), &d, NULL), 0);
  return d;
}

static int parse(const oc_market_provider *p, const char *body, oc_market_page *page, oc_error *err) {
  return p->parse(body, strlen(body), page, err);
}

/* Row i's value text as the answer spelled it (a string's content or a number), or NULL. */
static char *row_value(const oc_market_page *page, size_t i, char *out, size_t cap) {
  const oc_market_row *row = &page->rows[i];
  if (row->value_kind != OC_MARKET_STRING && row->value_kind != OC_MARKET_NUMBER) return NULL;
  snprintf(out, cap, "%.*s", (int)row->value_len, page->text.data + row->value_at);
  return out;
}

/* ---- provider answers -------------------------------------------------------------------------- */

static void test_eia_answers(void **state) {
  (void)state;
  oc_market_page page;
  oc_error err;
  char text[64];
  const char *v2 = "{\"response\":{\"total\":\"9821\",\"dateFormat\":\"YYYY-MM-DD\",\"data\":["
                   "{\"period\":\"2020-04-20\",\"series\":\"RWTC\",\"value\":\"-36.98\",\"units\":\"$/BBL\"}],"
                   "\"warnings\":[{\"warning\":\"w\",\"description\":\"d\"}]},\"apiVersion\":\"2.1.8\"}";
  assert_int_equal(parse(&oc_market_eia, v2, &page, &err), 0);
  assert_int_equal(page.total, 9821);
  assert_string_equal(page.date_key, "period");
  assert_string_equal(row_value(&page, 0, text, sizeof text), "-36.98");
  oc_market_page_free(&page);

  const char *older = "{\"response\":{\"total\":2,\"data\":[{\"period\":\"2024-01-02\",\"value\":70.38},"
                      "{\"period\":\"2024-01-03\",\"value\":72.7}]}}";
  assert_int_equal(parse(&oc_market_eia, older, &page, &err), 0);
  assert_int_equal(page.total, 2);
  assert_int_equal(page.rows[1].value_kind, OC_MARKET_NUMBER);
  assert_string_equal(row_value(&page, 1, text, sizeof text), "72.7");
  oc_market_page_free(&page);

  assert_int_equal(parse(&oc_market_eia, "{\"error\":\"Invalid frequency provided.\",\"code\":400}", &page, &err), 1);
  assert_string_equal(err.message, "Invalid frequency provided.");
  assert_int_equal(parse(&oc_market_eia, "{\"error\":{\"code\":\"API_KEY_MISSING\",\"message\":\"No api_key was supplied.\"}}",
                         &page, &err),
                   1);
  assert_string_equal(err.message, "No api_key was supplied.");
  assert_int_equal(parse(&oc_market_eia, "{\"response\":{\"total\":\"-3\",\"data\":[]}}", &page, &err), -1);
  assert_non_null(strstr(err.message, "response.total"));
  assert_int_equal(parse(&oc_market_eia, "{\"response\":{\"total\":\"3\"}}", &page, &err), -1);
  assert_non_null(strstr(err.message, "no array of observations"));
  assert_int_equal(parse(&oc_market_eia, "{\"response\":{\"total\":\"2\",\"data\":[{\"period\":,]}", &page, &err), -1);
  assert_non_null(strstr(err.message, "malformed JSON at line 1 column"));
  assert_int_equal(parse(&oc_market_eia, "[1,2]", &page, &err), -1);
  assert_string_equal(err.message, "the answer is not a JSON object");
}

static void test_fred_answers(void **state) {
  (void)state;
  oc_market_page page;
  oc_error err;
  char text[64];
  const char *ok = "{\"realtime_start\":\"2026-12-03\",\"count\":2,\"offset\":0,\"limit\":100000,\"observations\":["
                   "{\"realtime_start\":\"2026-12-03\",\"date\":\"2024-12-24\",\"value\":\"70.10\"},"
                   "{\"realtime_start\":\"2026-12-03\",\"date\":\"2024-12-25\",\"value\":\".\"}]}";
  assert_int_equal(parse(&oc_market_fred, ok, &page, &err), 0);
  assert_int_equal(page.total, 2);
  assert_string_equal(page.date_key, "date");
  assert_string_equal(row_value(&page, 1, text, sizeof text), ".");
  oc_market_page_free(&page);
  assert_int_equal(parse(&oc_market_fred, "{\"error_code\":400,\"error_message\":\"Bad Request.  The series does not exist.\"}",
                         &page, &err),
                   1);
  assert_string_equal(err.message, "Bad Request.  The series does not exist.");
}

static void test_alphavantage_answers(void **state) {
  (void)state;
  oc_market_page page;
  oc_error err;
  const char *ok = "{\"name\":\"Crude Oil Prices WTI\",\"interval\":\"daily\",\"unit\":\"dollars per barrel\",\"data\":["
                   "{\"date\":\"2024-12-31\",\"value\":\"71.87\"},{\"date\":\"2024-12-25\",\"value\":\".\"}]}";
  assert_int_equal(parse(&oc_market_alphavantage, ok, &page, &err), 0);
  assert_int_equal(page.total, 0); /* one page */
  assert_int_equal(page.nrows, 2);
  oc_market_page_free(&page);
  /* throttled: HTTP 200 and no data, which must not pass for an empty success */
  assert_int_equal(parse(&oc_market_alphavantage, "{\"Information\":\"Our standard API rate limit is 25 requests per day.\"}",
                         &page, &err),
                   1);
  assert_string_equal(err.message, "Our standard API rate limit is 25 requests per day.");
  assert_int_equal(parse(&oc_market_alphavantage, "{\"Note\":\"Thank you for using Alpha Vantage!\"}", &page, &err), 1);
  assert_string_equal(err.message, "Thank you for using Alpha Vantage!");
  assert_int_equal(parse(&oc_market_alphavantage, "{\"Error Message\":\"Invalid API call.\"}", &page, &err), 1);
  assert_int_equal(parse(&oc_market_alphavantage, "{}", &page, &err), -1);
}

/* ---- requests ---------------------------------------------------------------------------------- */

/* The one-pass reader (market_scan.h): strict JSON with the byte of the first fault, escapes decoded,
 * a row's repeated field and odd values kept for the row's own message. */
static void test_scan_strict(void **state) {
  (void)state;
  oc_market_page page;
  oc_error err;
  char text[64];
  static const struct {
    const char *body, *why;
  } bad[] = {
      {"{\"response\":{\"total\":1,\"data\":[{\"period\":\"2024-01-02\",\"value\":01}]}}", "(byte 63): ',' or '}' expected"},
      {"{\"response\":{\"total\":1,\"data\":[]}} x", "(byte 35): end of the answer expected"},
      {"{\"a\":\"\\u0000\"}", "(byte 6): \\u0000 is not allowed"},
      {"{\"a\":\"\\ud800x\"}", "(byte 6): invalid Unicode"},
      {"{\"a\":\"\xc0\xaf\"}", "(byte 6): invalid UTF-8"},
      {"{\"a\":\"tab\there\"}", "(byte 9): control character"},
      {"{\"a\":tru}", "(byte 5): invalid literal"},
      {"{\"a\":-}", "(byte 5): invalid number"},
      {"{\"a\":1.}", "(byte 5): invalid number"},
      {"{\"response\":{\"total\":1,\"total\":2,\"data\":[]}}", "(byte 31): a repeated member"},
      {"{\"response\":{\"total\":1,\"data\":[]},\"response\":{}}", "(byte 45): a repeated member"},
      {"{\"a\":\"open", "(byte 5): unterminated string"},
      {"", "(byte 0): unexpected end of the answer"},
      {"{\"a\":1,\n \"b\" 2}", "line 2 column 6 (byte 13): ':' expected"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(oc_market_eia.parse(bad[i].body, strlen(bad[i].body), &page, &err), -1);
    if (!strstr(err.message, bad[i].why)) fail_msg("%s: %s, not %s", bad[i].body, err.message, bad[i].why);
  }
  char deep[2 * OC_MARKET_SCAN_DEPTH + 16] = "{\"a\":";
  for (int i = 0; i < OC_MARKET_SCAN_DEPTH; i++) strcat(deep, "[");
  assert_int_equal(oc_market_eia.parse(deep, strlen(deep), &page, &err), -1);
  assert_non_null(strstr(err.message, "nested too deep"));

  const char *odd = "{\"response\":{\"total\":3,\"data\":[{\"period\":\"2024-01-0\\u0032\",\"value\":\"7\\u0030.5\"},"
                    "{\"period\":\"2024-01-03\",\"value\":{\"x\":[1]},\"value\":\"1\"}, 7 ]}, \"extra\":[{\"data\":1}]}";
  assert_int_equal(oc_market_eia.parse(odd, strlen(odd), &page, &err), 0);
  assert_int_equal(page.nrows, 3);
  assert_string_equal(row_value(&page, 0, text, sizeof text), "70.5");
  assert_memory_equal(page.text.data + page.rows[0].date_at, "2024-01-02", 10);
  assert_string_equal(page.rows[1].repeated, "value");
  assert_int_equal(page.rows[1].offset, 80);
  assert_int_equal(page.rows[2].date_kind, OC_MARKET_ABSENT);
  oc_market_page_free(&page);
}

static void test_page_urls(void **state) {
  (void)state;
  oc_market_query q = {.base_url = "https://api.eia.gov", .symbol = "RWTC", .api_key = "k/ey", .since = day("2024-12-16")};
  oc_buf url = {0};
  oc_market_eia.page_url(&q, 5000, &url);
  assert_string_equal(url.data, "https://api.eia.gov/v2/petroleum/pri/spt/data/?api_key=k%2Fey&frequency=daily"
                                "&data[0]=value&facets[series][]=RWTC&start=2024-12-16&sort[0][column]=period"
                                "&sort[0][direction]=asc&offset=5000&length=5000");
  oc_buf_clear(&url);
  q = (oc_market_query){.base_url = "https://api.stlouisfed.org", .symbol = "DCOILBRENTEU", .api_key = "K",
                        .since = OC_DATE_INVALID};
  oc_market_fred.page_url(&q, 0, &url);
  assert_string_equal(url.data, "https://api.stlouisfed.org/fred/series/observations?series_id=DCOILBRENTEU&api_key=K"
                                "&file_type=json&offset=0&limit=100000");
  oc_buf_clear(&url);
  q = (oc_market_query){.base_url = "https://www.alphavantage.co", .symbol = "BRENT", .api_key = "K"};
  oc_market_alphavantage.page_url(&q, 0, &url);
  assert_string_equal(url.data, "https://www.alphavantage.co/query?function=BRENT&interval=daily&datatype=json&apikey=K");
  oc_buf_free(&url);
  assert_ptr_equal(oc_market_provider_find("fred"), &oc_market_fred);
  assert_null(oc_market_provider_find("bloomberg"));
}

static void test_backoff_and_retry_after(void **state) {
  (void)state;
  oc_market_retry r = {.backoff_base = 1, .backoff_max = 10};
  assert_true(oc_test_close(oc_market_backoff(&r, 1, 0.0), 0.5, 1e-12)); /* half fixed, half jitter */
  assert_true(oc_test_close(oc_market_backoff(&r, 1, 0.5), 0.75, 1e-12));
  assert_true(oc_test_close(oc_market_backoff(&r, 3, 0.0), 2.0, 1e-12)); /* 1, 2, 4 */
  assert_true(oc_test_close(oc_market_backoff(&r, 30, 0.0), 5.0, 1e-12)); /* capped at 10 */
  assert_true(oc_market_backoff(&r, 4, 0.999) < 8.0);
  time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
  assert_true(oc_test_close(oc_market_retry_after("7", now), 7, 0));
  assert_true(oc_test_close(oc_market_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), 30, 0));
  assert_true(oc_test_close(oc_market_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), 0, 0));
  assert_true(oc_market_retry_after("soon", now) < 0);
  assert_true(oc_market_retry_after("-1", now) < 0);
  /* too large for a long: a wait beyond any limit (the fetch gives up), not an unreadable value */
  assert_true(oc_market_retry_after("99999999999999999999", now) > 9e19);
  assert_true(oc_market_retry_after(NULL, now) < 0);
}

static void test_mask_and_headers(void **state) {
  (void)state;
  char text[] = "the api_key abcdef123 is not valid (abcdef123)";
  oc_market_mask_key(text, strlen(text), "abcdef123");
  assert_string_equal(text, "the api_key XXXXXXXXX is not valid (XXXXXXXXX)");
  char shorter[] = "a k b";
  oc_market_mask_key(shorter, strlen(shorter), "k"); /* too short to mask safely */
  assert_string_equal(shorter, "a k b");

  oc_http_response resp = {0};
  oc_buf_puts(&resp.headers, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nretry-after:  12 \r\n\r\n");
  char value[16];
  assert_string_equal(oc_http_header(&resp, "Retry-After", value, sizeof value), "12");
  assert_string_equal(oc_http_header(&resp, "content-type", value, sizeof value), "application/jso"); /* cut to fit */
  assert_null(oc_http_header(&resp, "Retry", value, sizeof value));
  oc_http_response_free(&resp);
}

/* ---- the step on a replayed raw zone ------------------------------------------------------------ */

static const char page1[] = "{\"response\":{\"total\":\"4\",\"data\":["
                            "{\"period\":\"2020-04-17\",\"series\":\"RWTC\",\"value\":\"18.31\",\"units\":\"$/BBL\"},"
                            "{\"period\":\"2020-04-20\",\"series\":\"RWTC\",\"value\":\"-36.98\",\"units\":\"$/BBL\"}]}}";
static const char page2[] = "{\"response\":{\"total\":\"4\",\"data\":["
                            "{\"period\":\"2020-04-21\",\"series\":\"RWTC\",\"value\":\".\",\"units\":\"$/BBL\"},"
                            "{\"period\":\"2020-04-22\",\"series\":\"RWTC\",\"value\":8.91,\"units\":\"$/BBL\"}]}}";
static const char retried[] = "{\"error\":\"mock: internal server error\",\"code\":500}";

/* Writes the raw zone a fetch of provider for WTI from since (NULL: all) would have left: n answers with
 * their status, whether their rows were read, and their first row; returns the manifest's path. */
static char *write_manifest(const char *dir, const char *provider, const char *since, size_t n,
                            const char *const *bodies, const int *status, const int *used, const int *offset) {
  char *provider_dir = oc_path_join(dir, "raw/market_data");
  char *day_dir = oc_path_join(provider_dir, provider);
  free(provider_dir);
  provider_dir = day_dir;
  day_dir = oc_path_join(provider_dir, "2026-01-05");
  oc_error err;
  assert_int_equal(oc_mkdir_p(day_dir, &err), 0);
  oc_buf m = {0};
  oc_buf_printf(&m, "{\"provider\":\"%s\",\"series\":\"WTI\",\"symbol\":\"RWTC\",\"since\":%s%s%s,"
                    "\"unit\":\"USD/bbl\",\"answers\":[",
                provider, since ? "\"" : "", since ? since : "null", since ? "\"" : "");
  for (size_t i = 0; i < n; i++) {
    char sha[OC_SHA256_HEX_LEN], name[80];
    oc_sha256_hex(bodies[i], strlen(bodies[i]), sha);
    snprintf(name, sizeof name, "%s.json", sha);
    free(oc_test_write_file(day_dir, name, bodies[i]));
    oc_buf_printf(&m, "%s{\"url\":\"https://example.invalid/...key=REDACTED\",\"offset\":%d,\"status\":%d,"
                      "\"headers\":[],\"sha256\":\"%s\",\"file\":\"2026-01-05/%s\",\"used\":%s}",
                  i ? "," : "", offset[i], status[i], sha, name, used[i] ? "true" : "false");
  }
  oc_buf_puts(&m, "]}");
  char *manifest = oc_test_write_file(day_dir, "manifest.json", m.data);
  oc_buf_free(&m);
  free(day_dir);
  free(provider_dir);
  return manifest;
}

/* Writes the raw zone an EIA fetch of page1 (after a 500), page2 would have left; returns the manifest. */
static char *write_raw_zone(const char *dir) {
  const char *const bodies[] = {retried, page1, page2};
  const int status[] = {500, 200, 200}, used[] = {0, 1, 1}, offset[] = {0, 0, 2};
  return write_manifest(dir, "eia", NULL, 3, bodies, status, used, offset);
}

static int replay(oc_test_datadir_fixture *f, const char *manifest, oc_pipeline_ingest_result *out, oc_error *err) {
  oc_pipeline_ingest_options opt = oc_pipeline_ingest_options_default();
  opt.source = "market";
  opt.replay = manifest;
  return oc_pipeline_ingest(f->dir, f->store, &opt, out, err);
}

static void test_replay_step(void **state) {
  oc_test_datadir_fixture *f = *state;
  char *manifest = write_raw_zone(f->dir);
  oc_pipeline_ingest_result out;
  oc_error err;
  assert_int_equal(replay(f, manifest, &out, &err), 0);
  assert_int_equal(out.report.rows_read, 4);
  assert_int_equal(out.report.rows_inserted, 3);
  assert_int_equal(out.report.rows_missing, 1); /* "." counted, never stored as 0 */
  assert_int_equal(out.report.negative_values, 1);
  assert_string_equal(out.report.format, "eia");
  assert_int_equal(out.market.pages, 2);
  assert_string_equal(out.market.symbol, "RWTC");
  oc_pipeline_ingest_result_free(&out);

  oc_series s;
  assert_int_equal(oc_store_series_load(f->store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &s, &err), 0);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.dates[1], day("2020-04-20"));
  assert_true(s.values[1] == -36.98);
  assert_true(s.values[2] == 8.91);
  oc_series_free(&s);
  oc_series_info info;
  bool found;
  assert_int_equal(oc_store_series_get(f->store, "WTI", &info, &found, &err), 0);
  assert_string_equal(info.provider, "eia");
  assert_string_equal(info.provider_id, "RWTC");
  assert_string_equal(info.source, "market");
  oc_series_info_free(&info);

  assert_int_equal(replay(f, manifest, &out, &err), 0); /* again: nothing new */
  assert_int_equal(out.report.rows_inserted, 0);
  assert_int_equal(out.report.rows_unchanged, 3);
  oc_pipeline_ingest_result_free(&out);

  /* a stored answer changed after the fact: refused, nothing written */
  int64_t count_before, count_after;
  assert_int_equal(oc_store_observations_count(f->store, &count_before, &err), 0);
  char sha[OC_SHA256_HEX_LEN], name[120];
  oc_sha256_hex(page2, strlen(page2), sha);
  snprintf(name, sizeof name, "raw/market_data/eia/2026-01-05/%s.json", sha);
  free(oc_test_write_file(f->dir, name, "{\"response\":{\"total\":\"4\",\"data\":[]}}"));
  assert_int_equal(replay(f, manifest, &out, &err), -1);
  assert_non_null(strstr(err.message, "does not match its SHA-256"));
  assert_false(out.report.written);
  oc_pipeline_ingest_result_free(&out);
  assert_int_equal(oc_store_observations_count(f->store, &count_after, &err), 0);
  assert_int_equal(count_after, count_before);
  free(manifest);
}

static void test_market_options_checked(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_pipeline_ingest_options opt = oc_pipeline_ingest_options_default();
  opt.source = "market";
  oc_pipeline_ingest_result out;
  oc_error err;
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &out, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "needs a provider: eia, fred or alphavantage"));
  oc_pipeline_ingest_result_free(&out);
  opt.provider = "fred";
  opt.series = "GAS";
  opt.api_key = "abcdefgh";
  opt.base_url = "http://127.0.0.1:9"; /* never reached */
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &out, &err), -1);
  assert_string_equal(err.message, "fred: no provider id for series 'GAS' (give --symbol; known without it: WTI, Brent)");
  oc_pipeline_ingest_result_free(&out);
}

/* The library call alone (no pipeline step after it) records the series' provider: it commits with
 * the rows, in the import's one transaction. */
static void test_provider_commits_with_rows(void **state) {
  oc_test_datadir_fixture *f = *state;
  char *manifest = write_raw_zone(f->dir);
  oc_market_options opt = oc_market_options_default();
  opt.replay = manifest;
  oc_ingest_report batch;
  oc_market_report report;
  oc_error err;
  int64_t before, after;
  assert_int_equal(oc_store_changes_latest(f->store, &before, &err), 0);
  assert_int_equal(oc_market_ingest(f->store, &opt, &batch, &report, &err), 0);
  oc_ingest_report_free(&batch);
  oc_series_info info;
  bool found;
  assert_int_equal(oc_store_series_get(f->store, "WTI", &info, &found, &err), 0);
  assert_true(found);
  assert_string_equal(info.provider, "eia");
  assert_string_equal(info.provider_id, "RWTC");
  oc_series_info_free(&info);
  assert_int_equal(oc_store_changes_latest(f->store, &after, &err), 0);
  assert_int_equal(after, before + 3); /* observations, the provider, the run: one transaction's changes */
  free(manifest);
}

/* ---- the store's provider op -------------------------------------------------------------------- */

static void test_series_provider_set(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  assert_int_equal(oc_store_series_provider_set(f->store, "WTI", "eia", "RWTC", &err), -1);
  assert_non_null(strstr(err.message, "no series named 'WTI'"));
  int64_t id, before, after;
  assert_int_equal(oc_store_series_ensure(f->store, "WTI", "USD/bbl", "market", &id, &err), 0);
  assert_int_equal(oc_store_changes_latest(f->store, &before, &err), 0);
  assert_int_equal(oc_store_series_provider_set(f->store, "WTI", "fred", "DCOILWTICO", &err), 0);
  assert_int_equal(oc_store_changes_latest(f->store, &after, &err), 0);
  assert_int_equal(after, before + 1);
  assert_int_equal(oc_store_series_provider_set(f->store, "WTI", "fred", "DCOILWTICO", &err), 0); /* unchanged */
  assert_int_equal(oc_store_changes_latest(f->store, &before, &err), 0);
  assert_int_equal(before, after);
  char long_id[100];
  memset(long_id, 'X', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  assert_int_equal(oc_store_series_provider_set(f->store, "WTI", "fred", long_id, &err), -1);
  oc_series_info *list;
  size_t n;
  assert_int_equal(oc_store_series_list(f->store, &list, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(list[0].provider, "fred");
  assert_string_equal(list[0].provider_id, "DCOILWTICO");
  oc_series_info_list_free(list, n);
}

/* Alpha Vantage answers with the whole history: an incremental fetch reads only the rows from `since`
 * on. A "." day (or a broken row) years before it is none of this run's business: counting it made
 * every incremental run report the history's missing days again (and a broken old row would refuse
 * every fetch). */
static void test_rows_before_since_left_out(void **state) {
  oc_test_datadir_fixture *f = *state;
  const char *const bodies[] = {"{\"name\":\"Crude Oil Prices WTI\",\"interval\":\"daily\",\"data\":["
                                "{\"date\":\"2024-12-31\",\"value\":\"71.87\"},{\"date\":\"2024-12-30\",\"value\":\".\"},"
                                "{\"date\":\"2024-12-27\",\"value\":\"70.60\"},{\"date\":\"2020-12-25\",\"value\":\".\"},"
                                "{\"date\":\"2019-12-25\",\"value\":\".\"},{\"date\":\"2019-12-24\",\"value\":\"n/a\"}]}"};
  const int status[] = {200}, used[] = {1}, offset[] = {0};
  char *manifest = write_manifest(f->dir, "alphavantage", "2024-12-27", 1, bodies, status, used, offset);
  oc_pipeline_ingest_result out;
  oc_error err;
  if (replay(f, manifest, &out, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(out.report.rows_inserted, 2);
  assert_int_equal(out.report.rows_missing, 1); /* 2024-12-30 only */
  assert_int_equal(out.report.rows_rejected, 0);
  oc_pipeline_ingest_result_free(&out);
  free(manifest);
}

/* A bad row's reason names its page and its place there: the byte offset alone is no help in a fetch
 * of several answers. */
static void test_bad_row_names_its_page(void **state) {
  oc_test_datadir_fixture *f = *state;
  const char *const bodies[] = {page1, "{\"response\":{\"total\":\"4\",\"data\":[{\"period\":\"2020-04-21\",\"value\":\"1\"},"
                                       "{\"period\":\"2020-13-22\",\"value\":\"2\"}]}}"};
  const int status[] = {200, 200}, used[] = {1, 1}, offset[] = {0, 2};
  char *manifest = write_manifest(f->dir, "eia", NULL, 2, bodies, status, used, offset);
  oc_market_options opt = oc_market_options_default();
  opt.replay = manifest;
  oc_ingest_report batch;
  oc_market_report report;
  oc_error err;
  assert_int_equal(oc_market_ingest(f->store, &opt, &batch, &report, &err), -1);
  assert_int_equal(batch.nproblems, 1);
  assert_int_equal(batch.problems[0].where, 3);
  if (!strstr(batch.problems[0].reason, "bad date '2020-13-22'") ||
      !strstr(batch.problems[0].reason, "(row 2 of page 2, at byte 69 of that answer)"))
    fail_msg("%s", batch.problems[0].reason);
  oc_ingest_report_free(&batch);
  free(manifest);
}

/* ---- the network path against a scripted loopback server ------------------------------------------ */

/* One answer of the script: status, one optional header, body, and how long the server waits first. */
typedef struct scripted {
  unsigned status;
  const char *header, *header_value;
  const char *body;
  int delay_ms;
} scripted;

/* Answers the n scripted answers in turn (the last one again once they are used up). */
typedef struct script {
  const scripted *answers;
  size_t n;
  atomic_size_t served;
  atomic_bool stopping; /* cuts the delays short: the test is done with the answers */
  struct MHD_Daemon *daemon;
  char base[64];
} script;

static enum MHD_Result script_answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                     const char *version, const char *data, size_t *size, void **ctx) {
  (void)url, (void)method, (void)version, (void)data, (void)size;
  script *s = cls;
  if (!*ctx) { /* the headers: answered on the next call */
    *ctx = c;
    return MHD_YES;
  }
  size_t i = atomic_fetch_add(&s->served, 1);
  const scripted *a = &s->answers[i < s->n ? i : s->n - 1];
  for (int waited = 0; waited < a->delay_ms && !atomic_load(&s->stopping); waited += 10) usleep(10000);
  struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(a->body), (void *)a->body, MHD_RESPMEM_PERSISTENT);
  if (a->header) MHD_add_response_header(resp, a->header, a->header_value);
  enum MHD_Result ret = MHD_queue_response(c, a->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void script_start(script *s, const scripted *answers, size_t n) {
  s->answers = answers;
  s->n = n;
  atomic_init(&s->served, 0);
  atomic_init(&s->stopping, false);
  s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                               script_answer, s, MHD_OPTION_END);
  assert_non_null(s->daemon);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", (unsigned)info->port);
}

static void script_stop(script *s) {
  atomic_store(&s->stopping, true);
  MHD_stop_daemon(s->daemon);
}

/* An EIA fetch of WTI through the script (the key given, short waits), as one batch into f's store. */
static int fetch(oc_test_datadir_fixture *f, const script *s, const char *key, oc_market_retry retry,
                 oc_ingest_report *batch, oc_error *err) {
  oc_market_options opt = oc_market_options_default();
  opt.provider = &oc_market_eia;
  opt.series = "WTI";
  opt.api_key = key;
  opt.base_url = s->base;
  opt.retry = retry;
  char *raw = oc_path_join(f->dir, "raw/market_data");
  opt.raw_dir = raw;
  oc_market_report report;
  int rc = oc_market_ingest(f->store, &opt, batch, &report, err);
  free(raw);
  return rc;
}

static const oc_market_retry quick = {.max_attempts = 3, .backoff_base = 0.01, .backoff_max = 0.02,
                                      .total_seconds = 10, .timeout_ms = 10000};

/* The limit on the whole fetch holds for answers that come, slowly, too: every request's own timeout
 * is cut to the time left, and no page is asked for once the limit passed. */
static void test_total_limit_bounds_slow_pages(void **state) {
  oc_test_datadir_fixture *f = *state;
  const scripted answers[] = {{.status = 200, .body = page1}, {.status = 200, .body = page2, .delay_ms = 1500}};
  script s;
  script_start(&s, answers, 2);
  oc_market_retry retry = quick;
  retry.total_seconds = 0.4;
  oc_ingest_report batch;
  oc_error err;
  double t0 = oc_monotonic_seconds();
  assert_int_equal(fetch(f, &s, "abcdef0123", retry, &batch, &err), -1);
  double took = oc_monotonic_seconds() - t0;
  oc_ingest_report_free(&batch);
  if (took > 1.0) fail_msg("the 0.4 s limit held %.2f s", took);
  if (!strstr(err.message, "0.4 s limit")) fail_msg("%s", err.message);
  script_stop(&s);
}

/* The total fell between two pages (rows went away while paging, so the later ones moved to offsets
 * already read): what was read is not the whole answer, even when the new total says it is. */
static void test_total_falling_between_pages_refused(void **state) {
  oc_test_datadir_fixture *f = *state;
  const scripted answers[] = {{.status = 200, .body = page1},
                              {.status = 200, .body = "{\"response\":{\"total\":\"2\",\"data\":[]}}"}};
  script s;
  script_start(&s, answers, 2);
  oc_ingest_report batch;
  oc_error err;
  assert_int_equal(fetch(f, &s, "abcdef0123", quick, &batch, &err), -1);
  assert_false(batch.written);
  oc_ingest_report_free(&batch);
  assert_string_equal(err.message, "eia: the total fell from 4 to 2 rows between the pages at offsets 0 and 2 (the "
                                   "answer changed while it was read)");
  script_stop(&s);
}

/* An HTTP 200 that is no JSON at all (a proxy's error page) says what it said: "unexpected character"
 * alone hides it. */
static void test_page_of_another_server_quoted(void **state) {
  oc_test_datadir_fixture *f = *state;
  const scripted answers[] = {{.status = 200, .body = "<html><body>Proxy error: upstream timed out</body></html>"}};
  script s;
  script_start(&s, answers, 1);
  oc_ingest_report batch;
  oc_error err;
  assert_int_equal(fetch(f, &s, "abcdef0123", quick, &batch, &err), -1);
  oc_ingest_report_free(&batch);
  assert_non_null(strstr(err.message, "eia: HTTP 200 from "));
  if (!strstr(err.message, "malformed JSON at line 1 column 1 (byte 0): unexpected character (the answer begins: "
                           "<html><body>Proxy error: upstream timed out</body></html>)"))
    fail_msg("%s", err.message);
  script_stop(&s);
}

/* A key with characters a URL must encode travels encoded; a server quoting the request (its error, a
 * header) quotes it encoded: masked in the message and in the raw zone's headers as the key is. */
static void test_encoded_key_masked(void **state) {
  oc_test_datadir_fixture *f = *state;
  const char *key = "my+key/with=chars", *encoded = "my%2Bkey%2Fwith%3Dchars";
  const scripted refused[] = {
      {.status = 403, .body = "{\"error\":\"api_key my%2Bkey%2Fwith%3Dchars is not valid\",\"code\":403}"}};
  script s;
  script_start(&s, refused, 1);
  oc_ingest_report batch;
  oc_error err;
  assert_int_equal(fetch(f, &s, key, quick, &batch, &err), -1);
  oc_ingest_report_free(&batch);
  if (strstr(err.message, encoded) || strstr(err.message, key)) fail_msg("the key shows: %s", err.message);
  script_stop(&s);

  const scripted answered[] = {{.status = 200, .header = "Link", .header_value = "</v2/?api_key=my%2Bkey%2Fwith%3Dchars>",
                                .body = "{\"response\":{\"total\":\"2\",\"data\":[{\"period\":\"2020-04-17\",\"value\":\"18.31\"},"
                                        "{\"period\":\"2020-04-20\",\"value\":\"-36.98\"}]}}"}};
  script_start(&s, answered, 1);
  if (fetch(f, &s, key, quick, &batch, &err) != 0) fail_msg("%s", err.message);
  char *lineage;
  size_t len;
  assert_int_equal(oc_read_file(batch.raw_path, &lineage, &len, &err), 0);
  if (strstr(lineage, encoded) || strstr(lineage, key)) fail_msg("the key shows in the manifest: %s", lineage);
  assert_non_null(strstr(lineage, "Link: </v2/?api_key=XXX"));
  free(lineage);
  oc_ingest_report_free(&batch);
  script_stop(&s);
}

/* A redirect is not followed (the key would travel to wherever it points): the error says where the
 * provider sent the request, the key in that Location masked as everywhere. */
static void test_redirect_names_its_location(void **state) {
  oc_test_datadir_fixture *f = *state;
  const scripted moved[] = {{.status = 301, .header = "Location",
                             .header_value = "https://api.example.invalid/v3/?api_key=abcdef0123&frequency=daily",
                             .body = ""}};
  script s;
  script_start(&s, moved, 1);
  oc_ingest_report batch;
  oc_error err;
  assert_int_equal(fetch(f, &s, "abcdef0123", quick, &batch, &err), -1);
  oc_ingest_report_free(&batch);
  assert_int_equal(atomic_load(&s.served), 1); /* not retried */
  if (!strstr(err.message, "eia: HTTP 301 from ") ||
      !strstr(err.message, ": (empty body) (a redirect, not followed, to "
                           "https://api.example.invalid/v3/?api_key=XXXXXXXXXX&frequency=daily)"))
    fail_msg("%s", err.message);
  script_stop(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eia_answers),
      cmocka_unit_test(test_fred_answers),
      cmocka_unit_test(test_alphavantage_answers),
      cmocka_unit_test(test_scan_strict),
      cmocka_unit_test(test_page_urls),
      cmocka_unit_test(test_backoff_and_retry_after),
      cmocka_unit_test(test_mask_and_headers),
      cmocka_unit_test_setup_teardown(test_replay_step, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_market_options_checked, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_series_provider_set, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_provider_commits_with_rows, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_rows_before_since_left_out, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_bad_row_names_its_page, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_total_limit_bounds_slow_pages, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_total_falling_between_pages_refused, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_page_of_another_server_quoted, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_redirect_names_its_location, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_encoded_key_masked, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
