/*
 * exec_defer.c -- the deferred fields of an execution: a field whose
 * resolver asked the loader for a key (kiln_gql_load) waits, as a
 * placeholder in the response, for the batch its key goes in; its value is
 * completed when graphql-js would run that promise job (loader.h's
 * scheduling), and an error that escapes it reaches its nearest nullable
 * position in graphql-js's order, nulling that position in the response.
 *
 * Which job runs when: the loader's batches settle their keys at a tick;
 * each deferred field's completion is a job a tick later (loader.h). The
 * objects and lists that hold pending fields are graphql-js's promises
 * (struct agg): they settle a fixed number of promise jobs after their
 * last part (Promise.all, the .then that builds the object, the wrappers
 * of fields and items). That matters where graphql-js waits for them: an
 * object whose non-null field failed while fields before it were pending
 * rejects only once those settle (promiseForObject(...).finally), and an
 * error that rejects such an object is lost (the finally's error wins).
 *
 * Owns: nothing (the execution's arena). Must never: write a deferred
 * field's value into a response position that was nulled, or record an
 * error graphql-js would not (the first rejection of a position wins; once
 * data is null the response is final).
 */
#include "graphql/exec_int.h"

/* A field whose resolver asked a loader for a key. Its place in the response
 * is a placeholder node (`slot`) until its job runs, in the order graphql-js
 * runs the promise jobs of dataloader (loader.h). An error that escapes it
 * is a job of its own (`fail`), run when graphql-js's rejection reaches the
 * nearest nullable position (`target`; NULL: data). */
struct deferred {
    fctx f;
    const rpath *path;          /* arena copy */
    kiln_value *slot;
    gql_err *fail;
    const rpath *target;
    agg *agg;                   /* its promise (a field waiting for a load);
                                   for `fail`: the promise it rejects     */
    uint32_t climb;             /* `fail`: positions up to the target    */
};

/* A promise of graphql-js's execution that is (or may become) pending: an
 * object or list being completed, or a deferred field. It settles `own`
 * jobs after the last of its pending parts did (each part counted `edge`
 * jobs later, its holder's wrapper), and tells its parent. */
struct agg {
    agg *parent, *up;           /* pending part of; x->cur when opened  */
    uint32_t own, edge;
    bool defer;                 /* a deferred field's (not a value's)    */
    bool done;                  /* settled                               */
    uint32_t pending;           /* parts not settled (+1 while building) */
    uint64_t last;              /* when the last part was seen settled   */
    gql_err *fail;              /* gx_group: rejects with it, at ...     */
    const rpath *holder;        /* ... the object's holder (NULL: data)  */
};

static const rpath *copy_path(exec *x, const rpath *p)
{
    if (!p) return NULL;
    rpath *c = arena_alloc(x->a, sizeof *c);
    *c = *p;
    c->prev = copy_path(x, p->prev);
    return c;
}

bool gx_defer(exec *x, const fctx *f, const rpath *p, const gql_rctx *r, kiln_value **out)
{
    deferred *d = arena_alloc(x->a, sizeof *d);
    *d = (deferred){ .f = *f, .path = copy_path(x, p) };
    d->agg = arena_alloc(x->a, sizeof *d->agg);
    *d->agg = (agg){ .parent = x->cur, .up = x->cur, .own = 2, .defer = true, .pending = 1 };   /* own: a value that is a promise is adopted (2 jobs) */
    if (x->cur) x->cur->pending++;
    x->unslotted = d;                      /* put_field gives it its slot */
    gql_loads_wait(x->loads, r->load, d, r->cache_hit);
    *out = gql_v_null(x->a);
    return true;
}

void gx_put_field(exec *x, kiln_value *obj, kiln_str key, kiln_value *v)
{
    kiln_value *stored = gql_v_put(x->a, obj, key, v);
    if (x->unslotted) { x->unslotted->slot = stored; x->unslotted = NULL; }
}

static bool same_path(const rpath *a, const rpath *b)
{
    for (; a && b; a = a->prev, b = b->prev)
        if (a->key.ptr ? !b->key.ptr || !gql_kstr_eq(a->key, b->key) : b->key.ptr || a->index != b->index) return false;
    return !a && !b;
}

/* The rejection reached its target: the error is recorded (unless an
 * earlier one already rejected the same position: Promise.all keeps the
 * first) and the target becomes null. */
