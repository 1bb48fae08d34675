/*
 * schema.c -- build a GraphQL schema from an SDL document, the way
 * graphql-js 16's buildASTSchema() / extendSchemaImpl() and the
 * GraphQLSchema constructor do.
 *
 * What it does. gql_schema_build() runs the SDL rules (sdl_rules.c; any
 * error stops there, as assertValidSDL throws), then turns the definitions
 * into gql_type / gql_field / gql_directive records: extensions are merged
 * into their type in document order, the specified scalars (String, Int,
 * Float, Boolean, ID) and directives (@include, @skip, @deprecated,
 * @specifiedBy, @oneOf) are added, the root types come from `schema { }`
 * or from the names Query / Mutation / Subscription, and the type map is
 * ordered as graphql-js orders it (which introspection shows). Finally the
 * schema checks of validateSchema() run (schema_check.c).
 *
 * Owns: nothing; everything is allocated in the caller's arena and points
 * into the SDL document. Must never: accept a schema graphql-js rejects.
 */
#include "graphql/schema.h"

#include <stdarg.h>
#include <stdio.h>

const char *const gql_dloc_names[GQL_DL_COUNT] = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT", "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION",
};

/* ---- Errors -------------------------------------------------------------- */

static void add_err(gql_errs *e, const uint32_t *offs, int n, const char *fmt, va_list ap)
{
    if (e->max && e->count >= e->max) {     /* graphql-js's maxErrors */
        if (e->stopped) return;
        e->stopped = true;
        gql_err *err = arena_calloc(e->a, sizeof *err);
        err->message = "Too many validation errors, error limit reached. Validation aborted.";
        e->last->next = err;
        e->last = err;
        e->count++;
        return;
    }
    buf b;
    buf_init(&b, 128);
    buf_vprintf(&b, fmt, ap);
    gql_err *err = arena_calloc(e->a, sizeof *err);
    err->message = arena_strndup(e->a, b.data, b.len);
    buf_free(&b);
    err->locs = arena_alloc(e->a, sizeof(gql_loc) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        gql_location(e->src, e->src_len, offs[i], &err->locs[err->nlocs].line, &err->locs[err->nlocs].column);
        err->nlocs++;
    }
    if (e->last) e->last->next = err;
    else e->first = err;
    e->last = err;
    e->count++;
}

void gql_errs_add(gql_errs *e, const gql_node *const *nodes, int nnodes, const char *fmt, ...)
{
    uint32_t small[8], *offs = small;      /* every node's location */
    if (nnodes > 8) offs = arena_alloc(e->a, sizeof(uint32_t) * (size_t)nnodes);
    int n = 0;
    for (int i = 0; i < nnodes; i++)
        if (nodes[i]) offs[n++] = nodes[i]->start;
    va_list ap;
    va_start(ap, fmt);
    add_err(e, offs, n, fmt, ap);
    va_end(ap);
}

void gql_errs_add_at(gql_errs *e, const uint32_t *offsets, int n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_err(e, offsets, n, fmt, ap);
    va_end(ap);
}

/* ---- Small helpers ---------------------------------------------------------- */


gql_type *gql_schema_type(const gql_schema *s, kiln_str name)
{
    for (uint32_t i = 0; i < s->ntypes; i++)
        if (gql_kstr_eq(s->types[i]->name, name)) return s->types[i];
    return NULL;
}

gql_type *gql_schema_type_c(const gql_schema *s, const char *name) { return gql_schema_type(s, (kiln_str){ name, strlen(name) }); }

gql_directive *gql_schema_directive(const gql_schema *s, kiln_str name)
{
    for (uint32_t i = 0; i < s->ndirectives; i++)
        if (gql_kstr_eq(s->directives[i]->name, name)) return s->directives[i];
    return NULL;
}

gql_field *gql_type_field(const gql_type *t, kiln_str name)
{
    for (uint32_t i = 0; i < t->nfields; i++)
        if (gql_kstr_eq(t->fields[i].name, name)) return &t->fields[i];
    return NULL;
}

