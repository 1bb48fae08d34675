/*
 * pipeline.c -- PostgreSQL statements in libpq pipeline mode, prepared once
 * per connection, their results handed to the requests that wait for them.
 *
 * A pooled connection is shared by several requests at once (db.c decides
 * who, up to the pipeline depth). Each statement is sent as
 *     [Parse "kN" (first use on this connection)] Bind/Execute "kN" Sync
 * and appended to the connection's FIFO of operations in flight. The Sync
 * after every statement is the point: each statement is its own implicit
 * transaction, so one request's failing statement aborts nothing but itself
 * (PostgreSQL skips to the next Sync after an error), and results come back
 * in the order the statements went out, which is the order of the FIFO.
 * A transaction has its connection to itself (db.c), so BEGIN ... COMMIT
 * run on it as ordinary statements and keep their meaning.
 *
 * Pushing: libpq 15 flushes at every Sync (PQpipelineSync sends), so a
 * statement would cost a send() of its own, and each send wakes a backend
 * that answers it alone. Instead statements are pushed once per connection
 * per loop turn: the first request that queues on an unpushed connection
 * becomes its flusher, lets the loop finish the turn (every other request
 * served in this turn queues behind it), then flushes (push). Each backend
 * so receives the turn's statements in one segment and answers them in one
 * run, and a request's kiln_db_send batch goes out whole. Grouped SELECTs
 * (below) have no Sync before the push, so libpq holds them in its buffer
 * and the push's Sync sends them; the socket is TCP_CORKed only when
 * something would send earlier -- a Sync of its own (a write), a full
 * group, or another request's PQconsumeInput (which sends what libpq
 * holds) -- and uncorked by the push. (The profile of GET by id showed the
 * cork/uncork pair at 10% of the worker's time when done every turn.) On a
 * Unix socket (no cork) those early Syncs go out with a send each.
 *
 * Sync groups: a Sync per statement also costs the server a commit and a
 * flush of its own per statement. Plain SELECTs (plain_select: no INTO,
 * no data-modifying WITH) therefore share one Sync -- the statements queued
 * in one loop turn, KILN_PG_GROUP (32) at most: the group is closed by its
 * push, by any other statement (which keeps a Sync of its own, so writes
 * stay their own transactions), or when full. The statements of a group are
 * one implicit transaction: a failing statement makes the server skip the
 * rest of the group (PIPELINE_ABORTED) and roll back what ran before it.
 * So a grouped statement is complete only at its group's Sync, never
 * earlier, and when one of the group failed by itself, every other one --
 * skipped, or run and rolled back (a SELECT may call a function that
 * writes) -- is marked to be sent again by its own request after its wait
 * (run_stmts). One request's error thus fails nothing of another's and
 * undoes nothing that was answered.
 *
 * Reading: requests waiting on a connection take turns reading its socket
 * for everyone (wait_op: one waits in wait_fd, the rest sleep); pump() reads
 * the results into the waiting requests' kiln_rows (in their arenas) and
 * wakes each request whose statement is complete, and a reader whose own
 * statement is done hands reading to the next waiter. When its 504 goes out
 * meanwhile, a request whose statement still waits behind others' gives up
 * its place (give_up); one whose statement is running waits for it, as its
 * rows are written into its arena. Without a coroutine (migrations, an
 * end-of-request rollback) the same pump runs under poll().
 *
 * The statement cache (pgcache.c holds the table; this file decides when
 * an entry is made, evicted or forgotten) is keyed by the SQL text exactly
 * as the handler wrote it. It is bounded (least recently used entries are DEALLOCATEd), and it
 * forgets what the server forgot: a new connection starts empty; DISCARD
 * ALL / DEALLOCATE sent through kiln_db_query empties it (statements sent
 * after it are prepared again, after it in the same pipeline); a statement
 * the server no longer knows (26000) or whose result shape changed under it
 * (0A000 "cached plan must not change result type", after an ALTER TABLE or
 * a migration) is dropped and the statement prepared and sent again once
 * (inside a transaction that cannot help: the failure aborted it, and its
 * first error is reported).
 *
 * A lost connection (EOF, reset, the server shutting down) completes every
 * operation in flight with KILN_DB_UNAVAILABLE at once (503 in db.c) and
 * marks the connection broken; no request is left waiting.
 *
 * Owns: the operation FIFO of each db_conn, and when its statement cache
 * changes.
 * Must never: suspend inside pump(), complete an
 * operation out of order, or let a request return before its operation is
 * done (its rows live in that request's arena).
 */
