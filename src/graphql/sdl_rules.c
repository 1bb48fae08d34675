/*
 * sdl_rules.c -- the SDL validation rules graphql-js runs before it builds
 * a schema (specifiedSDLRules, in that order, in parallel over the
 * document): LoneSchemaDefinition, UniqueOperationTypes, UniqueTypeNames,
 * UniqueEnumValueNames, UniqueFieldDefinitionNames,
 * UniqueArgumentDefinitionNames, UniqueDirectiveNames, KnownTypeNames,
 * KnownDirectives, UniqueDirectivesPerLocation, PossibleTypeExtensions,
 * KnownArgumentNamesOnDirectives, UniqueArgumentNames, UniqueInputFieldNames,
 * ProvidedRequiredArgumentsOnDirectives. Messages and locations are
 * graphql-js's, word for word, in the same order.
 *
 * The lookups are linear scans: an SDL document is the app's own schema,
 * small and parsed once at build and start.
 *
 * Owns: nothing (errors go to the errs arena). Must never: accept SDL that
 * graphql-js's validateSDL rejects.
 */
#include "graphql/rules.h"

#include <stdio.h>

typedef gql_seen seen;
typedef gql_seen_set seen_set;
typedef gql_vstate ctx;

static seen *find_seen(seen_set *s, kiln_str scope, kiln_str name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (gql_kstr_eq(s->v[i].scope, scope) && gql_kstr_eq(s->v[i].name, name)) return &s->v[i];
    return NULL;
}

static void add_seen(ctx *c, seen_set *s, kiln_str scope, kiln_str name, uint32_t at, const gql_node *node)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        seen *v = arena_alloc(c->a, sizeof(seen) * cap);
        if (s->n) memcpy(v, s->v, sizeof(seen) * s->n);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (seen){ scope, name, at, node };
}

#define ERR_AT(c, offs, n, ...) gql_errs_add_at((c)->errs, (offs), (n), __VA_ARGS__)
#define S(k) (int)(k).len, (k).ptr

static bool is_type_def(gql_kind k)
{
    return k == GQL_SCALAR_DEF || k == GQL_OBJECT_DEF || k == GQL_INTERFACE_DEF || k == GQL_UNION_DEF
        || k == GQL_ENUM_DEF || k == GQL_INPUT_OBJECT_DEF;
}
static bool is_type_ext(gql_kind k) { return k >= GQL_SCALAR_EXT && k <= GQL_INPUT_OBJECT_EXT; }
static bool is_sdl(gql_kind k) { return is_type_def(k) || is_type_ext(k) || k == GQL_SCHEMA_DEF || k == GQL_DIRECTIVE_DEF || k == GQL_SCHEMA_EXT; }

/* The directive definition of that name: the document's last, else the
 * specified one, else NULL. */
static const gql_node *directive_def(const ctx *c, kiln_str name)
{
    const gql_node *found = NULL;
    for (const gql_node *d = c->doc->items.first; d; d = d->next)
        if (d->kind == GQL_DIRECTIVE_DEF && gql_kstr_eq(d->name, name)) found = d;
    if (found) return found;
    if (c->schema) {
        const gql_directive *d = gql_schema_directive(c->schema, name);
        return d ? d->ast : NULL;
    }
    for (const gql_node *d = c->spec->items.first; d; d = d->next)
        if (gql_kstr_eq(d->name, name)) return d;
    return NULL;
}

/* The last type definition of that name in the document. */
static const gql_node *type_def(const ctx *c, kiln_str name)
{
    const gql_node *found = NULL;
    for (const gql_node *d = c->doc->items.first; d; d = d->next)
        if (is_type_def(d->kind) && gql_kstr_eq(d->name, name)) found = d;
    return found;
}

static const char *const standard_types[] = {
    "String", "Int", "Float", "Boolean", "ID", "__Schema", "__Directive", "__DirectiveLocation", "__Type",
    "__Field", "__InputValue", "__EnumValue", "__TypeKind",
};

/* ---- The rules ------------------------------------------------------------ */

static bool lone_schema(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind == GQL_SCHEMA_DEF) {
        if (c->schema_defs > 0) ERR_AT(c, &n->start, 1, "Must provide only one schema definition.");
        c->schema_defs++;
    }
    return true;
}

static const char *op_name(gql_op op) { return op == GQL_QUERY ? "query" : op == GQL_MUTATION ? "mutation" : "subscription"; }

