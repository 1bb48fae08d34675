/*
 * db.c -- kiln_db: the per-worker connection pool, transactions, typed row
 * access, and turning database failures into HTTP statuses.
 *
 * A request borrows a connection for one statement (autocommit) or from
 * kiln_db_begin() to commit/rollback; requests that find every connection
 * busy wait in a FIFO queue (their coroutine parks; the worker serves
 * others). SQLite gets one connection per worker, PostgreSQL a small pool
 * (KILN_DB_POOL, default 4). A connection found broken is dropped and the
 * next borrower opens a new one, so a database restart heals by itself.
 *
 * Owns: the pool and the wait queue of this worker.
 * Must never: build SQL from values (only bound parameters), let two
 * requests use one connection at once, or keep a transaction open past the
 * end of its request (a deferred rollback closes it).
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

struct db_req {
    db_conn *held;       /* borrowed connection, or NULL                 */
    bool in_tx;
    bool answered;       /* an automatic error response went out         */
};

typedef struct waiter { conn *c; struct waiter *next; } waiter;

static struct {
    bool init;
    const db_backend *be;
    char *target;
    db_conn *idle[MAX_POOL];
    int nidle;
    int open;            /* connections in existence (idle + borrowed)    */
    int max;
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

static void pool_init(void)
{
    if (pool.init) return;
    pool.init = true;
    pool.be = db_choose(db_app_dir(), &pool.target);
    const char *m = getenv("KILN_DB_POOL");
    int max = m ? atoi(m) : 4;
    if (max < 1) max = 1;
    if (max > MAX_POOL) max = MAX_POOL;
    pool.max = pool.be == &db_sqlite ? 1 : max;
}

void db_worker_exit(void)
{
    if (!pool.init) return;
    while (pool.nidle > 0) pool.be->close(pool.idle[--pool.nidle]);
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
    struct db_req **slot = arg;
    *slot = NULL;
}

static struct db_req *dbr_of(kiln_req *req)
{
    struct db_req **slot = request_db_slot(req);
    if (!*slot) {
        *slot = arena_calloc(request_arena(req), sizeof **slot);
        kiln_defer(req, forget_dbr, slot);
    }
    return *slot;
}

static void wake_next(void)
{
    waiter *w = pool.head;
    if (!w) return;
    pool.head = w->next;
    if (!pool.head) pool.tail = NULL;
    wait_wake_at(w->c, 0);
}

/* The pool's gauges for /_kiln/metrics (nothing when metrics are off). */
static void pool_gauges(void)
{
    metrics_gauge_set(MG_DB_POOL_OPEN, pool.open);
    metrics_gauge_set(MG_DB_POOL_IN_USE, pool.open - (int)pool.nidle);
}

static void give_back(db_conn *dc)
{
    if (!pool.be->ok(dc)) {
        pool.be->close(dc);
        pool.open--;
    } else {
        pool.idle[pool.nidle++] = dc;
    }
    pool_gauges();
    wake_next();
}

/* Borrow a connection: an idle one, a new one, or wait for one.
 * NULL (and *err) when a new connection could not be opened. */
static db_conn *borrow(kiln_req *req, char **err)
{
    for (;;) {
        while (pool.nidle > 0) {
            db_conn *dc = pool.idle[--pool.nidle];
            if (pool.be->ok(dc)) { pool_gauges(); return dc; }
            pool.be->close(dc);
            pool.open--;
        }
        if (pool.open < pool.max) {
            pool.open++;
            db_conn *dc = pool.be->connect(pool.target, req, err);
            if (!dc) { pool.open--; wake_next(); }
            pool_gauges();
            return dc;
        }
        metrics_add(MC_DB_POOL_WAITS, 1);
        waiter w = { .c = wait_self() };
        if (pool.tail) pool.tail->next = &w; else pool.head = &w;
        pool.tail = &w;
        wait_suspend(WAIT_QUEUE);
        bool gave_up = wait_gave_up(w.c);   /* 504 sent, or the client left */
        /* Woken (or abandoned): make sure we are off the queue. */
        bool still_queued = false;
        for (waiter **pp = &pool.head; *pp; pp = &(*pp)->next)
            if (*pp == &w) {
                still_queued = true;
                *pp = w.next;
                if (pool.tail == &w) {
                    pool.tail = NULL;
                    for (waiter *x = pool.head; x; x = x->next) pool.tail = x;
                }
                break;
            }
        if (gave_up) {
            if (err) *err = kiln_xstrdup("the request ended while waiting for a database connection");
            if (!still_queued) wake_next();   /* our turn came: pass it on */
            return NULL;
        }
    }
}

/* End of request: roll back an open transaction and return the connection. */
static void release_at_end(void *arg)
{
    kiln_req *req = arg;
    struct db_req *d = *request_db_slot(req);
    if (!d || !d->held) return;
    if (d->in_tx) {
        /* The handler returned (or failed) inside a transaction. The request's
         * coroutine is finished, so roll back without suspending. */
        kiln_rows r = { 0 };
        pool.be->query(d->held, NULL, request_arena(req), "ROLLBACK", NULL, 0, &r);
        d->in_tx = false;
    }
    give_back(d->held);
    d->held = NULL;
}

/* ---- failures become statuses --------------------------------------- */

static void answer_failure(kiln_req *req, struct db_req *d, kiln_rows *r, const char *sql)
{
    kiln_res *res = request_res(req);
    switch (r->status) {
    case KILN_DB_OK:
    case KILN_DB_CONFLICT:
        return;
    case KILN_DB_INVALID:
        log_event(LOG_INFO, req->id, "database refused a value", "\"error\":\"%s\"", "invalid data");
        if (!kiln_res_started(res)) kiln_json(res, 400, "{error: %s}", r->error ? r->error : "Invalid data");
        break;
    case KILN_DB_UNAVAILABLE:
        metrics_add(MC_DB_ERRORS, 1);
        log_event(LOG_ERROR, req->id, "database unavailable", "\"backend\":\"%s\"", pool.be->name);
        if (!kiln_res_started(res)) kiln_json(res, 503, "{error: %s, requestId: %s}", "Service Unavailable", req->id);
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
        if (!kiln_res_started(res)) kiln_json(res, 500, "{error: %s, requestId: %s}", "Internal Server Error", req->id);
        break;
    }
    }
    d->answered = true;
    request_mute_response(req);   /* the handler's own sends are now quietly ignored */
}