#include "db/pg.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct pg_op {
    pg_op *next;
    kiln_rows *out;
    arena *a;
    conn *waiter;              /* the request to wake, or NULL              */
    bool done;
    bool detached;             /* nobody reads it (DEALLOCATE): freed when done */
    bool prepares;             /* its first command is the Parse of `name`  */
    bool prepare_failed;
    bool synced;               /* a Sync follows it (else: done at its end) */
    bool aborted;              /* skipped for another's error: send again   */
    bool solo;                 /* sent again: a Sync of its own, never grouped */
    unsigned name;             /* statement used (0: unnamed, not cached)   */
    int nres;                  /* results read so far                       */
    int ncmds, ended;          /* its commands (Parse, Execute), and ended  */
    char sqlstate[6];          /* of the first error                        */
    kiln_rows own;             /* detached ops read into this               */
};

static void pump(db_conn *c);
static void cache_drop(db_conn *c, unsigned name, bool deallocate);

static bool enter_pipeline(db_conn *c)
{
    if (!c->pipelined) {
        if (!PQenterPipelineMode(c->pg)) return false;
        c->pipelined = true;
    }
    return true;
}

/* TCP_CORK on: what libpq sends stays in the socket until cork(c, false)
 * pushes it (or a full segment is ready). Not TCP: never tried again. */
static void cork(db_conn *c, bool on)
{
    if (c->corked == on || c->cork_failed) return;
    int v = on;
    if (setsockopt(PQsocket(c->pg), IPPROTO_TCP, TCP_CORK, &v, sizeof v) != 0) {
        c->cork_failed = on;          /* a Unix socket; off failing: closed */
        c->corked = false;
        return;
    }
    c->corked = on;
}

void pg_pipe_leave(db_conn *c)
{
    KILN_ASSERT(!c->head);
    if (c->pipelined && PQexitPipelineMode(c->pg)) c->pipelined = false;
}

/* ---- completing operations ------------------------------------------ */

static void complete_head(db_conn *c)
{
    pg_op *op = c->head;
    c->head = op->next;
    if (!c->head) {
        c->tail = NULL;
        c->idle_at = wait_now_ms();
    }
    op->done = true;
    if (op->detached) { free(op); return; }
    /* Wake its request -- unless it is the one running (the reader): a
     * wake-up armed for ourselves would fire during our next, unrelated
     * wait (an offloaded call, say) and end it early. */
    if (op->waiter && op->waiter != wait_self()) wait_wake_at(op->waiter, 0);
}

/* The connection is gone: every operation in flight fails now. */
static void lost(db_conn *c)
{
    c->broken = true;
    char m[300];
    snprintf(m, sizeof m, "lost the PostgreSQL connection: %s", PQerrorMessage(c->pg));
    m[strcspn(m, "\n")] = '\0';
    while (c->head) {
        pg_op *op = c->head;
        if (!op->detached && (op->out->status == KILN_DB_OK || !op->out->error)) {
            op->out->status = KILN_DB_UNAVAILABLE;
            op->out->error = arena_strdup(op->a, m);
        }
        complete_head(c);
    }
}

void pg_pipe_close(db_conn *c)
{
    if (c->head) lost(c);
}

/* The operation whose results come next: the first in flight that has
 * not read all its commands' results (a grouped one that has stays in the
 * FIFO until its group's Sync). */
static pg_op *receiving(db_conn *c)
{
    pg_op *op = c->head;
    while (op && op->ended >= op->ncmds && !op->synced && op->next) op = op->next;
    return op;
}

/* A Sync's result: complete every operation up to the one it belongs to
 * (a group, or one statement). When a member of a group failed by itself,
 * the group's transaction was rolled back: every other member must run
 * again (aborted), whether it was skipped or ran. */
static void complete_sync(db_conn *c)
{
    bool failed = false;
    for (pg_op *op = c->head; op; op = op->next) {
        if (op->sqlstate[0] && !op->aborted) failed = true;
        if (op->synced) break;
    }
    while (c->head) {
        pg_op *op = c->head;
        bool last = op->synced;
        if (failed && !op->sqlstate[0]) op->aborted = true;
        complete_head(c);
        if (last) break;
    }
}

