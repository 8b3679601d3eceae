/* registry.c: see registry.h. */
#include "model/registry.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/sha256.h"
#include "model/fc_mlp.h"
#include "model/feature_reference.h"
#include "model/forecaster.h"
#include "oc_version.h"

#define ARTIFACTS_DIR "models/artifacts"
/* Where an older oilcast kept endpoint files (the store holds endpoint configurations now). */
#define LEGACY_ENDPOINTS_DIR "models/endpoints"

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

/* Removes a version folder written by this process (its files, then the folder). */
static void remove_version_dir(const char *dir) {
  const char *files[] = {OC_MODEL_TENSORS_FILE, OC_MODEL_CARD_FILE, OC_FORECASTER_FILE};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char *p = oc_path_join(dir, files[i]);
    unlink(p);
    free(p);
  }
  rmdir(dir);
}

/* Writes a version's files into the (new) folder dir for version name rel ("v3"). */
typedef int (*version_writer)(void *ctx, const char *dir, const char *rel, oc_error *err);

/* Claims the next free version number: writes into a temporary folder, renames it into place, and
 * registers the row (row->version, path and card_sha256 are filled here). */
static int publish_version(const char *data_dir, oc_store *store, version_writer write, void *ctx,
                           oc_model_version *row, int64_t *version, oc_error *err) {
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
    rc = write(ctx, tmp, rel, err);
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
    row->version = next;
    row->path = path_rel;
    row->card_sha256 = card_sha;
    if (rc == 0 && oc_store_model_version_register(store, row, err) != 0) rc = -1;
    row->path = row->card_sha256 = NULL;
    if (rc != 0) remove_version_dir(final_dir); /* unregistered files would block the number forever */
    else *version = next;
  }
  free(final_dir);
  free(artifacts);
  return rc;
}

typedef struct network_writer {
  const oc_mlp *m;
  oc_model_card *card;
} network_writer;

static int write_network(void *ctx, const char *dir, const char *rel, oc_error *err) {
  network_writer *w = ctx;
  free(w->card->version);
  w->card->version = oc_xstrdup(rel);
  return oc_model_save(dir, w->m, w->card, err);
}

int oc_registry_publish(const char *data_dir, oc_store *store, const oc_mlp *m, oc_model_card *card,
                        int64_t *version, oc_error *err) {
  network_writer w = {m, card};
  /* The registry's validation figure is relMAE against no-change on the network's validation rows, as
   * the forecasters' is on their validation origins (the MSE it trained on stays in the card). */
  const oc_model_metrics *mt = &card->metrics;
  oc_model_version row = {.kind = "mlp", .series = card->series,
                          .val_loss = mt->naive_mae_price > 0 ? mt->val_mae_price / mt->naive_mae_price : 0,
                          .val_mae = mt->val_mae_price, .naive_mae = mt->naive_mae_price,
                          .created_at = (int64_t)time(NULL)};
  return publish_version(data_dir, store, write_network, &w, &row, version, err);
}

typedef struct forecaster_writer {
  const char *state; /* oc_forecaster_save's text */
  json_t *card;      /* completed with version and checksum here */
} forecaster_writer;

static int write_forecaster(void *ctx, const char *dir, const char *rel, oc_error *err) {
  forecaster_writer *w = ctx;
  char sha[65];
  oc_sha256_hex(w->state, strlen(w->state), sha);
  json_object_set_new(w->card, "version", json_string(rel));
  json_object_set_new(w->card, "forecaster_sha256", json_string(sha));
  char *text = json_dumps(w->card, JSON_INDENT(2) | JSON_SORT_KEYS);
  char *state_path = oc_path_join(dir, OC_FORECASTER_FILE), *card_path = oc_path_join(dir, OC_MODEL_CARD_FILE);
  int rc = oc_mkdir_p(dir, err);
  if (rc == 0) rc = oc_write_file_atomic(state_path, w->state, strlen(w->state), err);
  if (rc == 0) rc = oc_write_file_atomic(card_path, text, strlen(text), err);
  free(state_path);
  free(card_path);
  free(text);
  return rc;
}

