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

TEST(subscribing_runs_the_root_resolver_once)
{
    arena a;
    arena_init(&a, 1 << 14);
    buf out;
    buf_init(&out, 256);
    gql_schema *s = schema(&a, SDL);
    calls = 0;
    fail_with = NULL;
    CHECK(sub(&a, s, "subscription { ticks(every: 2) { n } }", &out));
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT((int)strlen(out.data), 0);

    /* An event: its data is the root value, the selection set runs on it. */
    const char *q = "subscription { ticks(every: 2) { n } }";
    gql_error pe;
    gql_request rq = { .doc = gql_parse(&a, q, strlen(q), NULL, &pe), .src = q, .src_len = strlen(q),
                       .root = json_parse(&a, "{\"n\":7}", 7, &(const char *){ NULL }) };
    out.len = 0;
    gql_execute(&a, s, &rq, &out);
    buf_putc(&out, '\0');
    CHECK_EQ_STR(out.data, "{\"data\":{\"ticks\":{\"n\":7}}}");
    buf_free(&out);
    arena_destroy(&a);
}

TEST(resolver_errors_are_located_with_the_path)
{
    arena a;
    arena_init(&a, 1 << 14);
    buf out;
    buf_init(&out, 256);
    gql_schema *s = schema(&a, SDL);
    fail_with = "no ticks for you";
    CHECK(!sub(&a, s, "subscription {\n  t: ticks(every: 1) { n }\n}", &out));
    CHECK_EQ_STR(out.data, "{\"errors\":[{\"message\":\"no ticks for you\",\"locations\":[{\"line\":2,\"column\":3}],"
                           "\"path\":[\"t\"],\"extensions\":{\"code\":\"FORBIDDEN\"}}]}");
    fail_with = NULL;
    buf_free(&out);
    arena_destroy(&a);
}

TEST(failures_before_a_stream_have_graphql_js_messages)
{
    arena a;
    arena_init(&a, 1 << 14);
    buf out;
    buf_init(&out, 256);
    gql_schema *s = schema(&a, SDL);
    CHECK(!sub(&a, s, "subscription { other }", &out));
    CHECK_EQ_STR(out.data, "{\"errors\":[{\"message\":\"Subscription field must return Async Iterable. Received: undefined.\"}]}");
    CHECK(!sub(&a, s, "subscription A { other } subscription B { other }", &out));
    CHECK_EQ_STR(out.data, "{\"errors\":[{\"message\":\"Must provide operation name if query contains multiple operations.\"}]}");
    CHECK(!sub(&a, s, "subscription ($e: Int!) { ticks(every: $e) { n } }", &out));
    CHECK_EQ_STR(out.data, "{\"errors\":[{\"message\":\"Variable \\\"$e\\\" of required type \\\"Int!\\\" was not provided.\","
                           "\"locations\":[{\"line\":1,\"column\":15}]}]}");
    gql_schema *nosub = schema(&a, "type Query { a: Int }");
    CHECK(!sub(&a, nosub, "subscription { a }", &out));
    CHECK_EQ_STR(out.data, "{\"errors\":[{\"message\":\"Schema is not configured to execute subscription operation.\","
                           "\"locations\":[{\"line\":1,\"column\":1}]}]}");
    buf_free(&out);
    arena_destroy(&a);
}

int main(void) { return t_run(); }
