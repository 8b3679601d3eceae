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

int oc_write_file_atomic(const char *path, const void *data, size_t len, oc_error *err) {
  oc_buf tmp = {0};
  int fd = oc_create_temp_sibling(path, &tmp.data, err);
  if (fd < 0) return -1;
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      oc_error_errno(err, "cannot write %s", tmp.data);
      goto fail;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0) {
    oc_error_errno(err, "cannot sync %s", tmp.data);
    goto fail;
  }
  if (close(fd) != 0) {
    fd = -1;
    oc_error_errno(err, "cannot close %s", tmp.data);
    goto fail;
  }
  fd = -1;
  if (rename(tmp.data, path) != 0) {
    oc_error_errno(err, "cannot rename %s to %s", tmp.data, path);
    goto fail;
  }
  oc_fsync_parent_dir(path);
  oc_buf_free(&tmp);
  return 0;
fail:
  if (fd >= 0) close(fd);
  unlink(tmp.data);
  oc_buf_free(&tmp);
  return -1;
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