int oc_registry_publish_forecaster(const char *data_dir, oc_store *store, const oc_forecaster *f,
                                   const oc_series *hist, const json_t *selection, int64_t *version, oc_error *err) {
  if (hist->n == 0) return oc_error_set(err, "registering %s: the training history is empty", oc_forecaster_name(f));
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32], first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  oc_date_format(hist->dates[0], first);
  oc_date_format(hist->dates[hist->n - 1], last);
  /* Validation figures of the registered model, from the comparison when there is one. */
  double rel_mae = NAN, mae = NAN, naive_mae = NAN;
  json_t *cands = json_object_get(selection, "candidates");
  size_t i;
  json_t *c;
  json_array_foreach(cands, i, c) {
    const char *name = json_string_value(json_object_get(c, "model"));
    if (name && strcmp(name, oc_forecaster_name(f)) == 0) {
      rel_mae = json_number_value(json_object_get(c, "rel_mae"));
      mae = json_number_value(json_object_get(c, "mae"));
    }
    if (name && strcmp(name, "naive") == 0) naive_mae = json_number_value(json_object_get(c, "mae"));
  }
  json_t *metrics = isnan(rel_mae) ? json_null()
                                   : json_pack("{s:f,s:f,s:f}", "validation_rel_mae", rel_mae, "validation_mae", mae,
                                               "naive_validation_mae", isnan(naive_mae) ? mae / rel_mae : naive_mae);
  json_t *card = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:I,s:f},s:O,s:o,s:s,s:s}", "format", OC_FORECASTER_CARD_FORMAT,
                           "kind", oc_forecaster_kind(f), "spec", oc_forecaster_name(f), "series", hist->name,
                           "training", "first", first, "last", last, "observations", (json_int_t)hist->n,
                           "last_value", hist->values[hist->n - 1], "selection", selection ? selection : json_null(),
                           "metrics", metrics, "created", stamp, "oilcast_version", OILCAST_VERSION);
  json_t *reference = oc_feature_reference_block(hist, hist->dates[hist->n - 1]);
  if (reference) json_object_set_new(card, "feature_reference", reference);
  char *state = oc_forecaster_save(f);
  if (!state) {
    json_decref(card);
    return oc_error_set(err, "registering %s: a version kept in its own files is registered once, by its training",
                        oc_forecaster_name(f));
  }
  forecaster_writer w = {state, card};
  oc_model_version row = {.kind = (char *)oc_forecaster_kind(f), .series = hist->name,
                          .val_loss = isnan(rel_mae) ? 0 : rel_mae, .val_mae = isnan(mae) ? 0 : mae,
                          .naive_mae = isnan(naive_mae) ? 0 : naive_mae, .created_at = (int64_t)now};
  int rc = publish_version(data_dir, store, write_forecaster, &w, &row, version, err);
  json_decref(card);
  free(state);
  return rc;
}

/* The registered versions config serves, into variants (sized for every variant): all of its variants
 * when each names a registered-looking version ("v3" or a deploy's "version": 3) once with weight > 0;
 * none when any is a forecaster spec ("naive"), whose endpoint then has no registry rows. */
static size_t registered_variants(const json_t *config, oc_endpoint_variant *variants) {
  size_t i, n = 0;
  json_t *v;
  json_array_foreach(json_object_get(config, "variants"), i, v) {
    json_t *weight = json_object_get(v, "weight"), *number = json_object_get(v, "version");
    const char *label = json_string_value(json_object_get(v, "model_version"));
    oc_endpoint_variant *out = &variants[n];
    out->weight = weight ? json_number_value(weight) : 1.0;
    if (label ? oc_model_version_parse(label, &out->version) != 0 : !json_is_integer(number)) return 0;
    if (!label) out->version = json_integer_value(number);
    if (!(out->weight > 0)) return 0;
    for (size_t k = 0; k < n; k++)
      if (variants[k].version == out->version) return 0;
    n++;
  }
  return n;
}

/* The configuration of an endpoint that serves exactly these registered versions:
 * {"endpoint", "variants":[{"model":"v3","version":3,"weight":1}...], "updated_at"}. */
static json_t *variants_config(const char *name, const oc_endpoint_variant *variants, size_t n, int64_t updated_at) {
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    char model[32];
    snprintf(model, sizeof model, "v%lld", (long long)variants[i].version);
    json_array_append_new(list, json_pack("{s:s, s:I, s:f}", "model", model, "version",
                                          (json_int_t)variants[i].version, "weight", variants[i].weight));
  }
  char stamp[OC_TIMESTAMP_STRLEN];
  return json_pack("{s:s, s:o, s:s}", "endpoint", name, "variants", list, "updated_at", oc_timestamp_format(updated_at, stamp));
}

