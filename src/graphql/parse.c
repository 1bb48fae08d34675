/*
 * parse.c -- the GraphQL parser: documents, operations, selections,
 * fragments, values, directives and type references (sdl.c has the
 * type-system definitions).
 *
 * What it does. gql_parse() turns source text into a gql_node tree in the
 * caller's arena. Each function mirrors the graphql-js 16 Parser method of
 * the same grammar rule, in the same order of token checks, so that an
 * invalid document fails at the same token with the same message. Errors
 * (the lexer's and ours) long-jump back to gql_parse(), which returns NULL
 * with *err filled; as every byte lives in the arena nothing leaks.
 *
 * Limits (gql_limits): the document size is checked first, then every token
 * advanced over counts against max_tokens (graphql-js's maxTokens, same
 * message), and recursion (selection sets, list/object values, type
 * references) against max_depth, so a hostile document cannot exhaust the
 * C stack of the request's coroutine.
 *
 * Owns: nothing. Must never: recurse deeper than max_depth, read outside
 * the source, or accept a document graphql-js rejects.
 */
#include "graphql/parser.h"

#include <setjmp.h>

/* ---- Helpers ------------------------------------------------------------- */

void gql_lb_push(gql_lb *b, gql_node *n)
{
    if (b->tail) b->tail->next = n;
    else b->l.first = n;
    b->tail = n;
    b->l.len++;
}

gql_node *gql_node_at(gql_parser *p, gql_kind kind, uint32_t start)
{
    gql_node *n = arena_calloc(p->lx.a, sizeof *n);
    n->kind = kind;
    n->start = start;
    return n;
}

gql_node *gql_done(gql_parser *p, gql_node *n)
{
    n->end = p->lx.last_end;
    return n;
}

bool gql_peek(gql_parser *p, gql_tok k) { return p->lx.token.kind == k; }

bool gql_tok_is(const gql_token *t, const char *value)
{
    size_t n = strlen(value);
    return t->value.ptr && t->value.len == n && memcmp(t->value.ptr, value, n) == 0;
}

gql_token gql_expect(gql_parser *p, gql_tok k)
{
    if (p->lx.token.kind != k)
        GQL_FAIL(&p->lx, p->lx.token.start, GQL_S("Expected "), gql_cstr(gql_tok_kind_desc(k)), GQL_S(", found "),
                 gql_token_desc(&p->lx, &p->lx.token), GQL_S("."));
    gql_token t = p->lx.token;
    gql_lex_advance(&p->lx);
    return t;
}

bool gql_expect_optional(gql_parser *p, gql_tok k)
{
    if (p->lx.token.kind != k) return false;
    gql_lex_advance(&p->lx);
    return true;
}

void gql_expect_keyword(gql_parser *p, const char *kw)
{
    if (p->lx.token.kind == GQL_T_NAME && gql_tok_is(&p->lx.token, kw)) { gql_lex_advance(&p->lx); return; }
    GQL_FAIL(&p->lx, p->lx.token.start, GQL_S("Expected \""), gql_cstr(kw), GQL_S("\", found "),
             gql_token_desc(&p->lx, &p->lx.token), GQL_S("."));
}

bool gql_expect_optional_keyword(gql_parser *p, const char *kw)
{
    if (p->lx.token.kind != GQL_T_NAME || !gql_tok_is(&p->lx.token, kw)) return false;
    gql_lex_advance(&p->lx);
    return true;
}

void gql_unexpected(gql_parser *p, const gql_token *t)
{
    if (!t) t = &p->lx.token;
    GQL_FAIL(&p->lx, t->start, GQL_S("Unexpected "), gql_token_desc(&p->lx, t), GQL_S("."));
}

void gql_enter(gql_parser *p)
{
    if (++p->depth > p->max_depth)
        gql_lex_fail(&p->lx, p->lx.token.start, "Document is nested deeper than %u levels. Parsing aborted.",
                     p->max_depth);
}

void gql_leave(gql_parser *p) { p->depth--; }

gql_node *gql_parse_name_node(gql_parser *p, gql_kind kind)
{
    uint32_t start = p->lx.token.start;
    gql_token t = gql_expect(p, GQL_T_NAME);
    gql_node *n = gql_node_at(p, kind, start);
    n->name = t.value;
    n->name_at = start;
    return gql_done(p, n);
}

/* ---- Types --------------------------------------------------------------- */

gql_node *gql_parse_named_type(gql_parser *p) { return gql_parse_name_node(p, GQL_NAMED_TYPE); }

