/* apikey.h: API keys (the reference guide's API Gateway keys), below the HTTP server in the layering
 * (store < keys < serve): the key format, scopes, creating keys in the store, and the in-memory key
 * table a server verifies presented keys against. A key is "ock_<id>_<secret>": the id (12 hex digits)
 * is not secret and locates the record; only the SHA-256 of the whole key is stored, and a presented
 * key is checked by comparing digests in constant time. The table is a snapshot of the stored records:
 * its owner reloads it when the store's change feed reports a key change, and a verification that meets
 * an unknown id looks in the store before refusing (so a key created a moment ago works on its first
 * request), at most OC_APIKEY_LOOKUPS_PER_SECOND times a second and once per unknown id until the next
 * reload (so floods of made-up keys cannot hammer the store). Knows nothing of HTTP; never logs or
 * stores a key in clear. */
#ifndef OC_KEYS_APIKEY_H
#define OC_KEYS_APIKEY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/lock.h"

#define OC_APIKEY_ID_LEN 12
#define OC_APIKEY_LEN (4 + OC_APIKEY_ID_LEN + 1 + 64) /* "ock_" id "_" 64 hex */

/* Scopes nest: admin > write > read. */
typedef enum { OC_SCOPE_NONE = 0, OC_SCOPE_READ = 1, OC_SCOPE_WRITE = 2, OC_SCOPE_ADMIN = 3 } oc_scope;

/* A key's request budget: per_second 0 = unlimited; burst = bucket capacity. */
typedef struct oc_apikey_limit {
  double per_second, burst;
} oc_apikey_limit;

typedef struct oc_apikey_record {
  char id[OC_APIKEY_ID_LEN + 1];
  char name[128];
  oc_scope scope;
  char hash_hex[65]; /* sha256 of the whole key */
  oc_apikey_limit limit;
  bool revoked;
} oc_apikey_record;

const char *oc_scope_name(oc_scope scope);
int oc_scope_parse(const char *text, oc_scope *out, oc_error *err);

struct oc_store;

/* Creates, stores (hash only) and returns a new key in key (OC_APIKEY_LEN + 1 bytes). limit may be NULL
 * (unlimited). */
int oc_apikey_create(struct oc_store *store, const char *name, oc_scope scope, const oc_apikey_limit *limit,
                     char *key, oc_error *err);
/* The first admin key of a fresh data directory (`oilcast init`): creates a key named "admin" when the
 * store has no keys at all and sets *created; otherwise does nothing. */
int oc_apikey_bootstrap(struct oc_store *store, char *key, bool *created, oc_error *err);

/* The same for the store of an initialised data directory. */
int oc_apikey_bootstrap_datadir(const char *data_dir, char *key, bool *created, oc_error *err);

/* Where the table reads the stored keys: a store connection lent for one read (a server's pool).
 * acquire returns NULL (with *err set) when no connection can be had. */
typedef struct oc_apikey_source {
  struct oc_store *(*acquire)(void *ctx, oc_error *err);
  void (*release)(void *ctx, struct oc_store *store);
  void *ctx;
} oc_apikey_source;

#define OC_APIKEY_LOOKUPS_PER_SECOND 20
#define OC_APIKEY_MISSES_REMEMBERED 64

typedef struct oc_apikey_table {
  oc_lock lock;
  oc_apikey_record *records; /* guarded by lock */
  size_t count;              /* guarded by lock */
  double loaded_at;          /* monotonic seconds; guarded by lock */
  double max_age;            /* a verification re-reads a table older than this (0: every time) */
  oc_apikey_source source;
  /* Unknown ids already looked up since the last reload (a ring), and the lookups of the current
   * one-second window: guarded by lock. */
  char misses[OC_APIKEY_MISSES_REMEMBERED][OC_APIKEY_ID_LEN + 1];
  size_t miss_next;
  double window_start;
  unsigned window_lookups;
} oc_apikey_table;

/* max_age: the longest a table serves without a re-read, a safety net for writers that record no
 * change (the owner reloads on every key change it learns of). */
void oc_apikey_table_init(oc_apikey_table *t, const oc_apikey_source *source, double max_age);
void oc_apikey_table_free(oc_apikey_table *t);
int oc_apikey_table_reload(oc_apikey_table *t, oc_error *err);

typedef enum { OC_AUTH_OK, OC_AUTH_MALFORMED, OC_AUTH_UNKNOWN, OC_AUTH_REVOKED } oc_auth_result;

/* Checks a presented key. On OC_AUTH_OK copies the key's record (without its hash) to *who. */
oc_auth_result oc_apikey_verify(oc_apikey_table *t, const char *key, oc_apikey_record *who);

#endif