static bool unique_op_types(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_SCHEMA_DEF && n->kind != GQL_SCHEMA_EXT) return true;
    for (const gql_node *o = n->items.first; o; o = o->next) {
        kiln_str op = gql_cstr(op_name(o->op));
        seen *prev = find_seen(&c->op_types, (kiln_str){ "", 0 }, op);
        if (prev) {
            uint32_t at[2] = { prev->at, o->start };
            ERR_AT(c, at, 2, "There can be only one %s type in schema.", op_name(o->op));
        } else {
            add_seen(c, &c->op_types, (kiln_str){ "", 0 }, op, o->start, o);
        }
    }
    return false;
}

static bool unique_type_names(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (!is_type_def(n->kind)) return true;
    seen *prev = find_seen(&c->type_names, (kiln_str){ "", 0 }, n->name);
    if (prev) {
        uint32_t at[2] = { prev->at, n->name_at };
        ERR_AT(c, at, 2, "There can be only one type named \"%.*s\".", S(n->name));
    } else {
        add_seen(c, &c->type_names, (kiln_str){ "", 0 }, n->name, n->name_at, n);
    }
    return false;
}

static bool unique_enum_values(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_ENUM_DEF && n->kind != GQL_ENUM_EXT) return true;
    for (const gql_node *v = n->items.first; v; v = v->next) {
        seen *prev = find_seen(&c->enum_values, n->name, v->name);
        if (prev) {
            uint32_t at[2] = { prev->at, v->name_at };
            ERR_AT(c, at, 2, "Enum value \"%.*s.%.*s\" can only be defined once.", S(n->name), S(v->name));
        } else {
            add_seen(c, &c->enum_values, n->name, v->name, v->name_at, v);
        }
    }
    return false;
}

static bool has_fields(gql_kind k)
{
    return k == GQL_INPUT_OBJECT_DEF || k == GQL_INPUT_OBJECT_EXT || k == GQL_INTERFACE_DEF || k == GQL_INTERFACE_EXT
        || k == GQL_OBJECT_DEF || k == GQL_OBJECT_EXT;
}

static bool unique_field_names(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (!has_fields(n->kind)) return true;
    for (const gql_node *f = n->items.first; f; f = f->next) {
        seen *prev = find_seen(&c->field_names, n->name, f->name);
        if (prev) {
            uint32_t at[2] = { prev->at, f->name_at };
            ERR_AT(c, at, 2, "Field \"%.*s.%.*s\" can only be defined once.", S(n->name), S(f->name));
        } else {
            add_seen(c, &c->field_names, n->name, f->name, f->name_at, f);
        }
    }
    return false;
}

/* Argument "parent(name:)" can only be defined once: one error per name
 * defined twice or more, at every definition of it, in first-seen order. */
static void check_arg_defs(ctx *c, const char *parent, gql_list args)
{
    for (const gql_node *a = args.first; a; a = a->next) {
        bool first = true;
        for (const gql_node *b = args.first; b != a; b = b->next)
            if (gql_kstr_eq(a->name, b->name)) first = false;
        if (!first) continue;
        uint32_t at[8], n = 0;
        for (const gql_node *b = a; b; b = b->next)
            if (gql_kstr_eq(a->name, b->name) && n < 8) at[n++] = b->name_at;
        if (n > 1) ERR_AT(c, at, (int)n, "Argument \"%s(%.*s:)\" can only be defined once.", parent, S(a->name));
    }
}

static bool unique_arg_defs(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    char parent[512];
    if (n->kind == GQL_DIRECTIVE_DEF) {
        snprintf(parent, sizeof parent, "@%.*s", S(n->name));
        check_arg_defs(c, parent, n->args);
        return false;
    }
    if (n->kind != GQL_INTERFACE_DEF && n->kind != GQL_INTERFACE_EXT && n->kind != GQL_OBJECT_DEF && n->kind != GQL_OBJECT_EXT)
        return true;
    for (const gql_node *f = n->items.first; f; f = f->next) {
        snprintf(parent, sizeof parent, "%.*s.%.*s", S(n->name), S(f->name));
        check_arg_defs(c, parent, f->args);
    }
    return false;
}

static bool unique_directive_names(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_DIRECTIVE_DEF) return true;
    seen *prev = find_seen(&c->directive_names, (kiln_str){ "", 0 }, n->name);
    if (prev) {
        uint32_t at[2] = { prev->at, n->name_at };
        ERR_AT(c, at, 2, "There can be only one directive named \"@%.*s\".", S(n->name));
    } else {
        add_seen(c, &c->directive_names, (kiln_str){ "", 0 }, n->name, n->name_at, n);
    }
    return false;
}

