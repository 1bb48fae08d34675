/*
 * main.c -- the `kiln` command's main: new, dev, build, start, routes, migrate
 * (the public API, include/kiln.h, is implemented in src/api, src/db, ...).
 * Owns: argument parsing and help texts. Must never: accept an unknown
 * option silently.
 */
#include "cli/cli.h"
#include "db/db.h"
#include "kiln.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
        "kiln " KILN_VERSION " -- Next.js-style API routes, in C\n\n"
        "usage: kiln COMMAND [options]\n\n"
        "commands:\n"
        "  new NAME                      create an app folder with pages/api/hello.c\n"
        "  dev [APP_DIR] [--port N] [--sanitize]\n"
        "                                serve APP_DIR, rebuilding and swapping in what you change\n"
        "  build APP_DIR                 compile APP_DIR/pages/api into APP_DIR/.kiln/server\n"
        "  start APP_DIR [--port N] [--workers N] [--host ADDR] [--threads N] [--log-level L]\n"
        "                                run the built server (PORT from the environment too)\n"
        "  routes APP_DIR                print every route: pattern, methods, file\n"
        "  openapi APP_DIR               print the app's OpenAPI 3.1 document\n"
        "  migrate APP_DIR               apply APP_DIR/db/migrations to the app's database\n\n"
        "Run `kiln COMMAND --help` for a command's options.\n");
}

static int need_app(int argc, char **argv, const char *cmd, const char *help)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { printf("%s", help); return -1; }
    if (argc < 3 || argv[2][0] == '-') {
        fprintf(stderr, "kiln %s: missing APP_DIR\n%s", cmd, help);
        return -2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("kiln %s\n", KILN_VERSION); return 0; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "build")) {
        const char *help = "usage: kiln build APP_DIR\n"
                           "  Compiles the routes under APP_DIR/pages/api and APP_DIR/lib/*.c into one\n"
                           "  optimized binary, APP_DIR/.kiln/server, and prints the route table.\n"
                           "  Environment: KILN_CC (compiler), KILN_CFLAGS, KILN_LDFLAGS (extra flags).\n";
        int r = need_app(argc, argv, cmd, help);
        if (r) return r == -1 ? 0 : 2;
        if (argc > 3) { fprintf(stderr, "kiln build: unknown argument '%s'\n", argv[3]); return 2; }
        return cmd_build(argv[2], false);
    }
    if (!strcmp(cmd, "routes")) {
        const char *help = "usage: kiln routes APP_DIR\n  Prints every route: path pattern, methods, file.\n";
        int r = need_app(argc, argv, cmd, help);
        if (r) return r == -1 ? 0 : 2;
        if (argc > 3) { fprintf(stderr, "kiln routes: unknown argument '%s'\n", argv[3]); return 2; }
        return cmd_routes(argv[2]);
    }
    if (!strcmp(cmd, "openapi")) {
        const char *help = "usage: kiln openapi APP_DIR\n"
                           "  Builds APP_DIR and prints its OpenAPI 3.1 document (routes, methods, schemas,\n"
                           "  declared responses). Info block: APP_DIR/kiln.json. See docs/openapi.md.\n";
        int r = need_app(argc, argv, cmd, help);
        if (r) return r == -1 ? 0 : 2;
        if (argc > 3) { fprintf(stderr, "kiln openapi: unknown argument '%s'\n", argv[3]); return 2; }
        return cmd_openapi(argv[2]);
    }
    if (!strcmp(cmd, "dev")) return cmd_dev(argc, argv);
    if (!strcmp(cmd, "new")) {
        const char *help = "usage: kiln new NAME\n"
                           "  Creates the folder NAME with pages/api/hello.c, lib/, db/migrations/,\n"
                           "  a .gitignore and a README. Then: cd NAME && kiln dev\n";
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { printf("%s", help); return 0; }
        if (argc != 3 || argv[2][0] == '-') {
            if (argc > 3) fprintf(stderr, "kiln new: unknown argument '%s'\n", argv[3]);
            else if (argc < 3) fprintf(stderr, "kiln new: missing NAME\n");
            else fprintf(stderr, "kiln new: unknown option '%s'\n", argv[2]);
            fprintf(stderr, "%s", help);
            return 2;
        }
        return cmd_new(argv[2]);
    }
    if (!strcmp(cmd, "migrate")) {
        const char *help = "usage: kiln migrate APP_DIR\n"
                           "  Applies APP_DIR/db/migrations/NNN_name.sql in order, each once, each in a\n"
                           "  transaction (NNN_name.sqlite.sql / NNN_name.pg.sql for one dialect only).\n"
                           "  Uses DATABASE_URL (postgres://...) or SQLite at APP_DIR/data/app.db.\n"
                           "  `kiln start` applies them too.\n";
        int r = need_app(argc, argv, cmd, help);
        if (r) return r == -1 ? 0 : 2;
        if (argc > 3) { fprintf(stderr, "kiln migrate: unknown argument '%s'\n", argv[3]); return 2; }
        return db_migrate(argv[2], true) == 0 ? 0 : 1;
    }
    if (!strcmp(cmd, "start")) {
        const char *help = "usage: kiln start APP_DIR [--port N] [--workers N|auto] [--host ADDR] [--threads N] [--log-level L]\n"
                           "                 [--idle-exit S]\n"
                           "  Runs APP_DIR/.kiln/server (build it first with `kiln build`).\n"
                           "  --port N       port (env PORT; default 3000)\n"
                           "  --workers N    worker processes, or auto (the default: one per CPU this\n"
                           "                 process may use, from its affinity mask and cgroup quota)\n"
                           "  --idle-exit S  exit after S seconds without connections (with a systemd\n"
                           "                 socket unit, the next connection starts it again)\n"
                           "  --host ADDR    bind address (default: all interfaces)\n"
                           "  --threads N    offload threads per worker (default 64)\n"
                           "  --log-level L  debug|info|warn|error (default info)\n";
        int r = need_app(argc, argv, cmd, help);
        if (r) return r == -1 ? 0 : 2;
        char server[4096];
        snprintf(server, sizeof server, "%s/.kiln/server", argv[2]);
        if (access(server, X_OK) != 0) {
            fprintf(stderr, "kiln start: no build in %s/.kiln (run `kiln build %s` first)\n", argv[2], argv[2]);
            return 1;
        }
        char **args = calloc((size_t)argc, sizeof *args);
        args[0] = server;
        for (int i = 3; i < argc; i++) args[i - 2] = argv[i];
        setenv("KILN_APP_DIR", argv[2], 1);
        execv(server, args);
        fprintf(stderr, "kiln start: cannot run %s: %s\n", server, strerror(errno));
        free(args);
        return 1;
    }
    fprintf(stderr, "kiln: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
