/* tune.c: random search and successive halving for the reference network (see tune.h). Sampling uses
 * one seeded generator in trial order; each fit's seed is the config seed plus the trial id, so a
 * trial trains identically whichever search method or thread count evaluates it. */
#include "model/tune.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "core/rng.h"

#define HALVING_ETA 3
#define HALVING_RUNGS 3

void oc_tune_config_default(oc_tune_config *c) {
  *c = (oc_tune_config){.trials = 50, .method = OC_TUNE_RANDOM, .threads = 2, .seed = 42, .folds = 3, .fold_share = 0.3,
                        .base = oc_train_params_default()};
}

int oc_tune_method_parse(const char *name, oc_tune_method *out) {
  if (strcmp(name, "random") == 0) *out = OC_TUNE_RANDOM;
  else if (strcmp(name, "halving") == 0) *out = OC_TUNE_HALVING;
  else return -1;
  return 0;
}

/* The search space. */
static void sample_trial(oc_rng *rng, const oc_training_table *t, const oc_tune_config *c, int id, oc_tune_trial *out) {
  static const int h1s[] = {16, 32, 64, 128}, h2s[] = {8, 16, 32, 64}, batches[] = {16, 32, 64, 128};
  out->id = id;
  out->arch = oc_mlp_arch_default((int)t->n_in, (int)t->n_out);
  out->arch.h1 = h1s[oc_rng_below(rng, 4)];
  int h2 = h2s[oc_rng_below(rng, 4)];
  out->arch.h2 = h2 < out->arch.h1 ? h2 : out->arch.h1;
  out->arch.dropout = (float)(0.5 * oc_rng_uniform(rng));
  out->params = c->base;
  out->params.learning_rate = (float)exp(log(1e-4) + (log(1e-2) - log(1e-4)) * oc_rng_uniform(rng));
  double wd = exp(log(1e-6) + (log(1e-2) - log(1e-6)) * oc_rng_uniform(rng));
  out->params.weight_decay = oc_rng_uniform(rng) < 0.25 ? 0.0f : (float)wd;
  out->params.batch_size = batches[oc_rng_below(rng, 4)];
  out->params.seed = c->seed + (uint64_t)id;
  out->score = INFINITY;
}

/* Fold k of K: validation block [v0, v1) inside the training rows; training rows [0, v0 - horizon). */
static void fold_bounds(const oc_training_table *t, const oc_tune_config *c, int k, size_t *train_n, size_t *v0, size_t *v1) {
  size_t n = t->n_train, span = (size_t)((double)n * c->fold_share), block = span / (size_t)c->folds;
  *v0 = n - span + (size_t)k * block;
  *v1 = k == c->folds - 1 ? n : *v0 + block;
  *train_n = *v0 > t->n_out ? *v0 - t->n_out : 0;
}

/* Evaluates trials[idx[0..m)] with `epochs` on every fold, setting their score and epochs. */
static int evaluate(const oc_training_table *t, const oc_tune_config *c, oc_tune_trial *trials, const size_t *idx, size_t m,
                    int epochs, oc_error *err) {
  size_t K = (size_t)c->folds, n_jobs = m * K;
  oc_fit_job *jobs = oc_xcalloc(n_jobs, sizeof *jobs);
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < K; k++) {
      oc_fit_job *j = &jobs[i * K + k];
      size_t train_n, v0, v1;
      fold_bounds(t, c, (int)k, &train_n, &v0, &v1);
      j->arch = trials[idx[i]].arch;
      j->params = trials[idx[i]].params;
      j->params.epochs = epochs;
      j->train = (oc_dataset){t->x_train, t->y_train, train_n};
      j->val = (oc_dataset){t->x_train + v0 * t->n_in, t->y_train + v0 * t->n_out, v1 - v0};
    }
  int rc = oc_mlp_fit_parallel(jobs, n_jobs, c->threads);
  for (size_t i = 0; i < m && rc == 0; i++) {
    double total = 0;
    for (size_t k = 0; k < K; k++) {
      oc_fit_job *j = &jobs[i * K + k];
      float *pred = oc_xmalloc(j->val.n * t->n_out * sizeof *pred);
      oc_mlp_workspace ws;
      oc_mlp_workspace_init(&ws, &j->model, 256);
      oc_mlp_predict(&j->model, &ws, j->val.x, j->val.n, pred);
      oc_mlp_workspace_free(&ws);
      double sae = 0;
      for (size_t r = 0; r < j->val.n * t->n_out; r++) sae += fabs((double)pred[r] - (double)j->val.y[r]);
      total += sae / (double)(j->val.n * t->n_out);
      free(pred);
    }
    trials[idx[i]].score = total / (double)K;
    trials[idx[i]].epochs = epochs;
  }
  if (rc != 0)
    for (size_t i = 0; i < n_jobs; i++)
      if (jobs[i].status != 0) {
        oc_error_set(err, "tuning trial %d, fold %zu: %s", trials[idx[i / K]].id, i % K + 1, jobs[i].error.message);
        break;
      }
  for (size_t i = 0; i < n_jobs; i++) {
    oc_mlp_free(&jobs[i].model);
    oc_fit_result_free(&jobs[i].result);
  }
  free(jobs);
  return rc;
}

static bool ranks_before(const oc_tune_trial *x, const oc_tune_trial *y) {
  if (x->epochs != y->epochs) return x->epochs > y->epochs;
  if (x->score != y->score) return x->score < y->score;
  return x->id < y->id;
}

