/* model_file.c: see model_file.h. */
#include "model/model_file.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/sha256.h"

/* Anything bigger is not one of our headers (a 14-tensor header is about 1 KiB). */
#define OC_SAFETENSORS_MAX_HEADER (1u << 20)

void oc_mlp_calibration_free(oc_mlp_calibration *cal) {
  free(cal->q80);
  free(cal->q95);
  memset(cal, 0, sizeof *cal);
}

void oc_model_card_free(oc_model_card *c) {
  for (size_t i = 0; i < c->n_features; i++) free(c->features[i]);
  for (size_t i = 0; i < c->n_targets; i++) free(c->targets[i]);
  char *strings[] = {c->version,         c->series,          c->normalization_json, c->policies_json, c->data_path,
                     c->source_checksum, c->data_sha256,     c->created,            c->oilcast_version,
                     c->selection_json,  c->feature_reference_json};
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) free(strings[i]);
  free(c->features);
  free(c->targets);
  oc_mlp_calibration_free(&c->calibration);
  free(c->bag_seeds);
  memset(c, 0, sizeof *c);
}

static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Appends n floats as little-endian float32, whatever the host byte order. */
static void append_floats_le(oc_buf *out, const float *v, size_t n) {
  oc_buf_reserve(out, n * 4);
  for (size_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &v[i], 4);
    uint8_t le[4];
    put_le32(le, bits);
    oc_buf_append(out, le, 4);
  }
}

