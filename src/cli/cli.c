/* cli.c: top-level dispatch (`oilcast [--version|--help] COMMAND ...`) and the helpers every command
 * uses for common options and errors. */
#include "cli/cli.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/log.h"
#include "pipeline/pipeline.h"
#include "store/datadir.h"
#include "oc_version.h"

static void print_overview(FILE *out) {
  fprintf(out,
          "oilcast %s: oil-market forecasting, from raw prices to a served dashboard, on one machine.\n\n"
          "Usage: oilcast COMMAND [OPTIONS]\n       oilcast COMMAND --help\n\nCommands:\n",
          OILCAST_VERSION);
  for (const oc_command *const *c = oc_commands; *c; c++) fprintf(out, "  %-12s %s\n", (*c)->name, (*c)->summary);
  fprintf(out, "\nExit status: 0 success, 1 runtime error, 2 usage error.\n");
}

int oc_cli_usage_error(const oc_command *cmd, const char *fmt, ...) {
  char raw[1024], msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  oc_printable(msg, sizeof msg, raw);
  if (cmd) {
    fprintf(stderr, "oilcast %s: %s\nTry 'oilcast %s --help'.\n", cmd->name, msg, cmd->name);
  } else {
    fprintf(stderr, "oilcast: %s\nTry 'oilcast --help'.\n", msg);
  }
  return OC_EXIT_USAGE;
}

int oc_cli_runtime_error(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  oc_err("%s", msg);
  return OC_EXIT_RUNTIME;
}

/* The arguments the running command parses (argv from its name on), for oc_cli_unknown_option. */
static char **command_args;

int oc_cli_unknown_option(const oc_command *cmd) {
  assert(command_args && optind > 0);
  return oc_cli_usage_error(cmd, "unknown option or missing value: '%s'", command_args[optind - 1]);
}

int oc_cli_step_error(const oc_command *cmd, int step_rc, const oc_error *err) {
  assert(step_rc != 0);
  return step_rc == OC_PIPELINE_BAD_OPTION ? oc_cli_usage_error(cmd, "%s", err->message)
                                           : oc_cli_runtime_error("%s", err->message);
}

int oc_cli_common_option(oc_cli *cli, const oc_command *cmd, int opt, const char *arg, int *exit_code) {
  switch (opt) {
  case OC_OPT_DATA_DIR:
    if (!*arg) {
      *exit_code = oc_cli_usage_error(cmd, "--data-dir needs a directory");
      return -1;
    }
    cli->data_dir = arg;
    return 1;
  case OC_OPT_QUIET: oc_log_set_level(OC_LOG_WARN); return 1;
  case OC_OPT_VERBOSE: oc_log_set_level(OC_LOG_DEBUG); return 1;
  case OC_OPT_LOG_FORMAT:
    if (strcmp(arg, "json") == 0) {
      oc_log_set_json(true);
    } else if (strcmp(arg, "text") == 0) {
      oc_log_set_json(false);
    } else {
      *exit_code = oc_cli_usage_error(cmd, "--log-format must be text or json, not '%s'", arg);
      return -1;
    }
    return 1;
  case OC_OPT_HELP:
    fputs(cmd->usage, stdout);
    fputs("\n" OC_CLI_COMMON_USAGE, stdout);
    if (cmd->print_usage_extra) cmd->print_usage_extra(stdout);
    *exit_code = OC_EXIT_OK;
    return -1;
  default: return 0;
  }
}

int oc_cli_parse_int(const char *text, long min, long max, long *out) {
  if (!text || !*text) return -1;
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

int oc_cli_parse_double(const char *text, double *out) {
  if (!text || !*text) return -1;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || *end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* A command that needs the store's write lock while another command holds it waits for it, saying so
 * every few seconds, instead of failing: two imports, or an import during a training, run one after
 * the other. */
static void report_store_wait(void *ctx, double waited) {
  const oc_cli *cli = ctx;
  oc_warn("waiting %.0f s so far for the store of %s: another command is writing to it; this one goes on "
          "when that one has finished (Ctrl-C gives up)",
          waited, cli->data_dir);
}

int oc_cli_open_store(const oc_cli *cli, struct oc_store **store) {
  oc_error err;
  if (oc_datadir_open(cli->data_dir, store, &err) != 0) {
    oc_err("%s", err.message);
    return -1;
  }
  oc_store_set_wait(*store, &(oc_store_wait){.max_seconds = -1, .report_every = OC_CLI_STORE_WAIT_REPORT_SECONDS,
                                             .waiting = report_store_wait, .ctx = (void *)cli});
  return 0;
}

int oc_cli_parse_date(const oc_command *cmd, const char *option, const char *text, oc_date *out, int *exit_code) {
  const char *reason;
  oc_date d;
  if (oc_date_parse(text, strlen(text), &d, &reason) != 0) {
    *exit_code = oc_cli_usage_error(cmd, "%s '%s': %s", option, text, reason);
    return -1;
  }
  *out = d;
  return 0;
}

void oc_cli_block_stop_signals(sigset_t *set) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, set, NULL);
}

int oc_cli_main(int argc, char **argv) {
  oc_cli cli = {.argv0 = argv[0]};
  const char *env_dir = getenv("OILCAST_DATA_DIR");
  cli.data_dir = env_dir && *env_dir ? env_dir : "./oilcast-data";
  if (argc < 2) {
    print_overview(stderr);
    return OC_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("oilcast %s\n", OILCAST_VERSION);
    return OC_EXIT_OK;
  }
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    print_overview(stdout);
    return OC_EXIT_OK;
  }
  for (const oc_command *const *c = oc_commands; *c; c++) {
    if (strcmp((*c)->name, name) == 0) {
      optind = 0; /* full getopt reinitialisation for the command's own parse */
      opterr = 0; /* the command reports a bad option itself, once (oc_cli_unknown_option) */
      command_args = argv + 1;
      return (*c)->run(&cli, argc - 1, argv + 1);
    }
  }
  return oc_cli_usage_error(NULL, "unknown command '%s'", name);
}
