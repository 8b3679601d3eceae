/* oc_sgemm, the network's matrix product: every element is summed in the order layers.c states (a
 * sequential sum, even and odd partial sums, or the odd-M corner's eight or four, by the element's
 * place in the register blocks; a sum longer than 128 in blocks), for every transpose and beta and for
 * shapes with every remainder of the blocks; and the products are cblas_sgemm's bit for bit when
 * OpenBLAS runs its SSE3 ("Prescott") kernel, the one the reference figures were measured with (ctest
 * runs this test with OPENBLAS_CORETYPE=Prescott, so that comparison runs on any x86-64 CPU). */
#include "testutil.h"

#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rng.h"
#include "model/layers.h"

typedef struct product {
  bool trans_a, trans_b, beta;
  int M, N, K;
  float *A, *B, *C; /* C holds the initial values */
} product;

static product make_product(oc_rng *rng, bool trans_a, bool trans_b, bool beta, int M, int N, int K) {
  product p = {trans_a, trans_b, beta, M, N, K, NULL, NULL, NULL};
  p.A = malloc((size_t)M * (size_t)K * sizeof(float));
  p.B = malloc((size_t)K * (size_t)N * sizeof(float));
  p.C = malloc((size_t)M * (size_t)N * sizeof(float));
  /* spread magnitudes so that a different summation order changes the last bits */
  for (int i = 0; i < M * K; i++) p.A[i] = (float)(oc_rng_normal(rng) * (1 + oc_rng_uniform(rng) * 50));
  for (int i = 0; i < K * N; i++) p.B[i] = (float)(oc_rng_normal(rng) * (1 + oc_rng_uniform(rng) * 50));
  for (int i = 0; i < M * N; i++) p.C[i] = (float)oc_rng_normal(rng);
  return p;
}

static void product_free(product *p) {
  free(p->A);
  free(p->B);
  free(p->C);
}

static float a_at(const product *p, int i, int k) { return p->trans_a ? p->A[k * p->M + i] : p->A[i * p->K + k]; }
static float b_at(const product *p, int k, int j) { return p->trans_b ? p->B[j * p->K + k] : p->B[k * p->N + j]; }

/* Partial sums of a_at(i, k0 + k) * b_at(k0 + k, j): s[k % lanes] for k < whole, the rest into s[0]. */
static void partial_sums(const product *p, int i, int j, int k0, int K, int lanes, int whole, float *s) {
  for (int l = 0; l < lanes; l++) s[l] = 0.0f;
  for (int k = 0; k < K; k++) {
    int l = k < whole ? k % lanes : 0;
    s[l] = s[l] + a_at(p, i, k0 + k) * b_at(p, k0 + k, j);
  }
}

/* The sum over k0 <= k < k0 + K of element (i, j) by the stated rule, scalar. */
static float reference_sum(const product *p, int i, int j, int k0, int K) {
  int M = p->M, N = p->N;
  int rows4 = M / 4 * 4, cols8 = N / 8 * 8, cols4 = N - cols8 >= 4 ? cols8 + 4 : cols8;
  bool last_odd_row = i >= rows4 && !(M - rows4 >= 2 && i < rows4 + 2);
  bool sequential = i < rows4 ? j < cols4 : !last_odd_row && j < cols8;
  float s[8];
  if (last_odd_row && j >= cols4 && N - cols4 >= 2 && j < cols4 + 2) { /* the corner's block of 2 */
    partial_sums(p, i, j, k0, K, 8, K / 16 * 16, s);
    return ((s[0] + s[2]) + (s[4] + s[6])) + ((s[1] + s[3]) + (s[5] + s[7]));
  }
  if (last_odd_row && j >= cols4) { /* the corner's block of 1 */
    partial_sums(p, i, j, k0, K, 4, K / 8 * 8, s);
    return (s[0] + s[1]) + (s[2] + s[3]);
  }
  if (sequential) {
    partial_sums(p, i, j, k0, K, 1, K, s);
    return s[0];
  }
  partial_sums(p, i, j, k0, K, 2, K / 8 * 8, s);
  return s[0] + s[1];
}

/* The element (i, j) by the stated rule: a sum longer than 128 in OpenBLAS' blocks (128 while twice
 * that is left, then two halves, the first rounded up to a multiple of 8), each added to C in turn. */
static float reference_element(const product *p, int i, int j) {
  float c = p->beta ? p->C[i * p->N + j] : 0.0f;
  for (int k0 = 0; k0 < p->K;) {
    int left = p->K - k0, block = left >= 256 ? 128 : left > 128 ? (left / 2 + 7) / 8 * 8 : left;
    c = c + reference_sum(p, i, j, k0, block);
    k0 += block;
  }
  return c;
}

static float *run_ours(const product *p) {
  float *c = malloc((size_t)p->M * (size_t)p->N * sizeof(float));
  memcpy(c, p->C, (size_t)p->M * (size_t)p->N * sizeof(float));
  oc_sgemm(p->trans_a, p->trans_b, p->M, p->N, p->K, p->A, p->trans_a ? p->M : p->K, p->B, p->trans_b ? p->K : p->N,
           p->beta, c, p->N);
  return c;
}

