/* log.c: level filter and the text/JSON line formats, and the escaping that makes bad input safe to show
 * (oc_printable, oc_print_field). Must not allocate on the hot path or buffer across messages (interleaving
 * threads would tear lines). */
#include "core/log.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = OC_LOG_INFO;
static _Atomic bool log_json = false;

void oc_log_set_level(oc_log_level level) { log_level = level; }
oc_log_level oc_log_get_level(void) { return (oc_log_level)log_level; }
void oc_log_set_json(bool json) { log_json = json; }
bool oc_log_is_json(void) { return log_json; }

static const char *level_name(oc_log_level level) {
  switch (level) {
  case OC_LOG_DEBUG: return "debug";
  case OC_LOG_INFO: return "info";
  case OC_LOG_WARN: return "warning";
  case OC_LOG_ERROR: return "error";
  default: return "off";
  }
}

/* Appends s to out as a JSON string body (without quotes), escaping what JSON requires. */
static size_t json_escape(char *out, size_t cap, const char *s) {
  size_t n = 0;
  for (; *s && n + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = '\0';
  return n;
}

char *oc_printable(char *out, size_t cap, const char *s) {
  size_t n = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && n + 5 < cap) {
    size_t seq = oc_utf8_sequence(p, SIZE_MAX);
    if (seq > 1) {
      memcpy(out + n, p, seq);
      n += seq;
      p += seq;
    } else if (seq == 0 || (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) {
      n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p++);
    } else {
      out[n++] = (char)*p++;
    }
  }
  out[n] = '\0';
  return out;
}

void oc_print_field(FILE *out, const void *bytes, size_t len) {
  const unsigned char *p = bytes;
  for (size_t i = 0; i < len;) {
    size_t seq = oc_utf8_sequence(p + i, len - i);
    if (seq > 1) {
      fwrite(p + i, 1, seq, out);
      i += seq;
    } else if (seq == 0 || p[i] < 0x20 || p[i] == 0x7f) {
      fprintf(out, "\\x%02x", p[i++]);
    } else {
      if (p[i] == '\\') putc('\\', out);
      putc(p[i++], out);
    }
  }
}

void oc_log(oc_log_level level, const char *fmt, ...) {
  if ((int)level < log_level) return;
  char raw[2048], msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  oc_printable(msg, sizeof msg, raw);

  char line[4400];
  int len;
  if (log_json) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char escaped[4200];
    json_escape(escaped, sizeof escaped, msg);
    len = snprintf(line, sizeof line,
                   "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"}\n",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, level_name(level), escaped);
  } else if (level == OC_LOG_INFO) {
    len = snprintf(line, sizeof line, "%s\n", msg);
  } else {
    len = snprintf(line, sizeof line, "oilcast: %s: %s\n", level_name(level), msg);
  }
  if (len < 0) return;
  if ((size_t)len >= sizeof line) len = (int)sizeof line - 1;
  ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
  (void)ignored;
}
