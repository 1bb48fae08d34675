/*
 * validate_overlap.c -- the OverlappingFieldsCanBeMerged validation rule,
 * as graphql-js 16 runs it: every selection set (with the fields of its
 * inline fragments and of the fragments it spreads) may only hold two
 * fields of one response name when they can be merged: the same field with
 * the same arguments (unless their parents are different object types),
 * return types that do not conflict, and sub-selections that merge in turn.
 *
 * The comparison runs in graphql-js's order so that the errors come out
 * the same: per selection set, (A) its fields with each other, (B) its
 * fields with each spread fragment (and the fragments those spread, E),
 * (C) the spread fragments pairwise (and what they spread, G); two fields
 * with sub-selections compare those (H, I, J). The messages nest:
 *     Fields "x" conflict because subfields "y" conflict because "a" and
 *     "b" are different fields. Use different aliases on the fields to
 *     fetch both if this was intentional.
 * with the locations of every field involved, first side then second.
 *
 * Why it is not quadratic in the document: each selection set's field map
 * (response name -> fields, by hash) is built once and cached by node; a
 * field map is compared with a fragment once, and two fragments once
 * (graphql-js's OrderedPairSet and PairSet, with its "mutually exclusive"
 * flag), so a fragment spread in many places is not walked again and
 * again. Fragment chains are walked from explicit stacks, in the same
 * order recursion would take, so a long chain does not deepen the C stack.
 * Nested field comparisons stop at OVERLAP_MAX_NESTING levels (about 64 KB
 * of C stack; requests run on 256 KB coroutine stacks): a conflict deeper
 * than that -- only fragments spread inside fields can build one, and the
 * depth limit (limits.h) refuses such a document -- is not reported, where
 * graphql-js would report it.
 *
 * Owns: its per-validation state, all in the validation arena. Must never:
 * word an error or order its locations differently from graphql-js; take
 * time quadratic in the number of distinct fields or fragments.
 */
#include "graphql/rules.h"

#include <stdlib.h>

#define S(k) (int)(k).len, (k).ptr
#define OVERLAP_MAX_NESTING 128

/* ---- A small hash table: 64-bit key -> nonzero 32-bit value ------------- */

typedef struct htab {
    uint64_t *k;
    uint32_t *v;                 /* 0: empty slot */
    uint32_t cap, n;
} htab;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The value slot of key: an existing one, or (insert) a new zero one. */
static uint32_t *ht_slot(arena *a, htab *t, uint64_t key, bool insert)
{
    if (insert && (t->n + 1) * 2 > t->cap) {
        htab g = { .cap = t->cap ? t->cap * 2 : 64 };
        g.k = arena_alloc(a, sizeof(uint64_t) * g.cap);
        g.v = arena_calloc(a, sizeof(uint32_t) * g.cap);
        for (uint32_t i = 0; i < t->cap; i++) {
            if (!t->v[i]) continue;
            uint32_t j = (uint32_t)mix(t->k[i]) & (g.cap - 1);
            while (g.v[j]) j = (j + 1) & (g.cap - 1);
            g.k[j] = t->k[i];
            g.v[j] = t->v[i];
        }
        g.n = t->n;
        *t = g;
    }
    if (!t->cap) return NULL;
    uint32_t j = (uint32_t)mix(key) & (t->cap - 1);
    while (t->v[j]) {
        if (t->k[j] == key) return &t->v[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!insert) return NULL;
    t->k[j] = key;
    t->n++;
    return &t->v[j];
}

static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

/* ---- Growable arrays in the arena --------------------------------------- */

#define GROW(a, arr, n, cap) do {                                              \
        if ((n) == (cap)) {                                                    \
            uint32_t nc_ = (cap) ? (cap) * 2 : 8;                              \
            void *nv_ = arena_alloc((a), sizeof *(arr) * nc_);                 \
            if (n) memcpy(nv_, (arr), sizeof *(arr) * (n));                    \
            (arr) = nv_;                                                       \
            (cap) = nc_;                                                       \
        }                                                                      \
    } while (0)

typedef struct u32s { uint32_t *v; uint32_t n, cap; } u32s;
typedef struct nodes { const gql_node **v; uint32_t n, cap; } nodes;

