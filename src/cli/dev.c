/*
 * dev.c -- `kiln dev [APP_DIR]`: the development server. Save a file, the
 * change is live; make a mistake, see it explained.
 *
 * This process is the supervisor. It
 *   1. builds a dev host once: APP/.kiln/dev/host, which is libkiln (all of
 *      it, exported with -rdynamic) plus kiln_dev_main();
 *   2. compiles every route, APP/middleware.c and APP/lib/NAME.c into shared
 *      objects with debug info (-O0 -g), each route its own .so, the lib
 *      sources one libapp.so the routes link against, APP/graphql (the
 *      schema and resolver table `kiln build` generates, with the
 *      resolvers) one graphql .so;
 *   3. writes a manifest (APP/.kiln/dev/manifest) naming the current objects,
 *      or the compiler's diagnostics when a build failed, and starts the host
 *      with it (one worker, so a crash restarts in milliseconds);
 *   4. watches pages/, lib/, graphql/, middleware.c and db/migrations/ with inotify. On
 *      a change it tells the host to hold new requests (SIGUSR2), rebuilds
 *      only what changed, writes the next manifest and tells the host to load
 *      it (SIGUSR1): the host swaps its route table without restarting and
 *      then serves the held requests with the new code. A new migration is
 *      applied.
 *
 * Every object of a generation gets a new file name, so dlopen() never hands
 * back a stale copy. A route's object is rebuilt when its source changed, or
 * a header it includes (from gcc's -MMD list), or libapp.so was rebuilt.
 *
 * This file is the supervisor (route list, manifest, host, watching); the
 * compiling, and the diagnostics, are dev_build.c's; dev.h is what both share.
 *
 * Owns: APP/.kiln/dev/ and the host process. Must never: leave the host
 * running after it exits, or leave the host paused (a failed build still
 * sends SIGUSR1: the host then answers 500 with the diagnostics).
 */
#include "cli/dev.h"
#include "core/buf.h"
#include "core/core.h"
#include "db/db.h"
#include "json/json.h"
#include "router/router.h"
#include "kiln.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static void on_stop(int sig) { (void)sig; stop_requested = 1; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void say(dev *d, const char *color, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(dev *d, const char *color, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->color) fprintf(stderr, "\033[%sm%s\033[0m\n", color, msg);
    else fprintf(stderr, "%s\n", msg);
}

/* ---- the route list ------------------------------------------------- */

static void free_routes(dev *d)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        free(d->routes[i].pattern);
        free(d->routes[i].file);
        free(d->routes[i].so);
        free(d->routes[i].dep);
    }
    free(d->routes);
    d->routes = NULL;
    d->nroutes = 0;
}

/* Rescan pages/api; keep what is known about routes that stay. */
static bool rescan(dev *d)
{
    scan_route *sr = NULL;
    size_t n = 0;
    char *err = NULL;
    if (routes_scan(d->app, &sr, &n, &err) != 0) {
        buf_puts(&d->diags, "{\"file\":\"pages/api\",\"line\":0,\"column\":0,\"message\":");
        json_escape(&d->diags, err ? err : "cannot scan routes", strlen(err ? err : "cannot scan routes"));
        buf_puts(&d->diags, "}\n");
        say(d, "31", "kiln dev: %s", err ? err : "cannot scan routes");
        free(err);
        return false;
    }
    dev_route *nr = kiln_xcalloc(n ? n : 1, sizeof *nr);
    for (size_t i = 0; i < n; i++) {
        nr[i].pattern = sr[i].pattern;
        nr[i].file = sr[i].file;
        nr[i].dirty = true;
        for (size_t k = 0; k < d->nroutes; k++)
            if (d->routes[k].file && !strcmp(d->routes[k].file, sr[i].file)) {
                nr[i].so = d->routes[k].so;
                nr[i].dep = d->routes[k].dep;
                nr[i].dirty = d->routes[k].dirty || !nr[i].so;
                d->routes[k].so = d->routes[k].dep = NULL;
            }
    }
    free(sr);                 /* the strings now belong to nr */
    free_routes(d);
    d->routes = nr;
    d->nroutes = n;
    return true;
}

/* ---- manifest ------------------------------------------------------- */

