/* apikey.c: key generation from the kernel's CSPRNG, the key format, the key table read from the store,
 * and verification against it by digest in constant time. */
#include "keys/apikey.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "store/datadir.h"
#include "store/store.h"

const char *oc_scope_name(oc_scope scope) {
  switch (scope) {
  case OC_SCOPE_READ: return "read";
  case OC_SCOPE_WRITE: return "write";
  case OC_SCOPE_ADMIN: return "admin";
  default: return "none";
  }
}

int oc_scope_parse(const char *text, oc_scope *out, oc_error *err) {
  if (strcmp(text, "read") == 0) *out = OC_SCOPE_READ;
  else if (strcmp(text, "write") == 0) *out = OC_SCOPE_WRITE;
  else if (strcmp(text, "admin") == 0) *out = OC_SCOPE_ADMIN;
  else return oc_error_set(err, "scope '%s': expected read, write or admin", text);
  return 0;
}

static int generate_key(char *key, oc_apikey_record *rec, oc_error *err) {
  uint8_t random[6 + 32];
  size_t got = 0;
  while (got < sizeof random) {
    ssize_t n = getrandom(random + got, sizeof random - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return oc_error_errno(err, "reading random bytes for an API key");
    }
    got += (size_t)n;
  }
  char id_hex[OC_APIKEY_ID_LEN + 1], secret_hex[65];
  oc_hex_encode(random, 6, id_hex);
  oc_hex_encode(random + 6, 32, secret_hex);
  snprintf(key, OC_APIKEY_LEN + 1, "ock_%s_%s", id_hex, secret_hex);
  memcpy(rec->id, id_hex, sizeof rec->id);
  oc_sha256_hex(key, strlen(key), rec->hash_hex);
  return 0;
}

int oc_apikey_create(struct oc_store *store, const char *name, oc_scope scope, const oc_apikey_limit *limit,
                     char *key, oc_error *err) {
  size_t len = strlen(name);
  if (len == 0 || len >= sizeof ((oc_api_key_row *)0)->name) {
    return oc_error_set(err, "API key name must be 1..127 bytes");
  }
  for (const char *p = name; *p; p++) {
    if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\') {
      return oc_error_set(err, "API key name '%s': control characters, quotes and backslashes are not allowed", name);
    }
  }
  oc_apikey_record rec;
  if (generate_key(key, &rec, err) != 0) return -1;
  oc_api_key_row row = {.rate_per_second = limit ? limit->per_second : 0, .burst = limit ? limit->burst : 0,
                        .created_at = (int64_t)time(NULL)};
  snprintf(row.id, sizeof row.id, "%s", rec.id);
  snprintf(row.name, sizeof row.name, "%s", name);
  snprintf(row.scope, sizeof row.scope, "%s", oc_scope_name(scope));
  snprintf(row.hash, sizeof row.hash, "%s", rec.hash_hex);
  if (oc_store_api_key_insert(store, &row, err) != 0) {
    memset(key, 0, OC_APIKEY_LEN + 1);
    return -1;
  }
  return 0;
}

int oc_apikey_bootstrap(struct oc_store *store, char *key, bool *created, oc_error *err) {
  *created = false;
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  if (oc_store_api_key_list(store, &rows, &n, err) != 0) return -1;
  free(rows);
  if (n > 0) return 0;
  if (oc_apikey_create(store, "admin", OC_SCOPE_ADMIN, NULL, key, err) != 0) return -1;
  *created = true;
  return 0;
}

int oc_apikey_bootstrap_datadir(const char *data_dir, char *key, bool *created, oc_error *err) {
  oc_store *store = NULL;
  if (oc_datadir_open(data_dir, &store, err) != 0) return -1;
  int rc = oc_apikey_bootstrap(store, key, created, err);
  oc_store_close(store);
  return rc;
}

void oc_apikey_table_init(oc_apikey_table *t, const oc_apikey_source *source, double max_age) {
  memset(t, 0, sizeof *t);
  oc_lock_init(&t->lock);
  t->source = *source;
  t->max_age = max_age;
  t->loaded_at = -1e300;
  t->window_start = -1e300;
}

void oc_apikey_table_free(oc_apikey_table *t) {
  free(t->records);
  oc_lock_destroy(&t->lock);
}

/* Every stored key as a record (*records malloc'd). */
static int read_records(struct oc_store *store, oc_apikey_record **records, size_t *count, oc_error *err) {
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  if (oc_store_api_key_list(store, &rows, &n, err) != 0) return -1;
  *records = oc_xcalloc(n ? n : 1, sizeof **records);
  for (size_t i = 0; i < n; i++) {
    oc_apikey_record *r = &(*records)[i];
    snprintf(r->id, sizeof r->id, "%s", rows[i].id);
    snprintf(r->name, sizeof r->name, "%s", rows[i].name);
    snprintf(r->hash_hex, sizeof r->hash_hex, "%s", rows[i].hash);
    if (oc_scope_parse(rows[i].scope, &r->scope, NULL) != 0) r->scope = OC_SCOPE_NONE;
    r->limit = (oc_apikey_limit){rows[i].rate_per_second, rows[i].burst};
    r->revoked = rows[i].revoked_at != 0;
  }
  *count = n;
  free(rows);
  return 0;
}

