/* apikey.c: key generation from the kernel's CSPRNG, the key format, and verification against the
 * in-memory table by digest in constant time. */
#include "serve/apikey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
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

int oc_apikey_generate(char *key, oc_apikey_record *rec, oc_error *err) {
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

int oc_apikey_create(struct oc_store *store, const char *name, oc_scope scope, const oc_rate *rate, char *key,
                     oc_error *err) {
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
  if (oc_apikey_generate(key, &rec, err) != 0) return -1;
  oc_api_key_row row = {.rate_per_second = rate ? rate->per_second : 0, .burst = rate ? rate->burst : 0,
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

void oc_apikey_table_init(oc_apikey_table *t, oc_apikey_loader loader, void *ctx, double reload_interval) {
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->lock, NULL);
  t->loader = loader;
  t->loader_ctx = ctx;
  t->reload_interval = reload_interval;
  t->loaded_at = -1e300;
}

void oc_apikey_table_free(oc_apikey_table *t) {
  free(t->records);
  pthread_mutex_destroy(&t->lock);
}

static int reload_locked(oc_apikey_table *t, oc_error *err) {
  oc_apikey_record *records = NULL;
  size_t count = 0;
  if (t->loader(t->loader_ctx, &records, &count, err) != 0) return -1;
  free(t->records);
  t->records = records;
  t->count = count;
  t->loaded_at = oc_monotonic_seconds();
  return 0;
}

int oc_apikey_table_reload(oc_apikey_table *t, oc_error *err) {
  pthread_mutex_lock(&t->lock);
  int rc = reload_locked(t, err);
  pthread_mutex_unlock(&t->lock);
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

oc_auth_result oc_apikey_verify(oc_apikey_table *t, const char *key, oc_caller *caller, oc_rate *rate) {
  if (!well_formed(key)) return OC_AUTH_MALFORMED;
  char presented[65];
  oc_sha256_hex(key, strlen(key), presented);
  pthread_mutex_lock(&t->lock);
  if (oc_monotonic_seconds() - t->loaded_at > t->reload_interval) {
    oc_error err;
    if (reload_locked(t, &err) != 0) oc_warn("reloading API keys: %s (keeping the previous table)", err.message);
  }
  const oc_apikey_record *found = NULL;
  for (size_t i = 0; i < t->count; i++) {
    if (memcmp(t->records[i].id, key + 4, OC_APIKEY_ID_LEN) == 0) {
      found = &t->records[i];
      break;
    }
  }
  /* Compare digests whether or not the id exists, so timing does not reveal which ids are real. */
  static const char nothing[65] = "0000000000000000000000000000000000000000000000000000000000000000";
  bool match = oc_consttime_equal(presented, found ? found->hash_hex : nothing, 64) && found;
  oc_auth_result result = OC_AUTH_UNKNOWN;
  if (match && found->revoked) {
    result = OC_AUTH_REVOKED;
  } else if (match) {
    result = OC_AUTH_OK;
    snprintf(caller->key_id, sizeof caller->key_id, "%s", found->id);
    snprintf(caller->name, sizeof caller->name, "%s", found->name);
    caller->scope = found->scope;
    *rate = found->rate;
  }
  pthread_mutex_unlock(&t->lock);
  return result;
}