/* Make sure the request holds a connection. False after answering 503. */
static bool hold(kiln_req *req, struct db_req *d, kiln_rows *r, const char *sql)
{
    if (d->held) return true;
    char *err = NULL;
    d->held = borrow(req, &err);
    if (!d->held) {
        r->status = KILN_DB_UNAVAILABLE;
        r->error = arena_strdup(request_arena(req), err ? err : "cannot connect to the database");
        free(err);
        answer_failure(req, d, r, sql);
        return false;
    }
    kiln_defer(req, release_at_end, req);
    return true;
}

static void drop_hold(struct db_req *d)
{
    if (!d->held) return;
    give_back(d->held);
    d->held = NULL;
}

kiln_rows *kiln_db_query_(kiln_req *req, const char *sql, const kiln_param *params, size_t n)
{
    pool_init();
    arena *a = request_arena(req);
    kiln_rows *r = arena_calloc(a, sizeof *r);
    struct db_req *d = dbr_of(req);
    if (d->answered) {
        /* An earlier failure already answered; do not touch the database. */
        r->status = KILN_DB_UNAVAILABLE;
        r->error = "an earlier database error already answered this request";
        return r;
    }
    if (!hold(req, d, r, sql)) return r;
    pool.be->query(d->held, req, a, sql, params, n, r);
    if (!d->in_tx) drop_hold(d);        /* autocommit: give it back at once */
    answer_failure(req, d, r, sql);
    return r;
}

static bool tx_statement(kiln_req *req, struct db_req *d, const char *sql)
{
    kiln_rows *r = arena_calloc(request_arena(req), sizeof *r);
    pool.be->query(d->held, req, request_arena(req), sql, NULL, 0, r);
    answer_failure(req, d, r, sql);
    return r->status == KILN_DB_OK;
}

bool kiln_db_begin(kiln_req *req)
{
    pool_init();
    struct db_req *d = dbr_of(req);
    if (d->in_tx) return true;
    if (d->answered) return false;
    kiln_rows r = { 0 };
    if (!hold(req, d, &r, pool.be->begin_sql)) return false;
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
    if (!d->in_tx || !d->held) return false;
    bool ok = tx_statement(req, d, "COMMIT");
    if (!ok) {
        kiln_rows r = { 0 };
        pool.be->query(d->held, req, request_arena(req), "ROLLBACK", NULL, 0, &r);
    }
    d->in_tx = false;
    drop_hold(d);
    return ok;
}

