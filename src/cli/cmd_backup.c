/* cmd_backup.c: `oilcast backup create|verify|restore` (ops/backup.h): parses options, calls one
 * function, prints its result. A scheduled backup is a job step: `step = backup create --dir backups
 * --keep 7`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ops/backup.h"

static int run(oc_cli *cli, int argc, char **argv);

const oc_command oc_cmd_backup = {
    .name = "backup", .summary = "back up the data directory to one archive file, verify it, restore it",
    .usage = "Usage: oilcast backup create --out FILE\n"
    "       oilcast backup create --dir FOLDER [--keep N]   a file named by the time; keep the newest N\n"
    "       oilcast backup verify FILE\n"
    "       oilcast backup restore FILE --into DIR [--force]\n\n"
    "create: the store as a consistent snapshot (imports, the server and the scheduler keep running),\n"
    "  then every file of the data directory (lake, raw zone, model artifacts, endpoints, oilcast.conf,\n"
    "  jobs.conf) and a manifest with the SHA-256 of each, in one tar file written atomically. A relative\n"
    "  --dir is inside the data directory (and left out of later backups). As a job step:\n"
    "    step = backup create --dir backups --keep 7\n"
    "verify: reads the whole archive; exit 1 naming the first damaged, missing or unlisted member.\n"
    "restore: verifies while extracting into a new folder beside DIR, checks the store's integrity,\n"
    "  then puts it in place; a DIR that is not empty is replaced only with --force.\n\n" OC_CLI_COMMON_USAGE,
    .run = run};

enum { OPT_OUT = 1, OPT_DIR, OPT_KEEP, OPT_INTO, OPT_FORCE };

static void print_info(const char *what, const char *file, const oc_backup_info *info) {
  printf("%s %s: %zu members (%llu bytes) and the manifest, taken %s, store %s\n", what, file, info->members,
         (unsigned long long)info->bytes, info->created_at, info->store);
}

static int run(oc_cli *cli, int argc, char **argv) {
  static const struct option options[] = {{"out", required_argument, NULL, OPT_OUT},   {"dir", required_argument, NULL, OPT_DIR},
                                          {"keep", required_argument, NULL, OPT_KEEP}, {"into", required_argument, NULL, OPT_INTO},
                                          {"force", no_argument, NULL, OPT_FORCE},     OC_CLI_COMMON_OPTIONS,
                                          {0}};
  oc_backup_options opt = {.now = (int64_t)time(NULL)};
  const char *into = NULL;
  bool force = false;
  long keep = 0;
  int o, code;
  while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (o == OPT_OUT) opt.out = optarg;
    else if (o == OPT_DIR) opt.dir = optarg;
    else if (o == OPT_INTO) into = optarg;
    else if (o == OPT_FORCE) force = true;
    else if (o == OPT_KEEP) {
      if (oc_cli_parse_int(optarg, 1, 100000, &keep) != 0)
        return oc_cli_usage_error(&oc_cmd_backup, "--keep must be a whole number in 1..100000, not '%s'", optarg);
    } else {
      int handled = oc_cli_common_option(cli, &oc_cmd_backup, o, optarg, &code);
      if (handled < 0) return code;
      if (handled == 0) return oc_cli_unknown_option(&oc_cmd_backup);
    }
  }
  opt.keep = (int)keep;
  const char *action = optind < argc ? argv[optind++] : "";
  const char *file = strcmp(action, "create") != 0 && optind < argc ? argv[optind++] : NULL;
  if (optind < argc) return oc_cli_usage_error(&oc_cmd_backup, "unexpected argument '%s'", argv[optind]);
  oc_error err;
  oc_backup_info info;
  if (strcmp(action, "create") == 0) {
    if (!opt.out == !opt.dir) return oc_cli_usage_error(&oc_cmd_backup, "backup create needs --out FILE or --dir FOLDER (one)");
    if (keep && !opt.dir) return oc_cli_usage_error(&oc_cmd_backup, "--keep goes with --dir");
    oc_store *store;
    if (oc_cli_open_store(cli, &store) != 0) return OC_EXIT_RUNTIME;
    oc_backup_result res;
    int rc = oc_backup_create(cli->data_dir, store, &opt, &res, &err);
    oc_store_close(store);
    if (rc != 0) return oc_cli_runtime_error("%s", err.message);
    printf("backup %s: %zu members (%llu bytes) and the manifest", res.path, res.members, (unsigned long long)res.bytes);
    if (opt.keep) printf("; %zu older removed (keeping %d)", res.removed, opt.keep);
    printf("\n");
    oc_backup_result_free(&res);
    return OC_EXIT_OK;
  }
  if (strcmp(action, "verify") == 0 && file) {
    if (oc_backup_verify(file, &info, &err) != 0) return oc_cli_runtime_error("%s", err.message);
    print_info("verified", file, &info);
    return OC_EXIT_OK;
  }
  if (strcmp(action, "restore") == 0 && file && into) {
    if (oc_backup_restore(file, into, force, &info, &err) != 0) return oc_cli_runtime_error("%s", err.message);
    print_info("restored into", into, &info);
    return OC_EXIT_OK;
  }
  return oc_cli_usage_error(&oc_cmd_backup, "expected create --out FILE | create --dir FOLDER | verify FILE | restore FILE --into DIR");
}
