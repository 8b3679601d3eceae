/* main.c: the `oilcast` binary. Everything lives in liboilcast; this file only hands argv over. Must
 * not do any work before main: OpenBLAS, whose constructor once needed a pre-initialiser here, is now
 * loaded on first use (model/blas.h), where its thread pool is kept from starting. */
#include "cli/cli.h"

int main(int argc, char **argv) { return oc_cli_main(argc, argv); }