/* Read what the socket has and hand out every complete result. Never
 * suspends. libpq ends each command's results with a NULL; an operation is
 * complete at the result of the Sync that follows it (its own, or its
 * group's). */
static void drain(db_conn *c)
{
    bool after_result = false;
    int spurious = 0;
    while (c->head && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        pg_op *op = receiving(c);
        if (!r) {
            if (!after_result) {             /* nothing more to read now */
                if (++spurious > 1) break;
                continue;
            }
            after_result = false;
            op->ended++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            complete_sync(c);
            continue;
        }
        after_result = true;
        op->nres++;
        bool failed = st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED;
        if (failed && !op->sqlstate[0]) {
            const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(op->sqlstate, sizeof op->sqlstate, "%s", s ? s : "");
            if (op->prepares && op->nres == 1) op->prepare_failed = true;
        }
        if (st == PGRES_PIPELINE_ABORTED && !op->sqlstate[0]) {
            op->aborted = true;                    /* another's error: not run */
            if (op->prepares && op->nres == 1) op->prepare_failed = true;
        }
        if (!op->detached) pg_take_result(c, op->a, r, op->out);
        else if (op->prepare_failed) cache_drop(c, op->name, false);
        PQclear(r);
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) lost(c);
}

static void pump(db_conn *c)
{
    /* PQconsumeInput first sends what libpq holds: statements queued for
     * this turn's push must wait for it (cork). */
    if (c->flushing) cork(c, true);
    if (!PQconsumeInput(c->pg)) { lost(c); return; }
    drain(c);
}

/* ---- sending -------------------------------------------------------- */

/* A Sync now, before this turn's push: libpq 15 sends at every Sync, so
 * the socket is corked first (the bytes wait for the push). */
static bool sync_early(db_conn *c)
{
    cork(c, true);
    return PQpipelineSync(c->pg);
}

/* End the open group of SELECTs: its Sync belongs to its last operation.
 * pushing: this is the push itself (no cork needed: the Sync's send is
 * the push). */
static bool close_group(db_conn *c, bool pushing)
{
    if (!c->group_len) return true;
    c->group_len = 0;
    if (!(pushing ? PQpipelineSync(c->pg) : sync_early(c))) return false;
    c->tail->synced = true;
    return true;
}

/* A statement that may share a Sync with others: a SELECT that writes no
 * table (SELECT ... INTO creates one). Conservative: any "into" in the text
 * disqualifies it. */
static bool plain_select(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(') sql++;
    if (strncasecmp(sql, "SELECT", 6)) return false;
    char ch = sql[6];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_') return false;
    return !strcasestr(sql, "into");
}

/* Send "DEALLOCATE k<name>", an operation nobody waits for (its results
 * are read and dropped). */
static bool send_detached(db_conn *c, unsigned name)
{
    char sql[40];
    snprintf(sql, sizeof sql, "DEALLOCATE k%u", name);
    pg_op *op = kiln_xcalloc(1, sizeof *op);
    op->detached = true;
    op->out = &op->own;
    op->ncmds = 1;
    op->synced = true;
    if (!close_group(c, false) || !PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) || !sync_early(c)) {
        free(op);
        return false;
    }
    if (c->tail) c->tail->next = op; else c->head = op;
    c->tail = op;
    return true;
}

/* Forget statement `name` (pgcache.c); deallocate: also drop it on the
 * server (it is still there). Statements already in flight under that name
 * were sent before the DEALLOCATE, so they still find it. */
static void cache_drop(db_conn *c, unsigned name, bool deallocate)
{
    if (!pg_cache_has(c, name)) return;
    if (deallocate && !send_detached(c, name)) lost(c);
    pg_cache_forget(c, name);
}

/* Queue one statement. false: the connection failed while sending (the
 * caller completes `op` as unavailable). An op refused before sending
 * (bad parameters) is left done with its error. */
