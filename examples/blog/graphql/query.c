/*
 * query.c -- the blog's GraphQL queries, on the same data access as the
 * REST routes (lib/store.c). users and user need a session (bearer token
 * or cookie, as REST's kiln_require_session): without one they fail with
 * "Unauthorized", extensions.code UNAUTHENTICATED.
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
    kiln_req *req = kiln_gql_req(g);
    kiln_gql_return(g, rows_value(req, posts_all(req)));
}

void Query_post(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_rows *post = post_find(req, gql_id_arg(g, "id"));
    kiln_gql_return(g, kiln_rows_count(post) ? row_value(req, post, 0) : NULL);
}

void Query_users(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_req *req = kiln_gql_req(g);
    kiln_gql_return(g, rows_value(req, users_all(req)));
}

void Query_user(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_req *req = kiln_gql_req(g);
    kiln_rows *user = user_find(req, gql_id_arg(g, "id"));
    kiln_gql_return(g, kiln_rows_count(user) ? row_value(req, user, 0) : NULL);
}
