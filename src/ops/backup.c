/* backup.c: see backup.h. A ustar writer and reader of regular files only (a member of any other type,
 * an absolute or ".." name, a bad header checksum or a short member is refused), the walk over the
 * data directory, the manifest, the staging folder of a restore and the retention of a backup folder. */
#include "ops/backup.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "core/publish.h"
#include "core/sha256.h"
#include "store/datadir.h"

#define BLOCK 512
#define CHUNK (1 << 16)
#define SIZE_MAX_OCTAL 077777777777ULL /* 11 octal digits: 8 GiB - 1 */

typedef struct member {
  char *name;
  uint64_t bytes;
  char sha256[OC_SHA256_HEX_LEN];
} member;

typedef struct member_list {
  member *items;
  size_t n, cap;
} member_list;

static void members_free(member_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i].name);
  free(l->items);
  memset(l, 0, sizeof *l);
}

static member *member_add(member_list *l, const char *name) {
  oc_xgrow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items);
  member *m = &l->items[l->n++];
  memset(m, 0, sizeof *m);
  m->name = oc_xstrdup(name);
  return m;
}

/* ---- the ustar header --------------------------------------------------------------------------- */

static void octal(char *field, size_t width, uint64_t value) { snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)value); }

static unsigned header_sum(const unsigned char *h) {
  unsigned sum = 0;
  for (size_t i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? ' ' : h[i];
  return sum;
}

/* A regular file's header; -1 when name fits neither the name field nor a prefix/name split. */
static int header_make(unsigned char h[BLOCK], const char *name, uint64_t bytes, int64_t mtime) {
  memset(h, 0, BLOCK);
  size_t len = strlen(name);
  if (len <= 100) {
    memcpy(h, name, len);
  } else {
    const char *cut = NULL; /* the last '/' leaving at most 100 bytes after it and 155 before */
    for (const char *p = name; (p = strchr(p, '/')) != NULL; p++)
      if ((size_t)(p - name) <= 155 && len - (size_t)(p - name) - 1 <= 100) cut = p;
    if (!cut || cut[1] == '\0') return -1;
    memcpy(h + 345, name, (size_t)(cut - name));
    memcpy(h, cut + 1, len - (size_t)(cut - name) - 1);
  }
  octal((char *)h + 100, 8, 0644);
  octal((char *)h + 108, 8, 0);
  octal((char *)h + 116, 8, 0);
  octal((char *)h + 124, 12, bytes);
  octal((char *)h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  snprintf((char *)h + 148, 8, "%06o", header_sum(h));
  h[155] = ' ';
  return 0;
}

static int parse_octal(const unsigned char *field, size_t width, uint64_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') i++;
  size_t digits = 0;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; i++, digits++) v = v * 8 + (uint64_t)(field[i] - '0');
  for (; i < width; i++)
    if (field[i] != ' ' && field[i] != '\0') return -1;
  *out = v;
  return digits ? 0 : -1;
}

/* A member name is safe to extract: relative, no "." or ".." segment, no empty segment. */
static bool name_safe(const char *name) {
  if (!*name || *name == '/') return false;
  for (const char *seg = name;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return false;
    if (!end) return true;
    seg = end + 1;
  }
}

/* Reads the header at the reader's position: 1 and the member's name and size, 0 at the end (two zero
 * blocks), -1 with why. */
static int header_read(const unsigned char h[BLOCK], char name[256 + 2], uint64_t *bytes, const char **why) {
  static const unsigned char zero[BLOCK];
  if (memcmp(h, zero, BLOCK) == 0) return 0;
  uint64_t sum;
  if (parse_octal(h + 148, 8, &sum) != 0 || sum != header_sum(h)) return *why = "bad header checksum", -1;
  if (memcmp(h + 257, "ustar", 5) != 0) return *why = "not a ustar header", -1;
  if (h[156] != '0' && h[156] != '\0') return *why = "not a regular file", -1;
  if (parse_octal(h + 124, 12, bytes) != 0) return *why = "bad size field", -1;
  char prefix[156] = {0}, base[101] = {0};
  memcpy(prefix, h + 345, 155);
  memcpy(base, h, 100);
  snprintf(name, 256 + 2, "%s%s%s", prefix, *prefix ? "/" : "", base);
  if (!name_safe(name)) return *why = "an unsafe member name (absolute, empty or with . or ..)", -1;
  return 1;
}

/* ---- writing ------------------------------------------------------------------------------------- */

typedef struct writer {
  FILE *fp;
  const char *tmp;
  member_list members;
  uint64_t bytes;
  unsigned char *chunk;
} writer;

static int write_all(writer *w, const void *data, size_t len, oc_error *err) {
  if (len && fwrite(data, 1, len, w->fp) != len) return oc_error_errno(err, "cannot write %s", w->tmp);
  return 0;
}

static int write_padding(writer *w, uint64_t bytes, oc_error *err) {
  static const unsigned char zero[BLOCK];
  size_t pad = (size_t)((BLOCK - bytes % BLOCK) % BLOCK);
  return write_all(w, zero, pad, err);
}

/* Appends the file at path as member name, hashing it on the way. */
static int add_file(writer *w, const char *path, const char *name, oc_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0; /* removed since the walk saw it (a writer's temporary) */
    return oc_error_errno(err, "cannot open %s", path);
  }
  struct stat st;
  unsigned char h[BLOCK];
  int rc = fstat(fd, &st) != 0 ? oc_error_errno(err, "cannot stat %s", path) : 0;
  if (rc == 0 && (uint64_t)st.st_size > SIZE_MAX_OCTAL) rc = oc_error_set(err, "%s: larger than 8 GiB", path);
  if (rc == 0 && header_make(h, name, (uint64_t)st.st_size, (int64_t)st.st_mtime) != 0)
    rc = oc_error_set(err, "%s: its path is too long for the archive", name);
  if (rc == 0) rc = write_all(w, h, BLOCK, err);
  oc_sha256 sha;
  oc_sha256_init(&sha);
  uint64_t left = (uint64_t)st.st_size;
  while (rc == 0 && left > 0) {
    ssize_t got = read(fd, w->chunk, left < CHUNK ? (size_t)left : CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      rc = got < 0 ? oc_error_errno(err, "cannot read %s", path) : oc_error_set(err, "%s shrank while it was read", path);
      break;
    }
    oc_sha256_update(&sha, w->chunk, (size_t)got);
    rc = write_all(w, w->chunk, (size_t)got, err);
    left -= (uint64_t)got;
  }
  close(fd);
  if (rc == 0) rc = write_padding(w, (uint64_t)st.st_size, err);
  if (rc != 0) return -1;
  member *m = member_add(&w->members, name);
  m->bytes = (uint64_t)st.st_size;
  uint8_t digest[32];
  oc_sha256_final(&sha, digest);
  oc_hex_encode(digest, 32, m->sha256);
  w->bytes += m->bytes;
  return 0;
}

