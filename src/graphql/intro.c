/*
 * intro.c -- introspection: the resolvers of the introspection types
 * (__Schema, __Type, __Field, __InputValue, __EnumValue, __Directive) and
 * the meta-fields __schema and __type(name:) of the query root, as
 * graphql-js 16's introspection.js resolves them, so GraphiQL, Apollo
 * tooling and code generators see the same answer from Kiln.
 *
 * The introspection types themselves are SDL (intro_sdl.c) built into every
 * schema; here their fields get C resolvers, bound by name like an app's.
 * Parents are host values (values.h) pointing into the schema.
 *
 * Owns: the two meta-field records (in the schema's arena). Must never:
 * describe the schema differently from graphql-js.
 */
#include "graphql/exec.h"

#include <stdio.h>

static const gql_host *host(gql_rctx *r) { return gql_v_host_of(kiln_gql_parent(r)); }
static arena *A(gql_rctx *r) { return gql_r_arena(r); }

static kiln_value *str_or_null(gql_rctx *r, const gql_node *desc)
{
    return desc ? gql_v_str(A(r), desc->name) : gql_v_null(A(r));
}

/* A type reference as a __Type: a named type, or a LIST / NON_NULL. */
static kiln_value *tref_host(arena *a, const gql_tref *t)
{
    return t->kind == GQL_REF_NAMED ? gql_v_host(a, GQL_HOST_TYPE, t->named) : gql_v_host(a, GQL_HOST_TREF, t);
}

static bool include_deprecated(gql_rctx *r)
{
    const kiln_value *v = kiln_gql_arg(r, "includeDeprecated");
    return v && v->type == KILN_JSON_TRUE;
}

static kiln_value *args_list(gql_rctx *r, const gql_arg *args, uint32_t n)
{
    kiln_value *l = gql_v_array(A(r));
    bool all = include_deprecated(r);
    for (uint32_t i = 0; i < n; i++)
        if (all || !args[i].deprecated) gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_ARG, &args[i]));
    return l;
}

static const gql_schema *schema_of(gql_rctx *r) { return ((const gql_field *)gql_r_field(r))->owner->intro_schema; }

/* ---- __Schema ----------------------------------------------------------------- */

static void Schema_description(gql_rctx *r) { kiln_gql_return(r, str_or_null(r, schema_of(r)->description)); }

static void Schema_types(gql_rctx *r)
{
    const gql_schema *s = schema_of(r);
    kiln_value *l = gql_v_array(A(r));
    for (uint32_t i = 0; i < s->ntypes; i++) gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_TYPE, s->types[i]));
    kiln_gql_return(r, l);
}

static void root_type(gql_rctx *r, const gql_type *t) { kiln_gql_return(r, t ? gql_v_host(A(r), GQL_HOST_TYPE, t) : NULL); }
static void Schema_queryType(gql_rctx *r) { root_type(r, schema_of(r)->query); }
static void Schema_mutationType(gql_rctx *r) { root_type(r, schema_of(r)->mutation); }
static void Schema_subscriptionType(gql_rctx *r) { root_type(r, schema_of(r)->subscription); }

static void Schema_directives(gql_rctx *r)
{
    const gql_schema *s = schema_of(r);
    kiln_value *l = gql_v_array(A(r));
    for (uint32_t i = 0; i < s->ndirectives; i++)
        gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_DIRECTIVE, s->directives[i]));
    kiln_gql_return(r, l);
}

/* ---- __Type ------------------------------------------------------------------- */

/* The named type, or NULL for a wrapper. */
static const gql_type *named(gql_rctx *r) { return host(r)->kind == GQL_HOST_TYPE ? host(r)->ptr : NULL; }

static void Type_kind(gql_rctx *r)
{
    static const char *const kinds[] = { "SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT" };
    const gql_type *t = named(r);
    const char *k = t ? kinds[t->kind] : ((const gql_tref *)host(r)->ptr)->kind == GQL_REF_LIST ? "LIST" : "NON_NULL";
    kiln_gql_return(r, gql_v_str(A(r), gql_cstr(k)));
}

static void Type_name(gql_rctx *r) { kiln_gql_return(r, named(r) ? gql_v_str(A(r), named(r)->name) : NULL); }
static void Type_description(gql_rctx *r) { kiln_gql_return(r, named(r) ? str_or_null(r, named(r)->description) : NULL); }

