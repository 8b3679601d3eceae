/* Unit tests for input drift (model/feature_reference.h, monitor/drift.h): PSI and KS against answers
 * worked by hand (below each case); the reference block's deciles, shares and ECDF quantiles of a
 * known set of returns; and, through training and the store, a deployed version's card carries the
 * reference, the recent input drawn like the training data shows no drift, and 60 days of ten times
 * the volatility show significant drift by both figures (and reach the monitor's figures). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/fsutil.h"
#include "model/feature_reference.h"
#include "monitor/drift.h"
#include "monitor/health.h"
#include "pipeline/train.h"

static void test_psi_known_answers(void **state) {
  (void)state;
  /* bins (-inf,0], (0,inf) with shares 0.5/0.5; recent 3 of 4 below: q = 0.75/0.25:
   * (0.75-0.5) ln(1.5) + (0.25-0.5) ln(0.5) = 0.25 (0.405465 + 0.693147) = 0.274653 */
  double edges[] = {0}, shares[] = {0.5, 0.5}, recent[] = {-1, -1, -1, 1};
  assert_true(oc_test_close(oc_drift_psi(edges, shares, 2, recent, 4), 0.2746530722, 1e-9));
  /* the same shares: 0; an empty recent bin counts at the 1e-4 floor:
   * (1e-4 - 0.5) ln(1e-4 / 0.5) + (1 - 0.5) ln(1 / 0.5) = 4.257745 + 0.346574 = 4.604318 */
  double even[] = {-1, 1};
  assert_true(oc_drift_psi(edges, shares, 2, even, 2) == 0);
  double above[] = {1, 2};
  assert_true(oc_test_close(oc_drift_psi(edges, shares, 2, above, 2), 4.6043184667, 1e-9));
  assert_string_equal(oc_drift_psi_band(0.05), "none");
  assert_string_equal(oc_drift_psi_band(0.1), "moderate");
  assert_string_equal(oc_drift_psi_band(0.25), "significant");
}

static void test_ks_known_answers(void **state) {
  (void)state;
  /* F_ref steps 1/4 at 1, 2, 3, 4; F_recent 1/2 at 2.5 and 3.5. At 2: 0.5 vs 0 -> 0.5 (the sup) */
  double q[] = {1, 2, 3, 4}, r[] = {2.5, 3.5};
  assert_true(oc_test_close(oc_drift_ks(q, 4, r, 2), 0.5, 1e-12));
  assert_true(oc_drift_ks(q, 4, q, 4) == 0);
  double far[] = {10, 11};
  assert_true(oc_drift_ks(q, 4, far, 2) == 1);
  double ties[] = {2, 2, 2, 2}; /* at 2: 0.5 vs 1 */
  assert_true(oc_test_close(oc_drift_ks(q, 4, ties, 4), 0.5, 1e-12));
}

/* Prices whose consecutive log returns are exactly returns[0..n). */
static oc_series series_of_returns(const char *name, const double *returns, size_t n) {
  oc_series s = {.name = strdup(name), .n = n + 1};
  s.dates = malloc(s.n * sizeof *s.dates);
  s.values = malloc(s.n * sizeof *s.values);
  s.dates[0] = oc_date_from_ymd(2020, 1, 6);
  s.values[0] = 60;
  for (size_t i = 1; i < s.n; i++) {
    s.dates[i] = oc_calendar_next_trading_day(s.dates[i - 1]);
    s.values[i] = s.values[i - 1] * exp(returns[i - 1]);
  }
  return s;
}

