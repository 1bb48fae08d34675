/*
 * test_subscribe.c -- unit tests of gql_subscribe (graphql-js 16's
 * createSourceEventStream) and of running an event through gql_execute
 * with its data as root value: the resolver runs once to subscribe, its
 * errors are located with the field's path, and the failures graphql-js
 * reports before a stream exists have its messages. (The protocol and the
 * channels are tested end to end in tests/integration/graphql/subs.)
 */
#include "graphql/exec.h"
#include "graphql/schema.h"
#include "json/json.h"
#include "t.h"

static int calls;
static const char *fail_with;

static void Subscription_ticks(kiln_gql *g)
{
    calls++;
    if (fail_with) { kiln_gql_error(g, "FORBIDDEN", "%s", fail_with); return; }
    /* The event phase: the root value (the event's data) is the value. */
    kiln_gql_return(g, kiln_gql_parent(g));
}

static const gql_resolver_def defs[] = { { "Subscription_ticks", Subscription_ticks } };

static const char SDL[] = "type Query { a: Int } type Tick { n: Int! } "
                          "type Subscription { ticks(every: Int!): Tick! other: Int }";

static gql_schema *schema(arena *a, const char *sdl)
{
    gql_error pe;
    gql_node *d = gql_parse(a, sdl, strlen(sdl), NULL, &pe);
    gql_errs errs = { 0 };
    gql_schema *s = d ? gql_schema_build(a, sdl, strlen(sdl), d, &errs) : NULL;
    CHECK(s != NULL);
    if (s) gql_exec_bind(s, defs, 1, NULL);
    return s;
}

/* gql_subscribe on `q`; the written response in *out (NUL-terminated). */
static bool sub(arena *a, const gql_schema *s, const char *q, buf *out)
{
    gql_error pe;
    gql_node *d = gql_parse(a, q, strlen(q), NULL, &pe);
    CHECK(d != NULL);
    gql_request rq = { .doc = d, .src = q, .src_len = strlen(q) };
    out->len = 0;
    bool ok = gql_subscribe(a, s, &rq, out);
    buf_putc(out, '\0');
    return ok;
}

/* What every case sets up: an arena, a response buffer, the schema. */
typedef struct {
    arena a;
    buf out;
    gql_schema *s;
} fixture;

static void fx_open(fixture *f)
{
    arena_init(&f->a, 1 << 14);
    buf_init(&f->out, 256);
    f->s = schema(&f->a, SDL);
    calls = 0;
    fail_with = NULL;
}

static void fx_close(fixture *f)
{
    fail_with = NULL;
    buf_free(&f->out);
    arena_destroy(&f->a);
}

TEST(subscribing_runs_the_root_resolver_once)
{
    fixture f;
    fx_open(&f);
    CHECK(sub(&f.a, f.s, "subscription { ticks(every: 2) { n } }", &f.out));
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT((int)strlen(f.out.data), 0);

    /* An event: its data is the root value, the selection set runs on it. */
    const char *q = "subscription { ticks(every: 2) { n } }";
    gql_error pe;
    gql_request rq = { .doc = gql_parse(&f.a, q, strlen(q), NULL, &pe), .src = q, .src_len = strlen(q),
                       .root = json_parse(&f.a, "{\"n\":7}", 7, &(const char *){ NULL }) };
    f.out.len = 0;
    gql_execute(&f.a, f.s, &rq, &f.out);
    buf_putc(&f.out, '\0');
    CHECK_EQ_STR(f.out.data, "{\"data\":{\"ticks\":{\"n\":7}}}");
    fx_close(&f);
}

TEST(resolver_errors_are_located_with_the_path)
{
    fixture f;
    fx_open(&f);
    fail_with = "no ticks for you";
    CHECK(!sub(&f.a, f.s, "subscription {\n  t: ticks(every: 1) { n }\n}", &f.out));
    CHECK_EQ_STR(f.out.data, "{\"errors\":[{\"message\":\"no ticks for you\",\"locations\":[{\"line\":2,\"column\":3}],"
                             "\"path\":[\"t\"],\"extensions\":{\"code\":\"FORBIDDEN\"}}]}");
    fx_close(&f);
}

TEST(failures_before_a_stream_have_graphql_js_messages)
{
    static const struct {
        const char *sdl, *query, *want;
    } cases[] = {
        { SDL, "subscription { other }",
          "{\"errors\":[{\"message\":\"Subscription field must return Async Iterable. Received: undefined.\"}]}" },
        { SDL, "subscription A { other } subscription B { other }",
          "{\"errors\":[{\"message\":\"Must provide operation name if query contains multiple operations.\"}]}" },
        { SDL, "subscription ($e: Int!) { ticks(every: $e) { n } }",
          "{\"errors\":[{\"message\":\"Variable \\\"$e\\\" of required type \\\"Int!\\\" was not provided.\","
          "\"locations\":[{\"line\":1,\"column\":15}]}]}" },
        { "type Query { a: Int }", "subscription { a }",
          "{\"errors\":[{\"message\":\"Schema is not configured to execute subscription operation.\","
          "\"locations\":[{\"line\":1,\"column\":1}]}]}" },
    };
    fixture f;
    fx_open(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gql_schema *s = cases[i].sdl == SDL ? f.s : schema(&f.a, cases[i].sdl);
        CHECK(!sub(&f.a, s, cases[i].query, &f.out));
        CHECK_EQ_STR(f.out.data, cases[i].want);
    }
    fx_close(&f);
}

int main(void) { return t_run(); }
