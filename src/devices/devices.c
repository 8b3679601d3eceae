/* devices.c: device registration and broker password hashes (devices.h). Never keeps or logs a
 * password: the secret goes back to the caller once and only its hash is stored. */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/date.h"
#include "core/fsutil.h"
#include "core/sha256.h"
#include "core/sha512.h"

static int random_bytes(uint8_t *out, size_t n, oc_error *err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return oc_error_errno(err, "reading random bytes for a device password");
    }
    got += (size_t)r;
  }
  return 0;
}

void oc_device_password_hash(const char *password, const uint8_t salt[OC_DEVICE_SALT_LEN], char *hash, size_t cap) {
  uint8_t derived[OC_SHA512_LEN];
  oc_pbkdf2_sha512(password, strlen(password), salt, OC_DEVICE_SALT_LEN, OC_DEVICE_HASH_ITERATIONS, derived,
                   sizeof derived);
  char salt64[OC_BASE64_LEN(OC_DEVICE_SALT_LEN)], derived64[OC_BASE64_LEN(OC_SHA512_LEN)];
  oc_base64_encode(salt, OC_DEVICE_SALT_LEN, salt64);
  oc_base64_encode(derived, sizeof derived, derived64);
  int len = snprintf(hash, cap, "$7$%d$%s$%s", OC_DEVICE_HASH_ITERATIONS, salt64, derived64);
  assert(len > 0 && (size_t)len < cap);
  (void)len;
}

int oc_device_password_hash_new(const char *password, char *hash, size_t cap, oc_error *err) {
  uint8_t salt[OC_DEVICE_SALT_LEN];
  if (random_bytes(salt, sizeof salt, err) != 0) return -1;
  oc_device_password_hash(password, salt, hash, cap);
  return 0;
}

bool oc_device_password_verify(const char *password, const char *hash) {
  char prefix[16];
  snprintf(prefix, sizeof prefix, "$7$%d$", OC_DEVICE_HASH_ITERATIONS);
  if (strncmp(hash, prefix, strlen(prefix)) != 0) return false;
  const char *salt64 = hash + strlen(prefix), *dollar = strchr(salt64, '$');
  uint8_t salt[OC_DEVICE_SALT_LEN];
  if (!dollar || oc_base64_decode_exact(salt64, (size_t)(dollar - salt64), salt, sizeof salt) != 0) return false;
  char expected[sizeof ((oc_device *)0)->password_hash];
  oc_device_password_hash(password, salt, expected, sizeof expected);
  size_t len = strlen(expected);
  return strlen(hash) == len && oc_consttime_equal(expected, hash, len);
}

int oc_device_secret_new(char *secret, oc_error *err) {
  uint8_t random[OC_DEVICE_SECRET_LEN / 2];
  if (random_bytes(random, sizeof random, err) != 0) return -1;
  oc_hex_encode(random, sizeof random, secret);
  return 0;
}

void oc_device_apply_defaults(oc_device *d) {
  const oc_device_type *type = oc_device_type_find(d->type);
  if (!type) return;
  if (!*d->unit) snprintf(d->unit, sizeof d->unit, "%s", type->unit);
  if (d->valid_min == 0 && d->valid_max == 0) d->valid_min = type->valid_min, d->valid_max = type->valid_max;
  if (d->interval_seconds == 0) d->interval_seconds = type->interval_seconds;
}

/* Defaults from the type, creation time, a new secret and its hash. */
static int prepare(oc_device *d, int64_t now, char *secret, oc_error *err) {
  if (strcmp(d->id, OC_BROKER_SUBSCRIBER_USER) == 0)
    return oc_error_set(err, "device id '%s' is reserved for the oilcast subscriber", d->id);
  oc_device_apply_defaults(d);
  d->created_at = now;
  d->revoked_at = 0;
  if (oc_device_secret_new(secret, err) != 0) return -1;
  return oc_device_password_hash_new(secret, d->password_hash, sizeof d->password_hash, err);
}

/* Stores a prepared device that must be new (inside the caller's transaction). */
static int insert_new(oc_store *store, const oc_device *d, oc_error *err) {
  oc_device existing;
  bool found = false;
  if (oc_store_device_get(store, d->id, &existing, &found, err) != 0) return -1;
  if (found) {
    oc_error_set(err, "device '%s' %s (ids are never reused)", d->id,
                 existing.revoked_at ? "was revoked" : "is registered already");
    err->kind = OC_ERROR_CONFLICT;
    return -1;
  }
  return oc_store_device_put(store, d, err);
}

int oc_device_register_all(oc_store *store, oc_device *devices, size_t n, int64_t now, char *secrets,
                           oc_device_secrets_fn before_commit, void *ctx, oc_error *err) {
  const size_t stride = OC_DEVICE_SECRET_LEN + 1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) rc = prepare(&devices[i], now, secrets + i * stride, err);
  /* One transaction: the "is it new" looks and the inserts, so two registrations of an id cannot both win. */
  if (rc == 0) rc = oc_store_begin(store, err);
  if (rc != 0) {
    memset(secrets, 0, n * stride);
    return -1;
  }
  for (size_t i = 0; i < n && rc == 0; i++) rc = insert_new(store, &devices[i], err);
  if (rc == 0 && before_commit) rc = before_commit(ctx, devices, n, secrets, err);
  if (rc == 0 && oc_store_commit(store, err) == 0) return 0;
  oc_error keep = *err;
  oc_store_rollback(store, err);
  *err = keep;
  memset(secrets, 0, n * stride);
  return -1;
}

int oc_device_register(oc_store *store, oc_device *d, int64_t now, char *secret, oc_error *err) {
  return oc_device_register_all(store, d, 1, now, secret, NULL, NULL, err);
}

int oc_secret_file_write(const char *path, const char *text, size_t len, oc_error *err) {
  char *tmp = NULL;
  int fd = oc_create_temp_sibling(path, &tmp, err);
  if (fd < 0) return -1;
  int rc = 0;
  if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
    rc = oc_error_errno(err, "writing %s", tmp);
  if (close(fd) != 0 && rc == 0) rc = oc_error_errno(err, "closing %s", tmp);
  if (rc == 0 && rename(tmp, path) != 0) rc = oc_error_errno(err, "renaming %s to %s", tmp, path);
  if (rc == 0) oc_fsync_parent_dir(path);
  else unlink(tmp);
  free(tmp);
  return rc;
}

json_t *oc_device_to_json(const oc_device *d) {
  char created[32], revoked[32];
  oc_timestamp_format(d->created_at, created);
  if (d->revoked_at) oc_timestamp_format(d->revoked_at, revoked);
  return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:s, s:o}", "id", d->id, "site", d->site, "type", d->type,
                   "unit", d->unit, "valid_min", d->valid_min, "valid_max", d->valid_max, "interval_seconds",
                   (json_int_t)d->interval_seconds, "created_at", created, "revoked_at",
                   d->revoked_at ? json_string(revoked) : json_null());
}