int oc_registry_endpoint_save(oc_store *store, const char *name, const json_t *config, oc_error *err) {
  const char *reason;
  if (oc_series_name_check(name, strlen(name), &reason) != 0)
    return oc_error_set(err, "endpoint name '%s': %s", name, reason);
  if (!json_is_array(json_object_get(config, "variants")))
    return oc_error_set(err, "endpoint %s: its configuration has no variants", name);
  oc_endpoint_variant *variants = oc_xcalloc(json_array_size(json_object_get(config, "variants")) + 1, sizeof *variants);
  size_t n = registered_variants(config, variants);
  char *text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
  int rc = oc_store_endpoint_config_set(store, name, text, variants, n, (int64_t)time(NULL), err);
  free(text);
  free(variants);
  return rc;
}

int oc_registry_endpoint_config(oc_store *store, const char *name, json_t **config, bool *found, oc_error *err) {
  *config = NULL;
  char *text;
  if (oc_store_endpoint_config_get(store, name, &text, found, err) != 0) return -1;
  if (!*found) return 0;
  if (text) {
    json_error_t jerr;
    *config = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    return *config ? 0 : oc_error_set(err, "endpoint %s: its stored configuration: %s", name, jerr.text);
  }
  /* Last written by oc_store_endpoint_set: its variant rows are the record. */
  oc_endpoint ep;
  bool exists;
  if (oc_store_endpoint_get(store, name, &ep, &exists, err) != 0) return -1;
  *config = variants_config(name, exists ? ep.variants : NULL, exists ? ep.nvariants : 0, exists ? ep.updated_at : 0);
  if (exists) oc_endpoint_free(&ep);
  return 0;
}

int oc_registry_endpoint_write(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n,
                               oc_error *err) {
  assert(n >= 1);
  json_t *config = variants_config(name, variants, n, (int64_t)time(NULL));
  int rc = oc_registry_endpoint_save(store, name, config, err);
  json_decref(config);
  return rc;
}