/* What the walk leaves out: the live store's files, temporaries, a publish journal. */
typedef struct walk_rules {
  const char *store; /* the store's member name */
  dev_t skip_dev;    /* the backup folder, when inside the data directory */
  ino_t skip_ino;
  bool skip_dir;
} walk_rules;

static bool left_out(const walk_rules *rules, const char *rel, const char *base) {
  size_t n = strlen(rules->store);
  if (strncmp(rel, rules->store, n) == 0 &&
      (rel[n] == '\0' || strcmp(rel + n, "-wal") == 0 || strcmp(rel + n, "-shm") == 0 || strcmp(rel + n, "-journal") == 0))
    return true;
  /* the processes that have the directory open, and the boot it was tidied under: of this host, now */
  if (strncmp(rel, OC_DATADIR_WRITERS "/", sizeof OC_DATADIR_WRITERS) == 0) return true;
  return strstr(base, ".tmp.") != NULL || strcmp(base, OC_PUBLISH_JOURNAL) == 0;
}

/* Every regular file under dir/rel, in name order. */
static int walk(writer *w, const char *dir, const char *rel, const walk_rules *rules, oc_error *err) {
  char *here = *rel ? oc_path_join(dir, rel) : oc_xstrdup(dir);
  struct dirent **names;
  int n = scandir(here, &names, NULL, alphasort);
  if (n < 0) {
    oc_error_errno(err, "cannot list %s", here);
    free(here);
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    const char *base = names[i]->d_name;
    if (rc == 0 && strcmp(base, ".") != 0 && strcmp(base, "..") != 0) {
      char *child_rel = *rel ? oc_path_join(rel, base) : oc_xstrdup(base);
      char *path = oc_path_join(dir, child_rel);
      struct stat st;
      if (lstat(path, &st) == 0) {
        bool skipped_dir = rules->skip_dir && st.st_dev == rules->skip_dev && st.st_ino == rules->skip_ino;
        if (S_ISDIR(st.st_mode) && !skipped_dir) rc = walk(w, dir, child_rel, rules, err);
        else if (S_ISREG(st.st_mode) && !left_out(rules, child_rel, base)) rc = add_file(w, path, child_rel, err);
      }
      free(path);
      free(child_rel);
    }
    free(names[i]);
  }
  free(names);
  free(here);
  return rc;
}

