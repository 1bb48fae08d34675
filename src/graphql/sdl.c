/*
 * sdl.c -- the parser of GraphQL's type-system language (SDL): schema,
 * scalar, object, interface, union, enum and input definitions, directive
 * definitions, and their `extend` forms.
 *
 * Each function mirrors the graphql-js 16 Parser method of the same rule
 * (parseObjectTypeDefinition ...), token check for token check, so errors
 * match word for word. Shared helpers (expect, values, directives, type
 * references) are in parse.c.
 *
 * Owns: nothing. Must never: accept SDL that graphql-js rejects.
 */
#include "graphql/parser.h"

static gql_node *parse_description(gql_parser *p)
{
    if (gql_peek(p, GQL_T_STRING) || gql_peek(p, GQL_T_BLOCK_STRING)) return gql_parse_string_literal(p);
    return NULL;
}

/* A definition node: start, description, keyword, and (unless it is
 * "schema") a name. */
static gql_node *def_head(gql_parser *p, gql_kind kind, const char *kw, bool named)
{
    gql_node *n = gql_node_at(p, kind, p->lx.token.start);
    n->description = parse_description(p);
    gql_expect_keyword(p, kw);
    if (named) {
        n->name_at = p->lx.token.start;
        n->name = gql_expect(p, GQL_T_NAME).value;
    }
    return n;
}

/* An extension node: "extend" kw Name (no name for "schema"). */
static gql_node *ext_head(gql_parser *p, gql_kind kind, const char *kw, bool named)
{
    gql_node *n = gql_node_at(p, kind, p->lx.token.start);
    gql_expect_keyword(p, "extend");
    gql_expect_keyword(p, kw);
    if (named) {
        n->name_at = p->lx.token.start;
        n->name = gql_expect(p, GQL_T_NAME).value;
    }
    return n;
}

static gql_list parse_op_type_defs(gql_parser *p, bool required)
{
    gql_lb b = { 0 };
    if (required) gql_expect(p, GQL_T_BRACE_L);
    else if (!gql_expect_optional(p, GQL_T_BRACE_L)) return b.l;
    do {
        gql_node *o = gql_node_at(p, GQL_OPERATION_TYPE_DEF, p->lx.token.start);
        o->op = gql_parse_operation_type(p);
        gql_expect(p, GQL_T_COLON);
        o->type = gql_parse_named_type(p);
        gql_lb_push(&b, gql_done(p, o));
    } while (!gql_expect_optional(p, GQL_T_BRACE_R));
    return b.l;
}

/* graphql-js's delimitedMany: an optional leading delimiter, then items
 * separated by it. */
static gql_list delimited_named_types(gql_parser *p, gql_tok delim)
{
    gql_lb b = { 0 };
    gql_expect_optional(p, delim);
    do gql_lb_push(&b, gql_parse_named_type(p));
    while (gql_expect_optional(p, delim));
    return b.l;
}

static gql_list parse_implements(gql_parser *p)
{
    if (!gql_expect_optional_keyword(p, "implements")) return (gql_list){ 0 };
    return delimited_named_types(p, GQL_T_AMP);
}

static gql_list parse_union_members(gql_parser *p)
{
    if (!gql_expect_optional(p, GQL_T_EQUALS)) return (gql_list){ 0 };
    return delimited_named_types(p, GQL_T_PIPE);
}

static gql_node *parse_input_value_def(gql_parser *p)
{
    gql_node *n = gql_node_at(p, GQL_INPUT_VALUE_DEF, p->lx.token.start);
    n->description = parse_description(p);
    n->name_at = p->lx.token.start;
    n->name = gql_expect(p, GQL_T_NAME).value;
    gql_expect(p, GQL_T_COLON);
    n->type = gql_parse_type_ref(p);
    if (gql_expect_optional(p, GQL_T_EQUALS)) n->default_value = gql_parse_value(p, true);
    n->directives = gql_parse_directives(p, true);
    return gql_done(p, n);
}

/* "(" InputValueDefinition+ ")" or "{" InputValueDefinition+ "}". */
static gql_list parse_input_values(gql_parser *p, gql_tok open, gql_tok close)
{
    gql_lb b = { 0 };
    if (!gql_expect_optional(p, open)) return b.l;
    do gql_lb_push(&b, parse_input_value_def(p));
    while (!gql_expect_optional(p, close));
    return b.l;
}

static gql_list parse_fields_def(gql_parser *p)
{
    gql_lb b = { 0 };
    if (!gql_expect_optional(p, GQL_T_BRACE_L)) return b.l;
    do {
        gql_node *f = gql_node_at(p, GQL_FIELD_DEF, p->lx.token.start);
        f->description = parse_description(p);
        f->name_at = p->lx.token.start;
        f->name = gql_expect(p, GQL_T_NAME).value;
        f->args = parse_input_values(p, GQL_T_PAREN_L, GQL_T_PAREN_R);
        gql_expect(p, GQL_T_COLON);
        f->type = gql_parse_type_ref(p);
        f->directives = gql_parse_directives(p, true);
        gql_lb_push(&b, gql_done(p, f));
    } while (!gql_expect_optional(p, GQL_T_BRACE_R));
    return b.l;
}

