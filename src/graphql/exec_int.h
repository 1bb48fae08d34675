/*
 * exec_int.h -- internal to exec.c and exec_defer.c: the state of one
 * execution, shared by the executor (exec.c: fields, completion, the
 * response) and the deferred fields of the loader (exec_defer.c: fields
 * waiting for kiln_gql_load's batches, run in graphql-js's promise order).
 * Nothing else includes it.
 */
#ifndef KILN_GQL_EXEC_INT_H
#define KILN_GQL_EXEC_INT_H

#include "graphql/exec.h"
#include "graphql/loader.h"

#include <math.h>

typedef struct rpath {
    const struct rpath *prev;
    kiln_str key;               /* a response key, or ptr NULL: an index */
    size_t index;
    bool nonnull;               /* this position's type is non-null      */
    const struct rpath *copy;   /* its arena copy (exec_defer.c's copy_path:
                                   deferred positions share their prefixes);
                                   NULL until one is made, itself for a copy */
} rpath;

typedef struct deferred deferred;   /* a field waiting for a load (exec_defer.c) */
typedef struct agg agg;             /* a value still pending (exec_defer.c)      */

typedef struct exec {
    arena *a;
    const gql_schema *s;
    const gql_request *rq;
    kiln_value *vars;
    gql_errs errs;
    const gql_node **fragments;
    uint32_t nfragments;
    gql_loads *loads;           /* NULL until a resolver loads           */
    struct jq *q;               /* its promise jobs, once asked (exec_defer.c) */
    deferred *unslotted;        /* deferred by execute_field, not yet put */
    kiln_value *data;           /* the root object (null propagation)    */
    bool data_null;
    uint32_t errs_cut;          /* errors in the response when data_null */
    bool serial;                /* a mutation: root fields one by one    */
    agg *cur;                   /* the object or list being completed    */
    struct jp *rootp;           /* the root's promise (NULL: not pending) */
    struct jp *acc;             /* a mutation's promiseReduce so far     */
    struct jp *serial_job;      /* the reaction job running the next
                                   root field of a mutation              */
    bool serial_stopped;        /* ... rejected: no more root fields run */
    bool had_errors;            /* errors when the response was built    */
    bool answered;              /* execute()'s caller has the response   */
    bool clock_due;             /* the time budget: read the clock at the
                                   next field (a resolver or batch ran)  */
    bool expired;               /* ... the budget ran out                */
    uint32_t since_clock;       /* fields since the clock was last read  */
    struct submemo *memo;       /* collected subfields (exec.c), lazily  */
} exec;

struct kiln_gql {
    exec *x;
    const gql_field *field;
    const kiln_value *parent;
    const kiln_value *args;
    const kiln_value *result;
    const char *error, *code;
    struct jp *load;            /* the promise kiln_gql_load returned    */
    bool cache_hit;
};

typedef struct fctx {            /* what every level of one field shares */
    const gql_type *parent_type;
    const gql_field *field;
    const gql_node *const *nodes;
    uint32_t nnodes;
    gql_field_group *g;          /* its group (exec.c's memo), or NULL */
} fctx;

/* exec.c: record a field error (message at the nodes, the response path). */
void gx_field_error(exec *x, const gql_node *const *nodes, uint32_t n, const rpath *p, const char *code, const char *msg);
/* exec.c: completeValue. false: the error (already recorded by the caller
 * chain) propagates; *err: an error of this position, not yet recorded. */
bool gx_complete(exec *x, const fctx *f, const gql_tref *t, const kiln_value *v, const rpath *p, kiln_value **out,
                 const char **err);

/* exec_leaf.c: a scalar's or enum's serialize(): the value, or NULL with
 * *err set to graphql-js's message. */
kiln_value *gx_serialize(exec *x, const gql_type *t, const kiln_value *v, const char **err);

/* serialize()'s commonest answers, which can neither fail nor be null: a
 * String or an ID given a string is that string, an ID given an integer
 * is its decimal text. NULL when v is none of those (gx_serialize then
 * decides). Inline: execute_field takes it for every leaf before
 * completeValue's calls, and gx_serialize begins with it. */
static inline kiln_value *gx_serialize_plain(arena *a, gql_scalar sc, const kiln_value *v)
{
    if (v->type == KILN_JSON_STRING && (sc == GQL_SC_STRING || sc == GQL_SC_ID)) return (kiln_value *)v;
    if (v->type == KILN_JSON_NUMBER && sc == GQL_SC_ID && isfinite(v->num) && floor(v->num) == v->num)
        return gql_v_num_string(a, v);
    return NULL;
}

/* exec_defer.c: the field at p waits for the load its resolver asked for
 * (*out: a placeholder, put in its object by gx_put_field). */
bool gx_defer(exec *x, const fctx *f, const rpath *p, const gql_rctx *r, kiln_value **out);
void gx_put_field(exec *x, kiln_value *obj, kiln_str key, kiln_value *v);
/* Run the deferred fields and their batches until the caller of
 * graphql-js's execute() would have the response. */
void gx_run_deferred(exec *x);
/* A mutation, after a root field with `left` more to run: run jobs until
 * the next one runs (promiseReduce: in a .then of the one before); false
 * when the reduce rejected instead -- the rest never run. */
bool gx_serial_next(exec *x, uint32_t left);

/* The promises graphql-js builds around pending fields (exec_defer.c):
 * gx_open starts an object (kind 2: promiseForObject) or a list (kind 1:
 * Promise.all of its items) at position p (NULL: the root; the rpath must
 * live until gx_close); gx_close ends it: when something in it is pending
 * it becomes a promise, held by its field's or item's .then(undefined,
 * catch), or adopted by the deferred field whose completion it is (unless
 * `failed`: it threw, its pending parts are left dangling, as in JS). */
struct agg {
    agg *up;                    /* x->cur when opened                    */
    uint32_t kind;              /* 2 object, 1 list, 0 a completion      */
    const rpath *path;          /* the caller's, until closed            */
    struct jp **parts;          /* its pending fields or items           */
    uint32_t nparts, cap;
    gql_err *fail;              /* gx_group: rethrown by .finally        */
    struct jp *result;          /* kind 0: the promise it returned       */
    struct jp *small[4];        /* the first parts                       */
};

/* The agg (the caller's, alive until gx_close) of a new object or list. */
static inline agg *gx_open(exec *x, agg *a, uint32_t kind, const rpath *p)
{
    a->up = x->cur;
    a->kind = kind;
    a->path = p;
    a->nparts = a->cap = 0;
    a->fail = NULL;
    a->result = NULL;
    return x->cur = a;
}
/* gx_close's work when something is pending (or a mutation's root). */
void gx_close_pending(exec *x, agg *a, bool failed);
static inline void gx_close(exec *x, agg *a, bool failed)
{
    x->cur = a->up;
    if ((a->nparts && !failed) || (!a->path && x->serial)) gx_close_pending(x, a, failed);
}
/* A non-null field of object `a` (at `holder`) failed synchronously: when
 * fields before it are pending, graphql-js returns
 * promiseForObject(...).finally(() => { throw error }): the error just
 * recorded is taken back and rejects the object when they settle; true,
 * and the object stands (as a placeholder) meanwhile. false: nothing is
 * pending, the failure propagates now. */
bool gx_group(exec *x, agg *a, const rpath *holder);

#endif
