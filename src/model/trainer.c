/* trainer.c: see trainer.h. */
#include "model/trainer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "oc_version.h"

static char **copy_names(char **names, size_t n) {
  char **out = oc_xcalloc(n, sizeof *out);
  for (size_t i = 0; i < n; i++) out[i] = oc_xstrdup(names[i]);
  return out;
}

static char *or_default(const char *s, const char *fallback) { return oc_xstrdup(s ? s : fallback); }

/* The network's validation MAE in price units, and the no-change forecast's on the same rows. */
static void price_mae_on_validation(const oc_training_table *t, const oc_mlp *model, oc_model_metrics *mt) {
  float *pred = oc_xmalloc(t->n_val * t->n_out * sizeof(float));
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, model, 256);
  oc_mlp_predict(model, &ws, t->x_val, t->n_val, pred);
  oc_mlp_workspace_free(&ws);
  oc_price_mae(pred, t->y_val, t->close_val, t->n_val, t->n_out, &mt->val_mae_price, &mt->naive_mae_price);
  free(pred);
}

/* The card's bag: k networks of seeds first_seed .. first_seed + k - 1. */
static void record_bag(oc_model_card *card, uint64_t first_seed, size_t k) {
  free(card->bag_seeds);
  card->bag_networks = k;
  card->bag_seeds = oc_xcalloc(k, sizeof *card->bag_seeds);
  for (size_t i = 0; i < k; i++) card->bag_seeds[i] = first_seed + i;
}

int oc_train_on_table(const oc_training_table *t, const oc_mlp_arch *arch_in, const oc_train_params *params,
                      const char *data_path, oc_epoch_callback on_epoch, void *ctx, oc_mlp *model,
                      oc_model_card *card, oc_fit_result *result, oc_error *err) {
  memset(card, 0, sizeof *card);
  oc_mlp_arch arch = *arch_in;
  arch.n_in = (int)t->n_in;
  arch.n_out = (int)t->n_out;
  oc_dataset train = oc_training_table_train(t), val = oc_training_table_val(t);
  char end[OC_DATE_STRLEN];
  if (t->n_val == 0)
    return oc_error_set(err, "the training table has no complete row after its train_end %s: validation rows are "
                        "needed for early stopping and for the report", oc_date_format(t->train_end, end));
  if (oc_mlp_fit(&arch, params, &train, &val, on_epoch, ctx, model, result, err) != 0) return -1;

  oc_model_metrics *mt = &card->metrics;
  mt->epochs_run = result->epochs_run;
  mt->best_epoch = result->best_epoch;
  mt->train_loss = result->train_loss[result->best_epoch - 1];
  mt->val_loss = result->best_val_loss;
  mt->train_seconds = result->seconds;
  price_mae_on_validation(t, model, mt);
  card->version = oc_xstrdup("");
  card->series = or_default(t->series, "");
  card->n_features = t->n_in;
  card->features = copy_names(t->features, t->n_in);
  card->n_targets = t->n_out;
  card->targets = copy_names(t->targets, t->n_out);
  card->normalization_json = oc_model_card_json_as_kept(t->normalization_json);
  card->policies_json = oc_model_card_json_as_kept(t->policies_json);
  card->data_path = oc_xstrdup(data_path);
  card->source_checksum = or_default(t->source_checksum, "");
  char sha[65];
  oc_training_data_sha256(&train, &val, t->n_in, t->n_out, sha);
  card->data_sha256 = oc_xstrdup(sha);
  card->train_end = t->train_end;
  card->train_rows = t->n_train;
  card->val_rows = t->n_val;
  card->params = *params;
  record_bag(card, params->seed, 1);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  card->created = oc_xstrdup(stamp);
  card->oilcast_version = oc_xstrdup(OILCAST_VERSION);
  return 0;
}

/* One network's epochs as the bag's progress (an oc_epoch_callback's ctx). */
typedef struct bag_progress {
  oc_train_progress_callback report;
  void *ctx;
  oc_train_progress at;
} bag_progress;

static void report_epoch(void *ctx, int epoch, int epochs, float train_loss, float val_loss, float lr) {
  bag_progress *bp = ctx;
  oc_train_progress *at = &bp->at;
  assert(epochs == at->epochs && epoch >= 1 && epoch <= epochs);
  at->epoch = epoch;
  at->done = (uint64_t)(at->network - 1) * (uint64_t)epochs + (uint64_t)epoch;
  at->train_loss = train_loss;
  at->val_loss = val_loss;
  at->lr = lr;
  bp->report(bp->ctx, at);
}

/* The call after a network's last epoch: its share of the bag done, whenever it stopped. */
static void report_network_done(bag_progress *bp, const oc_fit_result *fit) {
  oc_train_progress *at = &bp->at;
  assert(fit->epochs_run >= 1);
  at->epoch = fit->epochs_run;
  at->done = (uint64_t)at->network * (uint64_t)at->epochs;
  at->network_done = true;
  at->train_loss = fit->train_loss[fit->epochs_run - 1];
  at->val_loss = fit->val_loss[fit->epochs_run - 1];
  at->lr = fit->final_lr;
  bp->report(bp->ctx, at);
  at->network_done = false;
}

int oc_train_bag_on_table(const oc_training_table *t, const oc_mlp_arch *arch, const oc_train_params *params, size_t k,
                          const char *data_path, oc_train_progress_callback on_progress, void *ctx, oc_mlp *model,
                          oc_model_card *card, oc_fit_result *result, oc_error *err) {
  assert(k >= 1);
  bag_progress bp = {.report = on_progress, .ctx = ctx,
                     .at = {.networks = k, .epochs = params->epochs, .total = (uint64_t)k * (uint64_t)params->epochs}};
  oc_mlp *nets = oc_xcalloc(k, sizeof *nets);
  double val_loss = 0, seconds = 0;
  size_t fitted = 0;
  int rc = 0;
  for (; rc == 0 && fitted < k; fitted++) {
    oc_train_params p = *params;
    p.seed = params->seed + fitted;
    oc_model_card member_card;
    oc_fit_result member_fit;
    oc_model_card *c = fitted == 0 ? card : &member_card;
    oc_fit_result *f = fitted == 0 ? result : &member_fit;
    bp.at.network = fitted + 1;
    rc = oc_train_on_table(t, arch, &p, data_path, on_progress ? report_epoch : NULL, &bp, &nets[fitted], c, f, err);
    if (rc != 0) break;
    if (on_progress) report_network_done(&bp, f);
    val_loss += c->metrics.val_loss / (double)k;
    seconds += f->seconds;
    if (fitted > 0) {
      oc_model_card_free(&member_card);
      oc_fit_result_free(&member_fit);
    }
  }
  if (rc == 0 && k == 1) {
    *model = nets[0]; /* the one network is the model (nothing to merge), no longer nets' to free */
    fitted = 0;
  } else if (rc == 0) {
    oc_mlp_bag_merge(nets, k, model);
    record_bag(card, params->seed, k);
    card->metrics.val_loss = val_loss;
    card->metrics.train_seconds = result->seconds = seconds;
    price_mae_on_validation(t, model, &card->metrics);
  } else if (fitted > 0) { /* the first network's card and fit were filled */
    oc_model_card_free(card);
    oc_fit_result_free(result);
  }
  for (size_t j = 0; j < fitted; j++) oc_mlp_free(&nets[j]);
  free(nets);
  return rc;
}
