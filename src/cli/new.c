/*
 * new.c -- `kiln new NAME`: a ready app folder, the twin of create-next-app.
 *
 *   NAME/pages/api/hello.c   the lesson's hello world
 *   NAME/lib/                shared code (linked into every route)
 *   NAME/db/migrations/      schema migrations, applied at start
 *   NAME/.gitignore          .kiln/ and data/
 *   NAME/README.md           how to run it
 *
 * Owns: nothing after it returns. Must never: write into an existing
 * non-empty folder.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int write_file(const char *dir, const char *name, const char *text)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) { fprintf(stderr, "kiln new: cannot write %s: %s\n", p, strerror(errno)); return -1; }
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return true;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) { empty = false; break; }
    closedir(d);
    return empty;
}

int cmd_new(const char *name)
{
    if (!*name || strchr(name, '\n')) { fprintf(stderr, "kiln new: invalid name\n"); return 2; }
    struct stat st;
    if (stat(name, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(name))) {
        fprintf(stderr, "kiln new: %s already exists and is not an empty folder\n", name);
        return 1;
    }
    const char *dirs[] = { "", "/pages", "/pages/api", "/lib", "/db", "/db/migrations" };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", name, dirs[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "kiln new: cannot create %s: %s\n", p, strerror(errno));
            return 1;
        }
    }
    char pages[4200], lib[4200], mig[4200];
    snprintf(pages, sizeof pages, "%s/pages/api", name);
    snprintf(lib, sizeof lib, "%s/lib", name);
    snprintf(mig, sizeof mig, "%s/db/migrations", name);
    int rc = 0;
    rc |= write_file(pages, "hello.c",
        "#include <kiln.h>\n"
        "\n"
        "void handler(kiln_req *req, kiln_res *res)\n"
        "{\n"
        "    kiln_json(res, 200, \"{message: %s}\", \"Hello, World!\");\n"
        "}\n");
    rc |= write_file(lib, ".keep", "");
    rc |= write_file(mig, ".keep", "");
    rc |= write_file(name, ".gitignore", ".kiln/\ndata/\n");
    char readme[2048];
    snprintf(readme, sizeof readme,
        "# %s\n\n"
        "A Kiln app: Next.js-style API routes, in C.\n\n"
        "    kiln dev            # http://localhost:3000, rebuilds on save\n"
        "    kiln build . && kiln start .   # the optimized production server\n\n"
        "- `pages/api/hello.c` answers `GET /api/hello`; every `.c` under `pages/api/` is a route\n"
        "  (`[id].c` for a dynamic segment, `[...slug].c` for a catch-all).\n"
        "- `lib/` holds code shared by the routes; `db/migrations/NNN_name.sql` the schema\n"
        "  (SQLite in `data/` by default, PostgreSQL with `DATABASE_URL=postgres://...`).\n"
        "- The whole API is `kiln.h`.\n", name);
    rc |= write_file(name, "README.md", readme);
    if (rc) return 1;
    printf("kiln: created %s\n\n  cd %s && kiln dev\n\nthen open http://localhost:3000/api/hello\n", name, name);
    return 0;
}
