/* mapped_file.h: a file read through a read-only mapping of the page cache's own pages, for imports of
 * files of any size: reading a 250 MB file into fresh memory instead cost seconds on a machine whose free
 * memory the host reclaims (bench/import: 0.57x -> 0.44-0.49x of sqlite3). Another process truncating a
 * mapped file makes a read past the new end fault (SIGBUS), which would kill the process: while a file is
 * open here, such a fault gets a page of zeros in its place, so the reader goes on over zeros, and the
 * caller learns from the file's size (fstat on fd) that it changed. A SIGBUS at any other address keeps
 * the disposition it had. Must not interpret the bytes. */
#ifndef OC_CORE_MAPPED_FILE_H
#define OC_CORE_MAPPED_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "core/error.h"

typedef struct oc_mapped_file {
  int fd;            /* open until oc_mapped_file_close: fstat it to see whether the file changed */
  const char *data;  /* len bytes (not NUL-terminated; "" for an empty file) */
  size_t len;
  struct stat opened; /* fstat when it was opened */
  int guard;         /* its slot among the guarded mappings, or -1 */
} oc_mapped_file;

/* Opens and maps path (a regular file). 0, or -1 with err naming it. */
int oc_mapped_file_open(const char *path, oc_mapped_file *file, oc_error *err);
void oc_mapped_file_close(oc_mapped_file *file);

#endif
