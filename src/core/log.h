/* log.h: diagnostics to stderr, as text or one JSON object per line (--log-format json). Data goes
 * to stdout and never through here. Thread-safe: each message is written with a single write(2). */
#ifndef OC_LOG_H
#define OC_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { OC_LOG_DEBUG = 0, OC_LOG_INFO = 1, OC_LOG_WARN = 2, OC_LOG_ERROR = 3, OC_LOG_OFF = 4 } oc_log_level;

void oc_log_set_level(oc_log_level level);
oc_log_level oc_log_get_level(void);
void oc_log_set_json(bool json);
bool oc_log_is_json(void);

void oc_log(oc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s made safe for a terminal, into out (cap bytes, truncated): control bytes other than newline and
 * tab, and bytes that are not well-formed UTF-8, become \xNN, so a message quoting bad input can neither
 * drive the terminal nor break a JSON log line. oc_log does this to every message. Returns out. */
char *oc_printable(char *out, size_t cap, const char *s);
/* Writes bytes[0..len) to out as one field of a tab-separated line that reads back exactly: well-formed
 * UTF-8 as it is, a backslash doubled, and every other byte that is a control byte (tab, newline and NUL
 * included), DEL or not UTF-8 as \xNN. Nothing is cut. */
void oc_print_field(FILE *out, const void *bytes, size_t len);
#define oc_debug(...) oc_log(OC_LOG_DEBUG, __VA_ARGS__)
#define oc_info(...) oc_log(OC_LOG_INFO, __VA_ARGS__)
#define oc_warn(...) oc_log(OC_LOG_WARN, __VA_ARGS__)
#define oc_err(...) oc_log(OC_LOG_ERROR, __VA_ARGS__)

#endif
