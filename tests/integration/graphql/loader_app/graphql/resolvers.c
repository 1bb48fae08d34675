/*
 * resolvers.c -- the loader test's app (loader_sql.test.mjs): N posts with
 * an author, resolved two ways on PostgreSQL: Post.authorEach runs one
 * query per post (the N+1 problem), Post.author asks the batching loader,
 * whose batch function runs one query for every author of the level.
 */
#include <kiln.h>

/* A one-row, one-column JSON result parsed into a value (NULL: none). */
static const kiln_value *json_row(kiln_req *req, kiln_rows *r)
{
    if (kiln_rows_status(r) != KILN_DB_OK || kiln_rows_count(r) == 0 || kiln_rows_is_null(r, 0, "j")) return NULL;
    return kiln_json_parse(req, kiln_rows_str(r, 0, "j"), kiln_rows_len(r, 0, "j"), NULL);
}

void Query_posts(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_rows *r = kiln_db_query(req, "SELECT COALESCE(json_agg(json_build_object('id', id::text, 'title', title, "
                                      "'author_id', author_id::text) ORDER BY id), '[]')::text AS j FROM posts");
    kiln_gql_return(g, json_row(req, r));
}

void Post_authorEach(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_rows *r = kiln_db_query(req, "SELECT json_build_object('id', id::text, 'name', name)::text AS j FROM users WHERE id = ?",
                                 kiln_json_str(kiln_json_get(kiln_gql_parent(g), "author_id")));
    kiln_gql_return(g, json_row(req, r));
}

static void users_by_id(kiln_gql_batch *b)
{
    kiln_rows *r = kiln_db_query(kiln_gql_batch_req(b),
                                 "SELECT id::text AS id, name FROM users WHERE id::text IN (SELECT json_array_elements_text(?::json))",
                                 kiln_gql_batch_keys_json(b));
    kiln_gql_batch_rows(b, r, "id");
}

void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
