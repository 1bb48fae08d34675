/*
 * loader_side.c -- the Kiln side of the loader differential test
 * (loader_diff.test.mjs): the resolvers and batch functions of that test
 * written with kiln_gql_load, run on each document. One line per
 * document: the response, a space, and the batches called
 * ([["users", key, ...], ...]), as the graphql-js side prints them.
 * Input: {"sdl", "root", "users", "orgs", "cases": [{"query"}]}.
 */
#include "side.h"
#include "graphql/loader.h"

static const kiln_value *users, *orgs;
static buf batches;                      /* this document's batch calls */

static void log_batch(kiln_gql_batch *b, const char *name)
{
    buf_puts(&batches, batches.len > 1 ? ",[\"" : "[\"");
    buf_puts(&batches, name);
    buf_putc(&batches, '"');
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        buf_putc(&batches, ',');
        gql_stringify(&batches, kiln_gql_batch_key(b, i));
    }
    buf_putc(&batches, ']');
}

static void users_by_id(kiln_gql_batch *b)
{
    log_batch(b, "users");
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        const char *k = kiln_json_str(kiln_gql_batch_key(b, i));
        if (strcmp(k, "9") == 0) kiln_gql_batch_error(b, i, NULL, "no user %s", k);
        else kiln_gql_batch_set(b, i, kiln_json_get(users, k));      /* NULL: none */
    }
}

static void orgs_by_id(kiln_gql_batch *b)
{
    log_batch(b, "orgs");
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        const char *k = kiln_json_str(kiln_gql_batch_key(b, i));
        if (strcmp(k, "bad") == 0) kiln_gql_batch_error(b, i, NULL, "bad org %s", k);
        else kiln_gql_batch_set(b, i, kiln_json_get(orgs, k));
    }
}

static void teams(kiln_gql_batch *b)
{
    log_batch(b, "teams");
    kiln_gql_batch_fail(b, NULL, "team service down");
}

#define PARENT(g, m) kiln_json_get(kiln_gql_parent(g), m)
static void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, PARENT(g, "authorId")); }
static void Post_authorNN(kiln_gql *g) { kiln_gql_load(g, users_by_id, PARENT(g, "authorId")); }
static void Post_fail(kiln_gql *g) { kiln_gql_error(g, NULL, "fail %s", kiln_json_str(PARENT(g, "id"))); }
static void Post_failNN(kiln_gql *g) { kiln_gql_error(g, NULL, "failNN %s", kiln_json_str(PARENT(g, "id"))); }
static void User_org(kiln_gql *g) { kiln_gql_load(g, orgs_by_id, PARENT(g, "orgId")); }
static void User_orgNN(kiln_gql *g) { kiln_gql_load(g, orgs_by_id, PARENT(g, "orgId")); }
static void User_team(kiln_gql *g) { kiln_gql_load(g, teams, PARENT(g, "id")); }
static void User_fail(kiln_gql *g) { kiln_gql_error(g, NULL, "ufail %s", kiln_json_str(PARENT(g, "id"))); }
static void User_failNN(kiln_gql *g) { kiln_gql_error(g, NULL, "ufailNN %s", kiln_json_str(PARENT(g, "id"))); }
static void Org_failNN(kiln_gql *g) { kiln_gql_error(g, NULL, "ofailNN %s", kiln_json_str(PARENT(g, "id"))); }
static void Query_user(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_gql_arg(g, "id")); }
static void Query_userNN(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_gql_arg(g, "id")); }
static void Mutation_touch(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_gql_arg(g, "id")); }
static void Mutation_touchNN(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_gql_arg(g, "id")); }

static const gql_resolver_def resolvers[] = {
    { "Post_author", Post_author }, { "Post_authorNN", Post_authorNN }, { "Post_fail", Post_fail },
    { "Post_failNN", Post_failNN }, { "User_org", User_org }, { "User_orgNN", User_orgNN },
    { "User_team", User_team }, { "User_fail", User_fail }, { "User_failNN", User_failNN },
    { "Org_failNN", Org_failNN }, { "Query_user", Query_user }, { "Query_userNN", Query_userNN },
    { "Mutation_touch", Mutation_touch }, { "Mutation_touchNN", Mutation_touchNN },
};

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "loader_side");
    users = side_get(&sd, "users");
    orgs = side_get(&sd, "orgs");
    gql_schema *s = side_schema(&sd);
    if (gql_exec_bind(s, resolvers, ARRAY_LEN(resolvers), NULL)) side_fail(&sd, "a resolver matches no field");
    buf_init(&batches, 256);
    for (const kiln_value *c = side_get(&sd, "cases")->child; c; c = c->next) {
        const kiln_value *q = kiln_json_get(c, "query");
        gql_error pe;
        gql_node *qd = gql_parse(&sd.scratch, q->str, q->len, NULL, &pe);
        if (!qd) side_fail(&sd, "%s", pe.message);
        batches.len = 0;
        buf_putc(&batches, '[');
        gql_request rq = { .doc = qd, .src = q->str, .src_len = q->len, .root = side_get(&sd, "root") };
        gql_execute(&sd.scratch, s, &rq, &sd.out);
        buf_putc(&batches, ']');
        buf_putc(&sd.out, ' ');
        buf_append(&sd.out, batches.data, batches.len);
        buf_putc(&sd.out, '\n');
        arena_reset(&sd.scratch);
    }
    buf_free(&batches);
    return side_close(&sd);
}
