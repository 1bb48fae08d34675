/*
 * exec.c -- execution of a GraphQL operation, as graphql-js 16's execute()
 * does it: operation selection, variable coercion, field collection
 * (fragments, inline fragments, @skip/@include, merged response keys),
 * arguments, resolvers (bound C functions or the parent's value by name),
 * value completion (non-null, lists, leaf serialization, abstract types by
 * __typename, objects), null propagation exactly as the spec says, and
 * errors with message, locations, path and extensions.code, in graphql-js's
 * order. Mutations run their root fields one after the other (they do
 * anyway: resolvers are synchronous C calls on the request's coroutine).
 *
 * The response is built as a tree in the arena, then written as JSON with
 * graphql-js's key order ({"errors": [...], "data": {...}}) and numbers as
 * JavaScript prints them.
 *
 * Fields that wait for the loader (kiln_gql_load) are exec_defer.c's.
 *
 * Owns: nothing (the arena). Must never: let one field's failure escape its
 * nearest nullable parent, or write a response graphql-js would not.
 */
#include "graphql/exec_int.h"
#include "graphql/limits.h"
#include "graphql/loader.h"
#include "graphql/visit.h"
#include "json/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define S(k) (int)(k).len, (k).ptr

/* ---- Binding -------------------------------------------------------------- */

uint32_t gql_exec_bind(gql_schema *s, const gql_resolver_def *defs, size_t n, const char ***unmatched)
{
    const char **bad = arena_alloc(s->a, sizeof(char *) * (n + 1));
    uint32_t nbad = 0;
    for (size_t i = 0; i < n; i++) {
        bool bound = false;
        for (uint32_t t = 0; t < s->ntypes && !bound; t++) {
            gql_type *ty = s->types[t];
            if (ty->builtin || ty->kind != GQL_TK_OBJECT) continue;
            size_t tl = ty->name.len;
            if (strncmp(defs[i].name, ty->name.ptr, tl) != 0 || defs[i].name[tl] != '_') continue;
            gql_field *f = gql_type_field(ty, gql_cstr(defs[i].name + tl + 1));
            if (f) { f->resolve = defs[i].fn; bound = true; }
        }
        if (!bound) bad[nbad++] = defs[i].name;
    }
    if (unmatched) *unmatched = bad;
    return nbad;
}

const kiln_value *kiln_gql_parent(kiln_gql *r) { return r->parent; }
const kiln_value *gql_r_args(gql_rctx *r) { return r->args; }
const kiln_value *kiln_gql_arg(kiln_gql *r, const char *name) { return gql_v_get(r->args, gql_cstr(name)); }
void *gql_r_context(gql_rctx *r) { return r->x->rq->context; }
kiln_req *kiln_gql_req(kiln_gql *r) { return r->x->rq->context; }
arena *gql_r_arena(gql_rctx *r) { return r->x->a; }
const gql_field *gql_r_field(gql_rctx *r) { return r->field; }
const gql_request *gql_r_request(gql_rctx *r) { return r->x->rq; }
void kiln_gql_return(kiln_gql *r, const kiln_value *v) { r->result = v ? v : gql_v_null(r->x->a); }

void kiln_gql_load(kiln_gql *r, kiln_gql_batch_fn fn, const kiln_value *key)
{
    if (!r->x->loads) r->x->loads = gql_loads_new(r->x->a, r->x->rq->context, r->x->rq->failed);
    r->load = gql_loads_get(r->x->loads, fn, key, &r->cache_hit);
}

void kiln_gql_error(kiln_gql *r, const char *code, const char *fmt, ...)
{
    buf b;
    buf_init(&b, 96);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    r->error = arena_strndup(r->x->a, b.data, b.len);
    r->code = code ? arena_strdup(r->x->a, code) : NULL;
    buf_free(&b);
}

/* A field error: message at the field nodes, with the response path. */
void gx_field_error(exec *x, const gql_node *const *nodes, uint32_t n, const rpath *p, const char *code, const char *msg)
{
    gql_errs_add(&x->errs, nodes, (int)(n < 8 ? n : 8), "%s", msg);
    gql_err *e = x->errs.last;
    e->code = code;
    /* The path, root first. */
    const rpath *q[512];
    int depth = 0;
    for (const rpath *it = p; it && depth < 512; it = it->prev) q[depth++] = it;
    kiln_value *arr = gql_v_array(x->a);
    for (int i = depth - 1; i >= 0; i--)
        gql_v_put(x->a, arr, (kiln_str){ NULL, 0 },
                  q[i]->key.ptr ? gql_v_str(x->a, q[i]->key) : gql_v_num(x->a, (double)q[i]->index));
    e->path = arr;
}

