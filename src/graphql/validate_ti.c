/*
 * validate_ti.c -- graphql-js's TypeInfo (which schema type, field,
 * argument and input type the traversal is at) and the validation rules
 * that need it: ScalarLeafs, FieldsOnCorrectType (with its "Did you mean to
 * use an inline fragment on ...?" ordering), PossibleFragmentSpreads,
 * KnownArgumentNames and ProvidedRequiredArguments (both halves: fields
 * here, directives in sdl_rules.c).
 *
 * TypeInfo's enter runs before the rules' enter on each node and its leave
 * after their leave, as visitWithTypeInfo does.
 *
 * Owns: nothing. Must never: word an error differently from graphql-js.
 */
#include "graphql/rules.h"

#define S(k) (int)(k).len, (k).ptr
#define ERR(c, nodes, n, ...) gql_errs_add((c)->errs, (nodes), (n), __VA_ARGS__)

static const gql_tref *named_ref(arena *a, const gql_type *t)
{
    if (!t) return NULL;
    gql_tref *r = arena_calloc(a, sizeof *r);
    r->kind = GQL_REF_NAMED;
    r->named = (gql_type *)t;
    return r;
}

/* typeFromAST: NULL when the named type is unknown. */
static const gql_tref *type_from_ast(gql_vstate *c, const gql_node *n)
{
    if (n->kind == GQL_NAMED_TYPE) return named_ref(c->a, gql_schema_type(c->schema, n->name));
    const gql_tref *inner = type_from_ast(c, n->type);
    if (!inner) return NULL;
    gql_tref *r = arena_calloc(c->a, sizeof *r);
    r->kind = n->kind == GQL_LIST_TYPE ? GQL_REF_LIST : GQL_REF_NON_NULL;
    r->of = inner;
    return r;
}

static const gql_type *named_of(const gql_tref *t) { return t ? gql_tref_named(t) : NULL; }
static bool composite(const gql_type *t)
{
    return t && (t->kind == GQL_TK_OBJECT || t->kind == GQL_TK_INTERFACE || t->kind == GQL_TK_UNION);
}
static bool input_kind(const gql_type *t) { return t && (t->kind == GQL_TK_SCALAR || t->kind == GQL_TK_ENUM || t->kind == GQL_TK_INPUT_OBJECT); }

void gql_ti_init(gql_vstate *c)
{
    c->ti = arena_calloc(c->a, sizeof *c->ti);
    gql_tref *str = arena_calloc(c->a, sizeof *str), *nn = arena_calloc(c->a, sizeof *nn);
    str->kind = GQL_REF_NAMED;
    str->named = gql_schema_type_c(c->schema, "String");
    nn->kind = GQL_REF_NON_NULL;
    nn->of = str;
    c->ti->typename_field.name = gql_cstr("__typename");
    c->ti->typename_field.type = nn;
}

/* TypeInfo's getFieldDef: meta-fields first. */
static const gql_field *field_def(gql_vstate *c, const gql_type *parent, kiln_str name)
{
    if (gql_kstr_is(name, "__schema") && parent == c->schema->query) return c->schema->meta_schema;
    if (gql_kstr_is(name, "__type") && parent == c->schema->query) return c->schema->meta_type;
    if (gql_kstr_is(name, "__typename") && composite(parent)) return &c->ti->typename_field;
    if (parent->kind == GQL_TK_OBJECT || parent->kind == GQL_TK_INTERFACE) return gql_type_field(parent, name);
    return NULL;
}

#define TOP(stack, n) ((n) > 0 ? (stack)[(n) - 1] : NULL)
#define PUSH(stack, n, v) do { if ((n) < GQL_VISIT_MAX_DEPTH) (stack)[(n)++] = (v); } while (0)
#define POP(n) do { if ((n) > 0) (n)--; } while (0)