static void fail_at(exec *x, gql_err *e, const rpath *target)
{
    for (uint32_t i = 0; i < x->ntargets; i++)
        if (same_path(x->targets[i], target)) return;
    const rpath **t = arena_alloc(x->a, sizeof(*t) * (x->ntargets + 1));
    if (x->ntargets) memcpy(t, x->targets, sizeof(*t) * x->ntargets);
    t[x->ntargets++] = target;
    x->targets = t;
    e->next = NULL;
    if (x->errs.last) x->errs.last->next = e;
    else x->errs.first = e;
    x->errs.last = e;
    x->errs.count++;
    if (!target) {              /* graphql-js answers now: later errors miss the response */
        x->data_null = true;
        x->errs_cut = x->errs.count;
        return;
    }
    const rpath *chain[512];
    int n = 0;
    for (const rpath *q = target; q && n < 512; q = q->prev) chain[n++] = q;
    kiln_value *node = x->data;
    for (int i = n - 1; i >= 0 && node; i--) {
        if (node->type != KILN_JSON_OBJECT && node->type != KILN_JSON_ARRAY) return;   /* already null */
        kiln_value *c = node->child;
        size_t k = 0;
        while (c && (chain[i]->key.ptr ? c->key_len != chain[i]->key.len || memcmp(c->key, chain[i]->key.ptr, c->key_len)
                                       : k != chain[i]->index)) c = c->next, k++;
        node = c;
    }
    if (node) { node->type = KILN_JSON_NULL; node->child = NULL; node->len = 0; }
}

/* The error just recorded escapes d's completion: it is taken back and
 * recorded when it reaches the nearest nullable position. `delay`: promise
 * jobs before d's own catch runs. */
static gql_err *take_back(exec *x)
{
    gql_err *e = x->errs.last, *prev = NULL;
    for (gql_err *it = x->errs.first; it != e; it = it->next) prev = it;
    if (prev) prev->next = NULL;
    else x->errs.first = NULL;
    x->errs.last = prev;
    x->errs.count--;
    return e;
}

/* Whether the object held at `holder` rejects with an error of its own
 * (gx_group): a rejection that reaches it is lost. */
static bool is_group(exec *x, const rpath *holder)
{
    if (!holder) return x->root_group;
    for (uint32_t i = 0; i < x->ngroups; i++)
        if (same_path(x->groups[i], holder)) return true;
    return false;
}

static void unwind(exec *x, agg *p, uint32_t climb, uint64_t t);
static void reject_early(exec *x, agg *g, uint64_t t);

/* Error e rejects the position `from` (whose promise is `origin`) at tick
 * `at` (its catch): recorded when it reaches the nearest nullable position,
 * as many promise jobs later as graphql-js takes; at each position it
 * climbs, the promise holding it rejects (an object: Promise.all and the
 * .then that builds it; a list: Promise.all), then the catch of that
 * promise's holder runs (after adopting it, for a deferred field). Lost
 * when it climbs into an object that rejects with its own error (gx_group),
 * which it makes reject now. True when it climbs (the lists and objects on
 * the way reject early: unwind, when it is caught), false when it is
 * caught where it is or lost. */
static bool reject(exec *x, gql_err *e, const rpath *from, agg *origin, uint64_t at)
{
    const rpath *q = from;
    uint32_t climb = 0;
    uint64_t t = at;
    agg *p = origin;
    while (q && q->nonnull) {
        agg *c = p ? p->parent : NULL;
        if (q->key.ptr && (c ? c->fail != NULL : is_group(x, q->prev))) {
            if (c) reject_early(x, c, t);
            return false;
        }
        if (c) {
            agg *h = c->parent && c->parent->defer ? c->parent : NULL;
            t += c->own + c->edge + (h ? h->own : 0);
            p = h ? h : c;
        } else {
            t += 2;
            p = NULL;
        }
        q = q->prev, climb++;
    }
    uint64_t now = x->loads ? gql_loads_now(x->loads) : 0;
    if (t <= now && !climb) { fail_at(x, e, q); return false; }
    deferred *f = arena_alloc(x->a, sizeof *f);
    *f = (deferred){ .fail = e, .target = q, .agg = origin, .climb = climb };
    gql_loads_push(x->loads, t, f, NULL);
    return climb > 0;
}

/* The error just recorded escapes d's completion: it is taken back and
 * recorded when it reaches the nearest nullable position. `delay`: promise
 * jobs before d's own catch runs. */
static void escape(exec *x, deferred *d, uint64_t delay)
{
    gql_err *e = take_back(x);
    x->climbing = reject(x, e, d->path, d->agg, gql_loads_now(x->loads) + delay);
}

/* ---- The promises around pending fields --------------------------------------------- */

/* a settles: the tick its parent sees it, or 0 when it rejects upwards
 * (unwound where that is caught). */