/* ---- Collecting fields ---------------------------------------------------------- */

typedef gql_field_group group;

typedef struct groups {
    group *v;
    uint32_t n, cap;
    kiln_str *visited;          /* fragment names already spread */
    uint32_t nvisited, capvisited;
} groups;

static bool flag_arg(exec *x, const gql_node *d, bool *value)
{
    const gql_directive *def = gql_schema_directive(x->s, d->name);
    if (!def) return false;
    const char *err = NULL;
    const gql_node *at = NULL;
    kiln_value *args = gql_argument_values(x->a, def->args, def->nargs, d, x->vars, &err, &at);
    const kiln_value *v = args ? gql_v_get(args, gql_cstr("if")) : NULL;
    if (!v) return false;
    *value = v->type == KILN_JSON_TRUE;
    return v->type == KILN_JSON_TRUE || v->type == KILN_JSON_FALSE;
}

/* shouldIncludeNode: @skip(if: true) or @include(if: false) leave it out. */
static bool included(exec *x, gql_list dirs)
{
    for (const gql_node *d = dirs.first; d; d = d->next)
        if (gql_kstr_is(d->name, "skip")) { bool v; if (flag_arg(x, d, &v) && v) return false; break; }
    for (const gql_node *d = dirs.first; d; d = d->next)
        if (gql_kstr_is(d->name, "include")) { bool v; if (flag_arg(x, d, &v) && !v) return false; break; }
    return true;
}

static bool condition_matches(exec *x, const gql_node *cond, const gql_type *t)
{
    if (!cond) return true;
    const gql_type *ct = gql_schema_type(x->s, cond->name);
    if (!ct) return false;
    if (ct == t) return true;
    if (ct->kind == GQL_TK_UNION) {
        for (uint32_t i = 0; i < ct->nmembers; i++)
            if (ct->members[i] == t) return true;
        return false;
    }
    if (ct->kind == GQL_TK_INTERFACE)
        for (uint32_t i = 0; i < t->ninterfaces; i++)
            if (t->interfaces[i] == ct) return true;
    return false;
}

static void add_to_group(exec *x, groups *g, kiln_str key, const gql_node *f)
{
    group *gr = NULL;
    for (uint32_t i = 0; i < g->n && !gr; i++)
        if (gql_kstr_eq(g->v[i].key, key)) gr = &g->v[i];
    if (!gr) {
        if (g->n == g->cap) {
            uint32_t cap = g->cap ? g->cap * 2 : 8;
            group *v = arena_alloc(x->a, sizeof(group) * cap);
            if (g->n) memcpy(v, g->v, sizeof(group) * g->n);
            g->v = v;
            g->cap = cap;
        }
        gr = &g->v[g->n++];
        *gr = (group){ .key = key };
    }
    if (gr->n == gr->cap) {
        uint32_t cap = gr->cap ? gr->cap * 2 : 2;
        const gql_node **v = arena_alloc(x->a, sizeof(gql_node *) * cap);
        if (gr->n) memcpy(v, gr->nodes, sizeof(gql_node *) * gr->n);
        gr->nodes = v;
        gr->cap = cap;
    }
    gr->nodes[gr->n++] = f;
}