bool gql_ti_enter(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    gql_typeinfo *ti = c->ti;
    switch (n->kind) {
    case GQL_SELECTION_SET: {
        const gql_type *t = named_of(TOP(ti->type, ti->ntype));
        PUSH(ti->parent, ti->nparent, composite(t) ? t : NULL);
        break;
    }
    case GQL_FIELD: {
        const gql_type *parent = TOP(ti->parent, ti->nparent);
        const gql_field *f = parent ? field_def(c, parent, n->name) : NULL;
        PUSH(ti->field, ti->nfield, f);
        PUSH(ti->type, ti->ntype, f && named_of(f->type)->kind != GQL_TK_INPUT_OBJECT ? f->type : NULL);
        break;
    }
    case GQL_DIRECTIVE: ti->directive = gql_schema_directive(c->schema, n->name); break;
    case GQL_OPERATION: {
        const gql_type *root = n->op == GQL_QUERY ? c->schema->query : n->op == GQL_MUTATION ? c->schema->mutation : c->schema->subscription;
        PUSH(ti->type, ti->ntype, root && root->kind == GQL_TK_OBJECT ? named_ref(c->a, root) : NULL);
        break;
    }
    case GQL_INLINE_FRAGMENT:
    case GQL_FRAGMENT_DEF: {
        const gql_tref *t = n->type ? type_from_ast(c, n->type) : named_ref(c->a, named_of(TOP(ti->type, ti->ntype)));
        PUSH(ti->type, ti->ntype, t && named_of(t)->kind != GQL_TK_INPUT_OBJECT ? t : NULL);
        break;
    }
    case GQL_VARIABLE_DEF: {
        const gql_tref *t = type_from_ast(c, n->type);
        PUSH(ti->input, ti->ninput, t && input_kind(named_of(t)) ? t : NULL);
        break;
    }
    case GQL_ARGUMENT: {
        const gql_arg *args = NULL, *def = NULL;
        uint32_t nargs = 0;
        if (ti->directive) { args = ti->directive->args; nargs = ti->directive->nargs; }
        else if (TOP(ti->field, ti->nfield)) { args = TOP(ti->field, ti->nfield)->args; nargs = TOP(ti->field, ti->nfield)->nargs; }
        for (uint32_t i = 0; i < nargs && !def; i++)
            if (gql_kstr_eq(args[i].name, n->name)) def = &args[i];
        ti->argument = def;
        PUSH(ti->defval, ti->ndefval, def && gql_default_canonical(c->a, def->default_value, def->type) ? def->default_value : NULL);
        PUSH(ti->input, ti->ninput, def && input_kind(named_of(def->type)) ? def->type : NULL);
        break;
    }
    case GQL_LIST: {
        const gql_tref *t = TOP(ti->input, ti->ninput);
        if (t && t->kind == GQL_REF_NON_NULL) t = t->of;
        if (t && t->kind == GQL_REF_LIST) t = t->of;
        PUSH(ti->defval, ti->ndefval, NULL);
        PUSH(ti->input, ti->ninput, t && input_kind(named_of(t)) ? t : NULL);
        break;
    }
    case GQL_OBJECT_FIELD: {
        const gql_type *o = named_of(TOP(ti->input, ti->ninput));
        const gql_arg *f = o && o->kind == GQL_TK_INPUT_OBJECT ? gql_type_input_field(o, n->name) : NULL;
        PUSH(ti->defval, ti->ndefval, f && gql_default_canonical(c->a, f->default_value, f->type) ? f->default_value : NULL);
        PUSH(ti->input, ti->ninput, f && input_kind(named_of(f->type)) ? f->type : NULL);
        break;
    }
    default: break;
    }
    return true;
}

void gql_ti_leave(void *cx, const gql_node *n, const gql_path *p)
{
    gql_typeinfo *ti = ((gql_vstate *)cx)->ti;
    switch (n->kind) {
    case GQL_SELECTION_SET: POP(ti->nparent); break;
    case GQL_FIELD: POP(ti->nfield); POP(ti->ntype); break;
    case GQL_DIRECTIVE: ti->directive = NULL; break;
    case GQL_OPERATION: case GQL_INLINE_FRAGMENT: case GQL_FRAGMENT_DEF: POP(ti->ntype); break;
    case GQL_VARIABLE_DEF: POP(ti->ninput); break;
    case GQL_ARGUMENT: ti->argument = NULL; POP(ti->ndefval); POP(ti->ninput); break;
    case GQL_LIST: case GQL_OBJECT_FIELD: POP(ti->ndefval); POP(ti->ninput); break;
    default: break;
    }
}

/* ---- VariablesInAllowedPosition ------------------------------------------------ */

/* getVariableUsages with a TypeInfo of its own, as graphql-js does for the
 * operation and each fragment it spreads (recursively). */
typedef struct usage {
    const gql_node *var;
    const gql_tref *type;
    bool has_default;
    const gql_tref *parent;
} usage;

