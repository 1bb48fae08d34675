/*
 * db.c -- kiln_db: the per-worker connection pool, transactions, batches,
 * typed row access, and turning database failures into HTTP statuses (or,
 * while GraphQL executes, handing them to the executor: request.h).
 *
 * A request borrows a connection for one statement (autocommit) or from
 * kiln_db_begin() to commit/rollback (a transaction has its connection to
 * itself). A backend that pipelines (PostgreSQL, pipeline.c) lets up to
 * `depth` requests share one connection with statements in flight; SQLite
 * has one connection per worker and depth 1, so there a connection serves
 * one request at a time. Requests that find no capacity wait in a FIFO
 * queue (their coroutine parks; the worker serves others); capacity freed
 * is handed to the waiters in order, before they wake. A transaction that
 * waits marks one shared connection "draining": it takes no new requests
 * and goes to the transaction once its statements in flight are done, so a
 * busy pool cannot starve transactions. A connection found broken is
 * dropped and the next borrower opens a new one, so a database restart
 * heals by itself.
 *
 * Pool size and depth: KILN_DB_POOL (connections per worker) and
 * KILN_DB_PIPELINE (requests in flight per connection) override the
 * backend's measured defaults (pg.c).
 *
 * Owns: the pool and the wait queue of this worker; a request's batch of
 * statements not yet sent (kiln_db_send).
 * Must never: build SQL from values (only bound parameters), let a
 * transaction's connection carry anyone else's statements, or keep a
 * transaction open past the end of its request (a deferred rollback closes
 * it).
 */
#include "db/db.h"
#include "metrics/metrics.h"
#include "api/request.h"
#include "json/json.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_POOL 64
#define MAX_DEPTH 1024

typedef struct waiter waiter;

typedef struct slot {
    bool used;           /* holds (or is opening) a connection            */
    db_conn *c;          /* NULL while it is being opened                 */
    int users;           /* requests with statements in flight on it      */
    bool excl;           /* lent to one request (a transaction)           */
    waiter *drain_for;   /* a waiting transaction gets it once it empties */
} slot;

struct waiter {
    conn *c;
    bool excl;
    slot *got;           /* handed over before the wake-up                */
    bool connect;        /* ... empty: the waiter opens the connection    */
    waiter *next;
};

struct db_req {
    slot *held;          /* the transaction's connection, or NULL         */
    bool in_tx;
    bool answered;       /* an automatic error response went out          */
    bool deferred;       /* release_at_end is registered                  */
    db_stmt *pending;    /* kiln_db_send: not sent yet                    */
    size_t npending, cap;
};

static struct {
    bool init;
    const db_backend *be;
    char *target;
    slot slots[MAX_POOL];
    int open;            /* slots in use                                  */
    int max;
    int depth;
    waiter *head, *tail;
} pool;

/* ---- parameters ----------------------------------------------------- */
kiln_param kiln_p_i64(long long v) { return (kiln_param){ .type = 1, .i = v }; }
kiln_param kiln_p_u64(unsigned long long v)
{
    if (v > (unsigned long long)INT64_MAX) return (kiln_param){ .type = 2, .d = (double)v };
    return (kiln_param){ .type = 1, .i = (int64_t)v };
}
kiln_param kiln_p_f64(double v) { return (kiln_param){ .type = 2, .d = v }; }
kiln_param kiln_p_text(const char *s)
{
    if (!s) return (kiln_param){ .type = 0 };
    return (kiln_param){ .type = 3, .s = s, .n = strlen(s) };
}
kiln_param kiln_p_str(kiln_str s)
{
    if (!s.ptr) return (kiln_param){ .type = 0 };
    return (kiln_param){ .type = 3, .s = s.ptr, .n = s.len };
}
kiln_param kiln_p_null(const void *p) { (void)p; return (kiln_param){ .type = 0 }; }

/* ---- where the app and its database are ---------------------------- */