static void collect(exec *x, const gql_type *t, const gql_node *set, groups *g, int depth)
{
    if (!set || depth > 256) return;
    for (const gql_node *sel = set->items.first; sel; sel = sel->next) {
        if (!included(x, sel->directives)) continue;
        if (sel->kind == GQL_FIELD) {
            add_to_group(x, g, sel->alias.ptr ? sel->alias : sel->name, sel);
        } else if (sel->kind == GQL_INLINE_FRAGMENT) {
            if (condition_matches(x, sel->type, t)) collect(x, t, sel->selection_set, g, depth + 1);
        } else {
            bool seen = false;
            for (uint32_t i = 0; i < g->nvisited && !seen; i++) seen = gql_kstr_eq(g->visited[i], sel->name);
            if (seen) continue;
            if (g->nvisited == g->capvisited) {
                uint32_t cap = g->capvisited ? g->capvisited * 2 : 8;
                kiln_str *v = arena_alloc(x->a, sizeof(kiln_str) * cap);
                if (g->nvisited) memcpy(v, g->visited, sizeof(kiln_str) * g->nvisited);
                g->visited = v;
                g->capvisited = cap;
            }
            g->visited[g->nvisited++] = sel->name;
            const gql_node *frag = NULL;
            for (uint32_t i = 0; i < x->nfragments; i++)      /* the last of that name, as graphql-js */
                if (gql_kstr_eq(x->fragments[i]->name, sel->name)) frag = x->fragments[i];
            if (!frag || !condition_matches(x, frag->type, t)) continue;
            collect(x, t, frag->selection_set, g, depth + 1);
        }
    }
}

uint32_t gql_collect_fields(arena *a, const gql_schema *s, const gql_node *doc, const gql_type *t, const gql_node *set,
                            const kiln_value *vars, const gql_field_group **out)
{
    gql_request rq = { .doc = doc };
    exec x = { .a = a, .s = s, .rq = &rq, .vars = (kiln_value *)vars };
    x.fragments = arena_alloc(a, sizeof(gql_node *) * (doc->items.len + 1));
    for (const gql_node *d = doc->items.first; d; d = d->next)
        if (d->kind == GQL_FRAGMENT_DEF) x.fragments[x.nfragments++] = d;
    groups g = { 0 };
    collect(&x, t, set, &g, 0);
    *out = g.v;
    return g.n;
}

/* ---- Completing values ------------------------------------------------------------- */


static kiln_value *execute_fields(exec *x, const gql_type *t, const kiln_value *source, const rpath *p, groups *g);


#define msgf(x, ...) gql_arena_printf((x)->a, __VA_ARGS__)
#define inspect(x, v) gql_inspect_str((x)->a, (v))

/* Record a field error at this level and decide: null here (true, *out
 * null) or propagate (false) when the type is non-null. */
static bool handle_error(exec *x, const fctx *f, const gql_tref *t, const rpath *p, const char *code, const char *msg,
                         kiln_value **out)
{
    gx_field_error(x, f->nodes, f->nnodes, p, code, msg);
    if (t->kind == GQL_REF_NON_NULL) return false;
    *out = gql_v_null(x->a);
    return true;
}

/* collectSubfields, memoized per execution as graphql-js memoizes it: the
 * fields of an object of type rt under the field nodes f->nodes. Every item
 * of a list (and every parent's same field) selects the same ones, and the
 * variables do not change within an execution. A small direct-mapped table
 * keyed by (nodes, rt): a miss just collects again. In front of it, the
 * field's group (f->g, when known) keeps the last type's. */
#define SUBMEMO_SLOTS 32

typedef struct memo_slot {
    const gql_node *const *nodes;
    uint32_t nnodes;
    const gql_type *rt;
    groups g;
} memo_slot;

struct submemo {
    memo_slot slot[SUBMEMO_SLOTS];
};

static groups subfields_of(exec *x, const fctx *f, const gql_type *rt);

static groups subfields(exec *x, const fctx *f, const gql_type *rt)
{
    gql_field_group *fg = f->g;         /* the field's group remembers the last */
    if (fg && fg->sub_rt == rt) return *fg->sub;
    groups sub = subfields_of(x, f, rt);
    if (fg) {
        if (!fg->sub) fg->sub = arena_alloc(x->a, sizeof *fg->sub);
        *fg->sub = sub;
        fg->sub_rt = rt;
    }
    return sub;
}

static groups subfields_of(exec *x, const fctx *f, const gql_type *rt)
{
    if (!x->memo) x->memo = arena_calloc(x->a, sizeof *x->memo);
    uintptr_t h = ((uintptr_t)f->nodes >> 4) ^ ((uintptr_t)rt >> 4) * 31u;
    memo_slot *e = &x->memo->slot[h % SUBMEMO_SLOTS];
    if (e->nodes == f->nodes && e->nnodes == f->nnodes && e->rt == rt) return e->g;
    groups sub = { 0 };
    for (uint32_t i = 0; i < f->nnodes; i++) collect(x, rt, f->nodes[i]->selection_set, &sub, 0);
    e->nodes = f->nodes;
    e->nnodes = f->nnodes;
    e->rt = rt;
    e->g = sub;
    return sub;             /* a copy: a nested field may take the slot over */
}