static void u32_push(arena *a, u32s *l, uint32_t x) { GROW(a, l->v, l->n, l->cap); l->v[l->n++] = x; }
static void node_push(arena *a, nodes *l, const gql_node *x) { GROW(a, l->v, l->n, l->cap); l->v[l->n++] = x; }

/* ---- Field maps ---------------------------------------------------------- */

/* A field with its parent type and definition (graphql-js's NodeAndDef). */
typedef struct ofield {
    const gql_type *parent;      /* NULL where graphql-js has undefined */
    const gql_node *node;
    const gql_field *def;
} ofield;

typedef struct ogroup {          /* the fields of one response name */
    uint32_t name;               /* interned                         */
    ofield *v;
    uint32_t n, cap;
} ogroup;

/* A selection set's fields by response name (insertion order) and the
 * names of the fragments it spreads (first spread order, once each). */
typedef struct fmap {
    uint32_t id;
    ogroup *groups;
    uint32_t ngroups, capg;
    u32s frags;
} fmap;

typedef struct reason {
    uint32_t name;               /* response name                     */
    const char *msg;             /* a plain reason, or NULL: subs     */
    struct reason *subs;
    uint32_t nsubs;
} reason;

typedef struct conflict {
    reason r;
    nodes f1, f2;
} conflict;

typedef struct clist { conflict *v; uint32_t n, cap; } clist;

typedef struct overlap {
    gql_vstate *c;
    arena *a;
    /* interned names (response names and fragment names) */
    kiln_str *names;
    const gql_node **defs;       /* per name: getFragment (the last definition) */
    uint32_t nnames, capn;
    htab name_ix;                /* name hash (salted on a clash) -> id + 1 */
    uint32_t nfmaps;
    htab cache;                  /* selection set node -> fmap index + 1 */
    fmap **fmaps;
    uint32_t capf;
    htab groups;                 /* (fmap, name) -> group index + 1   */
    htab spread;                 /* (fmap, name) -> 1: fragment listed */
    htab field_frag;             /* OrderedPairSet (fmap, fragment) -> exclusive + 1 */
    htab frag_pair;              /* PairSet (fragment, fragment)    -> exclusive + 1 */
    u32s work;                   /* the fragment walks' shared stack        */
    int nesting;
} overlap;

static uint64_t str_hash(kiln_str s)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < s.len; i++) h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ULL;
    return h;
}

/* The id of a name. The name table is keyed by hash; equal hashes of
 * different names are told apart by probing on with a salted key. */
static uint32_t intern(overlap *o, kiln_str s)
{
    uint64_t h = str_hash(s);
    for (uint64_t salt = 0;; salt++) {
        uint32_t *slot = ht_slot(o->a, &o->name_ix, h + salt * 0x9e3779b97f4a7c15ULL, true);
        if (*slot) {
            if (gql_kstr_eq(o->names[*slot - 1], s)) return *slot - 1;
            continue;
        }
        if (o->nnames == o->capn) {            /* names and defs grow together */
            uint32_t cap = o->capn ? o->capn * 2 : 64;
            kiln_str *nv = arena_alloc(o->a, sizeof(kiln_str) * cap);
            const gql_node **dv = arena_alloc(o->a, sizeof(gql_node *) * cap);
            if (o->nnames) {
                memcpy(nv, o->names, sizeof(kiln_str) * o->nnames);
                memcpy(dv, o->defs, sizeof(gql_node *) * o->nnames);
            }
            o->names = nv;
            o->defs = dv;
            o->capn = cap;
        }
        o->names[o->nnames] = s;
        o->defs[o->nnames] = NULL;
        *slot = ++o->nnames;
        return o->nnames - 1;
    }
}

static bool is_object(const gql_type *t) { return t && t->kind == GQL_TK_OBJECT; }