gql_node *gql_parse_type_ref(gql_parser *p)
{
    uint32_t start = p->lx.token.start;
    gql_node *type;
    gql_enter(p);
    if (gql_expect_optional(p, GQL_T_BRACKET_L)) {
        gql_node *inner = gql_parse_type_ref(p);
        gql_expect(p, GQL_T_BRACKET_R);
        type = gql_node_at(p, GQL_LIST_TYPE, start);
        type->type = inner;
        gql_done(p, type);
    } else {
        type = gql_parse_named_type(p);
    }
    gql_leave(p);
    if (gql_expect_optional(p, GQL_T_BANG)) {
        gql_node *nn = gql_node_at(p, GQL_NON_NULL_TYPE, start);
        nn->type = type;
        return gql_done(p, nn);
    }
    return type;
}

/* ---- Values -------------------------------------------------------------- */

gql_node *gql_parse_string_literal(gql_parser *p)
{
    gql_token t = p->lx.token;
    gql_lex_advance(&p->lx);
    gql_node *n = gql_node_at(p, GQL_STRING, t.start);
    n->name = t.value;
    n->flag = t.kind == GQL_T_BLOCK_STRING;
    return gql_done(p, n);
}

static gql_node *parse_variable(gql_parser *p)
{
    uint32_t start = p->lx.token.start;
    gql_expect(p, GQL_T_DOLLAR);
    gql_node *v = gql_node_at(p, GQL_VARIABLE, start);
    v->name_at = p->lx.token.start;
    v->name = gql_expect(p, GQL_T_NAME).value;
    return gql_done(p, v);
}

gql_node *gql_parse_value(gql_parser *p, bool is_const)
{
    gql_token t = p->lx.token;
    gql_node *n;
    gql_lb b = { 0 };
    switch (t.kind) {
    case GQL_T_BRACKET_L:
    case GQL_T_BRACE_L: {
        bool list = t.kind == GQL_T_BRACKET_L;
        gql_enter(p);
        n = gql_node_at(p, list ? GQL_LIST : GQL_OBJECT, t.start);
        gql_expect(p, t.kind);
        while (!gql_expect_optional(p, list ? GQL_T_BRACKET_R : GQL_T_BRACE_R)) {
            if (list) {
                gql_lb_push(&b, gql_parse_value(p, is_const));
                continue;
            }
            gql_node *f = gql_node_at(p, GQL_OBJECT_FIELD, p->lx.token.start);
            f->name_at = p->lx.token.start;
            f->name = gql_expect(p, GQL_T_NAME).value;
            gql_expect(p, GQL_T_COLON);
            f->value = gql_parse_value(p, is_const);
            gql_lb_push(&b, gql_done(p, f));
        }
        gql_leave(p);
        n->items = b.l;
        return gql_done(p, n);
    }
    case GQL_T_INT:
    case GQL_T_FLOAT:
        gql_lex_advance(&p->lx);
        n = gql_node_at(p, t.kind == GQL_T_INT ? GQL_INT : GQL_FLOAT, t.start);
        n->name = t.value;
        return gql_done(p, n);
    case GQL_T_STRING:
    case GQL_T_BLOCK_STRING:
        return gql_parse_string_literal(p);
    case GQL_T_NAME:
        gql_lex_advance(&p->lx);
        if (gql_tok_is(&t, "true") || gql_tok_is(&t, "false")) {
            n = gql_node_at(p, GQL_BOOLEAN, t.start);
            n->flag = gql_tok_is(&t, "true");
        } else if (gql_tok_is(&t, "null")) {
            n = gql_node_at(p, GQL_NULL, t.start);
        } else {
            n = gql_node_at(p, GQL_ENUM, t.start);
            n->name = t.value;
        }
        return gql_done(p, n);
    case GQL_T_DOLLAR:
        if (is_const) {
            gql_expect(p, GQL_T_DOLLAR);
            if (p->lx.token.kind == GQL_T_NAME)
                GQL_FAIL(&p->lx, t.start, GQL_S("Unexpected variable \"$"), p->lx.token.value,
                         GQL_S("\" in constant value."));
            gql_unexpected(p, &t);
        }
        return parse_variable(p);
    default:
        gql_unexpected(p, NULL);
    }
}

/* ---- Directives and arguments ------------------------------------------- */

