/* train.c: see train.h. */
#include "model/train.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/progress.h"
#include "core/rng.h"
#include "model/layers.h"

/* Keras ReduceLROnPlateau's default: an epoch improves only when it beats the best by this much. */
#define OC_PLATEAU_MIN_DELTA 1e-4f

oc_train_params oc_train_params_default(void) {
  return (oc_train_params){.epochs = 100, .batch_size = 32, .learning_rate = 1e-3f, .weight_decay = 0.0f,
                           .loss = OC_LOSS_MSE, .huber_delta = 1.0f, .adam_beta1 = 0.9f, .adam_beta2 = 0.999f,
                           .adam_epsilon = 1e-7f, .early_stopping_patience = 10, .lr_patience = 5,
                           .lr_factor = 0.5f, .min_lr = 1e-6f, .seed = 42};
}

int oc_train_params_check(const oc_train_params *p, oc_error *err) {
  if (p->epochs < 1 || p->epochs > 100000) return oc_error_set(err, "epochs %d is not in 1..100000", p->epochs);
  if (p->batch_size < 1 || p->batch_size > 65536)
    return oc_error_set(err, "batch size %d is not in 1..65536", p->batch_size);
  if (!(p->learning_rate > 0.0f && p->learning_rate <= 10.0f))
    return oc_error_set(err, "learning rate %g is not in (0, 10]", p->learning_rate);
  if (!(p->weight_decay >= 0.0f && p->learning_rate * p->weight_decay < 1.0f))
    return oc_error_set(err, "weight decay %g must be >= 0 with learning_rate * weight_decay < 1", p->weight_decay);
  if (p->loss != OC_LOSS_MSE && p->loss != OC_LOSS_HUBER) return oc_error_set(err, "unknown loss %d", (int)p->loss);
  if (!(p->huber_delta > 0.0f)) return oc_error_set(err, "huber delta %g must be > 0", p->huber_delta);
  if (!(p->adam_beta1 >= 0.0f && p->adam_beta1 < 1.0f && p->adam_beta2 >= 0.0f && p->adam_beta2 < 1.0f))
    return oc_error_set(err, "Adam betas %g, %g must be in [0, 1)", p->adam_beta1, p->adam_beta2);
  if (!(p->adam_epsilon > 0.0f)) return oc_error_set(err, "Adam epsilon %g must be > 0", p->adam_epsilon);
  if (p->early_stopping_patience < 0 || p->lr_patience < 0)
    return oc_error_set(err, "patience values must be >= 0 (0 disables)");
  if (!(p->lr_factor > 0.0f && p->lr_factor < 1.0f))
    return oc_error_set(err, "learning-rate factor %g is not in (0, 1)", p->lr_factor);
  if (!(p->min_lr >= 0.0f)) return oc_error_set(err, "minimum learning rate %g must be >= 0", p->min_lr);
  return 0;
}

const char *oc_loss_name(oc_loss_kind loss) { return loss == OC_LOSS_HUBER ? "huber" : "mse"; }

int oc_loss_parse(const char *name, oc_loss_kind *out) {
  if (strcmp(name, "mse") == 0) *out = OC_LOSS_MSE;
  else if (strcmp(name, "huber") == 0) *out = OC_LOSS_HUBER;
  else return -1;
  return 0;
}

float oc_loss_eval(oc_loss_kind loss, float huber_delta, float *dpred, const float *pred, const float *target, size_t N) {
  return loss == OC_LOSS_HUBER ? oc_huber_loss(dpred, pred, target, N, huber_delta) : oc_mse_loss(dpred, pred, target, N);
}

void oc_fit_result_free(oc_fit_result *r) {
  free(r->train_loss);
  free(r->val_loss);
  memset(r, 0, sizeof *r);
}

static int check_dataset(const char *what, const oc_dataset *d, const oc_mlp_arch *a, oc_error *err) {
  if (d->n > 0 && (!d->x || !d->y)) return oc_error_set(err, "%s set has %zu rows but no data", what, d->n);
  if (d->n > UINT32_MAX) return oc_error_set(err, "%s set has %zu rows (at most %u)", what, d->n, UINT32_MAX);
  for (size_t i = 0; i < d->n * (size_t)a->n_in; i++)
    if (!isfinite(d->x[i]))
      return oc_error_set(err, "%s set: feature %zu of row %zu is not finite", what, i % (size_t)a->n_in, i / (size_t)a->n_in);
  for (size_t i = 0; i < d->n * (size_t)a->n_out; i++)
    if (!isfinite(d->y[i]))
      return oc_error_set(err, "%s set: target %zu of row %zu is not finite", what, i % (size_t)a->n_out, i / (size_t)a->n_out);
  return 0;
}