static void collect(overlap *o, fmap *fm, const gql_type *parent, const gql_node *set)
{
    for (const gql_node *s = set->items.first; s; s = s->next) {
        if (s->kind == GQL_FIELD) {
            const gql_field *def = NULL;
            if (parent && (parent->kind == GQL_TK_OBJECT || parent->kind == GQL_TK_INTERFACE))
                def = gql_type_field(parent, s->name);
            uint32_t name = intern(o, s->alias.ptr ? s->alias : s->name);
            uint32_t *slot = ht_slot(o->a, &o->groups, pair_key(fm->id, name), true);
            if (!*slot) {
                GROW(o->a, fm->groups, fm->ngroups, fm->capg);
                fm->groups[fm->ngroups] = (ogroup){ .name = name };
                *slot = ++fm->ngroups;
            }
            ogroup *g = &fm->groups[*slot - 1];
            GROW(o->a, g->v, g->n, g->cap);
            g->v[g->n++] = (ofield){ parent, s, def };
        } else if (s->kind == GQL_FRAGMENT_SPREAD) {
            uint32_t name = intern(o, s->name);
            uint32_t *slot = ht_slot(o->a, &o->spread, pair_key(fm->id, name), true);
            if (!*slot) { *slot = 1; u32_push(o->a, &fm->frags, name); }
        } else if (s->kind == GQL_INLINE_FRAGMENT) {
            const gql_type *t = s->type ? gql_schema_type(o->c->schema, s->type->name) : parent;
            collect(o, fm, t, s->selection_set);
        }
    }
}

/* getFieldsAndFragmentNames: cached per selection set node (the first
 * parent type asked with wins, as in graphql-js). */
static fmap *fields_of(overlap *o, const gql_type *parent, const gql_node *set)
{
    uint32_t *slot = ht_slot(o->a, &o->cache, (uint64_t)(uintptr_t)set, false);
    if (slot) return o->fmaps[*slot - 1];
    fmap *fm = arena_calloc(o->a, sizeof *fm);
    fm->id = o->nfmaps;
    GROW(o->a, o->fmaps, o->nfmaps, o->capf);
    o->fmaps[o->nfmaps++] = fm;
    collect(o, fm, parent, set);
    *ht_slot(o->a, &o->cache, (uint64_t)(uintptr_t)set, true) = fm->id + 1;
    return fm;
}

/* getReferencedFieldsAndFragmentNames */
static fmap *fields_of_fragment(overlap *o, const gql_node *frag)
{
    uint32_t *slot = ht_slot(o->a, &o->cache, (uint64_t)(uintptr_t)frag->selection_set, false);
    if (slot) return o->fmaps[*slot - 1];
    return fields_of(o, gql_schema_type(o->c->schema, frag->type->name), frag->selection_set);
}

static ogroup *group_of(overlap *o, const fmap *fm, uint32_t name)
{
    uint32_t *slot = ht_slot(o->a, &o->groups, pair_key(fm->id, name), false);
    return slot ? &fm->groups[*slot - 1] : NULL;
}

/* The pair sets: present when stored; asked "not exclusive", only a pair
 * stored "not exclusive" counts. */
static bool pair_has(overlap *o, htab *t, uint64_t key, bool exclusive)
{
    uint32_t *slot = ht_slot(o->a, t, key, false);
    return slot && (exclusive || *slot == 1);
}

static void pair_add(overlap *o, htab *t, uint64_t key, bool exclusive)
{
    *ht_slot(o->a, t, key, true) = exclusive ? 2 : 1;
}

/* ---- Comparing ------------------------------------------------------------ */

static bool find_conflict(overlap *o, bool parents_exclusive, uint32_t name, const ofield *f1, const ofield *f2, conflict *out);

static void add_conflict(overlap *o, clist *cl, const conflict *x)
{
    GROW(o->a, cl->v, cl->n, cl->cap);
    cl->v[cl->n++] = *x;
}

/* (A) collectConflictsWithin */
static void within(overlap *o, clist *cl, const fmap *fm)
{
    for (uint32_t g = 0; g < fm->ngroups; g++) {
        const ogroup *gr = &fm->groups[g];
        for (uint32_t i = 0; i < gr->n; i++)
            for (uint32_t j = i + 1; j < gr->n; j++) {
                conflict x;
                if (find_conflict(o, false, gr->name, &gr->v[i], &gr->v[j], &x)) add_conflict(o, cl, &x);
            }
    }
}

/* collectConflictsBetween */
static void between(overlap *o, clist *cl, bool exclusive, const fmap *fm1, const fmap *fm2)
{
    for (uint32_t g = 0; g < fm1->ngroups; g++) {
        const ogroup *g1 = &fm1->groups[g], *g2 = group_of(o, fm2, g1->name);
        if (!g2) continue;
        for (uint32_t i = 0; i < g1->n; i++)
            for (uint32_t j = 0; j < g2->n; j++) {
                conflict x;
                if (find_conflict(o, exclusive, g1->name, &g1->v[i], &g2->v[j], &x)) add_conflict(o, cl, &x);
            }
    }
}

