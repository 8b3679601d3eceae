/* mock_market.c: a loopback stand-in for the three market APIs, for the tests and bench/market only.
 * It serves one price file (`Date,Price` CSV, e.g. ../shared/data/wti-daily.csv) for every provider id,
 * in the providers' documented shapes:
 *   EIA API v2   GET /S/v2/petroleum/pri/spt/data/?api_key&frequency=daily&data[0]=value
 *                &facets[series][]=ID&start&sort[0][column]=period&sort[0][direction]=asc&offset&length
 *                -> {"response":{"total":"9821","data":[{"period":..,"series":ID,"value":"-36.98",
 *                   "units":"$/BBL",...}],...},"request":{..},"apiVersion":..}; total a string, values
 *                   strings, at most 5,000 rows a page; a missing parameter is HTTP 400 {"error":..,"code":400}
 *   FRED         GET /S/fred/series/observations?series_id&api_key&file_type=json&observation_start
 *                &offset&limit -> {"count":N,...,"observations":[{"date":..,"value":"."},...]}, with "."
 *                   on weekdays the file has no price for (as FRED does on holidays)
 *   Alpha Vantage GET /S/query?function=ID&interval=daily&datatype=json&apikey -> {"name":..,
 *                   "data":[..newest first, "." on such weekdays]}
 * S, the first path segment, picks a scenario (the base URL a test gives is http://127.0.0.1:PORT/S):
 *   ok, numbers (EIA values and total as JSON numbers, as older versions wrote them), revised (the last
 *   price + 1), refused (each provider's error: EIA 403 quoting the key, FRED 400, Alpha Vantage 200
 *   "Error Message"), throttle (Alpha Vantage's HTTP 200 {"Information":..} for every provider), flaky
 *   (every odd request of the scenario is a 500), ratelimit (every odd request a 429 with Retry-After: 1),
 *   down (always 500), malformed (not JSON), truncated (Content-Length promised, connection cut), slow
 *   (3 s before answering), hang (pages after the first wait 60 s).
 * Usage: mock_market --csv FILE --port-file PATH (port 0: an ephemeral port, written to PATH once
 * listening). Runs until SIGTERM/SIGINT. Not part of oilcast: it must not link liboilcast. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct price {
  char date[11];
  char value[32];
  int missing; /* a weekday without a price: FRED and Alpha Vantage write "." */
} price;

static price *prices;
static size_t nprices;
static atomic_uint flaky_count, ratelimit_count;

