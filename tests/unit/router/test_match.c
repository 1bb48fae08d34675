/*
 * test_match.c -- the run-time router: trie construction rules (the same as
 * the build-time scan), precedence with backtracking, percent-decoding, bad
 * paths, and what lands in the arena.
 */
#include "t.h"
#include "router/router.h"

#include <stdlib.h>

/* Build a router from patterns; the file of "/api/x" is "pages/api/x.c". */
static router *mk(const char *const *patterns, size_t n, char **err)
{
    kiln_route_def *defs = calloc(n ? n : 1, sizeof(*defs));
    char **files = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(patterns[i]) + 16;
        files[i] = malloc(len);
        snprintf(files[i], len, "pages%s.c", patterns[i]);
        defs[i].pattern = patterns[i];
        defs[i].file = files[i];
    }
    router *r = router_new(defs, n, err);
    /* The router keeps its own copies: drop ours at once. */
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    free(defs);
    return r;
}
#define MK(...) mk((const char *const[]){ __VA_ARGS__ }, \
                   sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), NULL)

static arena A;
static route_match M;

static int match(router *r, const char *path)
{
    if (!A.head) arena_init(&A, 1024);
    arena_reset(&A);
    return router_match(r, path, strlen(path), &A, &M);
}

/* The pattern matched by path, or "404" / "400". */
static const char *route_of(router *r, const char *path)
{
    int rc = match(r, path);
    if (rc == ROUTE_NOT_FOUND) return "404";
    if (rc == ROUTE_BAD_PATH) return "400";
    return M.route->pattern;
}

static const route_param *param(const char *name)
{
    for (size_t i = 0; i < M.nparams; i++)
        if (!strcmp(M.params[i].name, name)) return &M.params[i];
    return NULL;
}

static const char *value(const char *name, size_t i)
{
    const route_param *p = param(name);
    return p && i < p->count ? p->values[i] : NULL;
}

/* The error router_new gives for a table (malloc'd; caller frees). */
static char *err_of(const char *const *patterns, size_t n)
{
    char *err = NULL;
    router *r = mk(patterns, n, &err);
    if (r) {
        router_free(r);
        return strdup("(no error)");
    }
    return err ? err : strdup("(null err)");
}
#define ERR(...) err_of((const char *const[]){ __VA_ARGS__ }, \
                        sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))
#define CHECK_ERR(expect, ...) do { char *e_ = ERR(__VA_ARGS__); CHECK_EQ_STR(e_, expect); \
    free(e_); } while (0)
#define CHECK_ERR_HAS(needle, ...) do { char *e_ = ERR(__VA_ARGS__); \
    if (!strstr(e_, needle)) T_FAIL("error \"%s\" lacks \"%s\"", e_, needle); \
    t_checks++; free(e_); } while (0)

/* ---- Static, index, nesting ------------------------------------------ */

TEST(static_routes)
{
    router *r = MK("/api", "/api/hello", "/api/posts", "/api/posts/recent");
    CHECK_EQ_STR(route_of(r, "/api"), "/api");
    CHECK_EQ_STR(route_of(r, "/api/hello"), "/api/hello");
    CHECK_EQ_STR(route_of(r, "/api/posts"), "/api/posts");
    CHECK_EQ_STR(route_of(r, "/api/posts/recent"), "/api/posts/recent");
    CHECK_EQ_STR(route_of(r, "/api/hell"), "404");
    CHECK_EQ_STR(route_of(r, "/api/helloo"), "404");
    CHECK_EQ_STR(route_of(r, "/api/Hello"), "404");
    CHECK_EQ_STR(route_of(r, "/api/hello/x"), "404");
    CHECK_EQ_STR(route_of(r, "/"), "404");
    CHECK_EQ_STR(route_of(r, "/apix"), "404");
    CHECK_EQ_INT(match(r, "/api/posts"), ROUTE_FOUND);
    CHECK_EQ_INT(M.route_index, 2);
    CHECK_EQ_STR(M.route->file, "pages/api/posts.c");
    CHECK_EQ_INT(M.nparams, 0);
    router_free(r);
}

TEST(static_match_allocates_nothing)
{
    router *r = MK("/api/hello", "/api/[id]");
    CHECK_EQ_INT(match(r, "/api/hello"), ROUTE_FOUND);
    CHECK_EQ_INT(arena_used(&A), 0);
    CHECK_EQ_INT(match(r, "/api/h%65llo"), ROUTE_FOUND);   /* decoded compare, no copy */
    CHECK_EQ_STR(M.route->pattern, "/api/hello");
    CHECK_EQ_INT(arena_used(&A), 0);
    router_free(r);
}

