/*
 * resolvers.c -- the GraphQL bench's app (bench/graphql.sh): 10 posts with
 * an author each, on SQLite; Post.author through the batching loader (one
 * query for all the authors of a list).
 */
#include <kiln.h>

static const kiln_value *json_row(kiln_req *req, kiln_rows *r)
{
    if (kiln_rows_status(r) != KILN_DB_OK || kiln_rows_count(r) == 0 || kiln_rows_is_null(r, 0, "j")) return NULL;
    return kiln_json_parse(req, kiln_rows_str(r, 0, "j"), kiln_rows_len(r, 0, "j"), NULL);
}

void Query_posts(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_gql_return(g, json_row(req, kiln_db_query(req,
        "SELECT json_group_array(json_object('id', id, 'title', title, 'content', content, 'author_id', author_id)) AS j "
        "FROM (SELECT * FROM posts ORDER BY id)")));
}

void Query_post(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_gql_return(g, json_row(req, kiln_db_query(req,
        "SELECT json_object('id', id, 'title', title, 'content', content, 'author_id', author_id) AS j FROM posts WHERE id = ?",
        kiln_json_str(kiln_gql_arg(g, "id")))));
}

static void users_by_id(kiln_gql_batch *b)
{
    kiln_gql_batch_rows(b, kiln_db_query(kiln_gql_batch_req(b),
        "SELECT CAST(id AS TEXT) AS id, name FROM users WHERE id IN (SELECT value FROM json_each(?))",
        kiln_gql_batch_keys_json(b)), "id");
}

void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
