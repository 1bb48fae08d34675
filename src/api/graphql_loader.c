/*
 * graphql_loader.c -- kiln_gql_batch_rows: the database side of the
 * GraphQL batching loader (src/graphql/loader.c), which knows no database.
 * A batch function runs one query for all its keys and hands the rows
 * here: each key gets the row whose key column equals it (compared as
 * text: the key's string, or its number as written), as an object of the
 * row's columns (SQL NULL: null; other values: strings, which GraphQL's
 * Int, Float and ID accept as graphql-js does), or null when no row has it.
 *
 * Owns: nothing (the request's arena, through gql values). Must never:
 * give a key another key's row, or fail fewer keys than asked when the
 * query failed.
 */
#include "graphql/loader.h"


void kiln_gql_batch_rows(kiln_gql_batch *b, kiln_rows *r, const char *col)
{
    if (!r || kiln_rows_status(r) != KILN_DB_OK) {
        kiln_gql_batch_fail(b, "INTERNAL_SERVER_ERROR", "Internal server error");
        return;
    }
    size_t nrows = kiln_rows_count(r), ncols = kiln_rows_columns(r);
    arena *a = gql_batch_arena(b);
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        const kiln_value *k = kiln_gql_batch_key(b, i);
        if (k->type != KILN_JSON_STRING && k->type != KILN_JSON_NUMBER) continue;     /* null */
        for (size_t row = 0; row < nrows; row++) {
            if (kiln_rows_is_null(r, row, col)) continue;
            if (kiln_rows_len(r, row, col) != k->len || memcmp(kiln_rows_str(r, row, col), k->str, k->len) != 0) continue;
            kiln_value *o = gql_v_object(a);
            for (size_t c = 0; c < ncols; c++) {
                const char *name = kiln_rows_column(r, c);
                kiln_value *v = kiln_rows_is_null(r, row, name)
                                    ? gql_v_null(a)
                                    : gql_v_str(a, (kiln_str){ kiln_rows_str(r, row, name), kiln_rows_len(r, row, name) });
                gql_v_put(a, o, gql_cstr(name), v);
            }
            kiln_gql_batch_set(b, i, o);
            break;
        }
    }
}
