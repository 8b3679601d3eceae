/* fsutil.c: see fsutil.h. */
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

int oc_mkdir_p(const char *path, oc_error *err) {
  char *copy = oc_xstrdup(path);
  size_t n = strlen(copy);
  while (n > 1 && copy[n - 1] == '/') copy[--n] = '\0';
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
      oc_error_errno(err, "cannot create directory %s", copy);
      free(copy);
      return -1;
    }
    *p = '/';
  }
  if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
    oc_error_errno(err, "cannot create directory %s", copy);
    free(copy);
    return -1;
  }
  if (!oc_is_dir(copy)) {
    oc_error_set(err, "%s exists and is not a directory", copy);
    free(copy);
    return -1;
  }
  free(copy);
  return 0;
}

bool oc_path_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

bool oc_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int oc_read_file(const char *path, char **data, size_t *len, oc_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return oc_error_errno(err, "cannot open %s", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return oc_error_errno(err, "cannot stat %s", path);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return oc_error_set(err, "%s is a directory, expected a file", path);
  }
  oc_buf b = {0};
  oc_buf_reserve(&b, st.st_size > 0 ? (size_t)st.st_size : 4096);
  for (;;) {
    oc_buf_reserve(&b, 65536);
    ssize_t r = read(fd, b.data + b.len, b.cap - b.len - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      oc_error_errno(err, "cannot read %s", path);
      close(fd);
      oc_buf_free(&b);
      return -1;
    }
    if (r == 0) break;
    b.len += (size_t)r;
    b.data[b.len] = '\0'; /* the buffer stays a string (buf.h), as the next reserve checks */
  }
  close(fd);
  *len = b.len;
  *data = oc_buf_steal(&b);
  return 0;
}

int oc_fsync_parent_dir(const char *path) {
  char *copy = oc_xstrdup(path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(copy);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int oc_create_temp_sibling(const char *path, char **tmp_path, oc_error *err) {
  oc_buf tmp = {0};
  oc_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    oc_error_errno(err, "cannot create %s", tmp.data);
    oc_buf_free(&tmp);
    return -1;
  }
  *tmp_path = oc_buf_steal(&tmp);
  return fd;
}

static int write_all(int fd, const char *name, const void *data, size_t len, oc_error *err) {
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return oc_error_errno(err, "cannot write %s", name);
    }
    p += w;
    left -= (size_t)w;
  }
  return 0;
}

/* Length of path's folder part (up to its last '/'; 0 when it has none). */
static size_t folder_len(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? (size_t)(slash - path) : 0;
}

/* True when an earlier file of files[0..i) that was written lies in the folder of files[i]. */
static bool folder_synced_before(const oc_file_write *files, size_t i) {
  size_t len = folder_len(files[i].path);
  for (size_t j = 0; j < i; j++)
    if (files[j].written && folder_len(files[j].path) == len && memcmp(files[j].path, files[i].path, len) == 0)
      return true;
  return false;
}

/* Writes each file to its temporary sibling and fsyncs it; tmp[i] receives each one's name. 0 with every
 * file written, or -1 with err and no temporary file left. */
static int write_temporaries(const oc_file_write *files, size_t n, char **tmp, oc_error *err) {
  int *fds = oc_xcalloc(n ? n : 1, sizeof *fds);
  size_t opened = 0;
  int rc = 0;
  for (; opened < n && rc == 0; opened++) {
    fds[opened] = oc_create_temp_sibling(files[opened].path, &tmp[opened], err);
    if (fds[opened] < 0) break;
    rc = write_all(fds[opened], tmp[opened], files[opened].data, files[opened].len, err);
    /* Start every file's writeback before waiting for any: the first fsync then commits the
     * filesystem journal for all of them, and the next ones find their data on its way. */
    if (rc == 0 && n > 1) sync_file_range(fds[opened], 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  if (opened < n && rc == 0) rc = -1; /* a temporary file could not be created (err says which) */
  for (size_t i = 0; i < opened && rc == 0; i++)
    if (fsync(fds[i]) != 0) rc = oc_error_errno(err, "cannot sync %s", tmp[i]);
  for (size_t i = 0; i < opened; i++)
    if (close(fds[i]) != 0 && rc == 0) rc = oc_error_errno(err, "cannot close %s", tmp[i]);
  for (size_t i = 0; rc != 0 && i < opened; i++) {
    unlink(tmp[i]);
    free(tmp[i]);
    tmp[i] = NULL;
  }
  free(fds);
  return rc;
}

int oc_write_files_staged(oc_file_write *files, size_t n, oc_error *err) {
  char **tmp = oc_xcalloc(n ? n : 1, sizeof *tmp);
  int rc = write_temporaries(files, n, tmp, err);
  for (size_t i = 0; i < n; i++) {
    files[i].written = rc == 0;
    free(tmp[i]);
  }
  free(tmp);
  return rc;
}

int oc_write_files_atomic(oc_file_write *files, size_t n, oc_error *err) {
  char **tmp = oc_xcalloc(n ? n : 1, sizeof *tmp);
  for (size_t i = 0; i < n; i++) files[i].written = false;
  int rc = write_temporaries(files, n, tmp, err);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (rename(tmp[i], files[i].path) != 0) rc = oc_error_errno(err, "cannot rename %s to %s", tmp[i], files[i].path);
    else files[i].written = true;
  }
  for (size_t i = 0; i < n; i++) {
    if (tmp[i] && !files[i].written) unlink(tmp[i]);
    free(tmp[i]);
  }
  for (size_t i = 0; i < n; i++)
    if (files[i].written && !folder_synced_before(files, i)) oc_fsync_parent_dir(files[i].path);
  free(tmp);
  return rc;
}

int oc_copy_fd_staged(const char *path, int src, size_t len, oc_error *err) {
  char *tmp;
  int out = oc_create_temp_sibling(path, &tmp, err);
  if (out < 0) return -1;
  int rc = 0;
  loff_t off = 0;
  while (rc == 0 && (size_t)off < len) {
    ssize_t n = copy_file_range(src, &off, out, NULL, len - (size_t)off, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      char buf[1 << 16]; /* the portable way, from where the kernel stopped */
      ssize_t got = pread(src, buf, sizeof buf, off);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) rc = oc_error_errno(err, "cannot read the file copied to %s", tmp);
      if (got <= 0) break;
      rc = write_all(out, tmp, buf, (size_t)got, err);
      off += got;
      continue;
    }
    if (n < 0) rc = oc_error_errno(err, "cannot copy to %s", tmp);
    if (n <= 0) break; /* the source cut short meanwhile: its reader finds out */
  }
  if (rc == 0 && fsync(out) != 0) rc = oc_error_errno(err, "cannot sync %s", tmp);
  if (close(out) != 0 && rc == 0) rc = oc_error_errno(err, "cannot close %s", tmp);
  if (rc != 0) unlink(tmp);
  free(tmp);
  return rc;
}

int oc_write_file_atomic(const char *path, const void *data, size_t len, oc_error *err) {
  oc_file_write file = {.path = path, .data = data, .len = len};
  return oc_write_files_atomic(&file, 1, err);
}

char *oc_path_join(const char *a, const char *b) {
  oc_buf out = {0};
  oc_buf_puts(&out, a);
  while (out.len > 1 && out.data[out.len - 1] == '/') out.data[--out.len] = '\0';
  while (*b == '/') b++;
  oc_buf_putc(&out, '/');
  oc_buf_puts(&out, b);
  return oc_buf_steal(&out);
}

const char *oc_path_extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  return dot && dot != base ? dot + 1 : "";
}
