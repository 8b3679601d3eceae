/* publish.h: several files beside the store replaced as one, and the leftovers of killed writers
 * cleared away. oc_write_file_atomic makes one file crash-safe; a step that writes two files which must
 * agree (ETL's table and its lake partition) stages both, then publishes them through a journal, so a
 * kill at any instant leaves either every old file or every new one once the next command has run
 * oc_publish_recover. Files are staged as "<final>.tmp.<pid>", the same name oc_create_temp_sibling
 * uses, so one rule finds what a dead process left. Must not know what the files hold. */
#ifndef OC_PUBLISH_H
#define OC_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Name of the journal inside the directory whose files are published. */
#define OC_PUBLISH_JOURNAL ".publish-journal"

/* "<final>.tmp.<this process id>" (malloc'd): where a file to be published is written first. */
char *oc_publish_staging_path(const char *final);

/* Moves each staged file (complete and fsynced) onto its final path, for finals[i] relative to dir
 * (staged as oc_publish_staging_path(dir/finals[i])). Writes dir/OC_PUBLISH_JOURNAL first, so a crash
 * between the renames is finished by oc_publish_recover; removes it when every rename is done. On an
 * error before the journal exists, the staged files are removed and nothing changes. */
int oc_publish(const char *dir, const char *const *finals, size_t n, oc_error *err);

/* Finishes a publish whose process died after writing its journal (a live one is left to finish).
 * Returns 0 when there was nothing to do or the publish was completed, 1 when the directory cannot be
 * written (a read-only copy: readers see the old files), -1 on a damaged journal. */
int oc_publish_recover(const char *dir, oc_error *err);

/* Whether no process with this id exists (on this host): what left a file or a record behind is dead,
 * so what it left may be cleared or taken over. */
bool oc_process_gone(long pid);

/* The pid of a "<name>.tmp.<pid>" file name (a writer's temporary), or 0 when name is not one. */
long oc_temp_file_owner(const char *name);

/* Removes every "*.tmp.<pid>" file under dir (recursively) whose process no longer exists; returns
 * how many. Errors (a read-only directory, a file already gone) are skipped: this is housekeeping. */
size_t oc_remove_stale_temp_files(const char *dir);

#endif