static void test_reference_block(void **state) {
  (void)state;
  double returns[100]; /* -0.0495 .. 0.0495 by 0.001, shuffled by a stride */
  for (int i = 0; i < 100; i++) returns[(i * 37) % 100] = (i - 49.5) / 1000;
  oc_series s = series_of_returns("WTI", returns, 100);
  json_t *block = oc_feature_reference_block(&s, s.dates[s.n - 1]);
  assert_non_null(block);
  json_t *f = json_object_get(json_object_get(block, "features"), "log_return");
  assert_int_equal(json_integer_value(json_object_get(f, "n")), 100);
  json_t *edges = json_object_get(f, "edges"), *shares = json_object_get(f, "proportions");
  assert_int_equal(json_array_size(edges), 9);
  for (int b = 0; b < 9; b++) /* the decile of rank 10(b+1): value (10(b+1) - 1 - 49.5) / 1000 */
    assert_true(oc_test_close(json_real_value(json_array_get(edges, b)), (10.0 * (b + 1) - 50.5) / 1000, 1e-9));
  for (int b = 0; b < 10; b++) assert_true(oc_test_close(json_real_value(json_array_get(shares, b)), 0.1, 1e-12));
  json_t *quantiles = json_object_get(f, "quantiles");
  assert_int_equal(json_array_size(quantiles), 200);
  assert_true(oc_test_close(json_real_value(json_array_get(quantiles, 199)), 0.0495, 1e-9));
  char last[OC_DATE_STRLEN];
  assert_string_equal(json_string_value(json_object_get(block, "last")), oc_date_format(s.dates[s.n - 1], last));
  assert_string_equal(json_string_value(json_object_get(block, "first")), "2020-01-06");
  json_decref(block);
  /* up to a date: only the returns before it; too few: no reference */
  assert_null(oc_feature_reference_block(&s, s.dates[OC_FEATURE_REFERENCE_MIN - 1]));
  oc_series_free(&s);
}