gql_arg *gql_type_input_field(const gql_type *t, kiln_str name)
{
    for (uint32_t i = 0; i < t->ninput_fields; i++)
        if (gql_kstr_eq(t->input_fields[i].name, name)) return &t->input_fields[i];
    return NULL;
}

gql_type *gql_tref_named(const gql_tref *r)
{
    while (r->kind != GQL_REF_NAMED) r = r->of;
    return r->named;
}

void gql_tref_print(buf *out, const gql_tref *r)
{
    if (r->kind == GQL_REF_LIST) { buf_putc(out, '['); gql_tref_print(out, r->of); buf_putc(out, ']'); }
    else if (r->kind == GQL_REF_NON_NULL) { gql_tref_print(out, r->of); buf_putc(out, '!'); }
    else buf_append(out, r->named->name.ptr, r->named->name.len);
}

const char *gql_tref_str(arena *a, const gql_tref *r)
{
    buf b;
    buf_init(&b, 32);
    gql_tref_print(&b, r);
    const char *s = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return s;
}

const char *gql_arena_printf(arena *a, const char *fmt, ...)
{
    buf b;
    buf_init(&b, 96);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    const char *s = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return s;
}

/* ---- The builder ------------------------------------------------------------- */

typedef struct builder {
    arena *a;
    gql_schema *s;
    gql_type **defined;          /* types in definition order (graphql-js typeMap of extendSchemaImpl) */
    uint32_t ndefined;
    gql_type *intro[8];          /* __Schema, __Type ... (built-in)       */
    uint32_t nintro;
    gql_type *std[5];            /* String Int Float Boolean ID */
} builder;

static const char *const std_names[5] = { "String", "Int", "Float", "Boolean", "ID" };

static gql_type *find_defined(builder *b, kiln_str name)
{
    for (int i = 0; i < 5; i++)
        if (gql_kstr_eq(b->std[i]->name, name)) return b->std[i];
    for (uint32_t i = 0; i < b->nintro; i++)
        if (gql_kstr_eq(b->intro[i]->name, name)) return b->intro[i];
    for (uint32_t i = 0; i < b->ndefined; i++)
        if (gql_kstr_eq(b->defined[i]->name, name)) return b->defined[i];
    return NULL;
}

static const gql_tref *build_tref(builder *b, const gql_node *n)
{
    gql_tref *r = arena_calloc(b->a, sizeof *r);
    if (n->kind == GQL_LIST_TYPE || n->kind == GQL_NON_NULL_TYPE) {
        r->kind = n->kind == GQL_LIST_TYPE ? GQL_REF_LIST : GQL_REF_NON_NULL;
        r->of = build_tref(b, n->type);
        return r;
    }
    r->kind = GQL_REF_NAMED;
    r->named = find_defined(b, n->name);
    KILN_ASSERT(r->named != NULL);       /* the SDL rules reject unknown names */
    return r;
}

static const gql_node *find_directive(gql_list dirs, const char *name)
{
    for (const gql_node *d = dirs.first; d; d = d->next)
        if (gql_kstr_is(d->name, name)) return d;
    return NULL;
}

static const gql_node *find_arg(const gql_node *dir, const char *name)
{
    for (const gql_node *a = dir->args.first; a; a = a->next)
        if (gql_kstr_is(a->name, name)) return a;
    return NULL;
}

/* @deprecated(reason:) of a definition: sets *dep and *reason. A reason
 * given as null means "not deprecated", as graphql-js reads it. */
static void deprecation(const gql_node *def, const gql_node **dep, kiln_str *reason)
{
    const gql_node *d = find_directive(def->directives, "deprecated");
    *dep = NULL;
    if (!d) return;
    const gql_node *r = find_arg(d, "reason");
    if (r && r->value->kind == GQL_NULL) return;
    *dep = d;
    if (r && r->value->kind == GQL_STRING) *reason = r->value->name;
    else *reason = (kiln_str){ "No longer supported", 19 };
}