static bool complete_value(exec *x, const fctx *f, const gql_tref *t, const kiln_value *v, const rpath *p,
                           kiln_value **out, const char **err);

/* The non-null wrapper, then the value (without a recursive call for it). */
bool gx_complete(exec *x, const fctx *f, const gql_tref *t, const kiln_value *v, const rpath *p, kiln_value **out,
                     const char **err)
{
    if (t->kind != GQL_REF_NON_NULL) return complete_value(x, f, t, v, p, out, err);
    if (!complete_value(x, f, t->of, v, p, out, err)) return false;
    if (!*err && (*out)->type == KILN_JSON_NULL)
        *err = msgf(x, "Cannot return null for non-nullable field %.*s.%.*s.", S(f->parent_type->name), S(f->field->name));
    return true;
}

/* completeValue for a nullable type t. */
static bool complete_value(exec *x, const fctx *f, const gql_tref *t, const kiln_value *v, const rpath *p,
                           kiln_value **out, const char **err)
{
    *err = NULL;
    if (!v || v->type == KILN_JSON_NULL) { *out = gql_v_null(x->a); return true; }
    if (t->kind == GQL_REF_LIST) {
        if (v->type != KILN_JSON_ARRAY) {
            *err = msgf(x, "Expected Iterable, but did not find one for field \"%.*s.%.*s\".", S(f->parent_type->name),
                        S(f->field->name));
            return true;
        }
        kiln_value *list = gql_v_array(x->a), *last = NULL;
        agg ag, *a = gx_open(x, &ag, 1, p);            /* Promise.all of the items */
        size_t i = 0;
        for (const kiln_value *it = v->child; it; it = it->next, i++) {
            rpath ip = { p, { NULL, 0 }, i, t->of->kind == GQL_REF_NON_NULL, NULL };
            kiln_value *item;
            const char *ierr;
            if (!gx_complete(x, f, t->of, it, &ip, &item, &ierr)) {
                if (t->of->kind == GQL_REF_NON_NULL) { gx_close(x, a, true); return false; }
                item = gql_v_null(x->a);
            } else if (ierr && !handle_error(x, f, t->of, &ip, NULL, ierr, &item)) {
                gx_close(x, a, true);
                return false;
            }
            last = gql_v_push(x->a, list, last, item);
        }
        gx_close(x, a, false);
        *out = list;
        return true;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_TK_SCALAR || nt->kind == GQL_TK_ENUM) {
        *out = gx_serialize(x, nt, v, err);
        return true;
    }
    const gql_type *rt = nt;
    if (nt->kind == GQL_TK_INTERFACE || nt->kind == GQL_TK_UNION) {
        const kiln_value *tn = v->type == KILN_JSON_OBJECT ? gql_v_get(v, gql_cstr("__typename")) : NULL;
        if (!tn) {
            *err = msgf(x, "Abstract type \"%.*s\" must resolve to an Object type at runtime for field \"%.*s.%.*s\". Either the \"%.*s\" type should provide a \"resolveType\" function or each possible type should provide an \"isTypeOf\" function.",
                        S(nt->name), S(f->parent_type->name), S(f->field->name), S(nt->name));
            return true;
        }
        if (tn->type != KILN_JSON_STRING) {
            *err = msgf(x, "Abstract type \"%.*s\" must resolve to an Object type at runtime for field \"%.*s.%.*s\" with value %s, received \"%s\".",
                        S(nt->name), S(f->parent_type->name), S(f->field->name), inspect(x, v), inspect(x, tn));
            return true;
        }
        kiln_str name = { tn->str, tn->len };
        rt = gql_schema_type(x->s, name);
        if (!rt) {
            *err = msgf(x, "Abstract type \"%.*s\" was resolved to a type \"%.*s\" that does not exist inside the schema.", S(nt->name), S(name));
            return true;
        }
        if (rt->kind != GQL_TK_OBJECT) {
            *err = msgf(x, "Abstract type \"%.*s\" was resolved to a non-object type \"%.*s\".", S(nt->name), S(name));
            return true;
        }
        if (!condition_matches(x, &(gql_node){ .kind = GQL_NAMED_TYPE, .name = nt->name }, rt)) {
            *err = msgf(x, "Runtime Object type \"%.*s\" is not a possible type for \"%.*s\".", S(rt->name), S(nt->name));
            return true;
        }
    }
    groups sub = subfields(x, f, rt);
    *out = execute_fields(x, rt, v, p, &sub);
    return *out != NULL;
}

