/*
 * query.c -- the blog's GraphQL queries, on the same data access as the
 * REST routes (lib/store.c). users and user need a session (bearer token
 * or cookie, as REST's kiln_require_session): without one they fail with
 * "Unauthorized", extensions.code UNAUTHENTICATED. The rows are the
 * fields' values as they are (kiln_gql_return_rows / _row).
 */
#include <kiln.h>
#include "gql.h"
#include "store.h"

void Query_hello(kiln_gql *g)
{
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "\"Hello, World!\"", 15, NULL));
}

void Query_posts(kiln_gql *g)
{
    kiln_gql_return_rows(g, posts_all(kiln_gql_req(g)));
}

void Query_post(kiln_gql *g)
{
    kiln_gql_return_row(g, post_find(kiln_gql_req(g), gql_id_arg(g, "id")));
}

void Query_users(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_gql_return_rows(g, users_all(kiln_gql_req(g)));
}

void Query_user(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_gql_return_row(g, user_find(kiln_gql_req(g), gql_id_arg(g, "id")));
}
