/* json_scan.h: what jansson's reading loses, found again in the text it read. jansson turns a number
 * too small for a double (1e-400) into 0 without a word, so a price or a weight could silently become
 * zero; this scanner walks JSON text (already accepted by jansson) and finds such a number with the
 * path of its field. It reads no values and builds nothing: the document is jansson's. */
#ifndef OC_JSON_SCAN_H
#define OC_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The first number of the JSON text that reads as 0 although its digits are not all zero: true, with
 * its field's path ("[3].price", "historical_prices[2]"; "" for the top value) in path (cap bytes,
 * truncated to fit), its 1-based line in *line and its text in number (cap bytes). A subnormal that
 * reads as a non-zero double (1e-310) is a number like any other. */
bool oc_json_find_underflow(const char *text, size_t len, char *path, char *number, size_t cap, size_t *line);

#endif