typedef struct usages {
    gql_vstate *c;
    usage *v;
    uint32_t n, cap;
} usages;

static bool collect_usage(void *cx, const gql_node *n, const gql_path *p)
{
    usages *u = cx;
    gql_typeinfo *ti = u->c->ti;
    if (n->kind == GQL_VARIABLE_DEF) return false;
    if (n->kind != GQL_VARIABLE) return true;
    if (u->n == u->cap) {
        uint32_t cap = u->cap ? u->cap * 2 : 16;
        usage *v = arena_alloc(u->c->a, sizeof(usage) * cap);
        if (u->n) memcpy(v, u->v, sizeof(usage) * u->n);
        u->v = v;
        u->cap = cap;
    }
    u->v[u->n++] = (usage){ n, TOP(ti->input, ti->ninput), TOP(ti->defval, ti->ndefval) != NULL,
                            ti->ninput > 1 ? ti->input[ti->ninput - 2] : NULL };
    return true;
}

static bool usage_ti_enter(void *cx, const gql_node *n, const gql_path *p) { return gql_ti_enter(((usages *)cx)->c, n, p); }
static void usage_ti_leave(void *cx, const gql_node *n, const gql_path *p) { gql_ti_leave(((usages *)cx)->c, n, p); }

static void usages_of(usages *u, const gql_node *def)
{
    gql_typeinfo *saved = u->c->ti;
    gql_ti_init(u->c);                   /* a fresh TypeInfo */
    static const gql_rule rule = { collect_usage, NULL };
    gql_visit_hooked(def, &rule, 1, u, (gql_rule){ usage_ti_enter, usage_ti_leave });
    u->c->ti = saved;
}

bool gql_rule_variables_in_allowed_position(void *cx, const gql_node *n, const gql_path *p) { return true; }

void gql_rule_variables_in_allowed_position_leave(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind != GQL_OPERATION) return;
    usages u = { .c = c };
    usages_of(&u, n);
    /* getRecursivelyReferencedFragments, in its (stack) order. */
    const gql_node **frags = arena_alloc(c->a, sizeof(gql_node *) * (c->doc->items.len + 1));
    uint32_t nf = gql_referenced_fragments(c, n, frags);
    for (uint32_t i = 0; i < nf; i++) usages_of(&u, frags[i]);
    for (uint32_t i = 0; i < u.n; i++) {
        const usage *us = &u.v[i];
        const gql_node *vd = NULL;
        for (const gql_node *d = n->vars.first; d; d = d->next)     /* the last one, as varDefMap */
            if (gql_kstr_eq(d->value->name, us->var->name)) vd = d;
        if (!vd || !us->type) continue;
        const gql_tref *vt = type_from_ast(c, vd->type);
        if (!vt) continue;
        bool ok;
        if (us->type->kind == GQL_REF_NON_NULL && vt->kind != GQL_REF_NON_NULL) {
            bool var_default = vd->default_value && vd->default_value->kind != GQL_NULL;
            ok = (var_default || us->has_default) && gql_tref_subtype(vt, us->type->of);
        } else {
            ok = gql_tref_subtype(vt, us->type);
        }
        const gql_node *at[2] = { vd, us->var };
        if (!ok)
            ERR(c, at, 2, "Variable \"$%.*s\" of type \"%s\" used in position expecting type \"%s\".", S(us->var->name),
                gql_tref_str(c->a, vt), gql_tref_str(c->a, us->type));
        const gql_type *pt = us->parent ? named_of(us->parent) : NULL;
        if (us->parent && us->parent->kind == GQL_REF_NAMED && pt->kind == GQL_TK_INPUT_OBJECT && pt->one_of
            && vt->kind != GQL_REF_NON_NULL)
            ERR(c, at, 2, "Variable \"$%.*s\" is of type \"%s\" but must be non-nullable to be used for OneOf Input Object \"%.*s\".",
                S(us->var->name), gql_tref_str(c->a, vt), S(pt->name));
    }
}

/* ---- Rules ------------------------------------------------------------------- */

