/*
 * limits.c -- the abuse limits of limits.h: reading them from the
 * environment, measuring an operation (depth, fields, aliases with its
 * fragments expanded) and reporting what breaks them, the introspection
 * switch (graphql-js's NoSchemaIntrospectionCustomRule over TypeInfo), and
 * the clock of the time budget that exec.c checks between fields.
 *
 * Measuring is linear in the document: each fragment is measured once and
 * its figures reused wherever it is spread (sums saturate at UINT32_MAX, so
 * a fragment spread twice in a fragment spread twice ... cannot overflow
 * or take exponential time); a fragment already on the current path counts
 * as empty (a cycle, which validation rejects anyway). Nesting through
 * selection sets and fragments deeper than LIMITS_MAX_NESTING stops the
 * walk (the C stack stays small on a coroutine) and is itself a depth error.
 *
 * Owns: nothing beyond its arena allocations. Must never: run a resolver,
 * or let a document take time or stack beyond linear in its size.
 */
#include "graphql/limits.h"
#include "graphql/doccache.h"
#include "graphql/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define S(k) (int)(k).len, (k).ptr
#define LIMITS_MAX_NESTING 1000

void gql_op_limits_default(gql_op_limits *l)
{
    *l = (gql_op_limits){
        .max_depth = GQL_LIMIT_DEPTH, .max_aliases = GQL_LIMIT_ALIASES, .max_fields = GQL_LIMIT_FIELDS,
        .max_bytes = GQL_LIMIT_BYTES, .max_tokens = GQL_LIMIT_TOKENS, .timeout_ms = GQL_LIMIT_TIMEOUT_MS, .introspection = true,
        .cache_entries = GQL_CACHE_ENTRIES, .cache_bytes = GQL_CACHE_BYTES,
    };
}

/* A non-negative decimal number from the environment into *out; false
 * (and *out unchanged) when it is set but not one. */
static bool env_number(const char *name, uint64_t max, uint64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return true;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v == '-' || *end || errno || n > max) return false;
    *out = n;
    return true;
}

const char *gql_op_limits_from_env(gql_op_limits *l)
{
    gql_op_limits_default(l);
    static const struct { const char *name; size_t off, size; } nums[] = {
        { "KILN_GRAPHQL_MAX_DEPTH", offsetof(gql_op_limits, max_depth), sizeof(uint32_t) },
        { "KILN_GRAPHQL_MAX_ALIASES", offsetof(gql_op_limits, max_aliases), sizeof(uint32_t) },
        { "KILN_GRAPHQL_MAX_FIELDS", offsetof(gql_op_limits, max_fields), sizeof(uint32_t) },
        { "KILN_GRAPHQL_MAX_BYTES", offsetof(gql_op_limits, max_bytes), sizeof(size_t) },
        { "KILN_GRAPHQL_MAX_TOKENS", offsetof(gql_op_limits, max_tokens), sizeof(uint32_t) },
        { "KILN_GRAPHQL_TIMEOUT_MS", offsetof(gql_op_limits, timeout_ms), sizeof(uint32_t) },
        { "KILN_GRAPHQL_CACHE_ENTRIES", offsetof(gql_op_limits, cache_entries), sizeof(uint32_t) },
        { "KILN_GRAPHQL_CACHE_BYTES", offsetof(gql_op_limits, cache_bytes), sizeof(size_t) },
    };
    for (size_t i = 0; i < ARRAY_LEN(nums); i++) {
        uint64_t n = 0;
        if (!env_number(nums[i].name, nums[i].size == 4 ? UINT32_MAX : (uint64_t)(UINT32_MAX - 16), &n)) {
            static char msg[128];
            snprintf(msg, sizeof msg, "%s must be a non-negative whole number (0: %s)", nums[i].name,
                     strstr(nums[i].name, "CACHE") ? "no cache" : "no limit");
            return msg;
        }
        if (!getenv(nums[i].name) || !*getenv(nums[i].name)) continue;
        if (nums[i].size == 4) *(uint32_t *)((char *)l + nums[i].off) = (uint32_t)n;
        else *(size_t *)((char *)l + nums[i].off) = (size_t)n;
    }
    const char *intro = getenv("KILN_GRAPHQL_INTROSPECTION");
    if (intro && *intro) {
        if (!strcmp(intro, "0") || !strcmp(intro, "false") || !strcmp(intro, "off")) l->introspection = false;
        else if (!strcmp(intro, "1") || !strcmp(intro, "true") || !strcmp(intro, "on")) l->introspection = true;
        else return "KILN_GRAPHQL_INTROSPECTION must be 0 or 1";
    }
    return NULL;
}

