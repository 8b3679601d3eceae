/* registry.c: see registry.h. */
#include "model/registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/sha256.h"

#define ARTIFACTS_DIR "models/artifacts"
#define ENDPOINTS_DIR "models/endpoints"

int oc_model_version_parse(const char *text, int64_t *version) {
  if (text[0] == 'v' || text[0] == 'V') text++;
  if (!*text) return -1;
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || v < 1 || text[0] == '+' || text[0] == '-') return -1;
  *version = v;
  return 0;
}

static int file_sha256(const char *path, char hex[65], oc_error *err) {
  char *data;
  size_t len;
  if (oc_read_file(path, &data, &len, err) != 0) return -1;
  oc_sha256_hex(data, len, hex);
  free(data);
  return 0;
}

/* Removes a version folder written by this process (its two files, then the folder). */
static void remove_version_dir(const char *dir) {
  const char *files[] = {OC_MODEL_TENSORS_FILE, OC_MODEL_CARD_FILE};
  for (int i = 0; i < 2; i++) {
    char *p = oc_path_join(dir, files[i]);
    unlink(p);
    free(p);
  }
  rmdir(dir);
}

int oc_registry_publish(const char *data_dir, oc_store *store, const oc_mlp *m, oc_model_card *card,
                        int64_t *version, oc_error *err) {
  oc_model_version *rows;
  size_t nrows;
  if (oc_store_model_version_list(store, &rows, &nrows, err) != 0) return -1;
  int64_t next = nrows ? rows[nrows - 1].version + 1 : 1;
  oc_model_version_list_free(rows, nrows);
  char *artifacts = oc_path_join(data_dir, ARTIFACTS_DIR);
  int rc = oc_mkdir_p(artifacts, err);
  char rel[64], tmpname[96];
  char *final_dir = NULL;
  for (int attempt = 0; rc == 0; attempt++, next++) {
    if (attempt == 1000) {
      rc = oc_error_set(err, "%s: no free version number after 1000 attempts", artifacts);
      break;
    }
    snprintf(rel, sizeof rel, "v%lld", (long long)next);
    snprintf(tmpname, sizeof tmpname, ".tmp-v%lld-%ld", (long long)next, (long)getpid());
    char *tmp = oc_path_join(artifacts, tmpname);
    final_dir = oc_path_join(artifacts, rel);
    free(card->version);
    card->version = oc_xstrdup(rel);
    rc = oc_model_save(tmp, m, card, err);
    if (rc == 0 && rename(tmp, final_dir) == 0) {
      free(tmp);
      break;
    }
    int rename_errno = errno;
    remove_version_dir(tmp);
    free(tmp);
    if (rc != 0) break;
    free(final_dir);
    final_dir = NULL;
    if (rename_errno != EEXIST && rename_errno != ENOTEMPTY) {
      errno = rename_errno;
      rc = oc_error_errno(err, "cannot move the new model into %s/%s", artifacts, rel);
    }
  }
  if (rc == 0) {
    char *card_path = oc_path_join(final_dir, OC_MODEL_CARD_FILE);
    char card_sha[65];
    rc = file_sha256(card_path, card_sha, err);
    free(card_path);
    char path_rel[96];
    snprintf(path_rel, sizeof path_rel, ARTIFACTS_DIR "/%s", rel);
    oc_model_version row = {.version = next, .kind = "mlp", .series = card->series, .path = path_rel,
                            .card_sha256 = card_sha, .val_loss = card->metrics.val_loss,
                            .val_mae = card->metrics.val_mae_price, .naive_mae = card->metrics.naive_mae_price,
                            .created_at = (int64_t)time(NULL)};
    if (rc == 0 && oc_store_model_version_register(store, &row, err) != 0) rc = -1;
    if (rc != 0) remove_version_dir(final_dir); /* unregistered files would block the number forever */
    else *version = next;
  }
  free(final_dir);
  free(artifacts);
  return rc;
}

int oc_registry_deploy(const char *data_dir, oc_store *store, const char *name, int64_t version, oc_error *err) {
  const char *reason;
  if (oc_series_name_check(name, strlen(name), &reason) != 0)
    return oc_error_set(err, "endpoint name '%s': %s", name, reason);
  char *dir = oc_path_join(data_dir, ENDPOINTS_DIR);
  char file[OC_SERIES_NAME_MAX + 8];
  snprintf(file, sizeof file, "%s.json", name);
  char *path = oc_path_join(dir, file);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32], model[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  snprintf(model, sizeof model, "v%lld", (long long)version);
  oc_endpoint_variant variant = {.version = version, .weight = 1.0};
  int rc = oc_mkdir_p(dir, err);
  if (rc == 0) rc = oc_store_begin(store, err);
  if (rc == 0) {
    json_t *j = json_pack("{s:s, s:[{s:s, s:I, s:f}], s:s}", "endpoint", name, "variants", "model", model, "version",
                          (json_int_t)version, "weight", 1.0, "updated_at", stamp);
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (oc_store_endpoint_set(store, name, &variant, 1, (int64_t)now, err) != 0 ||
        oc_write_file_atomic(path, text, strlen(text), err) != 0 || oc_store_commit(store, err) != 0) {
      oc_error rollback_err;
      oc_store_rollback(store, &rollback_err);
      rc = -1;
    }
    free(text);
  }
  free(path);
  free(dir);
  return rc;
}

int oc_registry_endpoint_version(oc_store *store, const char *name, int64_t *version, oc_error *err) {
  oc_endpoint ep;
  bool found;
  if (oc_store_endpoint_get(store, name, &ep, &found, err) != 0) return -1;
  if (!found || ep.nvariants == 0) {
    if (found) oc_endpoint_free(&ep);
    return oc_error_set(err, "no endpoint named '%s' (create it with: oilcast train ... --deploy --endpoint-name %s)",
                        name, name);
  }
  size_t best = 0;
  for (size_t i = 1; i < ep.nvariants; i++)
    if (ep.variants[i].weight >= ep.variants[best].weight) best = i;
  *version = ep.variants[best].version;
  oc_endpoint_free(&ep);
  return 0;
}

int oc_registry_load(const char *data_dir, oc_store *store, int64_t version, oc_mlp *m, oc_model_card *card,
                     oc_error *err) {
  oc_model_version row;
  bool found;
  if (oc_store_model_version_get(store, version, &row, &found, err) != 0) return -1;
  if (!found) return oc_error_set(err, "model version v%lld is not registered (see: oilcast models list)", (long long)version);
  char *dir = oc_path_join(data_dir, row.path);
  char *card_path = oc_path_join(dir, OC_MODEL_CARD_FILE);
  char hex[65];
  int rc = file_sha256(card_path, hex, err);
  if (rc == 0 && strcmp(hex, row.card_sha256) != 0)
    rc = oc_error_set(err, "%s: sha256 %s differs from the registered %s: the model card was modified", card_path, hex,
                      row.card_sha256);
  if (rc == 0) rc = oc_model_load(dir, m, card, err);
  if (rc == 0) {
    char expect[32];
    snprintf(expect, sizeof expect, "v%lld", (long long)version);
    if (strcmp(card->version, expect) != 0) {
      rc = oc_error_set(err, "%s: the card says %s, the registry %s", card_path, card->version, expect);
      oc_mlp_free(m);
      oc_model_card_free(card);
    }
  }
  free(card_path);
  free(dir);
  oc_model_version_free(&row);
  return rc;
}
