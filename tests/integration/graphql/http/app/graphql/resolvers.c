/*
 * resolvers.c -- the HTTP endpoint tests' resolvers: each shows one thing
 * the endpoint must give a resolver (the request, its coroutine, its
 * database, located errors with codes).
 */
#include <kiln.h>
#include <string.h>

static const kiln_value *json(kiln_gql *g, const char *text)
{
    return kiln_json_parse(kiln_gql_req(g), text, strlen(text), NULL);
}

void Query_hello(kiln_gql *g) { kiln_gql_return(g, json(g, "\"Hello, World!\"")); }

void Query_header(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    const char *v = kiln_header(req, kiln_json_str(kiln_gql_arg(g, "name")));
    kiln_gql_return(g, v ? json(g, kiln_json_fmt(req, "%s", v)) : NULL);
}

void Query_slow(kiln_gql *g)
{
    int64_t ms = 0;
    kiln_json_i64(kiln_gql_arg(g, "ms"), &ms);
    kiln_sleep(kiln_gql_req(g), (unsigned)ms);
    kiln_gql_return(g, json(g, kiln_json_fmt(kiln_gql_req(g), "%lld", (long long)ms)));
}

void Query_plusOne(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    int64_t n = 0;
    kiln_json_i64(kiln_gql_arg(g, "n"), &n);
    kiln_rows *r = kiln_db_query(req, "SELECT ? + 1 AS v", n);
    kiln_gql_return(g, json(g, kiln_json_fmt(req, "%lld", (long long)kiln_rows_i64(r, 0, "v"))));
}

void Query_forbidden(kiln_gql *g) { kiln_gql_error(g, "FORBIDDEN", "Not for you, %s", "stranger"); }

void Query_items(kiln_gql *g) { kiln_gql_return(g, json(g, "[{\"id\":1},{\"id\":2},{\"id\":3}]")); }

void Item_check(kiln_gql *g)
{
    int64_t id = 0;
    kiln_json_i64(kiln_json_get(kiln_gql_parent(g), "id"), &id);
    if (id == 2) { kiln_gql_error(g, "BAD_ITEM", "item %lld is bad", (long long)id); return; }
    kiln_gql_return(g, json(g, "\"ok\""));
}

void Mutation_echo(kiln_gql *g) { kiln_gql_return(g, kiln_gql_arg(g, "text")); }