gql_limits gql_op_limits_parser(const gql_op_limits *l)
{
    /* 0 means "no limit" here: no size ceiling; the parser's own token
     * ceiling (its default, from a zero field). */
    return (gql_limits){ .max_bytes = l->max_bytes ? l->max_bytes : (size_t)(UINT32_MAX - 16), .max_tokens = l->max_tokens };
}

uint64_t gql_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gql_deadline_ns(const gql_op_limits *l)
{
    return l->timeout_ms ? gql_clock_ns() + (uint64_t)l->timeout_ms * 1000000u : 0;
}

/* ---- Measuring an operation ------------------------------------------------ */

typedef struct measure {
    uint32_t depth;              /* fields on the longest path        */
    uint32_t fields, aliases;    /* with fragments expanded           */
    const gql_node *deepest;     /* the field that ends that path     */
} measure;

typedef struct frag_memo {
    const gql_node *def;
    measure m;
    enum { UNSEEN, ON_PATH, DONE } state;
} frag_memo;

typedef struct walker {
    const gql_node *doc;
    const gql_node **defs;       /* fragment definitions, sorted by name  */
    frag_memo *frags;            /* one per entry of defs                 */
    uint32_t nfrags;
    int nesting;
    bool too_nested;
} walker;

static uint32_t sat_add(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }

/* The memo of the fragment a spread names (the last definition of that
 * name, as graphql-js's getFragment), or NULL. */
static frag_memo *memo_of(walker *w, kiln_str name)
{
    int64_t i = gql_fragment_index(w->defs, w->nfrags, name);
    return i < 0 ? NULL : &w->frags[i];
}

static void walk(walker *w, const gql_node *set, uint32_t depth, measure *m);

static const measure *fragment_measure(walker *w, frag_memo *f)
{
    static const measure empty;
    if (f->state == ON_PATH) return &empty;              /* a cycle: cut */
    if (f->state == UNSEEN) {
        f->state = ON_PATH;
        walk(w, f->def->selection_set, 0, &f->m);
        f->state = DONE;
    }
    return &f->m;
}

/* Add the selections of set, whose fields are at depth + 1, into m. */
static void walk(walker *w, const gql_node *set, uint32_t depth, measure *m)
{
    if (++w->nesting > LIMITS_MAX_NESTING) { w->too_nested = true; w->nesting--; return; }
    for (const gql_node *s = set->items.first; s; s = s->next) {
        if (s->kind == GQL_FIELD) {
            m->fields = sat_add(m->fields, 1);
            if (s->alias.ptr) m->aliases = sat_add(m->aliases, 1);
            if (depth + 1 > m->depth) { m->depth = depth + 1; m->deepest = s; }
            if (!s->selection_set) continue;
            if (gql_kstr_is(s->name, "__schema") || gql_kstr_is(s->name, "__type")) {
                /* introspection: counted, but its depth is bounded by the
                 * MaxIntrospectionDepth rule, not by this limit */
                measure sub = { 0 };
                walk(w, s->selection_set, 0, &sub);
                m->fields = sat_add(m->fields, sub.fields);
                m->aliases = sat_add(m->aliases, sub.aliases);
            } else {
                walk(w, s->selection_set, depth + 1, m);
            }
        } else if (s->kind == GQL_INLINE_FRAGMENT) {
            walk(w, s->selection_set, depth, m);
        } else if (s->kind == GQL_FRAGMENT_SPREAD) {
            frag_memo *f = memo_of(w, s->name);
            if (!f) continue;
            w->nesting++;
            const measure *fm = fragment_measure(w, f);
            w->nesting--;
            m->fields = sat_add(m->fields, fm->fields);
            m->aliases = sat_add(m->aliases, fm->aliases);
            if (fm->depth && sat_add(depth, fm->depth) > m->depth) {
                m->depth = sat_add(depth, fm->depth);
                m->deepest = fm->deepest;
            }
        }
    }
    w->nesting--;
}