static char *manifest_text(const member_list *members, const char *store, int64_t now) {
  char stamp[OC_TIMESTAMP_STRLEN];
  json_t *m = json_object(), *list = json_array();
  json_object_set_new(m, "format", json_string("oilcast-backup"));
  json_object_set_new(m, "version", json_integer(1));
  json_object_set_new(m, "created_at", json_string(oc_timestamp_format(now, stamp)));
  json_object_set_new(m, "store", json_string(store));
  for (size_t i = 0; i < members->n; i++) {
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(members->items[i].name));
    json_object_set_new(j, "bytes", json_integer((json_int_t)members->items[i].bytes));
    json_object_set_new(j, "sha256", json_string(members->items[i].sha256));
    json_array_append_new(list, j);
  }
  json_object_set_new(m, "members", list);
  char *text = oc_json_dumps(m, OC_JSON_INDENT);
  json_decref(m);
  return text;
}

/* The store's member name: the relative path of a SQLite store inside the data directory. */
static int store_member(const char *data_dir, char **name, oc_error *err) {
  char *conf_path = oc_path_join(data_dir, OC_DATADIR_CONF);
  oc_conf conf;
  int rc = oc_conf_read(conf_path, &conf, err);
  if (rc == 0) {
    const char *uri = oc_conf_get(&conf, "store");
    if (!uri) uri = OC_DATADIR_DEFAULT_STORE;
    const char *path = strncmp(uri, "sqlite:", 7) == 0 ? uri + 7 : NULL;
    if (!path || !name_safe(path))
      rc = oc_error_set(err, "backup: the store is '%s'; only a SQLite file inside the data directory is backed up", uri);
    else *name = oc_xstrdup(path);
    oc_conf_free(&conf);
  }
  free(conf_path);
  return rc;
}

/* out's path: as given, or the time's name in opt->dir (relative: to the data directory). */
static char *archive_path(const char *data_dir, const oc_backup_options *opt, char **folder) {
  if (opt->out) {
    *folder = NULL;
    return oc_xstrdup(opt->out);
  }
  *folder = opt->dir[0] == '/' ? oc_xstrdup(opt->dir) : oc_path_join(data_dir, opt->dir);
  time_t t = (time_t)opt->now;
  struct tm tm;
  gmtime_r(&t, &tm);
  char name[64];
  strftime(name, sizeof name, OC_BACKUP_PREFIX "%Y%m%dT%H%M%SZ" OC_BACKUP_SUFFIX, &tm);
  return oc_path_join(*folder, name);
}

static bool is_archive_name(const char *base) {
  size_t n = strlen(base), p = strlen(OC_BACKUP_PREFIX), s = strlen(OC_BACKUP_SUFFIX);
  return n > p + s && strncmp(base, OC_BACKUP_PREFIX, p) == 0 && strcmp(base + n - s, OC_BACKUP_SUFFIX) == 0;
}

static int archive_filter(const struct dirent *d) { return is_archive_name(d->d_name); }

/* Removes the entries of folder whose name starts with prefix and ends ".tmp.<pid>" (a writer's
 * temporary, core/publish.h) of a process that is gone, each with discard: what a killed backup or
 * restore left, which nothing else would ever clear. */
static void remove_dead_temporaries(const char *folder, const char *prefix, void (*discard)(const char *path)) {
  DIR *d = opendir(folder);
  size_t prefix_len = strlen(prefix);
  for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
    long pid = strncmp(e->d_name, prefix, prefix_len) == 0 ? oc_temp_file_owner(e->d_name) : 0;
    if (!pid || !oc_process_gone(pid)) continue;
    char *path = oc_path_join(folder, e->d_name);
    discard(path);
    free(path);
  }
  if (d) closedir(d);
}

