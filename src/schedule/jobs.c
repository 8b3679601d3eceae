/* jobs.c: see jobs.h. A line-by-line reader: comments (# to the end of a line, outside quotes), blank
 * lines, "[name]" sections and "key = value" lines. */
#include "schedule/jobs.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/utf8.h"

static void step_free(oc_job_step *s) {
  for (size_t i = 0; i < s->argc; i++) free(s->argv[i]);
  free(s->argv);
  free(s->text);
}

void oc_jobs_free(oc_jobs *jobs) {
  for (size_t j = 0; j < jobs->n; j++) {
    for (size_t i = 0; i < jobs->jobs[j].nsteps; i++) step_free(&jobs->jobs[j].steps[i]);
    free(jobs->jobs[j].steps);
  }
  free(jobs->jobs);
  memset(jobs, 0, sizeof *jobs);
}

const oc_job *oc_jobs_find(const oc_jobs *jobs, const char *name) {
  for (size_t i = 0; i < jobs->n; i++)
    if (strcmp(jobs->jobs[i].name, name) == 0) return &jobs->jobs[i];
  return NULL;
}

/* Splits text into words (quotes keep blanks); -1 with *why on an unterminated quote. */
static int split_words(const char *text, oc_job_step *step, const char **why) {
  size_t cap = 0;
  const char *p = text;
  for (;;) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p) break;
    oc_buf word = {0};
    oc_buf_puts(&word, "");
    while (*p && !isspace((unsigned char)*p)) {
      if (*p == '"' || *p == '\'') {
        char quote = *p++;
        const char *end = strchr(p, quote);
        if (!end) {
          oc_buf_free(&word);
          *why = "a quote is not closed";
          return -1;
        }
        oc_buf_append(&word, p, (size_t)(end - p));
        p = end + 1;
      } else {
        oc_buf_putc(&word, *p++);
      }
    }
    oc_xgrow((void **)&step->argv, &cap, step->argc + 2, sizeof *step->argv);
    step->argv[step->argc++] = oc_buf_steal(&word);
  }
  if (step->argc == 0) {
    *why = "a step needs a command";
    return -1;
  }
  step->argv[step->argc] = NULL;
  return 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

/* Cuts a comment: '#' outside quotes to the end of the line. */
static void cut_comment(char *line) {
  char quote = 0;
  for (char *p = line; *p; p++) {
    if (quote) {
      if (*p == quote) quote = 0;
    } else if (*p == '"' || *p == '\'') {
      quote = *p;
    } else if (*p == '#') {
      *p = '\0';
      return;
    }
  }
}

static int parse_duration(const char *text, int64_t *seconds) {
  char *end;
  errno = 0;
  long long n = strtoll(text, &end, 10);
  int64_t unit = strcmp(end, "s") == 0 || !*end ? 1 : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600 : 0;
  if (end == text || errno || n <= 0 || !unit || n > 7LL * 86400 / unit) return -1;
  *seconds = n * unit;
  return 0;
}

/* Whether a step's word sets the data directory: --data-dir, --data-dir=DIR, or an abbreviation of it
 * (getopt_long takes --data for --data-dir). Steps run on the scheduler's data directory, given
 * before the step's own words: one naming another would win (an option's last value does) and the
 * step would run elsewhere. */
static bool sets_data_dir(const char *word) {
  static const char option[] = "data-dir";
  if (strncmp(word, "--", 2) != 0) return false;
  size_t len = strcspn(word + 2, "=");
  return len > 0 && len <= strlen(option) && strncmp(word + 2, option, len) == 0;
}

/* Checks the job that ends here is complete. */
static int finish_job(const char *path, const oc_job *job, oc_error *err) {
  if (!job) return 0;
  if (!job->every_line)
    return oc_error_set(err, "%s:%zu: job %s has no 'every = ...' schedule", path, job->line, job->name);
  if (job->nsteps == 0) return oc_error_set(err, "%s:%zu: job %s has no 'step = ...'", path, job->line, job->name);
  return 0;
}

