/*
 * promise.c -- JavaScript's promises and microtask queue, as the
 * ECMAScript spec defines them (27.2: PerformPromiseThen, the promise
 * resolve functions, NewPromiseReactionJob, NewPromiseResolveThenableJob,
 * Promise.all), for one GraphQL execution: the loader's deferred fields
 * (exec_defer.c) and the batches (loader.c) build the same promises
 * graphql-js and dataloader build, and their handlers run in the same
 * order, job by job.
 *
 * Owns: the promises, reactions and jobs of one execution (its arena).
 * Must never: run a job out of first-in-first-out order, settle a promise
 * twice, or call a handler synchronously from jp_then (a settled
 * promise's reaction is a job, as in JS).
 */
#include "graphql/promise.h"

#include <string.h>

enum { PENDING, FULFILLED, REJECTED };

/* A reaction (PromiseReaction) is also its own job: it waits in its
 * promise's list, and when the promise settles the whole list moves to
 * the end of the queue at once (the reactions keep their order), so a
 * settled promise costs no copy and no job allocation. A
 * resolve-thenable job is a reaction too (`adopt`), which becomes, when
 * it runs, the pass-through reaction its .then registers. */
typedef struct reaction {
    struct reaction *next;      /* in its promise's list, then the queue  */
    jp *src;                    /* the promise it reacts to              */
    jp *derived;                /* NULL: nobody can observe it           */
    jp_fn *ok, *err;            /* NULL: pass on                         */
    void *ctx;
    uint32_t hops;              /* pass-through .then()s still to go
                                   before the handler (jp_then_after)    */
    bool adopt;                 /* a resolve-thenable job: derived
                                   follows src                           */
} reaction;

struct jp {
    uint8_t state;
    bool resolved;              /* [[AlreadyResolved]] of jp_new's functions */
    void *v;                    /* value or reason                       */
    reaction *first, *last;
};

struct jq {
    arena *a;
    void *user;
    reaction *head, *tail;      /* the jobs                              */
    jp *current;                /* derived of the reaction job running   */
};

jq *jq_new(arena *a, void *user)
{
    jq *q = arena_alloc(a, sizeof *q);
    *q = (jq){ .a = a, .user = user };
    return q;
}

void *jq_user(jq *q) { return q->user; }
arena *jq_arena(jq *q) { return q->a; }
jp *jq_current(jq *q) { return q->current; }
bool jp_pending(const jp *p) { return p->state == PENDING; }
bool jp_rejected(const jp *p) { return p->state == REJECTED; }

jp *jp_new(jq *q)
{
    jp *p = arena_alloc(q->a, sizeof *p);
    *p = (jp){ .state = PENDING };
    return p;
}

static void enqueue(jq *q, reaction *r)
{
    r->next = NULL;
    if (q->tail) q->tail->next = r;
    else q->head = r;
    q->tail = r;
}

/* FulfillPromise / RejectPromise: every reaction becomes a job, in order
 * (the list moves to the queue's end as it is). */
static void settle(jq *q, jp *p, uint8_t state, void *v)
{
    if (p->state != PENDING) KILN_PANIC("promise settled twice");
    p->state = state;
    p->v = v;
    if (!p->first) return;
    if (q->tail) q->tail->next = p->first;
    else q->head = p->first;
    q->tail = p->last;
    p->first = p->last = NULL;
}

/* PerformPromiseThen of r on p: a job now if p is settled, else in line. */
static void react(jq *q, jp *p, reaction *r)
{
    r->src = p;
    if (p->state != PENDING) { enqueue(q, r); return; }
    r->next = NULL;
    if (p->last) p->last->next = r;
    else p->first = r;
    p->last = r;
}

/* The resolve function: a promise is adopted a job later (the
 * resolve-thenable job calls its .then). Inline: every job ends in it
 * (a call here cost 660 instructions per nested bench request). */
static inline void resolve_with(jq *q, jp *p, jp_ret r)
{
    switch (r.kind) {
    case JP_VALUE: settle(q, p, FULFILLED, r.v); break;
    case JP_THROW: settle(q, p, REJECTED, r.v); break;
    case JP_PROMISE: {
        if (r.v == p) KILN_PANIC("promise resolved with itself");
        reaction *j = arena_alloc(q->a, sizeof *j);
        *j = (reaction){ .src = r.v, .derived = p, .adopt = true };
        enqueue(q, j);
        break;
    }
    case JP_LATER: break;
    }
}

