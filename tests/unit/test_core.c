/* Unit tests for src/core: civil dates (parsing, arithmetic, weekdays), SHA-256 against the NIST
 * vectors, the growable buffer and atomic file writes, the lock that knows its holder. */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/utf8.h"

static oc_date D(const char *s) {
  oc_date d;
  assert_int_equal(oc_date_parse(s, strlen(s), &d, NULL), 0);
  return d;
}

static void test_date_roundtrip_every_day(void **state) {
  (void)state;
  char buf[OC_DATE_STRLEN];
  oc_date start = oc_date_from_ymd(1, 1, 1), end = oc_date_from_ymd(9999, 12, 31);
  int prev_wd = oc_date_weekday(start - 1);
  for (oc_date d = start; d <= end; d++) {
    int y, m, dd;
    oc_date_to_ymd(d, &y, &m, &dd);
    assert_true(oc_date_ymd_valid(y, m, dd));
    assert_int_equal(oc_date_from_ymd(y, m, dd), d);
    int wd = oc_date_weekday(d);
    assert_int_equal(wd, prev_wd % 7 + 1);
    prev_wd = wd;
  }
  assert_string_equal(oc_date_format(0, buf), "1970-01-01");
  assert_string_equal(oc_date_format(D("2020-04-20"), buf), "2020-04-20");
  assert_int_equal(D("2000-03-01") - D("2000-02-28"), 2); /* 2000 is a leap year */
  assert_int_equal(D("1900-03-01") - D("1900-02-28"), 1); /* 1900 is not */
}

static void test_date_parse_strict(void **state) {
  (void)state;
  const char *bad[] = {"2023-02-29", "2023-13-01", "2023-00-10", "2023-04-31", "0000-01-01", "2023-1-01",
                       "2023/01/01", "20230101",   " 2023-01-01", "2023-01-01 ", "2023-01-0a", "",
                       "01/02/2023", "2023-01-01T00:00:00Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    oc_date d;
    const char *reason = NULL;
    assert_int_equal(oc_date_parse(bad[i], strlen(bad[i]), &d, &reason), -1);
    assert_non_null(reason);
  }
  assert_int_equal(D("2024-02-29"), oc_date_from_ymd(2024, 2, 29));
}

static void test_timestamp_format(void **state) {
  (void)state;
  char buf[OC_TIMESTAMP_STRLEN];
  assert_string_equal(oc_timestamp_format(0, buf), "1970-01-01T00:00:00Z");
  assert_string_equal(oc_timestamp_format(1795710000, buf), "2026-11-26T16:20:00Z");
  assert_string_equal(oc_timestamp_format(-1, buf), "1969-12-31T23:59:59Z");
  assert_string_equal(oc_timestamp_format(951782399, buf), "2000-02-28T23:59:59Z");
}

static void test_date_weekday_and_day_of_year(void **state) {
  (void)state;
  assert_int_equal(oc_date_weekday(D("1970-01-01")), 4);
  assert_int_equal(oc_date_weekday(D("2020-04-20")), 1);
  assert_int_equal(oc_date_weekday(D("2024-12-31")), 2);
  assert_int_equal(oc_date_day_of_year(D("2024-12-31")), 366);
  assert_int_equal(oc_date_day_of_year(D("2023-01-01")), 1);
}

