/*
 * resolvers.c -- the GraphQL bench's app (bench/graphql.sh): 10 posts with
 * an author each, on SQLite; Post.author through the batching loader (one
 * query for all the authors of a list). Resolvers return the rows as they
 * are (kiln_gql_return_rows): no JSON text built by SQLite and parsed again.
 * The batch joins json_each to users rather than asking for
 * `id IN (SELECT value FROM json_each(?))`: SQLite builds a temporary index
 * for that IN on every run (two zeroed pages and a b-tree), which cost this
 * query 2.6 times the instructions of the join (callgrind, 51k against 19.5k
 * per request) and the nested query a third of its requests/s.
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
        "SELECT u.id, u.name FROM json_each(?) AS k JOIN users AS u ON u.id = k.value",
        kiln_gql_batch_keys_json(b)), "id");
}

void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
