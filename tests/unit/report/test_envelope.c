/* test_envelope.c -- the Sentry wire format: DSN, auth header, event JSON
 * (valid JSON, the fields Sentry needs), envelopes with client reports,
 * X-Sentry-Rate-Limits and Retry-After, header scrubbing. */
#include "t.h"
#include "report/report.h"
#include "json/json.h"

#include <sys/wait.h>
#include <unistd.h>

static const kiln_value *parse(arena *a, const char *s, size_t n)
{
    const char *err = NULL;
    const kiln_value *v = json_parse(a, s, n, &err);
    if (!v) fprintf(stderr, "  invalid JSON (%s): %.*s\n", err, (int)n, s);
    return v;
}

/* The settings every event here is written with. */
static const report_settings SETTINGS = { .environment = "test", .release = "r1", .server_name = "h",
                                          .dsn = "http://k@h/1" };

/* An event's JSON text and what it parses to. */
typedef struct {
    arena a;
    buf b;
} scratch;

static void scratch_open(scratch *x)
{
    arena_init(&x->a, 4096);
    buf_init(&x->b, 0);
}

static void scratch_close(scratch *x)
{
    buf_free(&x->b);
    arena_destroy(&x->a);
}

/* Writes e's event JSON into x->b (emptied first) and parses it in x->a;
 * NULL (and the JSON on stderr) when it does not parse. */
static const kiln_value *event_json(scratch *x, const report_event *e)
{
    x->b.len = 0;
    report_event_json(&x->b, e, &SETTINGS);
    return parse(&x->a, x->b.data, x->b.len);
}

TEST(dsn_parses_to_the_envelope_endpoint)
{
    report_dsn d;
    CHECK_EQ_INT(report_dsn_parse("https://abc123@o1.ingest.sentry.io/4505", &d), 0);
    CHECK_EQ_STR(d.url, "https://o1.ingest.sentry.io/api/4505/envelope/");
    CHECK_EQ_STR(d.key, "abc123");
    CHECK_EQ_STR(d.project, "4505");
    CHECK_EQ_INT(report_dsn_parse("http://pub:secret@127.0.0.1:9000/sub/path/7", &d), 0);
    CHECK_EQ_STR(d.url, "http://127.0.0.1:9000/sub/path/api/7/envelope/");
    CHECK_EQ_STR(d.key, "pub");
    char h[256];
    report_auth_header(&d, h, sizeof h);
    CHECK(strstr(h, "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=pub, sentry_client=kiln/") == h);
    CHECK(!strstr(h, "secret"));
}

TEST(bad_dsns_are_refused)
{
    report_dsn d;
    const char *bad[] = { "", "nonsense", "ftp://k@h/1", "https://h/1", "https://k@h/", "https://k@h/abc",
                          "https://@h/1", "https://k@/1", "https://k@h h/1" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (report_dsn_parse(bad[i], &d) == 0) T_FAIL("accepted %s", bad[i]);
    }
    CHECK(report_dsn_parse(NULL, &d) != 0);
}

TEST(sensitive_names)
{
    const char *yes[] = { "Authorization", "cookie", "Set-Cookie", "X-Api-Key", "x-csrf-token", "password",
                          "X-Session-Id", "client_secret", "Proxy-Authorization" };
    const char *no[] = { "Host", "User-Agent", "Accept", "Content-Type", "X-Request-Id", "traceparent" };
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) if (!report_sensitive_name(yes[i], strlen(yes[i]))) T_FAIL("%s kept", yes[i]);
    for (size_t i = 0; i < ARRAY_LEN(no); i++) if (report_sensitive_name(no[i], strlen(no[i]))) T_FAIL("%s scrubbed", no[i]);
}

TEST(event_json_is_valid_and_complete)
{
    report_frame frames[] = { { "handler", "pages/api/crash.c", 12, true }, { "boom", "pages/api/crash.c", 7, true } };
    report_kv hdrs[] = { { "host", "x" }, { "user-agent", "t\"q\n" } };
    report_crumb crumbs[] = { { 1.5, "info", "request started", "\"path\":\"/x\"" }, { 2.0, "error", "bad", "\"trunc" } };
    report_event e = { .timestamp = 1700000000.25, .level = "error", .exc_type = "SIGSEGV",
                       .exc_value = "handler crashed", .frames = frames, .nframes = 2, .method = "GET",
                       .url = "http://x/api/crash", .query = "a=1", .headers = hdrs, .nheaders = 2,
                       .transaction = "/api/crash", .user_id = 42, .request_id = "0123456789abcdef", .worker = 1,
                       .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", .span_id = "00f067aa0ba902b7",
                       .crumbs = crumbs, .ncrumbs = 2, .sql = "SELECT ?" };
    report_new_event_id(e.event_id);
    CHECK_EQ_INT(strlen(e.event_id), 32);
    scratch x;
    scratch_open(&x);
    const kiln_value *v = event_json(&x, &e);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(v, "event_id")), e.event_id);
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(v, "platform")), "c");
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(v, "transaction")), "/api/crash");
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(v, "user"), "id")), "42");
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(v, "tags"), "worker")), "1");
        const kiln_value *fr = kiln_json_get(kiln_json_get(kiln_json_at(kiln_json_get(kiln_json_get(v, "exception"), "values"), 0), "stacktrace"), "frames");
        CHECK(fr && fr->len == 2);
        const kiln_value *crumbs_v = kiln_json_get(kiln_json_get(v, "breadcrumbs"), "values");
        CHECK(crumbs_v && crumbs_v->len == 2);
        CHECK(kiln_json_get(kiln_json_at(crumbs_v, 0), "data") != NULL);
        CHECK(kiln_json_get(kiln_json_at(crumbs_v, 1), "data") == NULL);   /* malformed: left out */
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(kiln_json_get(v, "contexts"), "trace"), "trace_id")), e.trace_id);
    }
    /* The envelope: header line, item header with the exact length, payload. */
    report_drops d = { .queue_overflow = 3 };
    buf env;
    buf_init(&env, 0);
    report_envelope(&env, x.b.data, x.b.len, e.event_id, &SETTINGS, &d);
    char *nl1 = memchr(env.data, '\n', env.len);
    CHECK(nl1 != NULL);
    if (nl1) {
        CHECK(parse(&x.a, env.data, (size_t)(nl1 - env.data)) != NULL);
        char *nl2 = memchr(nl1 + 1, '\n', env.len - (size_t)(nl1 + 1 - env.data));
        const kiln_value *ih = nl2 ? parse(&x.a, nl1 + 1, (size_t)(nl2 - nl1 - 1)) : NULL;
        CHECK(ih && kiln_json_get(ih, "length")->num == (double)x.b.len);
        CHECK(nl2 && !memcmp(nl2 + 1, x.b.data, x.b.len));
        CHECK(strstr(env.data, "{\"type\":\"client_report\"") != NULL);
        CHECK(strstr(env.data, "\"reason\":\"queue_overflow\",\"category\":\"error\",\"quantity\":3") != NULL);
    }
    buf_free(&env);
    scratch_close(&x);
}