/* (D, E) collectConflictsBetweenFieldsAndFragment, with the recursion into
 * the fragments it spreads taken from the work stack in the same
 * (preorder) order. Calls nested in between() use the stack above `base`
 * and leave it as they found it. */
static void fields_and_fragment(overlap *o, clist *cl, bool exclusive, const fmap *fm, uint32_t fragment)
{
    uint32_t base = o->work.n;
    u32_push(o->a, &o->work, fragment);
    while (o->work.n > base) {
        uint32_t f = o->work.v[--o->work.n];
        uint64_t key = pair_key(fm->id, f);
        if (pair_has(o, &o->field_frag, key, exclusive)) continue;
        if (!o->defs[f]) continue;        /* nothing to compare: no memo needed */
        pair_add(o, &o->field_frag, key, exclusive);
        const fmap *fm2 = fields_of_fragment(o, o->defs[f]);
        if (fm2 == fm) continue;
        between(o, cl, exclusive, fm, fm2);
        for (uint32_t i = fm2->frags.n; i-- > 0;) u32_push(o->a, &o->work, fm2->frags.v[i]);
    }
}

static bool empty(const fmap *fm) { return !fm->ngroups && !fm->frags.n; }

/* (F, G) collectConflictsBetweenFragments, pairs from the work stack. A pair
 * with an unknown or empty side can conflict in nothing and lead nowhere:
 * it is dropped before the memo (which only saves repeated work), so
 * thousands of such spreads cost no memory. */
static void fragments(overlap *o, clist *cl, bool exclusive, uint32_t frag1, uint32_t frag2)
{
    uint32_t base = o->work.n;
    u32_push(o->a, &o->work, frag1);
    u32_push(o->a, &o->work, frag2);
    while (o->work.n > base) {
        uint32_t b = o->work.v[--o->work.n], a = o->work.v[--o->work.n];
        if (a == b) continue;
        uint64_t key = a < b ? pair_key(a, b) : pair_key(b, a);
        if (pair_has(o, &o->frag_pair, key, exclusive)) continue;
        if (!o->defs[a] || !o->defs[b]) continue;
        const fmap *fm1 = fields_of_fragment(o, o->defs[a]);
        const fmap *fm2 = fields_of_fragment(o, o->defs[b]);
        if (empty(fm1) || empty(fm2)) continue;
        pair_add(o, &o->frag_pair, key, exclusive);
        between(o, cl, exclusive, fm1, fm2);
        /* recursion order: (a, each of b's), then (each of a's, b) */
        for (uint32_t i = fm1->frags.n; i-- > 0;) { u32_push(o->a, &o->work, fm1->frags.v[i]); u32_push(o->a, &o->work, b); }
        for (uint32_t i = fm2->frags.n; i-- > 0;) { u32_push(o->a, &o->work, a); u32_push(o->a, &o->work, fm2->frags.v[i]); }
    }
}

/* (H, I, J) findConflictsBetweenSubSelectionSets */
static clist sub_selections(overlap *o, bool exclusive, const gql_type *p1, const gql_node *s1, const gql_type *p2, const gql_node *s2)
{
    clist cl = { 0 };
    const fmap *fm1 = fields_of(o, p1, s1), *fm2 = fields_of(o, p2, s2);
    between(o, &cl, exclusive, fm1, fm2);
    for (uint32_t i = 0; i < fm2->frags.n; i++) fields_and_fragment(o, &cl, exclusive, fm1, fm2->frags.v[i]);
    for (uint32_t i = 0; i < fm1->frags.n; i++) fields_and_fragment(o, &cl, exclusive, fm2, fm1->frags.v[i]);
    for (uint32_t i = 0; i < fm1->frags.n; i++)
        for (uint32_t j = 0; j < fm2->frags.n; j++) fragments(o, &cl, exclusive, fm1->frags.v[i], fm2->frags.v[j]);
    return cl;
}

/* print(sortValueNode(v)): object fields sorted by name (naturalCompare,
 * stable), at every level; everything else as it is. */
typedef struct keyed { const gql_node *n; uint32_t at; } keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c = gql_natural_compare(a->n->name, b->n->name);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

