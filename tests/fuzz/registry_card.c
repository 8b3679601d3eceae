/* registry_card.c (fuzz target "registry_card"): a registered version's card as the registry checks it
 * before it reads any other file, and a forecaster version's state as the registry loads it. The input
 * is model.json, optionally followed by a NUL byte and forecaster.json. The card goes through
 * oc_registry_card_parse (as the version its "version" names, or v1); a forecaster card then meets the
 * state through oc_registry_forecaster_from_card twice: as the card stands (its forecaster_sha256 almost
 * never matches: the mismatch path) and with the state's real sha256 put in (so oc_forecaster_load
 * sees every state the fuzzer makes). Beyond "no crash, no leak" it asserts:
 *   - every error names the card or the state file first;
 *   - an accepted card has a known format and the version it was asked for;
 *   - a loaded forecaster has the card's kind, and its saved state is a fixed point of load-then-save.
 * (model_file covers the network's card and tensors, oc_model_card_from_json and safetensors.) */
#include <string.h>

#include "core/sha256.h"
#include "fuzz.h"
#include "model/registry.h"

#define CARD "v/model.json"
#define STATE "v/forecaster.json"

static bool names_a_file(const char *message) {
  return strncmp(message, CARD ":", strlen(CARD) + 1) == 0 || strncmp(message, STATE ":", strlen(STATE) + 1) == 0;
}

static void check_state(const json_t *card, const char *state, size_t len) {
  const char *kind = json_string_value(json_object_get(card, "kind"));
  oc_forecaster *f;
  oc_error err;
  if (oc_registry_forecaster_from_card(card, CARD, kind ? kind : "naive", state, len, STATE, &f, &err) != 0) {
    FUZZ_CHECK(names_a_file(err.message), "the error names no file: %s", err.message);
    return;
  }
  FUZZ_CHECK(kind && strcmp(oc_forecaster_kind(f), kind) == 0, "a %s model loaded for a card of kind %s",
             oc_forecaster_kind(f), kind ? kind : "(none)");
  char *saved = oc_forecaster_save(f);
  if (saved) {
    oc_forecaster *again = oc_forecaster_load(saved, &err);
    FUZZ_CHECK(again, "a saved forecaster does not load: %s\n%s", err.message, saved);
    char *resaved = oc_forecaster_save(again);
    FUZZ_CHECK(resaved && strcmp(saved, resaved) == 0, "a forecaster changes when saved again:\n%s\n---\n%s", saved,
               resaved ? resaved : "(null)");
    free(resaved);
    oc_forecaster_free(again);
    free(saved);
  }
  oc_forecaster_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data, *nul = memchr(data, '\0', size);
  size_t card_len = nul ? (size_t)(nul - text) : size;
  json_t *peek = json_loadb(text, card_len, 0, NULL);
  int64_t version = 1;
  const char *named = json_string_value(json_object_get(peek, "version"));
  if (named && oc_model_version_parse(named, &version) != 0) version = 1;
  json_decref(peek);
  json_t *card;
  oc_error err;
  if (oc_registry_card_parse(CARD, text, card_len, version, &card, &err) != 0) {
    FUZZ_CHECK(names_a_file(err.message), "the error names no file: %s", err.message);
    FUZZ_CHECK(!card, "a rejected card was handed out");
    return 0;
  }
  const char *format = json_string_value(json_object_get(card, "format"));
  FUZZ_CHECK(format && (strcmp(format, OC_FORECASTER_CARD_FORMAT) == 0 || strcmp(format, OC_MODEL_CARD_FORMAT) == 0),
             "accepted a card of format %s", format ? format : "(none)");
  char expect[32];
  snprintf(expect, sizeof expect, "v%lld", (long long)version);
  FUZZ_CHECK(strcmp(json_string_value(json_object_get(card, "version")), expect) == 0, "accepted a card of another version");
  if (nul && strcmp(format, OC_FORECASTER_CARD_FORMAT) == 0) {
    const char *state = nul + 1;
    size_t state_len = size - card_len - 1;
    check_state(card, state, state_len);
    char sha[65];
    oc_sha256_hex(state, state_len, sha);
    json_object_set_new(card, "forecaster_sha256", json_string(sha));
    check_state(card, state, state_len);
  }
  json_decref(card);
  return 0;
}
