/*
 * resolvers.c -- memory.test.mjs's app. Subscription.tick does, for every
 * event, what a resolver may do through its request: formats 32 KB of text
 * (kiln_sprintf), registers a clean-up (kiln_defer), opens a transaction,
 * inserts the event's number and counts the rows -- committing on even
 * numbers and leaving the transaction open on odd ones (the event's end
 * must roll it back and give the connection back).
 */
#include <kiln.h>
#include <string.h>

static long cleaned;            /* kiln_defer clean-ups run so far */

static void clean(void *arg) { (void)arg; cleaned++; }

void Query_hello(kiln_gql *g)
{
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "\"Hello, World!\"", 15, NULL));
}

void Query_ticks(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    const char *json = kiln_json_fmt(req, "%lld",
                                     (long long)kiln_rows_i64(kiln_db_query(req, "SELECT count(*) AS c FROM ticks"), 0, "c"));
    kiln_gql_return(g, kiln_json_parse(req, json, strlen(json), NULL));
}

/* Over the socket, the events reach its subscription while the mutation
 * sleeps: one message's work, several events inside it. */
void Mutation_publishTicks(kiln_gql *g)
{
    int64_t from = 0, count = 0;
    kiln_json_i64(kiln_gql_arg(g, "from"), &from);
    kiln_json_i64(kiln_gql_arg(g, "count"), &count);
    /* The message's database state exists before the events (they share it). */
    kiln_db_query(kiln_gql_req(g), "SELECT count(*) FROM ticks");
    for (int64_t i = 0; i < count; i++) kiln_publishf("ticks", "tick", "{n: %lld}", (long long)(from + 2 * i));
    kiln_sleep(kiln_gql_req(g), 300);           /* they are delivered meanwhile */
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "true", 4, NULL));
}

void Subscription_tick(kiln_gql *g)
{
    if (kiln_gql_subscribe(g, "ticks", NULL)) return;
    kiln_req *req = kiln_gql_req(g);
    int64_t n = 0;
    kiln_json_i64(kiln_json_get(kiln_gql_parent(g), "n"), &n);
    long before = cleaned;
    char *text = kiln_sprintf(req, "%32768lld", (long long)n);
    kiln_defer(req, clean, NULL);
    if (!kiln_db_begin(req)) { kiln_gql_error(g, "DB", "begin failed"); return; }
    kiln_db_query(req, "INSERT INTO ticks (n) VALUES (?)", n);
    int64_t rows = kiln_rows_i64(kiln_db_query(req, "SELECT count(*) AS c FROM ticks"), 0, "c");
    if (n % 2 == 0 && !kiln_db_commit(req)) { kiln_gql_error(g, "DB", "commit failed"); return; }
    const char *json = kiln_json_fmt(req, "{n: %lld, rows: %lld, cleaned: %ld, size: %llu}",
                                     (long long)n, (long long)rows, before, (unsigned long long)strlen(text));
    kiln_gql_return(g, kiln_json_parse(req, json, strlen(json), NULL));
}
