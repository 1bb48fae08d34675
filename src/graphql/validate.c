/*
 * validate.c -- validation of executable documents, graphql-js 16's
 * validate(): rules run in parallel over the document (visit.c) in
 * specifiedRules order, with graphql-js's messages and locations.
 *
 * The rules here are the ones that need no type information beyond the
 * schema's names: ExecutableDefinitions, UniqueOperationNames,
 * LoneAnonymousOperation, KnownTypeNames, FragmentsOnCompositeTypes,
 * VariablesAreInputTypes, UniqueFragmentNames, KnownFragmentNames,
 * NoUnusedFragments, NoFragmentCycles, UniqueVariableNames,
 * NoUndefinedVariables, NoUnusedVariables, KnownDirectives,
 * UniqueDirectivesPerLocation, KnownArgumentNames and
 * ProvidedRequiredArguments on directives, UniqueArgumentNames,
 * UniqueInputFieldNames (the shared ones live in sdl_rules.c), and with
 * TypeInfo (validate_ti.c, validate_values.c) ScalarLeafs,
 * FieldsOnCorrectType, PossibleFragmentSpreads, KnownArgumentNames,
 * ProvidedRequiredArguments, ValuesOfCorrectType, VariablesInAllowedPosition,
 * and OverlappingFieldsCanBeMerged (validate_overlap.c).
 * SingleFieldSubscriptions and MaxIntrospectionDepth are here too: all of
 * graphql-js 16's specifiedRules.
 *
 * Owns: nothing. Must never: accept a document these rules reject.
 */
#include "graphql/rules.h"
#include "graphql/exec.h"

#include <stdlib.h>

#define S(k) (int)(k).len, (k).ptr
#define ERR(c, nodes, n, ...) gql_errs_add((c)->errs, (nodes), (n), __VA_ARGS__)

typedef gql_vstate vctx;


/* ---- Fragments by name: sorted once, found by binary search ------------- */

static int name_cmp(kiln_str a, kiln_str b)
{
    int k = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
    return k ? k : (a.len > b.len) - (a.len < b.len);
}

static int def_cmp(const void *x, const void *y)
{
    const gql_node *a = *(const gql_node *const *)x, *b = *(const gql_node *const *)y;
    int k = name_cmp(a->name, b->name);
    return k ? k : (a->start > b->start) - (a->start < b->start);
}

uint32_t gql_fragments_sorted(arena *a, const gql_node *doc, const gql_node ***out)
{
    uint32_t n = 0;
    for (const gql_node *d = doc->items.first; d; d = d->next) n += d->kind == GQL_FRAGMENT_DEF;
    const gql_node **v = arena_alloc(a, sizeof(gql_node *) * (n ? n : 1));
    n = 0;
    for (const gql_node *d = doc->items.first; d; d = d->next)
        if (d->kind == GQL_FRAGMENT_DEF) v[n++] = d;
    qsort(v, n, sizeof *v, def_cmp);
    *out = v;
    return n;
}

int64_t gql_fragment_index(const gql_node *const *sorted, uint32_t n, kiln_str name)
{
    uint32_t lo = 0, hi = n;                     /* the first entry > name */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (name_cmp(sorted[mid]->name, name) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && gql_kstr_eq(sorted[lo - 1]->name, name) ? (int64_t)lo - 1 : -1;
}

const gql_node *gql_fragment(const gql_vstate *c, kiln_str name)
{
    int64_t i = gql_fragment_index(c->frags, c->nfrags, name);
    return i < 0 ? NULL : c->frags[i];
}

/* getFragment: the last definition of that name. */
static const gql_node *fragment(const vctx *c, kiln_str name) { return gql_fragment(c, name); }

/* A fragment's slot in c->frags (it is the last of its name there). */
static uint32_t slot_of(const vctx *c, const gql_node *frag)
{
    return (uint32_t)gql_fragment_index(c->frags, c->nfrags, frag->name);
}

/* A growable node list in the arena. */
typedef struct gql_nlist {
    const gql_node **v;
    uint32_t n, cap;
} nlist;

static void push(arena *a, nlist *l, const gql_node *n)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 16;
        const gql_node **v = arena_alloc(a, sizeof(gql_node *) * cap);
        if (l->n) memcpy(v, l->v, sizeof(gql_node *) * l->n);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = n;
}