gql_list gql_parse_arguments(gql_parser *p, bool is_const)
{
    gql_lb b = { 0 };
    if (!gql_expect_optional(p, GQL_T_PAREN_L)) return b.l;
    do {
        gql_node *a = gql_node_at(p, GQL_ARGUMENT, p->lx.token.start);
        a->name_at = p->lx.token.start;
        a->name = gql_expect(p, GQL_T_NAME).value;
        gql_expect(p, GQL_T_COLON);
        a->value = gql_parse_value(p, is_const);
        gql_lb_push(&b, gql_done(p, a));
    } while (!gql_expect_optional(p, GQL_T_PAREN_R));
    return b.l;
}

gql_list gql_parse_directives(gql_parser *p, bool is_const)
{
    gql_lb b = { 0 };
    while (gql_peek(p, GQL_T_AT)) {
        gql_node *d = gql_node_at(p, GQL_DIRECTIVE, p->lx.token.start);
        gql_expect(p, GQL_T_AT);
        d->name_at = p->lx.token.start;
        d->name = gql_expect(p, GQL_T_NAME).value;
        d->args = gql_parse_arguments(p, is_const);
        gql_lb_push(&b, gql_done(p, d));
    }
    return b.l;
}

/* ---- Operations, selections, fragments ------------------------------------ */

static gql_node *parse_selection_set(gql_parser *p);

static gql_node *parse_fragment_name(gql_parser *p, gql_node *n)
{
    if (gql_tok_is(&p->lx.token, "on")) gql_unexpected(p, NULL);
    n->name_at = p->lx.token.start;
    n->name = gql_expect(p, GQL_T_NAME).value;
    return n;
}

static gql_node *parse_selection(gql_parser *p)
{
    uint32_t start = p->lx.token.start;
    gql_node *n;
    if (gql_peek(p, GQL_T_SPREAD)) {
        gql_expect(p, GQL_T_SPREAD);
        bool has_cond = gql_expect_optional_keyword(p, "on");
        if (!has_cond && gql_peek(p, GQL_T_NAME)) {
            n = parse_fragment_name(p, gql_node_at(p, GQL_FRAGMENT_SPREAD, start));
            n->directives = gql_parse_directives(p, false);
            return gql_done(p, n);
        }
        n = gql_node_at(p, GQL_INLINE_FRAGMENT, start);
        if (has_cond) n->type = gql_parse_named_type(p);
        n->directives = gql_parse_directives(p, false);
        n->selection_set = parse_selection_set(p);
        return gql_done(p, n);
    }
    n = gql_node_at(p, GQL_FIELD, start);
    n->name_at = start;
    n->name = gql_expect(p, GQL_T_NAME).value;
    if (gql_expect_optional(p, GQL_T_COLON)) {
        n->alias = n->name;
        n->name_at = p->lx.token.start;
        n->name = gql_expect(p, GQL_T_NAME).value;
    }
    n->args = gql_parse_arguments(p, false);
    n->directives = gql_parse_directives(p, false);
    if (gql_peek(p, GQL_T_BRACE_L)) n->selection_set = parse_selection_set(p);
    return gql_done(p, n);
}

static gql_node *parse_selection_set(gql_parser *p)
{
    gql_node *n = gql_node_at(p, GQL_SELECTION_SET, p->lx.token.start);
    gql_lb b = { 0 };
    gql_enter(p);
    gql_expect(p, GQL_T_BRACE_L);
    do gql_lb_push(&b, parse_selection(p));
    while (!gql_expect_optional(p, GQL_T_BRACE_R));
    gql_leave(p);
    n->items = b.l;
    return gql_done(p, n);
}

gql_op gql_parse_operation_type(gql_parser *p)
{
    gql_token t = gql_expect(p, GQL_T_NAME);
    if (gql_tok_is(&t, "query")) return GQL_QUERY;
    if (gql_tok_is(&t, "mutation")) return GQL_MUTATION;
    if (gql_tok_is(&t, "subscription")) return GQL_SUBSCRIPTION;
    gql_unexpected(p, &t);
}