/* "Unknown type" with suggestions from the given names. */
static void unknown_with_suggestions(ctx *c, uint32_t at, const char *prefix, kiln_str name, const char *suffix,
                                     bool standard)
{
    uint32_t cap = c->doc->items.len + ARRAY_LEN(standard_types) + 1, n = 0;
    kiln_str *opts = arena_alloc(c->a, sizeof(kiln_str) * cap);
    if (c->schema) {
        opts = arena_alloc(c->a, sizeof(kiln_str) * (cap + c->schema->ntypes));
        for (uint32_t i = 0; i < c->schema->ntypes; i++) opts[n++] = c->schema->types[i]->name;
    }
    if (standard)
        for (size_t i = 0; i < ARRAY_LEN(standard_types); i++) opts[n++] = gql_cstr(standard_types[i]);
    for (const gql_node *d = c->doc->items.first; d; d = d->next)
        if (is_type_def(d->kind)) opts[n++] = d->name;
    kiln_str *sug;
    uint32_t ns = gql_suggest(c->a, name, opts, n, &sug);
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "%s%.*s%s", prefix, S(name), suffix);
    gql_did_you_mean(&b, NULL, sug, ns);
    buf_putc(&b, '\0');
    ERR_AT(c, &at, 1, "%s", b.data);
    buf_free(&b);
}

bool gql_rule_known_type_names(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_NAMED_TYPE || type_def(c, n->name)) return true;
    if (c->schema && gql_schema_type(c->schema, n->name)) return true;
    const gql_node *def = p->depth > 1 ? p->stack[1] : gql_path_up(p, 1);
    bool sdl = def && is_sdl(def->kind);
    if (sdl)
        for (size_t i = 0; i < ARRAY_LEN(standard_types); i++)
            if (gql_kstr_is(n->name, standard_types[i])) return true;
    unknown_with_suggestions(c, n->start, "Unknown type \"", n->name, "\".", sdl);
    return true;
}

/* getDirectiveLocationForASTPath: where a directive on node `on` applies. */
static const char *directive_location(const gql_node *on, const gql_path *p)
{
    switch (on->kind) {
    case GQL_OPERATION: return on->op == GQL_QUERY ? "QUERY" : on->op == GQL_MUTATION ? "MUTATION" : "SUBSCRIPTION";
    case GQL_FIELD: return "FIELD";
    case GQL_FRAGMENT_SPREAD: return "FRAGMENT_SPREAD";
    case GQL_INLINE_FRAGMENT: return "INLINE_FRAGMENT";
    case GQL_FRAGMENT_DEF: return "FRAGMENT_DEFINITION";
    case GQL_VARIABLE_DEF: return "VARIABLE_DEFINITION";
    case GQL_SCHEMA_DEF: case GQL_SCHEMA_EXT: return "SCHEMA";
    case GQL_SCALAR_DEF: case GQL_SCALAR_EXT: return "SCALAR";
    case GQL_OBJECT_DEF: case GQL_OBJECT_EXT: return "OBJECT";
    case GQL_FIELD_DEF: return "FIELD_DEFINITION";
    case GQL_INTERFACE_DEF: case GQL_INTERFACE_EXT: return "INTERFACE";
    case GQL_UNION_DEF: case GQL_UNION_EXT: return "UNION";
    case GQL_ENUM_DEF: case GQL_ENUM_EXT: return "ENUM";
    case GQL_ENUM_VALUE_DEF: return "ENUM_VALUE";
    case GQL_INPUT_OBJECT_DEF: case GQL_INPUT_OBJECT_EXT: return "INPUT_OBJECT";
    case GQL_INPUT_VALUE_DEF: {
        /* graphql-js looks at the definition holding the list: only an
         * input object *definition* makes it an input field. */
        const gql_node *holder = gql_path_up(p, 2);
        return holder && holder->kind == GQL_INPUT_OBJECT_DEF ? "INPUT_FIELD_DEFINITION" : "ARGUMENT_DEFINITION";
    }
    default: return NULL;
    }
}

bool gql_rule_known_directives(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_DIRECTIVE) return true;
    const gql_node *def = directive_def(c, n->name);
    if (!def) {
        ERR_AT(c, &n->start, 1, "Unknown directive \"@%.*s\".", S(n->name));
        return true;
    }
    const char *loc = directive_location(gql_path_up(p, 1), p);
    if (!loc) return true;
    for (const gql_node *l = def->items.first; l; l = l->next)
        if (gql_kstr_is(l->name, loc)) return true;
    ERR_AT(c, &n->start, 1, "Directive \"@%.*s\" may not be used on %s.", S(n->name), loc);
    return true;
}