void oc_safetensors_encode(const oc_mlp *m, oc_buf *out) {
  oc_buf header = {0};
  oc_buf_printf(&header, "{\"__metadata__\":{\"format\":\"oilcast-mlp\"}");
  size_t offset = 0;
  for (int t = 0; t < OC_MLP_NTENSORS; t++) {
    const oc_mlp_tensor *ten = &m->tensors[t];
    oc_buf_printf(&header, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d", ten->name, ten->dims[0]);
    if (ten->rank == 2) oc_buf_printf(&header, ",%d", ten->dims[1]);
    oc_buf_printf(&header, "],\"data_offsets\":[%zu,%zu]}", offset, offset + ten->size * 4);
    offset += ten->size * 4;
  }
  oc_buf_putc(&header, '}');
  while ((header.len) % 8 != 0) oc_buf_putc(&header, ' '); /* data starts 8-byte aligned */
  uint8_t len_le[8];
  uint64_t hlen = header.len;
  for (int i = 0; i < 8; i++) len_le[i] = (uint8_t)(hlen >> (8 * i));
  oc_buf_append(out, len_le, 8);
  oc_buf_append(out, header.data, header.len);
  append_floats_le(out, m->memory, m->n_floats);
  oc_buf_free(&header);
}

int oc_safetensors_decode(const char *data, size_t len, const oc_mlp_arch *arch, const char *name, oc_mlp *m,
                          oc_error *err) {
  memset(m, 0, sizeof *m);
  if (len < 8) return oc_error_set(err, "%s: %zu bytes, too short for a safetensors file (truncated?)", name, len);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)(uint8_t)data[i] << (8 * i);
  if (hlen < 2 || hlen > OC_SAFETENSORS_MAX_HEADER || hlen > len - 8)
    return oc_error_set(err, "%s: header length %llu does not fit the file's %zu bytes (truncated or not safetensors)",
                        name, (unsigned long long)hlen, len);
  if (data[8] != '{') return oc_error_set(err, "%s: header at byte 8 is not a JSON object", name);
  json_error_t jerr;
  json_t *header = json_loadb(data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
  if (!header || !json_is_object(header)) {
    json_decref(header);
    return oc_error_set(err, "%s: header JSON invalid at byte %d: %s", name, 8 + jerr.position, jerr.text);
  }
  const char *payload = data + 8 + hlen;
  size_t payload_len = len - 8 - (size_t)hlen;
  oc_mlp_init(m, arch);
  size_t expected_keys = OC_MLP_NTENSORS + (json_object_get(header, "__metadata__") ? 1 : 0);
  int rc = 0;
  if (json_object_size(header) != expected_keys) {
    rc = oc_error_set(err, "%s: header has %zu entries, expected the %d tensors of this network%s", name,
                      json_object_size(header), OC_MLP_NTENSORS, " (and optional __metadata__)");
  }
  /* Tensors are stored in memory order, back to back: each must start where the previous ended. */
  size_t expected_begin = 0;
  for (int t = 0; rc == 0 && t < OC_MLP_NTENSORS; t++) {
    const oc_mlp_tensor *ten = &m->tensors[t];
    json_t *entry = json_object_get(header, ten->name);
    const char *dtype = NULL;
    json_t *shape = NULL, *offsets = NULL;
    if (!entry || json_unpack_ex(entry, &jerr, 0, "{s:s, s:o, s:o}", "dtype", &dtype, "shape", &shape,
                                 "data_offsets", &offsets) != 0) {
      rc = oc_error_set(err, "%s: tensor %s: %s", name, ten->name, entry ? jerr.text : "missing");
      break;
    }
    if (strcmp(dtype, "F32") != 0) {
      rc = oc_error_set(err, "%s: tensor %s has dtype %s, expected F32", name, ten->name, dtype);
      break;
    }
    bool shape_ok = json_is_array(shape) && json_array_size(shape) == (size_t)ten->rank;
    for (int d = 0; shape_ok && d < ten->rank; d++)
      shape_ok = json_is_integer(json_array_get(shape, (size_t)d)) &&
                 json_integer_value(json_array_get(shape, (size_t)d)) == ten->dims[d];
    if (!shape_ok) {
      char *text = json_dumps(shape, JSON_COMPACT | JSON_ENCODE_ANY);
      rc = oc_error_set(err, "%s: tensor %s has shape %s, the model card's architecture needs [%d%s%.0d]", name,
                        ten->name, text ? text : "?", ten->dims[0], ten->rank == 2 ? "," : "",
                        ten->rank == 2 ? ten->dims[1] : 0);
      free(text);
      break;
    }
    json_t *b = json_array_get(offsets, 0), *e = json_array_get(offsets, 1);
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 || !json_is_integer(b) || !json_is_integer(e) ||
        json_integer_value(b) != (json_int_t)expected_begin ||
        json_integer_value(e) != (json_int_t)(expected_begin + ten->size * 4)) {
      rc = oc_error_set(err, "%s: tensor %s: data_offsets are not [%zu, %zu] (tensors must be contiguous in order)",
                        name, ten->name, expected_begin, expected_begin + ten->size * 4);
      break;
    }
    expected_begin += ten->size * 4;
  }
  if (rc == 0 && payload_len != expected_begin)
    rc = oc_error_set(err, "%s: %zu bytes of tensor data after the header, the tensors need %zu (%s)", name,
                      payload_len, expected_begin, payload_len < expected_begin ? "truncated" : "trailing bytes");
  for (size_t i = 0; rc == 0 && i < m->n_floats; i++) {
    uint32_t bits = get_le32((const uint8_t *)payload + 4 * i);
    memcpy(&m->memory[i], &bits, 4);
    if (!isfinite(m->memory[i]))
      rc = oc_error_set(err, "%s: value at byte %zu is not finite", name, (size_t)(8 + hlen + 4 * i));
  }
  json_decref(header);
  if (rc != 0) oc_mlp_free(m);
  return rc;
}

static json_t *string_array(char **items, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(items[i]));
  return a;
}

/* Parses JSON text stored in the card back into a value (the card embeds it as JSON, not as a string). */
static json_t *embedded(const char *text) {
  json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  return j ? j : json_null();
}

/* The double with the shortest decimal form that still reads back as f, so the card says 0.2 rather
 * than 0.200000003 while (float) of what it says is exactly f. */