static void Type_specifiedByURL(gql_rctx *r)
{
    const gql_type *t = named(r);
    kiln_gql_return(r, t && t->has_specified_by ? gql_v_str(A(r), t->specified_by) : NULL);
}

static void Type_fields(gql_rctx *r)
{
    const gql_type *t = named(r);
    if (!t || (t->kind != GQL_TK_OBJECT && t->kind != GQL_TK_INTERFACE)) { kiln_gql_return(r, NULL); return; }
    kiln_value *l = gql_v_array(A(r));
    bool all = include_deprecated(r);
    for (uint32_t i = 0; i < t->nfields; i++)
        if (all || !t->fields[i].deprecated)
            gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_FIELD, &t->fields[i]));
    kiln_gql_return(r, l);
}

static void type_list(gql_rctx *r, gql_type *const *v, uint32_t n)
{
    kiln_value *l = gql_v_array(A(r));
    for (uint32_t i = 0; i < n; i++) gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_TYPE, v[i]));
    kiln_gql_return(r, l);
}

static void Type_interfaces(gql_rctx *r)
{
    const gql_type *t = named(r);
    if (!t || (t->kind != GQL_TK_OBJECT && t->kind != GQL_TK_INTERFACE)) { kiln_gql_return(r, NULL); return; }
    type_list(r, t->interfaces, t->ninterfaces);
}

static void Type_possibleTypes(gql_rctx *r)
{
    const gql_type *t = named(r);
    if (t && t->kind == GQL_TK_UNION) { type_list(r, t->members, t->nmembers); return; }
    if (!t || t->kind != GQL_TK_INTERFACE) { kiln_gql_return(r, NULL); return; }
    /* The object types implementing it, in type-map order. */
    const gql_schema *s = schema_of(r);
    kiln_value *l = gql_v_array(A(r));
    for (uint32_t i = 0; i < s->ntypes; i++) {
        const gql_type *o = s->types[i];
        if (o->kind != GQL_TK_OBJECT) continue;
        for (uint32_t k = 0; k < o->ninterfaces; k++)
            if (o->interfaces[k] == t) { gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_TYPE, o)); break; }
    }
    kiln_gql_return(r, l);
}

static void Type_enumValues(gql_rctx *r)
{
    const gql_type *t = named(r);
    if (!t || t->kind != GQL_TK_ENUM) { kiln_gql_return(r, NULL); return; }
    kiln_value *l = gql_v_array(A(r));
    bool all = include_deprecated(r);
    for (uint32_t i = 0; i < t->nvalues; i++)
        if (all || !t->values[i].deprecated)
            gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_host(A(r), GQL_HOST_ENUM_VALUE, &t->values[i]));
    kiln_gql_return(r, l);
}

static void Type_inputFields(gql_rctx *r)
{
    const gql_type *t = named(r);
    if (!t || t->kind != GQL_TK_INPUT_OBJECT) { kiln_gql_return(r, NULL); return; }
    kiln_gql_return(r, args_list(r, t->input_fields, t->ninput_fields));
}

static void Type_ofType(gql_rctx *r)
{
    if (named(r)) { kiln_gql_return(r, NULL); return; }
    kiln_gql_return(r, tref_host(A(r), ((const gql_tref *)host(r)->ptr)->of));
}

static void Type_isOneOf(gql_rctx *r)
{
    const gql_type *t = named(r);
    kiln_gql_return(r, t && t->kind == GQL_TK_INPUT_OBJECT ? gql_v_bool(A(r), t->one_of) : NULL);
}

/* ---- __Field, __InputValue, __EnumValue, __Directive ----------------------------- */

static void deprecated_pair(gql_rctx *r, const gql_node *dep, kiln_str reason, bool want_flag)
{
    if (want_flag) kiln_gql_return(r, gql_v_bool(A(r), dep != NULL));
    else kiln_gql_return(r, dep ? gql_v_str(A(r), reason) : NULL);
}

#define F(r) ((const gql_field *)host(r)->ptr)
static void Field_name(gql_rctx *r) { kiln_gql_return(r, gql_v_str(A(r), F(r)->name)); }
static void Field_description(gql_rctx *r) { kiln_gql_return(r, str_or_null(r, F(r)->description)); }
static void Field_args(gql_rctx *r) { kiln_gql_return(r, args_list(r, F(r)->args, F(r)->nargs)); }
static void Field_type(gql_rctx *r) { kiln_gql_return(r, tref_host(A(r), F(r)->type)); }
static void Field_isDeprecated(gql_rctx *r) { deprecated_pair(r, F(r)->deprecated, F(r)->reason, true); }
static void Field_deprecationReason(gql_rctx *r) { deprecated_pair(r, F(r)->deprecated, F(r)->reason, false); }

