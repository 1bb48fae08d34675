/*
 * router.h -- file-system routing, Next.js rules.
 *
 * Two halves:
 *  - Build time (scan.c): walk APP/pages/api, turn file names into route
 *    patterns, refuse ambiguous trees with a message naming both files.
 *  - Run time (match.c): a segment trie built once at start-up from the
 *    generated route table; match a request path, extract params.
 *
 * Patterns use the file-name syntax: "/api/posts/[id]", "/api/docs/[...slug]",
 * "/api/opt/[[...slug]]". Precedence, as in Next.js: a static segment beats
 * a dynamic one, which beats a catch-all, which beats an optional catch-all;
 * matching backtracks, so /api/posts/new/x can still reach [id]/x when the
 * static "new" branch has no "x".
 */
#ifndef KILN_ROUTER_H
#define KILN_ROUTER_H

#include "kiln.h"
#include "core/core.h"

#define ROUTER_MAX_PARAMS 16

/* ---- Run time -------------------------------------------------------- */
typedef struct router router;

typedef struct route_param {
    const char *name;          /* "id", "slug" (NUL-terminated, from the pattern) */
    const char *const *values; /* percent-decoded, NUL-terminated, in the arena   */
    size_t count;              /* 1 for [x]; >=1 for [...x]; >=0 for [[...x]]     */
} route_param;

typedef struct route_match {
    const kiln_route_def *route;  /* the router's copy of the matched def      */
    size_t route_index;           /* its index in the table given to router_new */
    size_t nparams;
    route_param params[ROUTER_MAX_PARAMS];
} route_match;

enum { ROUTE_FOUND = 0, ROUTE_NOT_FOUND = 1, ROUTE_BAD_PATH = 2 };

/* Build the trie. On a bad pattern or two routes with the same shape, returns
 * NULL and sets *err (malloc'd, caller frees) to a message naming the files. */
router *router_new(const kiln_route_def *routes, size_t n, char **err);
void router_free(router *r);

/* The route indices (into the table given to router_new) in precedence order:
 * a folder's own route, then its static children by name, then its [x]
 * subtree, then [...x], then [[...x]] -- Next.js's sorted order, and the
 * order the CLI prints. `idx` has room for n entries. */
void router_order(const router *r, size_t *idx);

/* Match the raw path (no query; "/api/x/y"). Segments are split on '/' and
 * percent-decoded before comparison ("%2F" decodes to a '/' inside one
 * segment). Returns ROUTE_FOUND and fills *m, ROUTE_NOT_FOUND, or
 * ROUTE_BAD_PATH for an invalid percent escape, a decoded NUL, or a "." or
 * ".." segment. Empty segments ("//") never match. Allocates from `a`
 * (nothing for a route without params). Every `values` array also ends with a
 * NULL entry; an empty optional catch-all has count 0 and values == {NULL}. */
int router_match(const router *r, const char *path, size_t len, arena *a, route_match *m);

/* ---- Build time ------------------------------------------------------ */
typedef struct scan_route {
    char *pattern;  /* "/api/posts/[id]"                                    */
    char *file;     /* "pages/api/posts/[id].c", relative to the app dir    */
} scan_route;

/* Scan APP/pages/api for *.c route files (files and folders whose name starts
 * with '_' or '.' are ignored, as are non-.c files). On success returns 0 and
 * *out and *n hold the routes in precedence order (most specific first, then by
 * path). On error returns -1 and *err (malloc'd) says what is wrong, naming
 * the files: "posts.c" beside "posts/index.c"; two different dynamic names in
 * one folder ("[id].c" and "[slug].c", or folders); a catch-all that is not
 * the last segment; "[[...x]].c" beside "index.c"; a malformed bracket name;
 * a missing pages/api folder. */
int routes_scan(const char *app_dir, scan_route **out, size_t *n, char **err);
void routes_free(scan_route *routes, size_t n);

#endif