/* Everything a fit allocates, once. */
typedef struct fit_state {
  oc_mlp_workspace ws;
  float *xb, *yb;    /* the gathered batch [batch, n_in], [batch, H] */
  float *pred;       /* validation predictions [val.n, H] */
  float *adam_m, *adam_v;
  float *best;       /* best weights and running statistics [n_floats] */
  uint32_t *order;   /* shuffled row indices [train.n] */
} fit_state;

static void fit_state_free(fit_state *s) {
  oc_mlp_workspace_free(&s->ws);
  free(s->xb);
  free(s->yb);
  free(s->pred);
  free(s->adam_m);
  free(s->adam_v);
  free(s->best);
  free(s->order);
}

static float validation_loss(const oc_mlp *m, fit_state *s, const oc_train_params *p, const oc_dataset *val) {
  oc_mlp_predict(m, &s->ws, val->x, val->n, s->pred);
  return oc_loss_eval(p->loss, p->huber_delta, NULL, s->pred, val->y, val->n * (size_t)m->arch.n_out);
}

/* One epoch over the shuffled training rows; returns the row-weighted mean batch loss. */
static float train_epoch(oc_mlp *m, fit_state *s, const oc_train_params *p, const oc_dataset *train, float lr,
                         long *step, oc_rng *rng) {
  const size_t n_in = (size_t)m->arch.n_in, H = (size_t)m->arch.n_out;
  oc_rng_shuffle(rng, s->order, train->n);
  double loss_sum = 0.0;
  for (size_t start = 0; start < train->n; start += (size_t)p->batch_size) {
    int B = (int)(train->n - start < (size_t)p->batch_size ? train->n - start : (size_t)p->batch_size);
    for (int b = 0; b < B; b++) {
      size_t r = s->order[start + (size_t)b];
      memcpy(s->xb + (size_t)b * n_in, train->x + r * n_in, n_in * sizeof(float));
      memcpy(s->yb + (size_t)b * H, train->y + r * H, H * sizeof(float));
    }
    oc_mlp_draw_masks(m, &s->ws, B, rng);
    oc_mlp_forward_train(m, &s->ws, s->xb, B);
    float loss = oc_loss_eval(p->loss, p->huber_delta, s->ws.dout, s->ws.out, s->yb, (size_t)B * H);
    loss_sum += (double)loss * B;
    oc_mlp_backward(m, &s->ws, s->xb, B);
    ++*step;
    const float alpha = oc_adam_step_size(lr, p->adam_beta1, p->adam_beta2, *step);
    for (int t = 0; t < OC_MLP_NPARAMS; t++) {
      const oc_mlp_tensor *ten = &m->tensors[t];
      bool decays = t == OC_MLP_DENSE1_W || t == OC_MLP_DENSE2_W || t == OC_MLP_DENSE3_W;
      oc_adam_apply(m->memory + ten->offset, s->ws.grads + ten->offset, s->adam_m + ten->offset,
                    s->adam_v + ten->offset, ten->size, alpha, lr, p->adam_beta1, p->adam_beta2, p->adam_epsilon,
                    decays ? p->weight_decay : 0.0f);
    }
  }
  return (float)(loss_sum / (double)train->n);
}

