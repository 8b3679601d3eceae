/* oc_sgemm, the network's matrix product: every element is summed in the order layers.c states (a
 * sequential sum, or even and odd partial sums, by the element's place in the register blocks), for
 * every transpose and beta and for shapes with every remainder of the blocks; where OpenBLAS runs its
 * SSE3 ("Prescott") kernel, the one the reference figures were measured with, the products are
 * cblas_sgemm's bit for bit; and products longer than the fixed orders cover (K > 128) are exactly
 * cblas_sgemm's on any CPU. */
#include "testutil.h"

#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rng.h"
#include "model/layers.h"
#include "model/mlp.h"

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

/* The element (i, j) by the stated rule, scalar; false for the odd-M corner left to OpenBLAS. */
static bool reference_element(const product *p, int i, int j, float *out) {
  int M = p->M, N = p->N, K = p->K;
  int rows4 = M / 4 * 4, cols8 = N / 8 * 8, cols4 = N - cols8 >= 4 ? cols8 + 4 : cols8;
  bool last_odd_row = i >= rows4 && !(M - rows4 >= 2 && i < rows4 + 2);
  bool sequential = i < rows4 ? j < cols4 : !last_odd_row && j < cols8;
  if (last_odd_row && j >= cols4) return false;
  float acc;
  if (sequential) {
    acc = 0.0f;
    for (int k = 0; k < K; k++) acc = acc + a_at(p, i, k) * b_at(p, k, j);
  } else {
    float even = 0.0f, odd = 0.0f;
    int k = 0;
    for (; k < K / 8 * 8; k += 2) {
      even = even + a_at(p, i, k) * b_at(p, k, j);
      odd = odd + a_at(p, i, k + 1) * b_at(p, k + 1, j);
    }
    for (; k < K; k++) even = even + a_at(p, i, k) * b_at(p, k, j);
    acc = even + odd;
  }
  *out = (p->beta ? p->C[i * N + j] : 0.0f) + acc;
  return true;
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
static const int Ks[] = {1, 7, 8, 9, 27, 33, 64, 128};

/* Calls check(p, ours) for every transpose mode and beta the layers use, over the shapes above. */
static void for_each_product(const int *ks, size_t nk, void (*check)(const product *p, const float *ours)) {
  oc_rng rng;
  oc_rng_seed(&rng, 7);
  static const bool modes[][3] = {{false, true, true}, {false, false, false}, {true, false, false}, {false, false, true}};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
      for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
        for (size_t c = 0; c < nk; c++) {
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
      float want;
      if (!reference_element(p, i, j, &want)) continue;
      if (memcmp(&want, &ours[i * p->N + j], sizeof want) != 0)
        fail_msg("M=%d N=%d K=%d trans %d%d beta %d: C[%d,%d] = %.9g, the stated order gives %.9g", p->M, p->N, p->K,
                 p->trans_a, p->trans_b, p->beta, i, j, (double)ours[i * p->N + j], (double)want);
    }
}

static void test_orders_as_stated(void **state) {
  (void)state;
  oc_blas_use_one_thread();
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
  oc_blas_use_one_thread();
  if (strcasecmp(openblas_get_corename(), "prescott") != 0) {
    print_message("OpenBLAS runs its %s kernel here, not the Prescott one the orders come from\n",
                  openblas_get_corename());
    skip();
  }
  for_each_product(Ks, sizeof Ks / sizeof Ks[0], check_openblas);
}

static void test_long_sums_are_openblas(void **state) {
  (void)state;
  oc_blas_use_one_thread();
  static const int long_ks[] = {129, 300};
  for_each_product(long_ks, sizeof long_ks / sizeof long_ks[0], check_openblas);
}

/* A dense layer takes its bias as the first term of every sum (no copy into C first): bit for bit the
 * bias copied into C and the product added with beta, on every shape, the odd-M corner and the long
 * sums OpenBLAS takes included. */
static void test_dense_forward_is_bias_plus_product(void **state) {
  (void)state;
  oc_blas_use_one_thread();
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
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_orders_as_stated),
      cmocka_unit_test(test_matches_openblas_prescott),
      cmocka_unit_test(test_long_sums_are_openblas),
      cmocka_unit_test(test_dense_forward_is_bias_plus_product),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
