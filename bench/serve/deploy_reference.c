/* bench_serve: trains the reference network (Dense 64 -> BN -> Dropout 0.2 -> Dense 32 -> BN -> Dropout
 * -> Dense 7) on a data directory's stored series through the library (ETL, trainer, interval
 * calibration, registry) and deploys it to an endpoint: for bench/serve/run when no `oilcast train`
 * command is available, and for bench/serve_start/run, which also registers it as older oilcasts did,
 * without the calibration (`uncalibrated`).
 * Usage: bench_serve DATA_DIR SERIES ENDPOINT EPOCHS [uncalibrated]. Prints the deployed version. */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "features/etl.h"
#include "model/mlp_calibration.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "store/datadir.h"

int main(int argc, char **argv) {
  bool calibrate = argc == 5;
  if (argc != 5 && (argc != 6 || strcmp(argv[5], "uncalibrated") != 0)) {
    fprintf(stderr, "usage: %s DATA_DIR SERIES ENDPOINT EPOCHS [uncalibrated]\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1], *name = argv[2], *endpoint = argv[3];
  oc_error err;
  oc_store *store = NULL;
  oc_series history = {0};
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp net = {0};
  oc_model_card card = {0};
  oc_fit_result fit = {0};
  oc_etl_options eopt;
  oc_etl_options_default(&eopt);
  oc_train_params params = oc_train_params_default();
  params.epochs = atoi(argv[4]);
  oc_mlp_arch arch = oc_mlp_arch_default(1, 1);
  int64_t version = 0;
  int rc = oc_datadir_open(dir, &store, &err);
  if (rc == 0) rc = oc_store_series_load(store, name, OC_DATE_INVALID, OC_DATE_INVALID, &history, &err);
  if (rc == 0) rc = oc_etl_build(&history, NULL, 0, &eopt, &frame, NULL, &err);
  if (rc == 0) rc = oc_training_table_from_frame(&frame, &table, &err);
  if (rc == 0) rc = oc_train_on_table(&table, &arch, &params, "processed/training_data.parquet", NULL, NULL, &net, &card, &fit, &err);
  if (rc == 0 && calibrate) rc = oc_mlp_calibrate_on_store(store, &net, &card, &err);
  if (rc == 0) rc = oc_registry_publish(dir, store, &net, &card, &version, &err);
  if (rc == 0) rc = oc_registry_deploy(dir, store, endpoint, version, &err);
  if (rc != 0) fprintf(stderr, "bench_serve: %s\n", err.message);
  else printf("v%lld\n", (long long)version);
  if (fit.train_loss) oc_fit_result_free(&fit);
  oc_mlp_free(&net);
  if (card.version) oc_model_card_free(&card);
  if (table.features) oc_training_table_free(&table);
  oc_frame_free(&frame);
  if (history.name) oc_series_free(&history);
  oc_store_close(store);
  return rc == 0 ? 0 : 1;
}
