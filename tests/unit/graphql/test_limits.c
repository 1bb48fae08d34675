/*
 * test_limits.c -- unit tests of src/graphql/limits.c: each abuse limit
 * (depth, aliases, fields, document size, time budget, introspection off)
 * with its message, location and extensions.code; fragments counted where
 * they are spread, cycles and fragment "bombs" in bounded time; the
 * KILN_GRAPHQL_* environment.
 */
#include "graphql/exec.h"
#include "graphql/limits.h"
#include "schema_t.h"

#include <stdlib.h>
#include <time.h>

static arena A;
static gql_schema *S;

static const char sdl[] =
    "type Query { a: String b: String n: N slow: String later: String }\n"
    "type N { a: String n: N }\n";

static void setup(void)
{
    static bool done;
    if (done) return;
    done = true;
    arena_init(&A, 1 << 16);
    S = t_schema(&A, sdl);
}

typedef struct run {
    gql_errs errs;
    uint32_t n;
} run;

/* Check src against l; the errors in r->errs. */
static run check(const char *src, const gql_op_limits *l, const char *op)
{
    setup();
    gql_error pe;
    run r = { .errs = { .a = &A, .src = src, .src_len = strlen(src) } };
    gql_node *d = gql_parse(&A, src, strlen(src), NULL, &pe);
    CHECK(d != NULL);
    if (!d) return r;
    r.n = gql_check_limits(S, d, op ? gql_cstr(op) : (kiln_str){ NULL, 0 }, l, &r.errs);
    return r;
}

static gql_op_limits lim(uint32_t depth, uint32_t aliases, uint32_t fields)
{
    gql_op_limits l;
    gql_op_limits_default(&l);
    l.max_depth = depth;
    l.max_aliases = aliases;
    l.max_fields = fields;
    return l;
}

TEST(defaults_are_documented_values)
{
    gql_op_limits l;
    gql_op_limits_default(&l);
    CHECK_EQ_INT(l.max_depth, 12);
    CHECK_EQ_INT(l.max_aliases, 30);
    CHECK_EQ_INT(l.max_fields, 1000);
    CHECK_EQ_INT(l.max_bytes, 102400);
    CHECK_EQ_INT(l.max_tokens, 5000);
    CHECK_EQ_INT(l.timeout_ms, 10000);
    CHECK(l.introspection);
    run r = check("{ a b n { n { a } } }", &l, NULL);
    CHECK_EQ_INT(r.n, 0);
}

TEST(depth_over_the_limit_points_at_the_deepest_field)
{
    gql_op_limits l = lim(2, 0, 0);
    run r = check("{ a n {\n  n { a } } }", &l, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.errs.first->message, "Query depth 3 exceeds the limit of 2.");
    CHECK_EQ_STR(r.errs.first->code, GQL_CODE_LIMIT);
    CHECK_EQ_INT(r.errs.first->nlocs, 1);
    CHECK_EQ_INT(r.errs.first->locs[0].line, 2);
    CHECK_EQ_INT(r.errs.first->locs[0].column, 7);
    CHECK_EQ_INT(check("{ a n { n } }", &l, NULL).n, 0);
}

TEST(depth_counts_through_fragments_and_inline_fragments)
{
    gql_op_limits l = lim(3, 0, 0);
    run r = check("{ n { ...F } } fragment F on N { ... on N { n { n { a } } } }", &l, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.errs.first->message, "Query depth 4 exceeds the limit of 3.");
    CHECK_EQ_INT(r.errs.first->locs[0].column, 53);       /* the `a` inside F */
}

TEST(aliases_count_every_spread_of_a_fragment)
{
    gql_op_limits l = lim(0, 5, 0);
    CHECK_EQ_INT(check("{ x: a y: a ...F } fragment F on Query { z: b }", &l, NULL).n, 0);
    run r = check("query Q { ...F ...F ... { ...F } } fragment F on Query { x: a y: b }", &l, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.errs.first->message, "Operation has 6 aliases, exceeding the limit of 5.");
    CHECK_EQ_INT(r.errs.first->locs[0].column, 1);         /* the operation */
}

TEST(fields_count_after_expansion_and_saturate_on_a_bomb)
{
    gql_op_limits l = lim(0, 0, 10);
    CHECK_EQ_INT(check("{ a b n { a n { a } } }", &l, NULL).n, 0);
    /* F0 spreads F1 twice, F1 spreads F2 twice ... 60 levels: 2^60 fields. */
    buf b;
    buf_init(&b, 4096);
    buf_puts(&b, "{ ...F0 }\n");
    for (int i = 0; i < 60; i++) buf_printf(&b, "fragment F%d on Query { a ...F%d ...F%d }\n", i, i + 1, i + 1);
    buf_puts(&b, "fragment F60 on Query { a }\n");
    buf_putc(&b, '\0');
    clock_t t0 = clock();
    run r = check(b.data, &l, NULL);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.errs.first->message, "Operation has 4294967295 fields, exceeding the limit of 10.");
    buf_free(&b);
}