void jp_resolve(jq *q, jp *p, void *v)
{
    if (p->resolved) return;
    p->resolved = true;
    resolve_with(q, p, (jp_ret){ JP_VALUE, v });
}

void jp_adopt(jq *q, jp *p, jp *with)
{
    if (p->resolved) return;
    p->resolved = true;
    resolve_with(q, p, (jp_ret){ JP_PROMISE, with });
}

void jp_reject(jq *q, jp *p, void *reason)
{
    if (p->resolved) return;
    p->resolved = true;
    resolve_with(q, p, (jp_ret){ JP_THROW, reason });
}

void jp_later(jq *q, jp *derived, jp_ret r)
{
    if (derived) resolve_with(q, derived, r);
}

/* A .then's derived promise and its reaction, in one allocation. */
typedef struct then_pair {
    jp d;
    reaction r;
} then_pair;

jp *jp_then_after(jq *q, jp *p, uint32_t hops, jp_fn *ok, jp_fn *err, void *ctx)
{
    then_pair *t = arena_alloc(q->a, sizeof *t);
    t->d.state = PENDING;                   /* (v: set when it settles) */
    t->d.resolved = true;                   /* only its reaction job settles it */
    t->d.first = t->d.last = NULL;
    t->r.derived = &t->d;                   /* (next, src: react's) */
    t->r.ok = ok;
    t->r.err = err;
    t->r.ctx = ctx;
    t->r.hops = hops;
    t->r.adopt = false;
    react(q, p, &t->r);
    return &t->d;
}

jp *jp_then(jq *q, jp *p, jp_fn *ok, jp_fn *err, void *ctx)
{
    return jp_then_after(q, p, 0, ok, err, ctx);
}

/* ---- Promise.all ------------------------------------------------------------- */

typedef struct all {
    jp *p;
    uint32_t remaining;         /* [[RemainingElements]] */
} all;

static jp_ret all_ok(jq *q, void *ctx, void *arg)
{
    (void)arg;
    all *al = ctx;
    if (--al->remaining == 0) jp_resolve(q, al->p, NULL);
    return (jp_ret){ JP_VALUE, NULL };
}

static jp_ret all_err(jq *q, void *ctx, void *arg)
{
    all *al = ctx;
    jp_reject(q, al->p, arg);   /* the first rejection wins */
    return (jp_ret){ JP_VALUE, NULL };
}

jp *jp_all(jq *q, jp *const *parts, uint32_t n)
{
    all *al = arena_alloc(q->a, sizeof *al);
    *al = (all){ .p = jp_new(q), .remaining = 1 };
    for (uint32_t i = 0; i < n; i++) {
        al->remaining++;
        reaction *r = arena_alloc(q->a, sizeof *r);
        *r = (reaction){ .ok = all_ok, .err = all_err, .ctx = al };
        react(q, parts[i], r);
    }
    if (--al->remaining == 0) jp_resolve(q, al->p, NULL);
    return al->p;
}

/* ---- The queue ------------------------------------------------------------- */

/* Run the job r, just taken off the queue. */
static inline void run(jq *q, reaction *r)
{
    if (r->adopt) {             /* NewPromiseResolveThenableJob: src.then(resolve, reject) */
        r->adopt = false;
        react(q, r->src, r);
        return;
    }
    if (r->hops) {              /* a pass-through .then settled: the next one's job */
        r->hops--;
        enqueue(q, r);
        return;
    }
    const jp *src = r->src;
    jp_fn *h = src->state == FULFILLED ? r->ok : r->err;
    jp_ret res = { src->state == FULFILLED ? JP_VALUE : JP_THROW, src->v };
    if (h) {
        q->current = r->derived;
        res = h(q, r->ctx, src->v);
        q->current = NULL;
    }
    if (r->derived) resolve_with(q, r->derived, res);
}

static inline reaction *pop(jq *q)
{
    reaction *r = q->head;
    if (r && !(q->head = r->next)) q->tail = NULL;
    return r;
}

bool jq_run(jq *q)
{
    reaction *r = pop(q);
    if (r) run(q, r);
    return r != NULL;
}

uint32_t jq_run_until(jq *q, const bool *stop)
{
    uint32_t n = 0;
    for (reaction *r; !*stop && (r = pop(q)) != NULL; n++) run(q, r);
    return n;
}