#define IV(r) ((const gql_arg *)host(r)->ptr)
static void InputValue_name(gql_rctx *r) { kiln_gql_return(r, gql_v_str(A(r), IV(r)->name)); }
static void InputValue_description(gql_rctx *r) { kiln_gql_return(r, str_or_null(r, IV(r)->description)); }
static void InputValue_type(gql_rctx *r) { kiln_gql_return(r, tref_host(A(r), IV(r)->type)); }
static void InputValue_isDeprecated(gql_rctx *r) { deprecated_pair(r, IV(r)->deprecated, IV(r)->reason, true); }
static void InputValue_deprecationReason(gql_rctx *r) { deprecated_pair(r, IV(r)->deprecated, IV(r)->reason, false); }

static void InputValue_defaultValue(gql_rctx *r)
{
    const gql_node *lit = gql_default_canonical(A(r), IV(r)->default_value, IV(r)->type);
    if (!lit) { kiln_gql_return(r, NULL); return; }
    buf b;
    buf_init(&b, 32);
    gql_print(&b, lit);
    kiln_gql_return(r, gql_v_str(A(r), (kiln_str){ b.data, b.len }));
    buf_free(&b);
}

#define EV(r) ((const gql_enum_value *)host(r)->ptr)
static void EnumValue_name(gql_rctx *r) { kiln_gql_return(r, gql_v_str(A(r), EV(r)->name)); }
static void EnumValue_description(gql_rctx *r) { kiln_gql_return(r, str_or_null(r, EV(r)->description)); }
static void EnumValue_isDeprecated(gql_rctx *r) { deprecated_pair(r, EV(r)->deprecated, EV(r)->reason, true); }
static void EnumValue_deprecationReason(gql_rctx *r) { deprecated_pair(r, EV(r)->deprecated, EV(r)->reason, false); }

#define D(r) ((const gql_directive *)host(r)->ptr)
static void Directive_name(gql_rctx *r) { kiln_gql_return(r, gql_v_str(A(r), D(r)->name)); }
static void Directive_description(gql_rctx *r) { kiln_gql_return(r, str_or_null(r, D(r)->description)); }
static void Directive_isRepeatable(gql_rctx *r) { kiln_gql_return(r, gql_v_bool(A(r), D(r)->repeatable)); }
static void Directive_args(gql_rctx *r) { kiln_gql_return(r, args_list(r, D(r)->args, D(r)->nargs)); }

static void Directive_locations(gql_rctx *r)
{
    kiln_value *l = gql_v_array(A(r));
    for (uint32_t i = 0; i < D(r)->nlocations; i++)
        gql_v_put(A(r), l, (kiln_str){ NULL, 0 }, gql_v_str(A(r), gql_cstr(gql_dloc_names[D(r)->locations[i]])));
    kiln_gql_return(r, l);
}

/* ---- Meta-fields and binding --------------------------------------------------------- */

static void Meta_schema(gql_rctx *r) { kiln_gql_return(r, gql_v_host(A(r), GQL_HOST_SCHEMA, schema_of(r))); }

static void Meta_type(gql_rctx *r)
{
    const kiln_value *name = kiln_gql_arg(r, "name");
    const gql_type *t = name && name->type == KILN_JSON_STRING ? gql_schema_type(schema_of(r), (kiln_str){ name->str, name->len }) : NULL;
    kiln_gql_return(r, t ? gql_v_host(A(r), GQL_HOST_TYPE, t) : NULL);
}

