/* datadir.h: the oilcast data directory (the reference guide's bucket layout on a filesystem) and its
 * config file. Every command that touches data opens it through oc_datadir_open(), so an
 * uninitialised directory is refused the same way everywhere. Knows paths and oilcast.conf; must not
 * know what the stages put in their folders. */
#ifndef OC_DATADIR_H
#define OC_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "store/store.h"

#define OC_DATADIR_CONF "oilcast.conf"
#define OC_DATADIR_DEFAULT_STORE "sqlite:oilcast.db"
/* The folder of the processes that have the data directory open (a file named by each one's pid, from
 * its open to its exit) and of the boot they were last tidied under: what a backup leaves out. */
#define OC_DATADIR_WRITERS ".writers"

/* Folders created by init, relative to the data directory. */
extern const char *const oc_datadir_folders[];

/* oilcast.conf: "key = value" lines, '#' comments, blank lines ignored; a "[name]" line makes the keys
 * below it "name.key" (until the next section line; "[]" returns to plain keys). */
typedef struct oc_conf {
  size_t n;
  char **keys;
  char **values;
  size_t *lines; /* the line each key is on, from 1 */
} oc_conf;

int oc_conf_read(const char *path, oc_conf *conf, oc_error *err);
/* 0 when every key of conf (read from path) is one of known (NULL-terminated); else -1 and err names
 * the file, the line, the key and the known keys. */
int oc_conf_check_keys(const oc_conf *conf, const char *path, const char *const *known, oc_error *err);
/* Value for key, or NULL. */
const char *oc_conf_get(const oc_conf *conf, const char *key);
void oc_conf_free(oc_conf *conf);

/* Creates the layout, oilcast.conf (only when absent: an existing config is never rewritten) and the
 * migrated store. Idempotent. *created_conf tells whether oilcast.conf was new. */
int oc_datadir_init(const char *dir, bool *created_conf, oc_error *err);
/* oc_datadir_init for the store store_uri (a URI of oc_store_open; NULL: OC_DATADIR_DEFAULT_STORE): a new
 * oilcast.conf names it, an existing one must already name it. When the store does not open, a config
 * written by this call is removed again. */
int oc_datadir_init_store(const char *dir, const char *store_uri, bool *created_conf, oc_error *err);
/* Checks dir is an initialised data directory and opens its store (migrating it if needed). Fails with
 * "DIR is not an oilcast data directory (no oilcast.conf); run: oilcast init --data-dir DIR". */
int oc_datadir_open(const char *dir, oc_store **store, oc_error *err);
/* The store URI that dir's config names, with a relative sqlite path resolved against dir (malloc'd). */
int oc_datadir_store_uri(const char *dir, char **uri, oc_error *err);

#endif
