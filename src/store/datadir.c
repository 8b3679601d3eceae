/* datadir.c: see datadir.h. */
#include "store/datadir.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/publish.h"

const char *const oc_datadir_folders[] = {
    "raw/market_data", "raw/iot_data",     "raw/historical_data", "processed/training", "processed/inference",
    "models/artifacts", "models/endpoints", "forecasts",           NULL,
};

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

int oc_conf_read(const char *path, oc_conf *conf, oc_error *err) {
  memset(conf, 0, sizeof *conf);
  char *text;
  size_t len;
  if (oc_read_file(path, &text, &len, err) != 0) return -1;
  size_t cap = 0, line_no = 0;
  char *save = NULL, section[64] = "";
  /* strtok_r would merge empty lines and lose the numbering; walk lines by hand. */
  for (char *line = text; line && *line; line = save) {
    line_no++;
    char *nl = strchr(line, '\n');
    save = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *t = trim(line);
    if (!*t) continue;
    size_t tlen = strlen(t);
    if (t[0] == '[' && t[tlen - 1] == ']' && tlen - 2 < sizeof section - 1) { /* [name]: keys below are name.key */
      snprintf(section, sizeof section, "%.*s.", (int)(tlen - 2), t + 1);
      if (!strcmp(section, ".")) section[0] = '\0'; /* [] goes back to the top level */
      continue;
    }
    char *eq = strchr(t, '=');
    if (!eq) {
      oc_error_set(err, "%s:%zu: expected 'key = value'", path, line_no);
      free(text);
      oc_conf_free(conf);
      return -1;
    }
    *eq = '\0';
    char *key = trim(t), *value = trim(eq + 1);
    if (!*key) {
      oc_error_set(err, "%s:%zu: empty key before '='", path, line_no);
      free(text);
      oc_conf_free(conf);
      return -1;
    }
    oc_xgrow((void **)&conf->keys, &cap, conf->n + 1, sizeof *conf->keys);
    conf->values = oc_xrealloc(conf->values, cap * sizeof *conf->values);
    conf->lines = oc_xrealloc(conf->lines, cap * sizeof *conf->lines);
    conf->lines[conf->n] = line_no;
    oc_buf full = {0};
    oc_buf_printf(&full, "%s%s", section, key);
    conf->keys[conf->n] = oc_buf_steal(&full);
    conf->values[conf->n] = oc_xstrdup(value);
    conf->n++;
  }
  free(text);
  return 0;
}

const char *oc_conf_get(const oc_conf *conf, const char *key) {
  const char *found = NULL; /* the last assignment wins, as in shell config files */
  for (size_t i = 0; i < conf->n; i++)
    if (strcmp(conf->keys[i], key) == 0) found = conf->values[i];
  return found;
}

void oc_conf_free(oc_conf *conf) {
  for (size_t i = 0; i < conf->n; i++) {
    free(conf->keys[i]);
    free(conf->values[i]);
  }
  free(conf->keys);
  free(conf->values);
  free(conf->lines);
  memset(conf, 0, sizeof *conf);
}

int oc_conf_check_keys(const oc_conf *conf, const char *path, const char *const *known, oc_error *err) {
  for (size_t i = 0; i < conf->n; i++) {
    const char *const *k = known;
    while (*k && strcmp(*k, conf->keys[i]) != 0) k++;
    if (*k) continue;
    oc_buf names = {0};
    for (k = known; *k; k++) oc_buf_printf(&names, "%s%s", k == known ? "" : ", ", *k);
    oc_error_set(err, "%s:%zu: unknown key '%s' (known: %s)", path, conf->lines[i], conf->keys[i], names.data);
    oc_buf_free(&names);
    return -1;
  }
  return 0;
}

/* The keys oilcast.conf may hold: the store, and the market APIs' keys (docs/market.md; read by the
 * market source when neither --api-key nor OILCAST_<PROVIDER>_API_KEY gives one). */
static const char *const datadir_conf_keys[] = {"store", "eia_api_key", "fred_api_key", "alphavantage_api_key",
                                                /* the [stream] section (pipeline/stream.h, docs/stream.md) */
                                                "stream.broker", "stream.client_id", "stream.username",
                                                "stream.topic", "stream.windows", "stream.grace",
                                                "stream.silence_factor", NULL};

static int not_a_datadir(const char *dir, oc_error *err) {
  return oc_error_set(err, "%s is not an oilcast data directory (no %s); run: oilcast init --data-dir %s", dir,
                      OC_DATADIR_CONF, dir);
}

