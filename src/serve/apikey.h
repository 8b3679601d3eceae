/* apikey.h: API keys (the reference guide's API Gateway keys). A key is "ock_<id>_<secret>": the id
 * (12 hex digits) is not secret and locates the record; only the SHA-256 of the whole key is stored, and
 * a presented key is checked by comparing digests in constant time. The key table is an in-memory
 * snapshot of the stored records, reloaded through a callback so revocations made by another process
 * take effect within the reload interval. Never logs or stores a key in clear. */
#ifndef OC_SERVE_APIKEY_H
#define OC_SERVE_APIKEY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "serve/http.h"
#include "serve/ratelimit.h"

#define OC_APIKEY_ID_LEN 12
#define OC_APIKEY_LEN (4 + OC_APIKEY_ID_LEN + 1 + 64) /* "ock_" id "_" 64 hex */

typedef struct oc_apikey_record {
  char id[OC_APIKEY_ID_LEN + 1];
  char name[128];
  oc_scope scope;
  char hash_hex[65]; /* sha256 of the whole key */
  oc_rate rate;      /* per_second 0 = unlimited */
  bool revoked;
  char created_at[32];
} oc_apikey_record;

const char *oc_scope_name(oc_scope scope);
int oc_scope_parse(const char *text, oc_scope *out, oc_error *err);

/* Makes a fresh random key (key: OC_APIKEY_LEN + 1 bytes) and its record fields (id, hash). */
int oc_apikey_generate(char *key, oc_apikey_record *rec, oc_error *err);

struct oc_store;

/* Creates, stores (hash only) and returns a new key in key (OC_APIKEY_LEN + 1 bytes). rate may be NULL
 * (unlimited). */
int oc_apikey_create(struct oc_store *store, const char *name, oc_scope scope, const oc_rate *rate, char *key,
                     oc_error *err);
/* The first admin key of a fresh data directory (`oilcast init`): creates a key named "admin" when the
 * store has no keys at all and sets *created; otherwise does nothing. */
int oc_apikey_bootstrap(struct oc_store *store, char *key, bool *created, oc_error *err);

/* The same for the store of an initialised data directory. */
int oc_apikey_bootstrap_datadir(const char *data_dir, char *key, bool *created, oc_error *err);

/* Loads every stored key record; *records is malloc'd. */
typedef int (*oc_apikey_loader)(void *ctx, oc_apikey_record **records, size_t *count, oc_error *err);

typedef struct oc_apikey_table {
  pthread_mutex_t lock;
  oc_apikey_record *records;
  size_t count;
  double loaded_at; /* monotonic seconds */
  double reload_interval;
  oc_apikey_loader loader;
  void *loader_ctx;
} oc_apikey_table;

void oc_apikey_table_init(oc_apikey_table *t, oc_apikey_loader loader, void *ctx, double reload_interval);
void oc_apikey_table_free(oc_apikey_table *t);
int oc_apikey_table_reload(oc_apikey_table *t, oc_error *err);

typedef enum { OC_AUTH_OK, OC_AUTH_MALFORMED, OC_AUTH_UNKNOWN, OC_AUTH_REVOKED } oc_auth_result;

/* Checks a presented key (reloading the table when stale). On OC_AUTH_OK fills caller and rate. */
oc_auth_result oc_apikey_verify(oc_apikey_table *t, const char *key, oc_caller *caller, oc_rate *rate);

#endif
