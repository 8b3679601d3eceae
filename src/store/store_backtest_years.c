/* store_backtest_years.c: backend-independent helpers for the stored by-year robustness reports
 * (oc_backtest_years_record, store.h): freeing what a backend filled. Must not touch a backend. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void oc_backtest_years_record_free(oc_backtest_years_record *rec) {
  if (!rec) return;
  free(rec->series);
  free(rec->models);
  free(rec->exog);
  free(rec->report_json);
  memset(rec, 0, sizeof *rec);
}