int oc_mlp_fit(const oc_mlp_arch *arch, const oc_train_params *p, const oc_dataset *train, const oc_dataset *val,
               oc_epoch_callback on_epoch, void *ctx, oc_mlp *model, oc_fit_result *result, oc_error *err) {
  memset(model, 0, sizeof *model);
  memset(result, 0, sizeof *result);
  char msg[256];
  if (oc_mlp_arch_check(arch, msg, sizeof msg) != 0) return oc_error_set(err, "invalid network: %s", msg);
  if (oc_train_params_check(p, err) != 0) return oc_error_prefix(err, "invalid training parameters: ");
  if (train->n == 0) return oc_error_set(err, "no training rows");
  if (check_dataset("training", train, arch, err) != 0 || check_dataset("validation", val, arch, err) != 0) return -1;
  unsigned fp_saved = oc_fp_flush_denormals_begin();
  double t0 = oc_monotonic_seconds();

  oc_rng rng;
  oc_rng_seed(&rng, p->seed);
  oc_mlp_init(model, arch);
  oc_mlp_randomize(model, &rng);

  fit_state s = {0};
  const int eval_rows = 256; /* predictions run in chunks this big, batches in batch_size */
  oc_mlp_workspace_init(&s.ws, model, p->batch_size > eval_rows ? p->batch_size : eval_rows);
  s.xb = oc_xmalloc((size_t)p->batch_size * arch->n_in * sizeof(float));
  s.yb = oc_xmalloc((size_t)p->batch_size * arch->n_out * sizeof(float));
  s.pred = oc_xmalloc((val->n > 0 ? val->n : 1) * (size_t)arch->n_out * sizeof(float));
  s.adam_m = oc_xcalloc(model->n_params, sizeof(float));
  s.adam_v = oc_xcalloc(model->n_params, sizeof(float));
  s.best = oc_xmalloc(model->n_floats * sizeof(float));
  s.order = oc_xmalloc(train->n * sizeof(uint32_t));
  for (size_t i = 0; i < train->n; i++) s.order[i] = (uint32_t)i;
  result->train_loss = oc_xmalloc((size_t)p->epochs * sizeof(float));
  result->val_loss = oc_xmalloc((size_t)p->epochs * sizeof(float));

  float lr = p->learning_rate;
  float best = INFINITY, plateau_best = INFINITY;
  int since_best = 0, since_plateau_best = 0;
  long step = 0;
  int rc = 0;
  for (int epoch = 1; epoch <= p->epochs; epoch++) {
    float train_loss = train_epoch(model, &s, p, train, lr, &step, &rng);
    float val_loss = val->n > 0 ? validation_loss(model, &s, p, val) : NAN;
    result->train_loss[epoch - 1] = train_loss;
    result->val_loss[epoch - 1] = val_loss;
    result->epochs_run = epoch;
    if (!isfinite(train_loss) || (val->n > 0 && !isfinite(val_loss))) {
      rc = oc_error_set(err, "training diverged at epoch %d (train loss %g, validation loss %g); try a lower learning rate",
                        epoch, train_loss, val_loss);
      break;
    }
    float watched = val->n > 0 ? val_loss : train_loss;
    if (on_epoch) on_epoch(ctx, epoch, p->epochs, train_loss, val_loss, lr);
    if (watched < best) {
      best = watched;
      since_best = 0;
      result->best_epoch = epoch;
      memcpy(s.best, model->memory, model->n_floats * sizeof(float));
    } else {
      since_best++;
    }
    if (watched < plateau_best - OC_PLATEAU_MIN_DELTA) {
      plateau_best = watched;
      since_plateau_best = 0;
    } else if (p->lr_patience > 0 && ++since_plateau_best >= p->lr_patience) {
      lr = fmaxf(lr * p->lr_factor, p->min_lr);
      since_plateau_best = 0;
    }
    if (p->early_stopping_patience > 0 && since_best >= p->early_stopping_patience) break;
  }
  if (rc == 0) {
    memcpy(model->memory, s.best, model->n_floats * sizeof(float));
    result->best_val_loss = best;
    result->final_lr = lr;
    result->seconds = oc_monotonic_seconds() - t0;
  } else {
    oc_mlp_free(model);
    oc_fit_result_free(result);
  }
  fit_state_free(&s);
  oc_fp_flush_denormals_end(fp_saved);
  return rc;
}

typedef struct pool {
  oc_fit_job *jobs;
  size_t n;
  atomic_size_t next;
} pool;

static void *pool_worker(void *arg) {
  pool *pl = arg;
  for (size_t i; (i = atomic_fetch_add(&pl->next, 1)) < pl->n;) {
    oc_fit_job *j = &pl->jobs[i];
    oc_error_clear(&j->error);
    j->status = oc_mlp_fit(&j->arch, &j->params, &j->train, &j->val, NULL, NULL, &j->model, &j->result, &j->error);
  }
  return NULL;
}

int oc_mlp_fit_parallel(oc_fit_job *jobs, size_t n, int threads) {
  pool pl = {.jobs = jobs, .n = n};
  atomic_init(&pl.next, 0);
  size_t extra = threads > 1 ? (size_t)threads - 1 : 0;
  if (extra > n) extra = n;
  pthread_t *tids = oc_xcalloc(extra ? extra : 1, sizeof *tids);
  size_t started = 0;
  for (; started < extra; started++)
    if (pthread_create(&tids[started], NULL, pool_worker, &pl) != 0) break; /* fewer threads is still correct */
  pool_worker(&pl);
  for (size_t i = 0; i < started; i++) pthread_join(tids[i], NULL);
  free(tids);
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if (jobs[i].status != 0) rc = -1;
  return rc;
}