static gql_arg *build_args(builder *b, gql_list l, gql_arg *into, uint32_t *n)
{
    for (const gql_node *a = l.first; a; a = a->next) {
        gql_arg *g = &into[(*n)++];
        g->name = a->name;
        g->description = a->description;
        g->type = build_tref(b, a->type);
        g->default_value = a->default_value;
        deprecation(a, &g->deprecated, &g->reason);
        g->ast = a;
    }
    return into;
}

static gql_arg *new_args(builder *b, gql_list l, uint32_t *n)
{
    *n = 0;
    gql_arg *args = arena_calloc(b->a, sizeof(gql_arg) * (l.len + 1));
    return build_args(b, l, args, n);
}

/* The definition and its extensions, in order. */
typedef struct parts {
    const gql_node *n[64];
    uint32_t count;
} parts;

static void collect_parts(const gql_type *t, parts *p)
{
    p->count = 0;
    p->n[p->count++] = t->ast;
    for (uint32_t i = 0; i < t->nexts && p->count < ARRAY_LEN(p->n); i++) p->n[p->count++] = t->exts[i];
}

/* Interfaces (or union members) of the definition and its extensions. */
static gql_type **named_list(builder *b, const parts *p, uint32_t *count)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < p->count; i++) total += p->n[i]->interfaces.len;
    gql_type **out = arena_calloc(b->a, sizeof(gql_type *) * (total + 1));
    *count = 0;
    for (uint32_t i = 0; i < p->count; i++)
        for (const gql_node *t = p->n[i]->interfaces.first; t; t = t->next) {
            gql_type *ty = find_defined(b, t->name);
            KILN_ASSERT(ty != NULL);
            out[(*count)++] = ty;
        }
    return out;
}

/* Fill a defined type's members from its definition and extensions. */
static void build_members(builder *b, gql_type *t)
{
    parts p;
    collect_parts(t, &p);
    uint32_t total = 0;
    for (uint32_t i = 0; i < p.count; i++) total += p.n[i]->items.len;
    switch (t->kind) {
    case GQL_TK_OBJECT:
    case GQL_TK_INTERFACE:
        t->interfaces = named_list(b, &p, &t->ninterfaces);
        t->fields = arena_calloc(b->a, sizeof(gql_field) * (total + 1));
        for (uint32_t i = 0; i < p.count; i++)
            for (const gql_node *f = p.n[i]->items.first; f; f = f->next) {
                gql_field *g = &t->fields[t->nfields++];
                g->name = f->name;
                g->description = f->description;
                g->args = new_args(b, f->args, &g->nargs);
                g->type = build_tref(b, f->type);
                deprecation(f, &g->deprecated, &g->reason);
                g->ast = f;
                g->owner = t;
            }
        break;
    case GQL_TK_UNION:
        t->members = named_list(b, &p, &t->nmembers);
        break;
    case GQL_TK_ENUM:
        t->values = arena_calloc(b->a, sizeof(gql_enum_value) * (total + 1));
        for (uint32_t i = 0; i < p.count; i++)
            for (const gql_node *v = p.n[i]->items.first; v; v = v->next) {
                gql_enum_value *g = &t->values[t->nvalues++];
                g->name = v->name;
                g->description = v->description;
                deprecation(v, &g->deprecated, &g->reason);
                g->ast = v;
            }
        break;
    case GQL_TK_INPUT_OBJECT:
        t->input_fields = arena_calloc(b->a, sizeof(gql_arg) * (total + 1));
        for (uint32_t i = 0; i < p.count; i++) build_args(b, p.n[i]->items, t->input_fields, &t->ninput_fields);
        t->one_of = find_directive(t->ast->directives, "oneOf") != NULL;
        break;
    case GQL_TK_SCALAR: {
        const gql_node *d = find_directive(t->ast->directives, "specifiedBy");
        const gql_node *u = d ? find_arg(d, "url") : NULL;
        if (u && u->value->kind == GQL_STRING) { t->has_specified_by = true; t->specified_by = u->value->name; }
        break;
    }
    }
}

