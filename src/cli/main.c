/* main.c: the `oilcast` binary. Everything lives in liboilcast; this file only hands argv over. */
#include "cli/cli.h"

int main(int argc, char **argv) { return oc_cli_main(argc, argv); }
