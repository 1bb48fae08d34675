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

typedef struct reaction {
    struct reaction *next;
    jp *derived;                /* NULL: nobody can observe it           */
    jp_fn *ok, *err;            /* NULL: pass on                         */
    void *ctx;
} reaction;

struct jp {
    uint8_t state;
    bool resolved;              /* [[AlreadyResolved]] of jp_new's functions */
    void *v;                    /* value or reason                       */
    reaction *first, *last;
};

typedef struct job {
    struct job *next;
    reaction *r;                /* a reaction job: r on (state, v) ...   */
    uint8_t state;
    void *v;
    jp *adopter;                /* ... or a resolve-thenable job: adopter
                                   follows `with`                        */
    jp *with;
} job;

struct jq {
    arena *a;
    void *user;
    job *head, *tail;
    job *spare;                 /* run jobs, reused                      */
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

static void enqueue(jq *q, job j)
{
    job *n = q->spare;
    if (n) q->spare = n->next;
    else n = arena_alloc(q->a, sizeof *n);
    *n = j;
    n->next = NULL;
    if (q->tail) q->tail->next = n;
    else q->head = n;
    q->tail = n;
}

/* FulfillPromise / RejectPromise: every reaction becomes a job, in order. */
static void settle(jq *q, jp *p, uint8_t state, void *v)
{
    if (p->state != PENDING) KILN_PANIC("promise settled twice");
    p->state = state;
    p->v = v;
    for (reaction *r = p->first; r; r = r->next) enqueue(q, (job){ .r = r, .state = state, .v = v });
    p->first = p->last = NULL;
}

/* The resolve function: a promise is adopted a job later (the
 * resolve-thenable job calls its .then). */
static void resolve_with(jq *q, jp *p, jp_ret r)
{
    switch (r.kind) {
    case JP_VALUE: settle(q, p, FULFILLED, r.v); break;
    case JP_THROW: settle(q, p, REJECTED, r.v); break;
    case JP_PROMISE:
        if (r.v == p) KILN_PANIC("promise resolved with itself");
        enqueue(q, (job){ .adopter = p, .with = r.v });
        break;
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

/* PerformPromiseThen with a given derived promise (NULL: none). */
static void then_into(jq *q, jp *p, jp_fn *ok, jp_fn *err, void *ctx, jp *derived)
{
    reaction *r = arena_alloc(q->a, sizeof *r);
    *r = (reaction){ .derived = derived, .ok = ok, .err = err, .ctx = ctx };
    if (p->state != PENDING) { enqueue(q, (job){ .r = r, .state = p->state, .v = p->v }); return; }
    if (p->last) p->last->next = r;
    else p->first = r;
    p->last = r;
}

jp *jp_then(jq *q, jp *p, jp_fn *ok, jp_fn *err, void *ctx)
{
    jp *d = jp_new(q);
    d->resolved = true;         /* only its reaction job settles it */
    then_into(q, p, ok, err, ctx, d);
    return d;
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
        then_into(q, parts[i], all_ok, all_err, al, NULL);
    }
    if (--al->remaining == 0) jp_resolve(q, al->p, NULL);
    return al->p;
}

/* ---- The queue ------------------------------------------------------------- */

bool jq_run(jq *q)
{
    job *j = q->head;
    if (!j) return false;
    q->head = j->next;
    if (!q->head) q->tail = NULL;
    job run = *j;
    j->next = q->spare;
    q->spare = j;
    if (run.adopter) {          /* NewPromiseResolveThenableJob: with.then(resolve, reject) */
        then_into(q, run.with, NULL, NULL, NULL, run.adopter);
        return true;
    }
    reaction *r = run.r;
    jp_fn *h = run.state == FULFILLED ? r->ok : r->err;
    jp_ret res = { run.state == FULFILLED ? JP_VALUE : JP_THROW, run.v };
    if (h) {
        q->current = r->derived;
        res = h(q, r->ctx, run.v);
        q->current = NULL;
    }
    if (r->derived) resolve_with(q, r->derived, res);
    return true;
}
