/*
 * exec_defer.c -- the deferred fields of an execution: a field whose
 * resolver asked the loader for a key (kiln_gql_load) waits, as a
 * placeholder in the response, for the batch its key goes in. Around it
 * this file builds the very promises graphql-js 16 builds (promise.h) --
 *
 *   a loaded field      load.then(completeValue).then(undefined, catch)
 *   an object           Promise.all(fields).then(build)     (promiseForObject)
 *     that threw        ... .finally(() => { throw error })  (fields pending)
 *   a list              Promise.all(items)
 *   a field or an item  holding one of those: .then(undefined, catch)
 *   a loaded field's completion returning one: adopts it
 *   the root            .then(buildResponse, push error), then the caller's await
 *   a mutation's root   promiseReduce: field k+1 runs in a .then of field k
 *
 * -- and runs their jobs in JS's order, with dataloader's batches run when
 * no job is left (process.nextTick). A catch records its error and nulls
 * its position when it runs, so errors come in graphql-js's order; the
 * response is what the caller of execute() sees when its await resumes:
 * data as the root resolved, the errors pushed by then (none when there
 * were none as the response was built).
 *
 * Owns: nothing (the execution's arena). Must never: run a batch or a
 * resolver after the caller has the response, or record an error that
 * graphql-js would not (a rejection a Promise.all already settled is lost).
 */
#include "graphql/exec_int.h"
#include "graphql/promise.h"

/* A field's or an item's catch: where and whether it is nullable. */
typedef struct catcher {
    exec *x;
    const rpath *path;          /* arena copy */
} catcher;

/* A field whose resolver asked a loader for a key (its own catcher). */
struct deferred {
    catcher c;
    fctx f;
    kiln_value *slot;           /* its place in its object               */
};

/* The arena copy of the position p (a stack rpath of the executor),
 * made once: the deferred fields and objects under one position share it
 * (every field of a list's item, every item of a list), and a copy's
 * copy is itself. The stack rpath outlives every call made under it, so
 * what it remembers is valid while anyone can ask. */
static const rpath *copy_path(exec *x, const rpath *p)
{
    if (!p || p->copy) return p ? p->copy : NULL;
    rpath *c = arena_alloc(x->a, sizeof *c);
    *c = *p;
    c->prev = copy_path(x, p->prev);
    c->copy = c;
    ((rpath *)p)->copy = c;     /* the executor's own (non-const) stack object */
    return c;
}

static jq *queue(exec *x) { return x->q ? x->q : (x->q = gql_loads_queue(x->loads)); }

static void add_part(exec *x, agg *a, jp *p)
{
    if (!a->cap) {                         /* the first few: in the agg */
        a->parts = a->small;
        a->cap = sizeof a->small / sizeof *a->small;
    } else ARENA_GROW(x->a, a->parts, a->nparts, a->cap, 8);   /* then doubled, in the arena */
    a->parts[a->nparts++] = p;
}

/* The error just recorded is thrown instead: taken back from the list
 * until a catch pushes it. */
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

static void push_error(exec *x, gql_err *e)
{
    e->next = NULL;
    if (x->errs.last) x->errs.last->next = e;
    else x->errs.first = e;
    x->errs.last = e;
    x->errs.count++;
}

/* The response's node at p becomes null (nothing when a position above it
 * already is). */
static void null_at(exec *x, const rpath *p)
{
    const rpath *chain[512];
    int n = 0;
    for (const rpath *q = p; q && n < 512; q = q->prev) chain[n++] = q;
    kiln_value *node = x->data;
    for (int i = n - 1; i >= 0 && node; i--) {
        if (node->type != KILN_JSON_OBJECT && node->type != KILN_JSON_ARRAY) return;
        kiln_value *c = node->child;
        size_t k = 0;
        while (c && (chain[i]->key.ptr ? c->key_len != chain[i]->key.len || memcmp(c->key, chain[i]->key.ptr, c->key_len)
                                       : k != chain[i]->index)) c = c->next, k++;
        node = c;
    }
    if (node) { node->type = KILN_JSON_NULL; node->child = NULL; node->len = 0; }
}

/* ---- Handlers ------------------------------------------------------------------- */

/* .then(undefined, (error) => handleFieldError(...)): a nullable position
 * records the error and becomes null; a non-null one throws it on. */
static jp_ret catch_at(jq *q, void *ctx, void *arg)
{
    (void)q;
    catcher *h = ctx;
    if (h->path->nonnull) return (jp_ret){ JP_THROW, arg };
    push_error(h->x, arg);
    null_at(h->x, h->path);
    return (jp_ret){ JP_VALUE, NULL };
}

