/*
 * dev_build.c -- the compiling half of `kiln dev` (dev.c is the supervisor):
 * turns a route, APP/middleware.c, the sources of APP/lib and APP/graphql
 * into shared objects the dev host loads, each build a new file name of the
 * current generation. tcc first when installed (milliseconds), the real
 * compiler (-O0 -g, sanitizers with --sanitize) when tcc refuses: its
 * "file:line:col: error:" lines become the JSON diagnostics the host answers
 * with.
 *
 * Owns: the objects it writes under APP/.kiln/dev and the strings it puts in
 * struct dev (freed before being replaced). Must never: run a shell (argv
 * through run_capture), or leave a previous generation's object named as
 * current after a failed build.
 */
#include "cli/dev.h"
#include "core/core.h"
#include "json/json.h"
#include "kiln.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ---------------------------------------------------- */

/* Pick "file:line:col: error: message" (gcc, clang) lines out of compiler
 * output and add them as JSON objects; file made relative to the app. */
static size_t collect_diagnostics(dev *d, const char *out, size_t len, const char *fallback_file)
{
    size_t found = 0, applen = strlen(d->app);
    const char *s = out, *end = out + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) nl = end;
        char line[2048];
        size_t l = (size_t)(nl - s) < sizeof line - 1 ? (size_t)(nl - s) : sizeof line - 1;
        memcpy(line, s, l);
        line[l] = '\0';
        s = nl + 1;
        char *err = strstr(line, ": error: ");
        char *fatal = strstr(line, ": fatal error: ");
        char *mark = fatal ? fatal : err;
        if (!mark) continue;
        const char *msg = mark + (fatal ? 15 : 9);
        *mark = '\0';
        /* line is now "file:line:col" or "file:line" */
        long ln = 0, col = 0;
        char *c2 = strrchr(line, ':');
        if (!c2) continue;
        char *c1 = NULL;
        *c2 = '\0';
        char *c0 = strrchr(line, ':');
        if (c0) { c1 = c0; *c1 = '\0'; ln = strtol(c1 + 1, NULL, 10); col = strtol(c2 + 1, NULL, 10); }
        else ln = strtol(c2 + 1, NULL, 10);
        const char *file = line;
        if (!strncmp(file, d->app, applen) && file[applen] == '/') file += applen + 1;
        buf_puts(&d->diags, "{\"file\":");
        json_escape(&d->diags, file, strlen(file));
        buf_printf(&d->diags, ",\"line\":%ld,\"column\":%ld,\"message\":", ln, col);
        json_escape(&d->diags, msg, strlen(msg));
        buf_puts(&d->diags, "}\n");
        found++;
    }
    if (!found) {
        /* Failed without a recognisable line (a link error, say). */
        buf_puts(&d->diags, "{\"file\":");
        json_escape(&d->diags, fallback_file, strlen(fallback_file));
        buf_puts(&d->diags, ",\"line\":0,\"column\":0,\"message\":");
        json_escape(&d->diags, len ? out : "build failed", len ? (len > 1000 ? 1000 : len) : 12);
        buf_puts(&d->diags, "}\n");
    }
    return found;
}

/* ---- compiling ------------------------------------------------------ */

/* The fast path: tcc compiles a route into a shared object in a few
 * milliseconds (gcc -O0 takes tens). Used when installed and not
 * sanitizing; anything tcc refuses is compiled again by the real compiler,
 * whose diagnostics (file:line:column) are the ones shown. */
static bool have_tcc(void)
{
    static int have = -1;
    if (have < 0) {
        const char *env = getenv("KILN_DEV_TCC");
        have = env && !strcmp(env, "0") ? 0 : access("/usr/bin/tcc", X_OK) == 0;
    }
    return have == 1;
}

static void tcc_flags(dev *d, buf *cmd)
{
    char *inc = quote_arg(d->tc.include_dir);
    char lib[4300];
    snprintf(lib, sizeof lib, "%s/lib", d->app);
    char *qlib = quote_arg(lib), *qapp = quote_arg(d->app);
    buf_printf(cmd, "tcc -shared -g -D_GNU_SOURCE -I%s -I%s -I%s %s", inc, qlib, qapp,
               getenv("KILN_CFLAGS") ? getenv("KILN_CFLAGS") : "");
    free(inc);
    free(qlib);
    free(qapp);
}

