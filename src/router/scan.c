/*
 * scan.c -- the build-time half of routing: walk APP/pages/api and turn every
 * route file into a pattern, Next.js style.
 *
 *     pages/api/hello.c              ->  /api/hello
 *     pages/api/posts/index.c        ->  /api/posts
 *     pages/api/users/[id]/posts.c   ->  /api/users/[id]/posts
 *     pages/api/docs/[...slug].c     ->  /api/docs/[...slug]
 *
 * Files and folders whose name starts with '_' or '.' are skipped, and so are
 * files not ending in ".c". Entries are visited in byte order, so the result
 * and the first error reported do not depend on the file system.
 *
 * The rules between patterns (ambiguous routes, different slug names, a
 * catch-all beside an optional one, an optional catch-all beside index.c,
 * malformed or repeated names) are router_new's: the table is handed to it,
 * so build time and run time can never disagree, and the result comes out in
 * router_order's precedence order. The walk itself adds what only the tree
 * shows: a folder named [...x] or [[...x]], a missing pages/api, and loops.
 *
 * Owns: the returned array and its strings (routes_free releases them).
 * Must never: hang on a symlink loop (symlinks are followed, but a folder
 * that is its own ancestor is an error, nesting is capped at 32 and the walk
 * at SCAN_MAX_ENTRIES entries); report a file by anything but its path
 * relative to the app folder.
 */
#include "router/router.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define SCAN_MAX_DEPTH 32
#define SCAN_MAX_ENTRIES 100000

typedef struct scan_ctx {
    scan_route *routes;     /* found so far, in walk order */
    size_t n, cap;
    size_t entries;         /* entries looked at (the runaway guard) */
    char *err;              /* the first error, malloc'd */
    struct { dev_t dev; ino_t ino; } stack[SCAN_MAX_DEPTH + 1]; /* open folders */
    int depth;
} scan_ctx;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s;
    va_start(ap, f);
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    if (n < 0) KILN_PANIC("out of memory formatting a message");
    return s;
}

static int fail(scan_ctx *c, char *msg)
{
    if (!c->err) c->err = msg;
    else free(msg);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with_c(const char *name, size_t len)
{
    return len > 2 && name[len - 2] == '.' && name[len - 1] == 'c';
}

static void add_route(scan_ctx *c, char *pattern, char *file)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->routes = kiln_xrealloc(c->routes, c->cap * sizeof(scan_route));
    }
    c->routes[c->n++] = (scan_route){ pattern, file };
}

/* Read a folder's names, minus the ignored ones, sorted. */
static int read_names(scan_ctx *c, const char *abs, const char *rel, char ***out, size_t *n)
{
    DIR *d = opendir(abs);
    if (!d) return fail(c, fmt("cannot open %s: %s", rel, strerror(errno)));
    char **names = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || de->d_name[0] == '_') continue;
        if (++c->entries > SCAN_MAX_ENTRIES) {
            for (size_t i = 0; i < cnt; i++) free(names[i]);
            free(names);
            closedir(d);
            return fail(c, fmt("more than %d entries under pages/api (a symlink cycle?)",
                               SCAN_MAX_ENTRIES));
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            names = kiln_xrealloc(names, cap * sizeof(char *));
        }
        names[cnt++] = kiln_xstrdup(de->d_name);
    }
    closedir(d);
    if (cnt) qsort(names, cnt, sizeof(char *), cmp_str);
    *out = names;
    *n = cnt;
    return 0;
}

/* Walk one folder: abs is its path on disk, rel its path from the app dir
 * ("pages/api/users"), pat the pattern it stands for ("/api/users"). */