TEST(root_route)
{
    router *r = MK("/");
    CHECK_EQ_STR(route_of(r, "/"), "/");
    CHECK_EQ_STR(route_of(r, "//"), "404");
    CHECK_EQ_STR(route_of(r, "/a"), "404");
    router_free(r);
    r = MK("/[[...all]]");
    CHECK_EQ_STR(route_of(r, "/"), "/[[...all]]");
    CHECK_EQ_INT(param("all")->count, 0);
    CHECK_EQ_STR(route_of(r, "/a/b"), "/[[...all]]");
    CHECK_EQ_STR(value("all", 1), "b");
    router_free(r);
}

TEST(empty_table)
{
    router *r = mk(NULL, 0, NULL);
    CHECK(r != NULL);
    CHECK_EQ_STR(route_of(r, "/api"), "404");
    CHECK_EQ_STR(route_of(r, "/"), "404");
    CHECK_EQ_STR(route_of(r, "/%zz"), "400");
    router_free(r);
}

/* ---- Dynamic segments and precedence --------------------------------- */

TEST(static_beats_dynamic)
{
    router *r = MK("/api/posts/[id]", "/api/posts/new");
    CHECK_EQ_STR(route_of(r, "/api/posts/new"), "/api/posts/new");
    CHECK_EQ_INT(M.nparams, 0);
    CHECK_EQ_STR(route_of(r, "/api/posts/7"), "/api/posts/[id]");
    CHECK_EQ_INT(M.nparams, 1);
    CHECK_EQ_STR(M.params[0].name, "id");
    CHECK_EQ_INT(M.params[0].count, 1);
    CHECK_EQ_STR(M.params[0].values[0], "7");
    CHECK(M.params[0].values[1] == NULL);
    CHECK_EQ_STR(route_of(r, "/api/posts/newer"), "/api/posts/[id]");
    CHECK_EQ_STR(route_of(r, "/api/posts"), "404");
    CHECK_EQ_STR(route_of(r, "/api/posts/7/x"), "404");
    router_free(r);
}

TEST(dynamic_beats_catch_all)
{
    router *r = MK("/api/docs/[...slug]", "/api/docs/[id]");
    CHECK_EQ_STR(route_of(r, "/api/docs/a"), "/api/docs/[id]");
    CHECK_EQ_STR(value("id", 0), "a");
    CHECK_EQ_STR(route_of(r, "/api/docs/a/b"), "/api/docs/[...slug]");
    CHECK_EQ_INT(param("slug")->count, 2);
    CHECK_EQ_STR(value("slug", 0), "a");
    CHECK_EQ_STR(value("slug", 1), "b");
    CHECK(param("slug")->values[2] == NULL);
    router_free(r);
}

TEST(catch_all_needs_one_segment)
{
    router *r = MK("/api/docs/[...slug]");
    CHECK_EQ_STR(route_of(r, "/api/docs"), "404");
    CHECK_EQ_STR(route_of(r, "/api/docs/"), "404");
    CHECK_EQ_STR(route_of(r, "/api/docs/a"), "/api/docs/[...slug]");
    CHECK_EQ_INT(param("slug")->count, 1);
    CHECK_EQ_STR(route_of(r, "/api/docs/a/b/c"), "/api/docs/[...slug]");
    CHECK_EQ_INT(param("slug")->count, 3);
    CHECK_EQ_STR(value("slug", 2), "c");
    CHECK_EQ_STR(route_of(r, "/api/docs/a//c"), "404");
    CHECK_EQ_STR(route_of(r, "/api/docs/a/b/"), "404");
    router_free(r);
}

