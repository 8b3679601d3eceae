/* Unit tests for src/schedule/schedule and jobs: schedule parsing (every form, zones, the errors),
 * canonical spelling, next and latest slots for intervals, days, weekdays and trading days (US market
 * holidays skipped, fixed offsets honoured, slots exactly on the boundary), and the jobs file (steps
 * split with quotes, comments, defaults, every error with its FILE:LINE). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "schedule/jobs.h"
#include "schedule/schedule.h"

static int64_t at(int y, int m, int d, int hh, int mm) {
  return (int64_t)oc_date_from_ymd(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

static oc_schedule parse_ok(const char *text) {
  oc_schedule s;
  oc_error err;
  if (oc_schedule_parse(text, &s, &err) != 0) fail_msg("%s: %s", text, err.message);
  return s;
}

static void assert_parse_fails(const char *text, const char *needle) {
  oc_schedule s;
  oc_error err;
  assert_int_equal(oc_schedule_parse(text, &s, &err), -1);
  if (!strstr(err.message, needle)) fail_msg("%s: message '%s' lacks '%s'", text, err.message, needle);
}

static void test_parse_and_format(void **state) {
  (void)state;
  const char *const cases[][2] = {
      {"every 15m", "every 15m UTC"},
      {"every 90s", "every 90s UTC"},
      {"EVERY 2h utc", "every 2h UTC"},
      {"every day at 06:00", "every day at 06:00 UTC"},
      {"every trading-day at 22:00 UTC", "every trading-day at 22:00 UTC"},
      {"every mon,thu at 07:30 +01:00", "every monday,thursday at 07:30 +01:00"},
      {"every friday at 23:59 -05:30", "every friday at 23:59 -05:30"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    oc_schedule s = parse_ok(cases[i][0]);
    char text[OC_SCHEDULE_STRLEN];
    assert_string_equal(oc_schedule_format(&s, text), cases[i][1]);
    oc_schedule again = parse_ok(text);
    assert_memory_equal(&s, &again, sizeof s);
  }
  assert_parse_fails("daily at 06:00", "must start with 'every'");
  assert_parse_fails("every 0m", "not an interval");
  assert_parse_fails("every 15x", "not an interval such as 90s");
  assert_parse_fails("every day 06:00", "expected 'at HH:MM'");
  assert_parse_fails("every day at 24:00", "not a time of day");
  assert_parse_fails("every day at 06:00 Europe/London", "daylight saving");
  assert_parse_fails("every funday at 06:00", "is not 'day'");
  assert_parse_fails("every day at 06:00 UTC now", "unexpected 'now'");
}

/* Times and zones are digits: a sign or a missing digit is an error, not another time or offset
 * ("+-1:00" was read as -01:00, "--1:00" as +01:00, "-0:30" as 00:30, "22:5" as 22:05). */
static void test_signs_and_short_fields_refused(void **state) {
  (void)state;
  assert_parse_fails("every day at 22:00 +-1:00", "zone '+-1:00'");
  assert_parse_fails("every day at 22:00 --1:00", "zone '--1:00'");
  assert_parse_fails("every day at 22:00 +1:-0", "zone '+1:-0'");
  assert_parse_fails("every day at -0:30", "not a time of day");
  assert_parse_fails("every day at +7:30", "not a time of day");
  assert_parse_fails("every day at 22:5", "not a time of day");
  assert_parse_fails("every day at 22:005", "not a time of day");
  oc_schedule s = parse_ok("every day at 7:30 -5:00"); /* one hour digit is fine */
  assert_int_equal(s.time_of_day, 7 * 3600 + 30 * 60);
  assert_int_equal(s.offset, -5 * 3600);
}

static void test_interval_slots(void **state) {
  (void)state;
  oc_schedule s = parse_ok("every 15m");
  assert_int_equal(oc_schedule_next(&s, at(2024, 6, 3, 10, 7)), at(2024, 6, 3, 10, 15));
  assert_int_equal(oc_schedule_next(&s, at(2024, 6, 3, 10, 15)), at(2024, 6, 3, 10, 30)); /* strictly after */
  assert_int_equal(oc_schedule_latest(&s, at(2024, 6, 3, 10, 15)), at(2024, 6, 3, 10, 15)); /* at or before */
  assert_int_equal(oc_schedule_latest(&s, at(2024, 6, 3, 10, 14)), at(2024, 6, 3, 10, 0));
  oc_schedule before_epoch = parse_ok("every 2h");
  assert_int_equal(oc_schedule_latest(&before_epoch, -1), -7200);
}

