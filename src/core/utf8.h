/* utf8.h: the one reader of UTF-8 that every stage uses to judge text: the JSON answers of market
 * providers (ingest/market_scan.c), MQTT strings and payloads, log and terminal output, the server's
 * error messages. Well-formed means what RFC 3629 and JSON (jansson) accept: no overlong form, no
 * surrogate, nothing past U+10FFFF. Must not allocate or decode into code points (callers that need
 * them, the JSON escape reader, build them themselves). */
#ifndef OC_UTF8_H
#define OC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1..4) of the well-formed UTF-8 character at s within its avail bytes (avail >= 1), or 0
 * when s does not start one (a stray continuation byte, a cut or malformed sequence). A byte below
 * 0x80 is a character of its own, NUL included. A NUL-terminated s may pass SIZE_MAX: the NUL ends any
 * sequence. */
size_t oc_utf8_sequence(const void *s, size_t avail);
/* Whether the NUL-terminated s is well-formed UTF-8: the text a JSON string (jansson) accepts. */
bool oc_utf8_valid(const char *s);

#endif
