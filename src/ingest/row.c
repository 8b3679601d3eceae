/* row.c: see row.h. Called once per row of every import: no allocation. */
#include "ingest/row.h"

#include <stdio.h>

#include "core/csv.h"

/* Quoted input is cut at this many bytes in a reason. */
#define QUOTED_MAX 40

int oc_row_parse_date(const char *text, size_t len, oc_date *date, char *reason, size_t reason_cap) {
  const char *why;
  if (oc_date_parse(text, len, date, &why) == 0) return 0;
  snprintf(reason, reason_cap, "bad date '%.*s': %s", (int)(len > QUOTED_MAX ? QUOTED_MAX : len), text, why);
  return -1;
}

oc_row_status oc_row_validate(const char *date_text, size_t date_len, const char *value_text, size_t value_len,
                              bool missing_markers, oc_date *date, double *value, char *reason, size_t reason_cap) {
  if (oc_row_parse_date(date_text, date_len, date, reason, reason_cap) != 0) return OC_ROW_BAD;
  if (missing_markers && (value_len == 0 || (value_len == 1 && value_text[0] == '.'))) return OC_ROW_MISSING;
  const char *why;
  if (oc_parse_number(value_text, value_len, value, &why) != 0) {
    snprintf(reason, reason_cap, "bad value '%.*s': %s", (int)(value_len > QUOTED_MAX ? QUOTED_MAX : value_len),
             value_text, why);
    return OC_ROW_BAD;
  }
  return OC_ROW_OK;
}