static int walk(scan_ctx *c, const char *abs, const char *rel, const char *pat)
{
    char **names;
    size_t n;
    if (read_names(c, abs, rel, &names, &n) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i];
        size_t len = strlen(name);
        char *eabs = fmt("%s/%s", abs, name), *erel = fmt("%s/%s", rel, name);
        struct stat st;
        if (stat(eabs, &st) != 0) {
            /* A dangling link is only worth an error if it looks like a route. */
            if (ends_with_c(name, len))
                rc = fail(c, fmt("cannot read %s: %s", erel, strerror(errno)));
        } else if (S_ISDIR(st.st_mode)) {
            for (int k = 0; k <= c->depth && rc == 0; k++)
                if (c->stack[k].dev == st.st_dev && c->stack[k].ino == st.st_ino)
                    rc = fail(c, fmt("folder loop: %s is one of its own parent folders "
                                     "(a symlink?)", erel));
            if (rc == 0 && c->depth == SCAN_MAX_DEPTH)
                rc = fail(c, fmt("folders nested more than %d deep: %s", SCAN_MAX_DEPTH, erel));
            if (rc == 0 && (!strncmp(name, "[...", 4) || !strncmp(name, "[[...", 5)))
                rc = fail(c, fmt("a catch-all must be the last segment, so it cannot be a "
                                 "folder: %s (make it %s.c)", erel, erel));
            if (rc == 0) {
                char *epat = fmt("%s/%s", pat, name);
                c->depth++;
                c->stack[c->depth].dev = st.st_dev;
                c->stack[c->depth].ino = st.st_ino;
                rc = walk(c, eabs, erel, epat);
                c->depth--;
                free(epat);
            }
        } else if (S_ISREG(st.st_mode) && ends_with_c(name, len)) {
            /* index.c is the folder itself; anything else adds a segment. */
            char *epat = (len == 7 && !memcmp(name, "index", 5))
                             ? kiln_xstrdup(pat)
                             : fmt("%s/%.*s", pat, (int)(len - 2), name);
            add_route(c, epat, erel);
            erel = NULL;
        }
        free(eabs);
        free(erel);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static int cmp_route_file(const void *a, const void *b)
{
    return strcmp(((const scan_route *)a)->file, ((const scan_route *)b)->file);
}

int routes_scan(const char *app_dir, scan_route **out, size_t *n, char **err)
{
    *out = NULL;
    *n = 0;
    if (err) *err = NULL;
    scan_ctx c = { 0 };
    char *root = fmt("%s/pages/api", app_dir);
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fail(&c, fmt("no pages/api folder in %s: routes live in %s/pages/api/*.c", app_dir,
                     app_dir));
    } else {
        c.stack[0].dev = st.st_dev;
        c.stack[0].ino = st.st_ino;
        walk(&c, root, "pages/api", "/api");
    }
    free(root);

    if (!c.err) {
        /* Check the rules between patterns with the run-time router, in file
         * order so that the files it names are the same every time. */
        if (c.n) qsort(c.routes, c.n, sizeof(scan_route), cmp_route_file);
        kiln_route_def *defs = kiln_xcalloc(c.n ? c.n : 1, sizeof(kiln_route_def));
        for (size_t i = 0; i < c.n; i++) {
            defs[i].pattern = c.routes[i].pattern;
            defs[i].file = c.routes[i].file;
        }
        router *r = router_new(defs, c.n, &c.err);
        free(defs);
        if (r) {
            size_t *idx = kiln_xcalloc(c.n ? c.n : 1, sizeof(size_t));
            router_order(r, idx);
            scan_route *sorted = kiln_xcalloc(c.n ? c.n : 1, sizeof(scan_route));
            for (size_t i = 0; i < c.n; i++) sorted[i] = c.routes[idx[i]];
            free(c.routes);
            free(idx);
            router_free(r);
            *out = sorted;
            *n = c.n;
            return 0;
        }
    }
    routes_free(c.routes, c.n);
    if (err) *err = c.err;
    else free(c.err);
    return -1;
}

void routes_free(scan_route *routes, size_t n)
{
    if (!routes) return;
    for (size_t i = 0; i < n; i++) {
        free(routes[i].pattern);
        free(routes[i].file);
    }
    free(routes);
}
