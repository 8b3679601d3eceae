/* The mlp forecaster's shelf of ETL sessions (fc_mlp.c): a fit builds its features through whichever
 * session holds the longest history not longer than its own, kept from any earlier fit of the
 * process. Whatever the shelf holds (a prefix of the history, another series of the same length, a
 * series that differs in one early value), every fit forecasts bit for bit what it forecast when the
 * shelf was empty; oc_model_types_release_caches empties it. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/rng.h"
#include "model/fc_mlp.h"
#include "model/forecaster.h"

/* n prices of a random walk on consecutive trading days from 2010-01-04. */
static oc_series random_walk(size_t n, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  oc_series s;
  oc_series_init(&s, "TEST", n);
  oc_date d = oc_date_from_ymd(2010, 1, 4);
  double p = 80;
  for (size_t i = 0; i < n; i++) {
    p += oc_rng_normal(&rng);
    if (p < 20) p = 20 + (20 - p);
    s.dates[i] = d;
    s.values[i] = p;
    d = oc_calendar_next_trading_day(d);
  }
  s.n = n;
  return s;
}

/* The forecast of a fresh forecaster fitted on the first n observations of s (zero beyond its horizon). */
static oc_price_forecast fit_predict(const oc_series *s, size_t n) {
  oc_error err = {0};
  oc_forecaster *f = oc_forecaster_create("mlp:epochs=2:h1=8:h2=4:horizon=5", &err);
  if (!f) fail_msg("%s", err.message);
  oc_series view = *s;
  view.n = n;
  if (oc_forecaster_fit(f, &view, NULL, &err) != 0) fail_msg("%s", err.message);
  oc_price_forecast fc;
  memset(&fc, 0, sizeof fc);
  if (oc_forecaster_predict(f, 5, &fc, &err) != 0) fail_msg("%s", err.message);
  oc_forecaster_free(f);
  return fc;
}

static void test_fits_do_not_depend_on_the_shelf(void **state) {
  (void)state;
  oc_series s = random_walk(900, 3), other = random_walk(900, 4), changed = random_walk(900, 3);
  changed.values[100] += 0.5; /* the same dates and length, one early price apart */
  /* references, each fitted first on its own series: the shelf holds nothing that series extends */
  oc_price_forecast changed_ref = fit_predict(&changed, 860);
  oc_price_forecast ref = fit_predict(&s, 860);
  oc_price_forecast other_ref = fit_predict(&other, 900);
  /* a shorter history of s, then s again: built from the shelf's prefixes of s */
  oc_price_forecast shorter = fit_predict(&s, 800);
  oc_price_forecast again = fit_predict(&s, 860);
  assert_memory_equal(&again, &ref, sizeof ref);
  /* then the other series and the changed one: the shelf holds longer prefixes of s, which they do not extend */
  oc_price_forecast other_again = fit_predict(&other, 900);
  assert_memory_equal(&other_again, &other_ref, sizeof other_ref);
  oc_price_forecast changed_again = fit_predict(&changed, 860);
  assert_memory_equal(&changed_again, &changed_ref, sizeof changed_ref);
  assert_memory_not_equal(&changed_again, &again, sizeof again);
  /* and a history of s that extends them all */
  oc_price_forecast longest = fit_predict(&s, 900);
  assert_memory_not_equal(&longest, &shorter, sizeof shorter);
  oc_series_free(&s);
  oc_series_free(&other);
  oc_series_free(&changed);
}

/* A long-running process frees the shelf when its trainings are over; the next fit starts afresh. */
static void test_release_empties_the_shelf(void **state) {
  (void)state;
  oc_series s = random_walk(700, 5);
  oc_price_forecast ref = fit_predict(&s, 650);
  oc_price_forecast longer = fit_predict(&s, 700);
  assert_true(oc_mlp_etl_sessions_kept() >= 1);
  oc_model_types_release_caches();
  assert_int_equal(oc_mlp_etl_sessions_kept(), 0);
  oc_price_forecast again = fit_predict(&s, 700);
  assert_memory_equal(&again, &longer, sizeof longer);
  assert_int_equal(oc_mlp_etl_sessions_kept(), 1);
  assert_memory_not_equal(&ref, &longer, sizeof ref);
  oc_model_types_release_caches();
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fits_do_not_depend_on_the_shelf),
                                     cmocka_unit_test(test_release_empties_the_shelf)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
