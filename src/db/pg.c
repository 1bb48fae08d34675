/*
 * pg.c -- the PostgreSQL backend, on libpq's asynchronous API.
 *
 * Connecting (PQconnectStart/PQconnectPoll) and querying
 * (PQsendQueryParams, PQconsumeInput, PQgetResult) never block the worker:
 * whenever libpq would wait, the request's coroutine waits for the socket on
 * the event loop (wait_fd) and the worker serves other requests. Without a
 * request (migrations, an end-of-request rollback) the same calls block,
 * which is fine there.
 *
 * `?` placeholders are rewritten to $1..$n (db.c). Parameters go in text
 * format; a text parameter holding a NUL byte cannot be sent to PostgreSQL
 * and is refused as invalid data (400) before anything is sent.
 *
 * A restart of PostgreSQL: statements in flight fail (503, db.c); pooled
 * idle connections are checked before reuse (pg_ok: an idle socket that
 * turned readable was closed by the server) and replaced, so requests after
 * the restart succeed without restarting Kiln. Server notices are dropped.
 *
 * Owns: one PGconn. Must never: leave a half-read result on a connection it
 * hands back (a broken connection is flagged and dropped by db.c).
 */
#include "db/db.h"
#include "api/request.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#define PG_CONNECT_TIMEOUT_MS 5000
#define PG_QUERY_TIMEOUT_MS 0           /* statements are bounded by the route's max duration */

struct db_conn {
    PGconn *pg;
    bool broken;
};

/* Wait for the socket: on the loop if we have a request, else poll(). */
static int wait_sock(kiln_req *req, int fd, bool for_write, unsigned timeout_ms)
{
    if (req && wait_self()) {
        int ev = wait_fd(fd, for_write ? EPOLLOUT : EPOLLIN, timeout_ms);
        return ev;
    }
    struct pollfd p = { .fd = fd, .events = for_write ? POLLOUT : POLLIN };
    int r = poll(&p, 1, timeout_ms ? (int)timeout_ms : -1);
    return r > 0 ? 1 : 0;
}

/* Server notices ("relation already exists, skipping" from a migration's
 * IF NOT EXISTS, say) are not errors: libpq would print them on stderr,
 * between our JSON log lines. Drop them. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static db_conn *pg_connect(const char *url, kiln_req *req, char **err)
{
    PGconn *pg = PQconnectStart(url);
    if (!pg) { if (err) *err = kiln_xstrdup("out of memory in PQconnectStart"); return NULL; }
    if (PQstatus(pg) == CONNECTION_BAD) goto bad;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) goto bad;
        int ready = wait_sock(req, PQsocket(pg), st == PGRES_POLLING_WRITING, PG_CONNECT_TIMEOUT_MS);
        if (ready <= 0) {
            if (err) *err = kiln_xstrdup("timed out connecting to PostgreSQL");
            PQfinish(pg);
            return NULL;
        }
        st = PQconnectPoll(pg);
    }
    if (PQsetnonblocking(pg, 1) != 0) goto bad;
    PQsetNoticeProcessor(pg, drop_notice, NULL);
    db_conn *c = kiln_xcalloc(1, sizeof *c);
    c->pg = pg;
    return c;
bad:
    if (err) {
        char m[600];
        snprintf(m, sizeof m, "cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
        m[strcspn(m, "\n")] = '\0';
        *err = kiln_xstrdup(m);
    }
    PQfinish(pg);
    return NULL;
}

static void pg_close(db_conn *c)
{
    PQfinish(c->pg);
    free(c);
}

/* Usable? An idle connection has nothing to read: when its socket is
 * readable the server has closed it or is closing it (a restart sends
 * "terminating connection due to administrator command", then EOF), so it
 * is dropped here, before a request sends a statement into it. This is what
 * lets the first requests after a PostgreSQL restart succeed instead of
 * failing on a stale pooled connection. */
static bool pg_ok(db_conn *c)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) return false;
    struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
    if (p.fd < 0 || poll(&p, 1, 0) != 0) {
        c->broken = true;
        return false;
    }
    return true;
}

static kiln_db_status classify(const char *sqlstate)
{
    if (!sqlstate) return KILN_DB_UNAVAILABLE;
    if (!strncmp(sqlstate, "23", 2)) return KILN_DB_CONFLICT;        /* integrity constraint */
    if (!strncmp(sqlstate, "22", 2)) return KILN_DB_INVALID;         /* data exception       */
    if (!strncmp(sqlstate, "08", 2) || !strncmp(sqlstate, "57P", 3) || !strncmp(sqlstate, "53", 2))
        return KILN_DB_UNAVAILABLE;                                   /* connection, shutdown, resources */
    return KILN_DB_ERROR;
}

