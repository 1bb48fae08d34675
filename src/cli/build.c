/*
 * build.c -- `kiln build APP`: compile an app into one optimized binary.
 *
 *   1. scan APP/pages/api (router/scan.c) -> the route list, or a clear error
 *   2. compile each route file and APP/lib/NAME.c in parallel (one job a core)
 *   3. give each route object its own namespace: every global it defines is
 *      made local except handler/GET/POST/.../config, which are renamed to
 *      kiln_rN_<name> (objcopy) -- so two routes can both define `handler`
 *      and any helper of the same name, like JavaScript modules
 *   4. generate APP/.kiln/routes.c (the route table and main) from the list:
 *      adding a route file never edits a shared file
 *   5. link with libkiln.a into APP/.kiln/server
 *
 * Objects are rebuilt only when their source, kiln.h, a header in APP/lib,
 * or the compile command changed.
 *
 * Owns: APP/.kiln/. Must never: write outside APP/.kiln, or hide a compiler
 * message (they go to stderr as the compiler prints them: file:line:col).
 */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/core.h"
#include "pusher/pusher.h"
#include "router/router.h"
#include "kiln.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const handler_names[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

int toolchain_find(toolchain *tc)
{
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';                       /* exe is now the executable's folder */
    const char *inc_try[] = { "%s/../include", "%s/../../include" };
    const char *lib_try[] = { "%s/libkiln.a", "%s/../lib/kiln/libkiln.a" };
    tc->include_dir[0] = tc->lib[0] = '\0';
    for (size_t i = 0; i < ARRAY_LEN(inc_try); i++) {
        char p[4200];
        snprintf(tc->include_dir, sizeof tc->include_dir, inc_try[i], exe);
        snprintf(p, sizeof p, "%s/kiln.h", tc->include_dir);
        if (access(p, R_OK) == 0) break;
        tc->include_dir[0] = '\0';
    }
    for (size_t i = 0; i < ARRAY_LEN(lib_try); i++) {
        snprintf(tc->lib, sizeof tc->lib, lib_try[i], exe);
        if (access(tc->lib, R_OK) == 0) break;
        tc->lib[0] = '\0';
    }
    if (!tc->include_dir[0] || !tc->lib[0]) {
        fprintf(stderr, "kiln: cannot find kiln.h and libkiln.a next to %s\n", exe);
        return -1;
    }
    /* The compiler and sanitizer flags recorded beside the library. */
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", tc->lib);
    *strrchr(dir, '/') = '\0';
    snprintf(tc->cc, sizeof tc->cc, "cc");
    tc->sanflags[0] = '\0';
    FILE *f;
    snprintf(p, sizeof p, "%s/kiln.cc", dir);
    if ((f = fopen(p, "r"))) { if (fgets(tc->cc, sizeof tc->cc, f)) tc->cc[strcspn(tc->cc, "\n")] = '\0'; fclose(f); }
    snprintf(p, sizeof p, "%s/kiln.sanflags", dir);
    if ((f = fopen(p, "r"))) { if (fgets(tc->sanflags, sizeof tc->sanflags, f)) tc->sanflags[strcspn(tc->sanflags, "\n")] = '\0'; fclose(f); }
    const char *env_cc = getenv("KILN_CC");
    if (env_cc && *env_cc) snprintf(tc->cc, sizeof tc->cc, "%s", env_cc);
    return 0;
}

/* ---- freshness ------------------------------------------------------ */

static time_t mtime_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_mtime : 0;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

/* Newest mtime among APP/lib/NAME.h and kiln.h: a change rebuilds every route. */
static time_t headers_mtime(const char *app, const toolchain *tc)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/kiln.h", tc->include_dir);
    time_t newest = mtime_of(p);
    snprintf(p, sizeof p, "%s/lib", app);
    DIR *d = opendir(p);
    if (!d) return newest;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 3 || strcmp(e->d_name + l - 2, ".h")) continue;
        char f[8192];
        snprintf(f, sizeof f, "%s/lib/%s", app, e->d_name);
        time_t t = mtime_of(f);
        if (t > newest) newest = t;
    }
    closedir(d);
    return newest;
}

/* An object needs rebuilding when it is missing or older than its source or
 * than any shared header, or when the compile command changed. */
static bool is_stale(const char *src, const char *obj, bool flags_changed, time_t hdr_time)
{
    return flags_changed || !exists(obj) || mtime_of(src) >= mtime_of(obj) || hdr_time >= mtime_of(obj);
}

