/* devices.h: field sensors as the broker knows them (issue 15), on top of the store's device registry
 * (store.h: oc_device): registering a device with a fresh broker password (shown once, stored only
 * as its mosquitto_passwd "$7$" hash), revoking one, and the hash itself. Layering: core < store <
 * devices (beside keys); knows nothing of HTTP, the CLI or the broker's files (broker.h). */
#ifndef OC_DEVICES_DEVICES_H
#define OC_DEVICES_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* A device's broker password: 32 lowercase hex digits (128 random bits). */
#define OC_DEVICE_SECRET_LEN 32
/* mosquitto 2.0's password hash: "$7$" ITERATIONS "$" base64(12-byte salt) "$" base64(PBKDF2-HMAC-SHA-512,
 * 64 bytes); what `mosquitto_passwd` writes by default. */
#define OC_DEVICE_HASH_ITERATIONS 101
#define OC_DEVICE_SALT_LEN 12
/* The broker user the oilcast subscriber connects as: no device may take it. */
#define OC_BROKER_SUBSCRIBER_USER "oilcast-subscriber"

/* hash (sizeof oc_device.password_hash bytes) = the "$7$" hash of password with salt. */
void oc_device_password_hash(const char *password, const uint8_t salt[OC_DEVICE_SALT_LEN], char *hash, size_t cap);
/* Same with a fresh random salt; -1 when the system has no random bytes. */
int oc_device_password_hash_new(const char *password, char *hash, size_t cap, oc_error *err);
/* Whether password matches a "$7$" hash (constant-time comparison); false for any other format. */
bool oc_device_password_verify(const char *password, const char *hash);
/* secret (OC_DEVICE_SECRET_LEN + 1 bytes) = a new random password. */
int oc_device_secret_new(char *secret, oc_error *err);

/* Fills what d leaves unset ("" unit, both range ends 0, interval 0) with its type's defaults; a type
 * that is not known is left for oc_device_check to refuse. */
void oc_device_apply_defaults(oc_device *d);

/* Registers a new device: d holds id, type and site; unit, valid range and interval default to the
 * type's (oc_device_types) where they are "" / both 0 / 0. Sets d->password_hash and d->created_at =
 * now and writes secret (OC_DEVICE_SECRET_LEN + 1 bytes), the only copy of the password. An id that
 * is taken (active or revoked; err->kind OC_ERROR_CONFLICT) or reserved is an error naming it; nothing
 * is stored on any error. */
int oc_device_register(oc_store *store, oc_device *d, int64_t now, char *secret, oc_error *err);
/* The same for n devices in one transaction (all or none): secrets holds n * (OC_DEVICE_SECRET_LEN + 1)
 * bytes, device i's at i * (OC_DEVICE_SECRET_LEN + 1). before_commit (may be NULL) runs inside the
 * transaction once every device is stored, with the secrets (to hand them over, e.g. write them to a
 * file); its failure (-1 with *err set) rolls the registration back. */
typedef int (*oc_device_secrets_fn)(void *ctx, const oc_device *devices, size_t n, const char *secrets, oc_error *err);
int oc_device_register_all(oc_store *store, oc_device *devices, size_t n, int64_t now, char *secrets,
                           oc_device_secrets_fn before_commit, void *ctx, oc_error *err);

/* Writes text to path atomically as a file only its owner may read (mode 0600 from its creation):
 * for passwords in clear (the subscriber's, simulated devices' credentials). */
int oc_secret_file_write(const char *path, const char *text, size_t len, oc_error *err);

/* The device as a JSON object (id, site, type, unit, valid_min, valid_max, interval_seconds, created_at
 * and revoked_at as ISO timestamps or null; never the password hash), what the CLI and the API show. */
struct json_t;
struct json_t *oc_device_to_json(const oc_device *d);

#endif