bool gql_rule_scalar_leafs(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind != GQL_FIELD) return true;
    const gql_tref *t = TOP(c->ti->type, c->ti->ntype);
    if (!t) return true;
    const char *ts = gql_tref_str(c->a, t);
    gql_tkind k = named_of(t)->kind;
    if (k == GQL_TK_SCALAR || k == GQL_TK_ENUM) {
        if (n->selection_set)
            ERR(c, (const gql_node *const[]){ n->selection_set }, 1,
                "Field \"%.*s\" must not have a selection since type \"%s\" has no subfields.", S(n->name), ts);
    } else if (!n->selection_set) {
        ERR(c, &n, 1, "Field \"%.*s\" of type \"%s\" must have a selection of subfields. Did you mean \"%.*s { ... }\"?",
            S(n->name), ts, S(n->name));
    }
    return true;
}

/* The possible types of an abstract type: union members, or the object
 * types implementing the interface in type-map order. */
static bool possible(const gql_schema *s, const gql_type *abstract, const gql_type *t)
{
    if (abstract->kind == GQL_TK_UNION) {
        for (uint32_t i = 0; i < abstract->nmembers; i++)
            if (abstract->members[i] == t) return true;
        return false;
    }
    for (uint32_t i = 0; i < t->ninterfaces; i++)
        if (t->interfaces[i] == abstract) return true;
    (void)s;
    return false;
}

static bool is_sub_type(const gql_schema *s, const gql_type *abstract, const gql_type *t)
{
    if (abstract->kind != GQL_TK_UNION && abstract->kind != GQL_TK_INTERFACE) return false;
    if (abstract->kind == GQL_TK_UNION && t->kind != GQL_TK_OBJECT) return false;
    return possible(s, abstract, t);
}

static bool uses_field(const gql_type *t, kiln_str name) { return gql_type_field(t, name) != NULL; }

bool gql_rule_fields_on_correct_type(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind != GQL_FIELD) return true;
    const gql_type *t = TOP(c->ti->parent, c->ti->nparent);
    if (!t || TOP(c->ti->field, c->ti->nfield)) return true;
    const gql_schema *s = c->schema;
    /* getSuggestedTypeNames: types defining the field, by usage count, then
     * super types first, then natural order. */
    const gql_type **sug = arena_alloc(c->a, sizeof(gql_type *) * (s->ntypes + 1));
    uint32_t *count = arena_calloc(c->a, sizeof(uint32_t) * (s->ntypes + 1));
    uint32_t ns = 0;
    if (t->kind == GQL_TK_UNION || t->kind == GQL_TK_INTERFACE) {
        for (uint32_t i = 0; i < s->ntypes; i++) {
            const gql_type *o = s->types[i];
            if (o->kind != GQL_TK_OBJECT || !possible(s, t, o) || !uses_field(o, n->name)) continue;
            sug[ns] = o;
            count[ns++] = 1;
            for (uint32_t k = 0; k < o->ninterfaces; k++) {
                const gql_type *itf = o->interfaces[k];
                if (!uses_field(itf, n->name)) continue;
                uint32_t at = ns;
                for (uint32_t j = 0; j < ns; j++) if (sug[j] == itf) at = j;
                if (at == ns) { sug[ns] = itf; count[ns++] = 0; }
                count[at]++;
            }
        }
        /* A stable insertion sort with graphql-js's comparator. */
        for (uint32_t i = 1; i < ns; i++) {
            const gql_type *kt = sug[i];
            uint32_t kc = count[i], j = i;
            while (j > 0) {
                const gql_type *a = sug[j - 1];
                int diff = (int)kc - (int)count[j - 1];      /* count[b] - count[a], with b = kt */
                int cmp;
                if (diff != 0) cmp = diff > 0 ? 1 : -1;
                else if (a->kind == GQL_TK_INTERFACE && is_sub_type(s, a, kt)) cmp = -1;
                else if (kt->kind == GQL_TK_INTERFACE && is_sub_type(s, kt, a)) cmp = 1;
                else cmp = gql_natural_compare(a->name, kt->name);
                if (cmp <= 0) break;
                sug[j] = sug[j - 1];
                count[j] = count[j - 1];
                j--;
            }
            sug[j] = kt;
            count[j] = kc;
        }
    }
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "Cannot query field \"%.*s\" on type \"%.*s\".", S(n->name), S(t->name));
    if (ns) {
        kiln_str *names = arena_alloc(c->a, sizeof(kiln_str) * ns);
        for (uint32_t i = 0; i < ns; i++) names[i] = sug[i]->name;
        gql_did_you_mean(&b, "to use an inline fragment on", names, ns);
    } else if (t->kind == GQL_TK_OBJECT || t->kind == GQL_TK_INTERFACE) {
        kiln_str *names = arena_alloc(c->a, sizeof(kiln_str) * (t->nfields + 1)), *out;
        for (uint32_t i = 0; i < t->nfields; i++) names[i] = t->fields[i].name;
        uint32_t m = gql_suggest(c->a, n->name, names, t->nfields, &out);
        gql_did_you_mean(&b, NULL, out, m);
    }
    buf_putc(&b, '\0');
    ERR(c, &n, 1, "%s", b.data);
    buf_free(&b);
    return true;
}