static void test_deployed_version_drifts(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_series hist = oc_test_random_walk_series("WTI", 400, 0, 7);
  oc_test_store_series(fx->store, &hist);
  oc_train_options o = oc_train_options_default();
  o.model = "drift";
  o.series = "WTI";
  o.deploy = true;
  o.endpoint = "wti";
  oc_train_result tr;
  oc_error err;
  if (oc_pipeline_train(fx->dir, fx->store, &o, &tr, &err) != 0) fail_msg("%s", err.message);
  char card_path[512];
  snprintf(card_path, sizeof card_path, "%s/models/artifacts/v%lld/model.json", fx->dir, (long long)tr.version);
  oc_train_result_free(&tr);
  json_t *card = json_load_file(card_path, 0, NULL);
  assert_non_null(json_object_get(json_object_get(card, "feature_reference"), "features"));
  json_decref(card);

  oc_feature_drift *rows;
  oc_drift_unmeasured *unmeasured;
  size_t n, nunmeasured;
  assert_int_equal(oc_monitor_drift(fx->dir, fx->store, OC_DRIFT_RECENT_DEFAULT, &rows, &n, &unmeasured, &nunmeasured, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].feature, "log_return");
  assert_int_equal(rows[0].recent_n, 60);
  assert_int_equal(rows[0].reference_n, 399);
  assert_true(rows[0].psi < 0.25); /* the training data's own last 60 days */
  assert_true(rows[0].ks < 0.2);
  double calm_ks = rows[0].ks;
  free(rows);

  /* 60 more days of +-15% moves: ten times the 1.5% volatility */
  double wild[60];
  for (int i = 0; i < 60; i++) wild[i] = i % 2 ? 0.15 : -0.15;
  oc_series more = series_of_returns("WTI", wild, 60);
  for (size_t i = 0; i < more.n; i++) {
    more.dates[i] = oc_calendar_add_trading_days(hist.dates[hist.n - 1], (int)i);
    more.values[i] *= hist.values[hist.n - 1] / 60;
  }
  oc_test_store_series(fx->store, &more);
  assert_int_equal(oc_monitor_drift(fx->dir, fx->store, OC_DRIFT_RECENT_DEFAULT, &rows, &n, &unmeasured, &nunmeasured, &err), 0);
  assert_int_equal(n, 1);
  assert_true(rows[0].psi > 0.25);
  assert_string_equal(oc_drift_psi_band(rows[0].psi), "significant");
  /* half the recent returns below every reference quantile, half above: F_recent - F_ref = 0.5
   * between them */
  assert_true(oc_test_close(rows[0].ks, 0.5, 1e-12) && rows[0].ks > calm_ks);
  double psi = rows[0].psi;
  /* one version alone (what the promotion loop asks of its champion): the same row */
  oc_model_version v1;
  bool v1_found;
  assert_int_equal(oc_store_model_version_get(fx->store, 1, &v1, &v1_found, &err), 0);
  assert_true(v1_found);
  oc_feature_drift one;
  bool one_found;
  assert_int_equal(oc_monitor_version_drift(fx->dir, fx->store, &v1, OC_DRIFT_RECENT_DEFAULT, &one, &one_found, &err), 0);
  oc_model_version_free(&v1);
  assert_true(one_found);
  assert_string_equal(one.model_version, rows[0].model_version);
  assert_int_equal(one.recent_first, rows[0].recent_first);
  assert_true(one.psi == rows[0].psi && one.ks == rows[0].ks);
  free(rows);

  oc_figures figures;
  assert_int_equal(oc_monitor_figures(fx->dir, fx->store, (int64_t)more.dates[more.n - 1] * 86400, &figures, &err), 0);
  bool found = false;
  for (size_t i = 0; i < figures.n; i++)
    if (strcmp(figures.items[i].metric, "oilcast_feature_psi") == 0) {
      found = true;
      assert_true(figures.items[i].value == psi);
      assert_string_equal(json_string_value(json_object_get(figures.items[i].labels, "model_version")), "v1");
    }
  assert_true(found);
  oc_figures_free(&figures);

  /* versions of two series, two of them on WTI: each row drifts against its own series' recent values */
  oc_series brent = oc_test_random_walk_series("BRENT", 400, 0, 8);
  oc_test_store_series(fx->store, &brent);
  const struct {
    const char *series, *endpoint;
  } more_versions[] = {{"BRENT", "brent"}, {"WTI", "wti2"}};
  for (size_t i = 0; i < 2; i++) {
    o.series = more_versions[i].series;
    o.endpoint = more_versions[i].endpoint;
    if (oc_pipeline_train(fx->dir, fx->store, &o, &tr, &err) != 0) fail_msg("%s", err.message);
    oc_train_result_free(&tr);
  }
  assert_int_equal(oc_monitor_drift(fx->dir, fx->store, OC_DRIFT_RECENT_DEFAULT, &rows, &n, &unmeasured, &nunmeasured, &err), 0);
  assert_int_equal(n, 3);
  assert_true(rows[0].psi == psi); /* v1, as before */
  assert_string_equal(rows[1].series, "BRENT");
  assert_true(rows[1].psi < 0.25 && rows[1].recent_last == brent.dates[brent.n - 1]);
  assert_string_equal(rows[2].series, "WTI");
  assert_true(rows[2].recent_last == rows[0].recent_last && rows[2].recent_n == rows[0].recent_n);
  assert_int_equal(nunmeasured, 0);
  free(rows);
  free(unmeasured);

  /* v1's card damaged: v1 is not measured, and says why; the others still are; the health read (which
   * staleness and job alerts rely on too) still answers */
  FILE *f = fopen(card_path, "w");
  assert_non_null(f);
  fputs("{\"truncated\": ", f);
  fclose(f);
  assert_int_equal(oc_monitor_drift(fx->dir, fx->store, OC_DRIFT_RECENT_DEFAULT, &rows, &n, &unmeasured, &nunmeasured, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].series, "BRENT");
  assert_int_equal(nunmeasured, 1);
  assert_string_equal(unmeasured[0].model_version, "v1");
  assert_non_null(strstr(unmeasured[0].error, card_path));
  free(rows);
  free(unmeasured);
  oc_monitor_health h;
  assert_int_equal(oc_monitor_health_read(fx->dir, fx->store, (int64_t)more.dates[more.n - 1] * 86400, &h, &err), 0);
  assert_int_equal(h.ndrift, 2);
  assert_int_equal(h.nunmeasured, 1);
  json_t *hj = oc_monitor_health_json(&h);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(hj, "drift_unmeasured"), 0),
                                                        "model_version")),
                      "v1");
  json_decref(hj);
  oc_monitor_health_free(&h);
  /* the promotion loop asks for its champion alone: there the damaged card is an error naming it */
  assert_int_equal(oc_store_model_version_get(fx->store, 1, &v1, &v1_found, &err), 0);
  assert_int_not_equal(oc_monitor_version_drift(fx->dir, fx->store, &v1, OC_DRIFT_RECENT_DEFAULT, &one, &one_found, &err), 0);
  assert_non_null(strstr(err.message, card_path));
  oc_model_version_free(&v1);
  oc_series_free(&brent);
  oc_series_free(&more);
  oc_series_free(&hist);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_psi_known_answers),
      cmocka_unit_test(test_ks_known_answers),
      cmocka_unit_test(test_reference_block),
      cmocka_unit_test_setup_teardown(test_deployed_version_drifts, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