static int parse_line(const char *path, size_t lineno, char *line, oc_jobs *out, size_t *cap, oc_error *err) {
  /* a step's text goes into its run's JSON record (and its failure reason): bytes that are no UTF-8
   * (a Latin-1 path) made that record and the run's JSON vanish at run time */
  if (!oc_utf8_valid(line)) return oc_error_set(err, "%s:%zu: the line is not UTF-8 text", path, lineno);
  cut_comment(line);
  char *text = trim(line);
  if (!*text) return 0;
  oc_job *job = out->n ? &out->jobs[out->n - 1] : NULL;
  if (*text == '[') {
    char *close = strchr(text, ']');
    if (!close || *trim(close + 1)) return oc_error_set(err, "%s:%zu: a section is '[name]' alone on its line", path, lineno);
    *close = '\0';
    const char *name = trim(text + 1), *why;
    if (oc_series_name_check(name, strlen(name), &why) != 0)
      return oc_error_set(err, "%s:%zu: job name '%s': %s", path, lineno, name, why);
    if (finish_job(path, job, err) != 0) return -1;
    if (oc_jobs_find(out, name))
      return oc_error_set(err, "%s:%zu: a second job named '%s'", path, lineno, name);
    oc_xgrow((void **)&out->jobs, cap, out->n + 1, sizeof *out->jobs);
    job = &out->jobs[out->n++];
    memset(job, 0, sizeof *job);
    snprintf(job->name, sizeof job->name, "%s", name);
    job->step_timeout = OC_JOB_STEP_TIMEOUT_DEFAULT;
    job->line = lineno;
    return 0;
  }
  char *eq = strchr(text, '=');
  if (!eq) return oc_error_set(err, "%s:%zu: expected '[job]' or 'key = value', not '%s'", path, lineno, text);
  *eq = '\0';
  const char *key = trim(text), *value = trim(eq + 1);
  if (!job) return oc_error_set(err, "%s:%zu: '%s' comes before any [job] section", path, lineno, key);
  /* a key given twice: the second one silently won, so a schedule or timeout someone wrote was not in
   * force (and a job wanting two schedules is two jobs) */
  size_t *given = strcmp(key, "every") == 0          ? &job->every_line
                  : strcmp(key, "step-timeout") == 0 ? &job->step_timeout_line
                                                     : NULL;
  if (given && *given)
    return oc_error_set(err, "%s:%zu: job %s has a second '%s' (line %zu gives one already)", path, lineno,
                        job->name, key, *given);
  if (given) *given = lineno;
  if (strcmp(key, "every") == 0) {
    char full[256];
    snprintf(full, sizeof full, "every %s", value);
    if (oc_schedule_parse(full, &job->schedule, err) != 0) return oc_error_prefix(err, "%s:%zu: ", path, lineno);
  } else if (strcmp(key, "step") == 0) {
    oc_job_step step = {0};
    const char *why;
    if (split_words(value, &step, &why) != 0) {
      step_free(&step);
      return oc_error_set(err, "%s:%zu: step '%s': %s", path, lineno, value, why);
    }
    for (size_t i = 1; i < step.argc; i++) {
      if (!sets_data_dir(step.argv[i])) continue;
      oc_error_set(err, "%s:%zu: step '%s': a step runs on the job's data directory; remove '%s'", path, lineno,
                   value, step.argv[i]);
      step_free(&step);
      return -1;
    }
    step.text = oc_xstrdup(value);
    step.line = lineno;
    job->steps = oc_xrealloc(job->steps, (job->nsteps + 1) * sizeof *job->steps);
    job->steps[job->nsteps++] = step;
  } else if (strcmp(key, "step-timeout") == 0) {
    if (parse_duration(value, &job->step_timeout) != 0)
      return oc_error_set(err, "%s:%zu: step-timeout '%s' is not a duration such as 90s, 30m or 2h (up to 7 days)", path,
                          lineno, value);
  } else {
    return oc_error_set(err, "%s:%zu: unknown key '%s' (known: every, step, step-timeout)", path, lineno, key);
  }
  return 0;
}

int oc_jobs_parse(const char *path, const char *text, oc_jobs *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  size_t cap = 0, lineno = 0;
  int rc = 0;
  for (const char *p = text; *p && rc == 0;) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *line = oc_xmalloc(len + 1);
    memcpy(line, p, len);
    line[len] = '\0';
    rc = parse_line(path, ++lineno, line, out, &cap, err);
    free(line);
    p += len + (end ? 1 : 0);
  }
  if (rc == 0) rc = finish_job(path, out->n ? &out->jobs[out->n - 1] : NULL, err);
  if (rc != 0) oc_jobs_free(out);
  return rc;
}

int oc_jobs_read(const char *path, oc_jobs *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (!oc_path_exists(path)) return 0;
  char *text;
  size_t len;
  if (oc_read_file(path, &text, &len, err) != 0) return -1;
  if (strlen(text) != len) {
    free(text);
    return oc_error_set(err, "%s: contains a NUL byte", path);
  }
  int rc = oc_jobs_parse(path, text, out, err);
  free(text);
  return rc;
}