typedef struct text {
  char *data;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (t->data && (size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    t->cap = (t->cap + (size_t)n + 1) * 2;
    t->data = realloc(t->data, t->cap);
    if (!t->data) abort();
  }
}

static int weekday(int y, int m, int d) { /* 0 = Sunday (Sakamoto) */
  static const int k[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y--;
  return (y + y / 4 - y / 100 + y / 400 + k[m - 1] + d) % 7;
}

/* Reads the CSV and adds a missing row for every weekday between two prices that has none. */
static int load_prices(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return perror(path), -1;
  char line[256];
  size_t cap = 0;
  int prev_y = 0, prev_m = 0, prev_d = 0;
  while (fgets(line, sizeof line, f)) {
    int y, m, d;
    char value[32];
    if (sscanf(line, "%4d-%2d-%2d,%31[^\r\n]", &y, &m, &d, value) != 4) continue;
    if (prev_y) { /* weekdays strictly between the previous price and this one */
      struct tm t = {.tm_year = prev_y - 1900, .tm_mon = prev_m - 1, .tm_mday = prev_d + 1, .tm_hour = 12};
      for (;;) {
        time_t s = timegm(&t);
        struct tm day;
        gmtime_r(&s, &day);
        if (day.tm_year + 1900 > y || (day.tm_year + 1900 == y && (day.tm_mon + 1 > m || (day.tm_mon + 1 == m && day.tm_mday >= d))))
          break;
        if (weekday(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday) % 6 != 0) {
          if (nprices == cap) prices = realloc(prices, (cap = cap * 2 + 1024) * sizeof *prices);
          snprintf(prices[nprices].date, sizeof prices[nprices].date, "%04d-%02d-%02d", day.tm_year + 1900,
                   day.tm_mon + 1, day.tm_mday);
          strcpy(prices[nprices].value, ".");
          prices[nprices++].missing = 1;
        }
        t = day;
        t.tm_mday++;
      }
    }
    if (nprices == cap) prices = realloc(prices, (cap = cap * 2 + 1024) * sizeof *prices);
    snprintf(prices[nprices].date, sizeof prices[nprices].date, "%04d-%02d-%02d", y, m, d);
    snprintf(prices[nprices].value, sizeof prices[nprices].value, "%s", value);
    prices[nprices++].missing = 0;
    prev_y = y, prev_m = m, prev_d = d;
  }
  fclose(f);
  return nprices ? 0 : (fprintf(stderr, "%s: no Date,Price rows\n", path), -1);
}

static const char *arg(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, text *body, const char *retry_after) {
  struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
  if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result send_literal(struct MHD_Connection *c, unsigned status, const char *json, const char *retry_after) {
  text t = {0};
  put(&t, "%s", json);
  return send_text(c, status, &t, retry_after);
}

/* The truncated answer: promises `len` bytes, sends half, then cuts the connection. */
static ssize_t half_then_cut(void *cls, uint64_t pos, char *buf, size_t max) {
  const char *body = cls;
  size_t half = strlen(body) / 2;
  if (pos >= half) return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = half - (size_t)pos < max ? half - (size_t)pos : max;
  memcpy(buf, body + pos, n);
  return (ssize_t)n;
}

static int wanted(const price *p, const char *start, int with_missing) {
  return (with_missing || !p->missing) && (!start || strcmp(p->date, start) >= 0);
}

static const char *value_of(size_t i, const char *scenario) {
  static __thread char revised[32];
  if (strcmp(scenario, "revised") == 0 && i + 1 == nprices) {
    snprintf(revised, sizeof revised, "%.2f", atof(prices[i].value) + 1.0);
    return revised;
  }
  return prices[i].value;
}

static enum MHD_Result eia(struct MHD_Connection *c, const char *scenario) {
  static const char *const required[] = {"api_key", "frequency", "data[0]", "facets[series][]", "sort[0][column]",
                                         "sort[0][direction]", "offset", "length"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (!arg(c, required[i])) {
      text t = {0};
      put(&t, "{\"error\":\"mock: the request has no %s parameter\",\"code\":400}", required[i]);
      return send_text(c, 400, &t, NULL);
    }
  }
  if (strcmp(arg(c, "frequency"), "daily") || strcmp(arg(c, "data[0]"), "value") ||
      strcmp(arg(c, "sort[0][column]"), "period") || strcmp(arg(c, "sort[0][direction]"), "asc"))
    return send_literal(c, 400, "{\"error\":\"mock: frequency, data[0], sort are not as documented\",\"code\":400}", NULL);
  if (strcmp(scenario, "refused") == 0) {
    text t = {0};
    put(&t, "{\"error\":\"API_KEY_INVALID: the api_key %s is not valid\",\"code\":403}", arg(c, "api_key"));
    return send_text(c, 403, &t, NULL);
  }
  const char *series = arg(c, "facets[series][]"), *start = arg(c, "start");
  size_t offset = strtoul(arg(c, "offset"), NULL, 10), length = strtoul(arg(c, "length"), NULL, 10);
  if (length > 5000) length = 5000;
  if (strcmp(scenario, "hang") == 0 && offset > 0) sleep(60);
  int numbers = strcmp(scenario, "numbers") == 0;
  size_t total = 0;
  for (size_t i = 0; i < nprices; i++) total += (size_t)wanted(&prices[i], start, 0);
  text t = {0};
  put(&t, numbers ? "{\"response\":{\"total\":%zu," : "{\"response\":{\"total\":\"%zu\",", total);
  put(&t, "\"dateFormat\":\"YYYY-MM-DD\",\"frequency\":\"daily\",\"data\":[");
  size_t seen = 0, sent = 0;
  for (size_t i = 0; i < nprices && sent < length; i++) {
    if (!wanted(&prices[i], start, 0) || seen++ < offset) continue;
    put(&t,
        "%s{\"period\":\"%s\",\"duoarea\":\"YCUOK\",\"area-name\":\"NA\",\"product\":\"EPCWTI\",\"product-name\":\"WTI "
        "Crude Oil\",\"process\":\"PF4\",\"process-name\":\"Spot Price FOB\",\"series\":\"%s\",\"series-description\":"
        "\"Cushing, OK WTI Spot Price FOB (Dollars per Barrel)\",\"value\":%s%s%s,\"units\":\"$/BBL\"}",
        sent++ ? "," : "", prices[i].date, series, numbers ? "" : "\"", value_of(i, scenario), numbers ? "" : "\"");
  }
  put(&t, "],\"description\":\"Spot Prices for Crude Oil and Petroleum Products\"},\"request\":{\"command\":"
          "\"/v2/petroleum/pri/spt/data/\",\"params\":{\"frequency\":\"daily\",\"data\":[\"value\"],\"facets\":"
          "{\"series\":[\"%s\"]},\"offset\":%zu,\"length\":%zu}},\"apiVersion\":\"2.1.8\",\"ExcelAddInVersion\":\"2.1.0\"}",
      series, offset, length);
  return send_text(c, 200, &t, NULL);
}

static enum MHD_Result fred(struct MHD_Connection *c, const char *scenario) {
  if (!arg(c, "series_id") || !arg(c, "api_key") || !arg(c, "file_type") || strcmp(arg(c, "file_type"), "json"))
    return send_literal(c, 400, "{\"error_code\":400,\"error_message\":\"Bad Request.  Variable series_id, api_key "
                                "or file_type=json is not set.\"}", NULL);
  if (strcmp(scenario, "refused") == 0)
    return send_literal(c, 400, "{\"error_code\":400,\"error_message\":\"Bad Request.  The value for variable api_key "
                                "is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more "
                                "information.\"}", NULL);
  const char *start = arg(c, "observation_start");
  size_t offset = arg(c, "offset") ? strtoul(arg(c, "offset"), NULL, 10) : 0;
  size_t limit = arg(c, "limit") ? strtoul(arg(c, "limit"), NULL, 10) : 100000;
  size_t count = 0;
  for (size_t i = 0; i < nprices; i++) count += (size_t)wanted(&prices[i], start, 1);
  text t = {0};
  put(&t, "{\"realtime_start\":\"2026-12-03\",\"realtime_end\":\"2026-12-03\",\"observation_start\":\"%s\","
          "\"observation_end\":\"9999-12-31\",\"units\":\"lin\",\"output_type\":1,\"file_type\":\"json\","
          "\"order_by\":\"observation_date\",\"sort_order\":\"asc\",\"count\":%zu,\"offset\":%zu,\"limit\":%zu,"
          "\"observations\":[",
      start ? start : "1600-01-01", count, offset, limit);
  size_t seen = 0, sent = 0;
  for (size_t i = 0; i < nprices && sent < limit; i++) {
    if (!wanted(&prices[i], start, 1) || seen++ < offset) continue;
    put(&t, "%s{\"realtime_start\":\"2026-12-03\",\"realtime_end\":\"2026-12-03\",\"date\":\"%s\",\"value\":\"%s\"}",
        sent++ ? "," : "", prices[i].date, value_of(i, scenario));
  }
  put(&t, "]}");
  return send_text(c, 200, &t, NULL);
}

static enum MHD_Result alphavantage(struct MHD_Connection *c, const char *scenario) {
  const char *function = arg(c, "function");
  if (!function || !arg(c, "apikey") || !arg(c, "interval") || strcmp(arg(c, "interval"), "daily"))
    return send_literal(c, 200, "{\"Error Message\":\"Invalid API call. Please retry or visit the documentation "
                                "(https://www.alphavantage.co/documentation/).\"}", NULL);
  if (strcmp(scenario, "refused") == 0)
    return send_literal(c, 200, "{\"Error Message\":\"the parameter apikey is invalid or missing. Please claim your "
                                "free API key on (https://www.alphavantage.co/support/#api-key).\"}", NULL);
  text t = {0};
  put(&t, "{\"name\":\"Crude Oil Prices %s\",\"interval\":\"daily\",\"unit\":\"dollars per barrel\",\"data\":[",
      function);
  for (size_t k = 0; k < nprices; k++) {
    size_t i = nprices - 1 - k; /* newest first */
    put(&t, "%s{\"date\":\"%s\",\"value\":\"%s\"}", k ? "," : "", prices[i].date, value_of(i, scenario));
  }
  put(&t, "]}");
  return send_text(c, 200, &t, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
  (void)cls, (void)method, (void)version, (void)upload, (void)upload_size;
  if (!*state) { /* the headers: answer on the next call */
    *state = c;
    return MHD_YES;
  }
  char scenario[32];
  const char *rest = strchr(url + 1, '/');
  if (url[0] != '/' || !rest || (size_t)(rest - url - 1) >= sizeof scenario)
    return send_literal(c, 404, "{\"error\":\"mock: /SCENARIO/... expected\"}", NULL);
  snprintf(scenario, sizeof scenario, "%.*s", (int)(rest - url - 1), url + 1);
  if (strcmp(scenario, "down") == 0 || (strcmp(scenario, "flaky") == 0 && atomic_fetch_add(&flaky_count, 1) % 2 == 0))
    return send_literal(c, 500, "{\"error\":\"mock: internal server error\",\"code\":500}", NULL);
  if (strcmp(scenario, "ratelimit") == 0 && atomic_fetch_add(&ratelimit_count, 1) % 2 == 0)
    return send_literal(c, 429, "{\"error\":\"mock: too many requests\",\"code\":429}", "1");
  if (strcmp(scenario, "throttle") == 0)
    return send_literal(c, 200, "{\"Information\":\"Thank you for using Alpha Vantage! Our standard API rate limit "
                                "is 25 requests per day. Please subscribe to any of the premium plans at "
                                "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.\"}",
                        NULL);
  if (strcmp(scenario, "malformed") == 0)
    return send_literal(c, 200, "{\"response\":{\"total\":\"2\",\"data\":[{\"period\":\"2024-01-02\",,]}", NULL);
  if (strcmp(scenario, "truncated") == 0) {
    static const char body[] = "{\"response\":{\"total\":\"1\",\"data\":[{\"period\":\"2024-01-02\",\"value\":\"70.38\"}]}}";
    struct MHD_Response *r = MHD_create_response_from_callback(strlen(body), 1024, half_then_cut, (void *)body, NULL);
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
  }
  if (strcmp(scenario, "slow") == 0) sleep(3);
  if (strncmp(rest, "/v2/petroleum/pri/spt/data", 26) == 0) return eia(c, scenario);
  if (strcmp(rest, "/fred/series/observations") == 0) return fred(c, scenario);
  if (strcmp(rest, "/query") == 0) return alphavantage(c, scenario);
  return send_literal(c, 404, "{\"error\":\"mock: no such endpoint\"}", NULL);
}

static volatile sig_atomic_t stopping;
static void on_signal(int sig) { (void)sig, stopping = 1; }

int main(int argc, char **argv) {
  const char *csv = NULL, *port_file = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--csv") == 0) csv = argv[i + 1];
    else if (strcmp(argv[i], "--port-file") == 0) port_file = argv[i + 1];
  }
  if (!csv || !port_file) return fprintf(stderr, "usage: mock_market --csv FILE --port-file PATH\n"), 2;
  if (load_prices(csv) != 0) return 1;
  struct sockaddr_in loopback = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                                          NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &loopback, MHD_OPTION_END);
  if (!d) return fprintf(stderr, "mock_market: cannot listen\n"), 1;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%u\n", (unsigned)info->port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0)
    return perror(port_file), 1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  while (!stopping) pause();
  _exit(0); /* connections asleep in `hang` are not waited for */
}