static void write_manifest(dev *d, bool ok)
{
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/manifest", d->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) KILN_PANIC("cannot write %s", tmp);
    fprintf(f, "kiln-dev\t1\ngeneration\t%u\nstate\t%s\n", d->gen, ok ? "ok" : "failed");
    if (ok) {
        if (d->lib_so) fprintf(f, "lib\t%s\n", d->lib_so);
        if (d->mw_so) fprintf(f, "middleware\t%s\n", d->mw_so);
        if (d->gql_so) fprintf(f, "graphql\t%s\n", d->gql_so);
        for (size_t i = 0; i < d->nroutes; i++)
            fprintf(f, "route\t%s\t%s\t%s%s\n", d->routes[i].pattern, d->routes[i].so, d->routes[i].file,
                    graphql_route_is_endpoint(d->app, d->routes[i].file) ? "\tgraphql" : "");
    } else {
        const char *s = d->diags.data ? d->diags.data : "";
        size_t len = d->diags.len;
        while (len > 0) {
            const char *nl = memchr(s, '\n', len);
            size_t l = nl ? (size_t)(nl - s) : len;
            fprintf(f, "diagnostic\t%.*s\n", (int)l, s);
            s += l + (nl ? 1 : 0);
            len -= l + (nl ? 1 : 0);
        }
    }
    fclose(f);
    rename(tmp, path);
}

/* Build what is dirty. Returns true when everything compiled. */
static bool rebuild(dev *d, bool all)
{
    d->gen++;
    d->diags.len = 0;
    bool ok = true;
    if (d->rescan || all) {
        d->rescan = false;
        if (!rescan(d)) ok = false;
    }
    bool lib_rebuilt = false;
    if (ok && (d->lib_dirty || all)) {
        d->lib_dirty = false;
        ok = build_lib(d);
        lib_rebuilt = true;
    }
    for (size_t i = 0; ok && i < d->nroutes; i++) {
        dev_route *r = &d->routes[i];
        if (!r->so || r->dirty || lib_rebuilt || all || (r->dep && deps_newer(r->dep, mtime_of(r->so)))) {
            if (!build_route(d, r)) ok = false;
        }
    }
    if (ok && (d->mw_dirty || all || lib_rebuilt)) {
        d->mw_dirty = false;
        ok = build_middleware(d);
    }
    if (ok && (d->gql_dirty || all || lib_rebuilt)) {
        d->gql_dirty = false;
        ok = build_graphql(d);
        if (!ok) d->gql_dirty = true;
    }
    if (!ok) {
        /* Whatever failed must be retried on the next change. */
        for (size_t i = 0; i < d->nroutes; i++) if (!d->routes[i].so) d->routes[i].dirty = true;
        d->lib_dirty = d->lib_dirty || !d->lib_so;
    }
    write_manifest(d, ok);
    return ok;
}

/* ---- the host ------------------------------------------------------- */

static int build_host(dev *d)
{
    char main_c[4400], host[4400];
    snprintf(main_c, sizeof main_c, "%s/host_main.c", d->dir);
    snprintf(host, sizeof host, "%s/host", d->dir);
    if (exists(host) && mtime_of(host) > mtime_of(d->tc.lib)) return 0;
    FILE *f = fopen(main_c, "w");
    if (!f) return -1;
    fputs("/* Generated by `kiln dev`. */\n#include <kiln.h>\nint main(int argc, char **argv) { return kiln_dev_main(argc, argv); }\n", f);
    fclose(f);
    char *qm = quote_arg(main_c), *qh = quote_arg(host), *ql = quote_arg(d->tc.lib), *qi = quote_arg(d->tc.include_dir);
    char cmd[20000];
    snprintf(cmd, sizeof cmd,
             "%s -g -rdynamic %s -I%s %s -o %s -Wl,--whole-archive %s -Wl,--no-whole-archive -lsqlite3 -lpq -lsodium -lcurl -lhiredis -lpthread -lm -lnettle -lz -ldl",
             d->tc.cc, d->sanitize ? "-fsanitize=address,undefined" : d->tc.sanflags, qi, qm, qh, ql);
    free(qm); free(qh); free(ql); free(qi);
    return run1(cmd) == 0 ? 0 : -1;
}

static void start_host(dev *d)
{
    char host[4400], manifest[4400];
    snprintf(host, sizeof host, "%s/host", d->dir);
    snprintf(manifest, sizeof manifest, "%s/manifest", d->dir);
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The server ends with `kiln dev`, however it ends (its workers end
         * with the server the same way, see runtime/master.c). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != self) _exit(1);
        setenv("KILN_DEV_MANIFEST", manifest, 1);
        setenv("KILN_APP_DIR", d->app, 1);
        if (d->color) setenv("KILN_DEV_COLOR", "1", 1);
        if (d->sanitize && !getenv("ASAN_OPTIONS")) setenv("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0", 1);
        char *args[] = { host, "--workers", "1", "--port", (char *)d->port, NULL };
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(host, args);
        fprintf(stderr, "kiln dev: cannot run %s: %s\n", host, strerror(errno));
        _exit(127);
    }
    d->host = pid;
}