TEST(optional_catch_all_zero_or_more)
{
    router *r = MK("/api/opt/[[...slug]]", "/api/opt/fixed");
    CHECK_EQ_STR(route_of(r, "/api/opt"), "/api/opt/[[...slug]]");
    CHECK_EQ_INT(M.nparams, 1);
    CHECK_EQ_INT(param("slug")->count, 0);
    CHECK(param("slug")->values != NULL && param("slug")->values[0] == NULL);
    CHECK_EQ_STR(route_of(r, "/api/opt/a/b"), "/api/opt/[[...slug]]");
    CHECK_EQ_INT(param("slug")->count, 2);
    CHECK_EQ_STR(value("slug", 0), "a");
    CHECK_EQ_STR(value("slug", 1), "b");
    CHECK_EQ_STR(route_of(r, "/api/opt/fixed"), "/api/opt/fixed");
    CHECK_EQ_STR(route_of(r, "/api/opt/fixed/x"), "/api/opt/[[...slug]]");
    CHECK_EQ_STR(value("slug", 0), "fixed");
    CHECK_EQ_STR(route_of(r, "/api/opt/"), "404");
    router_free(r);
}

TEST(full_precedence_ladder)
{
    router *r = MK("/api/[[...all]]", "/api/p/[...rest]", "/api/p/[id]", "/api/p/new", "/api/p");
    CHECK_EQ_STR(route_of(r, "/api/p/new"), "/api/p/new");
    CHECK_EQ_STR(route_of(r, "/api/p/7"), "/api/p/[id]");
    CHECK_EQ_STR(route_of(r, "/api/p/7/8"), "/api/p/[...rest]");
    CHECK_EQ_STR(route_of(r, "/api/p"), "/api/p");
    CHECK_EQ_STR(route_of(r, "/api/q/1"), "/api/[[...all]]");
    CHECK_EQ_STR(route_of(r, "/api"), "/api/[[...all]]");
    router_free(r);
    /* Without /api/p itself, "/api/p" backtracks to the optional catch-all. */
    r = MK("/api/[[...all]]", "/api/p/[...rest]");
    CHECK_EQ_STR(route_of(r, "/api/p"), "/api/[[...all]]");
    CHECK_EQ_INT(param("all")->count, 1);
    CHECK_EQ_STR(value("all", 0), "p");
    CHECK_EQ_STR(route_of(r, "/api/p/x"), "/api/p/[...rest]");
    router_free(r);
}

TEST(dynamic_and_catch_all_coexist)
{
    router *r = MK("/api/x/[id]", "/api/x/[...slug]");
    CHECK(r != NULL);
    router_free(r);
    r = MK("/api/x/[id]", "/api/x/[...id]");   /* same name at one level: fine too */
    CHECK(r != NULL);
    CHECK_EQ_STR(route_of(r, "/api/x/1/2"), "/api/x/[...id]");
    router_free(r);
}

TEST(backtracking)
{
    router *r = MK("/api/a/c", "/api/[x]/b");
    CHECK_EQ_STR(route_of(r, "/api/a/b"), "/api/[x]/b");
    CHECK_EQ_STR(value("x", 0), "a");
    CHECK_EQ_STR(route_of(r, "/api/a/c"), "/api/a/c");
    CHECK_EQ_STR(route_of(r, "/api/z/c"), "404");
    router_free(r);
    /* Deeper: static, then dynamic, then catch-all at an upper level. */
    r = MK("/api/posts/new/edit", "/api/posts/[id]/x", "/api/[...rest]");
    CHECK_EQ_STR(route_of(r, "/api/posts/new/x"), "/api/posts/[id]/x");
    CHECK_EQ_STR(value("id", 0), "new");
    CHECK_EQ_STR(route_of(r, "/api/posts/new/y"), "/api/[...rest]");
    CHECK_EQ_INT(param("rest")->count, 3);
    CHECK_EQ_INT(M.nparams, 1);   /* the abandoned [id] capture is gone */
    router_free(r);
}

TEST(dynamic_folders)
{
    router *r = MK("/api/users/[id]/posts", "/api/users/[id]", "/api/users/[id]/posts/[post]");
    CHECK_EQ_STR(route_of(r, "/api/users/42/posts"), "/api/users/[id]/posts");
    CHECK_EQ_STR(value("id", 0), "42");
    CHECK_EQ_STR(route_of(r, "/api/users/42/posts/9"), "/api/users/[id]/posts/[post]");
    CHECK_EQ_INT(M.nparams, 2);
    CHECK_EQ_STR(M.params[0].name, "id");
    CHECK_EQ_STR(M.params[1].name, "post");
    CHECK_EQ_STR(value("post", 0), "9");
    CHECK_EQ_STR(route_of(r, "/api/users/42"), "/api/users/[id]");
    CHECK_EQ_STR(route_of(r, "/api/users/42/comments"), "404");
    router_free(r);
}

