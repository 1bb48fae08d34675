/*
 * observe.c -- observability, registered with the engine (runtime/engine.h:
 * process start and end, crashes, log lines) and the framework's request
 * path (api.h: api_observe): the trace context of every request, error
 * reports, metrics, and the built-in endpoints
 *
 *   /_kiln/health   liveness: 200 while the worker's loop runs
 *   /_kiln/ready    readiness: 200 when every worker is up, the migrations
 *                   are applied and the database answers; 503 otherwise,
 *                   and from the moment a graceful stop (SIGTERM) begins
 *   /_kiln/metrics  Prometheus text format, only with KILN_METRICS=1 (and,
 *                   with KILN_METRICS_TOKEN, only for that bearer token)
 *
 * Environment: SENTRY_DSN, SENTRY_SAMPLE_RATE (capture.c, sender.c),
 * KILN_METRICS, KILN_METRICS_TOKEN.
 *
 * Owns: the small shared page that says how many workers are up.
 * Must never: slow a request when a feature is off (each hook returns at
 * its first branch), or answer /_kiln/metrics unless asked to.
 */
#include "report/capture.h"
#include "report/observe.h"
#include "report/report.h"
#include "report/trace.h"
#include "metrics/metrics.h"
#include "db/db.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

typedef struct health_page {
    int workers_expected;
    int workers_up;                /* changed by the master only */
    int migrations_applied;
} health_page;

static health_page *health;
static char *dsn;
static double sample_rate = 1.0;

/* ---- the request's trace --------------------------------------------------- */

static void on_request_release(void *arg)
{
    (void)arg;
    metrics_gauge_add(MG_INFLIGHT, -1);
}

static void on_request_begin(conn *c)
{
    struct kiln_req_private *p = &rq(c)->priv;
    const char *h = kiln_header(&rq(c)->req, "traceparent");
    trace_ctx t;
    trace_begin(h, h ? strlen(h) : 0, &t);
    memcpy(p->trace_id, t.trace_id, sizeof p->trace_id);
    memcpy(p->span_id, t.span_id, sizeof p->span_id);
    memcpy(p->parent_span_id, t.parent_id, sizeof p->parent_span_id);
    memcpy(p->trace_flags, t.flags, sizeof p->trace_flags);
    c->trace_id = p->trace_id;            /* the engine's log lines of it */
    if (metrics_on) {
        /* In flight until its arena is let go: answered, or its connection
         * closed, whichever way. */
        metrics_gauge_add(MG_INFLIGHT, 1);
        arena_defer_fn(&c->arena, on_request_release, NULL);
    }
}

const char *kiln_trace_id(kiln_req *req)
{
    return req && req->priv && req->priv->trace_id[0] ? req->priv->trace_id : NULL;
}

/* ---- metrics per request ----------------------------------------------------- */

static const char **patterns;      /* the app's route patterns, by index */
static size_t npatterns;

static void on_request_end(conn *c, int status, uint64_t us)
{
    if (!metrics_on) return;
    /* By the route's index in the app's table (kiln dev reloads routes:
     * a pattern that is not the table's is counted as no route). */
    const struct kiln_req_private *p = &rq(c)->priv;
    int idx = -1;
    if (p->match.route && p->match.route_index < npatterns) {
        const char *pat = patterns[p->match.route_index];
        if (pat == p->match.route->pattern || !strcmp(pat, p->match.route->pattern)) idx = (int)p->match.route_index;
    }
    metrics_request(idx, p->method, status, us);
}

/* ---- built-in endpoints ----------------------------------------------------------- */

static void health_handler(kiln_req *req, kiln_res *res)
{
    kiln_json(res, 200, "{status: %s, worker: %d}", "ok", kiln_current_worker ? kiln_current_worker->id : -1);
}

/* Does the app use a database at all? (A readiness check must not create
 * an SQLite file for an app that never touches one.) */
static bool app_uses_db(void)
{
    const char *url = getenv("DATABASE_URL");
    if (url && *url) return true;
    char path[4200];
    snprintf(path, sizeof path, "%s/db/migrations", db_app_dir());
    struct stat st;
    return stat(path, &st) == 0;
}

static void ready_handler(kiln_req *req, kiln_res *res)
{
    worker *w = kiln_current_worker;
    bool stopping = w && (w->stopping || w->draining);
    int up = health ? __atomic_load_n(&health->workers_up, __ATOMIC_RELAXED) : 0;
    int want = health ? health->workers_expected : 0;
    bool migrated = health && health->migrations_applied;
    const char *db = "unused";
    if (!stopping && app_uses_db()) {
        kiln_rows *r = kiln_db_query(req, "SELECT 1");
        if (kiln_rows_status(r) != KILN_DB_OK) return;     /* answered 503 by kiln_db */
        db = "ok";
    }
    bool ready = !stopping && up >= want && migrated;
    kiln_json(res, ready ? 200 : 503, "{ready: %b, stopping: %b, workersUp: %d, workers: %d, migrations: %b, database: %s}",
              ready, stopping, up, want, migrated, db);
}