/* ---- watching ------------------------------------------------------- */

static void watch_dir(dev *d, const char *path, bool recursive)
{
    if (d->nwatch >= MAX_WATCHES) return;
    int wd = inotify_add_watch(d->ino, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF);
    if (wd < 0) return;
    for (int i = 0; i < d->nwatch; i++) if (d->watch[i].wd == wd) goto children;
    d->watch[d->nwatch].wd = wd;
    snprintf(d->watch[d->nwatch].path, sizeof d->watch[d->nwatch].path, "%s", path);
    d->nwatch++;
children:
    if (!recursive) return;
    DIR *dd = opendir(path);
    if (!dd) return;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.') continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) watch_dir(d, p, true);
    }
    closedir(dd);
}

static const char *watched_path(dev *d, int wd)
{
    for (int i = 0; i < d->nwatch; i++) if (d->watch[i].wd == wd) return d->watch[i].path;
    return NULL;
}

/* Mark what an event touches. Returns true if it matters. */
static bool note_event(dev *d, const struct inotify_event *ev, bool *migrations)
{
    const char *dir = watched_path(d, ev->wd);
    if (!dir || !ev->len || ev->name[0] == '.') return false;
    char p[4600];
    snprintf(p, sizeof p, "%s/%s", dir, ev->name);
    size_t applen = strlen(d->app);
    const char *rel = !strncmp(p, d->app, applen) ? p + applen + 1 : p;
    size_t l = strlen(ev->name);
    bool is_dir = ev->mask & IN_ISDIR;
    if (!strncmp(rel, "pages/", 6)) {
        if (is_dir) {
            if (ev->mask & (IN_CREATE | IN_MOVED_TO)) watch_dir(d, p, true);
            d->rescan = true;
            return true;
        }
        if (l < 3 || strcmp(ev->name + l - 2, ".c")) return false;
        if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) d->rescan = true;
        for (size_t i = 0; i < d->nroutes; i++)
            if (!strcmp(d->routes[i].file, rel)) d->routes[i].dirty = true;
        return true;
    }
    if (!strncmp(rel, "lib/", 4)) {
        if (l > 2 && !strcmp(ev->name + l - 2, ".c")) { d->lib_dirty = true; return true; }
        if (l > 2 && !strcmp(ev->name + l - 2, ".h")) { d->lib_dirty = true; return true; }
        return false;
    }
    if (!strcmp(rel, "middleware.c")) { d->mw_dirty = true; return true; }
    if (!strncmp(rel, "graphql/", 8)) {
        bool src = (l > 2 && (!strcmp(ev->name + l - 2, ".c") || !strcmp(ev->name + l - 2, ".h")))
                || (l > 8 && !strcmp(ev->name + l - 8, ".graphql"));
        if (src) d->gql_dirty = true;
        return src;
    }
    if (!strncmp(rel, "db/migrations/", 14) && l > 4 && !strcmp(ev->name + l - 4, ".sql")) {
        *migrations = true;
        return true;
    }
    if (!strcmp(rel, "pages") || !strcmp(rel, "lib") || !strcmp(rel, "db") || !strcmp(rel, "db/migrations")
        || !strcmp(rel, "graphql")) {
        if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
            watch_dir(d, p, true);
            d->rescan = d->lib_dirty = d->gql_dirty = true;
            return true;
        }
    }
    return false;
}

static void dev_usage(FILE *f)
{
    fprintf(f, "usage: kiln dev [APP_DIR] [--port N] [--sanitize]\n"
               "  Serves APP_DIR (default: .) on port 3000 (--port, PORT), rebuilding what you\n"
               "  change in pages/, lib/, middleware.c and db/migrations/ and swapping it in\n"
               "  without a restart. Compile errors are answered as 500 with diagnostics; a\n"
               "  crashing handler answers 500 with a backtrace. --sanitize builds the routes\n"
               "  with AddressSanitizer and UBSan.\n");
}