/* ---- Percent-decoding and bad paths ---------------------------------- */

TEST(percent_decoding)
{
    router *r = MK("/api/p/[id]", "/api/docs/[...slug]", "/api/hello world");
    CHECK_EQ_STR(route_of(r, "/api/p/hello%20world"), "/api/p/[id]");
    CHECK_EQ_STR(value("id", 0), "hello world");
    CHECK_EQ_STR(route_of(r, "/api/p/a%2Fb"), "/api/p/[id]");    /* stays one value */
    CHECK_EQ_STR(value("id", 0), "a/b");
    CHECK_EQ_STR(route_of(r, "/api/p/a%2fb"), "/api/p/[id]");    /* either case */
    CHECK_EQ_STR(value("id", 0), "a/b");
    CHECK_EQ_STR(route_of(r, "/api/p/caf%C3%A9"), "/api/p/[id]");
    CHECK_EQ_STR(value("id", 0), "caf\xc3\xa9");
    CHECK_EQ_STR(route_of(r, "/api/p/caf\xc3\xa9"), "/api/p/[id]");  /* raw UTF-8 too */
    CHECK_EQ_STR(value("id", 0), "caf\xc3\xa9");
    CHECK_EQ_STR(route_of(r, "/api/p/a+b"), "/api/p/[id]");      /* '+' is not a space */
    CHECK_EQ_STR(value("id", 0), "a+b");
    CHECK_EQ_STR(route_of(r, "/api/p/%25"), "/api/p/[id]");
    CHECK_EQ_STR(value("id", 0), "%");
    CHECK_EQ_STR(route_of(r, "/api/p/%2e%2e%2e"), "/api/p/[id]"); /* "..." is no dot segment */
    CHECK_EQ_STR(value("id", 0), "...");
    CHECK_EQ_STR(route_of(r, "/api/docs/a%2Fb/c%20d"), "/api/docs/[...slug]");
    CHECK_EQ_INT(param("slug")->count, 2);
    CHECK_EQ_STR(value("slug", 0), "a/b");
    CHECK_EQ_STR(value("slug", 1), "c d");
    /* Static segments compare decoded too. */
    CHECK_EQ_STR(route_of(r, "/api/hello%20world"), "/api/hello world");
    CHECK_EQ_STR(route_of(r, "/%61pi/p/x"), "/api/p/[id]");
    CHECK_EQ_STR(route_of(r, "/api%2Fp/x"), "404");   /* %2F is not a separator */
    router_free(r);
}

TEST(bad_escapes)
{
    router *r = MK("/api/p/[id]");
    const char *bad[] = { "/api/p/%", "/api/p/%2", "/api/p/%zz", "/api/p/%g0", "/api/p/%0g",
                          "/api/p/a%", "/api/p/%%", "/api/p/%00", "/api/%00/x", "/%2",
                          "/api/p/%2/x", "/api/p/%/", "/api/p/x%" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (match(r, bad[i]) != ROUTE_BAD_PATH) T_FAIL("%s is not a bad path", bad[i]);
        t_checks++;
    }
    /* A raw NUL is as bad as a decoded one. */
    CHECK_EQ_INT(router_match(r, "/api/p/a\0b", 10, &A, &M), ROUTE_BAD_PATH);
    /* Must start with '/'. */
    CHECK_EQ_STR(route_of(r, ""), "400");
    CHECK_EQ_STR(route_of(r, "api/p/1"), "400");
    CHECK_EQ_STR(route_of(r, "*"), "400");
    /* The length is honoured: no reading past it. */
    CHECK_EQ_INT(router_match(r, "/api/p/%41", 9, &A, &M), ROUTE_BAD_PATH);
    CHECK_EQ_INT(router_match(r, "/api/p/xyz", 8, &A, &M), ROUTE_FOUND);
    CHECK_EQ_STR(value("id", 0), "x");
    router_free(r);
}

TEST(dot_segments)
{
    router *r = MK("/api/p/[id]", "/api/[...all]");
    const char *bad[] = { "/api/p/.", "/api/p/..", "/api/../p/x", "/./api/p/x", "/api/p/%2e",
                          "/api/p/%2E%2e", "/api/p/.%2E", "/api/p/%2e.", "/..", "/.",
                          "/api/./p" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (match(r, bad[i]) != ROUTE_BAD_PATH) T_FAIL("%s is not a bad path", bad[i]);
        t_checks++;
    }
    CHECK_EQ_STR(route_of(r, "/api/p/..."), "/api/p/[id]");
    CHECK_EQ_STR(route_of(r, "/api/p/.a"), "/api/p/[id]");
    CHECK_EQ_STR(route_of(r, "/api/p/a."), "/api/p/[id]");
    CHECK_EQ_STR(route_of(r, "/api/p/..a"), "/api/p/[id]");
    router_free(r);
}

