/*
 * schema_check.c -- graphql-js 16's validateSchema(): the checks a built
 * schema must pass before anything runs on it, with graphql-js's messages,
 * locations and order (root types, then directives, then every type of the
 * type map).
 *
 * Checked: the query root exists and roots are object types; directives
 * have locations, input-typed arguments, no deprecated required argument;
 * no name starts with "__"; objects and interfaces have fields of output
 * types and arguments of input types, implement only interfaces, not
 * themselves, each once, with every transitive interface, and every
 * interface field with a compatible type and the same arguments (extra
 * ones optional); unions have object members, each once; enums have
 * values; input objects have input-typed fields, no deprecated required
 * field, @oneOf rules, and no cycle of non-null input-object fields.
 *
 * Owns: nothing. Must never: accept a schema graphql-js rejects.
 */
#include "graphql/schema.h"

#include <stdarg.h>

#include <stdio.h>

#define S(k) (int)(k).len, (k).ptr

typedef struct check {
    gql_schema *s;
    gql_errs *errs;
} check;

#define err(c, nodes, n, ...) gql_errs_add((c)->errs, (nodes), (n), __VA_ARGS__)
#define tstr(c, r) gql_tref_str((c)->s->a, (r))

static bool is_input(const gql_tref *r)
{
    gql_tkind k = gql_tref_named(r)->kind;
    return k == GQL_TK_SCALAR || k == GQL_TK_ENUM || k == GQL_TK_INPUT_OBJECT;
}

static bool is_output(const gql_tref *r) { return gql_tref_named(r)->kind != GQL_TK_INPUT_OBJECT; }

static bool has_default(check *c, const gql_arg *a) { return gql_default_canonical(c->s->a, a->default_value, a->type) != NULL; }
static bool is_required(check *c, const gql_arg *a) { return a->type->kind == GQL_REF_NON_NULL && !has_default(c, a); }

static const gql_node *type_node_of(const gql_node *def) { return def ? def->type : NULL; }