int oc_datadir_store_uri(const char *dir, char **uri, oc_error *err) {
  char *conf_path = oc_path_join(dir, OC_DATADIR_CONF);
  if (!oc_path_exists(conf_path)) {
    free(conf_path);
    return not_a_datadir(dir, err);
  }
  oc_conf conf;
  int rc = oc_conf_read(conf_path, &conf, err);
  if (rc == 0 && oc_conf_check_keys(&conf, conf_path, datadir_conf_keys, err) != 0) {
    oc_conf_free(&conf);
    rc = -1;
  }
  free(conf_path);
  if (rc != 0) return -1;
  const char *store = oc_conf_get(&conf, "store");
  if (!store) store = OC_DATADIR_DEFAULT_STORE;
  if (strncmp(store, "sqlite:", 7) == 0 && store[7] != '/' && store[7] != '\0') {
    oc_buf b = {0};
    char *path = oc_path_join(dir, store + 7);
    oc_buf_printf(&b, "sqlite:%s", path);
    free(path);
    *uri = oc_buf_steal(&b);
  } else {
    *uri = oc_xstrdup(store);
  }
  oc_conf_free(&conf);
  return 0;
}

/* An existing oilcast.conf must name the store asked for: init never moves a data directory to another
 * store (URIs are not repeated in the message: they may hold a password). */
static int check_conf_store(const char *conf_path, const char *store_uri, oc_error *err) {
  oc_conf conf;
  if (oc_conf_read(conf_path, &conf, err) != 0) return -1;
  const char *named = oc_conf_get(&conf, "store");
  int rc = strcmp(named ? named : OC_DATADIR_DEFAULT_STORE, store_uri) == 0
               ? 0
               : oc_error_set(err,
                              "%s names another store than the one given; init never changes a data directory's"
                              " store (edit its store line, or copy the store with `oilcast migrate`)",
                              conf_path);
  oc_conf_free(&conf);
  return rc;
}

int oc_datadir_init_store(const char *dir, const char *store_uri, bool *created_conf, oc_error *err) {
  if (store_uri && (!*store_uri || strpbrk(store_uri, "\r\n")))
    return oc_error_set(err, "the store URI must be one non-empty line");
  if (oc_mkdir_p(dir, err) != 0) return -1;
  for (const char *const *f = oc_datadir_folders; *f; f++) {
    char *path = oc_path_join(dir, *f);
    int rc = oc_mkdir_p(path, err);
    free(path);
    if (rc != 0) return -1;
  }
  char *conf_path = oc_path_join(dir, OC_DATADIR_CONF);
  *created_conf = !oc_path_exists(conf_path);
  int rc = 0;
  if (*created_conf) {
    oc_buf text = {0};
    oc_buf_printf(&text,
                  "# oilcast data directory configuration: key = value, one per line.\n"
                  "# store: where series, observations and the registry live (relative paths are inside this directory).\n"
                  "store = %s\n",
                  store_uri ? store_uri : OC_DATADIR_DEFAULT_STORE);
    rc = oc_write_file_atomic(conf_path, text.data, text.len, err);
    oc_buf_free(&text);
  } else if (store_uri) {
    rc = check_conf_store(conf_path, store_uri, err);
  }
  oc_store *store = NULL;
  if (rc == 0) rc = oc_datadir_open(dir, &store, err);
  oc_store_close(store);
  /* A store that did not open leaves no config naming it, so init can be run again with another. */
  if (rc != 0 && *created_conf) remove(conf_path);
  free(conf_path);
  return rc;
}

int oc_datadir_init(const char *dir, bool *created_conf, oc_error *err) {
  return oc_datadir_init_store(dir, NULL, created_conf, err);
}

/* The top-level folders whose files are written beside the store: where a killed command may have
 * left a half-done publish or temporary files. */
static const char *const side_file_roots[] = {"raw", "processed", "models", "forecasts", NULL};

/* ---- writers ----------------------------------------------------------------------------------- */

/* A process that opens the data directory writable is listed in DIR/.writers as a file named by its
 * pid, from its open to its exit. A killed process stays listed: the next open sees a listed process
 * gone and walks the side folders for the temporary files it may have left. Else no walk: the walk of
 * a raw zone of years of daily fetches cost every command's start ~15 ms. After a boot (DIR/.writers/
 * boot names another) every writer is gone, and a listing not yet on disk at a crash is lost: the first
 * open after it walks too. */
static pthread_mutex_t listed_lock = PTHREAD_MUTEX_INITIALIZER;
static char **listed; /* listed_by's files in .writers folders, removed at its exit */
static size_t nlisted;
static pid_t listed_by;
static bool unlisted_at_exit; /* the exit handler is registered (a forked child inherits it) */