static bool send_op(db_conn *c, arena *a, const char *sql, const kiln_param *p, size_t n, pg_op *op,
                    const char *trace)
{
    const char *q;
    const char **vals;
    if (!pg_text_values(a, p, n, &vals, op->out)) {
        op->done = true;
        return true;
    }
    if (c->broken || !enter_pipeline(c)) return false;
    int ok = 1;
    bool plain = false;
    bool resets = pg_resets_statements(sql);
    pg_stmt *s = NULL;
    uint32_t h = 0;
    if (c->cache_max && !resets) {
        h = pg_cache_hash(sql);
        s = pg_cache_find(c, sql, h);
        if (s && s->nparams != n) {          /* what pg_dollar_sql would say */
            pg_dollar_sql(a, sql, n, &q, op->out);
            op->done = true;
            return true;
        }
    }
    if (!s && !pg_dollar_sql(a, sql, n, &q, op->out)) {
        op->done = true;
        return true;
    }
    if (!c->cache_max || resets) {
        /* An unnamed statement is parsed anew anyway: the request's trace id
         * rides along as a comment (sqlcommenter's style, on its own line so
         * a trailing "--" cannot swallow it), and pg_stat_activity names the
         * trace. Prepared statements (the default) are keyed by their text,
         * so there it would cost the cache: no comment. */
        if (trace) {
            size_t ql = strlen(q), tl = strlen(trace);
            char *t = arena_alloc(a, ql + tl + 17);
            snprintf(t, ql + tl + 17, "%s\n/*trace_id='%s'*/", q, trace);
            q = t;
        }
        plain = !resets && !op->solo && plain_select(sql);
        ok = (plain || close_group(c, false)) && PQsendQueryParams(c->pg, q, (int)n, NULL, vals, NULL, NULL, 0);
        if (resets) pg_cache_clear(c);
    } else {
        if (s) plain = s->plain_select;
        else plain = plain_select(sql);
        plain = plain && !op->solo;
        if (!plain && !close_group(c, false)) return false;
        if (!s) {
            pg_stmt *victim = pg_cache_victim(c);
            if (victim) {
                cache_drop(c, victim->name, true);
                if (c->broken) return false;
            }
            s = pg_cache_add(c, sql, h, n, plain_select(sql));
            op->prepares = true;
            op->ncmds = 2;
            ok = PQsendPrepare(c->pg, s->label, q, (int)n, NULL);
        }
        pg_cache_use(c, s);
        op->name = s->name;
        ok = ok && PQsendQueryPrepared(c->pg, s->label, (int)n, vals, NULL, NULL, 0);
    }
    if (!ok) return false;
    if (plain && c->group_max > 1) {
        c->group_len++;                        /* its Sync comes later */
    } else {
        if (!sync_early(c)) return false;
        op->synced = true;
    }
    if (c->tail) c->tail->next = op; else c->head = op;
    c->tail = op;
    if (c->group_len >= c->group_max) return close_group(c, false);
    return true;
}

static bool in_coro(kiln_req *req)
{
    return req && wait_self();
}

/* The request's 504 went out (its route's max duration) while `op` still
 * waited behind other requests' statements: the request gives up its place
 * instead of waiting on. The statement was sent and will still run; its
 * results are read into a detached copy and dropped. (A statement already
 * running, at the head, is waited for, like any work in flight.) */
static void give_up(db_conn *c, pg_op *op)
{
    pg_op *h = kiln_xcalloc(1, sizeof *h);
    *h = *op;
    h->detached = true;
    h->out = &h->own;
    h->a = NULL;
    h->waiter = NULL;
    for (pg_op **pp = &c->head; *pp; pp = &(*pp)->next)
        if (*pp == op) { *pp = h; break; }
    if (c->tail == op) c->tail = h;
    op->done = true;
    op->out->status = KILN_DB_UNAVAILABLE;
    op->out->error = "the request ended while waiting for the database";
}

/* Is an operation of `me` at the head (running, its rows still to come)? */
static bool mine_at_head(db_conn *c, conn *me)
{
    return c->head && c->head->waiter == me && !c->head->detached;
}

/* Nobody reads the socket, yet statements are in flight: wake the first
 * request waiting for one of them; it reads for everyone (wait_op). */
static void hand_off(db_conn *c)
{
    if (c->reading) return;
    for (pg_op *op = c->head; op; op = op->next)
        if (!op->detached && op->waiter && op->waiter != wait_self()) { wait_wake_at(op->waiter, 0); return; }
}

