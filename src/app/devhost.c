/*
 * devhost.c -- the server side of `kiln dev`: routes come from shared
 * objects named in a manifest that the supervisor (src/cli/dev.c) rewrites
 * after each build, instead of from a table linked in at build time.
 *
 * kiln_dev_main() runs the ordinary master/worker server with one worker in
 * dev mode. The worker loads the manifest at start and again on SIGUSR1
 * (swapping its route table between two requests); SIGUSR2 makes it hold new
 * requests until that reload, so a request sent while a build runs gets the
 * new code. A manifest whose build failed turns every API request into a 500
 * carrying the compiler's diagnostics. A crash is answered with the signal
 * and a symbolized backtrace (file:line of the handler), and the master
 * starts a fresh worker. Kiln's built-in routes (Pusher's WebSocket and REST
 * API, pusher/pusher.h) follow the app's in every generation, as in a
 * `kiln build`.
 *
 * Owns: every generation loaded (objects stay mapped: a suspended request may
 * still run old code; they are closed at exit). Must never: be linked into a
 * production server's hot path (only kiln_dev_main registers its hooks).
 */
#include "api/api.h"
#include "pusher/pusher.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>


typedef struct dev_gen {
    kiln_app_def app;
    kiln_route_def *routes;
    void **handles;
    size_t nhandles;
    char *strings;             /* the manifest text the routes point into */
    struct dev_gen *older;
} dev_gen;

static dev_gen *generations;

static const char *const method_syms[KILN_METHOD_COUNT] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

static char *slurp(const char *path)
{
    buf b;
    buf_init(&b, 4096);
    if (buf_read_file(&b, path)) return b.data;
    buf_free(&b);
    return NULL;
}

static void *open_so(dev_gen *g, const char *path, buf *err)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        buf_puts(err, "{\"file\":");
        json_escape(err, path, strlen(path));
        buf_puts(err, ",\"line\":0,\"column\":0,\"message\":");
        json_escape(err, e ? e : "dlopen failed", strlen(e ? e : "dlopen failed"));
        buf_puts(err, "}");
        return NULL;
    }
    g->handles = kiln_xrealloc(g->handles, (g->nhandles + 1) * sizeof *g->handles);
    g->handles[g->nhandles++] = h;
    return h;
}

/* Load the manifest. Returns the app, or NULL with *diagnostics set to a
 * malloc'd JSON array (build failed, or an object would not load). */
static const kiln_app_def *devhost_load(char **diagnostics)
{
    *diagnostics = NULL;
    const char *path = getenv("KILN_DEV_MANIFEST");
    char *text = path ? slurp(path) : NULL;
    buf err;
    buf_init(&err, 256);
    buf_putc(&err, '[');
    if (!text) {
        buf_puts(&err, "{\"file\":\"\",\"line\":0,\"column\":0,\"message\":\"no manifest (KILN_DEV_MANIFEST)\"}]");
        buf_putc(&err, '\0');
        *diagnostics = err.data;
        return NULL;
    }
    dev_gen *g = kiln_xcalloc(1, sizeof *g);
    g->strings = text;
    size_t cap = 16, n = 0;
    g->routes = kiln_xcalloc(cap, sizeof *g->routes);
    bool failed = false, first_diag = true;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[5] = { 0 };
        int nf = 0;
        for (char *s2 = NULL, *t = strtok_r(line, "\t", &s2); t && nf < 5; t = strtok_r(NULL, "\t", &s2)) f[nf++] = t;
        if (nf < 2) continue;
        if (!strcmp(f[0], "state")) failed = strcmp(f[1], "ok") != 0;
        else if (!strcmp(f[0], "diagnostic")) {
            if (!first_diag) buf_putc(&err, ',');
            buf_puts(&err, f[1]);
            first_diag = false;
        } else if (!strcmp(f[0], "middleware") && !failed) {
            void *h = open_so(g, f[1], &err);
            if (!h) { failed = true; first_diag = false; continue; }
            g->app.middleware = (kiln_middleware)(uintptr_t)dlsym(h, "middleware");
            g->app.matcher = dlsym(h, "matcher");
        } else if (!strcmp(f[0], "graphql") && !failed) {   /* APP/graphql (cli/dev.c) */
            void *h = open_so(g, f[1], &err);
            if (!h) { failed = true; first_diag = false; continue; }
            const char *const *sdl = dlsym(h, "kiln_dev_graphql_sdl");
            const kiln_gql_resolver_def *const *res = dlsym(h, "kiln_dev_graphql_resolvers");
            const size_t *nres = dlsym(h, "kiln_dev_graphql_nresolvers");
            g->app.graphql_sdl = sdl ? *sdl : NULL;
            g->app.graphql_resolvers = res ? *res : NULL;
            g->app.graphql_nresolvers = nres ? *nres : 0;
        } else if (!strcmp(f[0], "route") && (nf == 4 || nf == 5) && !failed) {
            /* route PATTERN SO FILE [graphql]: the fifth field marks the
             * GraphQL endpoint (cli/dev.c; kiln_route_def.graphql). */
            void *h = open_so(g, f[2], &err);
            if (!h) { failed = true; first_diag = false; continue; }
            if (n == cap) g->routes = kiln_xrealloc(g->routes, (cap *= 2) * sizeof *g->routes);
            kiln_route_def *r = &g->routes[n++];
            memset(r, 0, sizeof *r);
            r->pattern = f[1];
            r->file = f[3];
            r->handler = (kiln_handler)(uintptr_t)dlsym(h, "handler");
            for (int m = 0; m < KILN_METHOD_COUNT; m++) r->methods[m] = (kiln_handler)(uintptr_t)dlsym(h, method_syms[m]);
            r->config = dlsym(h, "config");
            r->middleware = dlsym(h, "middleware");
            r->graphql = nf == 5 && !strcmp(f[4], "graphql");
        }
    }
    if (failed) {
        buf_puts(&err, "]");
        buf_putc(&err, '\0');
        *diagnostics = err.data;
        for (size_t i = 0; i < g->nhandles; i++) dlclose(g->handles[i]);
        free(g->handles);
        free(g->routes);
        free(g->strings);
        free(g);
        return NULL;
    }
    buf_free(&err);
    /* Kiln's own routes after the app's, as `kiln build` adds them: Pusher's
     * REST API and WebSocket (404 while PUSHER_* are unset). */
