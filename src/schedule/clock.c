/* clock.c: see clock.h. */
#include "schedule/clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fsutil.h"

int oc_clock_parse_instant(const char *text, int64_t *out, oc_error *err) {
  struct tm tm = {0};
  const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  while (rest && (*rest == '\n' || *rest == '\r' || *rest == ' ')) rest++;
  if (!rest || *rest || strlen(text) < 20) return oc_error_set(err, "'%.40s' is not an instant such as 2026-01-09T22:00:05Z", text);
  /* strptime checks each field alone (a day up to 31, a second up to 61) and timegm carries what
   * overflows: "2026-02-30" would be read as March 2nd. The instant must read back as written. */
  struct tm written = tm, back;
  time_t t = timegm(&tm);
  gmtime_r(&t, &back);
  if (back.tm_year != written.tm_year || back.tm_mon != written.tm_mon || back.tm_mday != written.tm_mday ||
      back.tm_hour != written.tm_hour || back.tm_min != written.tm_min || back.tm_sec != written.tm_sec)
    return oc_error_set(err, "'%.40s' is no such instant (a day or time out of range), not an instant such as "
                             "2026-01-09T22:00:05Z", text);
  *out = (int64_t)t;
  return 0;
}

/* The file's instant; -1 with err when it cannot be read. */
static int read_file_instant(const char *path, int64_t *out, oc_error *err) {
  char *data;
  size_t len;
  if (oc_read_file(path, &data, &len, err) != 0) return -1;
  int rc = oc_clock_parse_instant(data, out, err);
  free(data);
  return rc != 0 ? oc_error_prefix(err, "%s: ", path) : 0;
}

int oc_clock_init(oc_clock *clock, const char *spec, oc_error *err) {
  *clock = (oc_clock){0};
  if (!spec || !*spec) return 0;
  if (strncmp(spec, "file:", 5) != 0 || !spec[5])
    return oc_error_set(err, "%s='%s': expected file:PATH (a file holding an instant such as 2026-01-09T22:00:05Z)",
                        OC_CLOCK_ENV, spec);
  if (read_file_instant(spec + 5, &clock->last, err) != 0) return oc_error_prefix(err, "%s: ", OC_CLOCK_ENV);
  clock->file = oc_xstrdup(spec + 5);
  return 0;
}

void oc_clock_free(oc_clock *clock) {
  free(clock->file);
  clock->file = NULL;
}

int64_t oc_clock_now(oc_clock *clock) {
  if (!clock->file) return (int64_t)time(NULL);
  oc_error ignored; /* a test rewriting the file: the last reading holds until the new one is whole */
  int64_t t;
  if (read_file_instant(clock->file, &t, &ignored) == 0) clock->last = t;
  return clock->last;
}

int64_t oc_clock_now_ms(void *clock) { return oc_clock_now(clock) * 1000; }