int oc_registry_deploy(const char *data_dir, oc_store *store, const char *name, int64_t version, oc_error *err) {
  oc_endpoint_variant variant = {.version = version, .weight = 1.0};
  if (oc_registry_endpoint_write(store, name, &variant, 1, err) != 0) return -1;
  /* An endpoint file of an older oilcast is no record any more: gone, it cannot be mistaken for one. */
  char file[OC_SERIES_NAME_MAX + 32];
  snprintf(file, sizeof file, LEGACY_ENDPOINTS_DIR "/%s.json", name);
  char *legacy = oc_path_join(data_dir, file);
  unlink(legacy);
  free(legacy);
  return 0;
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

/* The registered row of version and the path of one of its files. */
static int version_file(const char *data_dir, oc_store *store, int64_t version, const char *file,
                        oc_model_version *row, char **path, oc_error *err) {
  bool found;
  if (oc_store_model_version_get(store, version, row, &found, err) != 0) return -1;
  if (!found) return oc_error_set(err, "model version v%lld is not registered (see: oilcast models list)", (long long)version);
  char *dir = oc_path_join(data_dir, row->path);
  *path = oc_path_join(dir, file);
  free(dir);
  return 0;
}

/* Reads path and checks its sha256 against expect; returns the text or NULL with err. */
static char *read_checked(const char *path, const char *expect, const char *what, oc_error *err) {
  char *data;
  size_t len;
  if (oc_read_file(path, &data, &len, err) != 0) return NULL;
  char hex[65];
  oc_sha256_hex(data, len, hex);
  if (strcmp(hex, expect) != 0) {
    oc_error_set(err, "%s: sha256 %s differs from the registered %s: the %s was modified", path, hex, expect, what);
    free(data);
    return NULL;
  }
  return data;
}

int oc_registry_forecaster_from_card(const json_t *card, const char *card_path, const char *registered_kind,
                                     const char *state, size_t state_len, const char *state_path, oc_forecaster **f,
                                     oc_error *err) {
  *f = NULL;
  const char *sha = json_string_value(json_object_get(card, "forecaster_sha256"));
  const char *kind = json_string_value(json_object_get(card, "kind"));
  if (!sha || !kind)
    return oc_error_set(err, "%s: field %s missing (not a forecaster card)", card_path, !sha ? "forecaster_sha256" : "kind");
  if (strcmp(kind, registered_kind) != 0)
    return oc_error_set(err, "%s: kind %s, the registry says %s", card_path, kind, registered_kind);
  char hex[65];
  oc_sha256_hex(state, state_len, hex);
  if (strcmp(hex, sha) != 0)
    return oc_error_set(err, "%s: sha256 %s differs from the card's %s: the forecaster was modified", state_path, hex, sha);
  if (memchr(state, '\0', state_len)) return oc_error_set(err, "%s: a NUL byte in the forecaster's text", state_path);
  if (!(*f = oc_forecaster_load(state, err))) return oc_error_prefix(err, "%s: ", state_path);
  if (strcmp(oc_forecaster_kind(*f), kind) != 0) {
    oc_error_set(err, "%s: holds a %s model, the card says %s", state_path, oc_forecaster_kind(*f), kind);
    oc_forecaster_free(*f);
    *f = NULL;
    return -1;
  }
  return 0;
}

/* A forecaster version's state: forecaster.json, checked against its card. */
static int open_forecaster_files(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *card,
                                 const char *card_path, oc_forecaster **f, oc_error *err) {
  char *dir = oc_path_join(data_dir, row->path), *state_path = oc_path_join(dir, OC_FORECASTER_FILE);
  char *state;
  size_t len;
  int rc = oc_read_file(state_path, &state, &len, err);
  if (rc == 0) {
    rc = oc_registry_forecaster_from_card(card, card_path, row->kind, state, len, state_path, f, err);
    free(state);
  }
  free(state_path);
  free(dir);
  return rc;
}

/* A network version's files (model_file.h checks them), its card already checked against the registry
 * (version_card_read). */
static int load_network_files(const char *data_dir, const oc_model_version *row, oc_mlp *m, oc_model_card *card,
                              oc_error *err) {
  char *dir = oc_path_join(data_dir, row->path);
  int rc = oc_model_load(dir, m, card, err);
  free(dir);
  return rc;
}

/* A network version: model.safetensors with its card, as a forecaster (fc_mlp.h). */
static int open_network_files(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *card,
                              const char *card_path, oc_forecaster **f, oc_error *err) {
  oc_mlp net = {0};
  oc_model_card network_card = {0};
  if (load_network_files(data_dir, row, &net, &network_card, err) != 0) return -1;
  *f = oc_mlp_forecaster_from_version(&net, &network_card, err);
  return *f ? 0 : -1;
}


/* ---- describing a version ------------------------------------------------------------------------ */

/* The `train --model auto` comparison kept in a card (nothing when there is none). */
static void describe_selection(oc_buf *out, const json_t *selection) {
  if (!json_is_object(selection)) return;
  oc_buf_printf(out, "chosen by      %s\n", json_string_value(json_object_get(selection, "criterion")));
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(selection, "candidates"), i, c)
    oc_buf_printf(out, "  %-10s relMAE %.4f  MAE %.4f  coverage80 %.3f\n", json_string_value(json_object_get(c, "model")),
                  json_number_value(json_object_get(c, "rel_mae")), json_number_value(json_object_get(c, "mae")),
                  json_number_value(json_object_get(c, "coverage80")));
}

static int describe_forecaster(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *card,
                               oc_buf *out, oc_error *err) {
  oc_forecaster *f;
  json_t *loaded;
  if (oc_registry_load_forecaster(data_dir, store, row->version, &f, &loaded, err) != 0) return -1;
  json_t *training = json_object_get(card, "training"), *metrics = json_object_get(card, "metrics");
  oc_buf_printf(out, "version        %s (%s)\n", json_string_value(json_object_get(card, "version")), row->status);
  oc_buf_printf(out, "kind           %s (spec %s)\n", oc_forecaster_kind(f), oc_forecaster_name(f));
  oc_buf_printf(out, "series         %s, %lld observations %s to %s\n", json_string_value(json_object_get(card, "series")),
                (long long)json_integer_value(json_object_get(training, "observations")),
                json_string_value(json_object_get(training, "first")), json_string_value(json_object_get(training, "last")));
  if (json_is_object(metrics))
    oc_buf_printf(out, "validation     relMAE %.4f, MAE %.4f USD/bbl (no-change forecast: %.4f)\n",
                  json_number_value(json_object_get(metrics, "validation_rel_mae")),
                  json_number_value(json_object_get(metrics, "validation_mae")),
                  json_number_value(json_object_get(metrics, "naive_validation_mae")));
  describe_selection(out, json_object_get(card, "selection"));
  oc_buf_printf(out, "created        %s by oilcast %s\n", json_string_value(json_object_get(card, "created")),
                json_string_value(json_object_get(card, "oilcast_version")));
  json_decref(loaded);
  oc_forecaster_free(f);
  return 0;
}