static void check_sha256_vectors(void) {
  char hex[OC_SHA256_HEX_LEN];
  oc_sha256_hex("", 0, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  oc_sha256_hex("abc", 3, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  oc_sha256_hex(two_blocks, strlen(two_blocks), hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a', fed in odd-sized pieces. */
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  char chunk[997];
  memset(chunk, 'a', sizeof chunk);
  size_t left = 1000000;
  while (left) {
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    oc_sha256_update(&ctx, chunk, n);
    left -= n;
  }
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  assert_true(oc_consttime_equal("abc", "abc", 3));
  assert_false(oc_consttime_equal("abc", "abd", 3));
}

/* Both compression paths (portable C and, where the CPU has them, the x86 SHA extensions). */
static void test_sha256_vectors_portable_and_accelerated(void **state) {
  (void)state;
  oc_sha256_use_cpu_extensions(false);
  check_sha256_vectors();
  oc_sha256_use_cpu_extensions(true);
  check_sha256_vectors();
}

static void test_buf_and_atomic_write(void **state) {
  (void)state;
  oc_buf b = {0};
  for (int i = 0; i < 1000; i++) oc_buf_printf(&b, "%d,", i);
  assert_int_equal(b.len, strlen(b.data));
  assert_memory_equal(b.data, "0,1,2,", 6);
  char *dir = oc_test_tmpdir("core");
  char *nested = oc_path_join(dir, "a/b/c");
  oc_error err;
  assert_int_equal(oc_mkdir_p(nested, &err), 0);
  assert_int_equal(oc_mkdir_p(nested, &err), 0);
  char *file = oc_path_join(nested, "x.txt");
  assert_int_equal(oc_write_file_atomic(file, b.data, b.len, &err), 0);
  char *data;
  size_t len;
  assert_int_equal(oc_read_file(file, &data, &len, &err), 0);
  assert_int_equal(len, b.len);
  assert_memory_equal(data, b.data, len);
  assert_int_equal(oc_read_file(nested, &data, &len, &err) == 0 ? (free(data), 0) : -1, -1);
  assert_non_null(strstr(err.message, "directory"));
  assert_string_equal(oc_path_extension("/x/y/file.tar.gz"), "gz");
  assert_string_equal(oc_path_extension("/x.y/file"), "");
  free(data);
  free(file);
  free(nested);
  oc_test_rmtree(dir);
  free(dir);
  oc_buf_free(&b);
}

static void *held_elsewhere(void *lock) { return oc_lock_held(lock) ? lock : NULL; }

/* oc_lock_held is true on the holding thread only, and only while it holds the lock. */
/* Messages quoting bad input are safe on a terminal and in a JSON log: controls and bytes that are not
 * well-formed UTF-8 become \xNN; newline, tab and real UTF-8 (2..4 bytes) pass; truncation is clean. */
static void test_printable(void **state) {
  (void)state;
  char out[64];
  assert_string_equal(oc_printable(out, sizeof out, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\xa2\ttab\nline"),
                      "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\xa2\ttab\nline");
  assert_string_equal(oc_printable(out, sizeof out, "bell\x07 esc\x1b[31m del\x7f"), "bell\\x07 esc\\x1b[31m del\\x7f");
  assert_string_equal(oc_printable(out, sizeof out, "bad \xff \xc0\xaf \xed\xa0\x80 cut\xe2\x82"),
                      "bad \\xff \\xc0\\xaf \\xed\\xa0\\x80 cut\\xe2\\x82");
  char small[8];
  assert_string_equal(oc_printable(small, sizeof small, "\x01\x02\x03"), "\\x01");
  assert_true(oc_utf8_valid("ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\xa2\x07"));
  const char *bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "cut\xe2\x82", "\xf4\x90\x80\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_false(oc_utf8_valid(bad[i]));
  /* A field of a tab-separated line: tab, newline and NUL escaped, a backslash doubled, nothing cut; a
   * UTF-8 sequence cut by the field's end is not read past it. */
  char field[128] = {0};
  FILE *f = fmemopen(field, sizeof field - 1, "w");
  oc_print_field(f, "a\tb\n\\x00\0\xc3\xa9 \xff", 13);
  oc_print_field(f, "|\xe2\x82\xac", 3);
  fclose(f);
  assert_string_equal(field, "a\\x09b\\x0a\\\\x00\\x00\xc3\xa9 \\xff|\\xe2\\x82");
}

/* A judge of UTF-8 written apart from oc_utf8_sequence: it decodes the code point and checks it
 * against the smallest one its length may carry (overlong), the surrogates and U+10FFFF. */
static size_t utf8_reference(const unsigned char *q, size_t avail) {
  unsigned c = q[0];
  size_t n;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if (c >= 0xC0 && c <= 0xDF) n = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF7) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((q[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (q[i] & 0x3F);
  }
  return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : n;
}

/* The one UTF-8 reader (core/utf8.h) agrees with the reference on every first and second byte, the
 * edge values of the third and fourth, and every length a caller may allow. */
static void test_utf8_sequence_every_lead_byte(void **state) {
  (void)state;
  static const unsigned char edges[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
  unsigned char q[4];
  for (unsigned b0 = 0; b0 < 256; b0++)
    for (unsigned b1 = 0; b1 < 256; b1++)
      for (size_t i = 0; i < sizeof edges; i++)
        for (size_t j = 0; j < sizeof edges; j++)
          for (size_t avail = 1; avail <= 4; avail++) {
            q[0] = (unsigned char)b0, q[1] = (unsigned char)b1, q[2] = edges[i], q[3] = edges[j];
            size_t want = utf8_reference(q, avail), got = oc_utf8_sequence(q, avail);
            if (got != want)
              fail_msg("%02x %02x %02x %02x within %zu bytes: %zu, not %zu", b0, b1, edges[i], edges[j], avail, got,
                       want);
          }
  assert_int_equal(oc_utf8_sequence("\xc2\x80", 2), 2);         /* U+0080 */
  assert_int_equal(oc_utf8_sequence("\xed\x9f\xbf", 3), 3);     /* U+D7FF */
  assert_int_equal(oc_utf8_sequence("\xed\xa0\x80", 3), 0);     /* U+D800, a surrogate */
  assert_int_equal(oc_utf8_sequence("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
  assert_int_equal(oc_utf8_sequence("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
  assert_int_equal(oc_utf8_sequence("\xe2\x82\xac", 2), 0);     /* cut by the field's end */
}

static void test_lock_knows_its_holder(void **state) {
  (void)state;
  oc_lock lock;
  oc_lock_init(&lock);
  assert_false(oc_lock_held(&lock));
  oc_lock_acquire(&lock);
  assert_true(oc_lock_held(&lock));
  pthread_t other;
  void *seen = &lock;
  assert_int_equal(pthread_create(&other, NULL, held_elsewhere, &lock), 0);
  assert_int_equal(pthread_join(other, &seen), 0);
  assert_null(seen);
  oc_lock_release(&lock);
  assert_false(oc_lock_held(&lock));
  oc_lock_destroy(&lock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_date_roundtrip_every_day),
      cmocka_unit_test(test_date_parse_strict),
      cmocka_unit_test(test_date_weekday_and_day_of_year),
      cmocka_unit_test(test_timestamp_format),
      cmocka_unit_test(test_sha256_vectors_portable_and_accelerated),
      cmocka_unit_test(test_buf_and_atomic_write),
      cmocka_unit_test(test_lock_knows_its_holder),
      cmocka_unit_test(test_printable),
      cmocka_unit_test(test_utf8_sequence_every_lead_byte),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