static void test_day_slots(void **state) {
  (void)state;
  oc_schedule trading = parse_ok("every trading-day at 22:00 UTC");
  /* Tuesday 2024-12-24 after 22:00: Christmas is closed, so Thursday the 26th */
  assert_int_equal(oc_schedule_next(&trading, at(2024, 12, 24, 22, 0)), at(2024, 12, 26, 22, 0));
  /* Good Friday 2024-03-29 is closed: from Thursday evening to Monday */
  assert_int_equal(oc_schedule_next(&trading, at(2024, 3, 28, 23, 0)), at(2024, 4, 1, 22, 0));
  /* a Sunday's latest slot is Friday's */
  assert_int_equal(oc_schedule_latest(&trading, at(2024, 6, 9, 12, 0)), at(2024, 6, 7, 22, 0));
  oc_schedule weekly = parse_ok("every monday,thursday at 07:30 +01:00");
  /* Monday 2024-06-03 07:30 at +01:00 is 06:30 UTC */
  assert_int_equal(oc_schedule_next(&weekly, at(2024, 6, 2, 12, 0)), at(2024, 6, 3, 6, 30));
  assert_int_equal(oc_schedule_next(&weekly, at(2024, 6, 3, 6, 30)), at(2024, 6, 6, 6, 30));
  oc_schedule late = parse_ok("every day at 01:00 +03:00"); /* 22:00 UTC the day before */
  assert_int_equal(oc_schedule_next(&late, at(2024, 6, 3, 21, 0)), at(2024, 6, 3, 22, 0));
  assert_int_equal(oc_schedule_latest(&late, at(2024, 6, 3, 21, 0)), at(2024, 6, 2, 22, 0));
}

static void test_jobs_file(void **state) {
  (void)state;
  oc_jobs jobs;
  oc_error err;
  const char *text = "# comment\n"
                     "[daily-wti]\n"
                     "every = trading-day at 22:00 UTC   # after the EIA publishes\n"
                     "step = ingest --csv-path \"/data/with space.csv\" --series WTI\n"
                     "step = etl --series 'WTI'\n"
                     "step-timeout = 30m\n"
                     "\n"
                     "[hourly]\n"
                     "every = 1h\n"
                     "step = backtest --models naive,ar # hash in a comment\n";
  assert_int_equal(oc_jobs_parse("jobs.conf", text, &jobs, &err), 0);
  assert_int_equal(jobs.n, 2);
  const oc_job *daily = oc_jobs_find(&jobs, "daily-wti");
  assert_non_null(daily);
  assert_int_equal(daily->nsteps, 2);
  assert_int_equal(daily->steps[0].argc, 5);
  assert_string_equal(daily->steps[0].argv[2], "/data/with space.csv");
  assert_null(daily->steps[0].argv[5]);
  assert_string_equal(daily->steps[1].argv[2], "WTI");
  assert_int_equal(daily->step_timeout, 1800);
  assert_int_equal(daily->steps[1].line, 5);
  const oc_job *hourly = oc_jobs_find(&jobs, "hourly");
  assert_int_equal(hourly->step_timeout, OC_JOB_STEP_TIMEOUT_DEFAULT);
  assert_string_equal(hourly->steps[0].text, "backtest --models naive,ar");
  oc_jobs_free(&jobs);

  const char *const bad[][2] = {
      {"step = etl\n", "jobs.conf:1: 'step' comes before any [job] section"},
      {"[a]\nevery = 1h\n", "jobs.conf:1: job a has no 'step = ...'"},
      {"[a]\nstep = etl\n", "jobs.conf:1: job a has no 'every = ...' schedule"},
      {"[a]\nevery = 1h\nstep = etl\n[a]\n", "jobs.conf:4: a second job named 'a'"},
      {"[a]\nevery = sometimes\n", "jobs.conf:2: schedule 'every sometimes'"},
      {"[a]\nevery = 1h\nstep = etl \"open\n", "jobs.conf:3: step 'etl \"open': a quote is not closed"},
      {"[a]\nevery = 1h\nstpe = etl\n", "jobs.conf:3: unknown key 'stpe' (known: every, step, step-timeout)"},
      {"[a b]\n", "jobs.conf:1: job name 'a b'"},
      {"[a]\nevery = 1h\nstep = etl\nstep-timeout = forever\n", "jobs.conf:4: step-timeout 'forever'"},
      /* steps run on the scheduler's data directory: a step naming another one (the option's last
       * value wins, an unambiguous abbreviation is the option) would run elsewhere */
      {"[a]\nevery = 1h\nstep = etl --data-dir /elsewhere\n",
       "jobs.conf:3: step 'etl --data-dir /elsewhere': a step runs on the job's data directory; remove '--data-dir'"},
      {"[a]\nevery = 1h\nstep = etl --series WTI --data-dir=/elsewhere\n", "remove '--data-dir=/elsewhere'"},
      {"[a]\nevery = 1h\nstep = etl --data /elsewhere\n", "remove '--data'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(oc_jobs_parse("jobs.conf", bad[i][0], &jobs, &err), -1);
    if (!strstr(err.message, bad[i][1])) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, bad[i][1]);
  }
  assert_int_equal(oc_jobs_read("/nonexistent/jobs.conf", &jobs, &err), 0); /* no file: no jobs */
  assert_int_equal(jobs.n, 0);
}