static double short_float(float f) {
  char text[32];
  for (int digits = 1; digits < 9; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, (double)f);
    double d = strtod(text, NULL);
    if ((float)d == f) return d;
  }
  return (double)f;
}

static json_t *doubles_array(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

static json_t *calibration_to_json(const oc_mlp_calibration *cal, size_t horizons) {
  char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  return json_pack("{s:s, s:s, s:I, s:s, s:s, s:b, s:o, s:o}", "method", "split-conformal", "space", "log_return",
                   "origins", (json_int_t)cal->origins, "first_origin", oc_date_format(cal->first_origin, first),
                   "last_origin", oc_date_format(cal->last_origin, last), "out_of_sample", (int)cal->out_of_sample,
                   "q80", doubles_array(cal->q80, horizons), "q95", doubles_array(cal->q95, horizons));
}

/* "bag": {"networks": K, "seeds": [...]}: what the merged widths alone do not say. */
static json_t *bag_to_json(const oc_model_card *c) {
  json_t *seeds = json_array();
  for (size_t i = 0; i < c->bag_networks; i++) json_array_append_new(seeds, json_integer((json_int_t)c->bag_seeds[i]));
  return json_pack("{s:I, s:o}", "networks", (json_int_t)c->bag_networks, "seeds", seeds);
}

char *oc_model_card_to_json(const oc_model_card *c, const oc_mlp_arch *a) {
  char train_end[OC_DATE_STRLEN];
  const oc_train_params *p = &c->params;
  const oc_model_metrics *mt = &c->metrics;
  char layers[256];
  snprintf(layers, sizeof layers,
           "Dense(%d, relu) -> BatchNorm -> Dropout(%g) -> Dense(%d, relu) -> BatchNorm -> Dropout(%g) -> Dense(%d)",
           a->h1, a->dropout, a->h2, a->dropout, a->n_out);
  json_t *root = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i, s:[i,i], s:i, s:f, s:f, s:f}, s:s, s:i, s:o, s:o, s:o, s:o,"
      " s:{s:s, s:s, s:s, s:s, s:I, s:I}, s:{s:i, s:i, s:f, s:f, s:s, s:f, s:f, s:f, s:f, s:i, s:i, s:f, s:f, s:I},"
      " s:{s:i, s:i, s:f, s:f, s:f, s:f, s:f}, s:{s:s, s:s}}",
      "format", OC_MODEL_CARD_FORMAT, "version", c->version, "kind", "mlp", "created", c->created,
      "oilcast_version", c->oilcast_version,
      "architecture", "type", "mlp", "layers", layers, "n_in", a->n_in, "hidden", a->h1, a->h2, "n_out", a->n_out,
      "dropout", short_float(a->dropout), "bn_momentum", short_float(a->bn_momentum), "bn_epsilon",
      short_float(a->bn_epsilon),
      "series", c->series, "horizon", a->n_out, "features", string_array(c->features, c->n_features), "targets",
      string_array(c->targets, c->n_targets), "normalization", embedded(c->normalization_json), "policies",
      embedded(c->policies_json),
      "training_data", "path", c->data_path, "source_checksum", c->source_checksum, "matrices_sha256",
      c->data_sha256, "train_end", oc_date_format(c->train_end, train_end), "train_rows", (json_int_t)c->train_rows,
      "validation_rows", (json_int_t)c->val_rows,
      "hyperparameters", "epochs", p->epochs, "batch_size", p->batch_size, "learning_rate", short_float(p->learning_rate),
      "weight_decay", short_float(p->weight_decay), "loss", oc_loss_name(p->loss), "huber_delta",
      short_float(p->huber_delta), "adam_beta1", short_float(p->adam_beta1), "adam_beta2", short_float(p->adam_beta2),
      "adam_epsilon", short_float(p->adam_epsilon), "early_stopping_patience", p->early_stopping_patience,
      "lr_patience", p->lr_patience, "lr_factor", short_float(p->lr_factor), "min_lr", short_float(p->min_lr), "seed",
      (json_int_t)p->seed,
      "metrics", "epochs_run", mt->epochs_run, "best_epoch", mt->best_epoch, "train_loss", mt->train_loss,
      "val_loss", mt->val_loss, "val_mae_usd", mt->val_mae_price, "naive_mae_usd", mt->naive_mae_price,
      "train_seconds", mt->train_seconds,
      "tensors", "file", OC_MODEL_TENSORS_FILE, "sha256", c->tensors_sha256);
  if (root && c->selection_json) json_object_set_new(root, "selection", embedded(c->selection_json));
  if (root && c->feature_reference_json)
    json_object_set_new(root, "feature_reference", embedded(c->feature_reference_json));
  if (root && c->calibration.q80) json_object_set_new(root, "calibration", calibration_to_json(&c->calibration, c->n_targets));
  if (root && c->bag_networks) json_object_set_new(root, "bag", bag_to_json(c));
  char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(OC_MODEL_CARD_DIGITS)) : NULL;
  json_decref(root);
  if (!text) abort(); /* only a NULL string in the card gets here: a programming error */
  size_t n = strlen(text);
  char *out = oc_xmalloc(n + 2);
  memcpy(out, text, n);
  out[n] = '\n';
  out[n + 1] = '\0';
  free(text);
  return out;
}