/* From a request's coroutine: wait until `last` (and whatever of ours runs
 * at the head) is done. One waiting request at a time reads the socket for
 * all (wait_fd, then pump: every completed operation wakes its request);
 * the others sleep until their operation is done or they are asked to read
 * on. When the request's 504 goes out meanwhile, what it has queued behind
 * others is given up (give_up). */
static void wait_op(db_conn *c, pg_op *last)
{
    conn *me = wait_self();
    bool gave = false;
    while (!last->done || mine_at_head(c, me)) {
        if (!c->reading) {
            c->reading = true;
            wait_fd(PQsocket(c->pg), EPOLLIN, 0);
            c->reading = false;
            pump(c);
            continue;
        }
        wait_suspend(WAIT_QUEUE);
        if (!gave && !last->done && wait_gave_up(me)) {
            gave = true;
            for (pg_op *op = c->head ? c->head->next : NULL, *next; op; op = next) {
                next = op->next;
                if (op->waiter == me && !op->detached) give_up(c, op);
            }
        }
    }
    hand_off(c);
}

/* Push the queued bytes out (waiting while the socket is full), then
 * uncork. */
static void push(db_conn *c, kiln_req *req)
{
    if (!c->broken && !close_group(c, true)) lost(c);
    for (;;) {
        int f = c->broken ? -1 : PQflush(c->pg);
        if (f == 0) break;
        if (f < 0) { lost(c); break; }
        /* The socket is full. PQflush read what the server sent meanwhile;
         * hand that out, then wait until we can write again. */
        drain(c);
        if (in_coro(req)) {
            if (c->wfd < 0) c->wfd = dup(PQsocket(c->pg));
            if (c->wfd < 0) KILN_PANIC("dup of the PostgreSQL socket failed");
            wait_fd(c->wfd, EPOLLOUT, 0);
        } else {
            struct pollfd pf = { .fd = PQsocket(c->pg), .events = POLLOUT | POLLIN };
            poll(&pf, 1, -1);
            if (pf.revents & POLLIN) pump(c);
        }
    }
    if (!c->broken) cork(c, false);
}

/* Push what is queued, then wait until `last` is done. On a coroutine the
 * push waits for the end of the loop turn (the design comment's flusher),
 * unless another request already flushes this connection: it pushes ours
 * too (it flushes until libpq's buffer is empty). */
static void flush_and_wait(db_conn *c, kiln_req *req, pg_op *last)
{
    if (in_coro(req)) {
        if (!c->flushing) {
            conn *me = wait_self();
            c->flushing = true;
            wait_wake_at(me, 0);              /* after this turn's events */
            wait_suspend(WAIT_QUEUE);
            wait_wake_cancel(me);             /* woken early (a 504): no stray wake-up */
            push(c, req);
            c->flushing = false;
        }
    } else {
        push(c, req);
    }
    /* Results already read by libpq (while flushing) trigger no event. */
    drain(c);
    if (in_coro(req)) wait_op(c, last);
    else {
        while (!last->done) {
            struct pollfd pf = { .fd = PQsocket(c->pg), .events = POLLIN };
            if (pf.fd < 0 || poll(&pf, 1, -1) < 0) { lost(c); break; }
            pump(c);
        }
    }
}

static void op_init(pg_op *op, kiln_req *req, arena *a, kiln_rows *out)
{
    memset(op, 0, sizeof *op);
    op->out = out;
    op->a = a;
    op->waiter = in_coro(req) ? wait_self() : NULL;
    op->ncmds = 1;
}

/* Failed because the server no longer has the statement as we prepared
 * it: worth preparing again and retrying once. (Inside a transaction the
 * failure aborted it, and the retry fails with 25P02: run_stmts then keeps
 * the first error. libpq cannot tell us here: in pipeline mode
 * PQtransactionStatus says "active" while later statements are queued.) */
static bool stale(db_conn *c, pg_op *op)
{
    if (!op->name || c->broken) return false;
    if (!strcmp(op->sqlstate, "26000")) {              /* no such prepared statement */
        cache_drop(c, op->name, false);                /* (each heals on its own) */
        return true;
    }
    if (!strcmp(op->sqlstate, "0A000") && op->out->error &&
        strstr(op->out->error, "cached plan must not change result type")) {
        cache_drop(c, op->name, true);
        return true;
    }
    return false;
}

