/* The market answers' scanner (ingest/market_scan.h) on member names: a name is compared where it
 * stands in the answer when it holds no escape, and decoded first when it does, so an escaped
 * "period", "value" or "response" is read as the plain one, a name that only starts or ends like one
 * is not, and an escaped name nested inside a row does not change the row's own names. */
#include "testutil.h"

#include <string.h>

#include "ingest/market.h"

static void parse_ok(const char *body, oc_market_page *page) {
  oc_error err;
  if (oc_market_eia.parse(body, strlen(body), page, &err) != 0) fail_msg("%s: %s", body, err.message);
}

static void assert_text(const oc_market_page *page, size_t at, size_t len, const char *want) {
  assert_int_equal(len, strlen(want));
  assert_memory_equal(page->text.data + at, want, len);
}

static void test_escaped_names_decoded(void **state) {
  (void)state;
  oc_market_page page;
  parse_ok("{\"respons\\u0065\":{\"t\\u006ftal\":\"1\",\"data\":"
           "[{\"\\u0070eriod\":\"2024-01-02\",\"x\\\"y\":{\"valu\\u0065\":\"9\"},\"valu\\u0065\":\"70.5\"}]}}",
           &page);
  assert_int_equal(page.total, 1);
  assert_int_equal(page.nrows, 1);
  const oc_market_row *row = &page.rows[0];
  assert_int_equal(row->date_kind, OC_MARKET_STRING);
  assert_text(&page, row->date_at, row->date_len, "2024-01-02");
  assert_int_equal(row->value_kind, OC_MARKET_STRING);
  assert_text(&page, row->value_at, row->value_len, "70.5");
  assert_null(row->repeated);
  oc_market_page_free(&page);
}

static void test_names_compared_whole(void **state) {
  (void)state;
  oc_market_page page;
  parse_ok("{\"response\":{\"total\":2,\"data\":[{\"periods\":\"2024-01-02\",\"valu\":\"1\",\"\":\"2\"},"
           "{\"perio\":\"2024-01-03\",\"value \":\"3\",\"period\":\"2024-01-04\",\"value\":4}]}}",
           &page);
  assert_int_equal(page.nrows, 2);
  assert_int_equal(page.rows[0].date_kind, OC_MARKET_ABSENT);
  assert_int_equal(page.rows[0].value_kind, OC_MARKET_ABSENT);
  assert_text(&page, page.rows[1].date_at, page.rows[1].date_len, "2024-01-04");
  assert_int_equal(page.rows[1].value_kind, OC_MARKET_NUMBER);
  assert_text(&page, page.rows[1].value_at, page.rows[1].value_len, "4");
  oc_market_page_free(&page);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escaped_names_decoded),
      cmocka_unit_test(test_names_compared_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