/* ---- Fields ---------------------------------------------------------------------- */

/* The data layer failed under the resolver (gql_request.failed): that is
 * the field's error, whatever the resolver made of it (an empty list, a
 * null, "Unauthorized" after a session lookup that could not run). */
static void data_failure(exec *x, gql_rctx *r)
{
    const char *msg, *code;
    if (!x->rq->failed || !x->rq->failed(x->rq->context, &msg, &code)) return;
    r->error = msg;
    r->code = code;
    r->load = NULL;
}

/* The time budget (limits.h) has run out. The clock is read only where
 * time can have gone: after a resolver or a batch function ran, and every
 * 64 fields in between (completing what they returned); once out, every
 * later field is. And it is the coarse clock (the time of the last tick,
 * never ahead of CLOCK_MONOTONIC, so a budget is never cut short; at most
 * one tick late): the precise one cost a TSC read per field, 2-5 % of a
 * small query's CPU. */
static bool over_budget(exec *x)
{
    if (x->expired) return true;
    if (!x->clock_due && ++x->since_clock < 64) return false;
    x->clock_due = false;
    x->since_clock = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    x->expired = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >= x->rq->deadline_ns;
    return x->expired;
}

/* executeField: false when a non-null failure propagates to the parent. */

static bool execute_field(exec *x, const gql_type *t, const kiln_value *source, group *g, rpath *p,
                          kiln_value **out)
{
    const gql_node *node = g->nodes[0];
    if (!g->memo) {             /* once per group and execution (see exec.h) */
        const gql_field *fd = NULL;
        if (gql_kstr_is(node->name, "__typename")) g->memo = 1;
        else {
            fd = gql_type_field(t, node->name);
            if (!fd && t == x->s->query && !x->rq->no_introspection) {
                if (gql_kstr_is(node->name, "__schema")) fd = x->s->meta_schema;
                else if (gql_kstr_is(node->name, "__type")) fd = x->s->meta_type;
            }
            g->memo = fd ? 2 : 3;
        }
        g->fd = fd;
    }
    if (g->memo == 1) { *out = gql_v_str(x->a, t->name); return true; }
    const gql_field *fd = g->fd;
    if (!fd) { *out = NULL; return true; }                       /* left out */
    p->nonnull = fd->type->kind == GQL_REF_NON_NULL;
    fctx f = { t, fd, g->nodes, g->n, g };
    if (x->rq->deadline_ns && over_budget(x))       /* the time budget (limits.h) */
        return handle_error(x, &f, fd->type, p, GQL_CODE_TIMEOUT, "The operation's time budget ran out before this field was resolved.", out);
    const kiln_value *args = g->args;               /* the same variables, the same values */
    if (!args) {
        const char *aerr = NULL;
        const gql_node *at = NULL;
        args = gql_argument_values(x->a, fd->args, fd->nargs, node, x->vars, &aerr, &at);
        if (!args) {             /* located at the node the message names */
            fctx fa = { t, fd, &at, 1, NULL };
            return handle_error(x, &fa, fd->type, p, NULL, aerr, out);
        }
        g->args = args;
    }
    const kiln_value *result;
    if (fd->resolve) {
        gql_rctx r = { .x = x, .field = fd, .parent = source, .args = args };
        fd->resolve(&r);
        x->clock_due = true;
        data_failure(x, &r);
        if (r.error) return handle_error(x, &f, fd->type, p, r.code, r.error, out);
        if (r.load) return gx_defer(x, &f, p, &r, out);
        result = r.result;
    } else result = source && source->type == KILN_JSON_OBJECT ? gql_v_get(source, fd->name) : NULL;
    /* The most common leaves, a String or an ID (maybe non-null) whose value
     * is a string, an ID whose value is an integer: completeValue gives what
     * serialize() gives (the value itself; String(the number)), with no
     * error and no null to propagate. */
    const gql_tref *lt = fd->type->kind == GQL_REF_NON_NULL ? fd->type->of : fd->type;
    if (result && lt->kind == GQL_REF_NAMED && (*out = gx_serialize_plain(x->a, lt->named->scalar, result)) != NULL)
        return true;
    const char *err;
    if (!gx_complete(x, &f, fd->type, result, p, out, &err)) {
        if (fd->type->kind == GQL_REF_NON_NULL) return false;
        *out = gql_v_null(x->a);
        return true;
    }
    if (err) return handle_error(x, &f, fd->type, p, NULL, err, out);
    return true;
}