static char *dup_json(json_t *j) {
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
  char *out = oc_xstrdup(text ? text : "null");
  free(text);
  return out;
}

char *oc_model_card_json_as_kept(const char *text) {
  json_t *given = embedded(text);
  char *kept = json_dumps(given, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(OC_MODEL_CARD_DIGITS));
  json_decref(given);
  json_t *back = embedded(kept);
  free(kept);
  char *out = dup_json(back);
  json_decref(back);
  return out;
}

static int take_strings(json_t *arr, const char *field, const char *name, char ***out, size_t *n, oc_error *err) {
  if (!json_is_array(arr)) return oc_error_set(err, "%s: %s is not an array", name, field);
  *n = json_array_size(arr);
  *out = oc_xcalloc(*n ? *n : 1, sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    if (!s) return oc_error_set(err, "%s: %s[%zu] is not a string", name, field, i);
    (*out)[i] = oc_xstrdup(s);
  }
  return 0;
}

/* n non-negative finite numbers from the array a (field names it in messages). */
static int take_widths(json_t *a, size_t n, const char *field, const char *name, double **out, oc_error *err) {
  if (!json_is_array(a) || json_array_size(a) != n)
    return oc_error_set(err, "%s: calibration.%s must hold one number per horizon (%zu)", name, field, n);
  *out = oc_xcalloc(n ? n : 1, sizeof **out);
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(a, i);
    (*out)[i] = json_number_value(v);
    if (!json_is_number(v) || !isfinite((*out)[i]) || (*out)[i] < 0)
      return oc_error_set(err, "%s: calibration.%s[%zu] is not a finite number >= 0", name, field, i);
  }
  return 0;
}

static int calibration_from_json(json_t *j, size_t horizons, const char *name, oc_mlp_calibration *cal,
                                 oc_error *err) {
  json_error_t jerr;
  json_int_t origins;
  const char *first, *last;
  int out_of_sample;
  json_t *q80, *q95;
  if (json_unpack_ex(j, &jerr, 0, "{s:I, s:s, s:s, s:b, s:o, s:o}", "origins", &origins, "first_origin", &first,
                     "last_origin", &last, "out_of_sample", &out_of_sample, "q80", &q80, "q95", &q95) != 0)
    return oc_error_set(err, "%s: calibration: %s (at %s)", name, jerr.text, jerr.source);
  if (origins < 1) return oc_error_set(err, "%s: calibration.origins %lld must be >= 1", name, (long long)origins);
  if (oc_date_parse(first, strlen(first), &cal->first_origin, NULL) != 0 ||
      oc_date_parse(last, strlen(last), &cal->last_origin, NULL) != 0)
    return oc_error_set(err, "%s: calibration.first_origin/last_origin must be YYYY-MM-DD dates", name);
  cal->origins = (size_t)origins;
  cal->out_of_sample = out_of_sample;
  return take_widths(q80, horizons, "q80", name, &cal->q80, err) != 0 ||
                 take_widths(q95, horizons, "q95", name, &cal->q95, err) != 0
             ? -1
             : 0;
}