static jp_ret rethrow(jq *q, void *ctx, void *arg)
{
    (void)q, (void)arg;
    return (jp_ret){ JP_THROW, ctx };
}

/* load.then((resolved) => completeValue(...)): the value goes in the
 * field's place; a promise it returns (an object or list with pending
 * parts) is adopted; an error it throws rejects. */
static jp_ret complete_ok(jq *q, void *ctx, void *arg)
{
    (void)q;
    deferred *d = ctx;
    exec *x = d->c.x;
    x->clock_due = true;                   /* a job: read the clock at its first field */
    agg adopt, *saved = x->cur;
    gx_open(x, &adopt, 0, NULL);           /* what the completion returns */
    kiln_value *out;
    const char *err;
    bool ok = gx_complete(x, &d->f, d->f.field->type, arg, d->c.path, &out, &err);
    x->cur = saved;
    if (!ok) return (jp_ret){ JP_THROW, take_back(x) };
    if (err) {
        gx_field_error(x, d->f.nodes, d->f.nnodes, d->c.path, NULL, err);
        return (jp_ret){ JP_THROW, take_back(x) };
    }
    if (d->slot) {
        kiln_value *next = d->slot->next;
        const char *key = d->slot->key;
        size_t key_len = d->slot->key_len;
        *d->slot = *out;
        d->slot->next = next;
        d->slot->key = key;
        d->slot->key_len = key_len;
    }
    return adopt.result ? (jp_ret){ JP_PROMISE, adopt.result } : (jp_ret){ JP_VALUE, out };
}

/* The load was rejected: the error, located at the field, goes on to its
 * catch (graphql-js locates it there; the same error). */
static jp_ret complete_err(jq *q, void *ctx, void *arg)
{
    (void)q;
    deferred *d = ctx;
    const gql_load_entry *e = arg;
    gx_field_error(d->c.x, d->f.nodes, d->f.nnodes, d->c.path, e->code, e->error);
    return (jp_ret){ JP_THROW, take_back(d->c.x) };
}

/* execute(): result.then((data) => buildResponse(data, errors), (error) =>
 * { errors.push(error); return buildResponse(null, errors); }). */
static jp_ret built(jq *q, void *ctx, void *arg)
{
    (void)q, (void)arg;
    exec *x = ctx;
    x->had_errors = x->errs.count > 0;
    return (jp_ret){ JP_VALUE, NULL };
}

static jp_ret built_null(jq *q, void *ctx, void *arg)
{
    (void)q;
    exec *x = ctx;
    push_error(x, arg);
    x->data_null = true;
    x->had_errors = true;
    return (jp_ret){ JP_VALUE, NULL };
}

/* The caller's `await execute(...)` resumes: the response is final. */
static jp_ret resumed(jq *q, void *ctx, void *arg)
{
    (void)q, (void)arg;
    ((exec *)ctx)->answered = true;
    return (jp_ret){ JP_VALUE, NULL };
}

/* promiseReduce: the next root field of a mutation runs in this job; the
 * executor runs it when the loop stops, and gx_* settle the job's derived
 * promise with what it returned (serial_step). */
static jp_ret next_root_field(jq *q, void *ctx, void *arg)
{
    (void)arg;
    ((exec *)ctx)->serial_job = jq_current(q);
    return (jp_ret){ JP_LATER, NULL };
}

/* ---- The executor's side ----------------------------------------------------------- */

bool gx_defer(exec *x, const fctx *f, const rpath *p, const gql_rctx *r, kiln_value **out)
{
    deferred *d = arena_alloc(x->a, sizeof *d);
    *d = (deferred){ .c = { x, copy_path(x, p) }, .f = *f };
    jq *q = queue(x);
    jp *completed = jp_then(q, r->load, complete_ok, complete_err, d);
    add_part(x, x->cur, jp_then(q, completed, NULL, catch_at, &d->c));
    x->unslotted = d;                      /* gx_put_field gives it its slot */
    *out = gql_v_null(x->a);
    return true;
}

void gx_put_field(exec *x, kiln_value *obj, kiln_str key, kiln_value *v)
{
    kiln_value *stored = gql_v_put(x->a, obj, key, v);
    if (x->unslotted) { x->unslotted->slot = stored; x->unslotted = NULL; }
}

/* After root field k of a mutation: its promise, if any, stored in the
 * results (.then), becomes the reduce's accumulator -- or what the job
 * that ran field k returns (adopted). */
