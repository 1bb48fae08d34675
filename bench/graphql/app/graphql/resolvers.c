/*
 * resolvers.c -- the GraphQL bench's app (bench/graphql.sh): 10 posts with
 * an author each, on SQLite; Post.author through the batching loader (one
 * query for all the authors of a list). Resolvers return the rows as they
 * are (kiln_gql_return_rows): no JSON text built by SQLite and parsed again.
 */
#include <kiln.h>

void Query_posts(kiln_gql *g)
{
    kiln_gql_return_rows(g, kiln_db_query(kiln_gql_req(g), "SELECT id, title, content, author_id FROM posts ORDER BY id"));
}

void Query_post(kiln_gql *g)
{
    kiln_gql_return_row(g, kiln_db_query(kiln_gql_req(g), "SELECT id, title, content, author_id FROM posts WHERE id = ?",
                                         kiln_json_str(kiln_gql_arg(g, "id"))));
}

static void users_by_id(kiln_gql_batch *b)
{
    kiln_gql_batch_rows(b, kiln_db_query(kiln_gql_batch_req(b),
        "SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?))",
        kiln_gql_batch_keys_json(b)), "id");
}

void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