static void unlink_file(const char *path) { unlink(path); }

/* Removes all but the newest `keep` archives of folder. */
static size_t prune(const char *folder, int keep) {
  struct dirent **names;
  int n = scandir(folder, &names, archive_filter, alphasort);
  size_t removed = 0;
  for (int i = 0; i < n; i++) {
    if (i < n - keep) {
      char *path = oc_path_join(folder, names[i]->d_name);
      removed += unlink(path) == 0;
      free(path);
    }
    free(names[i]);
  }
  if (n >= 0) free(names);
  return removed;
}

/* The archive body: the snapshot (taken first), then the walk, then the manifest. */
static int write_archive(writer *w, const char *data_dir, oc_store *store, const char *store_name,
                         const walk_rules *rules, const char *out, int64_t now, oc_error *err) {
  oc_buf snap = {0};
  oc_buf_printf(&snap, "%s.store.tmp.%ld", out, (long)getpid());
  unlink(snap.data);
  int rc = oc_store_snapshot_to(store, snap.data, err);
  if (rc == 0) rc = add_file(w, snap.data, store_name, err);
  unlink(snap.data);
  oc_buf_free(&snap);
  if (rc == 0) rc = walk(w, data_dir, "", rules, err);
  if (rc != 0) return -1;
  char *text = manifest_text(&w->members, store_name, now);
  size_t len = strlen(text);
  unsigned char h[BLOCK], end[2 * BLOCK] = {0};
  header_make(h, OC_BACKUP_MANIFEST, len, now);
  rc = write_all(w, h, BLOCK, err);
  if (rc == 0) rc = write_all(w, text, len, err);
  if (rc == 0) rc = write_padding(w, len, err);
  if (rc == 0) rc = write_all(w, end, sizeof end, err);
  free(text);
  return rc;
}

int oc_backup_create(const char *data_dir, oc_store *store, const oc_backup_options *opt, oc_backup_result *out,
                     oc_error *err) {
  memset(out, 0, sizeof *out);
  if (!opt->out == !opt->dir) return oc_error_set(err, "backup: give an archive file or a folder, not %s", opt->out ? "both" : "neither");
  if (opt->keep < 0 || (opt->keep > 0 && !opt->dir)) return oc_error_set(err, "backup: keep applies to a folder of backups, at 1 or more");
  char *store_name = NULL, *folder = NULL;
  if (store_member(data_dir, &store_name, err) != 0) return -1;
  char *path = archive_path(data_dir, opt, &folder);
  walk_rules rules = {.store = store_name};
  int rc = folder ? oc_mkdir_p(folder, err) : 0;
  /* what backups killed midway (a job's step-timeout) left: their half-written archive and store
   * snapshot, which retention would never count */
  if (rc == 0 && folder) remove_dead_temporaries(folder, OC_BACKUP_PREFIX, unlink_file);
  struct stat st;
  if (rc == 0 && folder && stat(folder, &st) == 0) rules.skip_dev = st.st_dev, rules.skip_ino = st.st_ino, rules.skip_dir = true;
  if (rc == 0 && oc_path_exists(path)) rc = oc_error_set(err, "backup: %s exists already", path);
  writer w = {.chunk = oc_xmalloc(CHUNK)};
  char *tmp = NULL;
  int fd = rc == 0 ? oc_create_temp_sibling(path, &tmp, err) : -1;
  if (fd >= 0) {
    w.tmp = tmp;
    w.fp = fdopen(fd, "wb");
    rc = write_archive(&w, data_dir, store, store_name, &rules, path, opt->now, err);
    if (rc == 0 && (fflush(w.fp) != 0 || fsync(fd) != 0)) rc = oc_error_errno(err, "cannot write %s", tmp);
    if (fclose(w.fp) != 0 && rc == 0) rc = oc_error_errno(err, "cannot close %s", tmp);
    if (rc == 0 && rename(tmp, path) != 0) rc = oc_error_errno(err, "cannot rename %s to %s", tmp, path);
    if (rc == 0) oc_fsync_parent_dir(path);
    else unlink(tmp);
  } else {
    rc = -1;
  }
  if (rc == 0) {
    *out = (oc_backup_result){.path = path, .members = w.members.n, .bytes = w.bytes};
    path = NULL;
    if (opt->keep > 0) out->removed = prune(folder, opt->keep);
  }
  members_free(&w.members);
  free(w.chunk);
  free(tmp);
  free(path);
  free(folder);
  free(store_name);
  return rc;
}

