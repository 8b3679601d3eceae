/* publish.c: see publish.h. The journal is one line per file, "<relative final path>\n", after a
 * first line "oilcast-publish <pid>"; it is written with oc_write_file_atomic, so it is either absent
 * or complete. Renames are idempotent to replay: a staged file that is gone was already moved. */
#include "core/publish.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"

char *oc_publish_staging_path(const char *final) {
  oc_buf path = {0};
  oc_buf_printf(&path, "%s.tmp.%ld", final, (long)getpid());
  return oc_buf_steal(&path);
}

long oc_temp_file_owner(const char *name) {
  const char *mark = NULL;
  for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) mark = p;
  if (!mark || mark == name || !mark[5]) return 0;
  char *end;
  long pid = strtol(mark + 5, &end, 10);
  return *end == '\0' && pid > 0 ? pid : 0;
}

bool oc_process_gone(long pid) { return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH; }

/* Renames staged onto final for every line of the journal body; a staged file already gone was moved
 * by an earlier attempt. */
static int replay(const char *dir, const char *body, long pid, oc_error *err) {
  int rc = 0;
  for (const char *line = body; *line && rc == 0;) {
    const char *end = strchr(line, '\n');
    if (!end) return oc_error_set(err, "%s/%s: last line is not terminated", dir, OC_PUBLISH_JOURNAL);
    oc_buf rel = {0}, staged = {0};
    oc_buf_append(&rel, line, (size_t)(end - line));
    char *final = oc_path_join(dir, rel.data);
    oc_buf_printf(&staged, "%s.tmp.%ld", final, pid);
    if (rename(staged.data, final) != 0 && errno != ENOENT)
      rc = oc_error_errno(err, "cannot move %s onto %s", staged.data, final);
    else
      oc_fsync_parent_dir(final);
    free(final);
    oc_buf_free(&rel);
    oc_buf_free(&staged);
    line = end + 1;
  }
  return rc;
}

int oc_publish(const char *dir, const char *const *finals, size_t n, oc_error *err) {
  oc_buf journal = {0};
  oc_buf_printf(&journal, "oilcast-publish %ld\n", (long)getpid());
  for (size_t i = 0; i < n; i++) oc_buf_printf(&journal, "%s\n", finals[i]);
  const char *body = strchr(journal.data, '\n') + 1;
  char *journal_path = oc_path_join(dir, OC_PUBLISH_JOURNAL);
  int rc = oc_write_file_atomic(journal_path, journal.data, journal.len, err);
  if (rc != 0) {
    for (size_t i = 0; i < n; i++) {
      char *final = oc_path_join(dir, finals[i]);
      char *staged = oc_publish_staging_path(final);
      unlink(staged);
      free(staged);
      free(final);
    }
  } else {
    rc = replay(dir, body, (long)getpid(), err);
    /* After a failed rename the journal stays: the next command finishes the publish. */
    if (rc == 0 && unlink(journal_path) == 0) oc_fsync_parent_dir(journal_path);
  }
  free(journal_path);
  oc_buf_free(&journal);
  return rc;
}

int oc_publish_recover(const char *dir, oc_error *err) {
  char *journal_path = oc_path_join(dir, OC_PUBLISH_JOURNAL);
  char *text = NULL;
  size_t len;
  oc_error read_err;
  int rc = 0;
  if (oc_read_file(journal_path, &text, &len, &read_err) == 0) {
    long pid = 0;
    int used = 0;
    if (sscanf(text, "oilcast-publish %ld\n%n", &pid, &used) != 1 || used == 0 || pid <= 0) {
      rc = oc_error_set(err, "%s: not a publish journal (first line must be 'oilcast-publish PID')", journal_path);
    } else if (oc_process_gone(pid)) {
      if (access(dir, W_OK) != 0) rc = 1;
      else if ((rc = replay(dir, text + used, pid, err)) == 0 && unlink(journal_path) == 0)
        oc_fsync_parent_dir(journal_path);
    }
  }
  free(text);
  free(journal_path);
  return rc;
}

size_t oc_remove_stale_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t removed = 0;
  struct dirent *entry;
  while ((entry = readdir(d))) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    /* The entry's type as the directory gives it (no lstat per file: a raw zone of years of daily
     * fetches holds thousands, and every command's open walks it); lstat only where it does not say. */
    unsigned char type = entry->d_type;
    long pid = type == DT_REG || type == DT_UNKNOWN ? oc_temp_file_owner(entry->d_name) : 0;
    if (type != DT_DIR && !pid) continue;
    char *path = oc_path_join(dir, entry->d_name);
    struct stat st;
    if (type == DT_UNKNOWN && lstat(path, &st) == 0) type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
    if (type == DT_DIR) removed += oc_remove_stale_temp_files(path);
    else if (type == DT_REG && pid && oc_process_gone(pid) && unlink(path) == 0) removed++;
    free(path);
  }
  closedir(d);
  return removed;
}