/* executeFields: the object, or NULL when a non-null field failed. */
static kiln_value *execute_fields(exec *x, const gql_type *t, const kiln_value *source, const rpath *p, groups *g)
{
    kiln_value *obj = gql_v_result_object(x->a);
    if (!p) x->data = obj;
    agg ag, *a = gx_open(x, &ag, 2, p);             /* promiseForObject */
    kiln_value *last = NULL;                        /* obj's last member */
    for (uint32_t i = 0; i < g->n; i++) {
        rpath fp = { p, g->v[i].key, 0, false, NULL };
        kiln_value *v;
        if (!execute_field(x, t, source, &g->v[i], &fp, &v)) {
            bool late = gx_group(x, a, p);          /* rejects once the fields before settle */
            gx_close(x, a, !late);
            return late ? obj : NULL;
        }
        if (v && x->unslotted) {                    /* a deferred field's slot */
            gx_put_field(x, obj, g->v[i].key, v);
            last = last ? last->next : obj->child;
        } else if (v) last = gql_v_append(x->a, obj, last, g->v[i].key, v);   /* keys are unique */
        if (!p && x->serial && i + 1 < g->n && !gx_serial_next(x, g->n - i - 1)) break;   /* mutations: one by one */
    }
    gx_close(x, a, false);
    return obj;
}

/* ---- The response ---------------------------------------------------------------- */