void oc_backup_result_free(oc_backup_result *r) {
  free(r->path);
  r->path = NULL;
}

/* ---- reading ------------------------------------------------------------------------------------- */

/* Reads the archive member by member; with into, writes each member under it (made durable by the
 * restore, all at once). Then holds every member to the manifest. */
typedef struct reader {
  const char *file;
  FILE *fp;
  const char *into;
  member_list members;
  json_t *names; /* the members' names read so far, as an object's keys: a name given twice is found in O(1) */
  char *manifest;
  unsigned char *chunk;
} reader;

static int read_block(reader *r, unsigned char *b, size_t n) { return fread(b, 1, n, r->fp) == n ? 0 : -1; }

/* Extracts or hashes one member of `bytes` bytes. */
static int read_member(reader *r, const char *name, uint64_t bytes, oc_error *err) {
  bool is_manifest = strcmp(name, OC_BACKUP_MANIFEST) == 0;
  if (is_manifest && bytes > (64u << 20)) return oc_error_set(err, "backup %s: member %s: too large", r->file, name);
  if (json_object_get(r->names, name)) return oc_error_set(err, "backup %s: member %s: given twice", r->file, name);
  if (r->manifest) return oc_error_set(err, "backup %s: member %s: after %s, which must be last", r->file, name, OC_BACKUP_MANIFEST);
  int fd = -1, rc = 0;
  char *path = NULL;
  if (r->into && !is_manifest) {
    path = oc_path_join(r->into, name);
    char *dir = oc_xstrdup(path);
    *strrchr(dir, '/') = '\0';
    rc = oc_mkdir_p(dir, err);
    free(dir);
    if (rc == 0 && (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
      rc = oc_error_errno(err, "cannot create %s", path);
  }
  oc_buf text = {0};
  oc_sha256 sha;
  oc_sha256_init(&sha);
  uint64_t left = bytes, padded = (bytes + BLOCK - 1) / BLOCK * BLOCK;
  while (rc == 0 && left > 0) {
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    if (read_block(r, r->chunk, n) != 0) {
      rc = oc_error_set(err, "backup %s: member %s: truncated (%llu of %llu bytes)", r->file, name,
                        (unsigned long long)(bytes - left), (unsigned long long)bytes);
      break;
    }
    oc_sha256_update(&sha, r->chunk, n);
    if (is_manifest) oc_buf_append(&text, r->chunk, n);
    if (fd >= 0 && write(fd, r->chunk, n) != (ssize_t)n) rc = oc_error_errno(err, "cannot write %s", path);
    left -= n;
  }
  if (rc == 0 && padded > bytes && read_block(r, r->chunk, (size_t)(padded - bytes)) != 0)
    rc = oc_error_set(err, "backup %s: member %s: truncated (its padding)", r->file, name);
  if (fd >= 0 && close(fd) != 0 && rc == 0) rc = oc_error_errno(err, "cannot write %s", path);
  free(path);
  if (rc != 0) {
    oc_buf_free(&text);
    return -1;
  }
  if (is_manifest) {
    oc_buf_putc(&text, '\0');
    r->manifest = oc_buf_steal(&text);
    return 0;
  }
  member *m = member_add(&r->members, name);
  json_object_set_new_nocheck(r->names, name, json_null());
  m->bytes = bytes;
  uint8_t digest[32];
  oc_sha256_final(&sha, digest);
  oc_hex_encode(digest, 32, m->sha256);
  return 0;
}

/* Every member against the manifest: the same set, sizes and SHA-256s. */
static int check_manifest(reader *r, oc_backup_info *info, oc_error *err) {
  if (!r->manifest) return oc_error_set(err, "backup %s: member %s: missing (not an oilcast backup, or cut short)", r->file, OC_BACKUP_MANIFEST);
  json_error_t jerr;
  json_t *m = json_loads(r->manifest, 0, &jerr);
  const json_t *list = json_object_get(m, "members");
  const char *store = json_string_value(json_object_get(m, "store"));
  const char *created = json_string_value(json_object_get(m, "created_at"));
  int rc = 0;
  if (!m || !json_is_array(list) || !store || !created ||
      strcmp(json_string_value(json_object_get(m, "format")) ? json_string_value(json_object_get(m, "format")) : "", "oilcast-backup") != 0)
    rc = oc_error_set(err, "backup %s: member %s: not an oilcast backup manifest%s%s", r->file, OC_BACKUP_MANIFEST,
                      m ? "" : ": ", m ? "" : jerr.text);
  if (rc == 0 && json_array_size(list) != r->members.n)
    rc = oc_error_set(err, "backup %s: member %s: lists %zu members, the archive holds %zu", r->file, OC_BACKUP_MANIFEST,
                      json_array_size(list), r->members.n);
  /* the manifest's entries by name (the last of a repeated name), looked up once per member */
  json_t *listed = json_object(), *j;
  size_t k;
  json_array_foreach(list, k, j) {
    const char *name = json_string_value(json_object_get(j, "name"));
    if (name) json_object_set_nocheck(listed, name, j);
  }
  bool store_seen = false;
  for (size_t i = 0; rc == 0 && i < r->members.n; i++) {
    const member *got = &r->members.items[i];
    const json_t *want = json_object_get(listed, got->name);
    const char *sha = json_string_value(json_object_get(want, "sha256"));
    const json_t *bytes = json_object_get(want, "bytes");
    if (!want) rc = oc_error_set(err, "backup %s: member %s: not in the manifest", r->file, got->name);
    else if (!json_is_integer(bytes) || (uint64_t)json_integer_value(bytes) != got->bytes || !sha ||
             strcmp(sha, got->sha256) != 0)
      rc = oc_error_set(err, "backup %s: member %s: its SHA-256 or size does not match the manifest (damaged)", r->file, got->name);
    store_seen |= strcmp(got->name, store) == 0;
  }
  if (rc == 0 && !store_seen) rc = oc_error_set(err, "backup %s: member %s: the store, missing", r->file, store);
  if (rc == 0) {
    info->members = r->members.n;
    info->bytes = 0;
    for (size_t i = 0; i < r->members.n; i++) info->bytes += r->members.items[i].bytes;
    snprintf(info->created_at, sizeof info->created_at, "%s", created);
    snprintf(info->store, sizeof info->store, "%s", store);
  }
  json_decref(listed);
  json_decref(m);
  return rc;
}

static int read_archive(const char *file, const char *into, oc_backup_info *info, oc_error *err) {
  memset(info, 0, sizeof *info);
  reader r = {.file = file, .into = into, .names = json_object(), .chunk = oc_xmalloc(CHUNK)};
  r.fp = fopen(file, "rb");
  int rc = r.fp ? 0 : oc_error_errno(err, "cannot open %s", file);
  char last[256 + 2] = "";
  while (rc == 0) {
    unsigned char h[BLOCK];
    char name[256 + 2];
    uint64_t bytes;
    const char *why = NULL;
    long at = ftell(r.fp);
    if (read_block(&r, h, BLOCK) != 0) {
      rc = oc_error_set(err, "backup %s: cut short after member %s (no end of archive)", file, *last ? last : "(none)");
      break;
    }
    int got = header_read(h, name, &bytes, &why);
    if (got == 0) break;
    if (got < 0) {
      rc = oc_error_set(err, "backup %s: the header at byte %ld (after member %s): %s", file, at, *last ? last : "(none)", why);
      break;
    }
    rc = read_member(&r, name, bytes, err);
    snprintf(last, sizeof last, "%s", name);
  }
  if (rc == 0) rc = check_manifest(&r, info, err);
  if (r.fp) fclose(r.fp);
  members_free(&r.members);
  json_decref(r.names);
  free(r.manifest);
  free(r.chunk);
  return rc;
}

int oc_backup_verify(const char *file, oc_backup_info *info, oc_error *err) { return read_archive(file, NULL, info, err); }

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static bool dir_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return false;
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir(d)) != NULL) empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  closedir(d);
  return empty;
}