TEST(empty_segments)
{
    router *r = MK("/api/hello", "/api/[id]", "/api/[...all]", "/api/o/[[...x]]");
    CHECK_EQ_STR(route_of(r, "/api//hello"), "404");
    CHECK_EQ_STR(route_of(r, "//api/hello"), "404");
    CHECK_EQ_STR(route_of(r, "/api/hello/"), "404");
    CHECK_EQ_STR(route_of(r, "/api/"), "404");
    CHECK_EQ_STR(route_of(r, "/api/a//b"), "404");
    CHECK_EQ_STR(route_of(r, "/api/o/"), "404");
    /* A bad escape anywhere still wins over an empty segment. */
    CHECK_EQ_STR(route_of(r, "/api//%zz"), "400");
    router_free(r);
}

TEST(long_catch_all)
{
    router *r = MK("/api/[...all]");
    size_t n = 2000;
    char *p = malloc(4 + 2 * n + 1), *q = p;
    memcpy(q, "/api", 4);
    q += 4;
    for (size_t i = 0; i < n; i++) { *q++ = '/'; *q++ = (char)('a' + i % 26); }
    *q = '\0';
    CHECK_EQ_STR(route_of(r, p), "/api/[...all]");
    CHECK_EQ_INT(param("all")->count, n);
    CHECK_EQ_STR(value("all", 1999), "x");    /* 1999 % 26 == 23 */
    free(p);
    router_free(r);
}

/* ---- router_new: the build rules ------------------------------------- */

TEST(new_refuses_same_shape)
{
    CHECK_ERR("different slug names for the same dynamic path: pages/api/[a].c and pages/api/[b].c",
              "/api/[a]", "/api/[b]");
    CHECK_ERR("different slug names for the same dynamic path: pages/api/x/[id].c and "
              "pages/api/x/[slug]/more.c",
              "/api/x/[slug]/more", "/api/x/[id]");
    CHECK_ERR("ambiguous routes: pages/api/posts.c and pages/api/posts.c both map to /api/posts",
              "/api/posts", "/api/posts");
    CHECK_ERR("different slug names for the same dynamic path: pages/api/d/[...a].c and "
              "pages/api/d/[...b].c",
              "/api/d/[...a]", "/api/d/[...b]");
    CHECK_ERR("a catch-all and an optional catch-all at the same level: pages/api/d/[...a].c and "
              "pages/api/d/[[...b]].c",
              "/api/d/[...a]", "/api/d/[[...b]]");
    CHECK_ERR("a catch-all and an optional catch-all at the same level: pages/api/d/[...a].c and "
              "pages/api/d/[[...a]].c",
              "/api/d/[[...a]]", "/api/d/[...a]");
    CHECK_ERR("an optional catch-all has the same specificity as another route: pages/api/o.c and "
              "pages/api/o/[[...s]].c",
              "/api/o", "/api/o/[[...s]]");
    CHECK_ERR("an optional catch-all has the same specificity as another route: pages/api/o.c and "
              "pages/api/o/[[...s]].c",
              "/api/o/[[...s]]", "/api/o");
}

