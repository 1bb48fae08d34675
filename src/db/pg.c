/*
 * pg.c -- the PostgreSQL backend, on libpq's asynchronous API: connecting,
 * reading results into kiln_rows, classifying errors, migration scripts.
 * Sending statements and waiting for their results is pipeline.c's job
 * (libpq pipeline mode, prepared statements cached per connection).
 *
 * Connecting (PQconnectStart/PQconnectPoll) never blocks the worker:
 * whenever libpq would wait, the request's coroutine waits for the socket on
 * the event loop (wait_fd) and the worker serves other requests. Without a
 * request (migrations) the same calls block, which is fine there.
 *
 * `?` placeholders are rewritten to $1..$n (db.c). Parameters go in text
 * format; a text parameter holding a NUL byte cannot be sent to PostgreSQL
 * and is refused as invalid data (400) before anything is sent.
 *
 * A restart of PostgreSQL: statements in flight fail (503, db.c); a pooled
 * connection whose socket turns readable while nothing is in flight was
 * closed by the server and is flagged broken (pg_ok) and replaced, so
 * requests after the restart succeed without restarting Kiln. Server
 * notices are dropped.
 *
 * Owns: one PGconn per db_conn. Must never: leave a half-read result on a
 * connection it hands back (a broken connection is flagged and dropped by
 * db.c).
 */
#include "db/pg.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PG_CONNECT_TIMEOUT_MS 5000

/* Wait for the socket: on the loop if we have a request, else poll(). */
static int wait_sock(kiln_req *req, int fd, bool for_write, unsigned timeout_ms)
{
    if (req && wait_self()) return wait_fd(fd, for_write ? EPOLLOUT : EPOLLIN, timeout_ms);
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

static int group_size(void)
{
    const char *e = getenv("KILN_PG_GROUP");
    int n = e && *e ? atoi(e) : PG_GROUP_DEFAULT;
    return n < 1 ? 1 : n > PG_GROUP_MAX ? PG_GROUP_MAX : n;
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
    c->wfd = -1;
    c->group_max = group_size();
    pg_cache_init(c);
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
    pg_pipe_close(c);
    pg_cache_free(c);
    if (c->wfd >= 0) close(c->wfd);
    PQfinish(c->pg);
    free(c);
}

/* Usable? An idle connection has nothing to read: when its socket is
 * readable the server has closed it or is closing it (a restart sends
 * "terminating connection due to administrator command", then EOF), so it
 * is dropped here, before a request sends a statement into it. This is what
 * lets the first requests after a PostgreSQL restart succeed instead of
 * failing on a stale pooled connection. (With statements in flight, the
 * request reading for them finds out, pipeline.c.) */
static bool pg_ok(db_conn *c)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) return false;
    if (c->head) return true;
    /* It emptied during this loop turn (the same millisecond): what a
     * poll() would catch could only have arrived in that instant, and a
     * poll() per borrow is a system call per request under load. */
    if (c->idle_at && c->idle_at == wait_now_ms()) return true;
    struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
    if (p.fd < 0 || poll(&p, 1, 0) != 0) {
        c->broken = true;
        return false;
    }
    return true;
}

kiln_db_status pg_classify(const char *sqlstate)
{
    if (!sqlstate) return KILN_DB_UNAVAILABLE;
    if (!strncmp(sqlstate, "23", 2)) return KILN_DB_CONFLICT;        /* integrity constraint */
    if (!strncmp(sqlstate, "22", 2)) return KILN_DB_INVALID;         /* data exception       */
    if (!strncmp(sqlstate, "08", 2) || !strncmp(sqlstate, "57P", 3) || !strncmp(sqlstate, "53", 2))
        return KILN_DB_UNAVAILABLE;                                   /* connection, shutdown, resources */
    return KILN_DB_ERROR;
}

void pg_take_result(db_conn *c, arena *a, PGresult *res, kiln_rows *out)
{
    ExecStatusType st = PQresultStatus(res);
    if (out->status != KILN_DB_OK && out->error) return;   /* keep the first error */
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
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
    if (st == PGRES_PIPELINE_ABORTED) {
        /* An earlier command of the same sync group failed: its error is
         * the one to report (kept above); this only happens without one
         * when a Prepare sent for someone else failed. */
        out->status = KILN_DB_ERROR;
        out->error = "statement not run: an earlier statement of its group failed";
        return;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    out->status = pg_classify(state);
    out->error = arena_strdup(a, msg ? msg : PQerrorMessage(c->pg));
    if (PQstatus(c->pg) != CONNECTION_OK) c->broken = true;
}

bool pg_dollar_sql(arena *a, const char *sql, size_t n, const char **q, kiln_rows *out)
{
    size_t nph = 0;
    *q = db_rewrite_placeholders(a, sql, &nph);
    if (nph == n) return true;
    out->status = KILN_DB_ERROR;
    out->error = arena_strdup(a, "parameter count does not match the '?' placeholders");
    return false;
}

/* An integer parameter as decimal text (snprintf's cost showed in the
 * profile of GET by id). */
static const char *int_text(arena *a, int64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *d = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--d = '\0';
    do *--d = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) *--d = '-';
    char *out = arena_alloc(a, (size_t)(e - d));
    memcpy(out, d, (size_t)(e - d));
    return out;
}

bool pg_text_values(arena *a, const kiln_param *p, size_t n, const char ***vals_out, kiln_rows *out)
{
    const char **vals = arena_alloc(a, (n ? n : 1) * sizeof *vals);
    for (size_t i = 0; i < n; i++) {
        switch (p[i].type) {
        case 1: vals[i] = int_text(a, p[i].i); break;
        case 2: { char *b = arena_alloc(a, 32); snprintf(b, 32, "%.17g", p[i].d); vals[i] = b; break; }
        case 3:
            if (memchr(p[i].s, '\0', p[i].n)) {
                out->status = KILN_DB_INVALID;
                out->error = "text values may not contain NUL bytes";
                return false;
            }
            vals[i] = arena_strndup(a, p[i].s, p[i].n);
            break;
        default: vals[i] = NULL; break;
        }
    }
    *vals_out = vals;
    return true;
}

static char *pg_exec_script(db_conn *c, const char *sql)
{
    pg_pipe_leave(c);
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

/* Pool size and pipeline depth, measured with bench/pg.sh's sweep
 * (bench/README.md): reads were flat across 1-8 connections and depth 16
 * or more, within the noise of a shared machine; writes need several
 * connections (a connection's commits wait for their WAL flush one after
 * the other), so four connections per worker, each shared by up to 16
 * requests: 64 requests in flight per worker. */
const db_backend db_postgres = {
    .name = "postgres",
    .connect = pg_connect,
    .close = pg_close,
    .query = pg_pipe_query,
    .query_many = pg_pipe_query_many,
    .ok = pg_ok,
    .exec_script = pg_exec_script,
    .begin_sql = "BEGIN",
    .pool_default = 4,
    .depth_default = 16,
};