TEST(fragment_cycles_end)
{
    gql_op_limits l = lim(2, 1, 3);
    run r = check("{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }", &l, NULL);
    CHECK_EQ_INT(r.n, 0);
    r = check("{ n { ...C } } fragment C on N { n { ...C } }", &l, NULL);
    CHECK_EQ_INT(r.n, 0);        /* the cycle is cut: depth 2 counted */
}

TEST(fragment_chains_deeper_than_the_walk_stop_with_a_depth_error)
{
    gql_op_limits l = lim(0, 0, 0);          /* even with no depth limit */
    buf b;
    buf_init(&b, 1 << 16);
    buf_puts(&b, "{ ...F0 }\n");
    for (int i = 0; i < 1500; i++) buf_printf(&b, "fragment F%d on Query { ...F%d }\n", i, i + 1);
    buf_puts(&b, "fragment F1500 on Query { a }\n");
    buf_putc(&b, '\0');
    run r = check(b.data, &l, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK(r.errs.first && strstr(r.errs.first->message, "nested more than 1000 deep"));
    buf_free(&b);
}

TEST(introspection_counts_fields_but_not_depth)
{
    gql_op_limits l = lim(2, 0, 4);
    run r = check("{ __schema { types { fields { type { ofType { name } } } } } }", &l, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.errs.first->message, "Operation has 6 fields, exceeding the limit of 4.");
}

TEST(only_the_named_operation_is_measured)
{
    gql_op_limits l = lim(1, 0, 0);
    const char *src = "query Flat { a } query Deep { n { a } }";
    CHECK_EQ_INT(check(src, &l, "Flat").n, 0);
    CHECK_EQ_INT(check(src, &l, "Deep").n, 1);
    CHECK_EQ_INT(check(src, &l, NULL).n, 1);
}

TEST(introspection_off_reports_graphql_js_words)
{
    gql_op_limits l;
    gql_op_limits_default(&l);
    l.introspection = false;
    run r = check("{ __typename a __schema { types { name } } __type(name: \"N\") { name } }", &l, NULL);
    CHECK_EQ_INT(r.n, 3);
    gql_err *e = r.errs.first;
    CHECK_EQ_STR(e->message, "GraphQL introspection has been disabled, but the requested query contained the field \"__schema\".");
    CHECK_EQ_STR(e->code, GQL_CODE_LIMIT);
    CHECK_EQ_INT(e->locs[0].column, 16);
    CHECK_EQ_STR(e->next->message, "GraphQL introspection has been disabled, but the requested query contained the field \"types\".");
    CHECK_EQ_STR(e->next->next->message, "GraphQL introspection has been disabled, but the requested query contained the field \"__type\".");
    l.introspection = true;
    CHECK_EQ_INT(check("{ __schema { types { name } } }", &l, NULL).n, 0);
}

TEST(document_size_and_tokens_are_the_parsers_limits)
{
    gql_op_limits l;
    gql_op_limits_default(&l);
    l.max_bytes = 16;
    gql_limits pl = gql_op_limits_parser(&l);
    const char *src = "{ a b a b a b a b a b }";
    gql_error e;
    CHECK(gql_parse(&A, src, strlen(src), &pl, &e) == NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Document is larger than 16 bytes. Parsing aborted.");
    l.max_bytes = 0;                                       /* no limit */
    pl = gql_op_limits_parser(&l);
    CHECK(gql_parse(&A, src, strlen(src), &pl, &e) != NULL);
    l.max_tokens = 5;
    pl = gql_op_limits_parser(&l);
    CHECK(gql_parse(&A, src, strlen(src), &pl, &e) == NULL);
    CHECK_EQ_STR(e.message, "Syntax Error: Document contains more that 5 tokens. Parsing aborted.");
    CHECK_EQ_INT(e.column, 11);                             /* the sixth token */
}

TEST(environment_overrides_and_rejects_garbage)
{
    gql_op_limits l;
    setenv("KILN_GRAPHQL_MAX_DEPTH", "7", 1);
    setenv("KILN_GRAPHQL_MAX_ALIASES", "0", 1);
    setenv("KILN_GRAPHQL_MAX_FIELDS", "50", 1);
    setenv("KILN_GRAPHQL_MAX_BYTES", "2048", 1);
    setenv("KILN_GRAPHQL_TIMEOUT_MS", "250", 1);
    setenv("KILN_GRAPHQL_MAX_TOKENS", "900", 1);
    setenv("KILN_GRAPHQL_INTROSPECTION", "0", 1);
    CHECK(gql_op_limits_from_env(&l) == NULL);
    CHECK_EQ_INT(l.max_depth, 7);
    CHECK_EQ_INT(l.max_aliases, 0);
    CHECK_EQ_INT(l.max_fields, 50);
    CHECK_EQ_INT(l.max_bytes, 2048);
    CHECK_EQ_INT(l.timeout_ms, 250);
    CHECK_EQ_INT(l.max_tokens, 900);
    CHECK(!l.introspection);
    setenv("KILN_GRAPHQL_MAX_DEPTH", "12x", 1);
    CHECK_EQ_STR(gql_op_limits_from_env(&l), "KILN_GRAPHQL_MAX_DEPTH must be a non-negative whole number (0: no limit)");
    setenv("KILN_GRAPHQL_MAX_DEPTH", "-1", 1);
    CHECK(gql_op_limits_from_env(&l) != NULL);
    unsetenv("KILN_GRAPHQL_MAX_DEPTH");
    setenv("KILN_GRAPHQL_INTROSPECTION", "maybe", 1);
    CHECK_EQ_STR(gql_op_limits_from_env(&l), "KILN_GRAPHQL_INTROSPECTION must be 0 or 1");
    const char *names[] = { "KILN_GRAPHQL_MAX_ALIASES", "KILN_GRAPHQL_MAX_FIELDS", "KILN_GRAPHQL_MAX_BYTES",
                            "KILN_GRAPHQL_TIMEOUT_MS", "KILN_GRAPHQL_MAX_TOKENS", "KILN_GRAPHQL_INTROSPECTION" };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) unsetenv(names[i]);
    CHECK(gql_op_limits_from_env(&l) == NULL);
    CHECK_EQ_INT(l.max_depth, 12);
    CHECK(l.introspection);
}

/* The time budget: a slow resolver uses it up; the fields after it fail
 * with TIMEOUT while the data resolved so far stays. */
static void Query_slow(kiln_gql *g)
{
    struct timespec ts = { 0, 30 * 1000000 };
    nanosleep(&ts, NULL);
    kiln_gql_return(g, gql_v_str(gql_r_arena(g), gql_cstr("done")));
}

TEST(time_budget_fails_the_remaining_fields_and_keeps_the_data)
{
    setup();
    static const gql_resolver_def defs[] = { { "Query_slow", Query_slow } };
    const char **unmatched;
    CHECK_EQ_INT(gql_exec_bind(S, defs, 1, &unmatched), 0);
    const char *src = "{ a slow later n { a } }";
    gql_error pe;
    gql_node *d = gql_parse(&A, src, strlen(src), NULL, &pe);
    kiln_value *root = gql_v_object(&A);
    gql_v_put(&A, root, gql_cstr("a"), gql_v_str(&A, gql_cstr("first")));
    gql_op_limits l;
    gql_op_limits_default(&l);
    l.timeout_ms = 10;
    gql_request rq = { .doc = d, .src = src, .src_len = strlen(src), .root = root, .deadline_ns = gql_deadline_ns(&l) };
    buf out;
    buf_init(&out, 256);
    gql_execute(&A, S, &rq, &out);
    buf_putc(&out, '\0');
    const char *want =
        "{\"errors\":[{\"message\":\"The operation's time budget ran out before this field was resolved.\","
        "\"locations\":[{\"line\":1,\"column\":10}],\"path\":[\"later\"],\"extensions\":{\"code\":\"TIMEOUT\"}},"
        "{\"message\":\"The operation's time budget ran out before this field was resolved.\","
        "\"locations\":[{\"line\":1,\"column\":16}],\"path\":[\"n\"],\"extensions\":{\"code\":\"TIMEOUT\"}}],"
        "\"data\":{\"a\":\"first\",\"slow\":\"done\",\"later\":null,\"n\":null}}";
    CHECK_EQ_STR(out.data, want);
    /* no budget: everything resolves */
    rq.deadline_ns = 0;
    out.len = 0;
    gql_execute(&A, S, &rq, &out);
    buf_putc(&out, '\0');
    CHECK(strstr(out.data, "\"errors\"") == NULL);
    CHECK_EQ_INT(gql_deadline_ns(&(gql_op_limits){ .timeout_ms = 0 }), 0);
    buf_free(&out);
}

int main(void) { return t_run(); }
