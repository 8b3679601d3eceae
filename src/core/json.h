/* json.h: the one JSON writer of oilcast. Every JSON document oilcast produces (HTTP responses, the
 * event stream, `--format json` on the command line, files beside the store) goes through it, so they
 * all agree: numbers are the shortest decimal that reads back to the same double (70.87, not
 * 70.870000000000005; a whole number as 70.0, so it reads back as a real), objects keep their insertion order, strings are escaped the same way.
 * It never writes a non-finite number: jansson refuses NaN and infinity when a value is made, and
 * oc_json_number/oc_json_put_number turn them into null, so no JSON parser can choke on our output.
 * It must not parse: reading JSON is jansson's job; it only checks the members of an object read. */
#ifndef OC_JSON_H
#define OC_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "core/buf.h"

enum {
  OC_JSON_COMPACT = 0,       /* one line, no spaces */
  OC_JSON_INDENT = 1 << 0,   /* two-space indentation, one member per line */
  OC_JSON_SORT_KEYS = 1 << 1, /* object members by key instead of insertion order */
  OC_JSON_ESCAPE_SLASH = 1 << 2, /* "/" as "\/", so the text can sit inside an HTML <script> */
};

/* A number value: json_real(x), or json null when x is NaN or infinite (json_real would return NULL,
 * and json_object_set_new would then silently drop the member). */
json_t *oc_json_number(double x);

/* Appends x as the shortest round-trip decimal, or null when it is not finite. */
void oc_json_put_number(oc_buf *out, double x);
/* Appends s as a quoted, escaped JSON string. */
void oc_json_put_string(oc_buf *out, const char *s);
/* Appends the JSON text of j (any value). */
void oc_json_write(oc_buf *out, const json_t *j, unsigned flags);
/* The JSON text of j, NUL-terminated, for the caller to free. Never NULL. */
char *oc_json_dumps(const json_t *j, unsigned flags);
/* Writes the JSON text of j and a newline to f; -1 on a write error. */
int oc_json_print(FILE *f, const json_t *j, unsigned flags);

/* The name of object's first member that is not in known (a NULL-terminated list), or NULL: for an
 * object (a request body, a rules file) that allows no other members, where a misspelt optional one
 * would otherwise go unnoticed and take its default. */
const char *oc_json_unknown_member(json_t *object, const char *const *known);

#endif