/* Caller holds t->lock. */
static int reload_locked(oc_apikey_table *t, oc_error *err) {
  assert(oc_lock_held(&t->lock));
  struct oc_store *store = t->source.acquire(t->source.ctx, err);
  if (!store) return -1;
  oc_apikey_record *records = NULL;
  size_t count = 0;
  int rc = read_records(store, &records, &count, err);
  t->source.release(t->source.ctx, store);
  if (rc != 0) return -1;
  free(t->records);
  t->records = records;
  t->count = count;
  t->loaded_at = oc_monotonic_seconds();
  memset(t->misses, 0, sizeof t->misses); /* a fresh table answers for every id again */
  return 0;
}

int oc_apikey_table_reload(oc_apikey_table *t, oc_error *err) {
  oc_lock_acquire(&t->lock);
  int rc = reload_locked(t, err);
  oc_lock_release(&t->lock);
  return rc;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static bool well_formed(const char *key) {
  if (strlen(key) != OC_APIKEY_LEN || strncmp(key, "ock_", 4) != 0 || key[4 + OC_APIKEY_ID_LEN] != '_') return false;
  for (size_t i = 4; i < OC_APIKEY_LEN; i++) {
    if (i == 4 + OC_APIKEY_ID_LEN) continue;
    if (hex_digit(key[i]) < 0) return false;
  }
  return true;
}

/* The record with the key's id, or NULL. Caller holds t->lock. */
static const oc_apikey_record *find_locked(const oc_apikey_table *t, const char *key) {
  assert(oc_lock_held(&t->lock));
  for (size_t i = 0; i < t->count; i++) {
    if (memcmp(t->records[i].id, key + 4, OC_APIKEY_ID_LEN) == 0) return &t->records[i];
  }
  return NULL;
}

/* Whether an id missing from the table may be looked up in the store now: not already looked up since
 * the last reload, and within this second's budget. Counts the lookup. Caller holds t->lock. */
static bool may_look_up_locked(oc_apikey_table *t, const char *id, double now) {
  assert(oc_lock_held(&t->lock));
  for (size_t i = 0; i < OC_APIKEY_MISSES_REMEMBERED; i++) {
    if (memcmp(t->misses[i], id, OC_APIKEY_ID_LEN) == 0) return false;
  }
  if (now - t->window_start >= 1.0) {
    t->window_start = now;
    t->window_lookups = 0;
  }
  if (t->window_lookups >= OC_APIKEY_LOOKUPS_PER_SECOND) return false;
  t->window_lookups++;
  return true;
}

static void remember_miss_locked(oc_apikey_table *t, const char *id) {
  assert(t->miss_next < OC_APIKEY_MISSES_REMEMBERED);
  memcpy(t->misses[t->miss_next], id, OC_APIKEY_ID_LEN);
  t->misses[t->miss_next][OC_APIKEY_ID_LEN] = '\0';
  t->miss_next = (t->miss_next + 1) % OC_APIKEY_MISSES_REMEMBERED;
}

oc_auth_result oc_apikey_verify(oc_apikey_table *t, const char *key, oc_apikey_record *who) {
  if (!well_formed(key)) return OC_AUTH_MALFORMED;
  char presented[65];
  oc_sha256_hex(key, strlen(key), presented);
  const char *id = key + 4;
  oc_lock_acquire(&t->lock);
  double now = oc_monotonic_seconds();
  oc_error err;
  if (now - t->loaded_at > t->max_age && reload_locked(t, &err) != 0)
    oc_warn("reloading API keys: %s (keeping the previous table)", err.message);
  const oc_apikey_record *found = find_locked(t, key);
  if (!found && may_look_up_locked(t, id, now)) {
    /* Perhaps created since the last reload (its change not handled yet): look before refusing. */
    if (reload_locked(t, &err) != 0) oc_warn("looking up an API key: %s", err.message);
    found = find_locked(t, key);
    if (!found) remember_miss_locked(t, id);
  }
  /* Compare digests whether or not the id exists, so timing does not reveal which ids are real. */
  static const char nothing[65] = "0000000000000000000000000000000000000000000000000000000000000000";
  bool match = oc_consttime_equal(presented, found ? found->hash_hex : nothing, 64) && found;
  oc_auth_result result = OC_AUTH_UNKNOWN;
  if (match && found->revoked) {
    result = OC_AUTH_REVOKED;
  } else if (match) {
    result = OC_AUTH_OK;
    *who = *found;
    memset(who->hash_hex, 0, sizeof who->hash_hex);
  }
  oc_lock_release(&t->lock);
  return result;
}