static float *run_openblas(const product *p) {
  float *c = malloc((size_t)p->M * (size_t)p->N * sizeof(float));
  memcpy(c, p->C, (size_t)p->M * (size_t)p->N * sizeof(float));
  cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans, p->trans_b ? CblasTrans : CblasNoTrans, p->M, p->N,
              p->K, 1.0f, p->A, p->trans_a ? p->M : p->K, p->B, p->trans_b ? p->K : p->N, p->beta ? 1.0f : 0.0f, c, p->N);
  return c;
}

static const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 33};
static const int Ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 27, 32, 48, 64, 70, 128}; /* multiples of 16: B read in place */
static const int Ks[] = {1, 7, 8, 9, 15, 16, 17, 27, 33, 64, 128, 129, 300};

/* Calls check(p, ours) for every transpose mode and beta the layers use, over the shapes above. */
static void for_each_product(const int *ks, size_t nk, void (*check)(const product *p, const float *ours)) {
  oc_rng rng;
  oc_rng_seed(&rng, 7);
  static const bool modes[][3] = {{false, true, true}, {false, false, false}, {true, false, false}, {false, false, true}};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
      for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
        for (size_t c = 0; c < nk; c++) {
          if (ks[c] > 128 && Ns[b] > 32) continue; /* the long sums' blocks on the narrower shapes: every
                                                    * remainder of the blocks still, at a tenth of the cost */
          product p = make_product(&rng, modes[m][0], modes[m][1], modes[m][2], Ms[a], Ns[b], ks[c]);
          float *ours = run_ours(&p);
          check(&p, ours);
          free(ours);
          product_free(&p);
        }
}

static void check_reference(const product *p, const float *ours) {
  for (int i = 0; i < p->M; i++)
    for (int j = 0; j < p->N; j++) {
      float want = reference_element(p, i, j);
      if (memcmp(&want, &ours[i * p->N + j], sizeof want) != 0)
        fail_msg("M=%d N=%d K=%d trans %d%d beta %d: C[%d,%d] = %.9g, the stated order gives %.9g", p->M, p->N, p->K,
                 p->trans_a, p->trans_b, p->beta, i, j, (double)ours[i * p->N + j], (double)want);
    }
}

static void test_orders_as_stated(void **state) {
  (void)state;
  for_each_product(Ks, sizeof Ks / sizeof Ks[0], check_reference);
}

static void check_openblas(const product *p, const float *ours) {
  float *theirs = run_openblas(p);
  for (int i = 0; i < p->M * p->N; i++)
    if (memcmp(&theirs[i], &ours[i], sizeof(float)) != 0)
      fail_msg("M=%d N=%d K=%d trans %d%d beta %d: element %d is %.9g, OpenBLAS %.9g", p->M, p->N, p->K, p->trans_a,
               p->trans_b, p->beta, i, (double)ours[i], (double)theirs[i]);
  free(theirs);
}

static void test_matches_openblas_prescott(void **state) {
  (void)state;
  if (strcasecmp(openblas_get_corename(), "prescott") != 0) {
    print_message("OpenBLAS runs its %s kernel here, not the Prescott one the orders come from "
                  "(run with OPENBLAS_CORETYPE=Prescott, as ctest does)\n",
                  openblas_get_corename());
    skip();
  }
  for_each_product(Ks, sizeof Ks / sizeof Ks[0], check_openblas);
}

/* A dense layer takes its bias as the first term of every sum (no copy into C first): bit for bit the
 * bias copied into C and the product added with beta, on every shape, the odd-M corner and the long
 * sums included. */
static void test_dense_forward_is_bias_plus_product(void **state) {
  (void)state;
  oc_rng rng;
  oc_rng_seed(&rng, 11);
  static const int ks[] = {1, 7, 9, 41, 64, 128, 129};
  for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
    for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
      for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        int M = Ms[a], N = Ns[b], K = ks[c];
        product p = make_product(&rng, false, true, true, M, N, K);
        float *bias = malloc((size_t)N * sizeof *bias), *ours = malloc((size_t)M * (size_t)N * sizeof *ours);
        for (int j = 0; j < N; j++) bias[j] = (float)oc_rng_normal(&rng);
        for (int i = 0; i < M; i++) memcpy(p.C + (size_t)i * (size_t)N, bias, (size_t)N * sizeof *bias);
        oc_sgemm(false, true, M, N, K, p.A, K, p.B, K, true, p.C, N);
        oc_dense_forward(ours, p.A, p.B, bias, M, K, N);
        for (int i = 0; i < M * N; i++)
          if (memcmp(&ours[i], &p.C[i], sizeof(float)) != 0)
            fail_msg("M=%d N=%d K=%d: element %d is %.9g, bias then product gives %.9g", M, N, K, i, (double)ours[i],
                     (double)p.C[i]);
        free(bias);
        free(ours);
        product_free(&p);
      }
}

int main(void) {
  openblas_set_num_threads(1); /* the reference's sums: with threads OpenBLAS splits long ones otherwise */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_orders_as_stated),
      cmocka_unit_test(test_matches_openblas_prescott),
      cmocka_unit_test(test_dense_forward_is_bias_plus_product),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