int cmd_dev(int argc, char **argv)
{
    dev d = { .app = ".", .ino = -1 };
    static char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%s", getenv("PORT") && *getenv("PORT") ? getenv("PORT") : "3000");
    d.port = portbuf;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { dev_usage(stdout); return 0; }
        if (!strcmp(argv[i], "--sanitize")) { d.sanitize = true; continue; }
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 65535) { fprintf(stderr, "kiln dev: invalid port '%s'\n", argv[i]); return 2; }
            d.port = argv[i];
            continue;
        }
        if (argv[i][0] == '-') { fprintf(stderr, "kiln dev: unknown option '%s'\n", argv[i]); dev_usage(stderr); return 2; }
        if (strcmp(d.app, ".") != 0) { fprintf(stderr, "kiln dev: unexpected argument '%s'\n", argv[i]); return 2; }
        d.app = argv[i];
    }
    /* An absolute app path: the host and the compiler run from elsewhere. */
    static char app_abs[4096];
    if (!realpath(d.app, app_abs)) { fprintf(stderr, "kiln dev: %s: %s\n", d.app, strerror(errno)); return 1; }
    d.app = app_abs;
    d.color = isatty(2) && !getenv("NO_COLOR");
    if (toolchain_find(&d.tc) != 0) return 1;
    char kd[4200];
    snprintf(kd, sizeof kd, "%s/.kiln", d.app);
    mkdir(kd, 0755);
    snprintf(d.dir, sizeof d.dir, "%s/.kiln/dev", d.app);
    mkdir(d.dir, 0755);
    buf_init(&d.diags, 0);

    if (db_migrate(d.app, true) != 0) say(&d, "31", "kiln dev: migrations failed (fix the file; it is retried on save)");
    double t0 = now_ms();
    if (build_host(&d) != 0) { fprintf(stderr, "kiln dev: could not build the dev host\n"); return 1; }
    bool ok = rebuild(&d, true);
    if (ok) {
        scan_route *sr = kiln_xcalloc(d.nroutes ? d.nroutes : 1, sizeof *sr);
        for (size_t i = 0; i < d.nroutes; i++) { sr[i].pattern = d.routes[i].pattern; sr[i].file = d.routes[i].file; }
        print_route_table(d.app, sr, d.nroutes);
        fflush(stdout);
        free(sr);
    }
    say(&d, ok ? "32" : "31", "kiln dev: %s in %.0f ms; serving http://localhost:%s", ok ? "built" : "build failed",
        now_ms() - t0, d.port);

    struct sigaction sa = { 0 };
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    start_host(&d);

    d.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    char p[4300];
    snprintf(p, sizeof p, "%s/pages", d.app);
    watch_dir(&d, p, true);
    snprintf(p, sizeof p, "%s/lib", d.app);
    watch_dir(&d, p, false);
    snprintf(p, sizeof p, "%s/db/migrations", d.app);
    watch_dir(&d, p, false);
    snprintf(p, sizeof p, "%s/graphql", d.app);
    watch_dir(&d, p, false);
    watch_dir(&d, d.app, false);

    while (!stop_requested) {
        struct pollfd pf = { .fd = d.ino, .events = POLLIN };
        int r = poll(&pf, 1, 200);
        int st;
        if (d.host > 0 && waitpid(d.host, &st, WNOHANG) == d.host) {
            say(&d, "31", "kiln dev: the server exited; starting it again");
            start_host(&d);
        }
        if (r <= 0) continue;
        bool relevant = false, migrations = false;
        /* Drain this burst, then wait 5 ms for the rest of an editor's save. */
        for (int round = 0; round < 2; round++) {
            char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
            ssize_t n;
            while ((n = read(d.ino, evbuf, sizeof evbuf)) > 0) {
                for (char *q = evbuf; q < evbuf + n;) {
                    struct inotify_event *ev = (struct inotify_event *)(void *)q;
                    relevant |= note_event(&d, ev, &migrations);
                    q += sizeof *ev + ev->len;
                }
            }
            if (!relevant) break;
            if (round == 0 && !relevant) break;
            if (round == 0) {
                kill(d.host, SIGUSR2);     /* hold new requests until we are done */
                struct pollfd pf2 = { .fd = d.ino, .events = POLLIN };
                poll(&pf2, 1, 5);
            }
        }
        if (!relevant) continue;
        double b0 = now_ms();
        if (migrations && db_migrate(d.app, true) != 0) say(&d, "31", "kiln dev: a migration failed");
        ok = rebuild(&d, false);
        kill(d.host, SIGUSR1);             /* load the new manifest and go on */
        if (ok) say(&d, "32", "kiln dev: rebuilt in %.0f ms (%zu route%s)", now_ms() - b0, d.nroutes, d.nroutes == 1 ? "" : "s");
        else say(&d, "31", "kiln dev: build failed; requests answer 500 with the diagnostics until it is fixed");
    }
    if (d.host > 0) {
        kill(d.host, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(d.host, &st, WNOHANG) == 0; i++) usleep(50000);
        kill(d.host, SIGKILL);
        waitpid(d.host, &st, 0);
    }
    free_routes(&d);
    free(d.lib_so);
    free(d.mw_so);
    free(d.gql_so);
    buf_free(&d.diags);
    close(d.ino);
    return 0;
}