static gql_tkind kind_of(gql_kind k)
{
    switch (k) {
    case GQL_SCALAR_DEF: case GQL_SCALAR_EXT: return GQL_TK_SCALAR;
    case GQL_OBJECT_DEF: case GQL_OBJECT_EXT: return GQL_TK_OBJECT;
    case GQL_INTERFACE_DEF: case GQL_INTERFACE_EXT: return GQL_TK_INTERFACE;
    case GQL_UNION_DEF: case GQL_UNION_EXT: return GQL_TK_UNION;
    case GQL_ENUM_DEF: case GQL_ENUM_EXT: return GQL_TK_ENUM;
    default: return GQL_TK_INPUT_OBJECT;
    }
}

static bool is_type_def(gql_kind k) { return k >= GQL_SCALAR_DEF && k <= GQL_INPUT_OBJECT_DEF && k != GQL_FIELD_DEF && k != GQL_INPUT_VALUE_DEF && k != GQL_ENUM_VALUE_DEF; }
static bool is_type_ext(gql_kind k) { return k >= GQL_SCALAR_EXT && k <= GQL_INPUT_OBJECT_EXT; }

static gql_directive *build_directive(builder *b, const gql_node *d)
{
    gql_directive *g = arena_calloc(b->a, sizeof *g);
    g->name = d->name;
    g->description = d->description;
    g->args = new_args(b, d->args, &g->nargs);
    g->repeatable = d->flag;
    g->locations = arena_calloc(b->a, sizeof(gql_dloc) * (d->items.len + 1));
    for (const gql_node *l = d->items.first; l; l = l->next)
        for (int i = 0; i < GQL_DL_COUNT; i++)
            if (gql_kstr_is(l->name, gql_dloc_names[i])) g->locations[g->nlocations++] = (gql_dloc)i;
    g->ast = d;
    return g;
}

/* ---- Type map order (GraphQLSchema's collectReferencedTypes) ------------------ */

typedef struct order {
    gql_type **v;
    uint32_t n, cap;
} order;

/* The position of t in o (its slot may have been emptied: NULL), or -1. */
static int64_t slot_of(const order *o, const gql_type *t)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (o->v[i] == t) return i;
    return -1;
}

static void push(arena *a, order *o, gql_type *t)
{
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 32;
        gql_type **v = arena_alloc(a, sizeof(gql_type *) * cap);
        if (o->n) memcpy(v, o->v, sizeof(gql_type *) * o->n);
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = t;
}

/* Add t's children that are not in o yet (depth first), after t. */
static void collect(arena *a, order *o, gql_type *t);
static void collect_children(arena *a, order *o, gql_type *t)
{
    if (t->kind == GQL_TK_UNION) {
        for (uint32_t i = 0; i < t->nmembers; i++) collect(a, o, t->members[i]);
    } else if (t->kind == GQL_TK_OBJECT || t->kind == GQL_TK_INTERFACE) {
        for (uint32_t i = 0; i < t->ninterfaces; i++) collect(a, o, t->interfaces[i]);
        for (uint32_t i = 0; i < t->nfields; i++) {
            collect(a, o, gql_tref_named(t->fields[i].type));
            for (uint32_t j = 0; j < t->fields[i].nargs; j++) collect(a, o, gql_tref_named(t->fields[i].args[j].type));
        }
    } else if (t->kind == GQL_TK_INPUT_OBJECT) {
        for (uint32_t i = 0; i < t->ninput_fields; i++) collect(a, o, gql_tref_named(t->input_fields[i].type));
    }
}

static void collect(arena *a, order *o, gql_type *t)
{
    if (slot_of(o, t) >= 0) return;
    push(a, o, t);
    collect_children(a, o, t);
}

/* graphql-js starts from a Set of every defined type, and for each one in
 * turn deletes it, adds it back (at the end) and collects what it
 * references: a defined type moves to the end on its own turn only. */