static void check_name(check *c, kiln_str name, const gql_node *ast)
{
    if (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_')
        err(c, &ast, 1, "Name \"%.*s\" must not begin with \"__\", which is reserved by GraphQL introspection.", S(name));
}

/* ---- Roots and directives ---------------------------------------------------- */

static const gql_node *op_type_node(const gql_schema *s, gql_op op)
{
    for (const gql_node *d = s->doc->items.first; d; d = d->next) {
        if (d->kind != GQL_SCHEMA_DEF && d->kind != GQL_SCHEMA_EXT) continue;
        for (const gql_node *o = d->items.first; o; o = o->next)
            if (o->op == op) return o->type;
    }
    return NULL;
}

static const gql_node *schema_def(const gql_schema *s)
{
    for (const gql_node *d = s->doc->items.first; d; d = d->next)
        if (d->kind == GQL_SCHEMA_DEF) return d;
    return NULL;
}

static void check_roots(check *c)
{
    gql_schema *s = c->s;
    if (!s->query) {
        const gql_node *sd = schema_def(s);
        err(c, &sd, 1, "Query root type must be provided.");
    } else if (s->query->kind != GQL_TK_OBJECT) {
        const gql_node *at = op_type_node(s, GQL_QUERY);
        if (!at) at = s->query->ast;
        err(c, &at, 1, "Query root type must be Object type, it cannot be %.*s.", S(s->query->name));
    }
    const gql_type *roots[2] = { s->mutation, s->subscription };
    static const char *const names[2] = { "Mutation", "Subscription" };
    for (int i = 0; i < 2; i++) {
        if (!roots[i] || roots[i]->kind == GQL_TK_OBJECT) continue;
        const gql_node *at = op_type_node(s, i ? GQL_SUBSCRIPTION : GQL_MUTATION);
        if (!at) at = roots[i]->ast;
        err(c, &at, 1, "%s root type must be Object type if provided, it cannot be %.*s.", names[i], S(roots[i]->name));
    }
}

static const gql_node *deprecated_node(const gql_node *def)
{
    if (!def) return NULL;
    for (const gql_node *d = def->directives.first; d; d = d->next)
        if (gql_kstr_is(d->name, "deprecated")) return d;
    return NULL;
}

static void check_directives(check *c)
{
    for (uint32_t i = 0; i < c->s->ndirectives; i++) {
        const gql_directive *d = c->s->directives[i];
        check_name(c, d->name, d->ast);
        if (d->nlocations == 0) err(c, &d->ast, 1, "Directive @%.*s must include 1 or more locations.", S(d->name));
        for (uint32_t j = 0; j < d->nargs; j++) {
            const gql_arg *a = &d->args[j];
            check_name(c, a->name, a->ast);
            if (!is_input(a->type)) {
                const gql_node *at = a->ast;
                err(c, &at, 1, "The type of @%.*s(%.*s:) must be Input Type but got: %s.", S(d->name), S(a->name), tstr(c, a->type));
            }
            if (is_required(c, a) && a->deprecated) {
                const gql_node *at[2] = { deprecated_node(a->ast), type_node_of(a->ast) };
                err(c, at, 2, "Required argument @%.*s(%.*s:) cannot be deprecated.", S(d->name), S(a->name));
            }
        }
    }
}

/* ---- Objects and interfaces --------------------------------------------------- */

/* The definition and extension nodes of a type, as a node list. */
static int type_nodes(const gql_type *t, const gql_node **out, int cap)
{
    int n = 0;
    if (t->ast && n < cap) out[n++] = t->ast;
    for (uint32_t i = 0; i < t->nexts && n < cap; i++) out[n++] = t->exts[i];
    return n;
}

/* The NamedType nodes naming `name` in the implements (or union member)
 * lists of t's definition and extensions. */
static int named_in(const gql_type *t, kiln_str name, const gql_node **out, int cap)
{
    const gql_node *defs[64];
    int nd = type_nodes(t, defs, 64), n = 0;
    for (int i = 0; i < nd; i++)
        for (const gql_node *x = defs[i]->interfaces.first; x; x = x->next)
            if (gql_kstr_eq(x->name, name) && n < cap) out[n++] = x;
    return n;
}

static bool tref_equal(const gql_tref *a, const gql_tref *b)
{
    if (a->kind != b->kind) return false;
    if (a->kind == GQL_REF_NAMED) return a->named == b->named;
    return tref_equal(a->of, b->of);
}

static bool implements(const gql_type *t, const gql_type *iface)
{
    for (uint32_t i = 0; i < t->ninterfaces; i++)
        if (t->interfaces[i] == iface) return true;
    return false;
}

/* isTypeSubTypeOf. */
bool gql_tref_subtype(const gql_tref *sub, const gql_tref *super)
{
    if (tref_equal(sub, super)) return true;
    if (super->kind == GQL_REF_NON_NULL) return sub->kind == GQL_REF_NON_NULL && gql_tref_subtype(sub->of, super->of);
    if (sub->kind == GQL_REF_NON_NULL) return gql_tref_subtype(sub->of, super);
    if (super->kind == GQL_REF_LIST) return sub->kind == GQL_REF_LIST && gql_tref_subtype(sub->of, super->of);
    if (sub->kind == GQL_REF_LIST) return false;
    const gql_type *st = sub->named, *pt = super->named;
    if (st->kind != GQL_TK_OBJECT && st->kind != GQL_TK_INTERFACE) return false;
    if (pt->kind == GQL_TK_UNION) {
        for (uint32_t i = 0; i < pt->nmembers; i++)
            if (pt->members[i] == st) return true;
        return false;
    }
    return pt->kind == GQL_TK_INTERFACE && implements(st, pt);
}

static void check_fields(check *c, const gql_type *t)
{
    if (t->nfields == 0) {
        const gql_node *nodes[64];
        int n = type_nodes(t, nodes, 64);
        err(c, nodes, n, "Type %.*s must define one or more fields.", S(t->name));
    }
    for (uint32_t i = 0; i < t->nfields; i++) {
        const gql_field *f = &t->fields[i];
        check_name(c, f->name, f->ast);
        if (!is_output(f->type)) {
            const gql_node *at = type_node_of(f->ast);
            err(c, &at, 1, "The type of %.*s.%.*s must be Output Type but got: %s.", S(t->name), S(f->name), tstr(c, f->type));
        }
        for (uint32_t j = 0; j < f->nargs; j++) {
            const gql_arg *a = &f->args[j];
            check_name(c, a->name, a->ast);
            if (!is_input(a->type)) {
                const gql_node *at = type_node_of(a->ast);
                err(c, &at, 1, "The type of %.*s.%.*s(%.*s:) must be Input Type but got: %s.", S(t->name), S(f->name),
                    S(a->name), tstr(c, a->type));
            }
            if (is_required(c, a) && a->deprecated) {
                const gql_node *at[2] = { deprecated_node(a->ast), type_node_of(a->ast) };
                err(c, at, 2, "Required argument %.*s.%.*s(%.*s:) cannot be deprecated.", S(t->name), S(f->name), S(a->name));
            }
        }
    }
}

static const gql_arg *find_arg(const gql_field *f, kiln_str name)
{
    for (uint32_t i = 0; i < f->nargs; i++)
        if (gql_kstr_eq(f->args[i].name, name)) return &f->args[i];
    return NULL;
}

static void check_implements_interface(check *c, const gql_type *t, const gql_type *iface)
{
    for (uint32_t i = 0; i < iface->nfields; i++) {
        const gql_field *iff = &iface->fields[i];
        const gql_field *tf = gql_type_field(t, iff->name);
        if (!tf) {
            const gql_node *nodes[66];
            nodes[0] = iff->ast;
            int n = 1 + type_nodes(t, nodes + 1, 64);
            err(c, nodes, n, "Interface field %.*s.%.*s expected but %.*s does not provide it.", S(iface->name),
                S(iff->name), S(t->name));
            continue;
        }
        if (!gql_tref_subtype(tf->type, iff->type)) {
            const gql_node *at[2] = { type_node_of(iff->ast), type_node_of(tf->ast) };
            err(c, at, 2, "Interface field %.*s.%.*s expects type %s but %.*s.%.*s is type %s.", S(iface->name),
                S(iff->name), tstr(c, iff->type), S(t->name), S(tf->name), tstr(c, tf->type));
        }
        for (uint32_t j = 0; j < iff->nargs; j++) {
            const gql_arg *ia = &iff->args[j];
            const gql_arg *ta = find_arg(tf, ia->name);
            if (!ta) {
                const gql_node *at[2] = { ia->ast, tf->ast };
                err(c, at, 2, "Interface field argument %.*s.%.*s(%.*s:) expected but %.*s.%.*s does not provide it.",
                    S(iface->name), S(iff->name), S(ia->name), S(t->name), S(iff->name));
                continue;
            }
            if (!tref_equal(ia->type, ta->type)) {
                const gql_node *at[2] = { type_node_of(ia->ast), type_node_of(ta->ast) };
                err(c, at, 2, "Interface field argument %.*s.%.*s(%.*s:) expects type %s but %.*s.%.*s(%.*s:) is type %s.",
                    S(iface->name), S(iff->name), S(ia->name), tstr(c, ia->type), S(t->name), S(iff->name), S(ia->name),
                    tstr(c, ta->type));
            }
        }
        for (uint32_t j = 0; j < tf->nargs; j++) {
            const gql_arg *ta = &tf->args[j];
            if (!find_arg(iff, ta->name) && is_required(c, ta)) {
                const gql_node *at[2] = { ta->ast, iff->ast };
                err(c, at, 2, "Object field %.*s.%.*s includes required argument %.*s that is missing from the Interface field %.*s.%.*s.",
                    S(t->name), S(iff->name), S(ta->name), S(iface->name), S(iff->name));
            }
        }
    }
}

static void check_interfaces(check *c, const gql_type *t)
{
    for (uint32_t i = 0; i < t->ninterfaces; i++) {
        const gql_type *iface = t->interfaces[i];
        const gql_node *nodes[16];
        if (iface->kind != GQL_TK_INTERFACE) {
            int n = named_in(t, iface->name, nodes, 16);
            err(c, nodes, n, "Type %.*s must only implement Interface types, it cannot implement %.*s.", S(t->name),
                S(iface->name));
            continue;
        }
        if (iface == t) {
            int n = named_in(t, iface->name, nodes, 16);
            err(c, nodes, n, "Type %.*s cannot implement itself because it would create a circular reference.", S(t->name));
            continue;
        }
        bool again = false;
        for (uint32_t j = 0; j < i; j++) again |= t->interfaces[j] == iface;
        if (again) {
            int n = named_in(t, iface->name, nodes, 16);
            err(c, nodes, n, "Type %.*s can only implement %.*s once.", S(t->name), S(iface->name));
            continue;
        }
        /* validateTypeImplementsAncestors */
        for (uint32_t k = 0; k < iface->ninterfaces; k++) {
            const gql_type *tr = iface->interfaces[k];
            if (implements(t, tr)) continue;
            int n = named_in(iface, tr->name, nodes, 8);
            n += named_in(t, iface->name, nodes + n, 8);
            if (tr == t)
                err(c, nodes, n, "Type %.*s cannot implement %.*s because it would create a circular reference.", S(t->name),
                    S(iface->name));
            else
                err(c, nodes, n, "Type %.*s must implement %.*s because it is implemented by %.*s.", S(t->name), S(tr->name),
                    S(iface->name));
        }
        check_implements_interface(c, t, iface);
    }
}

/* ---- Unions, enums, input objects ------------------------------------------------ */

static void check_union(check *c, const gql_type *u)
{
    const gql_node *nodes[64];
    if (u->nmembers == 0) {
        int n = type_nodes(u, nodes, 64);
        err(c, nodes, n, "Union type %.*s must define one or more member types.", S(u->name));
    }
    for (uint32_t i = 0; i < u->nmembers; i++) {
        const gql_type *m = u->members[i];
        bool again = false;
        for (uint32_t j = 0; j < i; j++) again |= gql_kstr_eq(u->members[j]->name, m->name);
        if (again) {
            int n = named_in(u, m->name, nodes, 64);
            err(c, nodes, n, "Union type %.*s can only include type %.*s once.", S(u->name), S(m->name));
            continue;
        }
        if (m->kind != GQL_TK_OBJECT) {
            int n = named_in(u, m->name, nodes, 64);
            err(c, nodes, n, "Union type %.*s can only include Object types, it cannot include %.*s.", S(u->name), S(m->name));
        }
    }
}

static void check_enum(check *c, const gql_type *e)
{
    if (e->nvalues == 0) {
        const gql_node *nodes[64];
        int n = type_nodes(e, nodes, 64);
        err(c, nodes, n, "Enum type %.*s must define one or more values.", S(e->name));
    }
    for (uint32_t i = 0; i < e->nvalues; i++) check_name(c, e->values[i].name, e->values[i].ast);
}

static void check_input(check *c, const gql_type *t)
{
    if (t->ninput_fields == 0) {
        const gql_node *nodes[64];
        int n = type_nodes(t, nodes, 64);
        err(c, nodes, n, "Input Object type %.*s must define one or more fields.", S(t->name));
    }
    for (uint32_t i = 0; i < t->ninput_fields; i++) {
        const gql_arg *f = &t->input_fields[i];
        check_name(c, f->name, f->ast);
        if (!is_input(f->type)) {
            const gql_node *at = type_node_of(f->ast);
            err(c, &at, 1, "The type of %.*s.%.*s must be Input Type but got: %s.", S(t->name), S(f->name), tstr(c, f->type));
        }
        if (is_required(c, f) && f->deprecated) {
            const gql_node *at[2] = { deprecated_node(f->ast), type_node_of(f->ast) };
            err(c, at, 2, "Required input field %.*s.%.*s cannot be deprecated.", S(t->name), S(f->name));
        }
        if (t->one_of) {
            if (f->type->kind == GQL_REF_NON_NULL) {
                const gql_node *at = type_node_of(f->ast);
                err(c, &at, 1, "OneOf input field %.*s.%.*s must be nullable.", S(t->name), S(f->name));
            }
            if (has_default(c, f)) err(c, &f->ast, 1, "OneOf input field %.*s.%.*s cannot have a default value.", S(t->name), S(f->name));
        }
    }
}

/* createInputObjectCircularRefsValidator: a DFS over non-null input-object
 * fields; a field path back to a type on the path is a cycle. */
typedef struct cycles {
    const gql_type **visited;
    uint32_t nvisited;
    const gql_arg *path[256];
    int depth;
    const gql_type *on_path[256];
    int path_index[256];
    int non_path;
} cycles;

static void detect_cycles(check *c, cycles *y, const gql_type *t)
{
    for (uint32_t i = 0; i < y->nvisited; i++)
        if (y->visited[i] == t) return;
    y->visited[y->nvisited++] = t;
    if (y->non_path >= 256) return;
    int me = y->non_path++;
    y->on_path[me] = t;
    y->path_index[me] = y->depth;
    for (uint32_t i = 0; i < t->ninput_fields; i++) {
        const gql_arg *f = &t->input_fields[i];
        if (f->type->kind != GQL_REF_NON_NULL || f->type->of->kind != GQL_REF_NAMED
            || f->type->of->named->kind != GQL_TK_INPUT_OBJECT)
            continue;
        const gql_type *ft = f->type->of->named;
        int cycle = -1;
        for (int k = 0; k < y->non_path; k++)
            if (y->on_path[k] == ft) cycle = y->path_index[k];
        if (y->depth >= 256) continue;
        y->path[y->depth++] = f;
        if (cycle < 0) {
            detect_cycles(c, y, ft);
        } else {
            buf path;
            buf_init(&path, 64);
            const gql_node *nodes[8];
            int n = 0;
            for (int k = cycle; k < y->depth; k++) {
                if (k > cycle) buf_putc(&path, '.');
                buf_append(&path, y->path[k]->name.ptr, y->path[k]->name.len);
                if (n < 8) nodes[n++] = y->path[k]->ast;
            }
            buf_putc(&path, '\0');
            err(c, nodes, n, "Cannot reference Input Object \"%.*s\" within itself through a series of non-null fields: \"%s\".",
                S(ft->name), path.data);
            buf_free(&path);
        }
        y->depth--;
    }
    y->non_path--;
}

void gql_schema_check(gql_schema *s, gql_errs *errs)
{
    check c = { s, errs };
    check_roots(&c);
    check_directives(&c);
    cycles *y = arena_calloc(s->a, sizeof *y);
    y->visited = arena_alloc(s->a, sizeof(gql_type *) * (s->ntypes + 1));
    for (uint32_t i = 0; i < s->ntypes; i++) {
        const gql_type *t = s->types[i];
        if (t->builtin) continue;
        check_name(&c, t->name, t->ast);
        switch (t->kind) {
        case GQL_TK_OBJECT:
        case GQL_TK_INTERFACE:
            check_fields(&c, t);
            check_interfaces(&c, t);
            break;
        case GQL_TK_UNION: check_union(&c, t); break;
        case GQL_TK_ENUM: check_enum(&c, t); break;
        case GQL_TK_INPUT_OBJECT:
            check_input(&c, t);
            detect_cycles(&c, y, t);
            break;
        case GQL_TK_SCALAR: break;
        }
    }
}