/* Every file and folder under path on disk: one syncfs of its filesystem, not an fsync per member (of
 * 20,000 raw answers: 20 s) that would still leave their folders' entries unsynced. */
static int sync_tree(const char *path, oc_error *err) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return oc_error_errno(err, "cannot open %s", path);
  int rc = syncfs(fd) != 0 ? oc_error_errno(err, "cannot sync %s", path) : 0;
  close(fd);
  return rc;
}

/* The restored store opens and passes its integrity check. */
static int check_store(const char *staging, const char *store_name, oc_error *err) {
  oc_buf uri = {0};
  oc_buf_printf(&uri, "sqlite:%s/%s", staging, store_name);
  oc_store *store = oc_store_open(uri.data, err);
  oc_buf_free(&uri);
  if (!store) return -1;
  int rc = oc_store_integrity_check(store, err);
  oc_store_close(store);
  return rc;
}

/* Removes the staging folders restores into `into` left when killed ("<into>.restore.tmp.<pid>", their
 * process gone): a partial extraction, or after the swap the old folder the restore was replacing. An
 * "<into>.old.tmp.<pid>" is kept: where the filesystem cannot swap, it may be the only copy of the old
 * folder (a kill between the two moves). */
static void remove_killed_restores(const char *into) {
  char *dir = oc_xstrdup(into), *slash = strrchr(dir, '/');
  oc_buf prefix = {0};
  oc_buf_printf(&prefix, "%s.restore.tmp.", slash ? slash + 1 : into);
  if (slash) *slash = '\0';
  remove_dead_temporaries(slash ? (*dir ? dir : "/") : ".", prefix.data, remove_tree);
  oc_buf_free(&prefix);
  free(dir);
}

