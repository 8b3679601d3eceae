/* replay.c: the corpus as a regression test. main() feeds every file of the directories (or files)
 * it is given to the target's LLVMFuzzerTestOneInput, in name order, so `make test` checks each
 * committed seed and crash input in the normal and sanitizer builds with gcc, without clang or
 * libFuzzer. It must not mutate inputs or skip any: a file that crashes fails the test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "fuzz.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_file(const char *path) {
  char *data;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &data, &len, &err) != 0) {
    fprintf(stderr, "replay: %s\n", err.message);
    return -1;
  }
  /* An exact-size copy, so ASan sees a read one byte past the input as the fuzzer would. */
  uint8_t *input = malloc(len ? len : 1);
  memcpy(input, data, len);
  free(data);
  LLVMFuzzerTestOneInput(input, len);
  free(input);
  return 0;
}

/* Replays path: a file, or every regular file directly in a directory. Returns the count, -1 on error. */
static long replay_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return replay_file(path) == 0 ? 1 : -1;
  DIR *dir = opendir(path);
  if (!dir) {
    perror(path);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    char *file = oc_path_join(path, e->d_name);
    if (e->d_name[0] != '.' && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
      oc_xgrow((void **)&names, &cap, n + 1, sizeof *names);
      names[n++] = file;
    } else {
      free(file);
    }
  }
  closedir(dir);
  qsort(names, n, sizeof *names, by_name);
  long count = 0;
  for (size_t i = 0; i < n; i++) {
    if (count >= 0) count = replay_file(names[i]) == 0 ? count + 1 : -1;
    free(names[i]);
  }
  free(names);
  return count;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    long count = replay_path(argv[i]);
    if (count < 0) return 1;
    if (count == 0) {
      fprintf(stderr, "replay: %s holds no inputs\n", argv[i]);
      return 1;
    }
    printf("replay: %ld inputs of %s passed\n", count, argv[i]);
  }
  return 0;
}