/* getFragmentSpreads: spreads of a selection set, nested sets visited from
 * a stack (graphql-js's order), not through fragments. */
static nlist fragment_spreads(arena *a, const gql_node *set)
{
    nlist spreads = { 0 }, stack = { 0 };
    push(a, &stack, set);
    while (stack.n) {
        const gql_node *s = stack.v[--stack.n];
        for (const gql_node *sel = s->items.first; sel; sel = sel->next) {
            if (sel->kind == GQL_FRAGMENT_SPREAD) push(a, &spreads, sel);
            else if (sel->selection_set) push(a, &stack, sel->selection_set);
        }
    }
    return spreads;
}

/* getRecursivelyReferencedFragments: each fragment once (a spread of an
 * unknown name finds nothing), in graphql-js's order. */
static nlist referenced_fragments(vctx *c, const gql_node *op)
{
    nlist frags = { 0 }, stack = { 0 };
    bool *seen = arena_calloc(c->a, c->nfrags ? c->nfrags : 1);
    push(c->a, &stack, op->selection_set);
    while (stack.n) {
        nlist spreads = fragment_spreads(c->a, stack.v[--stack.n]);
        for (uint32_t i = 0; i < spreads.n; i++) {
            int64_t k = gql_fragment_index(c->frags, c->nfrags, spreads.v[i]->name);
            if (k < 0 || seen[k]) continue;
            seen[k] = true;
            push(c->a, &frags, c->frags[k]);
            push(c->a, &stack, c->frags[k]->selection_set);
        }
    }
    return frags;
}

static bool single_field_subscriptions(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_OPERATION || n->op != GQL_SUBSCRIPTION || !c->schema->subscription) return true;
    const gql_field_group *g;
    uint32_t ng = gql_collect_fields(c->a, c->schema, c->doc, c->schema->subscription, n->selection_set, gql_v_object(c->a), &g);
    if (ng > 1) {
        const gql_node *nodes[8];
        int k = 0;
        for (uint32_t i = 1; i < ng; i++)
            for (uint32_t j = 0; j < g[i].n && k < 8; j++) nodes[k++] = g[i].nodes[j];
        if (n->name.ptr) ERR(c, nodes, k, "Subscription \"%.*s\" must select only one top level field.", S(n->name));
        else ERR(c, nodes, k, "Anonymous Subscription must select only one top level field.");
    }
    for (uint32_t i = 0; i < ng; i++) {
        kiln_str name = g[i].nodes[0]->name;
        if (name.len < 2 || name.ptr[0] != '_' || name.ptr[1] != '_') continue;
        if (n->name.ptr)
            ERR(c, g[i].nodes, (int)(g[i].n < 8 ? g[i].n : 8), "Subscription \"%.*s\" must not select an introspection top level field.", S(n->name));
        else
            ERR(c, g[i].nodes, (int)(g[i].n < 8 ? g[i].n : 8), "Anonymous Subscription must not select an introspection top level field.");
    }
    return true;
}

/* MaxIntrospectionDepth: three nested introspection lists are enough. */
static bool introspection_too_deep(vctx *c, const gql_node *n, nlist *visited, int depth)
{
    if (n->kind == GQL_FRAGMENT_SPREAD) {
        for (uint32_t i = 0; i < visited->n; i++)
            if (gql_kstr_eq(visited->v[i]->name, n->name)) return false;
        const gql_node *f = fragment(c, n->name);
        if (!f) return false;
        push(c->a, visited, n);
        bool deep = introspection_too_deep(c, f, visited, depth);
        visited->n--;
        return deep;
    }
    if (n->kind == GQL_FIELD && (gql_kstr_is(n->name, "fields") || gql_kstr_is(n->name, "interfaces")
                                 || gql_kstr_is(n->name, "possibleTypes") || gql_kstr_is(n->name, "inputFields"))) {
        if (++depth >= 3) return true;
    }
    if (n->selection_set)
        for (const gql_node *s = n->selection_set->items.first; s; s = s->next)
            if (introspection_too_deep(c, s, visited, depth)) return true;
    return false;
}

static bool max_introspection_depth(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_FIELD || (!gql_kstr_is(n->name, "__schema") && !gql_kstr_is(n->name, "__type"))) return true;
    nlist visited = { 0 };
    if (!introspection_too_deep(c, n, &visited, 0)) return true;
    ERR(c, &n, 1, "Maximum introspection depth exceeded");
    return false;
}