static void unlist_at_exit(void) {
  if (getpid() != listed_by) return; /* a forked child's exit is not its parent's */
  for (size_t i = 0; i < nlisted; i++) unlink(listed[i]);
}

/* This boot's id (the kernel's), or "" where it cannot be read (then every open walks, as before). */
static void boot_id(char out[64]) {
  out[0] = '\0';
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
  if (f && fgets(out, 64, f)) out[strcspn(out, "\n")] = '\0';
  if (f) fclose(f);
}

/* Whether a listed process is gone or the listing is of another boot (or unknown): then the walk. The
 * files of gone processes go to *gone (their pids' names, the caller frees them) for removal after it. */
static bool writers_left_files(const char *writers, const char *boot, char ***gone, size_t *ngone) {
  char *boot_path = oc_path_join(writers, "boot"), *said = NULL;
  size_t len;
  oc_error ignored;
  bool walk = !*boot || oc_read_file(boot_path, &said, &len, &ignored) != 0 || strcmp(said, boot) != 0;
  free(said);
  free(boot_path);
  DIR *d = opendir(writers);
  size_t cap = 0;
  for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || !oc_process_gone(pid)) continue;
    oc_xgrow((void **)gone, &cap, *ngone + 1, sizeof **gone);
    (*gone)[(*ngone)++] = oc_path_join(writers, e->d_name);
    walk = true;
  }
  if (d) closedir(d);
  return walk;
}

/* Lists this process in DIR/.writers (once per folder), to be removed at its exit. */
static void list_writer(const char *writers) {
  char name[32];
  snprintf(name, sizeof name, "%ld", (long)getpid());
  char *path = oc_path_join(writers, name);
  pthread_mutex_lock(&listed_lock);
  if (listed_by != getpid()) { /* a forked child: what its parent listed is not its own to remove */
    for (size_t i = 0; i < nlisted; i++) free(listed[i]);
    nlisted = 0;
    listed_by = getpid();
  }
  bool known = false;
  for (size_t i = 0; i < nlisted && !known; i++) known = strcmp(listed[i], path) == 0;
  int fd = known ? -1 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    if (!unlisted_at_exit) unlisted_at_exit = atexit(unlist_at_exit) == 0;
    listed = oc_xrealloc(listed, (nlisted + 1) * sizeof *listed);
    listed[nlisted++] = path;
    path = NULL;
  }
  pthread_mutex_unlock(&listed_lock);
  free(path);
}

/* Finishes what killed commands left half-done and removes their temporary files (when a writer was
 * killed: see above), before anyone reads the folders. A folder whose publish cannot be finished keeps
 * its staged files for the next try. */
static void tidy_side_files(const char *dir) {
  bool writable = access(dir, W_OK) == 0;
  char *writers = oc_path_join(dir, OC_DATADIR_WRITERS), boot[64];
  boot_id(boot);
  char **gone = NULL;
  size_t ngone = 0;
  bool walk = writable && writers_left_files(writers, boot, &gone, &ngone);
  bool walked = walk;
  for (const char *const *root = side_file_roots; *root; root++) {
    char *path = oc_path_join(dir, *root);
    oc_error err;
    int rc = oc_publish_recover(path, &err);
    if (rc < 0) oc_warn("%s", err.message);
    if (rc == 1) oc_warn("%s: an interrupted publish is pending, but the folder is read-only", path);
    walked = walked && rc == 0;
    size_t removed = walk && rc == 0 ? oc_remove_stale_temp_files(path) : 0;
    if (removed) oc_info("%s: removed %zu temporary file(s) left by killed commands", path, removed);
    free(path);
  }
  oc_error ignored;
  if (writable && oc_mkdir_p(writers, &ignored) == 0) {
    if (walked) { /* a walk cut short (a folder that could not be tidied) is made again next time */
      for (size_t i = 0; i < ngone; i++) unlink(gone[i]);
      char *boot_path = oc_path_join(writers, "boot");
      if (*boot) oc_write_file_atomic(boot_path, boot, strlen(boot), &ignored);
      free(boot_path);
    }
    list_writer(writers);
  }
  for (size_t i = 0; i < ngone; i++) free(gone[i]);
  free(gone);
  free(writers);
}

int oc_datadir_open(const char *dir, oc_store **store, oc_error *err) {
  if (!oc_is_dir(dir)) return not_a_datadir(dir, err);
  tidy_side_files(dir);
  char *uri;
  if (oc_datadir_store_uri(dir, &uri, err) != 0) return -1;
  *store = oc_store_open(uri, err);
  free(uri);
  return *store ? 0 : -1;
}