static void common_flags(dev *d, buf *cmd)
{
    char *inc = quote_arg(d->tc.include_dir);
    char lib[4300];
    snprintf(lib, sizeof lib, "%s/lib", d->app);
    char *qlib = quote_arg(lib), *qapp = quote_arg(d->app);
    buf_printf(cmd, "%s -std=gnu17 -O0 -g -fPIC -shared -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I%s -I%s -I%s %s %s",
               d->tc.cc, inc, qlib, qapp, d->sanitize ? "-fsanitize=address,undefined -fno-omit-frame-pointer" : "",
               getenv("KILN_CFLAGS") ? getenv("KILN_CFLAGS") : "");
    free(inc);
    free(qlib);
    free(qapp);
}

/* Compile sources into one shared object. Returns true on success; on
 * failure the diagnostics are collected and printed. */
static bool compile_so_with(dev *d, bool fast, const char *const *srcs, size_t nsrc, const char *so,
                            const char *dep, bool link_lib, const char *label);

static bool compile_so(dev *d, const char *const *srcs, size_t nsrc, const char *so, const char *dep,
                       bool link_lib, const char *label)
{
    if (!d->sanitize && have_tcc() && compile_so_with(d, true, srcs, nsrc, so, dep, link_lib, label)) return true;
    return compile_so_with(d, false, srcs, nsrc, so, dep, link_lib, label);
}

static bool compile_so_with(dev *d, bool fast, const char *const *srcs, size_t nsrc, const char *so,
                            const char *dep, bool link_lib, const char *label)
{
    buf cmd;
    buf_init(&cmd, 1024);
    if (fast) tcc_flags(d, &cmd);
    else common_flags(d, &cmd);
    for (size_t i = 0; i < nsrc; i++) {
        char *q = quote_arg(srcs[i]);
        buf_printf(&cmd, " %s", q);
        free(q);
    }
    char *qso = quote_arg(so);
    buf_printf(&cmd, " -o %s", qso);
    free(qso);
    if (dep) {
        char *q = quote_arg(dep);
        buf_printf(&cmd, fast ? " -MD -MF %s" : " -MMD -MF %s", q);
        free(q);
    }
    if (link_lib && d->lib_so) {
        /* The route needs its libapp.so; the loader finds it by rpath (tcc
         * records only the file name). */
        char *q = quote_arg(d->lib_so), *qd = quote_arg(d->dir);
        buf_printf(&cmd, fast ? " %s -Wl,-rpath=%s" : " %s -Wl,-rpath,%s", q, qd);
        free(q);
        free(qd);
    }
    buf_putc(&cmd, '\0');
    char **argv = argv_split(cmd.data);
    buf out;
    buf_init(&out, 0);
    int st = run_capture(argv, &out, !fast);   /* tcc's complaints are not shown: gcc retries */
    argv_free(argv);
    buf_free(&cmd);
    if (st != 0 && !fast) collect_diagnostics(d, out.data ? out.data : "", out.len, label);
    buf_free(&out);
    return st == 0;
}

static char *gen_path(dev *d, const char *stem)
{
    char p[4900];
    snprintf(p, sizeof p, "%s/%s.g%u.so", d->dir, stem, d->gen);
    return kiln_xstrdup(p);
}

/* "pages/api/posts/[id].c" -> "r-pages_api_posts__id__c" */
static void stem_of(const char *file, char *out, size_t cap)
{
    size_t k = snprintf(out, cap, "r-");
    for (const char *s = file; *s && k + 1 < cap; s++)
        out[k++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ? *s : '_');
    out[k] = '\0';
}

/* Does the route's dependency list name any file newer than its object? */
bool deps_newer(const char *dep, time_t than)
{
    FILE *f = fopen(dep, "r");
    if (!f) return true;
    char word[4096];
    bool newer = false;
    int ch, n = 0;
    while (!newer && (ch = fgetc(f)) != EOF) {
        if (ch == ' ' || ch == '\n' || ch == '\\' || ch == '\t') {
            if (n > 0) {
                word[n] = '\0';
                if (word[n - 1] != ':' && mtime_of(word) > than) newer = true;
                n = 0;
            }
            continue;
        }
        if (n < (int)sizeof word - 1) word[n++] = (char)ch;
    }
    fclose(f);
    return newer;
}