uint32_t gql_referenced_fragments(gql_vstate *c, const gql_node *op, const gql_node **out)
{
    nlist f = referenced_fragments(c, op);
    for (uint32_t i = 0; i < f.n; i++) out[i] = f.v[i];
    return f.n;
}

/* getVariableUsages of one definition: Variable nodes in traversal order,
 * variable definitions left out. */
static bool usage_enter(void *cx, const gql_node *n, const gql_path *p)
{
    if (n->kind == GQL_VARIABLE_DEF) return false;
    if (n->kind == GQL_VARIABLE) push(((vctx *)cx)->a, ((vctx *)cx)->usages, n);
    return true;
}

static nlist recursive_variable_usages(vctx *c, const gql_node *op)
{
    nlist usages = { 0 };
    c->usages = &usages;
    static const gql_rule collect = { usage_enter, NULL };
    gql_visit(op, &collect, 1, c);
    nlist frags = referenced_fragments(c, op);
    for (uint32_t i = 0; i < frags.n; i++) gql_visit(frags.v[i], &collect, 1, c);
    c->usages = NULL;
    return usages;
}

/* ---- The rules -------------------------------------------------------------- */

static bool executable_definitions(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_DOCUMENT) return true;
    for (const gql_node *d = n->items.first; d; d = d->next) {
        if (d->kind == GQL_OPERATION || d->kind == GQL_FRAGMENT_DEF) continue;
        if (d->kind == GQL_SCHEMA_DEF || d->kind == GQL_SCHEMA_EXT) ERR(c, &d, 1, "The schema definition is not executable.");
        else ERR(c, &d, 1, "The \"%.*s\" definition is not executable.", S(d->name));
    }
    return false;
}

static bool unique_operation_names(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind == GQL_FRAGMENT_DEF) return false;
    if (n->kind != GQL_OPERATION) return true;
    if (n->name.ptr) {
        const gql_node *prev = NULL;
        for (uint32_t i = 0; i < c->nseen_ops && !prev; i++)
            if (gql_kstr_eq(c->seen_ops[i]->name, n->name)) prev = c->seen_ops[i];
        if (prev) gql_errs_add_at(c->errs, (uint32_t[]){ prev->name_at, n->name_at }, 2, "There can be only one operation named \"%.*s\".", S(n->name));
        else c->seen_ops[c->nseen_ops++] = n;
    }
    return false;
}

static bool lone_anonymous(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind == GQL_OPERATION && !n->name.ptr && c->operations > 1)
        ERR(c, &n, 1, "This anonymous operation must be the only defined operation.");
    return true;
}

static bool unique_fragment_names(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind == GQL_OPERATION) return false;
    if (n->kind != GQL_FRAGMENT_DEF) return true;
    /* the first definition of the name: the start of its run in c->frags */
    uint32_t k = slot_of(c, n);
    while (k > 0 && gql_kstr_eq(c->frags[k - 1]->name, n->name)) k--;
    const gql_node *first = c->frags[k];
    if (first != n) gql_errs_add_at(c->errs, (uint32_t[]){ first->name_at, n->name_at }, 2, "There can be only one fragment named \"%.*s\".", S(n->name));
    return false;
}

static bool known_fragment_names(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind == GQL_FRAGMENT_SPREAD && !fragment(c, n->name))
        gql_errs_add_at(c->errs, &n->name_at, 1, "Unknown fragment \"%.*s\".", S(n->name));
    return true;
}

static bool fragments_on_composite_types(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if ((n->kind != GQL_INLINE_FRAGMENT && n->kind != GQL_FRAGMENT_DEF) || !n->type) return true;
    const gql_type *t = gql_schema_type(c->schema, n->type->name);
    if (!t || t->kind == GQL_TK_OBJECT || t->kind == GQL_TK_INTERFACE || t->kind == GQL_TK_UNION) return true;
    if (n->kind == GQL_INLINE_FRAGMENT)
        ERR(c, (const gql_node *const[]){ n->type }, 1, "Fragment cannot condition on non composite type \"%.*s\".", S(n->type->name));
    else
        ERR(c, (const gql_node *const[]){ n->type }, 1, "Fragment \"%.*s\" cannot condition on non composite type \"%.*s\".", S(n->name), S(n->type->name));
    return true;
}

