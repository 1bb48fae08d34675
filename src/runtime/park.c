/*
 * park.c -- what a connection whose handler waits a long time gives back.
 *
 * A straight-line WebSocket handler (while (kiln_ws_recv(ws, &m)) ...) may
 * wait for hours. Four things make such a connection cheap while it waits
 * (about 1.6 KB in all: the conn, the session, the coroutine record and two
 * packed copies; bench/README.md has the breakdown):
 *  1. Its head lives in the arena, not in the read buffer: a request that
 *     asks to upgrade gets a page-aligned arena of its own mapping
 *     (conn_upgrade_head) and its head bytes and every slice of c->http are
 *     moved into it (conn_head_to_arena) before the framework sees them;
 *     conn_upgrade (upgrade.c) then frees `in`, the response body buffer and
 *     the written output buffer.
 *  2. After every loop turn, at most twice a second, conn_park_idle parks
 *     every handler that has waited for its protocol for CONN_PARK_AFTER_MS:
 *     its coroutine's live stack (coro_park) and its arena (arena_park) are
 *     packed by zero runs into right-sized heap blocks, and their pages go
 *     back to the kernel and become PROT_NONE.
 *  3. conn_run puts the arena back (conn_unpark) and coro_resume the stack,
 *     at the same addresses, before the handler runs: it never sees it.
 *  4. Anything else on the loop thread that touches a parked page (a
 *     pointer to a handler's local or to its kiln_alloc memory kept in a
 *     shared list, say) faults; the worker's SIGSEGV handler asks
 *     conn_park_fault, which puts that stack or arena back, and the access
 *     goes on. The next sweep parks it again. A touch from another thread
 *     is a crash (worker.c), as it would be for any unmapped address.
 *
 * Only WAIT_PROTO is parked: such a handler waits inside kiln_ws_recv, whose
 * wake-up goes through the session and the conn. Other waits end soon (a
 * database answer) or have the loop write into the stack often (wait_fd's
 * record on the stack).
 *
 * Owns: nothing (it acts on connections, coroutines and arenas owned
 * elsewhere).
 * Must never: park a coroutine that is running or done; allocate or free in
 * conn_park_fault (a signal handler calls it); move a head the framework
 * already saw.
 */
#include "runtime/engine.h"

#include <strings.h>

bool conn_upgrade_head(conn *c)
{
    const http_request *h = &c->http;
    bool upgrade = false;
    for (size_t i = 0; i < h->num_headers && !upgrade; i++)
        upgrade = h->headers[i].name_len == 7 && strncasecmp(h->headers[i].name, "upgrade", 7) == 0;
    if (!upgrade) return false;
    /* Nothing lives in the arena yet: swap it for a page-aligned one. */
    conn_release_arena(c);
    arena_init_paged(&c->arena, 8192);
    c->arena_live = true;
    return true;
}

static void rebase(const char **p, const char *from, size_t n, const char *to)
{
    if (*p && (uintptr_t)*p >= (uintptr_t)from && (uintptr_t)*p <= (uintptr_t)from + n) *p = to + (*p - from);
}

/* A request that asks to upgrade (WebSocket) may keep its handler waiting
 * for hours: its head is copied into the arena and every slice of c->http
 * is moved there, before the framework sees any of it. Then nothing points
 * into `in`, and conn_upgrade frees it: an upgraded connection holds no
 * read buffer even while its handler still runs. Its arena is page-aligned
 * (arena_init_paged), so parking gives back all of it but the pages used. */
void conn_head_to_arena(conn *c)
{
    http_request *h = &c->http;
    const char *from = c->in.data;
    size_t n = c->head_len;
    char *to = arena_alloc(&c->arena, n + 1);
    memcpy(to, from, n);
    to[n] = '\0';
    rebase(&h->method, from, n, to);
    rebase(&h->target, from, n, to);
    rebase(&h->path, from, n, to);
    rebase(&h->query, from, n, to);
    rebase(&h->host, from, n, to);
    for (size_t i = 0; i < h->num_headers; i++) {
        rebase(&h->headers[i].name, from, n, to);
        rebase(&h->headers[i].value, from, n, to);
    }
    c->head_in_arena = true;
}

void conn_park_idle(worker *w)
{
    uint64_t now = loop_now_ms(w->loop);
    if (now < w->park_sweep_ms) return;
    w->park_sweep_ms = now + CONN_PARK_AFTER_MS / 2;
    for (conn *c = w->conns; c; c = c->next)
        if (!c->dead && c->co && c->state == CS_HANDLER && c->wait == WAIT_PROTO && !coro_done(c->co)
            && !coro_parked(c->co) && now - c->yielded_ms >= CONN_PARK_AFTER_MS && coro_park(c->co)) {
            /* The handler may still point into the head (`in`): it stays,
             * but its untouched tail goes back. Empty output buffers go
             * (the 101 had no body; a send allocates again). */
            if (c->in.data) kiln_release_pages(c->in.data + c->in.len, c->in.cap - c->in.len);
            if (c->out.len == 0) buf_free(&c->out);
            if (c->res_body.len == 0) buf_free(&c->res_body);
            /* The arena is packed aside (its pages go), or, when it grew
             * past its first block, its untouched pages go back. */
            if (c->arena_live && !arena_park(&c->arena)) arena_release_unused(&c->arena);
        }
}

void conn_unpark(conn *c)
{
    if (c->arena_live) arena_unpark(&c->arena);
}

/* A walk over every connection: a touch is rare (a broadcast over shared
 * records kept in handlers' memory, a GraphQL subscription's delivery), but
 * touching thousands of parked handlers at once costs O(n) each. An index
 * of the parked ranges would make it O(log n). */
bool conn_park_fault(worker *w, const void *addr)
{
    for (conn *c = w->conns; c; c = c->next) {
        if (c->co && coro_fault(c->co, addr)) return true;
        if (c->arena_live && arena_fault(&c->arena, addr)) return true;
    }
    return false;
}
