/* cli.h: the command-line layer shared by every `oilcast COMMAND`: the command table, the options
 * every command accepts (--data-dir, --quiet, --verbose, --log-format, --help), exit codes and
 * usage errors. Commands parse their own options with getopt_long and call library functions; they
 * must not contain pipeline logic of their own (tests call the library, not the CLI). */
#ifndef OC_CLI_H
#define OC_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/date.h"
#include "core/error.h"

enum { OC_EXIT_OK = 0, OC_EXIT_RUNTIME = 1, OC_EXIT_USAGE = 2 };

typedef struct oc_cli {
  const char *data_dir; /* --data-dir, else $OILCAST_DATA_DIR, else ./oilcast-data */
  const char *argv0;
} oc_cli;

typedef struct oc_command {
  const char *name;
  const char *summary; /* one line, for `oilcast --help` */
  const char *usage;   /* full text for `oilcast COMMAND --help` */
  int (*run)(oc_cli *cli, int argc, char **argv); /* argv[0] is the command name */
  /* Optional (NULL: none): what `oilcast COMMAND --help` prints last, after the usage and the common
   * options: text the static usage cannot hold because it depends on the machine (serve: its default
   * number of threads here). Commands are initialized with designated fields, so one without it
   * leaves it NULL. */
  void (*print_usage_extra)(FILE *out);
} oc_command;

/* Every command's getopt_long table ends with these (they use values >= OC_OPT_COMMON_BASE). */
enum { OC_OPT_COMMON_BASE = 0x1000, OC_OPT_DATA_DIR, OC_OPT_QUIET, OC_OPT_VERBOSE, OC_OPT_LOG_FORMAT, OC_OPT_HELP };
#define OC_CLI_COMMON_OPTIONS                                                                      \
  {"data-dir", required_argument, NULL, OC_OPT_DATA_DIR}, {"quiet", no_argument, NULL, OC_OPT_QUIET}, \
      {"verbose", no_argument, NULL, OC_OPT_VERBOSE},                                               \
      {"log-format", required_argument, NULL, OC_OPT_LOG_FORMAT}, {"help", no_argument, NULL, OC_OPT_HELP}
#define OC_CLI_COMMON_USAGE                                                                        \
  "Common options:\n"                                                                              \
  "  --data-dir DIR       data directory (default: $OILCAST_DATA_DIR, else ./oilcast-data)\n"      \
  "  --quiet | --verbose  less or more logging on stderr\n"                                         \
  "  --log-format F       text (default) or json (one JSON object per line)\n"                      \
  "  --help               this text\n"

/* Handles a common option returned by getopt_long. Returns 1 if handled, 0 if opt is not common,
 * and for --help prints the command usage (then its print_usage_extra) and returns -1 with
 * *exit_code = 0; for a bad value returns -1 with *exit_code = OC_EXIT_USAGE. */
int oc_cli_common_option(oc_cli *cli, const oc_command *cmd, int opt, const char *arg, int *exit_code);

/* Prints "oilcast CMD: message" and a hint to run --help on stderr; returns OC_EXIT_USAGE. */
int oc_cli_usage_error(const oc_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For getopt_long's '?' (getopt itself prints nothing): the usage error naming the argument that is
 * not an option of cmd or lacks its value. */
int oc_cli_unknown_option(const oc_command *cmd);
/* Prints "oilcast: error: message" on stderr; returns OC_EXIT_RUNTIME. */
int oc_cli_runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a failed pipeline step (pipeline.h): a usage error when its options were at fault
 * (OC_PIPELINE_BAD_OPTION), else a runtime error; returns the exit code. */
int oc_cli_step_error(const oc_command *cmd, int step_rc, const oc_error *err);

/* Parses the whole of text as a number; -1 on failure. */
int oc_cli_parse_int(const char *text, long min, long max, long *out);
int oc_cli_parse_double(const char *text, double *out);

/* Opens the store of cli->data_dir (oc_datadir_open); on failure prints the reason and returns -1.
 * A write that finds another command writing waits as long as it takes, with a note on stderr every
 * OC_CLI_STORE_WAIT_REPORT_SECONDS. */
#define OC_CLI_STORE_WAIT_REPORT_SECONDS 2.0
struct oc_store;
int oc_cli_open_store(const oc_cli *cli, struct oc_store **store);
/* Parses a --from/--to/--start-date style ISO date; prints a usage error and returns -1 when bad. */
int oc_cli_parse_date(const oc_command *cmd, const char *option, const char *text, oc_date *out, int *exit_code);

/* For commands that run until Ctrl-C (serve, dashboard): restores the default action of SIGINT and
 * SIGTERM (a background job of a non-interactive shell starts with SIGINT ignored, and an ignored
 * signal is discarded before sigwait could take it), blocks both in this thread and every thread it
 * starts afterwards, and fills *set for the caller's sigwait. Call before starting server threads. */
void oc_cli_block_stop_signals(sigset_t *set);

extern const oc_command *const oc_commands[];
int oc_cli_main(int argc, char **argv);

#endif
