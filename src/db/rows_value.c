/*
 * rows_value.c -- one row of a kiln_rows as a JSON value tree
 * (kiln_rows_value), what GraphQL resolvers return instead of having the
 * database build JSON text that is parsed again (kiln_gql_return_rows,
 * kiln_gql_batch_rows in src/api/graphql_loader.c).
 *
 * The object's members are the row's columns in order, keyed by column
 * name, with their types kept as kiln_send_rows writes them: integers and
 * reals are numbers (the number's text in `str`, as the JSON parser gives
 * it), text is a string, NULL and a non-finite real are null, PostgreSQL
 * booleans are true/false and json/jsonb columns the parsed JSON value.
 * One allocation per row holds the object and its members; strings point
 * at the row's text (both live in the request's arena), so nothing is
 * copied and only integers read from SQLite need their text written.
 *
 * Owns: nothing (the request's arena). Must never: read past nrows x ncols,
 * or give a value whose type differs from what kiln_jw_row writes for it.
 */
#include "db/db.h"
#include "api/request.h"
#include "json/json.h"

#include <math.h>

/* The decimal text of v in the arena (SQLite gives integers without it). */
static const char *int_text(arena *a, int64_t v, size_t *len)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do *--p = (char)('0' + u % 10); while ((u /= 10) != 0);
    if (v < 0) *--p = '-';
    *len = (size_t)(tmp + sizeof tmp - p);
    return arena_strndup(a, p, *len);
}

/* The shortest text that reads back as d (the JSON writer's). */
static const char *real_text(arena *a, double d, size_t *len)
{
    buf b;
    buf_init(&b, 32);
    jw_state w;
    jw_init(&w, &b);
    jw_double(&w, d);
    const char *s = arena_strndup(a, b.data, b.len);
    *len = b.len;
    buf_free(&b);
    return s;
}

/* Fill *out (key and link already set by the caller) from one cell. */
static void cell_value(arena *a, const db_value *v, kiln_value *out)
{
    switch (v->type) {
    case DBV_INT:
        out->type = KILN_JSON_NUMBER;
        out->num = (double)v->i;
        if (v->s) { out->str = v->s; out->len = v->n; }   /* PostgreSQL's text */
        else out->str = int_text(a, v->i, &out->len);
        return;
    case DBV_REAL:
        if (!isfinite(v->d)) { out->type = KILN_JSON_NULL; return; }
        out->type = KILN_JSON_NUMBER;
        out->num = v->d;
        out->str = real_text(a, v->d, &out->len);
        return;
    case DBV_BOOL:
        out->type = v->i ? KILN_JSON_TRUE : KILN_JSON_FALSE;
        return;
    case DBV_JSON: {
        const kiln_value *j = v->s ? json_parse(a, v->s, v->n, NULL) : NULL;
        if (j) {                 /* the tree's root node, copied into the member */
            out->type = j->type;
            out->len = j->len;
            out->str = j->str;
            out->num = j->num;
            out->child = j->child;
            return;
        }
        break;                   /* not JSON after all: its text */
    }
    case DBV_NULL:
        out->type = KILN_JSON_NULL;
        return;
    default:
        break;
    }
    out->type = KILN_JSON_STRING;
    out->str = v->s ? v->s : "";
    out->len = v->s ? v->n : 0;
}

const kiln_value *kiln_rows_value(kiln_req *req, const kiln_rows *r, size_t row)
{
    if (!r || row >= r->nrows) return NULL;
    arena *a = request_arena(req);
    size_t ncols = r->ncols;
    kiln_value *obj = arena_calloc(a, sizeof(kiln_value) * (ncols + 1));
    kiln_value *m = obj + 1;
    obj->type = KILN_JSON_OBJECT;
    obj->len = ncols;
    obj->child = ncols ? m : NULL;
    const db_value *cells = &r->vals[row * ncols];
    for (size_t c = 0; c < ncols; c++) {
        m[c].key = r->cols[c];
        m[c].key_len = strlen(r->cols[c]);
        m[c].next = c + 1 < ncols ? &m[c + 1] : NULL;
        cell_value(a, &cells[c], &m[c]);
    }
    return obj;
}
