/* bench_lake: writes and reads a frame of ROWS x COLS doubles (default 10,000,000 x 30, about 2.4 GB)
 * as Parquet with both codecs, and, as the peer, writes and reads the same bytes as one raw file
 * (write(2) + fsync, read(2)): the I/O floor. Prints seconds, MB/s of frame data and the ratio of
 * each Parquet figure to the raw one. Usage: bench_lake [ROWS] [COLS] [DIR]. Simulated data: a random
 * walk per column with 1% missing values in every third column. Wall and CPU seconds are both shown: on
 * a shared machine CPU seconds are the steadier figure. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "lake/lake.h"

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec + 1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

typedef struct timing {
  double wall, cpu;
} timing;

static timing since(timing start) {
  return (timing){oc_monotonic_seconds() - start.wall, cpu_seconds() - start.cpu};
}

static timing now(void) { return (timing){oc_monotonic_seconds(), cpu_seconds()}; }

static timing raw_write(const char *path, const oc_frame *f) {
  timing t0 = now();
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) abort();
  if (write(fd, f->dates, f->nrows * sizeof *f->dates) < 0) abort();
  for (size_t c = 0; c < f->ncols; c++) {
    const char *p = (const char *)f->cols[c];
    size_t left = f->nrows * sizeof(double);
    while (left) {
      ssize_t n = write(fd, p, left);
      if (n <= 0) abort();
      p += n;
      left -= (size_t)n;
    }
  }
  fsync(fd);
  close(fd);
  return since(t0);
}

static timing raw_read(const char *path, size_t bytes) {
  timing t0 = now();
  char *buf = oc_xmalloc(bytes);
  int fd = open(path, O_RDONLY);
  size_t done = 0;
  while (done < bytes) {
    ssize_t n = read(fd, buf + done, bytes - done);
    if (n <= 0) abort();
    done += (size_t)n;
  }
  close(fd);
  free(buf);
  return since(t0);
}

static void report(const char *what, timing w, timing r, double mb, double file_mb, const timing *raw) {
  printf("%-24s write %6.2f s (%5.2f CPU s) %6.0f MB/s | read %6.2f s (%5.2f CPU s) %6.0f MB/s | file %5.0f MB", what,
         w.wall, w.cpu, mb / w.wall, r.wall, r.cpu, mb / r.wall, file_mb);
  if (raw) printf(" | vs raw: write %.2fx, read %.2fx wall", raw[0].wall / w.wall, raw[1].wall / r.wall);
  printf("\n");
}

static long file_size(const char *path) {
  FILE *fp = fopen(path, "rb");
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fclose(fp);
  return n;
}

int main(int argc, char **argv) {
  size_t rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
  size_t cols = argc > 2 ? strtoul(argv[2], NULL, 10) : 30;
  const char *dir = argc > 3 ? argv[3] : "/tmp";
  oc_frame f;
  oc_frame_init(&f, rows);
  uint64_t s = 42;
  for (size_t i = 0; i < rows; i++) f.dates[i] = (oc_date)i;
  for (size_t c = 0; c < cols; c++) {
    char name[32];
    snprintf(name, sizeof name, "feature_%02zu", c);
    double *v = oc_frame_add_column(&f, name), x = 70;
    for (size_t i = 0; i < rows; i++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x += ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.8;
      v[i] = c % 3 == 0 && (s >> 7) % 100 == 0 ? NAN : x;
    }
  }
  double mb = (double)rows * (double)(cols * 8 + 4) / 1e6;
  char *raw = oc_path_join(dir, "bench-lake-raw.bin");
  char *pq = oc_path_join(dir, "bench-lake.parquet");
  timing raw_t[2];
  raw_t[0] = raw_write(raw, &f);
  raw_t[1] = raw_read(raw, (size_t)(mb * 1e6));
  unlink(raw);
  printf("frame: %zu rows x %zu double columns + date = %.0f MB (simulated)\n", rows, cols, mb);
  report("raw bytes (peer, floor)", raw_t[0], raw_t[1], mb, mb, NULL);
  const oc_lake_codec codecs[] = {OC_LAKE_UNCOMPRESSED, OC_LAKE_ZSTD};
  for (int k = 0; k < 2; k++) {
    oc_lake_write_options opt = {.codec = codecs[k]};
    oc_error err;
    timing t0 = now();
    if (oc_lake_write_frame(pq, &f, &opt, &err) != 0) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    timing w = since(t0);
    oc_frame g;
    t0 = now();
    if (oc_lake_read_frame(pq, &g, &err) != 0) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    timing r = since(t0);
    for (size_t c = 0; c < cols; c++)
      for (size_t i = 0; i < rows; i += 9973)
        if (memcmp(&f.cols[c][i], &g.cols[c][i], 8) != 0 && !(isnan(f.cols[c][i]) && isnan(g.cols[c][i]))) abort();
    oc_frame_free(&g);
    report(k ? "parquet ZSTD(1)" : "parquet UNCOMPRESSED", w, r, mb, (double)file_size(pq) / 1e6, raw_t);
  }
  unlink(pq);
  free(raw);
  free(pq);
  oc_frame_free(&f);
  return 0;
}