/* KILN_METRICS_TOKEN set: a scrape must say `Authorization: Bearer TOKEN`
 * (Prometheus: `authorization: { credentials: TOKEN }`). Compared in
 * constant time. */
static bool metrics_allowed(kiln_req *req)
{
    const char *want = getenv("KILN_METRICS_TOKEN");
    if (!want || !*want) return true;
    const char *h = kiln_header(req, "authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return false;
    h += 7;
    size_t n = strlen(want);
    return strlen(h) == n && sodium_memcmp(h, want, n) == 0;
}

static void metrics_handler(kiln_req *req, kiln_res *res)
{
    if (!metrics_allowed(req)) {
        kiln_set_header(res, "WWW-Authenticate", "Bearer");
        kiln_error(res, 401, "Unauthorized");
        return;
    }
    buf b;
    buf_init(&b, 8192);
    metrics_render(&b);
    buf_puts(&b, "# HELP kiln_workers_up Worker processes running.\n# TYPE kiln_workers_up gauge\n");
    buf_printf(&b, "kiln_workers_up %d\n", health ? __atomic_load_n(&health->workers_up, __ATOMIC_RELAXED) : 0);
    kiln_send(res, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

static kiln_handler on_builtin(conn *c)
{
    const char *path = rq(c)->req.path;
    if (path[0] != '/' || path[1] != '_' || strncmp(path, "/_kiln/", 7)) return NULL;
    path += 7;
    if (!strcmp(path, "health")) return health_handler;
    if (!strcmp(path, "ready")) return ready_handler;
    if (!strcmp(path, "metrics") && metrics_on) return metrics_handler;
    return NULL;
}

/* ---- processes -------------------------------------------------------------------- */

static int on_master_start(server_opts *o)
{
    health = mmap(NULL, sizeof *health, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (health == MAP_FAILED) KILN_PANIC("mmap of the health page failed");
    health->workers_expected = o->workers;
    health->migrations_applied = 1;        /* app.c's start hook applied them before us */
    const kiln_app_def *app = api.app;
    npatterns = app ? app->nroutes : 0;
    patterns = kiln_xcalloc(npatterns + 1, sizeof *patterns);   /* kept for good */
    for (size_t i = 0; i < npatterns; i++) patterns[i] = app->routes[i].pattern;
    metrics_init(o->workers, patterns, npatterns);
    capture_master_start();
    return 0;
}

static void on_worker_start(worker *w)
{
    metrics_bind(w->id);
    __atomic_add_fetch(&health->workers_up, 1, __ATOMIC_RELAXED);
    if (report_on) {
        if (report_sender_start(dsn, sample_rate) != 0) {
            log_event(LOG_WARN, NULL, "error reports off: the sender did not start", NULL);
            report_on = false;
        }
        capture_worker_start();
    }
}

static void on_worker_stop(worker *w)
{
    (void)w;
    if (report_on) report_sender_stop(2000);   /* flush, at most 2 s */
}

static void on_worker_ended(int slot, bool crashed, bool restarted)
{
    (void)slot;
    if (health) __atomic_sub_fetch(&health->workers_up, 1, __ATOMIC_RELAXED);
    if (crashed) metrics_add(MC_WORKER_CRASHES, 1);
    if (restarted) metrics_add(MC_WORKER_RESTARTS, 1);
}

void observe_register(void)
{
    api_observe.begin = on_request_begin;
    api_observe.end = on_request_end;
    api_observe.builtin = on_builtin;
    engine_on_master_start(on_master_start);
    engine_on_worker_start(on_worker_start);
    engine_on_worker_exit(on_worker_stop);
    engine_on_worker_ended(on_worker_ended);

    const char *d = getenv("SENTRY_DSN");
    if (!d || !*d) return;
    report_dsn parsed;
    if (report_dsn_parse(d, &parsed) != 0) {
        log_event(LOG_ERROR, NULL, "SENTRY_DSN is not a valid DSN; error reports are off", NULL);
        return;
    }
    const char *sr = getenv("SENTRY_SAMPLE_RATE");
    if (sr && *sr) {
        char *end;
        double v = strtod(sr, &end);
        if (*end || !(v >= 0.0 && v <= 1.0))
            log_event(LOG_WARN, NULL, "SENTRY_SAMPLE_RATE must be between 0 and 1; using 1", NULL);
        else sample_rate = v;
    }
    dsn = kiln_xstrdup(d);
    report_on = true;
    api_observe.answer = capture_answer;
    log_set_tap(capture_log_line);
    engine_on_crash_note(capture_crash);
    log_event(LOG_INFO, NULL, "error reports on", "\"endpoint\":\"%s\"", parsed.url);
}
