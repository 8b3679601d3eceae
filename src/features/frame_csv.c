/* frame_csv.c: see frame_csv.h. */
#include "features/frame_csv.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/csv.h"
#include "core/json.h"

static int write_metadata(const char *csv_path, const oc_frame *f, oc_error *err) {
  json_t *meta = json_object();
  for (size_t m = 0; m < f->nmeta; m++) json_object_set_new(meta, f->meta_keys[m], json_string(f->meta_values[m]));
  char *text = oc_json_dumps(meta, OC_JSON_INDENT);
  json_decref(meta);
  oc_buf path = {0};
  oc_buf_printf(&path, "%s.meta.json", csv_path);
  int rc = oc_write_file_atomic(path.data, text, strlen(text), err);
  free(text);
  oc_buf_free(&path);
  return rc;
}

int oc_frame_write_csv(const char *path, const oc_frame *f, oc_error *err) {
  oc_buf out = {0};
  oc_buf_puts(&out, "date");
  for (size_t c = 0; c < f->ncols; c++) oc_buf_printf(&out, ",%s", f->names[c]);
  oc_buf_putc(&out, '\n');
  char date[OC_DATE_STRLEN], number[OC_NUMBER_STRLEN];
  for (size_t i = 0; i < f->nrows; i++) {
    oc_buf_puts(&out, oc_date_format(f->dates[i], date));
    for (size_t c = 0; c < f->ncols; c++) {
      oc_buf_putc(&out, ',');
      if (!isnan(f->cols[c][i])) oc_buf_puts(&out, oc_format_number(f->cols[c][i], number));
    }
    oc_buf_putc(&out, '\n');
  }
  int rc = oc_write_file_atomic(path, out.data, out.len, err);
  oc_buf_free(&out);
  if (rc == 0) rc = write_metadata(path, f, err);
  return rc;
}