/* How many networks were averaged into this one, and their seeds (cards before the bag: not said). */
static void describe_bag(oc_buf *out, const oc_model_card *card, const oc_mlp_arch *merged) {
  if (card->bag_networks == 0) {
    oc_buf_printf(out, "bag            not recorded (trained before oilcast recorded it)\n");
    return;
  }
  oc_buf_printf(out, "bag            %zu network%s, seed%s", card->bag_networks, card->bag_networks > 1 ? "s" : "",
                card->bag_networks > 1 ? "s" : "");
  for (size_t i = 0; i < card->bag_networks; i++)
    oc_buf_printf(out, "%s %llu", i ? "," : "", (unsigned long long)card->bag_seeds[i]);
  if (card->bag_networks > 1)
    oc_buf_printf(out, "; averaged as one of %dx%d hidden units (%dx%d each)", merged->h1, merged->h2,
                  merged->h1 / (int)card->bag_networks, merged->h2 / (int)card->bag_networks);
  oc_buf_putc(out, '\n');
}

static int describe_network(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *unused,
                            oc_buf *out, oc_error *err) {
  oc_mlp m;
  oc_model_card card;
  if (load_network_files(data_dir, row, &m, &card, err) != 0) return -1;
  char end[OC_DATE_STRLEN];
  oc_buf_printf(out, "version        %s (%s)\n", card.version, row->status);
  oc_buf_printf(out, "path           %s\n", row->path);
  oc_buf_printf(out, "series         %s, %d horizons (trading days)\n", card.series, m.arch.n_out);
  oc_buf_printf(out, "network        Dense(%d, relu) > BatchNorm > Dropout(%g) > Dense(%d, relu) > BatchNorm > Dropout(%g) > "
                "Dense(%d)\n", m.arch.h1, m.arch.dropout, m.arch.h2, m.arch.dropout, m.arch.n_out);
  oc_buf_printf(out, "features       %zu:", card.n_features);
  for (size_t i = 0; i < card.n_features; i++) oc_buf_printf(out, " %s", card.features[i]);
  oc_buf_printf(out, "\ntraining data  %s (%zu train rows to %s, %zu validation rows)\n", card.data_path, card.train_rows,
                oc_date_format(card.train_end, end), card.val_rows);
  oc_buf_printf(out, "source sha256  %s\n", card.source_checksum);
  oc_buf_printf(out, "hyperparams    epochs %d, batch %d, lr %g, weight decay %g, loss %s, seed %llu\n", card.params.epochs,
                card.params.batch_size, card.params.learning_rate, card.params.weight_decay, oc_loss_name(card.params.loss),
                (unsigned long long)card.params.seed);
  oc_buf_printf(out, "training       %d epochs run, best epoch %d, %.2f s\n", card.metrics.epochs_run, card.metrics.best_epoch,
                card.metrics.train_seconds);
  describe_bag(out, &card, &m.arch);
  oc_buf_printf(out, "validation     loss %.6g, MAE %.4f USD/bbl (no-change forecast: %.4f)\n", card.metrics.val_loss,
                card.metrics.val_mae_price, card.metrics.naive_mae_price);
  const oc_mlp_calibration *cal = &card.calibration;
  if (cal->q80) {
    char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
    oc_buf_printf(out, "intervals      split-conformal on %zu %s origins %s to %s; 80%% +-%.2f%% at h1, +-%.2f%% at h%d\n",
                  cal->origins, cal->out_of_sample ? "out-of-sample" : "in-sample", oc_date_format(cal->first_origin, first),
                  oc_date_format(cal->last_origin, last), 100 * cal->q80[0], 100 * cal->q80[m.arch.n_out - 1], m.arch.n_out);
  } else {
    oc_buf_printf(out, "intervals      not stored (trained by an older oilcast): calibrated when loaded\n");
  }
  if (card.selection_json) {
    json_t *selection = json_loads(card.selection_json, 0, NULL);
    describe_selection(out, selection);
    json_decref(selection);
  }
  oc_buf_printf(out, "created        %s by oilcast %s\n", card.created, card.oilcast_version);
  oc_mlp_free(&m);
  oc_model_card_free(&card);
  return 0;
}

/* How a version's files are laid out, told by its card's format: the one place a version's files
 * become a forecaster. */