typedef struct joblist { job *v; size_t n, cap; } joblist;

/* Queue `cc flags -c src -o obj`; `what` (malloc'd, or NULL) tags the job. */
static void add_compile(joblist *jl, const char *cc, const char *flags, const char *src, const char *obj, char *what)
{
    if (jl->n == jl->cap) jl->v = kiln_xrealloc(jl->v, (jl->cap = jl->cap ? jl->cap * 2 : 16) * sizeof *jl->v);
    char *qs = quote_arg(src), *qo = quote_arg(obj);
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "%s %s -c %s -o %s", cc, flags, qs, qo);
    jl->v[jl->n].argv = argv_split(cmd);
    jl->v[jl->n].what = what;
    jl->n++;
    free(qs);
    free(qo);
}

/* ---- methods, from the source (for the printed table) ------------- */

unsigned route_methods_in_source(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned bits = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        const char *s = line;
        if (strncmp(s, "void", 4) != 0) continue;      /* a definition at file scope */
        s += 4;
        while (*s == ' ' || *s == '\t') s++;
        size_t len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
        const char *after = s + len;
        while (*after == ' ' || *after == '\t') after++;
        if (*after != '(') continue;
        if (len == 7 && !strncmp(s, "handler", 7)) bits |= 1u << 31;
        for (int i = 0; i < KILN_METHOD_COUNT; i++)
            if (strlen(handler_names[i]) == len && !strncmp(s, handler_names[i], len)) bits |= 1u << i;
    }
    fclose(f);
    return bits;
}

void print_route_table(const char *app, void *routes_v, size_t n)
{
    scan_route *routes = routes_v;
    printf("%-36s %-34s %s\n", "Route", "Methods", "File");
    for (size_t i = 0; i < n; i++) {
        char p[8192], methods[128] = "";
        snprintf(p, sizeof p, "%s/%s", app, routes[i].file);
        unsigned bits = route_methods_in_source(p);
        if (bits & (1u << 31)) {
            snprintf(methods, sizeof methods, "any (handler)");
        } else {
            size_t m = 0;
            for (int k = 0; k < KILN_METHOD_COUNT; k++) {
                if (bits >> k & 1) m += (size_t)snprintf(methods + m, sizeof methods - m, "%s%s", m ? ", " : "", handler_names[k]);
            }
            if (!(bits & 0x7f)) snprintf(methods, sizeof methods, "(none: every request gets 405)");
        }
        printf("%-36s %-34s %s\n", routes[i].pattern, methods, routes[i].file);
    }
}

/* ---- the build ------------------------------------------------------ */

#define CFLAGS_COMMON "-std=gnu17 -O2 -g -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -D_GNU_SOURCE"

/* Routes every app gets from Kiln itself, after its own (src/pusher). */
#define BUILTIN_ROW(pattern, method, fn) { pattern, #method, #fn },
static const struct { const char *pattern, *method, *fn; } builtin_routes[] = { PUSHER_BUILTIN_ROUTES(BUILTIN_ROW) };
#undef BUILTIN_ROW

