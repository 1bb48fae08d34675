/*
 * sqlite.c -- the embedded SQLite backend (the default).
 *
 * One connection per worker, WAL mode (readers never block the writer and a
 * committed transaction survives a killed process), synchronous=NORMAL,
 * foreign keys on. Prepared statements are cached per connection by SQL
 * text. A locked database (another worker writing) does not block the
 * worker: the busy handler parks the request for a few milliseconds on the
 * event loop and SQLite retries, for up to KILN_DB_BUSY_MS (default 10 s);
 * then the request gets 503.
 *
 * Owns: the sqlite3 handle and its statement cache.
 * Must never: interpolate values into SQL, or be used by two requests at
 * once (db.c lends it to one request at a time).
 */
#include "db/db.h"
#include "api/request.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define STMT_CACHE 64

struct db_conn {
    sqlite3 *db;
    kiln_req *req;             /* the request using it now (for the busy handler) */
    unsigned busy_ms_total;
    unsigned busy_limit_ms;
    struct { char *sql; sqlite3_stmt *st; } cache[STMT_CACHE];
    unsigned next_evict;
};

static int on_busy(void *arg, int attempt)
{
    db_conn *c = arg;
    if (!c->req || !wait_self()) {
        /* No coroutine to park (migrations, end-of-request rollback): sleep. */
        if (c->busy_ms_total >= c->busy_limit_ms) return 0;
        sqlite3_sleep(5);
        c->busy_ms_total += 5;
        return 1;
    }
    if (c->busy_ms_total >= c->busy_limit_ms) return 0;
    unsigned ms = attempt < 4 ? 1u << attempt : 20;   /* 1, 2, 4, 8, then 20 ms */
    kiln_sleep(c->req, ms);
    c->busy_ms_total += ms;
    return 1;
}

static void mkdir_parent(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (!s || s == dir) return;
    *s = '\0';
    mkdir(dir, 0755);
}

static db_conn *sq_connect(const char *path, kiln_req *req, char **err)
{
    mkdir_parent(path);
    db_conn *c = kiln_xcalloc(1, sizeof *c);
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (err) {
            char m[600];
            snprintf(m, sizeof m, "cannot open SQLite database %s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
            *err = kiln_xstrdup(m);
        }
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    const char *env = getenv("KILN_DB_BUSY_MS");
    c->busy_limit_ms = env ? (unsigned)atoi(env) : 10000;
    sqlite3_busy_handler(c->db, on_busy, c);
    sqlite3_extended_result_codes(c->db, 1);
    /* Switching a new database to WAL takes an exclusive lock without going
     * through the busy handler: when another process opens the same new
     * file at that moment (two `kiln migrate`, or two servers starting) the
     * PRAGMA fails with SQLITE_BUSY at once. Retry it like a busy wait. */
    char *e = NULL;
    unsigned waited = 0;
    while ((rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                              NULL, NULL, &e)) != SQLITE_OK
           && ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) && waited < c->busy_limit_ms) {
        sqlite3_free(e);
        e = NULL;
        if (req && wait_self()) kiln_sleep(req, 5);
        else sqlite3_sleep(5);
        waited += 5;
    }
    if (rc != SQLITE_OK) {
        if (err) *err = kiln_xstrdup(e ? e : "PRAGMA failed");
        sqlite3_free(e);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    return c;
}

static void sq_close(db_conn *c)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].st) sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

static bool sq_ok(db_conn *c) { (void)c; return true; }

static sqlite3_stmt *prepare(db_conn *c, const char *sql, int *rc)
{
    unsigned h = 5381;
    for (const char *s = sql; *s; s++) h = h * 33 + (unsigned char)*s;
    unsigned slot = h % STMT_CACHE;
    for (unsigned i = 0; i < 4; i++) {        /* a short probe, then evict */
        unsigned k = (slot + i) % STMT_CACHE;
        if (c->cache[k].sql && !strcmp(c->cache[k].sql, sql)) { *rc = SQLITE_OK; return c->cache[k].st; }
    }
    sqlite3_stmt *st = NULL;
    *rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (*rc != SQLITE_OK) return NULL;
    unsigned k = slot;
    for (unsigned i = 0; i < 4; i++)
        if (!c->cache[(slot + i) % STMT_CACHE].sql) { k = (slot + i) % STMT_CACHE; goto put; }
    k = (slot + (c->next_evict++ % 4)) % STMT_CACHE;
    sqlite3_finalize(c->cache[k].st);
    free(c->cache[k].sql);
put:
    c->cache[k].sql = kiln_xstrdup(sql);
    c->cache[k].st = st;
    return st;
}