/* After an operation finished: a Parse that failed leaves no statement. */
static void settle(db_conn *c, pg_op *op)
{
    if (op->prepare_failed) cache_drop(c, op->name, false);
}

/* Rounds of sending again what another's error made the server skip: each
 * round runs at least the first of them, so this bound is only reached
 * when other requests keep failing statements in the same groups. */
#define PG_RESEND_ROUNDS 8

/* Send statements todo[0..m) of st (fresh results), push, wait for them. */
static void send_and_wait(db_conn *c, kiln_req *req, arena *a, db_stmt *st, pg_op *ops,
                          const size_t *todo, size_t m, const char *trace, bool solo)
{
    pg_op *last = NULL;
    for (size_t j = 0; j < m; j++) {
        size_t i = todo[j];
        memset(st[i].out, 0, sizeof *st[i].out);
        op_init(&ops[i], req, a, st[i].out);
        ops[i].solo = solo;
        if (!send_op(c, a, st[i].sql, st[i].p, st[i].n, &ops[i], trace)) {
            lost(c);                       /* fails what is in flight ... */
            for (size_t k = j; k < m; k++) /* ... and what was not sent   */
                if (!ops[todo[k]].done) {
                    ops[todo[k]].out->status = KILN_DB_UNAVAILABLE;
                    ops[todo[k]].out->error = "lost the PostgreSQL connection";
                    ops[todo[k]].done = true;
                }
            break;
        }
        if (!ops[i].done) last = &ops[i];
    }
    if (last) flush_and_wait(c, req, last);
    else if (c->corked || c->group_len) push(c, req);   /* a DEALLOCATE queued on its own */
}

/* Send todo[0..m) until none was skipped for another's error; keeps in
 * todo what still was after the last round, and returns how many. */
static size_t send_until_run(db_conn *c, kiln_req *req, arena *a, db_stmt *st, pg_op *ops,
                             size_t *todo, size_t m, const char *trace)
{
    for (int round = 0; m && round < PG_RESEND_ROUNDS && !c->broken; round++) {
        /* A statement sent again goes with a Sync of its own: another
         * group's failure cannot roll it back a second time. */
        send_and_wait(c, req, a, st, ops, todo, m, trace, round > 0);
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            settle(c, &ops[todo[j]]);
            if (ops[todo[j]].aborted) todo[k++] = todo[j];
        }
        m = k;
    }
    for (size_t j = 0; j < m; j++) {
        kiln_rows *out = st[todo[j]].out;
        if (c->broken) {                            /* skipped, then the connection went */
            out->status = KILN_DB_UNAVAILABLE;
            out->error = "lost the PostgreSQL connection";
        } else {                                    /* never: a resend runs alone */
            out->status = KILN_DB_ERROR;
            out->error = "the statement was rolled back by another statement's failure";
        }
    }
    return m;
}

static void run_stmts(db_conn *c, kiln_req *req, arena *a, db_stmt *st, size_t n)
{
    const char *trace = req ? kiln_trace_id(req) : NULL;
    pg_op *ops = arena_alloc(a, (n ? n : 1) * sizeof *ops);
    size_t *todo = arena_alloc(a, (n ? n : 1) * sizeof *todo);
    for (size_t i = 0; i < n; i++) todo[i] = i;
    send_until_run(c, req, a, st, ops, todo, n, trace);
    for (size_t i = 0; i < n; i++) {
        if (!stale(c, &ops[i])) continue;
        /* Once more, freshly prepared (one at a time: this is rare). */
        kiln_rows first = *st[i].out;
        size_t one = i;
        send_until_run(c, req, a, st, ops, &one, 1, trace);
        if (!strcmp(ops[i].sqlstate, "25P02")) *st[i].out = first;   /* in an aborted transaction */
    }
}

void pg_pipe_query(db_conn *c, kiln_req *req, arena *a, const char *sql,
                   const kiln_param *p, size_t n, kiln_rows *out)
{
    db_stmt st = { .sql = sql, .p = p, .n = n, .out = out };
    run_stmts(c, req, a, &st, 1);
}

void pg_pipe_query_many(db_conn *c, kiln_req *req, arena *a, db_stmt *st, size_t n)
{
    run_stmts(c, req, a, st, n);
}