static bool variables_are_input_types(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_VARIABLE_DEF) return true;
    const gql_node *named = n->type;
    while (named->kind != GQL_NAMED_TYPE) named = named->type;
    const gql_type *t = gql_schema_type(c->schema, named->name);
    if (!t || t->kind == GQL_TK_SCALAR || t->kind == GQL_TK_ENUM || t->kind == GQL_TK_INPUT_OBJECT) return true;
    buf b;
    buf_init(&b, 32);
    gql_print(&b, n->type);
    ERR(c, (const gql_node *const[]){ n->type }, 1, "Variable \"$%.*s\" cannot be non-input type \"%.*s\".", S(n->value->name), (int)b.len, b.data);
    buf_free(&b);
    return true;
}

static bool no_unused_fragments(void *cx, const gql_node *n, const gql_path *p)
{
    return n->kind != GQL_OPERATION && n->kind != GQL_FRAGMENT_DEF;
}

static void no_unused_fragments_leave(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_DOCUMENT) return;
    bool *used = arena_calloc(c->a, c->nfrags ? c->nfrags : 1);
    for (const gql_node *d = n->items.first; d; d = d->next) {
        if (d->kind != GQL_OPERATION) continue;
        nlist f = referenced_fragments(c, d);
        for (uint32_t i = 0; i < f.n; i++) used[slot_of(c, f.v[i])] = true;
    }
    for (const gql_node *d = n->items.first; d; d = d->next)
        if (d->kind == GQL_FRAGMENT_DEF && !used[slot_of(c, d)]) ERR(c, &d, 1, "Fragment \"%.*s\" is never used.", S(d->name));
}

/* NoFragmentCycles: a DFS over spreads; a spread back to a fragment on the
 * path is a cycle, reported with the spreads that make it. */
typedef struct cycle_state {
    nlist path;                          /* spread nodes                 */
    nlist on_path;                       /* fragment definitions          */
    uint32_t index[256];                 /* path index per on_path entry */
} cycle_state;

static void detect_cycles(vctx *c, cycle_state *st, const gql_node *frag)
{
    uint32_t slot = slot_of(c, frag);               /* visited by name */
    if (c->cycle_seen[slot]) return;
    c->cycle_seen[slot] = true;
    nlist spreads = fragment_spreads(c->a, frag->selection_set);
    if (!spreads.n || st->on_path.n >= 256) return;
    st->index[st->on_path.n] = st->path.n;
    push(c->a, &st->on_path, frag);
    for (uint32_t i = 0; i < spreads.n; i++) {
        const gql_node *sp = spreads.v[i];
        int64_t cycle = -1;
        for (uint32_t k = 0; k < st->on_path.n; k++)
            if (gql_kstr_eq(st->on_path.v[k]->name, sp->name)) cycle = st->index[k];
        push(c->a, &st->path, sp);
        if (cycle < 0) {
            const gql_node *f = fragment(c, sp->name);
            if (f) detect_cycles(c, st, f);
        } else {
            buf via;
            buf_init(&via, 64);
            for (uint32_t k = (uint32_t)cycle; k + 1 < st->path.n; k++)
                buf_printf(&via, "%s\"%.*s\"", k > (uint32_t)cycle ? ", " : "", S(st->path.v[k]->name));
            uint32_t n = st->path.n - (uint32_t)cycle;
            ERR(c, st->path.v + cycle, (int)n, "Cannot spread fragment \"%.*s\" within itself%s%.*s%s", S(sp->name),
                via.len ? " via " : "", (int)via.len, via.data ? via.data : "", ".");
            buf_free(&via);
        }
        st->path.n--;
    }
    st->on_path.n--;
}

static bool no_fragment_cycles(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind == GQL_OPERATION) return false;
    if (n->kind != GQL_FRAGMENT_DEF) return true;
    cycle_state *st = arena_calloc(c->a, sizeof *st);
    detect_cycles(c, st, n);
    return false;
}