/* A job's schedule or step-timeout given twice is an error naming both lines: the second one silently
 * won, so what the first said was not in force (a job that should run at two times is two jobs). */
static void test_jobs_file_key_given_twice(void **state) {
  (void)state;
  oc_jobs jobs;
  oc_error err;
  assert_int_equal(oc_jobs_parse("jobs.conf", "[a]\nevery = day at 06:00\nstep = etl\nevery = day at 18:00\n", &jobs, &err), -1);
  assert_string_equal(err.message, "jobs.conf:4: job a has a second 'every' (line 2 gives one already)");
  assert_int_equal(oc_jobs_parse("jobs.conf", "[a]\nevery = 1h\nstep-timeout = 5m\nstep = etl\nstep-timeout = 2h\n", &jobs, &err), -1);
  assert_string_equal(err.message, "jobs.conf:5: job a has a second 'step-timeout' (line 3 gives one already)");
  /* the same key in two jobs is no repeat */
  assert_int_equal(oc_jobs_parse("jobs.conf", "[a]\nevery = 1h\nstep = etl\n[b]\nevery = 2h\nstep = etl\n", &jobs, &err), 0);
  oc_jobs_free(&jobs);
}

/* A line that is not UTF-8 (a Latin-1 path in a step) is refused at FILE:LINE: its text goes into the
 * run's JSON record, which it made vanish when the step ran. */
static void test_jobs_file_not_utf8(void **state) {
  (void)state;
  oc_jobs jobs;
  oc_error err;
  const char *latin1 = "[a]\nevery = 1h\nstep = ingest --csv-path /data/\xe9t\xe9.csv\n";
  assert_int_equal(oc_jobs_parse("jobs.conf", latin1, &jobs, &err), -1);
  assert_string_equal(err.message, "jobs.conf:3: the line is not UTF-8 text");
  const char *utf8 = "[a]\nevery = 1h\nstep = ingest --csv-path /data/\xc3\xa9t\xc3\xa9.csv\n";
  assert_int_equal(oc_jobs_parse("jobs.conf", utf8, &jobs, &err), 0);
  oc_jobs_free(&jobs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_and_format),
      cmocka_unit_test(test_signs_and_short_fields_refused),
      cmocka_unit_test(test_interval_slots),
      cmocka_unit_test(test_day_slots),
      cmocka_unit_test(test_jobs_file),
      cmocka_unit_test(test_jobs_file_key_given_twice),
      cmocka_unit_test(test_jobs_file_not_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
