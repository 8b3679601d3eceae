/* http_client.c: see http_client.h. */
#include "core/http_client.h"

#include <curl/curl.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

int oc_http_send(const oc_http_request *req, long *status, oc_buf *body, oc_error *err) {
  *status = 0;
  CURL *curl = curl_easy_init();
  if (!curl) return oc_error_set(err, "libcurl could not start");
  struct curl_slist *headers = NULL;
  for (const char *const *h = req->headers; h && *h; h++) headers = curl_slist_append(headers, *h);
  curl_easy_setopt(curl, CURLOPT_URL, req->url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
  if (req->body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_seconds > 0 ? req->timeout_seconds : 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode code = curl_easy_perform(curl);
  int rc = 0;
  if (code != CURLE_OK) rc = oc_error_set(err, "calling %s: %s", req->url, curl_easy_strerror(code));
  else curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
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