void gql_write_errors(buf *out, const gql_errs *errs)
{
    buf_putc(out, '[');
    for (const gql_err *e = errs->first; e; e = e->next) {
        if (e != errs->first) buf_putc(out, ',');
        buf_puts(out, "{\"message\":");
        json_escape_stringify(out, e->message, strlen(e->message));
        if (e->nlocs) {
            buf_puts(out, ",\"locations\":[");
            for (uint32_t i = 0; i < e->nlocs; i++)
                buf_printf(out, "%s{\"line\":%u,\"column\":%u}", i ? "," : "", e->locs[i].line, e->locs[i].column);
            buf_putc(out, ']');
        }
        if (e->path) { buf_puts(out, ",\"path\":"); gql_stringify(out, e->path); }
        if (e->code) { buf_puts(out, ",\"extensions\":{\"code\":"); json_escape_stringify(out, e->code, strlen(e->code)); buf_putc(out, '}'); }
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

static void respond(buf *out, const gql_errs *errs, bool has_data, const kiln_value *data)
{
    buf_putc(out, '{');
    if (errs->count) { buf_puts(out, "\"errors\":"); gql_write_errors(out, errs); }
    if (has_data) {
        if (errs->count) buf_putc(out, ',');
        buf_puts(out, "\"data\":");
        if (data) gql_stringify(out, data);
        else buf_puts(out, "null");
    }
    buf_putc(out, '}');
}

/* getOperation, the fragments and the variables: the operation, or NULL
 * with the response written (no "data"). */
static const gql_node *prepare(exec *x, buf *out)
{
    const gql_request *rq = x->rq;
    const gql_node *op = NULL;
    uint32_t nops = 0;
    x->fragments = arena_alloc(x->a, sizeof(gql_node *) * (rq->doc->items.len + 1));
    for (const gql_node *d = rq->doc->items.first; d; d = d->next) {
        if (d->kind == GQL_FRAGMENT_DEF) x->fragments[x->nfragments++] = d;
        if (d->kind != GQL_OPERATION) continue;
        nops++;
        if (rq->operation_name.ptr ? gql_kstr_eq(d->name, rq->operation_name) : !op) op = d;
    }
    if (!op || (!rq->operation_name.ptr && nops > 1)) {
        if (rq->operation_name.ptr) gql_errs_add(&x->errs, NULL, 0, "Unknown operation named \"%.*s\".", S(rq->operation_name));
        else if (nops > 1) gql_errs_add(&x->errs, NULL, 0, "Must provide operation name if query contains multiple operations.");
        else gql_errs_add(&x->errs, NULL, 0, "Must provide an operation.");
        respond(out, &x->errs, false, NULL);
        return NULL;
    }
    x->vars = gql_coerce_variables(x->a, x->s, op, rq->variables, &x->errs);
    if (!x->vars) { respond(out, &x->errs, false, NULL); return NULL; }
    return op;
}

static const char *const op_names[] = { "query", "mutation", "subscription" };

void gql_execute(arena *a, const gql_schema *s, const gql_request *rq, buf *out)
{
    exec x = { .a = a, .s = s, .rq = rq, .clock_due = true };
    x.errs = (gql_errs){ .a = a, .src = rq->src, .src_len = rq->src_len };
    const gql_node *op = prepare(&x, out);
    if (!op) return;
    const gql_type *root = op->op == GQL_QUERY ? s->query : op->op == GQL_MUTATION ? s->mutation : s->subscription;
    if (!root) {
        gql_errs_add(&x.errs, &op, 1, "Schema is not configured to execute %s operation.", op_names[op->op]);
        respond(out, &x.errs, true, NULL);
        return;
    }
    groups g = { 0 };
    collect(&x, root, op->selection_set, &g, 0);
    x.serial = op->op == GQL_MUTATION;
    kiln_value *data = execute_fields(&x, root, rq->root, NULL, &g);
    gx_run_deferred(&x);
    if (x.data_null) {
        gql_err *e = x.errs.first;
        for (uint32_t i = 1; i < x.errs_cut; i++) e = e->next;
        e->next = NULL;
        x.errs.last = e;
        x.errs.count = x.errs_cut;
    }
    respond(out, &x.errs, true, x.data_null ? NULL : data);
}

bool gql_subscribe(arena *a, const gql_schema *s, const gql_request *rq, buf *out)
{
    exec x = { .a = a, .s = s, .rq = rq, .clock_due = true };
    x.errs = (gql_errs){ .a = a, .src = rq->src, .src_len = rq->src_len };
    const gql_node *op = prepare(&x, out);
    if (!op) return false;
    const gql_type *root = s->subscription;
    if (!root) {
        gql_errs_add(&x.errs, &op, 1, "Schema is not configured to execute subscription operation.");
        respond(out, &x.errs, false, NULL);
        return false;
    }
    groups g = { 0 };
    collect(&x, root, op->selection_set, &g, 0);
    if (g.n == 0) return true;                      /* nothing selected (@skip) */
    const group *first = &g.v[0];
    const gql_node *node = first->nodes[0];
    const gql_field *fd = gql_type_field(root, node->name);
    if (!fd) {
        gql_errs_add(&x.errs, first->nodes, (int)(first->n < 8 ? first->n : 8),
                     "The subscription field \"%.*s\" is not defined.", S(node->name));
        respond(out, &x.errs, false, NULL);
        return false;
    }
    rpath p = { NULL, first->key, 0, false, NULL };
    const char *aerr = NULL;
    const gql_node *at = NULL;
    kiln_value *args = gql_argument_values(a, fd->args, fd->nargs, node, x.vars, &aerr, &at);
    gql_rctx r = { .x = &x, .field = fd, .parent = rq->root, .args = args };
    if (!args) r.error = aerr;
    else if (fd->resolve) { fd->resolve(&r); data_failure(&x, &r); }
    else {                      /* graphql-js throws it as a plain Error */
        gql_errs_add(&x.errs, NULL, 0, "Subscription field must return Async Iterable. Received: undefined.");
        respond(out, &x.errs, false, NULL);
        return false;
    }
    if (!r.error) return true;
    gx_field_error(&x, args ? first->nodes : &at, args ? first->n : 1, &p, r.code, r.error);
    respond(out, &x.errs, false, NULL);
    return false;
}