/* The card's "bag": K >= 1 networks whose seeds are K integers >= 0; the merged network's hidden widths
 * are K times a member's, so K divides both. */
static int bag_from_json(json_t *j, const oc_mlp_arch *a, const char *name, oc_model_card *c, oc_error *err) {
  json_error_t jerr;
  json_int_t networks;
  json_t *seeds;
  if (json_unpack_ex(j, &jerr, 0, "{s:I, s:o}", "networks", &networks, "seeds", &seeds) != 0)
    return oc_error_set(err, "%s: bag: %s (at %s)", name, jerr.text, jerr.source);
  if (networks < 1 || a->h1 % networks != 0 || a->h2 % networks != 0)
    return oc_error_set(err, "%s: bag.networks %lld must be >= 1 and divide the hidden widths %d and %d (a bag of K "
                        "networks is merged into one K times as wide)", name, (long long)networks, a->h1, a->h2);
  if (!json_is_array(seeds) || json_array_size(seeds) != (size_t)networks)
    return oc_error_set(err, "%s: bag.seeds must hold one seed per network (%lld)", name, (long long)networks);
  c->bag_networks = (size_t)networks;
  c->bag_seeds = oc_xcalloc(c->bag_networks, sizeof *c->bag_seeds);
  for (size_t i = 0; i < c->bag_networks; i++) {
    json_t *seed = json_array_get(seeds, i);
    if (!json_is_integer(seed) || json_integer_value(seed) < 0)
      return oc_error_set(err, "%s: bag.seeds[%zu] is not an integer >= 0", name, i);
    c->bag_seeds[i] = (uint64_t)json_integer_value(seed);
  }
  return 0;
}