/* Orders idx[0..m) best first: the largest budget, then the lowest score, then the lowest id (a total
 * order, so the ranking is deterministic). Insertion sort: m is a few hundred at most. */
static void rank(const oc_tune_trial *trials, size_t *idx, size_t m) {
  for (size_t i = 1; i < m; i++)
    for (size_t j = i; j > 0 && ranks_before(&trials[idx[j]], &trials[idx[j - 1]]); j--) {
      size_t tmp = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = tmp;
    }
}

int oc_tune_run(const oc_training_table *t, const oc_tune_config *c, oc_tune_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (c->trials < 1 || c->trials > 10000) return oc_error_set(err, "--trials %d is not in 1..10000", c->trials);
  if (c->folds < 1 || c->folds > 10) return oc_error_set(err, "tuning folds %d is not in 1..10", c->folds);
  size_t min_block = 10;
  if ((size_t)((double)t->n_train * c->fold_share) / (size_t)c->folds < min_block ||
      (double)t->n_train * (1 - c->fold_share) < (double)(2 * t->n_out + 20))
    return oc_error_set(err, "tuning needs more training rows than %zu for %d walk-forward folds", t->n_train, c->folds);
  double t0 = oc_monotonic_seconds();
  oc_rng rng;
  oc_rng_seed(&rng, c->seed);
  out->n = (size_t)c->trials;
  out->trials = oc_xcalloc(out->n, sizeof *out->trials);
  for (size_t i = 0; i < out->n; i++) sample_trial(&rng, t, c, (int)i + 1, &out->trials[i]);
  size_t *idx = oc_xmalloc(out->n * sizeof *idx);
  for (size_t i = 0; i < out->n; i++) idx[i] = i;
  int rc;
  if (c->method == OC_TUNE_RANDOM) {
    rc = evaluate(t, c, out->trials, idx, out->n, c->base.epochs, err);
  } else {
    /* successive halving: every trial on a small budget, the best third on three times more, ... */
    size_t alive = out->n;
    rc = 0;
    for (int rung = 0; rung < HALVING_RUNGS && rc == 0; rung++) {
      int epochs = c->base.epochs;
      for (int r = rung; r < HALVING_RUNGS - 1; r++) epochs /= HALVING_ETA;
      if (epochs < 1) epochs = 1;
      rc = evaluate(t, c, out->trials, idx, alive, epochs, err);
      rank(out->trials, idx, alive);
      size_t next = (alive + HALVING_ETA - 1) / HALVING_ETA;
      alive = next > 0 ? next : 1;
    }
  }
  free(idx);
  if (rc != 0) {
    oc_tune_result_free(out);
    return -1;
  }
  /* final order: copy through a ranked index */
  size_t *order = oc_xmalloc(out->n * sizeof *order);
  for (size_t i = 0; i < out->n; i++) order[i] = i;
  rank(out->trials, order, out->n);
  oc_tune_trial *sorted = oc_xmalloc(out->n * sizeof *sorted);
  for (size_t i = 0; i < out->n; i++) sorted[i] = out->trials[order[i]];
  free(order);
  free(out->trials);
  out->trials = sorted;
  out->seconds = oc_monotonic_seconds() - t0;
  return 0;
}

void oc_tune_result_free(oc_tune_result *r) {
  free(r->trials);
  memset(r, 0, sizeof *r);
}

void oc_tune_apply(const oc_tune_trial *trial, oc_mlp_arch *arch, oc_train_params *params) {
  arch->h1 = trial->arch.h1;
  arch->h2 = trial->arch.h2;
  arch->dropout = trial->arch.dropout;
  params->learning_rate = trial->params.learning_rate;
  params->weight_decay = trial->params.weight_decay;
  params->batch_size = trial->params.batch_size;
}

void oc_tune_format(const oc_tune_result *r, oc_buf *out) {
  oc_buf_printf(out, "%4s %5s %8s %9s %5s %5s %7s %9s %6s %6s\n", "rank", "trial", "score", "lr", "h1", "h2", "dropout",
                "w_decay", "batch", "epochs");
  for (size_t i = 0; i < r->n; i++) {
    const oc_tune_trial *x = &r->trials[i];
    oc_buf_printf(out, "%4zu %5d %8.6f %9.2e %5d %5d %7.3f %9.2e %6d %6d\n", i + 1, x->id, x->score,
                  (double)x->params.learning_rate, x->arch.h1, x->arch.h2, (double)x->arch.dropout,
                  (double)x->params.weight_decay, x->params.batch_size, x->epochs);
  }
}

int oc_tune_choose(const oc_training_table *t, const oc_tune_config *c, oc_mlp_arch *arch, oc_train_params *params,
                   oc_buf *report, oc_error *err) {
  oc_tune_result r;
  if (oc_tune_run(t, c, &r, err) != 0) return oc_error_prefix(err, "tuning: ");
  oc_buf_printf(report, "tuning: %zu trials (%s search, %d walk-forward folds of the training rows) in %.1f s\n", r.n,
                c->method == OC_TUNE_HALVING ? "successive halving" : "random", c->folds, r.seconds);
  oc_tune_format(&r, report);
  oc_tune_apply(&r.trials[0], arch, params);
  oc_buf_printf(report, "training trial %d: hidden %d,%d dropout %.3f learning rate %.3g weight decay %.3g batch %d\n",
                r.trials[0].id, arch->h1, arch->h2, (double)arch->dropout, (double)params->learning_rate,
                (double)params->weight_decay, params->batch_size);
  oc_tune_result_free(&r);
  return 0;
}