static void write_routes_c(const char *app, const char *path, scan_route *routes, size_t n, const graphql_gen *gql)
{
    FILE *f = fopen(path, "w");
    if (!f) KILN_PANIC("cannot write %s", path);
    fprintf(f, "/* Generated by `kiln build`. Do not edit: it is rewritten on every build. */\n");
    fprintf(f, "#include <kiln.h>\n\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "/* %s -> %s */\n", routes[i].file, routes[i].pattern);
        fprintf(f, "extern void kiln_r%zu_handler(kiln_req *, kiln_res *) __attribute__((weak));\n", i);
        for (int m = 0; m < KILN_METHOD_COUNT; m++)
            fprintf(f, "extern void kiln_r%zu_%s(kiln_req *, kiln_res *) __attribute__((weak));\n", i, handler_names[m]);
        fprintf(f, "extern const kiln_config kiln_r%zu_config __attribute__((weak));\n", i);
        fprintf(f, "extern const kiln_middleware kiln_r%zu_middleware[] __attribute__((weak));\n", i);
    }
    for (size_t i = 0; i < ARRAY_LEN(builtin_routes); i++)
        fprintf(f, "extern void %s(kiln_req *, kiln_res *);\n", builtin_routes[i].fn);
    fprintf(f, "\nstatic const kiln_route_def routes[] = {\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    { \"%s\", \"%s\", kiln_r%zu_handler, {", routes[i].pattern, routes[i].file, i);
        for (int m = 0; m < KILN_METHOD_COUNT; m++) fprintf(f, "%skiln_r%zu_%s", m ? ", " : " ", i, handler_names[m]);
        fprintf(f, " }, &kiln_r%zu_config, kiln_r%zu_middleware, %d },\n", i, i,
                graphql_route_is_endpoint(app, routes[i].file) ? 1 : 0);
    }
    /* Built in: Pusher's REST API and WebSocket (src/pusher; 404 while PUSHER_* are unset). */
    for (size_t i = 0; i < ARRAY_LEN(builtin_routes); i++)
        fprintf(f, "    { \"%s\", \"(built in) Pusher REST API\", 0, { [%s] = %s }, 0, 0, 0 },\n",
                builtin_routes[i].pattern, builtin_routes[i].method, builtin_routes[i].fn);
    fprintf(f, "};\n\n");
    fprintf(f, "extern bool kiln_app_middleware(kiln_req *, kiln_res *) __attribute__((weak));\n");
    fprintf(f, "extern const char *const kiln_app_matcher[] __attribute__((weak));\n\n");
    if (gql->present) {
        fwrite(gql->code.data, 1, gql->code.len, f);
        fprintf(f, "static const kiln_app_def app = { routes, %zu, kiln_app_middleware, kiln_app_matcher,\n"
                   "    graphql_sdl, graphql_resolvers, %zu };\n\n", n + ARRAY_LEN(builtin_routes), gql->nresolvers);
    } else {
        fprintf(f, "static const kiln_app_def app = { routes, %zu, kiln_app_middleware, kiln_app_matcher, 0, 0, 0 };\n\n",
                n + ARRAY_LEN(builtin_routes));
    }
    fprintf(f, "#include <string.h>\n\n");
    fprintf(f, "int main(int argc, char **argv)\n{\n");
    fprintf(f, "    if (argc == 2 && !strcmp(argv[1], \"--openapi\")) return kiln_openapi_main(&app);\n");
    fprintf(f, "    return kiln_main(argc, argv, &app);\n}\n");
    fclose(f);
}

static bool safe_for_c_string(const char *s)
{
    for (; *s; s++) if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) return false;
    return true;
}

/* routes_scan, printing what is wrong with the tree. */
static int scan_or_say(const char *app, scan_route **routes, size_t *n)
{
    char *err = NULL;
    if (routes_scan(app, routes, n, &err) == 0) return 0;
    fprintf(stderr, "kiln: %s\n", err ? err : "cannot scan routes");
    free(err);
    return -1;
}

