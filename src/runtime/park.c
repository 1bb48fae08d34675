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
 *     conn_park_fault, which finds the range in a sorted index of parked
 *     ranges (a binary search: below), puts that stack or arena back, and
 *     the access goes on. The next sweep parks it again. A touch from a
 *     pool thread (an offloaded call) is repaired by the loop for it
 *     ("touches from other threads", below); a touch of memory that is
 *     not parked is a crash (worker.c), as for any unmapped address.
 *
 * Only WAIT_PROTO is parked: such a handler waits inside kiln_ws_recv, whose
 * wake-up goes through the session and the conn. Other waits end soon (a
 * database answer) or have the loop write into the stack often (wait_fd's
 * record on the stack).
 *
 * Owns: the worker's index of parked ranges (w->park_ix); it acts on
 * connections, coroutines and arenas owned elsewhere.
 * Must never: park a coroutine that is running or done; allocate or free in
 * conn_park_fault (a signal handler calls it); move a head the framework
 * already saw.
 */
#include "runtime/engine.h"

#include <stdlib.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the index of parked ranges ------------------------------------------
 * The SIGSEGV handler must find, among thousands of parked connections, the
 * one whose stack or arena holds the faulting address: a walk over every
 * connection made a delivery to n idle handlers cost n faults of n steps
 * each. The worker keeps instead an array of the parked ranges sorted by
 * address; a fault is a binary search.
 *
 * Only the sweep parks, so the array is rebuilt (from the connections,
 * sorted) at the end of a sweep that parked anything: every range parked at
 * any moment is in it, and no two of its ranges overlap (they were all
 * parked at once). Between sweeps, ranges come back (a message, a fault, a
 * handler that returned): their entries stay, stale, and are harmless,
 * because a fault asks the entry's connection (coro_fault, arena_fault),
 * which looks at what that connection has parked now. A connection that is
 * freed clears its entries (conn_park_forget), so no entry ever names freed
 * memory. The rebuild allocates; the lookup never does (it runs in a signal
 * handler), and never runs while a rebuild is under way (faults come only
 * from the loop thread's own touches, and the rebuild touches nothing
 * parked). */
typedef struct park_ent {
    uintptr_t lo, hi;           /* [lo, hi): the parked range            */
    conn *c;                    /* its connection; NULL once freed       */
    uint32_t what;              /* 0: the stack, 1: the arena            */
} park_ent;

static loop_io remote_io;      /* the loop's ear for other threads' faults (below) */

static int ent_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const park_ent *)a)->lo, y = ((const park_ent *)b)->lo;
    return x < y ? -1 : x > y;
}

static void index_rebuild(worker *w)
{
    size_t n = 0, cap = 64;
    park_ent *ix = kiln_xmalloc(cap * sizeof *ix);
    for (conn *c = w->conns; c; c = c->next) {
        c->park_slot[0] = c->park_slot[1] = 0;
        uintptr_t lo, hi;
        for (uint32_t what = 0; what < 2; what++) {
            bool parked = what == 0 ? c->co && coro_parked_span(c->co, &lo, &hi)
                                    : c->arena_live && arena_parked_span(&c->arena, &lo, &hi);
            if (!parked) continue;
            if (n == cap) ix = kiln_xrealloc(ix, (cap *= 2) * sizeof *ix);
            ix[n++] = (park_ent){ lo, hi, c, what };
        }
    }
    qsort(ix, n, sizeof *ix, ent_cmp);
    for (size_t i = 0; i < n; i++) {
        KILN_ASSERT(i == 0 || ix[i - 1].hi <= ix[i].lo);
        ix[i].c->park_slot[ix[i].what] = (uint32_t)i + 1;
    }
    free(w->park_ix);
    w->park_ix = ix;
    w->park_n = (uint32_t)n;
}

void conn_park_forget(conn *c)
{
    worker *w = c->w;
    for (int i = 0; i < 2; i++)
        if (c->park_slot[i] && c->park_slot[i] <= w->park_n && w->park_ix[c->park_slot[i] - 1].c == c)
            w->park_ix[c->park_slot[i] - 1].c = NULL;
    c->park_slot[0] = c->park_slot[1] = 0;
}

void conn_park_free(worker *w)
{
    free(w->park_ix);
    w->park_ix = NULL;
    w->park_n = 0;
    if (remote_io.fd > 0) {
        loop_del(w->loop, &remote_io);
        close(remote_io.fd);
        remote_io.fd = 0;
    }
}

/* The entry whose range holds x (the last one that starts at or below it;
 * stale or not), or NULL. */
static const park_ent *find_ent(const worker *w, uintptr_t x)
{
    const park_ent *ix = w->park_ix;
    size_t lo = 0, hi = w->park_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix[mid].lo <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 || x >= ix[lo - 1].hi || !ix[lo - 1].c ? NULL : &ix[lo - 1];
}

bool conn_park_fault(worker *w, const void *addr)
{
    const park_ent *e = find_ent(w, (uintptr_t)addr);
    if (!e) return false;
    conn *c = e->c;
    if (e->what == 0) return c->co && coro_fault(c->co, addr);
    return c->arena_live && arena_fault(&c->arena, addr);
}

