/*
 * resolvers.c -- the rows test's app (rows.test.mjs), on SQLite or
 * PostgreSQL (DATABASE_URL): every query field twice, once returning the
 * rows as they are (kiln_gql_return_rows / _row) and once the old way, the
 * database building JSON text that is parsed again (the *Json fields), so
 * the test can hold the two answers byte for byte equal. Item.owner goes
 * through the loader's kiln_gql_batch_rows on an integer key column. The
 * JSON-scalar fields nj, fj, tj show n, f, t as they are, uncoerced.
 */
#include <kiln.h>
#include <stdlib.h>
#include <string.h>

static bool pg(void)
{
    const char *url = getenv("DATABASE_URL");
    return url && strncmp(url, "postgres", 8) == 0;
}

#define SQLITE_OBJ "json_object('id', id, 'n', n, 'f', f, 't', t, 'b', b, 'j', j, 'owner_id', owner_id, 'nj', n, 'fj', f, 'tj', t)"
#define PG_OBJ "json_build_object('id', id, 'n', n, 'f', f, 't', t, 'b', b, 'j', j, 'owner_id', owner_id, 'nj', n, 'fj', f, 'tj', t)"
#define COLS "SELECT id, n, f, t, b, j, owner_id, n AS nj, f AS fj, t AS tj FROM items"

static const kiln_value *json_row(kiln_req *req, kiln_rows *r)
{
    if (kiln_rows_status(r) != KILN_DB_OK || kiln_rows_count(r) == 0 || kiln_rows_is_null(r, 0, "j")) return NULL;
    return kiln_json_parse(req, kiln_rows_str(r, 0, "j"), kiln_rows_len(r, 0, "j"), NULL);
}

static kiln_rows *json_list(kiln_req *req, const char *where)
{
    return pg() ? kiln_db_query(req, kiln_sprintf(req, "SELECT COALESCE(json_agg(" PG_OBJ " ORDER BY id), '[]')::text AS j FROM items %s", where))
                : kiln_db_query(req, kiln_sprintf(req, "SELECT json_group_array(json(" SQLITE_OBJ ")) AS j FROM (SELECT * FROM items %s ORDER BY id)", where));
}

void Query_items(kiln_gql *g) { kiln_gql_return_rows(g, kiln_db_query(kiln_gql_req(g), COLS " ORDER BY id")); }
void Query_itemsJson(kiln_gql *g) { kiln_gql_return(g, json_row(kiln_gql_req(g), json_list(kiln_gql_req(g), ""))); }
void Query_none(kiln_gql *g) { kiln_gql_return_rows(g, kiln_db_query(kiln_gql_req(g), COLS " WHERE id < 0")); }
void Query_noneJson(kiln_gql *g) { kiln_gql_return(g, json_row(kiln_gql_req(g), json_list(kiln_gql_req(g), "WHERE id < 0"))); }

void Query_item(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    kiln_gql_return_row(g, kiln_db_query(req, COLS " WHERE id = ?", atoll(kiln_json_str(kiln_gql_arg(g, "id")))));
}

void Query_itemJson(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    long long id = atoll(kiln_json_str(kiln_gql_arg(g, "id")));
    kiln_gql_return(g, json_row(req, pg() ? kiln_db_query(req, "SELECT " PG_OBJ "::text AS j FROM items WHERE id = ?", id)
                                          : kiln_db_query(req, "SELECT " SQLITE_OBJ " AS j FROM items WHERE id = ?", id)));
}

/* A failed query (no such table): the database layer's error. */
void Query_broken(kiln_gql *g) { kiln_gql_return_rows(g, kiln_db_query(kiln_gql_req(g), "SELECT id FROM no_such_table")); }

/* A constraint violation (never caught by the database layer): the field fails. */
void Mutation_duplicate(kiln_gql *g)
{
    kiln_gql_return_row(g, kiln_db_query(kiln_gql_req(g), "INSERT INTO owners (id, name) VALUES (1, 'again') RETURNING id, name"));
}

static void owners_by_id(kiln_gql_batch *b)
{
    kiln_req *req = kiln_gql_batch_req(b);
    kiln_gql_batch_rows(b, pg() ? kiln_db_query(req, "SELECT id, name FROM owners WHERE id IN (SELECT json_array_elements_text(?::json)::bigint)",
                                                kiln_gql_batch_keys_json(b))
                                : kiln_db_query(req, "SELECT o.id, o.name FROM json_each(?) AS k JOIN owners AS o ON o.id = k.value",
                                                kiln_gql_batch_keys_json(b)), "id");
}

void Item_owner(kiln_gql *g) { kiln_gql_load(g, owners_by_id, kiln_json_get(kiln_gql_parent(g), "owner_id")); }