static void serial_step(exec *x, agg *root)
{
    jp *link = NULL;
    if (root->nparts) {
        link = jp_then(queue(x), root->parts[root->nparts - 1], NULL, NULL, NULL);
        root->nparts = 0;
    }
    if (x->serial_job) {
        jp_later(queue(x), x->serial_job, link ? (jp_ret){ JP_PROMISE, link } : (jp_ret){ JP_VALUE, NULL });
        x->acc = x->serial_job;
        x->serial_job = NULL;
    } else {
        x->acc = link;
    }
}

void gx_close_pending(exec *x, agg *a, bool failed)
{
    if (!a->path && x->serial) {           /* a mutation's root: promiseReduce */
        if (!failed && x->loads && !x->serial_stopped) serial_step(x, a);
        x->rootp = failed ? NULL : x->acc;
        return;
    }
    if (failed || !a->nparts) return;      /* a value, or it threw: parts dangle */
    jq *q = queue(x);
    /* r, then `hops` pass-through jobs: the promise graphql-js has here.
     * Promise.all([p]) settles a job after p, as p.then() would (its value
     * is never read: only a load's is), so one part costs no Promise.all. */
    jp *r = a->parts[0];
    uint32_t hops = 1;
    if (a->nparts > 1) r = jp_all(q, a->parts, a->nparts), hops = 0;
    if (a->kind == 2) hops++;                                          /* .then(build the object) */
    if (a->fail) r = jp_then_after(q, r, hops, rethrow, rethrow, a->fail), hops = 0;   /* .finally(() => { throw error }) */
    if ((a->up && a->up->kind == 0) || !a->path) {                     /* a promise someone holds */
        if (hops) r = jp_then_after(q, r, hops - 1, NULL, NULL, NULL);
        if (a->path) a->up->result = r;                                /* completeValue returned it */
        else x->rootp = r;
        return;
    }
    catcher *h = arena_alloc(x->a, sizeof *h);
    *h = (catcher){ x, copy_path(x, a->path) };
    add_part(x, a->up, jp_then_after(q, r, hops, NULL, catch_at, h));
}

/* A mutation's root field that throws synchronously ends the execution
 * at once, as in graphql-js when every field before it was synchronous.
 * After a pending one graphql-js throws inside the reduce's job and
 * answers when the rejection has passed the fields left; Kiln answers at
 * once: only errors still queued then (a list that threw beside pending
 * items) could differ. */
bool gx_group(exec *x, agg *a, const rpath *holder)
{
    if (!a->nparts || (!holder && x->serial)) return false;   /* a mutation's root: promiseReduce throws */
    a->fail = take_back(x);
    return true;
}

/* Run the next promise job, or the batches scheduled when none is left
 * (false: nothing is left to run). */
static bool step(exec *x)
{
    return jq_run(queue(x)) || gql_loads_dispatch(x->loads);
}

bool gx_serial_next(exec *x, uint32_t left)
{
    if (!x->loads) return true;            /* all synchronous so far */
    jq *q = queue(x);
    serial_step(x, x->cur);
    if (!x->acc) return true;              /* the next field runs now */
    jp *next = jp_then(q, x->acc, next_root_field, NULL, x);
    while (!x->serial_job && jp_pending(next) && step(x)) {}
    if (x->serial_job) return true;
    /* The accumulator rejected: each field left passes it on (a .then) */
    x->acc = next;
    for (uint32_t i = 1; i < left; i++) x->acc = jp_then(q, x->acc, NULL, NULL, NULL);
    x->serial_stopped = true;
    return false;
}

void gx_run_deferred(exec *x)
{
    if (!x->loads) return;                 /* nothing was ever pending */
    jq *q = queue(x);
    if (!x->rootp) return;                 /* answered synchronously: no batch runs */
    jp *response = jp_then(q, x->rootp, built, built_null, x);
    jp_then(q, response, resumed, resumed, x);
    /* The jobs, then the batches when none is left (complete_ok sets
     * clock_due for the fields a job completes), until answered. */
    for (;;) {
        jq_run_until(q, &x->answered);
        if (x->answered || !gql_loads_dispatch(x->loads)) break;
        x->clock_due = true;               /* a batch function ran */
    }
    if (!x->had_errors) {                  /* {data} was built: later errors are not in it */
        x->errs.first = x->errs.last = NULL;
        x->errs.count = 0;
    }
    x->errs_cut = x->errs.count;
}
