/* http_client.c: see http_client.h. */
#include "core/http_client.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/curl_lazy.h"
#include "core/progress.h"

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

/* Keeps the header lines of the last answer only: a new status line starts over (an interim 100
 * Continue, a proxy's CONNECT answer). */
static size_t collect_header(char *data, size_t size, size_t n, void *userdata) {
  oc_buf *headers = userdata;
  if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0) oc_buf_clear(headers);
  oc_buf_append(headers, data, size * n);
  return size * n;
}

static bool curl_code_transient(CURLcode code) {
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE: return true;
  default: return false;
  }
}

static pthread_mutex_t warm_up_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t warm_up_thread;
static bool warming_up; /* under warm_up_lock: warm_up_thread runs or waits to be joined */

static void *warm_up(void *unused) {
  (void)unused;
  curl_global_init(CURL_GLOBAL_DEFAULT); /* the call loads the library first */
  return NULL;
}

void oc_http_warm_up(void) {
  pthread_mutex_lock(&warm_up_lock);
  if (!warming_up) warming_up = pthread_create(&warm_up_thread, NULL, warm_up, NULL) == 0;
  pthread_mutex_unlock(&warm_up_lock);
}

void oc_http_warm_up_end(void) {
  pthread_mutex_lock(&warm_up_lock);
  if (warming_up) pthread_join(warm_up_thread, NULL);
  warming_up = false;
  pthread_mutex_unlock(&warm_up_lock);
}

struct oc_http_session {
  CURL *curl; /* its connection cache holds the open connection between requests */
};

oc_http_session *oc_http_session_new(void) {
  oc_http_warm_up_end();
  oc_http_session *session = oc_xmalloc(sizeof *session);
  session->curl = curl_easy_init();
  return session;
}

void oc_http_session_free(oc_http_session *session) {
  if (!session) return;
  curl_easy_cleanup(session->curl);
  free(session);
}

int oc_http_session_exchange(oc_http_session *session, const oc_http_request *req, oc_http_response *resp,
                             oc_error *err) {
  resp->status = 0;
  resp->transient = false;
  double t0 = oc_monotonic_seconds();
  CURL *curl = session->curl;
  if (!curl) return oc_error_set(err, "libcurl could not start");
  curl_easy_reset(curl); /* every option of the previous request forgotten; its connection kept */
  struct curl_slist *headers = NULL;
  for (const char *const *h = req->headers; h && *h; h++) headers = curl_slist_append(headers, *h);
  curl_easy_setopt(curl, CURLOPT_URL, req->url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
  if (req->body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp->body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp->headers);
  if (req->timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  else curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_seconds > 0 ? req->timeout_seconds : 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode code = curl_easy_perform(curl);
  int rc = 0;
  if (code != CURLE_OK) {
    resp->transient = curl_code_transient(code);
    rc = oc_error_set(err, "calling %s: %s", req->url_shown ? req->url_shown : req->url, curl_easy_strerror(code));
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
  }
  curl_slist_free_all(headers);
  resp->seconds = oc_monotonic_seconds() - t0;
  return rc;
}

int oc_http_exchange(const oc_http_request *req, oc_http_response *resp, oc_error *err) {
  oc_http_session *session = oc_http_session_new();
  int rc = oc_http_session_exchange(session, req, resp, err);
  oc_http_session_free(session);
  return rc;
}

void oc_http_response_free(oc_http_response *resp) {
  oc_buf_free(&resp->body);
  oc_buf_free(&resp->headers);
}

const char *oc_http_header(const oc_http_response *resp, const char *name, char *out, size_t cap) {
  assert(cap > 0);
  size_t name_len = strlen(name);
  const char *p = resp->headers.data, *end = p ? p + resp->headers.len : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    if ((size_t)(line_end - p) > name_len && p[name_len] == ':' && strncasecmp(p, name, name_len) == 0) {
      const char *v = p + name_len + 1, *ve = line_end;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      size_t n = (size_t)(ve - v) < cap - 1 ? (size_t)(ve - v) : cap - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return out;
    }
    p = eol ? eol + 1 : end;
  }
  return NULL;
}

int oc_http_send(const oc_http_request *req, long *status, oc_buf *body, oc_error *err) {
  oc_http_response resp = {.body = *body};
  int rc = oc_http_exchange(req, &resp, err);
  *status = resp.status;
  *body = resp.body;
  oc_buf_free(&resp.headers);
  return rc;
}

char *oc_http_escape(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = oc_xmalloc(3 * n + 1), *p = out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
      *p++ = (char)c;
    } else {
      *p++ = '%';
      *p++ = hex[c >> 4];
      *p++ = hex[c & 15];
    }
  }
  *p = '\0';
  return out;
}