int oc_model_card_from_json(const char *text, const char *name, oc_model_card *c, oc_mlp_arch *a, oc_error *err) {
  memset(c, 0, sizeof *c);
  memset(a, 0, sizeof *a);
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) return oc_error_set(err, "%s: invalid JSON at line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
  const char *format, *version, *created, *oc_version, *series, *path, *source, *mat_sha, *train_end, *loss,
      *tensors_sha, *tensors_file;
  json_t *features, *targets, *norm, *policies;
  json_int_t train_rows, val_rows, seed;
  double dropout, momentum, eps, lr, wd, hd, b1, b2, ae, lrf, minlr;
  oc_train_params *p = &c->params;
  oc_model_metrics *mt = &c->metrics;
  int rc = json_unpack_ex(
      root, &jerr, 0,
      "{s:s, s:s, s:s, s:s, s:{s:i, s:[i,i], s:i, s:F, s:F, s:F}, s:s, s:o, s:o, s:o, s:o,"
      " s:{s:s, s:s, s:s, s:s, s:I, s:I}, s:{s:i, s:i, s:F, s:F, s:s, s:F, s:F, s:F, s:F, s:i, s:i, s:F, s:F, s:I},"
      " s:{s:i, s:i, s:F, s:F, s:F, s:F, s:F}, s:{s:s, s:s}}",
      "format", &format, "version", &version, "created", &created, "oilcast_version", &oc_version,
      "architecture", "n_in", &a->n_in, "hidden", &a->h1, &a->h2, "n_out", &a->n_out, "dropout", &dropout,
      "bn_momentum", &momentum, "bn_epsilon", &eps,
      "series", &series, "features", &features, "targets", &targets, "normalization", &norm, "policies", &policies,
      "training_data", "path", &path, "source_checksum", &source, "matrices_sha256", &mat_sha, "train_end",
      &train_end, "train_rows", &train_rows, "validation_rows", &val_rows,
      "hyperparameters", "epochs", &p->epochs, "batch_size", &p->batch_size, "learning_rate", &lr, "weight_decay",
      &wd, "loss", &loss, "huber_delta", &hd, "adam_beta1", &b1, "adam_beta2", &b2, "adam_epsilon", &ae,
      "early_stopping_patience", &p->early_stopping_patience, "lr_patience", &p->lr_patience, "lr_factor", &lrf,
      "min_lr", &minlr, "seed", &seed,
      "metrics", "epochs_run", &mt->epochs_run, "best_epoch", &mt->best_epoch, "train_loss", &mt->train_loss,
      "val_loss", &mt->val_loss, "val_mae_usd", &mt->val_mae_price, "naive_mae_usd", &mt->naive_mae_price,
      "train_seconds", &mt->train_seconds,
      "tensors", "file", &tensors_file, "sha256", &tensors_sha);
  if (rc != 0) {
    oc_error_set(err, "%s: %s (at %s)", name, jerr.text, jerr.source);
    json_decref(root);
    return -1;
  }
  a->dropout = (float)dropout;
  a->bn_momentum = (float)momentum;
  a->bn_epsilon = (float)eps;
  p->learning_rate = (float)lr;
  p->weight_decay = (float)wd;
  p->huber_delta = (float)hd;
  p->adam_beta1 = (float)b1;
  p->adam_beta2 = (float)b2;
  p->adam_epsilon = (float)ae;
  p->lr_factor = (float)lrf;
  p->min_lr = (float)minlr;
  p->seed = (uint64_t)seed;
  char msg[256];
  if (strcmp(format, OC_MODEL_CARD_FORMAT) != 0) {
    rc = oc_error_set(err, "%s: format is '%s', this oilcast reads '%s'", name, format, OC_MODEL_CARD_FORMAT);
  } else if (oc_mlp_arch_check(a, msg, sizeof msg) != 0) {
    rc = oc_error_set(err, "%s: architecture: %s", name, msg);
  } else if (oc_loss_parse(loss, &p->loss) != 0) {
    rc = oc_error_set(err, "%s: hyperparameters.loss '%s' is not mse or huber", name, loss);
  } else if (strcmp(tensors_file, OC_MODEL_TENSORS_FILE) != 0 || strlen(tensors_sha) != 64) {
    rc = oc_error_set(err, "%s: tensors must name %s with a 64-digit sha256", name, OC_MODEL_TENSORS_FILE);
  } else if (oc_date_parse(train_end, strlen(train_end), &c->train_end, NULL) != 0) {
    rc = oc_error_set(err, "%s: training_data.train_end '%s' is not a YYYY-MM-DD date", name, train_end);
  } else if (take_strings(features, "features", name, &c->features, &c->n_features, err) != 0 ||
             take_strings(targets, "targets", name, &c->targets, &c->n_targets, err) != 0) {
    rc = -1;
  } else if (c->n_features != (size_t)a->n_in || c->n_targets != (size_t)a->n_out) {
    rc = oc_error_set(err, "%s: %zu features and %zu targets do not match the architecture's %d inputs and %d outputs",
                      name, c->n_features, c->n_targets, a->n_in, a->n_out);
  } else if (json_object_get(root, "calibration") &&
             calibration_from_json(json_object_get(root, "calibration"), c->n_targets, name, &c->calibration, err) != 0) {
    rc = -1;
  } else if (json_object_get(root, "bag") && bag_from_json(json_object_get(root, "bag"), a, name, c, err) != 0) {
    rc = -1;
  }
  if (rc == 0) {
    memcpy(c->tensors_sha256, tensors_sha, 65);
    c->version = oc_xstrdup(version);
    c->series = oc_xstrdup(series);
    c->created = oc_xstrdup(created);
    c->oilcast_version = oc_xstrdup(oc_version);
    c->data_path = oc_xstrdup(path);
    c->source_checksum = oc_xstrdup(source);
    c->data_sha256 = oc_xstrdup(mat_sha);
    c->normalization_json = dup_json(norm);
    c->policies_json = dup_json(policies);
    json_t *selection = json_object_get(root, "selection");
    if (selection && !json_is_null(selection)) c->selection_json = dup_json(selection);
    json_t *reference = json_object_get(root, "feature_reference");
    if (json_is_object(reference)) c->feature_reference_json = dup_json(reference);
    c->train_rows = (size_t)train_rows;
    c->val_rows = (size_t)val_rows;
  } else {
    oc_model_card_free(c);
  }
  json_decref(root);
  return rc;
}