static bool carries_directives(gql_kind k)
{
    switch (k) {
    case GQL_OPERATION: case GQL_VARIABLE_DEF: case GQL_FIELD: case GQL_FRAGMENT_SPREAD: case GQL_INLINE_FRAGMENT:
    case GQL_FRAGMENT_DEF: case GQL_SCHEMA_DEF: case GQL_SCALAR_DEF: case GQL_OBJECT_DEF: case GQL_FIELD_DEF:
    case GQL_INPUT_VALUE_DEF: case GQL_INTERFACE_DEF: case GQL_UNION_DEF: case GQL_ENUM_DEF: case GQL_ENUM_VALUE_DEF:
    case GQL_INPUT_OBJECT_DEF: case GQL_SCHEMA_EXT: case GQL_SCALAR_EXT: case GQL_OBJECT_EXT: case GQL_INTERFACE_EXT:
    case GQL_UNION_EXT: case GQL_ENUM_EXT: case GQL_INPUT_OBJECT_EXT:
        return true;
    default:
        return false;
    }
}

bool gql_rule_unique_directives_per_location(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (!carries_directives(n->kind)) return true;
    seen_set local = { 0 }, *set = &local;
    kiln_str scope = { "", 0 };
    if (n->kind == GQL_SCHEMA_DEF || n->kind == GQL_SCHEMA_EXT) set = &c->schema_dirs;
    else if (is_type_def(n->kind) || is_type_ext(n->kind)) { set = &c->type_dirs; scope = n->name; }
    for (const gql_node *d = n->directives.first; d; d = d->next) {
        const gql_node *def = directive_def(c, d->name);
        if (!def || def->flag) continue;                /* unknown or repeatable */
        seen *prev = find_seen(set, scope, d->name);
        if (prev) {
            uint32_t at[2] = { prev->at, d->start };
            ERR_AT(c, at, 2, "The directive \"@%.*s\" can only be used once at this location.", S(d->name));
        } else {
            add_seen(c, set, scope, d->name, d->start, d);
        }
    }
    return true;
}

static bool possible_type_extensions(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (!is_type_ext(n->kind)) return true;
    const gql_node *def = type_def(c, n->name);
    if (!def) {
        unknown_with_suggestions(c, n->name_at, "Cannot extend type \"", n->name, "\" because it is not defined.", false);
        return true;
    }
    static const gql_kind ext_of[] = {
        [GQL_SCALAR_DEF] = GQL_SCALAR_EXT, [GQL_OBJECT_DEF] = GQL_OBJECT_EXT, [GQL_INTERFACE_DEF] = GQL_INTERFACE_EXT,
        [GQL_UNION_DEF] = GQL_UNION_EXT, [GQL_ENUM_DEF] = GQL_ENUM_EXT, [GQL_INPUT_OBJECT_DEF] = GQL_INPUT_OBJECT_EXT,
    };
    if (ext_of[def->kind] != n->kind) {
        static const char *const names[] = {
            [GQL_SCALAR_EXT] = "scalar", [GQL_OBJECT_EXT] = "object", [GQL_INTERFACE_EXT] = "interface",
            [GQL_UNION_EXT] = "union", [GQL_ENUM_EXT] = "enum", [GQL_INPUT_OBJECT_EXT] = "input object",
        };
        uint32_t at[2] = { def->start, n->start };
        ERR_AT(c, at, 2, "Cannot extend non-%s type \"%.*s\".", names[n->kind], S(n->name));
    }
    return true;
}

bool gql_rule_known_directive_args(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_DIRECTIVE) return true;
    const gql_node *def = directive_def(c, n->name);
    if (!def) return false;
    kiln_str *known = arena_alloc(c->a, sizeof(kiln_str) * (def->args.len + 1));
    uint32_t nk = 0;
    for (const gql_node *a = def->args.first; a; a = a->next) known[nk++] = a->name;
    for (const gql_node *a = n->args.first; a; a = a->next) {
        bool ok = false;
        for (uint32_t i = 0; i < nk && !ok; i++) ok = gql_kstr_eq(known[i], a->name);
        if (ok) continue;
        kiln_str *sug;
        uint32_t ns = gql_suggest(c->a, a->name, known, nk, &sug);
        buf b;
        buf_init(&b, 128);
        buf_printf(&b, "Unknown argument \"%.*s\" on directive \"@%.*s\".", S(a->name), S(n->name));
        gql_did_you_mean(&b, NULL, sug, ns);
        buf_putc(&b, '\0');
        ERR_AT(c, &a->start, 1, "%s", b.data);
        buf_free(&b);
    }
    return false;
}

