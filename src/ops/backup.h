/* backup.h: backups of a data directory as ONE archive file, and their verification and restore.
 *
 * An archive is a POSIX ustar file (`tar tf` lists it; written and read here, no library): every
 * regular file of the data directory (lake and processed tables, the raw zone, model artifacts,
 * endpoint files, forecasts, oilcast.conf, jobs.conf, ...), the store as a snapshot (store.h's
 * snapshot_to: consistent as of one moment while imports, the server and the scheduler keep writing),
 * and last a member MANIFEST.json: {"format": "oilcast-backup", "version": 1, "created_at", "store":
 * the store's member, "members": [{"name", "bytes", "sha256"}]} naming every other member.
 * Left out: the live store's files (its snapshot stands for them), temporary files of writers at work
 * (*.tmp.<pid>), a publish journal in flight, and the backup folder itself.
 * The store is taken first and the files after it, so every file the snapshot refers to (raw answers,
 * model artifacts: never changed once referenced) is in the archive; a file replaced since (ETL's
 * table) is the newer one.
 *
 * Writes are transactional: an archive is written to <file>.tmp.<pid>, fsynced and renamed; a restore
 * extracts into a sibling staging folder, checks every member against the manifest and the store's
 * integrity there, then renames it into place. Knows the data directory's layout and the store
 * interface; never prints, knows no CLI. */
#ifndef OC_OPS_BACKUP_H
#define OC_OPS_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

#define OC_BACKUP_MANIFEST "MANIFEST.json"
/* Files `create` names in a folder: <prefix>YYYYMMDDTHHMMSSZ<suffix> (the newest sorts last). */
#define OC_BACKUP_PREFIX "oilcast-backup-"
#define OC_BACKUP_SUFFIX ".tar"

typedef struct oc_backup_options {
  const char *out; /* the archive file; or */
  const char *dir; /* a folder (relative: to the data directory) for a file named by the time */
  int keep;        /* with dir: then keep only the newest `keep` archives there (0: keep all) */
  int64_t now;     /* Unix seconds of the name and the manifest's created_at */
} oc_backup_options;

typedef struct oc_backup_result {
  char *path;     /* the archive written (malloc'd) */
  size_t members; /* files in it, the manifest left out */
  uint64_t bytes; /* their bytes */
  size_t removed; /* older archives removed by `keep` */
} oc_backup_result;

/* Writes the archive of data_dir (whose store is store). 0, or -1 with err and nothing written. */
int oc_backup_create(const char *data_dir, oc_store *store, const oc_backup_options *opt, oc_backup_result *out,
                     oc_error *err);
void oc_backup_result_free(oc_backup_result *r);

typedef struct oc_backup_info {
  size_t members;
  uint64_t bytes;
  char created_at[32];
  char store[256]; /* the store's member */
} oc_backup_info;

/* Reads the whole archive: every header, every member's SHA-256 and size against the manifest, no
 * member missing or unlisted. -1 with err naming the archive and the failing member. */
int oc_backup_verify(const char *file, oc_backup_info *info, oc_error *err);

/* Verifies and extracts the archive into the folder into, which must not exist or be empty unless
 * force (then it is replaced as a whole). The restored store passes its integrity check before the
 * folder is put in place. -1 with err, and into untouched, otherwise. */
int oc_backup_restore(const char *file, const char *into, bool force, oc_backup_info *info, oc_error *err);

#endif