TEST(new_refuses_bad_patterns)
{
    CHECK_ERR_HAS("pages/api/[1x].c: malformed dynamic segment \"[1x]\"", "/api/[1x]");
    CHECK_ERR_HAS("malformed dynamic segment \"[a-b]\"", "/api/[a-b]");
    CHECK_ERR_HAS("malformed dynamic segment \"[]\"", "/api/[]");
    CHECK_ERR_HAS("malformed dynamic segment \"[...]\"", "/api/[...]");
    CHECK_ERR_HAS("malformed dynamic segment \"[[...]]\"", "/api/[[...]]");
    CHECK_ERR_HAS("malformed dynamic segment \"[[x]]\"", "/api/[[x]]");
    CHECK_ERR_HAS("malformed dynamic segment \"[...x]]\"", "/api/[...x]]");
    CHECK_ERR_HAS("malformed dynamic segment \"[x\"", "/api/[x");
    CHECK_ERR_HAS("malformed dynamic segment \"x]\"", "/api/x]");
    CHECK_ERR_HAS("malformed dynamic segment \"a[b]\"", "/api/a[b]");
    CHECK_ERR_HAS("malformed dynamic segment \"[..x]\"", "/api/[..x]");
    CHECK_ERR_HAS("malformed dynamic segment \"[ x]\"", "/api/[ x]");
    CHECK_ERR("pages/api/[...x]/y.c: a catch-all must be the last segment of /api/[...x]/y",
              "/api/[...x]/y");
    CHECK_ERR_HAS("a catch-all must be the last segment", "/api/[[...x]]/y");
    CHECK_ERR("pages/api/[id]/[id].c: param name \"id\" used twice in /api/[id]/[id]",
              "/api/[id]/[id]");
    CHECK_ERR_HAS("param name \"id\" used twice", "/api/[id]/x/[...id]");
    CHECK_ERR_HAS("empty segment", "/api//x");
    CHECK_ERR_HAS("empty segment", "/api/x/");
    CHECK_ERR_HAS("\".\" or \"..\" segment", "/api/../x");
    CHECK_ERR_HAS("must start with '/'", "api/x");
    CHECK_ERR_HAS("must start with '/'", "");
    /* Valid names. */
    CHECK_ERR("(no error)", "/api/[_]", "/api/x/[A_9z]", "/api/y/[...a1]", "/api/z/[[..._b]]");
}

TEST(new_param_limit)
{
    char pat[600], ok[512] = "/api";
    for (int i = 0; i < ROUTER_MAX_PARAMS; i++)
        snprintf(ok + strlen(ok), sizeof ok - strlen(ok), "/[p%d]", i);
    snprintf(pat, sizeof pat, "%s/[[...more]]", ok);
    CHECK_ERR_HAS("more than 16 params", pat);
    router *r = mk((const char *const[]){ ok }, 1, NULL);
    CHECK(r != NULL);
    char path[512] = "/api";
    for (int i = 0; i < ROUTER_MAX_PARAMS; i++)
        snprintf(path + strlen(path), sizeof path - strlen(path), "/v%d", i);
    CHECK_EQ_INT(match(r, path), ROUTE_FOUND);
    CHECK_EQ_INT(M.nparams, ROUTER_MAX_PARAMS);
    CHECK_EQ_STR(value("p15", 0), "v15");
    router_free(r);
}

TEST(new_depth_limit)
{
    char *deep = malloc(2 * 200 + 8), *q = deep;
    for (int i = 0; i < 129; i++) { *q++ = '/'; *q++ = 'd'; }
    *q = '\0';
    CHECK_ERR_HAS("more than 128 segments", deep);
    deep[2 * 128] = '\0';
    CHECK_ERR("(no error)", deep);
    free(deep);
}

TEST(new_err_may_be_null)
{
    kiln_route_def d[2] = { { .pattern = "/api/[a]" }, { .pattern = "/api/[b]" } };
    CHECK(router_new(d, 2, NULL) == NULL);
    char *err = NULL;
    CHECK(router_new(d, 2, &err) == NULL);   /* no file: the pattern names the route */
    CHECK_EQ_STR(err, "different slug names for the same dynamic path: /api/[a] and /api/[b]");
    free(err);
}

TEST(order_is_precedence)
{
    router *r = MK("/api/[[...all]]", "/api/users/[id]", "/api/posts/[...slug]", "/api/posts",
                   "/api/posts/new", "/api/posts/[id]", "/api/a", "/api/[x]/z");
    size_t idx[8];
    router_order(r, idx);
    const char *want[] = { "/api/a", "/api/posts", "/api/posts/new", "/api/posts/[id]",
                           "/api/posts/[...slug]", "/api/users/[id]", "/api/[x]/z",
                           "/api/[[...all]]" };
    const char *pats[] = { "/api/[[...all]]", "/api/users/[id]", "/api/posts/[...slug]",
                           "/api/posts", "/api/posts/new", "/api/posts/[id]", "/api/a",
                           "/api/[x]/z" };
    for (size_t i = 0; i < 8; i++) CHECK_EQ_STR(pats[idx[i]], want[i]);
    router_free(r);
}

int main(void)
{
    int rc = t_run();
    arena_destroy(&A);
    return rc;
}
