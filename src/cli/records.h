/* records.h: the machine-readable output formats the CLI's listing commands share (`--format
 * table|csv|json`): a listing is built once as a JSON array of flat objects (through jansson, so
 * free text is escaped) and printed as JSON or as CSV; the table stays each command's own layout.
 * Must not open stores or know what the records mean. */
#ifndef OC_CLI_RECORDS_H
#define OC_CLI_RECORDS_H

#include <jansson.h>

typedef enum { OC_CLI_TABLE, OC_CLI_CSV, OC_CLI_JSON } oc_cli_format;

/* "table", "csv" or "json"; -1 for anything else. */
int oc_cli_format_parse(const char *text, oc_cli_format *out);

/* One CSV field on stdout, quoted (RFC 4180) when it holds a comma, quote or line break. */
void oc_cli_print_csv_field(const char *text);

/* records: an array of objects with the same keys in the same order, values strings, numbers,
 * booleans or null. JSON: the array on one line. CSV: a header row of the keys, then one row per
 * object (numbers as the shortest decimal that round-trips, null as an empty field). fmt is not
 * OC_CLI_TABLE. */
void oc_cli_print_records(const json_t *records, oc_cli_format fmt);

#endif