bool gql_rule_unique_argument_names(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_FIELD && n->kind != GQL_DIRECTIVE) return true;
    for (const gql_node *a = n->args.first; a; a = a->next) {
        bool first = true;
        for (const gql_node *b = n->args.first; b != a; b = b->next)
            if (gql_kstr_eq(a->name, b->name)) first = false;
        if (!first) continue;
        uint32_t at[8], k = 0;
        for (const gql_node *b = a; b; b = b->next)
            if (gql_kstr_eq(a->name, b->name) && k < 8) at[k++] = b->name_at;
        if (k > 1) ERR_AT(c, at, (int)k, "There can be only one argument named \"%.*s\".", S(a->name));
    }
    return true;
}

bool gql_rule_unique_input_fields(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind == GQL_OBJECT) {
        c->input_names[c->input_depth++] = arena_calloc(c->a, sizeof(seen_set));
    } else if (n->kind == GQL_OBJECT_FIELD && c->input_depth > 0) {
        seen_set *s = c->input_names[c->input_depth - 1];
        seen *prev = find_seen(s, (kiln_str){ "", 0 }, n->name);
        if (prev) {
            uint32_t at[2] = { prev->at, n->name_at };
            ERR_AT(c, at, 2, "There can be only one input field named \"%.*s\".", S(n->name));
        } else {
            add_seen(c, s, (kiln_str){ "", 0 }, n->name, n->name_at, n);
        }
    }
    return true;
}

void gql_rule_unique_input_fields_leave(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind == GQL_OBJECT) c->input_depth--;
}

void gql_rule_provided_directive_args(void *cx, const gql_node *n, const gql_path *p)
{
    ctx *c = cx;
    if (n->kind != GQL_DIRECTIVE) return;
    const gql_node *def = directive_def(c, n->name);
    if (!def) return;
    for (const gql_node *a = def->args.first; a; a = a->next) {
        if (a->type->kind != GQL_NON_NULL_TYPE || a->default_value) continue;
        bool given = false;
        for (const gql_node *g = n->args.first; g && !given; g = g->next) given = gql_kstr_eq(g->name, a->name);
        if (given) continue;
        buf t;
        buf_init(&t, 32);
        gql_print(&t, a->type);
        ERR_AT(c, &n->start, 1, "Directive \"@%.*s\" argument \"%.*s\" of type \"%.*s\" is required, but it was not provided.",
               S(n->name), S(a->name), (int)t.len, t.data);
        buf_free(&t);
    }
}

/* The specified directives, as the rules know them (locations, arguments,
 * repeatability); schema.c builds the same ones with descriptions. */
static const char spec_sdl[] =
    "directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "directive @deprecated(reason: String = \"No longer supported\") "
    "on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE\n"
    "directive @specifiedBy(url: String!) on SCALAR\n"
    "directive @oneOf on INPUT_OBJECT\n";

void gql_vstate_init(gql_vstate *c, const gql_node *doc, gql_errs *errs, const gql_schema *schema)
{
    memset(c, 0, sizeof *c);
    c->a = errs->a;
    c->errs = errs;
    c->doc = doc;
    c->schema = schema;
    gql_error perr;
    c->spec = gql_parse(errs->a, spec_sdl, sizeof spec_sdl - 1, NULL, &perr);
    KILN_ASSERT(c->spec != NULL);
}

void gql_sdl_validate(const gql_node *doc, gql_errs *errs)
{
    ctx c;
    gql_vstate_init(&c, doc, errs, NULL);
    static const gql_rule rules[] = {
        { lone_schema, NULL },
        { unique_op_types, NULL },
        { unique_type_names, NULL },
        { unique_enum_values, NULL },
        { unique_field_names, NULL },
        { unique_arg_defs, NULL },
        { unique_directive_names, NULL },
        { gql_rule_known_type_names, NULL },
        { gql_rule_known_directives, NULL },
        { gql_rule_unique_directives_per_location, NULL },
        { possible_type_extensions, NULL },
        { gql_rule_known_directive_args, NULL },
        { gql_rule_unique_argument_names, NULL },
        { gql_rule_unique_input_fields, gql_rule_unique_input_fields_leave },
        { NULL, gql_rule_provided_directive_args },
    };
    gql_visit(doc, rules, (int)ARRAY_LEN(rules), &c);
}
