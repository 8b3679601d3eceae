/* records.c: JSON and CSV output of a listing (records.h). Must not know what the records mean. */
#include "cli/records.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/json.h"

int oc_cli_format_parse(const char *text, oc_cli_format *out) {
  static const char *const names[] = {"table", "csv", "json"};
  for (int i = 0; i < 3; i++) {
    if (strcmp(text, names[i]) == 0) {
      *out = (oc_cli_format)i;
      return 0;
    }
  }
  return -1;
}

void oc_cli_print_csv_field(const char *text) {
  if (!strpbrk(text, ",\"\r\n")) {
    fputs(text, stdout);
    return;
  }
  putchar('"');
  for (const char *p = text; *p; p++) {
    if (*p == '"') putchar('"');
    putchar(*p);
  }
  putchar('"');
}

static void print_csv_value(const json_t *v) {
  char number[OC_NUMBER_STRLEN];
  switch (json_typeof(v)) {
  case JSON_STRING: oc_cli_print_csv_field(json_string_value(v)); break;
  case JSON_INTEGER: printf("%lld", (long long)json_integer_value(v)); break;
  case JSON_REAL: fputs(oc_format_number(json_real_value(v), number), stdout); break;
  case JSON_TRUE: fputs("true", stdout); break;
  case JSON_FALSE: fputs("false", stdout); break;
  default: break; /* null: an empty field */
  }
}

void oc_cli_print_records(const json_t *records, oc_cli_format fmt) {
  assert(json_is_array(records) && fmt != OC_CLI_TABLE);
  if (fmt == OC_CLI_JSON) {
    oc_json_print(stdout, records, OC_JSON_COMPACT);
    return;
  }
  const json_t *first = json_array_get(records, 0);
  const char *key;
  const json_t *value;
  if (!first) return;
  bool sep = false;
  json_object_foreach((json_t *)first, key, value) {
    printf("%s", sep ? "," : "");
    oc_cli_print_csv_field(key);
    sep = true;
  }
  putchar('\n');
  size_t i;
  const json_t *record;
  json_array_foreach(records, i, record) {
    sep = false;
    json_object_foreach((json_t *)record, key, value) {
      printf("%s", sep ? "," : "");
      print_csv_value(value);
      sep = true;
    }
    putchar('\n');
  }
}