static const gql_resolver_def intro_resolvers[] = {
    { "__Schema_description", Schema_description }, { "__Schema_types", Schema_types },
    { "__Schema_queryType", Schema_queryType }, { "__Schema_mutationType", Schema_mutationType },
    { "__Schema_subscriptionType", Schema_subscriptionType }, { "__Schema_directives", Schema_directives },
    { "__Type_kind", Type_kind }, { "__Type_name", Type_name }, { "__Type_description", Type_description },
    { "__Type_specifiedByURL", Type_specifiedByURL }, { "__Type_fields", Type_fields },
    { "__Type_interfaces", Type_interfaces }, { "__Type_possibleTypes", Type_possibleTypes },
    { "__Type_enumValues", Type_enumValues }, { "__Type_inputFields", Type_inputFields },
    { "__Type_ofType", Type_ofType }, { "__Type_isOneOf", Type_isOneOf },
    { "__Field_name", Field_name }, { "__Field_description", Field_description }, { "__Field_args", Field_args },
    { "__Field_type", Field_type }, { "__Field_isDeprecated", Field_isDeprecated },
    { "__Field_deprecationReason", Field_deprecationReason },
    { "__InputValue_name", InputValue_name }, { "__InputValue_description", InputValue_description },
    { "__InputValue_type", InputValue_type }, { "__InputValue_defaultValue", InputValue_defaultValue },
    { "__InputValue_isDeprecated", InputValue_isDeprecated },
    { "__InputValue_deprecationReason", InputValue_deprecationReason },
    { "__EnumValue_name", EnumValue_name }, { "__EnumValue_description", EnumValue_description },
    { "__EnumValue_isDeprecated", EnumValue_isDeprecated },
    { "__EnumValue_deprecationReason", EnumValue_deprecationReason },
    { "__Directive_name", Directive_name }, { "__Directive_description", Directive_description },
    { "__Directive_isRepeatable", Directive_isRepeatable }, { "__Directive_locations", Directive_locations },
    { "__Directive_args", Directive_args },
};

static const char meta_sdl[] = "type Q { __schema: __Schema! __type(name: String!): __Type }";

void gql_intro_setup(gql_schema *s)
{
    /* Bind the introspection types' fields; they find the schema through
     * their owner type. */
    for (uint32_t t = 0; t < s->ntypes; t++) {
        gql_type *ty = s->types[t];
        if (!ty->builtin || ty->kind != GQL_TK_OBJECT) continue;
        ty->intro_schema = s;
        for (uint32_t f = 0; f < ty->nfields; f++) {
            char name[96];
            snprintf(name, sizeof name, "%.*s_%.*s", (int)ty->name.len, ty->name.ptr, (int)ty->fields[f].name.len,
                     ty->fields[f].name.ptr);
            for (size_t i = 0; i < ARRAY_LEN(intro_resolvers); i++)
                if (strcmp(intro_resolvers[i].name, name) == 0) ty->fields[f].resolve = intro_resolvers[i].fn;
        }
    }
    /* __schema and __type: fields of a private type whose members resolve
     * against this schema. */
    gql_type *meta = arena_calloc(s->a, sizeof *meta);
    meta->kind = GQL_TK_OBJECT;
    meta->name = gql_cstr("Query");
    meta->intro_schema = s;
    meta->fields = arena_calloc(s->a, sizeof(gql_field) * 2);
    meta->nfields = 2;
    gql_error e;
    const gql_node *doc = gql_parse(s->a, meta_sdl, sizeof meta_sdl - 1, NULL, &e);
    KILN_ASSERT(doc != NULL);
    const gql_node *f = doc->items.first->items.first;
    for (int i = 0; i < 2; i++, f = f->next) {
        gql_field *g = &meta->fields[i];
        g->name = f->name;
        g->owner = meta;
        g->resolve = i ? Meta_type : Meta_schema;
        gql_tref *t = arena_calloc(s->a, sizeof *t), *inner = arena_calloc(s->a, sizeof *inner);
        inner->kind = GQL_REF_NAMED;
        inner->named = gql_schema_type_c(s, i ? "__Type" : "__Schema");
        if (i) {
            g->type = inner;
            gql_tref *nn = arena_calloc(s->a, sizeof *nn), *str = arena_calloc(s->a, sizeof *str);
            str->kind = GQL_REF_NAMED;
            str->named = gql_schema_type_c(s, "String");
            nn->kind = GQL_REF_NON_NULL;
            nn->of = str;
            g->args = arena_calloc(s->a, sizeof(gql_arg));
            g->args[0].name = gql_cstr("name");
            g->args[0].type = nn;
            g->nargs = 1;
        } else {
            t->kind = GQL_REF_NON_NULL;
            t->of = inner;
            g->type = t;
        }
    }
    s->meta_schema = &meta->fields[0];
    s->meta_type = &meta->fields[1];
}
