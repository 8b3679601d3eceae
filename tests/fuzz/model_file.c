/* model_file.c (fuzz target "model_file"): a network version's files as model_file.h reads them. The
 * input is model.json, optionally followed by a NUL byte and model.safetensors: the card goes through
 * oc_model_card_from_json, the tensors through oc_safetensors_decode for the card's architecture (or,
 * when the card is rejected, a small fixed one, so tensor files are fuzzed on their own too). Beyond
 * "no crash, no leak, no allocation the input's size does not justify" it asserts:
 *   - a rejected card or tensor file gets a message that names the file first;
 *   - a card read back is a fixed point: written (oc_model_card_to_json) and read again, it writes the
 *     same text;
 *   - decoded tensors encode (oc_safetensors_encode) to bytes that decode to the same floats.
 * The registry's own card check and forecaster versions are the target registry_card's. */
#include <string.h>

#include "core/buf.h"
#include "fuzz.h"
#include "model/mlp.h"
#include "model/model_file.h"

static void check_card(const char *text, oc_mlp_arch *arch, bool *have_arch) {
  oc_model_card card;
  oc_error err;
  *have_arch = oc_model_card_from_json(text, OC_MODEL_CARD_FILE, &card, arch, &err) == 0;
  if (!*have_arch) {
    FUZZ_CHECK(strncmp(err.message, OC_MODEL_CARD_FILE ":", strlen(OC_MODEL_CARD_FILE) + 1) == 0,
               "the error does not name the card: %s", err.message);
    return;
  }
  char *first = oc_model_card_to_json(&card, arch);
  oc_model_card again;
  oc_mlp_arch arch_again;
  FUZZ_CHECK(oc_model_card_from_json(first, OC_MODEL_CARD_FILE, &again, &arch_again, &err) == 0,
             "a card written back does not read: %s\n%s", err.message, first);
  char *second = oc_model_card_to_json(&again, &arch_again);
  FUZZ_CHECK(strcmp(first, second) == 0, "the card changes when written back:\n%s\n---\n%s", first, second);
  free(first);
  free(second);
  oc_model_card_free(&card);
  oc_model_card_free(&again);
}

static void check_tensors(const char *data, size_t len, const oc_mlp_arch *arch) {
  oc_mlp m;
  oc_error err;
  if (oc_safetensors_decode(data, len, arch, OC_MODEL_TENSORS_FILE, &m, &err) != 0) {
    FUZZ_CHECK(strncmp(err.message, OC_MODEL_TENSORS_FILE ":", strlen(OC_MODEL_TENSORS_FILE) + 1) == 0,
               "the error does not name the tensor file: %s", err.message);
    return;
  }
  oc_buf encoded = {0};
  oc_safetensors_encode(&m, &encoded);
  oc_mlp back;
  FUZZ_CHECK(oc_safetensors_decode(encoded.data, encoded.len, arch, OC_MODEL_TENSORS_FILE, &back, &err) == 0,
             "re-encoded tensors do not decode: %s", err.message);
  FUZZ_CHECK(back.n_floats == m.n_floats && memcmp(back.memory, m.memory, m.n_floats * sizeof *m.memory) == 0,
             "re-encoded tensors decode to other floats");
  oc_mlp_free(&back);
  oc_mlp_free(&m);
  oc_buf_free(&encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *nul = memchr(data, '\0', size);
  size_t card_len = nul ? (size_t)(nul - (const char *)data) : size;
  char *card_text = oc_xmalloc(card_len + 1);
  memcpy(card_text, data, card_len);
  card_text[card_len] = '\0';
  oc_mlp_arch arch;
  bool have_arch;
  check_card(card_text, &arch, &have_arch);
  free(card_text);
  if (!nul) return 0;
  if (!have_arch) arch = oc_mlp_arch_default(3, 2), arch.h1 = 4, arch.h2 = 2;
  check_tensors(nul + 1, size - card_len - 1, &arch);
  return 0;
}