static const gql_node *sorted_value(arena *a, const gql_node *v)
{
    if (v->kind != GQL_OBJECT && v->kind != GQL_LIST) return v;
    gql_node *copy = arena_alloc(a, sizeof *copy);
    *copy = *v;
    uint32_t n = v->items.len, k = 0;
    keyed *items = arena_alloc(a, sizeof(keyed) * (n ? n : 1));
    for (const gql_node *i = v->items.first; i && k < n; i = i->next, k++) {
        gql_node *item;
        if (v->kind == GQL_OBJECT) {
            item = arena_alloc(a, sizeof *item);
            *item = *i;
            item->value = (gql_node *)sorted_value(a, i->value);
        } else {
            const gql_node *s = sorted_value(a, i);
            item = arena_alloc(a, sizeof *item);
            *item = *s;
        }
        items[k] = (keyed){ item, k };
    }
    if (v->kind == GQL_OBJECT) qsort(items, k, sizeof(keyed), keyed_cmp);
    copy->items.first = NULL;
    for (uint32_t i = k; i-- > 0;) {
        gql_node *item = (gql_node *)items[i].n;
        item->next = copy->items.first;
        copy->items.first = item;
    }
    copy->items.len = k;
    return copy;
}

static bool same_value(arena *a, const gql_node *x, const gql_node *y)
{
    buf bx, by;
    buf_init(&bx, 64);
    buf_init(&by, 64);
    gql_print(&bx, sorted_value(a, x));
    gql_print(&by, sorted_value(a, y));
    bool same = bx.len == by.len && (bx.len == 0 || memcmp(bx.data, by.data, bx.len) == 0);
    buf_free(&bx);
    buf_free(&by);
    return same;
}

/* sameArguments: as many, and each of the first's by name (the last of
 * that name in the second) printing the same. */
static bool same_arguments(arena *a, const gql_node *n1, const gql_node *n2)
{
    if (!n1->args.len || !n2->args.len) return n1->args.len == n2->args.len;
    if (n1->args.len != n2->args.len) return false;
    for (const gql_node *x = n1->args.first; x; x = x->next) {
        const gql_node *y = NULL;
        for (const gql_node *z = n2->args.first; z; z = z->next)
            if (gql_kstr_eq(z->name, x->name)) y = z;
        if (!y || !same_value(a, x->value, y->value)) return false;
    }
    return true;
}

static bool leaf(const gql_type *t) { return t->kind == GQL_TK_SCALAR || t->kind == GQL_TK_ENUM; }

/* doTypesConflict: lists and non-nulls must match; leaves must be the same. */
static bool types_conflict(const gql_tref *t1, const gql_tref *t2)
{
    if (t1->kind == GQL_REF_LIST) return t2->kind == GQL_REF_LIST ? types_conflict(t1->of, t2->of) : true;
    if (t2->kind == GQL_REF_LIST) return true;
    if (t1->kind == GQL_REF_NON_NULL) return t2->kind == GQL_REF_NON_NULL ? types_conflict(t1->of, t2->of) : true;
    if (t2->kind == GQL_REF_NON_NULL) return true;
    if (leaf(t1->named) || leaf(t2->named)) return t1->named != t2->named;
    return false;
}

static void simple(conflict *out, uint32_t name, const char *msg, const ofield *f1, const ofield *f2, arena *a)
{
    *out = (conflict){ .r = { .name = name, .msg = msg } };
    node_push(a, &out->f1, f1->node);
    node_push(a, &out->f2, f2->node);
}