const char *db_app_dir(void)
{
    static char dir[4096];
    if (dir[0]) return dir;
    const char *env = getenv("KILN_APP_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) { strcpy(dir, "."); return dir; }
    dir[n] = '\0';
    char *s = strrchr(dir, '/');              /* APP/.kiln/server -> APP/.kiln */
    if (s) *s = '\0';
    s = strrchr(dir, '/');                    /* -> APP                        */
    if (s && !strcmp(s, "/.kiln")) *s = '\0';
    else strcpy(dir, ".");
    return dir;
}

const db_backend *db_choose(const char *app_dir, char **target)
{
    const char *url = getenv("DATABASE_URL");
    if (url && (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))) {
        *target = kiln_xstrdup(url);
        return &db_postgres;
    }
    if (url && !strncmp(url, "sqlite:", 7)) {
        *target = kiln_xstrdup(url + 7);
        return &db_sqlite;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/data/app.db", app_dir);
    *target = kiln_xstrdup(p);
    return &db_sqlite;
}

static int env_int(const char *name, int dflt, int lo, int hi)
{
    const char *e = getenv(name);
    int v = e && *e ? atoi(e) : dflt;
    return v < lo ? lo : v > hi ? hi : v;
}

static void pool_init(void)
{
    if (pool.init) return;
    pool.init = true;
    pool.be = db_choose(db_app_dir(), &pool.target);
    if (pool.be == &db_sqlite) {
        pool.max = 1;
        pool.depth = 1;
    } else {
        pool.max = env_int("KILN_DB_POOL", pool.be->pool_default ? pool.be->pool_default : 4, 1, MAX_POOL);
        pool.depth = env_int("KILN_DB_PIPELINE", pool.be->depth_default ? pool.be->depth_default : 1, 1, MAX_DEPTH);
    }
}

static void close_slot(slot *s)
{
    pool.be->close(s->c);
    memset(s, 0, sizeof *s);
    pool.open--;
}

void db_worker_exit(void)
{
    if (!pool.init) return;
    for (int i = 0; i < MAX_POOL; i++)
        if (pool.slots[i].used && pool.slots[i].c) close_slot(&pool.slots[i]);
    free(pool.target);
    memset(&pool, 0, sizeof pool);
}

/* ---- borrowing ------------------------------------------------------ */

/* The request's db state lives in its arena. The runtime keeps priv->db
 * across the requests of a keep-alive connection (it is not in the part of
 * the private state it clears), so a deferred clean-up forgets the pointer
 * when the arena is reset: the next request starts with fresh state instead
 * of a pointer into recycled memory. */
static void forget_dbr(void *arg)
{
    struct db_req **sp = arg;
    *sp = NULL;
}

static struct db_req *dbr_of(kiln_req *req)
{
    struct db_req **sp = request_db_slot(req);
    if (!*sp) {
        *sp = arena_calloc(request_arena(req), sizeof **sp);
        kiln_defer(req, forget_dbr, sp);
    }
    return *sp;
}

/* The pool's gauges for /_kiln/metrics (nothing when metrics are off):
 * connections open, and those with statements in flight or lent out. */
static void pool_gauges(void)
{
    int busy = 0;
    for (int i = 0; i < pool.max; i++)
        if (pool.slots[i].used && (pool.slots[i].users > 0 || pool.slots[i].excl)) busy++;
    metrics_gauge_set(MG_DB_POOL_OPEN, pool.open);
    metrics_gauge_set(MG_DB_POOL_IN_USE, busy);
}

/* Capacity for a request now, with the counts already taken: a connection
 * to share (excl false) or to own (excl true), or an empty slot the caller
 * opens a connection in (*connect). NULL: none; wait. `w` is the waiter
 * asking (a slot draining for it is its own). */
static slot *pick(bool excl, waiter *w, bool *connect)
{
    slot *best = NULL, *free_slot = NULL;
    *connect = false;
    for (int i = 0; i < pool.max; i++) {
        slot *s = &pool.slots[i];
        if (!s->used) { if (!free_slot) free_slot = s; continue; }
        if (!s->c || s->excl) continue;
        if (!pool.be->ok(s->c)) {
            if (s->users == 0) {               /* broken and idle: drop it */
                close_slot(s);
                if (!free_slot) free_slot = s;
            }
            continue;
        }
        if (excl) {
            if (s->users == 0 && (!s->drain_for || s->drain_for == w)) { best = s; break; }
        } else if (!s->drain_for && s->users < pool.depth && (!best || s->users < best->users)) {
            best = s;
        }
    }
    if (!(best && (excl || best->users == 0)) && free_slot) {
        /* Rather a connection of its own than a share, while the pool has
         * room: a slow statement then holds up fewer requests queued behind
         * it in the same pipeline. */
        free_slot->used = true;
        free_slot->excl = excl;
        free_slot->users = excl ? 0 : 1;
        pool.open++;
        *connect = true;
        return free_slot;
    }
    if (!best) return NULL;
    if (excl) { best->excl = true; best->drain_for = NULL; }
    else best->users++;
    return best;
}

/* Hand freed capacity to the waiters, in order, then wake them. */
static void serve_waiters(void)
{
    for (waiter **pp = &pool.head, *prev = NULL; *pp;) {
        waiter *w = *pp;
        bool connect;
        slot *s = pick(w->excl, w, &connect);
        if (!s) { prev = w; pp = &w->next; continue; }
        w->got = s;
        w->connect = connect;
        *pp = w->next;
        if (pool.tail == w) pool.tail = prev;
        wait_wake_at(w->c, 0);
    }
}

/* Give back what pick() (or serve_waiters()) handed out. */
static void release(slot *s, bool excl)
{
    if (excl) s->excl = false;
    else s->users--;
    if (s->c && s->users == 0 && !s->excl && !pool.be->ok(s->c)) close_slot(s);
    serve_waiters();
    pool_gauges();
}

/* A waiting transaction: make one shared connection drain for it. */
static void drain_one_for(waiter *w)
{
    slot *best = NULL;
    for (int i = 0; i < pool.max; i++) {
        slot *s = &pool.slots[i];
        if (s->drain_for == w) return;
        if (s->used && s->c && !s->excl && !s->drain_for && (!best || s->users < best->users)) best = s;
    }
    if (best) best->drain_for = w;
}

static void undrain(waiter *w)
{
    for (int i = 0; i < pool.max; i++)
        if (pool.slots[i].drain_for == w) pool.slots[i].drain_for = NULL;
}

/* Borrow capacity: share a connection (excl false) or own one. NULL (and
 * *err) when no connection could be opened, or the request ended while it
 * waited (its 504 went out, or its client left). */
static slot *borrow(kiln_req *req, bool excl, char **err)
{
    static const char gone[] = "the request ended while waiting for a database connection";
    bool connect;
    slot *s = pick(excl, NULL, &connect);
    if (!s) {
        metrics_add(MC_DB_POOL_WAITS, 1);
        waiter w = { .c = wait_self(), .excl = excl };
        if (pool.tail) pool.tail->next = &w; else pool.head = &w;
        pool.tail = &w;
        if (excl) drain_one_for(&w);
        while (!w.got && !wait_gave_up(w.c)) wait_suspend(WAIT_QUEUE);
        undrain(&w);
        if (!w.got) {                            /* abandoned, still queued */
            waiter *prev = NULL;
            for (waiter **pp = &pool.head; *pp; prev = *pp, pp = &(*pp)->next)
                if (*pp == &w) {
                    *pp = w.next;
                    if (pool.tail == &w) pool.tail = prev;
                    break;
                }
            if (err) *err = kiln_xstrdup(gone);
            serve_waiters();
            return NULL;
        }
        s = w.got;
        connect = w.connect;
        if (wait_gave_up(w.c)) {                 /* handed over too late */
            if (connect) { memset(s, 0, sizeof *s); pool.open--; serve_waiters(); }
            else release(s, excl);
            if (err) *err = kiln_xstrdup(gone);
            return NULL;
        }
    }
    if (!connect) { pool_gauges(); return s; }
    s->c = pool.be->connect(pool.target, req, err);
    pool_gauges();
    if (s->c) return s;
    memset(s, 0, sizeof *s);
    pool.open--;
    serve_waiters();
    return NULL;
}

/* End of request: roll back an open transaction and return the connection. */
static void release_at_end(void *arg)
{
    kiln_req *req = arg;
    struct db_req *d = *request_db_slot(req);
    if (!d) return;
    /* Registered again by the next kiln_db_begin: the arena that ran this
     * may have been an event's (request_event_begin, api/request.h): the
     * request's next transaction, in a later event, needs its own. */
    d->deferred = false;
    if (!d->held) return;
    if (d->in_tx) {
        /* The handler returned (or failed) inside a transaction. The request's
         * coroutine is finished, so roll back without suspending. */
        kiln_rows r = { 0 };
        pool.be->query(d->held->c, NULL, request_arena(req), "ROLLBACK", NULL, 0, &r);
        d->in_tx = false;
    }
    release(d->held, true);
    d->held = NULL;
}

/* ---- failures become statuses --------------------------------------- */

static void answer_failure(kiln_req *req, struct db_req *d, kiln_rows *r, const char *sql)
{
    kiln_res *res = request_res(req);
    /* Under GraphQL execution the failure is the field's (request.h): logged,
     * counted and noted as below, but nothing is sent. */
    bool caught = false;
    switch (r->status) {
    case KILN_DB_OK:
    case KILN_DB_CONFLICT:
        return;
    case KILN_DB_INVALID:
        log_event(LOG_INFO, req->id, "database refused a value", "\"error\":\"%s\"", "invalid data");
        caught = request_catch_db_failure(req, r->status, r->error);
        if (!caught && !kiln_res_started(res)) request_answer_db_failure(req, r->status, r->error);
        break;
    case KILN_DB_UNAVAILABLE:
        metrics_add(MC_DB_ERRORS, 1);
        log_event(LOG_ERROR, req->id, "database unavailable", "\"backend\":\"%s\"", pool.be->name);
        caught = request_catch_db_failure(req, r->status, NULL);
        if (!caught && !kiln_res_started(res)) request_answer_db_failure(req, r->status, NULL);
        break;
    case KILN_DB_ERROR: {
        metrics_add(MC_DB_ERRORS, 1);
        buf b;
        buf_init(&b, 256);
        buf_puts(&b, "\"sql\":");
        json_escape(&b, sql, strlen(sql));
        buf_puts(&b, ",\"error\":");
        json_escape(&b, r->error ? r->error : "?", strlen(r->error ? r->error : "?"));
        buf_putc(&b, '\0');
        log_event(LOG_ERROR, req->id, "database error", "%s", b.data);
        buf_free(&b);
        request_note_db_error(req, sql, r->error);   /* for the error report */
        caught = request_catch_db_failure(req, r->status, NULL);
        if (!caught && !kiln_res_started(res)) request_answer_db_failure(req, r->status, NULL);
        break;
    }
    }
    if (caught) return;           /* later statements still run */
    d->answered = true;
    request_mute_response(req);   /* the handler's own sends are now quietly ignored */
}

/* A statement that cannot run: answered like any failure (503 at most once). */
static void refuse(kiln_req *req, struct db_req *d, kiln_rows *r, const char *sql, char *err)
{
    r->status = KILN_DB_UNAVAILABLE;
    r->error = arena_strdup(request_arena(req), err ? err : "cannot connect to the database");
    free(err);
    answer_failure(req, d, r, sql);
}

static const char ANSWERED[] = "an earlier database error already answered this request";

/* Run statements: on the transaction's connection, or on a shared one
 * borrowed for them. Failures are answered in order (the first one wins). */
static void run(kiln_req *req, struct db_req *d, db_stmt *st, size_t n)
{
    arena *a = request_arena(req);
    if (d->answered) {
        /* An earlier failure already answered; do not touch the database. */
        for (size_t i = 0; i < n; i++) {
            st[i].out->status = KILN_DB_UNAVAILABLE;
            st[i].out->error = ANSWERED;
        }
        return;
    }
    slot *s = d->held;
    if (!s) {
        char *err = NULL;
        s = borrow(req, false, &err);
        if (!s) {
            for (size_t i = 0; i < n; i++) refuse(req, d, st[i].out, st[i].sql, i ? NULL : err);
            return;
        }
    }
    if (pool.be->query_many && n > 1) {
        pool.be->query_many(s->c, req, a, st, n);
    } else {
        for (size_t i = 0; i < n; i++)
            pool.be->query(s->c, req, a, st[i].sql, st[i].p, st[i].n, st[i].out);
    }
    if (s != d->held) release(s, false);
    for (size_t i = 0; i < n; i++) answer_failure(req, d, st[i].out, st[i].sql);
}

bool kiln_db_wait(kiln_req *req)
{
    pool_init();
    struct db_req *d = dbr_of(req);
    size_t n = d->npending;
    if (!n) return !d->answered;
    db_stmt *st = d->pending;
    d->pending = NULL;
    d->npending = d->cap = 0;
    for (size_t i = 0; i < n; i++) memset(st[i].out, 0, sizeof *st[i].out);
    run(req, d, st, n);
    bool ok = true;
    for (size_t i = 0; i < n; i++) ok = ok && st[i].out->status == KILN_DB_OK;
    return ok;
}

kiln_rows *kiln_db_send_(kiln_req *req, const char *sql, const kiln_param *params, size_t n)
{
    pool_init();
    arena *a = request_arena(req);
    struct db_req *d = dbr_of(req);
    ARENA_GROW(a, d->pending, d->npending, d->cap, 8);
    /* The parameters are the caller's compound literal (gone at the end of
     * its block) and its strings: keep copies until kiln_db_wait. */
    kiln_param *p = arena_alloc(a, (n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i] = params[i];
        if (p[i].type == 3) p[i].s = arena_strndup(a, p[i].s, p[i].n);
    }
    kiln_rows *r = arena_calloc(a, sizeof *r);
    r->status = KILN_DB_ERROR;
    r->error = "not sent yet: call kiln_db_wait(req) first";
    d->pending[d->npending++] = (db_stmt){ .sql = arena_strdup(a, sql), .p = p, .n = n, .out = r };
    return r;
}

kiln_rows *kiln_db_query_(kiln_req *req, const char *sql, const kiln_param *params, size_t n)
{
    pool_init();
    kiln_rows *r = arena_calloc(request_arena(req), sizeof *r);
    struct db_req *d = dbr_of(req);
    kiln_db_wait(req);                        /* what was sent goes first */
    db_stmt st = { .sql = sql, .p = params, .n = n, .out = r };
    run(req, d, &st, 1);
    return r;
}

static bool tx_statement(kiln_req *req, struct db_req *d, const char *sql)
{
    kiln_rows *r = arena_calloc(request_arena(req), sizeof *r);
    pool.be->query(d->held->c, req, request_arena(req), sql, NULL, 0, r);
    answer_failure(req, d, r, sql);
    return r->status == KILN_DB_OK;
}

static void drop_hold(struct db_req *d)
{
    if (!d->held) return;
    release(d->held, true);
    d->held = NULL;
}

bool kiln_db_begin(kiln_req *req)
{
    pool_init();
    struct db_req *d = dbr_of(req);
    kiln_db_wait(req);
    if (d->in_tx) return true;
    if (d->answered) return false;
    char *err = NULL;
    d->held = borrow(req, true, &err);
    if (!d->held) {
        kiln_rows r = { 0 };
        refuse(req, d, &r, pool.be->begin_sql, err);
        return false;
    }
    if (!d->deferred) {
        d->deferred = true;
        kiln_defer(req, release_at_end, req);
    }
    d->in_tx = true;
    if (!tx_statement(req, d, pool.be->begin_sql)) {
        d->in_tx = false;
        drop_hold(d);
        return false;
    }
    return true;
}

bool kiln_db_commit(kiln_req *req)
{
    struct db_req *d = dbr_of(req);
    kiln_db_wait(req);
    if (!d->in_tx || !d->held) return false;
    bool ok = tx_statement(req, d, "COMMIT");
    if (!ok) {
        kiln_rows r = { 0 };
        pool.be->query(d->held->c, req, request_arena(req), "ROLLBACK", NULL, 0, &r);
    }
    d->in_tx = false;
    drop_hold(d);
    return ok;
}

void kiln_db_rollback(kiln_req *req)
{
    struct db_req *d = dbr_of(req);
    kiln_db_wait(req);
    if (!d->in_tx || !d->held) return;
    kiln_rows r = { 0 };
    pool.be->query(d->held->c, req, request_arena(req), "ROLLBACK", NULL, 0, &r);
    d->in_tx = false;
    drop_hold(d);
}

/* ---- '?' -> $n ------------------------------------------------------ */

char *db_rewrite_placeholders(arena *a, const char *sql, size_t *count)
{
    size_t len = strlen(sql), n = 0;
    char *out = arena_alloc(a, len * 4 + 1), *o = out;   /* "?" -> "$16" at most x4 */
    for (const char *s = sql; *s;) {
        if (*s == '\'' || *s == '"') {
            char q = *s;
            *o++ = *s++;
            while (*s) {
                if (*s == q && s[1] == q) { *o++ = *s++; *o++ = *s++; continue; }
                if (*s == q) { *o++ = *s++; break; }
                *o++ = *s++;
            }
            continue;
        }
        if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') *o++ = *s++;
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            size_t l = e ? (size_t)(e + 2 - s) : strlen(s);
            memcpy(o, s, l);
            o += l;
            s += l;
            continue;
        }
        if (*s == '?') {
            o += sprintf(o, "$%zu", ++n);
            s++;
            continue;
        }
        *o++ = *s++;
    }
    *o = '\0';
    if (count) *count = n;
    return out;
}