static const struct version_layout {
  const char *card_format;
  int (*open)(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *card,
              const char *card_path, oc_forecaster **f, oc_error *err);
  /* What `oilcast models show` prints: the version, its kind and what its card says of it. */
  int (*describe)(const char *data_dir, oc_store *store, const oc_model_version *row, const json_t *card, oc_buf *out,
                  oc_error *err);
} version_layouts[] = {
    {OC_FORECASTER_CARD_FORMAT, open_forecaster_files, describe_forecaster},
    {OC_MODEL_CARD_FORMAT, open_network_files, describe_network},
};

/* The registered row of version, its card as stored (checked against the registry) and its layout. */
typedef struct version_card {
  oc_model_version row;
  char *path, *text;
  json_t *json;
  const struct version_layout *layout;
} version_card;

static void version_card_free(version_card *vc) {
  json_decref(vc->json);
  free(vc->text);
  free(vc->path);
  oc_model_version_free(&vc->row);
}

static const struct version_layout *layout_of(const json_t *card) {
  const char *format = json_string_value(json_object_get(card, "format"));
  for (size_t i = 0; format && i < sizeof version_layouts / sizeof *version_layouts; i++)
    if (strcmp(format, version_layouts[i].card_format) == 0) return &version_layouts[i];
  return NULL;
}

int oc_registry_card_parse(const char *path, const char *text, size_t len, int64_t version, json_t **card,
                           oc_error *err) {
  json_error_t jerr;
  if (!(*card = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
    return oc_error_set(err, "%s:%d: %s", path, jerr.line, jerr.text);
  const char *format = json_string_value(json_object_get(*card, "format"));
  const char *card_version = json_string_value(json_object_get(*card, "version"));
  char expect[32];
  snprintf(expect, sizeof expect, "v%lld", (long long)version);
  int rc = 0;
  if (!format || !card_version)
    rc = oc_error_set(err, "%s: field %s missing (not a model card)", path, !format ? "format" : "version");
  else if (strcmp(card_version, expect) != 0)
    rc = oc_error_set(err, "%s: the card says %s, the registry %s", path, card_version, expect);
  else if (!layout_of(*card))
    rc = oc_error_set(err, "%s: unknown card format '%s'", path, format);
  if (rc != 0) {
    json_decref(*card);
    *card = NULL;
  }
  return rc;
}

static int version_card_read(const char *data_dir, oc_store *store, int64_t version, version_card *vc, oc_error *err) {
  memset(vc, 0, sizeof *vc);
  if (version_file(data_dir, store, version, OC_MODEL_CARD_FILE, &vc->row, &vc->path, err) != 0) return -1;
  vc->text = read_checked(vc->path, vc->row.card_sha256, "model card", err);
  int rc = vc->text ? oc_registry_card_parse(vc->path, vc->text, strlen(vc->text), version, &vc->json, err) : -1;
  if (rc == 0) vc->layout = layout_of(vc->json);
  if (rc != 0) version_card_free(vc);
  return rc;
}

int oc_registry_load_forecaster(const char *data_dir, oc_store *store, int64_t version, oc_forecaster **f,
                                json_t **card, oc_error *err) {
  *f = NULL;
  *card = NULL;
  version_card vc;
  if (version_card_read(data_dir, store, version, &vc, err) != 0) return -1;
  int rc = vc.layout->open(data_dir, store, &vc.row, vc.json, vc.path, f, err);
  if (rc == 0) *card = json_incref(vc.json);
  version_card_free(&vc);
  return rc;
}

int oc_registry_describe(const char *data_dir, oc_store *store, int64_t version, bool as_json, oc_buf *out,
                         oc_error *err) {
  version_card vc;
  if (version_card_read(data_dir, store, version, &vc, err) != 0) return -1;
  int rc = 0;
  if (as_json) oc_buf_printf(out, "%s%s", vc.text, vc.text[0] && vc.text[strlen(vc.text) - 1] == '\n' ? "" : "\n");
  else rc = vc.layout->describe(data_dir, store, &vc.row, vc.json, out, err);
  version_card_free(&vc);
  return rc;
}

int oc_registry_load(const char *data_dir, oc_store *store, int64_t version, oc_mlp *m, oc_model_card *card,
                     oc_error *err) {
  version_card vc;
  if (version_card_read(data_dir, store, version, &vc, err) != 0) return -1;
  int rc = vc.layout->open == open_network_files
               ? load_network_files(data_dir, &vc.row, m, card, err)
               : oc_error_set(err, "%s: model v%lld is not a network (its card is %s)", vc.path, (long long)version,
                              vc.layout->card_format);
  version_card_free(&vc);
  return rc;
}
