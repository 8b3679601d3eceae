/* fsutil.h: filesystem helpers with clear errors. Durable writes go through oc_write_file_atomic
 * (temporary file, fsync, rename, fsync of the directory; oc_write_files_atomic for several files,
 * one directory fsync for all) so a crash never leaves a half-written artifact under its final name. Must not be used to write into the store database. */
#ifndef OC_FSUTIL_H
#define OC_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* One file of oc_write_files_atomic: its final path and bytes; `written` is set once it is in place. */
typedef struct oc_file_write {
  const char *path;
  const void *data;
  size_t len;
  bool written;
} oc_file_write;

/* mkdir -p with mode 0755. */
int oc_mkdir_p(const char *path, oc_error *err);
bool oc_path_exists(const char *path);
bool oc_is_dir(const char *path);
/* Reads a whole file; *data is NUL-terminated (not counted in *len) and freed by the caller. */
int oc_read_file(const char *path, char **data, size_t *len, oc_error *err);
int oc_write_file_atomic(const char *path, const void *data, size_t len, oc_error *err);
/* oc_write_file_atomic for several files (into existing folders) with one folder fsync per folder
 * instead of one per file: each file is written to its temporary sibling and fsynced, then all are
 * renamed, then each folder that received one is fsynced once. A crash leaves every file either
 * absent or complete. On failure no temporary file is left and the files renamed before the failing
 * rename (their `written` set) stay in place: the caller removes them if it must. */
int oc_write_files_atomic(oc_file_write *files, size_t n, oc_error *err);
/* The first half of oc_write_files_atomic: each file written to its temporary sibling
 * ("<path>.tmp.<pid>", which core/publish.h calls staged) and fsynced, and left there for the caller,
 * who renames it onto path when it commits and fsyncs the folder then (a staged name need not survive
 * a crash: the next command removes dead writers' temporaries). Sets every `written` on success; on
 * failure no temporary file is left. */
int oc_write_files_staged(oc_file_write *files, size_t n, oc_error *err);
/* Stages path (as oc_write_files_staged) from the first len bytes of the open file src, copied
 * kernel-side (copy_file_range; read and written where the filesystems do not allow it). A source cut
 * short meanwhile gives a shorter copy: its reader finds out. */
int oc_copy_fd_staged(const char *path, int src, size_t len, oc_error *err);
/* Creates (truncating) "<path>.tmp.<pid>" for writing; returns its fd and its name in *tmp_path
 * (malloc'd), or -1. Streaming writers finish with fsync, rename onto path and oc_fsync_parent_dir. */
int oc_create_temp_sibling(const char *path, char **tmp_path, oc_error *err);
/* fsyncs the directory holding path, so a rename into it survives a crash (writers that stream into
 * their own temporary file call it after the rename). */
int oc_fsync_parent_dir(const char *path);
/* Joins a and b with exactly one '/', into a malloc'd string. */
char *oc_path_join(const char *a, const char *b);
/* Extension of the last path component without the dot ("" when none). Points into path. */
const char *oc_path_extension(const char *path);

#endif