static void collect_defined(arena *a, order *o, gql_type *const *defined, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) push(a, o, defined[i]);
    for (uint32_t i = 0; i < n; i++) {
        o->v[slot_of(o, defined[i])] = NULL;
        push(a, o, defined[i]);
        collect_children(a, o, defined[i]);
    }
    uint32_t w = 0;
    for (uint32_t i = 0; i < o->n; i++)
        if (o->v[i]) o->v[w++] = o->v[i];
    o->n = w;
}

/* The specified directives, built from their SDL (with graphql-js's
 * descriptions), appended unless the document declares one of that name. */
static const char specified_sdl[] =
    "\"Directs the executor to include this field or fragment only when the `if` argument is true.\"\n"
    "directive @include(\"Included when true.\" if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\"Directs the executor to skip this field or fragment when the `if` argument is true.\"\n"
    "directive @skip(\"Skipped when true.\" if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\"Marks an element of a GraphQL schema as no longer supported.\"\n"
    "directive @deprecated(\"Explains why this element was deprecated, usually also including a suggestion for how to "
    "access supported similar data. Formatted using the Markdown syntax, as specified by "
    "[CommonMark](https://commonmark.org/).\" reason: String = \"No longer supported\") "
    "on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE\n"
    "\"Exposes a URL that specifies the behavior of this scalar.\"\n"
    "directive @specifiedBy(\"The URL that specifies the behavior of this scalar.\" url: String!) on SCALAR\n"
    "\"Indicates exactly one field must be supplied and this field must not be `null`.\"\n"
    "directive @oneOf on INPUT_OBJECT\n";

static const char *const std_descriptions[5] = {
    "The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is "
    "most often used by GraphQL to represent free-form human-readable text.",
    "The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between "
    "-(2^31) and 2^31 - 1.",
    "The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE "
    "754](https://en.wikipedia.org/wiki/IEEE_floating_point).",
    "The `Boolean` scalar type represents `true` or `false`.",
    "The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The "
    "ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected "
    "as an input type, any string (such as `\"4\"`) or integer (such as `4`) input value will be accepted as an ID.",
};

static gql_type *new_type(builder *b, const gql_node *d, uint32_t nexts)
{
    gql_type *t = arena_calloc(b->a, sizeof *t);
    t->kind = kind_of(d->kind);
    t->name = d->name;
    t->description = d->description;
    t->ast = d;
    t->exts = arena_calloc(b->a, sizeof(gql_node *) * (nexts + 1));
    return t;
}

/* The introspection types, from their SDL, built like any other. */
static void add_intro(builder *b)
{
    gql_error perr;
    const gql_node *doc = gql_parse(b->a, gql_intro_sdl, strlen(gql_intro_sdl), NULL, &perr);
    KILN_ASSERT(doc != NULL);
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        KILN_ASSERT(b->nintro < ARRAY_LEN(b->intro));
        gql_type *t = new_type(b, d, 0);
        t->builtin = true;
        b->intro[b->nintro++] = t;
    }
    for (uint32_t i = 0; i < b->nintro; i++) build_members(b, b->intro[i]);
}

static void add_std(builder *b)
{
    for (int i = 0; i < 5; i++) {
        gql_type *t = arena_calloc(b->a, sizeof *t);
        t->kind = GQL_TK_SCALAR;
        t->name = (kiln_str){ std_names[i], strlen(std_names[i]) };
        gql_node *d = arena_calloc(b->a, sizeof *d);
        d->kind = GQL_STRING;
        d->name = (kiln_str){ std_descriptions[i], strlen(std_descriptions[i]) };
        t->description = d;
        t->builtin = true;
        t->scalar = (gql_scalar)(GQL_SC_STRING + i);   /* std_names' order */
        b->std[i] = t;
    }
}