int oc_model_save(const char *dir, const oc_mlp *m, oc_model_card *card, oc_error *err) {
  if (oc_mkdir_p(dir, err) != 0) return -1;
  oc_buf st = {0};
  oc_safetensors_encode(m, &st);
  oc_sha256_hex(st.data, st.len, card->tensors_sha256);
  char *tensors_path = oc_path_join(dir, OC_MODEL_TENSORS_FILE), *card_path = oc_path_join(dir, OC_MODEL_CARD_FILE);
  int rc = oc_write_file_atomic(tensors_path, st.data, st.len, err);
  if (rc == 0) {
    char *text = oc_model_card_to_json(card, &m->arch);
    rc = oc_write_file_atomic(card_path, text, strlen(text), err);
    free(text);
  }
  oc_buf_free(&st);
  free(tensors_path);
  free(card_path);
  return rc;
}

int oc_model_load(const char *dir, oc_mlp *m, oc_model_card *card, oc_error *err) {
  memset(m, 0, sizeof *m);
  memset(card, 0, sizeof *card);
  char *card_path = oc_path_join(dir, OC_MODEL_CARD_FILE), *tensors_path = oc_path_join(dir, OC_MODEL_TENSORS_FILE);
  char *text = NULL, *data = NULL;
  size_t text_len, data_len;
  oc_mlp_arch arch;
  int rc = 0;
  if (oc_read_file(card_path, &text, &text_len, err) != 0 ||
      oc_model_card_from_json(text, card_path, card, &arch, err) != 0) {
    rc = -1;
  } else if (oc_read_file(tensors_path, &data, &data_len, err) != 0) {
    oc_model_card_free(card);
    rc = -1;
  } else {
    char hex[65];
    oc_sha256_hex(data, data_len, hex);
    if (strcmp(hex, card->tensors_sha256) != 0) {
      rc = oc_error_set(err, "%s: sha256 %s differs from %s's %s: the tensors were modified or belong to another "
                        "model", tensors_path, hex, card_path, card->tensors_sha256);
    } else {
      rc = oc_safetensors_decode(data, data_len, &arch, tensors_path, m, err);
    }
    if (rc != 0) oc_model_card_free(card);
  }
  free(text);
  free(data);
  free(card_path);
  free(tensors_path);
  return rc;
}

void oc_training_data_sha256(const oc_dataset *train, const oc_dataset *val, size_t n_in, size_t n_out, char hex[65]) {
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  const oc_dataset *sets[2] = {train, val};
  oc_buf chunk = {0};
  for (int s = 0; s < 2; s++) {
    oc_buf_clear(&chunk);
    append_floats_le(&chunk, sets[s]->x, sets[s]->n * n_in);
    append_floats_le(&chunk, sets[s]->y, sets[s]->n * n_out);
    oc_sha256_update(&ctx, chunk.data, chunk.len);
  }
  oc_buf_free(&chunk);
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
}
