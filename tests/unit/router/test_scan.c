/*
 * test_scan.c -- the build-time scan of APP/pages/api: file names to
 * patterns, ignored files, the errors (each naming the exact files), symlink
 * loops and the output order. Every test builds its app tree under a fresh
 * mkdtemp folder and removes it afterwards.
 */
#include "t.h"
#include "router/router.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char app[256];

static void app_new(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(app, sizeof app, "%s/kiln-scan-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(app)) { perror("mkdtemp"); exit(1); }
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void app_rm(void)
{
    nftw(app, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create APP/rel (a file, or a folder when rel ends in '/'), parents too. */
static void mk(const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", app, rel);
    for (char *s = p + strlen(app) + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) { perror(p); exit(1); }
        *s = '/';
    }
    if (p[strlen(p) - 1] == '/') return;
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(1); }
    fputs("#include <kiln.h>\n", f);
    fclose(f);
}

static void mk_all(const char *const *rels, size_t n)
{
    for (size_t i = 0; i < n; i++) mk(rels[i]);
}
#define TREE(...) mk_all((const char *const[]){ __VA_ARGS__ }, \
                         sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static void link_at(const char *target, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", app, rel);
    if (symlink(target, p) != 0) { perror(p); exit(1); }
}

/* Scan; on success the table as "pattern file\n" lines, else "ERR: msg". */
static char *scan(void)
{
    scan_route *r;
    size_t n;
    char *err = (char *)"junk";
    static char out[8192];
    out[0] = '\0';
    if (routes_scan(app, &r, &n, &err) != 0) {
        snprintf(out, sizeof out, "ERR: %s", err ? err : "(null)");
        free(err);
        return out;
    }
    if (err != NULL) return (char *)"err not NULL on success";
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s %s\n", r[i].pattern, r[i].file);
    routes_free(r, n);
    return out;
}

#define CHECK_SCAN_ERR(msg) CHECK_EQ_STR(scan(), "ERR: " msg)

TEST(maps_files_to_patterns_in_order)
{
    app_new();
    TREE("pages/api/hello.c", "pages/api/posts/index.c", "pages/api/index.c",
         "pages/api/posts/[id].c", "pages/api/posts/new.c", "pages/api/users/[id]/posts.c",
         "pages/api/users/[id]/index.c", "pages/api/docs/[...slug].c",
         "pages/api/opt/[[...slug]].c", "pages/api/[x].c", "pages/api/[x]/deep.c",
         "pages/api/a/b/c/d.c", "pages/api/Zed.c", "pages/api/index/index.c",
         "pages/api/posts/[...rest].c");
    CHECK_EQ_STR(scan(),
                 "/api pages/api/index.c\n"
                 "/api/Zed pages/api/Zed.c\n"
                 "/api/a/b/c/d pages/api/a/b/c/d.c\n"
                 "/api/docs/[...slug] pages/api/docs/[...slug].c\n"
                 "/api/hello pages/api/hello.c\n"
                 "/api/index pages/api/index/index.c\n"
                 "/api/opt/[[...slug]] pages/api/opt/[[...slug]].c\n"
                 "/api/posts pages/api/posts/index.c\n"
                 "/api/posts/new pages/api/posts/new.c\n"
                 "/api/posts/[id] pages/api/posts/[id].c\n"
                 "/api/posts/[...rest] pages/api/posts/[...rest].c\n"
                 "/api/users/[id] pages/api/users/[id]/index.c\n"
                 "/api/users/[id]/posts pages/api/users/[id]/posts.c\n"
                 "/api/[x] pages/api/[x].c\n"
                 "/api/[x]/deep pages/api/[x]/deep.c\n");
    /* Deterministic: the same tree gives the same table. */
    char first[8192];
    snprintf(first, sizeof first, "%s", scan());
    CHECK_EQ_STR(scan(), first);
    app_rm();
}

TEST(ignored_entries)
{
    app_new();
    TREE("pages/api/hello.c", "pages/api/_middleware.c", "pages/api/.hidden.c",
         "pages/api/README.md", "pages/api/util.h", "pages/api/_lib/helper.c",
         "pages/api/.git/x.c", "pages/api/notes.c.txt", "pages/api/x.cc", "pages/api/.c",
         "pages/api/empty/", "pages/api/sub/_private.c", "pages/api/sub/.swp.c", "pages/hi.c",
         "api/no.c", "pages/api/_[bad].c", "pages/api/_[...x]/a.c");
    CHECK_EQ_STR(scan(), "/api/hello pages/api/hello.c\n");
    app_rm();
}

TEST(folder_named_like_a_route_file)
{
    app_new();
    TREE("pages/api/v1.c/ping.c");   /* a folder named "v1.c" is just a folder */
    CHECK_EQ_STR(scan(), "/api/v1.c/ping pages/api/v1.c/ping.c\n");
    app_rm();
}

TEST(empty_api_folder)
{
    app_new();
    TREE("pages/api/");
    CHECK_EQ_STR(scan(), "");
    app_rm();
}

TEST(missing_pages_api)
{
    char want[1024];
    app_new();
    snprintf(want, sizeof want, "ERR: no pages/api folder in %s: routes live in %s/pages/api/*.c",
             app, app);
    CHECK_EQ_STR(scan(), want);
    TREE("pages/index.c");
    CHECK_EQ_STR(scan(), want);
    TREE("pages/api.c");
    CHECK_EQ_STR(scan(), want);
    app_rm();
    /* pages/api as a file is missing too. */
    app_new();
    TREE("pages/api");
    snprintf(want, sizeof want, "ERR: no pages/api folder in %s: routes live in %s/pages/api/*.c",
             app, app);
    CHECK_EQ_STR(scan(), want);
    app_rm();
}

TEST(ambiguous_file_and_index)
{
    app_new();
    TREE("pages/api/posts.c", "pages/api/posts/index.c");
    CHECK_SCAN_ERR("ambiguous routes: pages/api/posts.c and pages/api/posts/index.c both map to "
                   "/api/posts");
    app_rm();
    app_new();
    TREE("pages/api/users/[id].c", "pages/api/users/[id]/index.c");
    CHECK_SCAN_ERR("ambiguous routes: pages/api/users/[id].c and pages/api/users/[id]/index.c "
                   "both map to /api/users/[id]");
    app_rm();
}

TEST(different_slug_names)
{
    app_new();   /* file vs file */
    TREE("pages/api/x/[id].c", "pages/api/x/[slug].c");
    CHECK_SCAN_ERR("different slug names for the same dynamic path: pages/api/x/[id].c and "
                   "pages/api/x/[slug].c");
    app_rm();
    app_new();   /* folder vs file */
    TREE("pages/api/x/[id].c", "pages/api/x/[slug]/edit.c");
    CHECK_SCAN_ERR("different slug names for the same dynamic path: pages/api/x/[id].c and "
                   "pages/api/x/[slug]/edit.c");
    app_rm();
    app_new();   /* folder vs folder */
    TREE("pages/api/x/[a]/one.c", "pages/api/x/[b]/two.c");
    CHECK_SCAN_ERR("different slug names for the same dynamic path: pages/api/x/[a]/one.c and "
                   "pages/api/x/[b]/two.c");
    app_rm();
    app_new();   /* [...a] and [...b]: catch-alls are files, one per folder name */
    TREE("pages/api/d/[...a].c", "pages/api/d/[...b].c");
    CHECK_SCAN_ERR("different slug names for the same dynamic path: pages/api/d/[...a].c and "
                   "pages/api/d/[...b].c");
    app_rm();
}

TEST(dynamic_beside_catch_all_is_fine)
{
    app_new();
    TREE("pages/api/x/[id].c", "pages/api/x/[...slug].c", "pages/api/y/[id].c",
         "pages/api/y/[[...slug]].c");
    CHECK_EQ_STR(scan(), "/api/x/[id] pages/api/x/[id].c\n"
                         "/api/x/[...slug] pages/api/x/[...slug].c\n"
                         "/api/y/[id] pages/api/y/[id].c\n"
                         "/api/y/[[...slug]] pages/api/y/[[...slug]].c\n");
    app_rm();
}

TEST(catch_all_beside_optional)
{
    app_new();
    TREE("pages/api/d/[...a].c", "pages/api/d/[[...b]].c");
    CHECK_SCAN_ERR("a catch-all and an optional catch-all at the same level: pages/api/d/[...a].c "
                   "and pages/api/d/[[...b]].c");
    app_rm();
}

TEST(optional_catch_all_beside_index)
{
    app_new();
    TREE("pages/api/opt/index.c", "pages/api/opt/[[...slug]].c");
    CHECK_SCAN_ERR("an optional catch-all has the same specificity as another route: "
                   "pages/api/opt/[[...slug]].c and pages/api/opt/index.c");
    app_rm();
    app_new();   /* opt.c is /api/opt as well */
    TREE("pages/api/opt.c", "pages/api/opt/[[...slug]].c");
    CHECK_SCAN_ERR("an optional catch-all has the same specificity as another route: "
                   "pages/api/opt.c and pages/api/opt/[[...slug]].c");
    app_rm();
    app_new();   /* at the root of pages/api */
    TREE("pages/api/index.c", "pages/api/[[...all]].c");
    CHECK_SCAN_ERR("an optional catch-all has the same specificity as another route: "
                   "pages/api/[[...all]].c and pages/api/index.c");
    app_rm();
}

TEST(catch_all_folders)
{
    app_new();
    TREE("pages/api/[...x]/a.c");
    CHECK_SCAN_ERR("a catch-all must be the last segment, so it cannot be a folder: "
                   "pages/api/[...x] (make it pages/api/[...x].c)");
    app_rm();
    app_new();
    TREE("pages/api/d/[[...x]]/index.c");
    CHECK_SCAN_ERR("a catch-all must be the last segment, so it cannot be a folder: "
                   "pages/api/d/[[...x]] (make it pages/api/d/[[...x]].c)");
    app_rm();
}

TEST(malformed_and_repeated_names)
{
    app_new();
    TREE("pages/api/[a-b].c");
    CHECK_SCAN_ERR("pages/api/[a-b].c: malformed dynamic segment \"[a-b]\" in /api/[a-b] (use "
                   "[name], [...name] or [[...name]], name = [A-Za-z_][A-Za-z0-9_]*)");
    app_rm();
    app_new();   /* a bad folder name is reported through a file inside it */
    TREE("pages/api/[1d]/x.c");
    CHECK_SCAN_ERR("pages/api/[1d]/x.c: malformed dynamic segment \"[1d]\" in /api/[1d]/x (use "
                   "[name], [...name] or [[...name]], name = [A-Za-z_][A-Za-z0-9_]*)");
    app_rm();
    app_new();
    TREE("pages/api/x[y].c");
    CHECK_SCAN_ERR("pages/api/x[y].c: malformed dynamic segment \"x[y]\" in /api/x[y] (use "
                   "[name], [...name] or [[...name]], name = [A-Za-z_][A-Za-z0-9_]*)");
    app_rm();
    app_new();
    TREE("pages/api/[id]/[id].c");
    CHECK_SCAN_ERR("pages/api/[id]/[id].c: param name \"id\" used twice in /api/[id]/[id]");
    app_rm();
    app_new();
    TREE("pages/api/[id]/x/[...id].c");
    CHECK_SCAN_ERR("pages/api/[id]/x/[...id].c: param name \"id\" used twice in /api/[id]/x/[...id]");
    app_rm();
}

TEST(symlinks)
{
    app_new();
    TREE("pages/api/a/hello.c", "lib/shared.c");
    link_at("..", "pages/api/a/loop");                 /* points at an ancestor */
    CHECK_SCAN_ERR("folder loop: pages/api/a/loop is one of its own parent folders (a symlink?)");
    app_rm();
    app_new();
    TREE("pages/api/a/hello.c", "lib/shared.c", "lib/more/x.c");
    char target[512];
    snprintf(target, sizeof target, "%s/lib/shared.c", app);
    link_at(target, "pages/api/shared.c");             /* a linked route file works */
    snprintf(target, sizeof target, "%s/lib/more", app);
    link_at(target, "pages/api/more");                 /* so does a linked folder */
    link_at("nowhere", "pages/api/dangling");           /* ignored: not a .c name */
    CHECK_EQ_STR(scan(), "/api/a/hello pages/api/a/hello.c\n"
                         "/api/more/x pages/api/more/x.c\n"
                         "/api/shared pages/api/shared.c\n");
    link_at("nowhere.c", "pages/api/gone.c");           /* a dangling route file is an error */
    CHECK_SCAN_ERR("cannot read pages/api/gone.c: No such file or directory");
    app_rm();
}

TEST(depth_is_bounded)
{
    app_new();
    char rel[1024] = "pages/api";
    for (int i = 0; i < 32; i++) strcat(rel, "/d");
    strcat(rel, "/x.c");
    mk(rel);   /* 32 folders below pages/api: fine */
    scan_route *r;
    size_t n;
    char *err = NULL;
    CHECK_EQ_INT(routes_scan(app, &r, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_INT(strlen(r[0].pattern), 4 + 32 * 2 + 2);
    routes_free(r, n);
    rel[strlen(rel) - 4] = '\0';
    strcat(rel, "/d/y.c");
    mk(rel);   /* 33: refused */
    char *got = scan();
    CHECK(strncmp(got, "ERR: folders nested more than 32 deep: pages/api/d/d/", 52) == 0);
    app_rm();
}

int main(void) { return t_run(); }