static bool unique_variable_names(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_OPERATION) return true;
    for (const gql_node *v = n->vars.first; v; v = v->next) {
        bool first = true;
        for (const gql_node *w = n->vars.first; w != v; w = w->next) first &= !gql_kstr_eq(w->value->name, v->value->name);
        if (!first) continue;
        uint32_t at[8], k = 0;
        for (const gql_node *w = v; w; w = w->next)
            if (gql_kstr_eq(w->value->name, v->value->name) && k < 8) at[k++] = w->value->name_at;
        if (k > 1) gql_errs_add_at(c->errs, at, (int)k, "There can be only one variable named \"$%.*s\".", S(v->value->name));
    }
    return true;
}

static bool defined(const gql_node *op, kiln_str name)
{
    for (const gql_node *v = op->vars.first; v; v = v->next)
        if (gql_kstr_eq(v->value->name, name)) return true;
    return false;
}

static void no_undefined_variables(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_OPERATION) return;
    nlist u = recursive_variable_usages(c, n);
    for (uint32_t i = 0; i < u.n; i++) {
        if (defined(n, u.v[i]->name)) continue;
        const gql_node *at[2] = { u.v[i], n };
        if (n->name.ptr) ERR(c, at, 2, "Variable \"$%.*s\" is not defined by operation \"%.*s\".", S(u.v[i]->name), S(n->name));
        else ERR(c, at, 2, "Variable \"$%.*s\" is not defined.", S(u.v[i]->name));
    }
}

static void no_unused_variables(void *cx, const gql_node *n, const gql_path *p)
{
    vctx *c = cx;
    if (n->kind != GQL_OPERATION) return;
    nlist u = recursive_variable_usages(c, n);
    for (const gql_node *v = n->vars.first; v; v = v->next) {
        bool used = false;
        for (uint32_t i = 0; i < u.n && !used; i++) used = gql_kstr_eq(u.v[i]->name, v->value->name);
        if (used) continue;
        if (n->name.ptr) ERR(c, &v, 1, "Variable \"$%.*s\" is never used in operation \"%.*s\".", S(v->value->name), S(n->name));
        else ERR(c, &v, 1, "Variable \"$%.*s\" is never used.", S(v->value->name));
    }
}

void gql_validate(const gql_schema *s, const gql_node *doc, gql_errs *errs)
{
    vctx *c = arena_alloc(errs->a, sizeof *c);      /* large: not on the stack */
    gql_vstate_init(c, doc, errs, s);
    gql_ti_init(c);
    uint32_t ndefs = doc->items.len + 1;
    for (const gql_node *d = doc->items.first; d; d = d->next) c->operations += d->kind == GQL_OPERATION;
    c->seen_ops = arena_alloc(c->a, sizeof(gql_node *) * ndefs);
    c->nfrags = gql_fragments_sorted(c->a, doc, &c->frags);
    c->cycle_seen = arena_calloc(c->a, c->nfrags ? c->nfrags : 1);
    /* specifiedRules order. */
    static const gql_rule rules[] = {
        { executable_definitions, NULL },
        { unique_operation_names, NULL },
        { lone_anonymous, NULL },
        { single_field_subscriptions, NULL },
        { gql_rule_known_type_names, NULL },
        { fragments_on_composite_types, NULL },
        { variables_are_input_types, NULL },
        { gql_rule_scalar_leafs, NULL },
        { gql_rule_fields_on_correct_type, NULL },
        { unique_fragment_names, NULL },
        { known_fragment_names, NULL },
        { no_unused_fragments, no_unused_fragments_leave },
        { gql_rule_possible_fragment_spreads, NULL },
        { no_fragment_cycles, NULL },
        { unique_variable_names, NULL },
        { NULL, no_undefined_variables },
        { NULL, no_unused_variables },
        { gql_rule_known_directives, NULL },
        { gql_rule_unique_directives_per_location, NULL },
        { gql_rule_known_argument_names, NULL },
        { gql_rule_unique_argument_names, NULL },
        { gql_rule_values_of_correct_type, NULL },
        { NULL, gql_rule_provided_required_arguments },
        { gql_rule_variables_in_allowed_position, gql_rule_variables_in_allowed_position_leave },
        { gql_rule_overlapping_fields, NULL },
        { gql_rule_unique_input_fields, gql_rule_unique_input_fields_leave },
        { max_introspection_depth, NULL },
    };
    gql_visit_hooked(doc, rules, (int)ARRAY_LEN(rules), c, (gql_rule){ gql_ti_enter, gql_ti_leave });
}
