/*
 * test_validate_overlap.c -- unit tests of OverlappingFieldsCanBeMerged
 * (src/graphql/validate_overlap.c) where the differential test cannot go:
 * comparisons nested through long fragment chains (reported as graphql-js
 * does up to the nesting bound, and bounded in stack and time past it),
 * and a fragment spread thousands of times compared once.
 */
#include "schema_t.h"

#include <time.h>

static arena A;
static gql_schema *S;

static const char sdl[] = "type Query { t: T } type T { field: T a: String b: String }";

static gql_errs validate(const char *src)
{
    static bool init;
    if (!init) {
        init = true;
        arena_init(&A, 1 << 16);
        S = t_schema(&A, sdl);
    }
    gql_errs e = { .a = &A, .src = src, .src_len = strlen(src) };
    gql_error pe;
    gql_limits big = { .max_tokens = 1u << 22, .max_bytes = 1u << 24 };
    gql_node *d = gql_parse(&A, src, strlen(src), &big, &pe);
    CHECK(d != NULL);
    if (d) gql_validate(S, d, &e);
    return e;
}

/* { t { ...F0 } t { ...G0 } } with F_i = { field { ...F_i+1 } }, the
 * last F and G selecting x: a and x: b. */
static buf chain(int n)
{
    buf b;
    buf_init(&b, 1 << 16);
    buf_puts(&b, "{ t { ...F0 } t { ...G0 } }\n");
    for (int i = 0; i < n; i++) {
        buf_printf(&b, "fragment F%d on T { field { ...F%d } }\n", i, i + 1);
        buf_printf(&b, "fragment G%d on T { field { ...G%d } }\n", i, i + 1);
    }
    buf_printf(&b, "fragment F%d on T { x: a }\nfragment G%d on T { x: b }\n", n, n);
    buf_putc(&b, '\0');
    return b;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

TEST(conflict_through_a_fragment_chain_is_reported_in_full)
{
    buf src = chain(40);
    gql_errs e = validate(src.data);
    CHECK_EQ_INT(e.count, 1);
    if (e.first) {
        const char *head = "Fields \"t\" conflict because subfields \"field\" conflict because ";
        CHECK(!strncmp(e.first->message, head, strlen(head)));
        CHECK_EQ_INT(count(e.first->message, "subfields \"field\""), 40);
        CHECK(strstr(e.first->message, "subfields \"x\" conflict because \"a\" and \"b\" are different fields. Use different"));
        CHECK_EQ_INT(e.first->nlocs, 2 * 42);               /* t, 40 fields, x: each side */
    }
    buf_free(&src);
}

TEST(a_chain_past_the_nesting_bound_ends_without_a_deep_report)
{
    buf src = chain(3000);
    clock_t t0 = clock();
    gql_errs e = validate(src.data);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
    for (const gql_err *x = e.first; x; x = x->next) CHECK(strncmp(x->message, "Fields \"t\"", 10) != 0);
    buf_free(&src);
}

TEST(a_fragment_spread_everywhere_is_compared_once)
{
    buf b;
    buf_init(&b, 1 << 16);
    buf_puts(&b, "{ t { ");
    for (int i = 0; i < 3000; i++) buf_printf(&b, "f%d: field { ...F } ", i);
    buf_puts(&b, "} }\nfragment F on T { a x: a field { b } }\n");
    buf_putc(&b, '\0');
    clock_t t0 = clock();
    gql_errs e = validate(b.data);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
    CHECK_EQ_INT(e.count, 0);
    buf_free(&b);
}

int main(void) { return t_run(); }