gql_schema *gql_schema_build(arena *a, const char *src, size_t len, const gql_node *doc, gql_errs *errs)
{
    errs->a = a;
    errs->src = src;
    errs->src_len = len;
    gql_sdl_validate(doc, errs);
    if (errs->count) return NULL;

    builder b = { .a = a };
    gql_schema *s = b.s = arena_calloc(a, sizeof *s);
    s->a = a;
    s->src = src;
    s->src_len = len;
    s->doc = doc;
    add_std(&b);
    add_intro(&b);

    /* Pass 1: collect definitions, extensions, directives, schema nodes. */
    uint32_t ndefs = doc->items.len;
    b.defined = arena_calloc(a, sizeof(gql_type *) * (ndefs + 1));
    const gql_node *schema_def = NULL;
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (d->kind == GQL_SCHEMA_DEF) schema_def = d;
        if (!is_type_def(d->kind)) continue;
        gql_type *t = find_defined(&b, d->name);
        if (!t) t = new_type(&b, d, ndefs);
        else if (!t->builtin) continue;
        /* A re-declared built-in keeps its place in the document's order
         * but stays the built-in type, as in graphql-js. */
        bool listed = false;
        for (uint32_t i = 0; i < b.ndefined; i++) listed |= b.defined[i] == t;
        if (!listed) b.defined[b.ndefined++] = t;
    }
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (!is_type_ext(d->kind)) continue;
        gql_type *t = find_defined(&b, d->name);
        if (t && !t->builtin) t->exts[t->nexts++] = d;
    }
    for (uint32_t i = 0; i < b.ndefined; i++)
        if (!b.defined[i]->builtin) build_members(&b, b.defined[i]);

    /* Root types: schema { } and its extensions; then, without a schema
     * definition, the conventional names win (as in buildASTSchema). */
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (d->kind != GQL_SCHEMA_DEF && d->kind != GQL_SCHEMA_EXT) continue;
        if (d->kind == GQL_SCHEMA_DEF && d != schema_def) continue;
        for (const gql_node *o = d->items.first; o; o = o->next) {
            gql_type *t = find_defined(&b, o->type->name);
            if (o->op == GQL_QUERY) s->query = t;
            else if (o->op == GQL_MUTATION) s->mutation = t;
            else s->subscription = t;
        }
    }
    if (schema_def) s->description = schema_def->description;
    else
        for (uint32_t i = 0; i < b.ndefined; i++) {
            gql_type *t = b.defined[i];
            if (gql_kstr_is(t->name, "Query")) s->query = t;
            if (gql_kstr_is(t->name, "Mutation")) s->mutation = t;
            if (gql_kstr_is(t->name, "Subscription")) s->subscription = t;
        }

    /* Directives: declared, then the specified ones not redeclared. */
    gql_error perr;
    const gql_node *spec = gql_parse(a, specified_sdl, sizeof specified_sdl - 1, NULL, &perr);
    KILN_ASSERT(spec != NULL);
    s->directives = arena_calloc(a, sizeof(gql_directive *) * (ndefs + 6));
    for (const gql_node *d = doc->items.first; d; d = d->next)
        if (d->kind == GQL_DIRECTIVE_DEF) s->directives[s->ndirectives++] = build_directive(&b, d);
    for (const gql_node *d = spec->items.first; d; d = d->next) {
        bool declared = false;
        for (uint32_t i = 0; i < s->ndirectives; i++) declared |= gql_kstr_eq(s->directives[i]->name, d->name);
        if (declared) continue;
        gql_directive *g = build_directive(&b, d);
        g->builtin = true;
        s->directives[s->ndirectives++] = g;
    }

    /* The type map, in the GraphQLSchema constructor's order. */
    order o = { 0 };
    collect_defined(a, &o, b.defined, b.ndefined);
    if (s->query) collect(a, &o, s->query);
    if (s->mutation) collect(a, &o, s->mutation);
    if (s->subscription) collect(a, &o, s->subscription);
    for (uint32_t i = 0; i < s->ndirectives; i++)
        for (uint32_t j = 0; j < s->directives[i]->nargs; j++) collect(a, &o, gql_tref_named(s->directives[i]->args[j].type));
    collect(a, &o, b.intro[0]);              /* __Schema and what it references */
    s->types = o.v;
    s->ntypes = o.n;
    for (uint32_t i = 0; i < s->ntypes; i++) s->types[i]->index = i;

    gql_schema_check(s, errs);
    if (errs->count) return NULL;
    gql_intro_setup(s);
    return s;
}