void kiln_db_rollback(kiln_req *req)
{
    struct db_req *d = dbr_of(req);
    if (!d->in_tx || !d->held) return;
    kiln_rows r = { 0 };
    pool.be->query(d->held, req, request_arena(req), "ROLLBACK", NULL, 0, &r);
    d->in_tx = false;
    drop_hold(d);
}

/* ---- reading rows --------------------------------------------------- */

size_t kiln_rows_count(const kiln_rows *r) { return r ? r->nrows : 0; }
size_t kiln_rows_columns(const kiln_rows *r) { return r ? r->ncols : 0; }
const char *kiln_rows_column(const kiln_rows *r, size_t col) { return r && col < r->ncols ? r->cols[col] : NULL; }
int64_t kiln_rows_changes(const kiln_rows *r) { return r ? r->changes : 0; }
kiln_db_status kiln_rows_status(const kiln_rows *r) { return r ? r->status : KILN_DB_ERROR; }
const char *kiln_rows_error(const kiln_rows *r) { return r ? r->error : "no result"; }

static const db_value *cell(const kiln_rows *r, size_t row, const char *col)
{
    if (!r || row >= r->nrows) return NULL;
    for (size_t c = 0; c < r->ncols; c++)
        if (!strcmp(r->cols[c], col)) return &r->vals[row * r->ncols + c];
    return NULL;
}

int64_t kiln_rows_i64(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    if (!v) return 0;
    if (v->type == DBV_INT || v->type == DBV_BOOL) return v->i;
    if (v->type == DBV_REAL) return (int64_t)v->d;
    if (v->type == DBV_TEXT) return strtoll(v->s, NULL, 10);
    return 0;
}

double kiln_rows_f64(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    if (!v) return 0;
    if (v->type == DBV_REAL) return v->d;
    if (v->type == DBV_INT || v->type == DBV_BOOL) return (double)v->i;
    if (v->type == DBV_TEXT) return strtod(v->s, NULL);
    return 0;
}

const char *kiln_rows_str(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return v && v->type != DBV_NULL ? v->s : NULL;
}

size_t kiln_rows_len(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return v && v->type != DBV_NULL ? v->n : 0;
}

bool kiln_rows_is_null(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return !v || v->type == DBV_NULL;
}

/* ---- rows as JSON --------------------------------------------------- */
#define JW(w) ((jw_state *)(void *)(w))

void kiln_jw_row(kiln_jw *w, const kiln_rows *r, size_t row)
{
    jw_state *s = JW(w);
    if (!r || row >= r->nrows) { jw_null(s); return; }
    jw_begin_object(s);
    for (size_t c = 0; c < r->ncols; c++) {
        const db_value *v = &r->vals[row * r->ncols + c];
        jw_key(s, r->cols[c], strlen(r->cols[c]));
        switch (v->type) {
        case DBV_NULL: jw_null(s); break;
        case DBV_INT: jw_int(s, v->i); break;
        case DBV_REAL: jw_double(s, v->d); break;
        case DBV_BOOL: jw_bool(s, v->i != 0); break;
        case DBV_JSON: jw_raw(s, v->s, v->n); break;
        default: jw_string(s, v->s, v->n); break;
        }
    }
    jw_end(s);
}

void kiln_jw_rows(kiln_jw *w, const kiln_rows *r)
{
    jw_begin_array(JW(w));
    for (size_t i = 0; r && i < r->nrows; i++) kiln_jw_row(w, r, i);
    jw_end(JW(w));
}

void kiln_send_rows(kiln_res *res, int status, const kiln_rows *r)
{
    if (kiln_res_started(res)) return;
    kiln_jw_rows(kiln_json_begin(res, status), r);
}

void kiln_send_row(kiln_res *res, int status, const kiln_rows *r)
{
    if (kiln_res_started(res)) return;
    if (!r || r->nrows == 0) { kiln_error(res, 404, "Not Found"); return; }
    kiln_jw_row(kiln_json_begin(res, status), r, 0);
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