bool build_lib(dev *d)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/lib", d->app);
    DIR *dd = opendir(dir);
    const char *srcs[256];
    size_t n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l < 3 || e->d_name[0] == '.' || strcmp(e->d_name + l - 2, ".c")) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        srcs[n++] = kiln_xstrdup(p);
    }
    if (dd) closedir(dd);
    free(d->lib_so);
    d->lib_so = NULL;
    bool ok = true;
    if (n > 0) {
        char *so = gen_path(d, "libapp");
        ok = compile_so(d, srcs, n, so, NULL, false, "lib");
        if (ok) d->lib_so = so; else free(so);
    }
    for (size_t i = 0; i < n; i++) free((char *)srcs[i]);
    return ok;
}

bool build_route(dev *d, dev_route *r)
{
    char src[4400], stem[600], dep[5200];
    snprintf(src, sizeof src, "%s/%s", d->app, r->file);
    stem_of(r->file, stem, sizeof stem);
    snprintf(dep, sizeof dep, "%.4200s/%.590s.d", d->dir, stem);
    char *so = gen_path(d, stem);
    const char *srcs[1] = { src };
    bool ok = compile_so(d, srcs, 1, so, dep, true, r->file);
    free(r->so);
    r->so = ok ? so : NULL;
    if (!ok) free(so);
    free(r->dep);
    r->dep = kiln_xstrdup(dep);
    r->dirty = false;
    return ok;
}

bool build_middleware(dev *d)
{
    char src[4400];
    snprintf(src, sizeof src, "%s/middleware.c", d->app);
    free(d->mw_so);
    d->mw_so = NULL;
    if (!exists(src)) return true;
    char *so = gen_path(d, "middleware");
    const char *srcs[1] = { src };
    bool ok = compile_so(d, srcs, 1, so, NULL, true, "middleware.c");
    if (ok) d->mw_so = so; else free(so);
    return ok;
}

/* APP/graphql: the SDL and resolver table as `kiln build` generates them
 * (its checks included: a missing or stray resolver fails the build), and
 * the resolvers, in one object the host reads kiln_dev_graphql_* from. */
bool build_graphql(dev *d)
{
    free(d->gql_so);
    d->gql_so = NULL;
    graphql_gen gen;
    if (graphql_build(d->app, &gen) != 0) {
        buf_puts(&d->diags, "{\"file\":\"graphql/schema.graphql\",\"line\":0,\"column\":0,"
                            "\"message\":\"GraphQL build failed: see kiln dev's output\"}\n");
        graphql_gen_free(&gen);
        return false;
    }
    if (!gen.present) { graphql_gen_free(&gen); return true; }
    char src[4400];
    snprintf(src, sizeof src, "%s/graphql.g%u.c", d->dir, d->gen);
    FILE *f = fopen(src, "w");
    if (!f) KILN_PANIC("cannot write %s", src);
    fprintf(f, "#include <kiln.h>\n");
    fwrite(gen.code.data, 1, gen.code.len, f);
    fprintf(f, "const char *const kiln_dev_graphql_sdl = graphql_sdl;\n"
               "const kiln_gql_resolver_def *const kiln_dev_graphql_resolvers = graphql_resolvers;\n"
               "const size_t kiln_dev_graphql_nresolvers = %zu;\n", gen.nresolvers);
    fclose(f);
    const char **srcs = kiln_xcalloc(gen.nsources + 1, sizeof *srcs);
    srcs[0] = src;
    for (size_t i = 0; i < gen.nsources; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", d->app, gen.sources[i]);
        srcs[i + 1] = kiln_xstrdup(p);
    }
    char *so = gen_path(d, "graphql");
    bool ok = compile_so(d, srcs, gen.nsources + 1, so, NULL, true, "graphql/schema.graphql");
    if (ok) d->gql_so = so; else free(so);
    for (size_t i = 0; i < gen.nsources; i++) free((char *)srcs[i + 1]);
    free(srcs);
    unlink(src);
    graphql_gen_free(&gen);
    return ok;
}