int cmd_build(const char *app, bool quiet)
{
    toolchain tc;
    if (toolchain_find(&tc) != 0) return 1;
    scan_route *routes = NULL;
    size_t n = 0;
    if (scan_or_say(app, &routes, &n) != 0) return 1;
    for (size_t i = 0; i < n; i++)
        if (!safe_for_c_string(routes[i].file) || strchr(routes[i].file, ' ')) {
            fprintf(stderr, "kiln: unsupported character in route file name: %s\n", routes[i].file);
            routes_free(routes, n);
            return 1;
        }

    /* GraphQL: the schema against its resolvers, before compiling anything. */
    graphql_gen gql;
    if (graphql_build(app, &gql) != 0) {
        routes_free(routes, n);
        graphql_gen_free(&gql);
        return 1;
    }

    char out[4096], obj[4200], p[8192];
    snprintf(out, sizeof out, "%s/.kiln", app);
    snprintf(obj, sizeof obj, "%s/obj", out);
    mkdir(out, 0755);
    mkdir(obj, 0755);

    const char *extra = getenv("KILN_CFLAGS") ? getenv("KILN_CFLAGS") : "";
    char *inc = quote_arg(tc.include_dir);
    char libinc[4200];
    snprintf(libinc, sizeof libinc, "%s/lib", app);
    char *qlibinc = quote_arg(libinc), *qapp = quote_arg(app);
    char flags[8192];
    snprintf(flags, sizeof flags, "%s %s -I%s -I%s -I%s %s", CFLAGS_COMMON, tc.sanflags, inc, qlibinc, qapp, extra);

    /* The compile command is part of every object's identity. */
    char stamp_path[4300];
    snprintf(stamp_path, sizeof stamp_path, "%s/flags", obj);
    bool flags_changed = true;
    FILE *sf = fopen(stamp_path, "r");
    if (sf) {
        char old[8192] = "";
        if (fgets(old, sizeof old, sf)) flags_changed = strcmp(old, flags) != 0;
        fclose(sf);
    }
    if (flags_changed && (sf = fopen(stamp_path, "w"))) { fputs(flags, sf); fclose(sf); }
    time_t hdr_time = headers_mtime(app, &tc);

    /* Jobs: routes, then the lib sources, then middleware.c. */
    joblist jl = { 0 };
    buf link;
    buf_init(&link, 1024);
    for (size_t i = 0; i < n; i++) {
        char src[8192], o[8192];
        snprintf(src, sizeof src, "%s/%s", app, routes[i].file);
        snprintf(o, sizeof o, "%s/r%zu.o", obj, i);
        /* Route numbering follows the table order; record which file each
         * object came from so a reordering forces a rebuild. */
        char origin[8300], prev[8192] = "";
        snprintf(origin, sizeof origin, "%s.src", o);
        FILE *of = fopen(origin, "r");
        if (of) { if (!fgets(prev, sizeof prev, of)) prev[0] = '\0'; fclose(of); }
        bool stale = strcmp(prev, src) != 0 || is_stale(src, o, flags_changed, hdr_time);
        if ((of = fopen(origin, "w"))) { fputs(src, of); fclose(of); }
        buf_printf(&link, " %s", o);
        if (stale) add_compile(&jl, tc.cc, flags, src, o, kiln_xstrdup(o));
    }
    size_t nroute_jobs = jl.n;
    snprintf(p, sizeof p, "%s/lib", app);
    DIR *d = opendir(p);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 3 || strcmp(e->d_name + l - 2, ".c") || e->d_name[0] == '.') continue;
            char src[8192], o[8192];
            snprintf(src, sizeof src, "%s/lib/%s", app, e->d_name);
            snprintf(o, sizeof o, "%s/lib_%.*s.o", obj, (int)(l - 2), e->d_name);
            buf_printf(&link, " %s", o);
            if (is_stale(src, o, flags_changed, hdr_time)) add_compile(&jl, tc.cc, flags, src, o, NULL);
        }
        closedir(d);
    }
    /* The .c files of APP/graphql: resolvers keep their global names. */
    for (size_t i = 0; i < gql.nsources; i++) {
        char src[8192], o[8192];
        snprintf(src, sizeof src, "%s/%s", app, gql.sources[i]);
        snprintf(o, sizeof o, "%s/gql_%s.o", obj, gql.sources[i] + strlen("graphql/"));
        buf_printf(&link, " %s", o);
        if (is_stale(src, o, flags_changed, hdr_time)) add_compile(&jl, tc.cc, flags, src, o, NULL);
    }
    /* APP/middleware.c: the app-wide middleware and its matcher. */
    char mw_src[4300], mw_obj[4300];
    snprintf(mw_src, sizeof mw_src, "%s/middleware.c", app);
    snprintf(mw_obj, sizeof mw_obj, "%s/middleware.o", obj);
    bool have_mw = exists(mw_src), mw_stale = false;
    if (have_mw) {
        buf_printf(&link, " %s", mw_obj);
        mw_stale = is_stale(mw_src, mw_obj, flags_changed, hdr_time);
        if (mw_stale) add_compile(&jl, tc.cc, flags, mw_src, mw_obj, NULL);
    }
    job *jobs = jl.v;
    size_t nj = jl.n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int failed = run_jobs(jobs, nj, cores > 0 ? (int)cores : 2);
    if (!failed && have_mw && mw_stale) {
        char *qo = quote_arg(mw_obj);
        char cmd[9000];
        snprintf(cmd, sizeof cmd, "objcopy --keep-global-symbol=middleware --keep-global-symbol=matcher %s", qo);
        if (run1(cmd)) failed++;
        snprintf(cmd, sizeof cmd, "objcopy --redefine-sym middleware=kiln_app_middleware --redefine-sym matcher=kiln_app_matcher %s", qo);
        if (!failed && run1(cmd)) failed++;
        if (failed) unlink(mw_obj);
        free(qo);
    }

    /* Namespacing of each freshly compiled route object. */
    for (size_t j = 0; j < nroute_jobs && !failed; j++) {
        const char *o = jobs[j].what;
        size_t idx = (size_t)strtoul(strrchr(o, '/') + 2, NULL, 10);
        char *qo = quote_arg(o);
        char cmd[20000];
        int k = snprintf(cmd, sizeof cmd, "objcopy --keep-global-symbol=handler --keep-global-symbol=config --keep-global-symbol=middleware");
        for (int m = 0; m < KILN_METHOD_COUNT; m++)
            k += snprintf(cmd + k, sizeof cmd - (size_t)k, " --keep-global-symbol=%s", handler_names[m]);
        snprintf(cmd + k, sizeof cmd - (size_t)k, " %s", qo);
        if (run1(cmd)) { failed++; free(qo); break; }
        k = snprintf(cmd, sizeof cmd, "objcopy --redefine-sym handler=kiln_r%zu_handler --redefine-sym config=kiln_r%zu_config --redefine-sym middleware=kiln_r%zu_middleware", idx, idx, idx);
        for (int m = 0; m < KILN_METHOD_COUNT; m++)
            k += snprintf(cmd + k, sizeof cmd - (size_t)k, " --redefine-sym %s=kiln_r%zu_%s", handler_names[m], idx, handler_names[m]);
        snprintf(cmd + k, sizeof cmd - (size_t)k, " %s", qo);
        if (run1(cmd)) failed++;
        free(qo);
    }
    if (failed) {
        /* A failed object must not look fresh next time. */
        for (size_t j = 0; j < nroute_jobs; j++) if (jobs[j].what) unlink(jobs[j].what);
    }
    for (size_t j = 0; j < nj; j++) { argv_free(jobs[j].argv); free(jobs[j].what); }
    free(jobs);

    int rc = 1;
    if (failed) {
        fprintf(stderr, "kiln: build failed (%d file%s did not compile)\n", failed, failed == 1 ? "" : "s");
        goto done;
    }
    char gen[4300], gen_o[4300], server[4300];
    snprintf(gen, sizeof gen, "%s/routes.c", out);
    snprintf(gen_o, sizeof gen_o, "%s/routes.o", obj);
    snprintf(server, sizeof server, "%s/server", out);
    write_routes_c(app, gen, routes, n, &gql);
    char *qg = quote_arg(gen), *qgo = quote_arg(gen_o), *qsrv = quote_arg(server), *qlib = quote_arg(tc.lib);
    char *cmd = kiln_xmalloc(link.len + 20000);
    snprintf(cmd, link.len + 20000, "%s %s -c %s -o %s", tc.cc, flags, qg, qgo);
    if (run1(cmd) == 0) {
        const char *ldextra = getenv("KILN_LDFLAGS") ? getenv("KILN_LDFLAGS") : "";
        snprintf(cmd, link.len + 20000, "%s %s -o %s.tmp %s%.*s %s -lsqlite3 -lpq -lsodium -lcurl -lhiredis -lpthread -lm -lnettle -lz %s", tc.cc, tc.sanflags, qsrv, qgo,
                 (int)link.len, link.data ? link.data : "", qlib, ldextra);
        if (run1(cmd) == 0) {
            char tmp[4400];
            snprintf(tmp, sizeof tmp, "%s.tmp", server);
            rename(tmp, server);       /* atomic: a running server keeps its inode */
            rc = 0;
        } else {
            fprintf(stderr, "kiln: link failed\n");
        }
    } else {
        fprintf(stderr, "kiln: could not compile the generated route table\n");
    }
    free(cmd);
    free(qg); free(qgo); free(qsrv); free(qlib);
    if (rc == 0 && !quiet) {
        printf("kiln: built %s/.kiln/server with %zu route%s\n\n", app, n, n == 1 ? "" : "s");
        print_route_table(app, routes, n);
    }
done:
    graphql_gen_free(&gql);
    buf_free(&link);
    free(inc); free(qlibinc); free(qapp);
    routes_free(routes, n);
    return rc;
}

int cmd_routes(const char *app)
{
    scan_route *routes = NULL;
    size_t n = 0;
    if (scan_or_say(app, &routes, &n) != 0) return 1;
    print_route_table(app, routes, n);
    routes_free(routes, n);
    return 0;
}

/* kiln openapi APP: build quietly, then ask the built server for its own
 * document (the schemas are compiled C data: only the program knows them
 * exactly; see src/openapi/openapi.h). The document goes to stdout. */
int cmd_openapi(const char *app)
{
    if (cmd_build(app, true) != 0) return 1;
    char server[4200];
    snprintf(server, sizeof server, "%s/.kiln/server", app);
    setenv("KILN_APP_DIR", app, 1);
    fflush(NULL);
    execl(server, server, "--openapi", (char *)NULL);
    fprintf(stderr, "kiln openapi: cannot run %s: %s\n", server, strerror(errno));
    return 1;
}