static gql_list parse_enum_values(gql_parser *p)
{
    gql_lb b = { 0 };
    if (!gql_expect_optional(p, GQL_T_BRACE_L)) return b.l;
    do {
        gql_node *v = gql_node_at(p, GQL_ENUM_VALUE_DEF, p->lx.token.start);
        v->description = parse_description(p);
        const gql_token *t = &p->lx.token;
        if (gql_tok_is(t, "true") || gql_tok_is(t, "false") || gql_tok_is(t, "null"))
            GQL_FAIL(&p->lx, t->start, gql_token_desc(&p->lx, t),
                     GQL_S(" is reserved and cannot be used for an enum value."));
        v->name_at = t->start;
        v->name = gql_expect(p, GQL_T_NAME).value;
        v->directives = gql_parse_directives(p, true);
        gql_lb_push(&b, gql_done(p, v));
    } while (!gql_expect_optional(p, GQL_T_BRACE_R));
    return b.l;
}

static const char *const directive_locations[] = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT", "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION",
};

static gql_node *parse_directive_location(gql_parser *p)
{
    gql_token start = p->lx.token;
    gql_node *n = gql_parse_name_node(p, GQL_NAME);
    for (size_t i = 0; i < ARRAY_LEN(directive_locations); i++)
        if (gql_tok_is(&start, directive_locations[i])) return n;
    gql_unexpected(p, &start);
}

gql_node *gql_parse_type_system_def(gql_parser *p, const gql_token *kw)
{
    gql_node *n;
    if (gql_tok_is(kw, "schema")) {
        n = def_head(p, GQL_SCHEMA_DEF, "schema", false);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_op_type_defs(p, true);
    } else if (gql_tok_is(kw, "scalar")) {
        n = def_head(p, GQL_SCALAR_DEF, "scalar", true);
        n->directives = gql_parse_directives(p, true);
    } else if (gql_tok_is(kw, "type") || gql_tok_is(kw, "interface")) {
        bool obj = gql_tok_is(kw, "type");
        n = def_head(p, obj ? GQL_OBJECT_DEF : GQL_INTERFACE_DEF, obj ? "type" : "interface", true);
        n->interfaces = parse_implements(p);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_fields_def(p);
    } else if (gql_tok_is(kw, "union")) {
        n = def_head(p, GQL_UNION_DEF, "union", true);
        n->directives = gql_parse_directives(p, true);
        n->interfaces = parse_union_members(p);
    } else if (gql_tok_is(kw, "enum")) {
        n = def_head(p, GQL_ENUM_DEF, "enum", true);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_enum_values(p);
    } else if (gql_tok_is(kw, "input")) {
        n = def_head(p, GQL_INPUT_OBJECT_DEF, "input", true);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_input_values(p, GQL_T_BRACE_L, GQL_T_BRACE_R);
    } else {
        KILN_ASSERT(gql_tok_is(kw, "directive"));
        n = gql_node_at(p, GQL_DIRECTIVE_DEF, p->lx.token.start);
        n->description = parse_description(p);
        gql_expect_keyword(p, "directive");
        gql_expect(p, GQL_T_AT);
        n->name_at = p->lx.token.start;
        n->name = gql_expect(p, GQL_T_NAME).value;
        n->args = parse_input_values(p, GQL_T_PAREN_L, GQL_T_PAREN_R);
        n->flag = gql_expect_optional_keyword(p, "repeatable");
        gql_expect_keyword(p, "on");
        gql_lb b = { 0 };
        gql_expect_optional(p, GQL_T_PIPE);
        do gql_lb_push(&b, parse_directive_location(p));
        while (gql_expect_optional(p, GQL_T_PIPE));
        n->items = b.l;
    }
    return gql_done(p, n);
}

gql_node *gql_parse_type_system_ext(gql_parser *p)
{
    gql_token kw = *gql_lex_lookahead(&p->lx);
    gql_node *n;
    if (kw.kind != GQL_T_NAME) gql_unexpected(p, &kw);
    if (gql_tok_is(&kw, "schema")) {
        n = ext_head(p, GQL_SCHEMA_EXT, "schema", false);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_op_type_defs(p, false);
        if (!n->directives.len && !n->items.len) gql_unexpected(p, NULL);
    } else if (gql_tok_is(&kw, "scalar")) {
        n = ext_head(p, GQL_SCALAR_EXT, "scalar", true);
        n->directives = gql_parse_directives(p, true);
        if (!n->directives.len) gql_unexpected(p, NULL);
    } else if (gql_tok_is(&kw, "type") || gql_tok_is(&kw, "interface")) {
        bool obj = gql_tok_is(&kw, "type");
        n = ext_head(p, obj ? GQL_OBJECT_EXT : GQL_INTERFACE_EXT, obj ? "type" : "interface", true);
        n->interfaces = parse_implements(p);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_fields_def(p);
        if (!n->interfaces.len && !n->directives.len && !n->items.len) gql_unexpected(p, NULL);
    } else if (gql_tok_is(&kw, "union")) {
        n = ext_head(p, GQL_UNION_EXT, "union", true);
        n->directives = gql_parse_directives(p, true);
        n->interfaces = parse_union_members(p);
        if (!n->directives.len && !n->interfaces.len) gql_unexpected(p, NULL);
    } else if (gql_tok_is(&kw, "enum")) {
        n = ext_head(p, GQL_ENUM_EXT, "enum", true);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_enum_values(p);
        if (!n->directives.len && !n->items.len) gql_unexpected(p, NULL);
    } else if (gql_tok_is(&kw, "input")) {
        n = ext_head(p, GQL_INPUT_OBJECT_EXT, "input", true);
        n->directives = gql_parse_directives(p, true);
        n->items = parse_input_values(p, GQL_T_BRACE_L, GQL_T_BRACE_R);
        if (!n->directives.len && !n->items.len) gql_unexpected(p, NULL);
    } else {
        gql_unexpected(p, &kw);
    }
    return gql_done(p, n);
}