static kiln_db_status classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return KILN_DB_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY: return KILN_DB_UNAVAILABLE;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return KILN_DB_INVALID;
    default: return KILN_DB_ERROR;
    }
}

static void fail(db_conn *c, arena *a, kiln_rows *out, int rc)
{
    out->status = classify(rc);
    out->error = arena_strdup(a, sqlite3_errmsg(c->db));
    if (out->status == KILN_DB_CONFLICT) {
        /* Keep the constraint's own words ("UNIQUE constraint failed: users.email"). */
    }
}

static void sq_query(db_conn *c, kiln_req *req, arena *a, const char *sql,
                     const kiln_param *p, size_t n, kiln_rows *out)
{
    int rc;
    c->req = req;
    c->busy_ms_total = 0;
    sqlite3_stmt *st = prepare(c, sql, &rc);
    if (!st) { fail(c, a, out, rc); c->req = NULL; return; }
    if ((size_t)sqlite3_bind_parameter_count(st) != n) {
        out->status = KILN_DB_ERROR;
        out->error = arena_strdup(a, "parameter count does not match the '?' placeholders");
        c->req = NULL;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1;
        switch (p[i].type) {
        case 1: rc = sqlite3_bind_int64(st, k, p[i].i); break;
        case 2: rc = sqlite3_bind_double(st, k, p[i].d); break;
        case 3: rc = sqlite3_bind_text64(st, k, p[i].s, p[i].n, SQLITE_STATIC, SQLITE_UTF8); break;
        default: rc = sqlite3_bind_null(st, k); break;
        }
        if (rc != SQLITE_OK) { fail(c, a, out, rc); goto done; }
    }
    int ncols = sqlite3_column_count(st);
    out->ncols = (size_t)ncols;
    out->cols = arena_alloc(a, (size_t)(ncols ? ncols : 1) * sizeof *out->cols);
    for (int i = 0; i < ncols; i++) out->cols[i] = arena_strdup(a, sqlite3_column_name(st, i));
    size_t cap = 0;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) { fail(c, a, out, rc); goto done; }
        /* Rows of ncols values: an element is a whole row. */
        out->vals = arena_grow(a, out->vals, out->nrows, &cap, (size_t)(ncols ? ncols : 1) * sizeof *out->vals, 8);
        db_value *row = &out->vals[out->nrows * (size_t)ncols];
        for (int i = 0; i < ncols; i++) {
            db_value *v = &row[i];
            memset(v, 0, sizeof *v);
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: v->type = DBV_INT; v->i = sqlite3_column_int64(st, i); break;
            case SQLITE_FLOAT: v->type = DBV_REAL; v->d = sqlite3_column_double(st, i); break;
            case SQLITE_NULL: v->type = DBV_NULL; break;
            default: {
                const void *t = sqlite3_column_blob(st, i);
                v->n = (size_t)sqlite3_column_bytes(st, i);
                v->s = arena_strndup(a, t ? t : "", v->n);
                v->type = DBV_TEXT;
            }
            }
        }
        out->nrows++;
    }
    out->changes = sqlite3_changes64(c->db);
    out->status = KILN_DB_OK;
done:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    c->req = NULL;
}

static char *sq_exec_script(db_conn *c, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &e) == SQLITE_OK) return NULL;
    char *m = kiln_xstrdup(e ? e : sqlite3_errmsg(c->db));
    sqlite3_free(e);
    return m;
}

const db_backend db_sqlite = {
    .name = "sqlite",
    .connect = sq_connect,
    .close = sq_close,
    .query = sq_query,
    .ok = sq_ok,
    .exec_script = sq_exec_script,
    .begin_sql = "BEGIN IMMEDIATE",
};