/* A GraphQL resolver error's path and operation (api/graphql.c): extra and a
 * tag; an event without them has neither. */
TEST(graphql_fields)
{
    report_event e = { .timestamp = 1700000000.0, .level = "error", .exc_type = "GraphQLError",
                       .exc_value = "x \"quoted\"", .worker = 0, .gql_path = "posts.0.author", .gql_operation = "Feed" };
    report_new_event_id(e.event_id);
    scratch x;
    scratch_open(&x);
    const kiln_value *v = event_json(&x, &e);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(v, "extra"), "graphql_path")), "posts.0.author");
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(v, "extra"), "graphql_operation")), "Feed");
        CHECK_EQ_STR(kiln_json_str(kiln_json_get(kiln_json_get(v, "tags"), "graphql.operation")), "Feed");
    }
    e.gql_path = e.gql_operation = NULL;
    v = event_json(&x, &e);
    CHECK(v && !kiln_json_get(v, "extra") && !kiln_json_get(kiln_json_get(v, "tags"), "graphql.operation"));
    scratch_close(&x);
}

TEST(rate_limits)
{
#define RL(s) report_parse_rate_limits(s, strlen(s))
    CHECK_EQ_INT(RL("60:error:key"), 60);
    CHECK_EQ_INT(RL("60:transaction:key"), 0);
    CHECK_EQ_INT(RL("30::organization"), 30);
    CHECK_EQ_INT(RL("60:transaction;error:key, 2700:default:organization"), 2700);
    CHECK_EQ_INT(RL("60:session:key, 10:error;attachment:project:reason"), 10);
    CHECK_EQ_INT(RL("1.5:error:key"), 2);
    CHECK_EQ_INT(RL("junk"), 0);
    CHECK_EQ_INT(RL(""), 0);
    CHECK_EQ_INT(RL(":error:key"), 0);
    CHECK_EQ_INT(RL("600000000000000000:error:key"), 100000000);   /* capped (found by fuzz_sentry) */
    CHECK_EQ_INT(report_parse_retry_after(" 12 ", 4, 60), 12);
    CHECK_EQ_INT(report_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 29, 60), 60);
    CHECK_EQ_INT(report_parse_retry_after(NULL, 0, 60), 60);
}

TEST(ids_are_hex_and_differ_across_fork)
{
    char a[33], b[33], s[17];
    report_new_event_id(a);
    report_new_event_id(b);
    report_new_span_id(s);
    CHECK_EQ_INT(strlen(a), 32);
    CHECK_EQ_INT(strlen(s), 16);
    CHECK(strspn(a, "0123456789abcdef") == 32 && strspn(s, "0123456789abcdef") == 16);
    CHECK(strcmp(a, b) != 0);
    /* A forked child must not repeat its parent's next id. */
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c[33];
        report_new_event_id(c);
        if (write(p[1], c, 32) != 32) _exit(1);
        _exit(0);
    }
    char child[33] = { 0 }, parent[33];
    CHECK(read(p[0], child, 32) == 32);
    waitpid(pid, NULL, 0);
    report_new_event_id(parent);
    CHECK(strcmp(child, parent) != 0);
    close(p[0]);
    close(p[1]);
}

/* Every digit shows up at every position of the ids (the hex is written
 * eight digits at a time: a digit it could never produce, or a position
 * stuck, would show here). */
TEST(ids_use_every_digit_everywhere)
{
    unsigned seen[32] = { 0 };
    for (int i = 0; i < 4000; i++) {
        char id[33];
        report_new_event_id(id);
        CHECK_EQ_INT(strspn(id, "0123456789abcdef"), 32);
        for (int k = 0; k < 32; k++) seen[k] |= 1u << (id[k] <= '9' ? id[k] - '0' : id[k] - 'a' + 10);
    }
    for (int k = 0; k < 32; k++) CHECK_EQ_INT(seen[k], 0xffff);
}

int main(void) { return t_run(); }
