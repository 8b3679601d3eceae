/* frame_csv.h: the training table as CSV for people without Parquet tools (`oilcast etl --format
 * csv`): header "date,<columns>", ISO dates, shortest round-trip numbers, empty cells for missing
 * values; the frame metadata goes to a sidecar PATH.meta.json ({"key": "value", ...}) because CSV has
 * nowhere to put it. Both files are written atomically. Must not interpret the columns. */
#ifndef OC_FRAME_CSV_H
#define OC_FRAME_CSV_H

#include "core/error.h"
#include "core/frame.h"

int oc_frame_write_csv(const char *path, const oc_frame *f, oc_error *err);

#endif
