/* commands.c: the table of `oilcast` subcommands, in the order `oilcast --help` lists them. Each
 * command lives in its own cmd_<name>.c and defines `const oc_command oc_cmd_<name>`; add one
 * X(name) line to the list here and nothing else. */
#include <stddef.h>

#include "cli/cli.h"

#define OC_COMMAND_LIST(X) \
  X(init)                  \
  X(status)                \
  X(ingest)                \
  X(series)                \
  X(etl)                   \
  X(simulate)              \
  X(dashboard)             \
  X(serve)                 \
  X(apikey)                \
  X(device)                \
  X(broker)                \
  X(backtest)              \
  X(lake)                  \
  X(models)                \
  X(forecast)              \
  X(train)                 \
  X(monitor)               \
  X(retrain)               \
  X(decisions)             \
  X(jobs)                  \
  X(run)                   \
  X(alerts)                \
  X(backup)                \
  X(migrate)               \
  X(stream)

#define DECLARE(name) extern const oc_command oc_cmd_##name;
#define ENTRY(name) &oc_cmd_##name,
OC_COMMAND_LIST(DECLARE)

const oc_command *const oc_commands[] = {OC_COMMAND_LIST(ENTRY) NULL};