static uint64_t finish(exec *x, agg *a)
{
    a->done = true;
    uint64_t t = a->last + a->own;
    if (a == x->root && !x->serial && !a->fail) { x->done = true; x->done_at = t; }
    if (a->fail) {              /* .finally(() => { throw error }): rejected a job later */
        t++;
        agg *h = a->parent && a->parent->defer ? a->parent : NULL;   /* its holder's catch: */
        if (reject(x, a->fail, a->holder, h ? h : a, t + (h ? h->own : a->edge))) return 0;
    }
    return t + a->edge;
}

/* Part of a settled at tick t; a settles in turn when it was the last. */
static void settled(exec *x, agg *a, uint64_t t)
{
    while (a && !a->done) {
        if (t > a->last) a->last = t;
        if (--a->pending) return;
        if (!(t = finish(x, a))) return;
        a = a->parent;
    }
}

/* A rejection reached group g's Promise.all at tick t: it settles now. */
static void reject_early(exec *x, agg *g, uint64_t t)
{
    if (g->done) return;
    g->last = t;
    uint64_t s = finish(x, g);
    if (s && g->parent) settled(x, g->parent, s);
}

/* A rejection from promise p climbed `climb` positions and was caught at
 * tick t: the lists and objects it went through rejected on the way
 * (Promise.all: at once) and no longer wait for their parts; the one
 * holding the position that caught it sees that part settled (null). */
static void unwind(exec *x, agg *p, uint32_t climb, uint64_t t)
{
    while (p) {
        agg *c = p->parent;
        p->parent = NULL;
        if (!c) return;
        if (!climb) { settled(x, c, t); return; }
        climb--;
        p = c->parent && c->parent->defer ? c->parent : c;
    }
}

agg *gx_open(exec *x, uint32_t own)
{
    agg *a = arena_alloc(x->a, sizeof *a);
    *a = (agg){ .parent = x->cur, .up = x->cur, .own = own, .edge = x->edge, .pending = 1 };
    x->cur = a;
    return a;
}

void gx_close(exec *x, agg *a, bool failed)
{
    x->cur = a->up;
    if (--a->pending == 0 || failed) { a->parent = NULL; return; }
    if (a->parent) a->parent->pending++;
}

bool gx_group(exec *x, agg *a, const rpath *holder)
{
    if (a->pending < 2 || (!holder && x->serial)) return false;   /* a mutation's root: promiseReduce */
    a->fail = take_back(x);
    a->holder = copy_path(x, holder);
    if (!holder) { x->root_group = true; return true; }
    const rpath **g = arena_alloc(x->a, sizeof(*g) * (x->ngroups + 1));
    if (x->ngroups) memcpy(g, x->groups, sizeof(*g) * x->ngroups);
    g[x->ngroups++] = a->holder;
    x->groups = g;
    return true;
}

static void complete_job(exec *x, deferred *d, gql_load_entry *e);

static void run_job(exec *x, deferred *d, gql_load_entry *e)
{
    if (d->fail) {
        fail_at(x, d->fail, d->target);
        if (d->target && d->climb && !x->data_null) unwind(x, d->agg, d->climb, gql_loads_now(x->loads));
        return;
    }
    agg *saved = x->cur;
    x->cur = d->agg;
    x->edge = 0;
    x->climbing = false;
    complete_job(x, d, e);
    x->cur = saved;
    /* Its wrapper settles a job later (a value that is a promise: own);
     * a rejection that climbs is unwound where it is caught. */
    if (!x->climbing) settled(x, d->agg, gql_loads_now(x->loads) + 1 - d->agg->own);
}

static void complete_job(exec *x, deferred *d, gql_load_entry *e)
{
    if (e->error) {
        gx_field_error(x, d->f.nodes, d->f.nnodes, d->path, e->code, e->error);
        escape(x, d, 1);
        return;
    }
    kiln_value *out;
    const char *err;
    if (!gx_complete(x, &d->f, d->f.field->type, e->value, d->path, &out, &err)) { escape(x, d, 1); return; }
    if (err) {
        gx_field_error(x, d->f.nodes, d->f.nnodes, d->path, NULL, err);
        escape(x, d, 1);
        return;
    }
    if (!d->slot) return;                  /* its object was left out */
    kiln_value *next = d->slot->next;
    const char *key = d->slot->key;
    size_t key_len = d->slot->key_len;
    *d->slot = *out;
    d->slot->next = next;
    d->slot->key = key;
    d->slot->key_len = key_len;
}

/* Run the deferred fields and the batches they wait for until none is left
 * (or data became null: graphql-js has answered then). */
void gx_run_deferred(exec *x)
{
    void *rec;
    gql_load_entry *e;
    while (x->loads && !x->data_null) {
        if (x->done && gql_loads_peek(x->loads) > x->done_at + 1) break;   /* answered */
        if (!gql_loads_next(x->loads, &rec, &e)) break;
        x->clock_due = true;                      /* a batch may have run */
        run_job(x, rec, e);
    }
}
