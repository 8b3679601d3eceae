/* commands.c: the table of `oilcast` subcommands, in the order `oilcast --help` lists them. Each
 * command lives in its own cmd_<name>.c; add one line here per command and nothing else. */
#include <stddef.h>

#include "cli/cli.h"

const oc_command *const oc_commands[] = {
    NULL,
};