/* A limit error: located at one node, with the limits' extensions.code. */
#define LIMIT_ERROR(errs, at, ...) do {                                       \
        const gql_node *at_ = (at);                                         \
        gql_errs_add((errs), &at_, 1, __VA_ARGS__);                         \
        (errs)->last->code = GQL_CODE_LIMIT;                                \
    } while (0)

static uint32_t check_operation(walker *w, const gql_node *op, const gql_op_limits *l, gql_errs *errs)
{
    measure m = { 0 };
    w->too_nested = false;
    walk(w, op->selection_set, 0, &m);
    uint32_t before = errs->count;
    if (w->too_nested)
        LIMIT_ERROR(errs, op, "Query depth exceeds the limit of %u: selections and fragments are nested more than %d deep.",
                    l->max_depth, LIMITS_MAX_NESTING);
    else if (l->max_depth && m.depth > l->max_depth)
        LIMIT_ERROR(errs, m.deepest, "Query depth %u exceeds the limit of %u.", m.depth, l->max_depth);
    if (l->max_aliases && m.aliases > l->max_aliases)
        LIMIT_ERROR(errs, op, "Operation has %u aliases, exceeding the limit of %u.", m.aliases, l->max_aliases);
    if (l->max_fields && m.fields > l->max_fields)
        LIMIT_ERROR(errs, op, "Operation has %u fields, exceeding the limit of %u.", m.fields, l->max_fields);
    return errs->count - before;
}

/* ---- Introspection off: NoSchemaIntrospectionCustomRule ---------------------- */

static bool introspection_type(const gql_type *t)
{
    return t && t->builtin && t->name.len > 2 && t->name.ptr[0] == '_' && t->name.ptr[1] == '_';
}

static bool no_introspection(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind != GQL_FIELD) return true;
    const gql_tref *t = c->ti->ntype > 0 ? c->ti->type[c->ti->ntype - 1] : NULL;
    if (t && introspection_type(gql_tref_named(t))) {
        gql_errs_add(c->errs, &n, 1, "GraphQL introspection has been disabled, but the requested query contained the field \"%.*s\".",
                     S(n->name));
        c->errs->last->code = GQL_CODE_LIMIT;
    }
    return true;
}

uint32_t gql_check_limits(const gql_schema *s, const gql_node *doc, kiln_str operation_name, const gql_op_limits *l,
                          gql_errs *errs)
{
    uint32_t before = errs->count;
    walker w = { .doc = doc };
    w.nfrags = gql_fragments_sorted(errs->a, doc, &w.defs);
    w.frags = arena_calloc(errs->a, sizeof(frag_memo) * (w.nfrags ? w.nfrags : 1));
    for (uint32_t i = 0; i < w.nfrags; i++) w.frags[i].def = w.defs[i];
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (d->kind != GQL_OPERATION) continue;
        if (operation_name.ptr && !gql_kstr_eq(d->name, operation_name)) continue;
        check_operation(&w, d, l, errs);
    }
    if (!l->introspection) {
        gql_vstate *c = arena_alloc(errs->a, sizeof *c);      /* large: not on the stack */
        gql_vstate_init(c, doc, errs, s);
        gql_ti_init(c);
        static const gql_rule rule = { no_introspection, NULL };
        gql_visit_hooked(doc, &rule, 1, c, (gql_rule){ gql_ti_enter, gql_ti_leave });
    }
    return errs->count - before;
}