/* ---- touches from other threads ----------------------------------------------
 * A pool thread (an offloaded call) may read or write memory of a parked
 * handler: a shared record in its arena, a buffer on its stack. Only the
 * loop thread parks and unparks, so the faulting thread does not repair
 * anything itself: its SIGSEGV handler puts the address in a free slot
 * below, wakes the loop (an eventfd) and waits; the loop puts the memory
 * back (conn_park_fault, on its own thread, as for its own touches) and
 * answers; the access goes on. And no sweep parks anything while a pool
 * thread runs a job (offload_running): memory a job may be using is never
 * packed under it (a write between the packing and the unmapping would be
 * lost). The loop answers "go on" also for an address of an entry that is
 * no longer parked (the handler ran meanwhile); a thread that faults at
 * the same address again and again after such answers is a crash.
 * Everything here on the faulting side is async-signal-safe: atomics,
 * write, nanosleep. */
#define REMOTE_SLOTS 32
enum { SLOT_FREE, SLOT_TAKEN, SLOT_ASKED, SLOT_YES, SLOT_NO };
static struct { int state; const void *addr; } remote[REMOTE_SLOTS];

static void on_remote(loop_io *io, uint32_t events)
{
    (void)events;
    uint64_t v;
    while (read(io->fd, &v, sizeof v) > 0) {}
    worker *w = kiln_current_worker;
    for (int i = 0; i < REMOTE_SLOTS; i++) {
        if (__atomic_load_n(&remote[i].state, __ATOMIC_ACQUIRE) != SLOT_ASKED) continue;
        const void *addr = remote[i].addr;
        bool ok = conn_park_fault(w, addr) || find_ent(w, (uintptr_t)addr);   /* back already: go on */
        __atomic_store_n(&remote[i].state, ok ? SLOT_YES : SLOT_NO, __ATOMIC_RELEASE);
    }
}

void conn_park_remote_init(worker *w)
{
    remote_io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (remote_io.fd < 0) KILN_PANIC("eventfd failed");
    remote_io.on_event = on_remote;
    loop_add(w->loop, &remote_io, EPOLLIN);
}

bool conn_park_fault_remote(const void *addr)
{
    static __thread const void *last;
    static __thread int again;
    if (remote_io.fd <= 0) return false;
    if (addr == last && ++again > 8) return false;       /* answered "go on" and faulted anyway */
    if (addr != last) again = 0;
    last = addr;
    const struct timespec nap = { 0, 50 * 1000 };
    int i = 0;
    for (;;) {                                            /* a free slot */
        int want = SLOT_FREE;
        if (__atomic_compare_exchange_n(&remote[i].state, &want, SLOT_TAKEN, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            break;
        if (++i == REMOTE_SLOTS) { i = 0; nanosleep(&nap, NULL); }
    }
    remote[i].addr = addr;
    __atomic_store_n(&remote[i].state, SLOT_ASKED, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(remote_io.fd, &one, sizeof one) < 0) { /* counter full: a wake is pending anyway */ }
    int st;
    while ((st = __atomic_load_n(&remote[i].state, __ATOMIC_ACQUIRE)) == SLOT_ASKED) nanosleep(&nap, NULL);
    __atomic_store_n(&remote[i].state, SLOT_FREE, __ATOMIC_RELEASE);
    return st == SLOT_YES;
}

/* ---- the sweep -------------------------------------------------------------- */

void conn_park_idle(worker *w)
{
    uint64_t now = loop_now_ms(w->loop);
    if (now < w->park_sweep_ms) return;
    /* Not under a running job's feet (see "touches from other threads"):
     * the sweep comes at the next turn with no job running. */
    if (w->pool && offload_running(w->pool)) return;
    w->park_sweep_ms = now + CONN_PARK_AFTER_MS / 2;
    bool parked = false;
    for (conn *c = w->conns; c; c = c->next) {
        if (c->dead || !c->co || c->state != CS_HANDLER || c->wait != WAIT_PROTO || coro_done(c->co)
            || now - c->yielded_ms < CONN_PARK_AFTER_MS)
            continue;
        /* Each of the two on its own: a fault may have put back one only. */
        bool stack = !coro_parked(c->co) && coro_park(c->co);
        if (stack) {
            parked = true;
            /* The handler may still point into the head (`in`): it stays,
             * but its untouched tail goes back. Empty output buffers go
             * (the 101 had no body; a send allocates again). */
            if (c->in.data) kiln_release_pages(c->in.data + c->in.len, c->in.cap - c->in.len);
            if (c->out.len == 0) buf_free(&c->out);
            if (c->res_body.len == 0) buf_free(&c->res_body);
        }
        /* The arena is packed aside (its pages go), or, when it grew past
         * its first block, its untouched pages go back: with the stack, or
         * again once a fault put a parked arena back (it kept its copy). */
        if (c->arena_live && !c->arena.off && (stack || c->arena.parked)) {
            if (arena_park(&c->arena)) parked = true;
            else arena_release_unused(&c->arena);
        }
    }
    if (parked) index_rebuild(w);
}

void conn_unpark(conn *c)
{
    if (c->arena_live) arena_unpark(&c->arena);
}
