/* row.h: turning one row's text into a dated value, the way every text source does it (CSV and JSON
 * files today; market API responses next): a strict ISO date and a strict finite decimal, with the
 * reason worded the same for every source ("bad date '2024-02-30': ..."). It only parses: range,
 * duplicate and series checks belong to the batch (ingest/batch.h), which every source feeds. */
#ifndef OC_INGEST_ROW_H
#define OC_INGEST_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "core/date.h"

/* A strict "YYYY-MM-DD" (oc_date_parse). -1 with reason = "bad date '<text>': <why>" otherwise. */
int oc_row_parse_date(const char *text, size_t len, oc_date *date, char *reason, size_t reason_cap);

/* One price row: a strict date and a strict finite number (oc_parse_number). With missing_markers
 * (FRED files), a value of "." or "" is a missing observation, not an error. OC_ROW_BAD fills reason
 * ("bad date '2024-02-30': day does not exist..." or "bad value 'abc': not a number"). */
typedef enum { OC_ROW_OK = 0, OC_ROW_MISSING = 1, OC_ROW_BAD = -1 } oc_row_status;
oc_row_status oc_row_validate(const char *date_text, size_t date_len, const char *value_text, size_t value_len,
                              bool missing_markers, oc_date *date, double *value, char *reason, size_t reason_cap);

#endif