#define BUILTIN_ROW(pat, method, fn) { .pattern = pat, .file = "(built in) Pusher REST API", .methods = { [method] = fn } },
    static const kiln_route_def builtins[] = { PUSHER_BUILTIN_ROUTES(BUILTIN_ROW) };
#undef BUILTIN_ROW
    g->routes = kiln_xrealloc(g->routes, (n + ARRAY_LEN(builtins)) * sizeof *g->routes);
    for (size_t i = 0; i < ARRAY_LEN(builtins); i++) g->routes[n++] = builtins[i];
    g->app.routes = g->routes;
    g->app.nroutes = n;
    g->older = generations;
    generations = g;
    return &g->app;
}

static void devhost_unload_all(void)
{
    while (generations) {
        dev_gen *g = generations;
        generations = g->older;
        for (size_t i = 0; i < g->nhandles; i++) dlclose(g->handles[i]);
        free(g->handles);
        free(g->routes);
        free(g->strings);
        free(g);
    }
}

/* ---- crash reports ---------------------------------------------------
 * Called from the worker's crash handler in dev mode only: the process is
 * about to die, so the strict async-signal-safety of production's handler is
 * traded for a useful answer (backtrace(), dladdr(), addr2line). */

static char sanitizer_report[4096];

static void on_sanitizer_report(const char *report)
{
    snprintf(sanitizer_report, sizeof sanitizer_report, "%s", report);
}

static void devhost_install_sanitizer_hook(void)
{
    extern void __asan_set_error_report_callback(void (*)(const char *)) __attribute__((weak));
    if (__asan_set_error_report_callback) __asan_set_error_report_callback(on_sanitizer_report);
}

/* Append `"signal":"…","backtrace":[{"function","file","line"}…]` (and the
 * sanitizer's report, if one came) to out. Frames without source (libc, the
 * runtime) are left out unless nothing else is known. */
static void devhost_crash_fields(int sig, buf *out)
{
    void *frames[48];
    int n = backtrace(frames, 48);
    const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
                     : sig == SIGILL ? "SIGILL" : sig == SIGABRT ? "SIGABRT" : "signal";
    buf_printf(out, "\"signal\":\"%s\",\"backtrace\":[", name);
    bool first = true;
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info) || !info.dli_fname) continue;
        /* Only the app's own code: the dev build's shared objects (not the
         * host, whose frames are this crash handler and the runtime). */
        size_t fl = strlen(info.dli_fname);
        if (!strstr(info.dli_fname, "/.kiln/dev/") || fl < 3 || strcmp(info.dli_fname + fl - 3, ".so")) continue;
        uintptr_t off = (uintptr_t)frames[i] - (uintptr_t)info.dli_fbase;
        if (i > 0) off -= 1;   /* a return address points after the call */
        char func[256] = "?", loc[1024] = "?";
        if (!symbolize(info.dli_fname, off, func, sizeof func, loc, sizeof loc)) continue;
        char *colon = strrchr(loc, ':');
        long line = 0;
        if (colon) { line = strtol(colon + 1, NULL, 10); *colon = '\0'; }
        const char *file = loc;
        const char *app = getenv("KILN_APP_DIR");
        size_t al = app ? strlen(app) : 0;
        if (app && !strncmp(file, app, al) && file[al] == '/') file += al + 1;
        if (!first) buf_putc(out, ',');
        first = false;
        buf_puts(out, "{\"function\":");
        json_escape(out, func, strlen(func));
        buf_puts(out, ",\"file\":");
        json_escape(out, file, strlen(file));
        buf_printf(out, ",\"line\":%ld}", line);
    }
    buf_putc(out, ']');
    if (sanitizer_report[0]) {
        buf_puts(out, ",\"sanitizer\":");
        json_escape(out, sanitizer_report, strlen(sanitizer_report));
    }
}