gql_node *gql_parse_operation(gql_parser *p)
{
    gql_node *n = gql_node_at(p, GQL_OPERATION, p->lx.token.start);
    if (gql_peek(p, GQL_T_BRACE_L)) {
        n->op = GQL_QUERY;
        n->selection_set = parse_selection_set(p);
        return gql_done(p, n);
    }
    n->op = gql_parse_operation_type(p);
    if (gql_peek(p, GQL_T_NAME)) {
        n->name_at = p->lx.token.start;
        n->name = gql_expect(p, GQL_T_NAME).value;
    }
    gql_lb vars = { 0 };
    if (gql_expect_optional(p, GQL_T_PAREN_L)) {
        do {
            gql_node *v = gql_node_at(p, GQL_VARIABLE_DEF, p->lx.token.start);
            v->value = parse_variable(p);
            gql_expect(p, GQL_T_COLON);
            v->type = gql_parse_type_ref(p);
            if (gql_expect_optional(p, GQL_T_EQUALS)) v->default_value = gql_parse_value(p, true);
            v->directives = gql_parse_directives(p, true);
            gql_lb_push(&vars, gql_done(p, v));
        } while (!gql_expect_optional(p, GQL_T_PAREN_R));
    }
    n->vars = vars.l;
    n->directives = gql_parse_directives(p, false);
    n->selection_set = parse_selection_set(p);
    return gql_done(p, n);
}

gql_node *gql_parse_fragment_def(gql_parser *p)
{
    gql_node *n = gql_node_at(p, GQL_FRAGMENT_DEF, p->lx.token.start);
    gql_expect_keyword(p, "fragment");
    parse_fragment_name(p, n);
    gql_expect_keyword(p, "on");
    n->type = gql_parse_named_type(p);
    n->directives = gql_parse_directives(p, false);
    n->selection_set = parse_selection_set(p);
    return gql_done(p, n);
}

/* ---- Documents ------------------------------------------------------------ */

static gql_node *parse_definition(gql_parser *p)
{
    if (gql_peek(p, GQL_T_BRACE_L)) return gql_parse_operation(p);
    bool has_description = gql_peek(p, GQL_T_STRING) || gql_peek(p, GQL_T_BLOCK_STRING);
    gql_token kw = has_description ? *gql_lex_lookahead(&p->lx) : p->lx.token;
    if (kw.kind == GQL_T_NAME) {
        static const char *const defs[] = { "schema", "scalar", "type", "interface", "union", "enum", "input", "directive" };
        for (size_t i = 0; i < ARRAY_LEN(defs); i++)
            if (gql_tok_is(&kw, defs[i])) return gql_parse_type_system_def(p, &kw);
        if (has_description)
            gql_lex_fail(&p->lx, p->lx.token.start,
                         "Unexpected description, descriptions are supported only on type definitions.");
        if (gql_tok_is(&kw, "query") || gql_tok_is(&kw, "mutation") || gql_tok_is(&kw, "subscription"))
            return gql_parse_operation(p);
        if (gql_tok_is(&kw, "fragment")) return gql_parse_fragment_def(p);
        if (gql_tok_is(&kw, "extend")) return gql_parse_type_system_ext(p);
    }
    gql_unexpected(p, &kw);
}

gql_node *gql_parse(arena *a, const char *src, size_t len, const gql_limits *lim, gql_error *err)
{
    gql_limits l = lim ? *lim : (gql_limits){ 0 };
    if (!l.max_bytes) l.max_bytes = GQL_DEFAULT_MAX_BYTES;
    if (!l.max_tokens) l.max_tokens = GQL_DEFAULT_MAX_TOKENS;
    if (!l.max_depth) l.max_depth = GQL_DEFAULT_MAX_DEPTH;
    if (l.max_bytes > UINT32_MAX - 16) l.max_bytes = UINT32_MAX - 16;

    jmp_buf jb;
    gql_parser *p = arena_calloc(a, sizeof *p);
    p->lx.a = a;
    p->lx.src = src;
    p->lx.len = (uint32_t)(len < l.max_bytes ? len : l.max_bytes);
    p->lx.token = (gql_token){ GQL_T_SOF, 0, 0, { NULL, 0 } };
    p->lx.max_tokens = l.max_tokens;
    p->lx.err = err;
    p->lx.jump = &jb;
    p->max_depth = l.max_depth;
    if (setjmp(jb)) return NULL;
    if (len > l.max_bytes)
        gql_lex_fail(&p->lx, (uint32_t)l.max_bytes, "Document is larger than %zu bytes. Parsing aborted.", l.max_bytes);

    gql_node *doc = gql_node_at(p, GQL_DOCUMENT, 0);
    gql_lb defs = { 0 };
    gql_expect(p, GQL_T_SOF);
    do gql_lb_push(&defs, parse_definition(p));
    while (!gql_expect_optional(p, GQL_T_EOF));
    doc->items = defs.l;
    return gql_done(p, doc);
}