/* doTypesOverlap. */
static bool overlap(const gql_schema *s, const gql_type *a, const gql_type *b)
{
    if (a == b) return true;
    bool aa = a->kind == GQL_TK_UNION || a->kind == GQL_TK_INTERFACE, ba = b->kind == GQL_TK_UNION || b->kind == GQL_TK_INTERFACE;
    if (aa && ba) {
        for (uint32_t i = 0; i < s->ntypes; i++)
            if (s->types[i]->kind == GQL_TK_OBJECT && possible(s, a, s->types[i]) && is_sub_type(s, b, s->types[i])) return true;
        return false;
    }
    if (aa) return is_sub_type(s, a, b);
    if (ba) return is_sub_type(s, b, a);
    return false;
}

bool gql_rule_possible_fragment_spreads(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    const gql_type *parent = TOP(c->ti->parent, c->ti->nparent);
    if (n->kind == GQL_INLINE_FRAGMENT) {
        const gql_type *frag = named_of(TOP(c->ti->type, c->ti->ntype));
        const gql_tref *ft = TOP(c->ti->type, c->ti->ntype);
        if (ft && ft->kind == GQL_REF_NAMED && composite(frag) && composite(parent) && !overlap(c->schema, frag, parent))
            ERR(c, &n, 1, "Fragment cannot be spread here as objects of type \"%.*s\" can never be of type \"%.*s\".",
                S(parent->name), S(frag->name));
    } else if (n->kind == GQL_FRAGMENT_SPREAD) {
        const gql_node *def = gql_fragment(c, n->name);
        const gql_type *frag = def ? gql_schema_type(c->schema, def->type->name) : NULL;
        if (composite(frag) && parent && !overlap(c->schema, frag, parent))
            ERR(c, &n, 1, "Fragment \"%.*s\" cannot be spread here as objects of type \"%.*s\" can never be of type \"%.*s\".",
                S(n->name), S(parent->name), S(frag->name));
    }
    return true;
}

bool gql_rule_known_argument_names(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind == GQL_DIRECTIVE) return gql_rule_known_directive_args(cx, n, p);
    if (n->kind != GQL_ARGUMENT) return true;
    const gql_field *f = TOP(c->ti->field, c->ti->nfield);
    const gql_type *parent = TOP(c->ti->parent, c->ti->nparent);
    if (c->ti->argument || !f || !parent) return true;
    kiln_str *names = arena_alloc(c->a, sizeof(kiln_str) * (f->nargs + 1)), *out;
    for (uint32_t i = 0; i < f->nargs; i++) names[i] = f->args[i].name;
    uint32_t m = gql_suggest(c->a, n->name, names, f->nargs, &out);
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "Unknown argument \"%.*s\" on field \"%.*s.%.*s\".", S(n->name), S(parent->name), S(f->name));
    gql_did_you_mean(&b, NULL, out, m);
    buf_putc(&b, '\0');
    ERR(c, &n, 1, "%s", b.data);
    buf_free(&b);
    return true;
}

void gql_rule_provided_required_arguments(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    if (n->kind == GQL_DIRECTIVE) { gql_rule_provided_directive_args(cx, n, p); return; }
    if (n->kind != GQL_FIELD) return;
    const gql_field *f = TOP(c->ti->field, c->ti->nfield);
    if (!f) return;
    for (uint32_t i = 0; i < f->nargs; i++) {
        const gql_arg *a = &f->args[i];
        if (a->type->kind != GQL_REF_NON_NULL || gql_default_canonical(c->a, a->default_value, a->type)) continue;
        bool given = false;
        for (const gql_node *g = n->args.first; g && !given; g = g->next) given = gql_kstr_eq(g->name, a->name);
        if (!given)
            ERR(c, &n, 1, "Field \"%.*s\" argument \"%.*s\" of type \"%s\" is required, but it was not provided.", S(f->name),
                S(a->name), gql_tref_str(c->a, a->type));
    }
}
