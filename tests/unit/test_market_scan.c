/* The market answers' scanner (ingest/market_scan.h) on member names: a name is compared where it
 * stands in the answer when it holds no escape, and decoded first when it does, so an escaped
 * "period", "value" or "response" is read as the plain one, a name that only starts or ends like one
 * is not, and an escaped name nested inside a row does not change the row's own names. And on the
 * bytes of a string, which it reads eight at a time: every byte that needs a look (a control
 * character, a quote, an escape, UTF-8) is found at whatever place it has in its word. */
#include "testutil.h"

#include <stdio.h>
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

/* An answer whose one row's value is the string text (its bytes as given, n of them); 0 or -1 with err. */
static int parse_value(const char *text, size_t n, oc_market_page *page, oc_error *err, size_t *value_at) {
  static const char head[] = "{\"response\":{\"total\":1,\"data\":[{\"period\":\"2024-01-02\",\"value\":\"";
  static const char tail[] = "\"}]}}";
  char body[128];
  assert_true(sizeof head - 1 + n + sizeof tail <= sizeof body);
  memcpy(body, head, sizeof head - 1);
  memcpy(body + sizeof head - 1, text, n);
  memcpy(body + sizeof head - 1 + n, tail, sizeof tail);
  *value_at = sizeof head - 1;
  return oc_market_eia.parse(body, sizeof head - 1 + n + sizeof tail - 1, page, err);
}

/* A plain run of `before` letters, then `special`, then `after` letters. */
static size_t string_with(char *out, size_t before, const char *special, size_t after) {
  size_t n = 0, len = strlen(special);
  for (size_t i = 0; i < before; i++) out[n++] = (char)('a' + i % 26);
  memcpy(out + n, special, len);
  n += len;
  for (size_t i = 0; i < after; i++) out[n++] = (char)('A' + i % 26);
  return n;
}

static void test_string_bytes_found_at_every_place(void **state) {
  (void)state;
  static const struct {
    const char *special; /* the bytes put in the string */
    const char *decoded; /* what the value reads as; NULL: refused */
    const char *why;     /* the refusal's reason */
  } cases[] = {
      {"\x01", NULL, "control character in a string"},
      {"\x1f", NULL, "control character in a string"},
      {"\x80", NULL, "invalid UTF-8 in a string"},
      {"\xff", NULL, "invalid UTF-8 in a string"},
      {"\\q", NULL, "invalid escape"},
      {" ~\x7f", " ~\x7f", NULL},                /* the plain bytes' edges */
      {"\xc3\xa9", "\xc3\xa9", NULL},          /* U+00E9 */
      {"\xf0\x9f\x9b\xa2", "\xf0\x9f\x9b\xa2", NULL}, /* U+1F6E2, four bytes */
      {"\\n", "\n", NULL},
      {"\\\"", "\"", NULL},
      {"\\u00e9", "\xc3\xa9", NULL},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (size_t before = 0; before <= 17; before++)
      for (size_t after = 0; after <= 9; after += 3) {
        char text[64], want[64];
        size_t n = string_with(text, before, cases[c].special, after), value_at;
        oc_market_page page;
        oc_error err;
        int rc = parse_value(text, n, &page, &err, &value_at);
        if (!cases[c].decoded) {
          char where[32];
          snprintf(where, sizeof where, "(byte %zu)", value_at + before);
          if (rc == 0 || !strstr(err.message, cases[c].why) || !strstr(err.message, where))
            fail_msg("case %zu, %zu + %zu plain bytes: %s", c, before, after, rc == 0 ? "accepted" : err.message);
          continue;
        }
        if (rc != 0) fail_msg("case %zu, %zu + %zu plain bytes: %s", c, before, after, err.message);
        size_t want_len = string_with(want, before, cases[c].decoded, after);
        assert_int_equal(page.rows[0].value_kind, OC_MARKET_STRING);
        assert_int_equal(page.rows[0].value_len, want_len);
        assert_memory_equal(page.text.data + page.rows[0].value_at, want, want_len);
        oc_market_page_free(&page);
      }
}

/* An answer that starts with a UTF-8 byte order mark (some servers and proxies write one; RFC 8259 lets a
 * reader ignore it) is read; byte offsets still count from the answer's first byte. A mark anywhere
 * else is no JSON. */
static void test_byte_order_mark_skipped(void **state) {
  (void)state;
  oc_market_page page;
  parse_ok("\xef\xbb\xbf{\"response\":{\"total\":\"1\",\"data\":[{\"period\":\"2024-01-02\",\"value\":\"70.38\"}]}}", &page);
  assert_int_equal(page.nrows, 1);
  assert_int_equal(page.rows[0].offset, 36);
  assert_text(&page, page.rows[0].value_at, page.rows[0].value_len, "70.38");
  oc_market_page_free(&page);
  oc_error err;
  const char *inside = "{\"response\":\xef\xbb\xbf{\"total\":1,\"data\":[]}}";
  assert_int_equal(oc_market_eia.parse(inside, strlen(inside), &page, &err), -1);
  assert_non_null(strstr(err.message, "(byte 12)"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escaped_names_decoded),
      cmocka_unit_test(test_names_compared_whole),
      cmocka_unit_test(test_string_bytes_found_at_every_place),
      cmocka_unit_test(test_byte_order_mark_skipped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