int oc_backup_restore(const char *file, const char *into_given, bool force, oc_backup_info *info, oc_error *err) {
  char into[4096]; /* without trailing slashes: the staging folder must be its sibling, not inside it */
  size_t n = strlen(into_given);
  while (n > 1 && into_given[n - 1] == '/') n--;
  if (n == 0 || n >= sizeof into) return oc_error_set(err, "restore: '%s' is not a folder name", into_given);
  memcpy(into, into_given, n);
  into[n] = '\0';
  bool exists = oc_path_exists(into);
  if (exists && !oc_is_dir(into)) return oc_error_set(err, "restore: %s exists and is not a folder", into);
  bool replace = exists && !dir_empty(into);
  if (replace && !force)
    return oc_error_set(err, "restore: %s is not empty; give --force to replace it with the backup", into);
  oc_buf staging = {0}, old = {0};
  oc_buf_printf(&staging, "%s.restore.tmp.%ld", into, (long)getpid());
  oc_buf_printf(&old, "%s.old.tmp.%ld", into, (long)getpid());
  remove_tree(staging.data);
  remove_killed_restores(into);
  int rc = oc_mkdir_p(staging.data, err);
  if (rc == 0) rc = read_archive(file, staging.data, info, err);
  for (const char *const *f = oc_datadir_folders; rc == 0 && *f; f++) { /* the layout, empty folders too */
    char *folder = oc_path_join(staging.data, *f);
    rc = oc_mkdir_p(folder, err);
    free(folder);
  }
  if (rc == 0 && check_store(staging.data, info->store, err) != 0) rc = oc_error_prefix(err, "restore: the restored store: ");
  if (rc == 0) rc = sync_tree(staging.data, err); /* durable before it takes into's place */
  /* An existing folder and the staging one swap names in one step (the old one then goes under the
   * staging name, to be removed): a kill at any instant leaves into whole, old or restored. Where the
   * filesystem cannot swap, the old folder is moved aside first: a kill between the two moves leaves
   * into missing, its data in the aside folder. */
  const char *aside = NULL;
  if (rc == 0 && exists) {
    if (renameat2(AT_FDCWD, staging.data, AT_FDCWD, into, RENAME_EXCHANGE) == 0) aside = staging.data;
    else if (errno != EINVAL && errno != ENOSYS)
      rc = oc_error_errno(err, "cannot swap %s and %s", staging.data, into);
    else if (rename(into, old.data) != 0) rc = oc_error_errno(err, "cannot move %s aside", into);
    else aside = old.data;
  }
  if (rc == 0 && aside != staging.data && rename(staging.data, into) != 0) {
    rc = oc_error_errno(err, "cannot rename %s to %s", staging.data, into);
    if (aside) rename(old.data, into); /* put the folder back as it was */
  }
  if (rc == 0) oc_fsync_parent_dir(into);
  if (rc == 0 && aside) remove_tree(aside);
  if (rc != 0) remove_tree(staging.data);
  oc_buf_free(&staging);
  oc_buf_free(&old);
  return rc;
}
