/*
 * graphql_loader.c -- the database side of GraphQL resolvers: rows as field
 * values without JSON text in between. kiln_gql_return_rows /
 * kiln_gql_return_row make a resolver's value of a query's rows (a list of
 * row objects, or the first row); kiln_gql_batch_rows hands each key of a
 * batch of the loader (src/graphql/loader.c, which knows no database) the
 * row whose key column equals it. Rows become objects through
 * kiln_rows_value (src/db/rows_value.c): typed columns, strings pointing
 * into the rows, one allocation per row.
 *
 * Keys are matched to rows through a hash table of the keys by text (the
 * key's string, or its number as written, against the key column's string
 * or number text): one pass over the rows, whatever the number of keys.
 *
 * Owns: nothing (the request's arena). Must never: give a key another key's
 * row, fail fewer keys than asked when the query failed, or return a failed
 * query's rows as if they were data.
 */
#include "graphql/exec.h"
#include "graphql/loader.h"

static const char *const FAILED_MSG = "Internal server error", *const FAILED_CODE = "INTERNAL_SERVER_ERROR";

static bool failed(const kiln_rows *r) { return !r || kiln_rows_status(r) != KILN_DB_OK; }

void kiln_gql_return_rows(kiln_gql *g, const kiln_rows *r)
{
    if (failed(r)) { kiln_gql_error(g, FAILED_CODE, "%s", FAILED_MSG); return; }
    kiln_req *req = kiln_gql_req(g);
    kiln_value *list = gql_v_array(gql_r_arena(g)), **tail = &list->child;
    size_t n = kiln_rows_count(r);
    for (size_t i = 0; i < n; i++) {            /* fresh objects: linked in place */
        kiln_value *row = (kiln_value *)kiln_rows_value(req, r, i);
        *tail = row;
        tail = &row->next;
    }
    list->len = n;
    kiln_gql_return(g, list);
}

void kiln_gql_return_row(kiln_gql *g, const kiln_rows *r)
{
    if (failed(r)) { kiln_gql_error(g, FAILED_CODE, "%s", FAILED_MSG); return; }
    kiln_gql_return(g, kiln_rows_value(kiln_gql_req(g), r, 0));
}

static uint32_t text_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;                    /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static bool has_text(const kiln_value *v) { return v && (v->type == KILN_JSON_STRING || v->type == KILN_JSON_NUMBER); }

void kiln_gql_batch_rows(kiln_gql_batch *b, kiln_rows *r, const char *col)
{
    if (failed(r)) {
        kiln_gql_batch_fail(b, FAILED_CODE, "%s", FAILED_MSG);
        return;
    }
    size_t nkeys = kiln_gql_batch_count(b), nrows = kiln_rows_count(r);
    if (!nkeys || !nrows) return;
    arena *a = gql_batch_arena(b);
    kiln_req *req = kiln_gql_batch_req(b);

    /* The keys by text: slot = key index + 1, 0 empty; keys with one text
     * (3 and "3") sit in one probe run. */
    uint32_t cap = 16;
    while (cap < 2 * nkeys) cap *= 2;
    uint32_t *slot = arena_calloc(a, sizeof *slot * cap);
    bool *given = arena_calloc(a, nkeys);
    for (size_t i = 0; i < nkeys; i++) {
        const kiln_value *k = kiln_gql_batch_key(b, i);
        if (!has_text(k)) continue;                                   /* null: no row */
        uint32_t h = text_hash(k->str, k->len) & (cap - 1);
        while (slot[h]) h = (h + 1) & (cap - 1);
        slot[h] = (uint32_t)i + 1;
    }

    kiln_str name = gql_cstr(col);
    for (size_t row = 0; row < nrows; row++) {
        const kiln_value *v = kiln_rows_value(req, r, row);
        const kiln_value *kv = gql_v_get(v, name);
        if (!has_text(kv)) continue;
        for (uint32_t h = text_hash(kv->str, kv->len) & (cap - 1); slot[h]; h = (h + 1) & (cap - 1)) {
            size_t i = slot[h] - 1;
            const kiln_value *k = kiln_gql_batch_key(b, i);
            if (given[i] || k->len != kv->len || memcmp(k->str, kv->str, kv->len) != 0) continue;
            kiln_gql_batch_set(b, i, v);        /* the first row with the key's text */
            given[i] = true;
        }
    }
}