/* ---- the worker's side ---------------------------------------------- */

struct dev_state {
    router **routers;          /* every generation's router (requests may   */
    size_t nrouters;           /* still point into an older one)            */
    char *error;               /* current diagnostics, malloc'd             */
};

static struct dev_state *dev;  /* this worker's (kiln dev runs one)         */
static loop_timer dev_timer;   /* let go of held requests if no reload came */

/* Load the manifest into w: its app and a router of its own. */
static void reload(worker *w)
{
    struct dev_state *ds = dev;
    char *diag = NULL;
    const kiln_app_def *app = devhost_load(&diag);
    router *r = NULL;
    if (app) {
        char *err = NULL;
        r = router_new(app->routes, app->nroutes, &err);
        for (size_t i = 0; r && !err && i < app->nroutes; i++) err = validate_check_route(&app->routes[i]);
        if (r && err) { router_free(r); r = NULL; }
        if (!r) {
            buf b;
            buf_init(&b, 256);
            buf_puts(&b, "[{\"file\":\"pages/api\",\"line\":0,\"column\":0,\"message\":");
            json_escape(&b, err ? err : "bad route table", strlen(err ? err : "bad route table"));
            buf_puts(&b, "}]");
            buf_putc(&b, '\0');
            diag = b.data;
            free(err);
        }
    }
    free(ds->error);
    ds->error = diag;
    api.dev_error = diag;
    if (r) {
        ds->routers = kiln_xrealloc(ds->routers, (ds->nrouters + 1) * sizeof *ds->routers);
        ds->routers[ds->nrouters++] = r;
        api.router = r;
        api.app = app;
        log_event(LOG_DEBUG, NULL, "dev: routes loaded", "\"routes\":%zu", app->nroutes);
    }
}

static void devhost_signal(worker *w, int sig);

static void on_hold_timeout(loop_timer *t)
{
    (void)t;
    devhost_signal(kiln_current_worker, SIGUSR1);     /* no reload came: go on with what we have */
}

static void devhost_worker_start(worker *w)
{
    dev = kiln_xcalloc(1, sizeof *dev);
    dev_timer.heap_index = -1;
    dev_timer.on_fire = on_hold_timeout;
    devhost_install_sanitizer_hook();
    reload(w);
}

static void devhost_signal(worker *w, int sig)
{
    if (sig == SIGUSR2) {
        w->paused = true;
        loop_timer_set(w->loop, &dev_timer, loop_now_ms(w->loop) + 10000);
        return;
    }
    if (sig != SIGUSR1) return;
    loop_timer_cancel(w->loop, &dev_timer);
    reload(w);
    w->paused = false;
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        conn_kick(c);
    }
}

static void devhost_worker_exit(worker *w)
{
    struct dev_state *ds = dev;
    if (!ds) return;
    loop_timer_cancel(w->loop, &dev_timer);
    for (size_t i = 0; i < ds->nrouters; i++) router_free(ds->routers[i]);
    free(ds->routers);
    free(ds->error);
    free(ds);
    dev = NULL;
    devhost_unload_all();
}

/* The crashed request's answer: 500 with the signal and a backtrace; the
 * same report goes to the terminal. */
static void devhost_crash_answer(conn *c, int sig)
{
    buf body;
    buf_init(&body, 2048);
    buf_puts(&body, "{\"error\":\"Internal Server Error\",\"requestId\":");
    json_escape(&body, c->req_id ? c->req_id : "", c->req_id ? strlen(c->req_id) : 0);
    buf_puts(&body, ",\"route\":");
    json_escape(&body, c->route ? c->route : "", c->route ? strlen(c->route) : 0);
    buf_putc(&body, ',');
    devhost_crash_fields(sig, &body);
    buf_putc(&body, '}');
    buf head;
    buf_init(&head, 256);
    buf_printf(&head, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json; charset=utf-8\r\n"
                      "Connection: close\r\nContent-Length: %zu\r\n\r\n", body.len);
    buf_append(&head, body.data, body.len);
    size_t off = 0;
    while (off < head.len) {
        ssize_t n = write(c->io.fd, head.data + off, head.len - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    fprintf(stderr, "kiln dev: handler crashed: %.*s\n", (int)body.len, body.data);
    buf_free(&head);
    buf_free(&body);
}

int kiln_dev_main(int argc, char **argv)
{
    engine_on_worker_start(devhost_worker_start);
    engine_on_worker_exit(devhost_worker_exit);
    engine_on_user_signal(devhost_signal);
    engine_on_crash(devhost_crash_answer);
    log_set_pretty(getenv("KILN_DEV_COLOR") != NULL);
    api.dev = true;        /* response checks, a fresh /_kiln/openapi.json */
    static const kiln_app_def empty = { 0 };
    /* The master needs no routes: the worker loads the manifest itself, at
     * start and on every reload. */
    return kiln_main(argc, argv, &empty);
}
