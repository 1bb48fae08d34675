/*
 * test_parse.c -- unit tests of src/graphql's lexer, parser and printer:
 * tree shapes, decoded string values, locations in UTF-16 columns, the
 * limits' messages. (The differential test against graphql-js lives in
 * tests/integration/graphql/parse_diff.test.mjs.)
 */
#include "graphql/gql.h"
#include "t.h"

static arena A;

static gql_node *P(const char *src)
{
    static bool init;
    if (!init) { arena_init(&A, 1 << 16); init = true; }
    gql_error e;
    gql_node *d = gql_parse(&A, src, strlen(src), NULL, &e);
    if (!d) fprintf(stderr, "  parse error: %s\n", e.message);
    return d;
}

static gql_error E(const char *src, const gql_limits *lim)
{
    gql_error e = { 0 };
    CHECK(gql_parse(&A, src, strlen(src), lim, &e) == NULL);
    return e;
}

static bool is(kiln_str s, const char *want) { return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0; }

TEST(operation_shape)
{
    gql_node *d = P("query Q($id: ID! = 1) @live { post: postById(id: $id) { title ...F } }");
    CHECK(d && d->items.len == 1);
    gql_node *op = d->items.first;
    CHECK_EQ_INT(op->kind, GQL_OPERATION);
    CHECK_EQ_INT(op->op, GQL_QUERY);
    CHECK(is(op->name, "Q"));
    CHECK_EQ_INT(op->vars.len, 1);
    gql_node *v = op->vars.first;
    CHECK(is(v->value->name, "id"));
    CHECK_EQ_INT(v->type->kind, GQL_NON_NULL_TYPE);
    CHECK(is(v->type->type->name, "ID"));
    CHECK_EQ_INT(v->default_value->kind, GQL_INT);
    CHECK(is(op->directives.first->name, "live"));
    gql_node *f = op->selection_set->items.first;
    CHECK(is(f->alias, "post") && is(f->name, "postById"));
    CHECK_EQ_INT(f->args.first->value->kind, GQL_VARIABLE);
    CHECK_EQ_INT(f->selection_set->items.len, 2);
    CHECK_EQ_INT(f->selection_set->items.first->next->kind, GQL_FRAGMENT_SPREAD);
    /* Node ranges: the field runs from its alias to its closing brace. */
    const char *src = "query Q($id: ID! = 1) @live { post: postById(id: $id) { title ...F } }";
    CHECK_EQ_INT(f->start, strstr(src, "post:") - src);
    CHECK_EQ_INT(f->end, strstr(src, "F }") - src + 3);
}

TEST(string_values)
{
    gql_node *d = P("{ a(s: \"\\u00e9\\u{1F600}\\uD83D\\uDE00\\n\\\"\", b: \"\"\"\n    x\n      y\n    \\\"\"\"\n\"\"\") }");
    CHECK(d != NULL);
    gql_node *a = d->items.first->selection_set->items.first->args.first;
    CHECK(is(a->value->name, "\xC3\xA9\xF0\x9F\x98\x80\xF0\x9F\x98\x80\n\""));
    CHECK(!a->value->flag);
    CHECK(a->next->value->flag);
    CHECK(is(a->next->value->name, "x\n  y\n\"\"\""));
}

TEST(errors_read_like_graphql_js)
{
    gql_error e = E("{", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Expected Name, found <EOF>.");
    CHECK_EQ_INT(e.line, 1);
    CHECK_EQ_INT(e.column, 2);
    e = E("query {\n  a(x: 01)\n}", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Invalid number, unexpected digit after 0: \"1\".");
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.column, 9);
    e = E("{ a(x: 'no') }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?");
    e = E("enum E { true }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Name \"true\" is reserved and cannot be used for an enum value.");
    e = E("query Q($a: Int = $b) { a }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Unexpected variable \"$b\" in constant value.");
    e = E("\"desc\" query { a }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Unexpected description, descriptions are supported only on type definitions.");
    /* A NUL byte in a value is kept in the message (message_len counts it). */
    static const char nul[] = "{ a(x: \"\\u{\0\") }";
    CHECK(gql_parse(&A, nul, sizeof nul - 1, NULL, &e) == NULL);
    CHECK_EQ_INT(e.message_len, strlen("Syntax Error: Invalid Unicode escape sequence: \"\\u{") + 3);
}

TEST(columns_count_utf16_units)
{
    /* é is 2 bytes / 1 unit, 😀 4 bytes / 2 units. */
    gql_error e = E("{ \"\xC3\xA9\xF0\x9F\x98\x80\" ? }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Expected Name, found String \"\xC3\xA9\xF0\x9F\x98\x80\".");
    e = E("{ a(x: \"\xC3\xA9\xF0\x9F\x98\x80\") ? }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Unexpected character: \"?\".");
    CHECK_EQ_INT(e.column, 15);
    e = E("{\r\n a\r b\n \xE2\x82\xAC }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Unexpected character: U+20AC.");
    CHECK_EQ_INT(e.line, 4);
    CHECK_EQ_INT(e.column, 2);
    e = E("{ a \xFF }", NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Invalid character: 0xFF.");
}

TEST(limits)
{
    gql_limits lim = { .max_depth = 3 };
    CHECK(gql_parse(&A, "{ a { b { c } } }", 17, &lim, &(gql_error){ 0 }) != NULL);
    gql_error e = E("{ a { b { c { d } } } }", &lim);
    CHECK_EQ_STR(e.message, "Syntax Error: Document is nested deeper than 3 levels. Parsing aborted.");
    e = E("{ a(x: [[[[1]]]]) }", &lim);
    CHECK_EQ_STR(e.message, "Syntax Error: Document is nested deeper than 3 levels. Parsing aborted.");
    lim = (gql_limits){ .max_tokens = 4 };
    CHECK(gql_parse(&A, "{ a b }", 7, &lim, &(gql_error){ 0 }) != NULL);
    e = E("{ a b c }", &lim);
    CHECK_EQ_STR(e.message, "Syntax Error: Document contains more that 4 tokens. Parsing aborted.");
    CHECK_EQ_INT(e.column, 9);
    lim = (gql_limits){ .max_bytes = 8 };
    e = E("{ a b c d }", &lim);
    CHECK_EQ_STR(e.message, "Syntax Error: Document is larger than 8 bytes. Parsing aborted.");
    /* The default depth stops a hostile document before the C stack does. */
    static char deep[200001];
    for (int i = 0; i < 100000; i++) { deep[i] = '['; deep[100000 + i] = ']'; }
    char *doc = arena_alloc(&A, sizeof deep + 16);
    snprintf(doc, sizeof deep + 16, "{a(x:%s)}", deep);
    lim = (gql_limits){ .max_tokens = 1u << 30 };
    e = E(doc, &lim);
    CHECK_EQ_STR(e.message, "Syntax Error: Document is nested deeper than 128 levels. Parsing aborted.");
}

TEST(print_is_graphql_js_print)
{
    gql_node *d = P("query { a } { b(x: 1, y: \"\\u0001\") @d } type T implements I & J { \"doc\" f(a: Int): [T!]! }");
    buf b;
    buf_init(&b, 0);
    gql_print(&b, d);
    buf_putc(&b, '\0');
    CHECK_EQ_STR(b.data, "{\n  a\n}\n\n{\n  b(x: 1, y: \"\\u0001\") @d\n}\n\n"
                         "type T implements I & J {\n  \"doc\"\n  f(a: Int): [T!]!\n}");
    buf_free(&b);
    arena_reset(&A);
}

int main(void) { return t_run(); }