static bool find_conflict(overlap *o, bool parents_exclusive, uint32_t name, const ofield *f1, const ofield *f2, conflict *out)
{
    const gql_node *n1 = f1->node, *n2 = f2->node;
    bool exclusive = parents_exclusive || (f1->parent != f2->parent && is_object(f1->parent) && is_object(f2->parent));
    if (!exclusive) {
        if (!gql_kstr_eq(n1->name, n2->name)) {
            simple(out, name, gql_arena_printf(o->a, "\"%.*s\" and \"%.*s\" are different fields", S(n1->name), S(n2->name)), f1, f2, o->a);
            return true;
        }
        if (!same_arguments(o->a, n1, n2)) {
            simple(out, name, "they have differing arguments", f1, f2, o->a);
            return true;
        }
    }
    const gql_tref *t1 = f1->def ? f1->def->type : NULL, *t2 = f2->def ? f2->def->type : NULL;
    if (t1 && t2 && types_conflict(t1, t2)) {
        simple(out, name, gql_arena_printf(o->a, "they return conflicting types \"%s\" and \"%s\"",
                                           gql_tref_str(o->a, t1), gql_tref_str(o->a, t2)), f1, f2, o->a);
        return true;
    }
    if (!n1->selection_set || !n2->selection_set || o->nesting >= OVERLAP_MAX_NESTING) return false;
    o->nesting++;
    clist sub = sub_selections(o, exclusive, t1 ? gql_tref_named(t1) : NULL, n1->selection_set,
                               t2 ? gql_tref_named(t2) : NULL, n2->selection_set);
    o->nesting--;
    if (!sub.n) return false;
    /* subfieldConflicts: one conflict naming the sub-conflicts, with every
     * field of each side: this one, then theirs in order. */
    *out = (conflict){ .r = { .name = name, .nsubs = sub.n } };
    out->r.subs = arena_alloc(o->a, sizeof(reason) * sub.n);
    node_push(o->a, &out->f1, n1);
    node_push(o->a, &out->f2, n2);
    for (uint32_t i = 0; i < sub.n; i++) {
        out->r.subs[i] = sub.v[i].r;
        for (uint32_t k = 0; k < sub.v[i].f1.n; k++) node_push(o->a, &out->f1, sub.v[i].f1.v[k]);
        for (uint32_t k = 0; k < sub.v[i].f2.n; k++) node_push(o->a, &out->f2, sub.v[i].f2.v[k]);
    }
    return true;
}

/* reasonMessage */
static void put_reason(const overlap *o, buf *b, const reason *r)
{
    if (r->msg) { buf_puts(b, r->msg); return; }
    for (uint32_t i = 0; i < r->nsubs; i++) {
        if (i) buf_puts(b, " and ");
        buf_printf(b, "subfields \"%.*s\" conflict because ", S(o->names[r->subs[i].name]));
        put_reason(o, b, &r->subs[i]);
    }
}

static overlap *state(gql_vstate *c)
{
    if (c->overlap) return c->overlap;
    overlap *o = arena_calloc(c->a, sizeof *o);
    o->c = c;
    o->a = c->a;
    /* getFragment: the last definition of each name */
    for (const gql_node *d = c->doc->items.first; d; d = d->next)
        if (d->kind == GQL_FRAGMENT_DEF) {
            uint32_t id = intern(o, d->name);
            o->defs[id] = d;
        }
    c->overlap = o;
    return o;
}

/* The rule: on entering each selection set, findConflictsWithinSelectionSet
 * with TypeInfo's parent type, each conflict reported at once. */
bool gql_rule_overlapping_fields(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind != GQL_SELECTION_SET) return true;
    overlap *o = state(c);
    const gql_type *parent = c->ti->nparent > 0 ? c->ti->parent[c->ti->nparent - 1] : NULL;
    clist cl = { 0 };
    const fmap *fm = fields_of(o, parent, n);
    within(o, &cl, fm);                                                    /* A */
    for (uint32_t i = 0; i < fm->frags.n; i++) {
        fields_and_fragment(o, &cl, false, fm, fm->frags.v[i]);           /* B */
        for (uint32_t j = i + 1; j < fm->frags.n; j++)
            fragments(o, &cl, false, fm->frags.v[i], fm->frags.v[j]);     /* C */
    }
    for (uint32_t i = 0; i < cl.n; i++) {
        buf msg;
        buf_init(&msg, 128);
        put_reason(o, &msg, &cl.v[i].r);
        nodes all = { 0 };
        for (uint32_t k = 0; k < cl.v[i].f1.n; k++) node_push(o->a, &all, cl.v[i].f1.v[k]);
        for (uint32_t k = 0; k < cl.v[i].f2.n; k++) node_push(o->a, &all, cl.v[i].f2.v[k]);
        gql_errs_add(c->errs, all.v, (int)all.n,
                     "Fields \"%.*s\" conflict because %.*s. Use different aliases on the fields to fetch both if this was intentional.",
                     S(o->names[cl.v[i].r.name]), (int)msg.len, msg.data ? msg.data : "");
        buf_free(&msg);
    }
    return true;
}