static void take_result(db_conn *c, arena *a, PGresult *res, kiln_rows *out)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        if (out->status != KILN_DB_OK && out->error) return;   /* keep the first error */
        int nr = PQntuples(res), nc = PQnfields(res);
        out->ncols = (size_t)nc;
        out->nrows = (size_t)nr;
        out->cols = arena_alloc(a, (size_t)(nc ? nc : 1) * sizeof *out->cols);
        for (int i = 0; i < nc; i++) out->cols[i] = arena_strdup(a, PQfname(res, i));
        out->vals = arena_alloc(a, (size_t)(nr && nc ? nr * nc : 1) * sizeof *out->vals);
        for (int r = 0; r < nr; r++)
            for (int i = 0; i < nc; i++) {
                db_value *v = &out->vals[(size_t)r * (size_t)nc + (size_t)i];
                memset(v, 0, sizeof *v);
                if (PQgetisnull(res, r, i)) { v->type = DBV_NULL; continue; }
                const char *t = PQgetvalue(res, r, i);
                v->n = (size_t)PQgetlength(res, r, i);
                v->s = arena_strndup(a, t, v->n);
                switch (PQftype(res, i)) {
                case 20: case 21: case 23: case 26:         /* int8 int2 int4 oid */
                    v->type = DBV_INT; v->i = strtoll(t, NULL, 10); break;
                case 700: case 701: case 1700:               /* float4 float8 numeric */
                    v->type = DBV_REAL; v->d = strtod(t, NULL); break;
                case 16:                                     /* bool */
                    v->type = DBV_BOOL; v->i = t[0] == 't'; break;
                case 114: case 3802:                         /* json jsonb */
                    v->type = DBV_JSON; break;
                default:
                    v->type = DBV_TEXT; break;
                }
            }
        const char *ct = PQcmdTuples(res);
        out->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
        out->status = KILN_DB_OK;
        return;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    out->status = classify(state);
    out->error = arena_strdup(a, msg ? msg : PQerrorMessage(c->pg));
    if (PQstatus(c->pg) != CONNECTION_OK) c->broken = true;
}

static void pg_query(db_conn *c, kiln_req *req, arena *a, const char *sql,
                     const kiln_param *p, size_t n, kiln_rows *out)
{
    size_t nph = 0;
    const char *q = db_rewrite_placeholders(a, sql, &nph);
    if (nph != n) {
        out->status = KILN_DB_ERROR;
        out->error = arena_strdup(a, "parameter count does not match the '?' placeholders");
        return;
    }
    /* The request's trace id rides along as a comment (sqlcommenter's
     * style), so pg_stat_activity and the server's logs name the trace.
     * Cheap here: statements are unnamed (no plan cache keyed by text), and
     * the comment is on its own line (a trailing "--" cannot swallow it). */
    const char *trace = req ? kiln_trace_id(req) : NULL;
    if (trace) {
        size_t ql = strlen(q);
        char *t = arena_alloc(a, ql + 64);
        memcpy(t, q, ql);
        memcpy(t + ql, "\n/*trace_id='", 13);
        memcpy(t + ql + 13, trace, 32);
        memcpy(t + ql + 45, "'*/", 4);
        q = t;
    }
    const char **vals = arena_alloc(a, (n ? n : 1) * sizeof *vals);
    for (size_t i = 0; i < n; i++) {
        switch (p[i].type) {
        case 1: { char *b = arena_alloc(a, 24); snprintf(b, 24, "%lld", (long long)p[i].i); vals[i] = b; break; }
        case 2: { char *b = arena_alloc(a, 32); snprintf(b, 32, "%.17g", p[i].d); vals[i] = b; break; }
        case 3:
            if (memchr(p[i].s, '\0', p[i].n)) {
                out->status = KILN_DB_INVALID;
                out->error = "text values may not contain NUL bytes";
                return;
            }
            vals[i] = arena_strndup(a, p[i].s, p[i].n);
            break;
        default: vals[i] = NULL; break;
        }
    }
    if (!PQsendQueryParams(c->pg, q, (int)n, NULL, vals, NULL, NULL, 0)) goto lost;
    /* Flush the query out. */
    for (;;) {
        int f = PQflush(c->pg);
        if (f == 0) break;
        if (f < 0) goto lost;
        if (wait_sock(req, PQsocket(c->pg), true, 0) < 0) goto lost;
    }
    /* Read every result; keep the first error or the last rows. */
    for (;;) {
        while (PQisBusy(c->pg)) {
            int ev = wait_sock(req, PQsocket(c->pg), false, 0);
            if (ev < 0) goto lost;
            if (!PQconsumeInput(c->pg)) goto lost;
        }
        PGresult *res = PQgetResult(c->pg);
        if (!res) break;
        take_result(c, a, res, out);
        PQclear(res);
    }
    if (PQstatus(c->pg) != CONNECTION_OK) c->broken = true;
    return;
lost:
    c->broken = true;
    out->status = KILN_DB_UNAVAILABLE;
    {
        char m[300];
        snprintf(m, sizeof m, "lost the PostgreSQL connection: %s", PQerrorMessage(c->pg));
        m[strcspn(m, "\n")] = '\0';
        out->error = arena_strdup(a, m);
    }
}

static char *pg_exec_script(db_conn *c, const char *sql)
{
    PQsetnonblocking(c->pg, 0);
    PGresult *r = PQexec(c->pg, sql);
    char *err = NULL;
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = kiln_xstrdup(PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(r);
    PQsetnonblocking(c->pg, 1);
    return err;
}

const db_backend db_postgres = {
    .name = "postgres",
    .connect = pg_connect,
    .close = pg_close,
    .query = pg_query,
    .ok = pg_ok,
    .exec_script = pg_exec_script,
    .begin_sql = "BEGIN",
};
