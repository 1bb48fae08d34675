/*
 * rows.c -- reading a kiln_rows: its shape, typed getters by row and column
 * name, and writing rows as JSON. The same for both backends: a backend
 * fills kiln_rows (db.h) in the request's arena; this file only reads it.
 *
 * Owns: nothing. Must never: allocate (everything is in the rows already),
 * or read past nrows x ncols.
 */
#include "db/db.h"
#include "json/json.h"

#include <stdlib.h>

/* ---- reading rows --------------------------------------------------- */

size_t kiln_rows_count(const kiln_rows *r) { return r ? r->nrows : 0; }
size_t kiln_rows_columns(const kiln_rows *r) { return r ? r->ncols : 0; }
const char *kiln_rows_column(const kiln_rows *r, size_t col) { return r && col < r->ncols ? r->cols[col] : NULL; }
int64_t kiln_rows_changes(const kiln_rows *r) { return r ? r->changes : 0; }
kiln_db_status kiln_rows_status(const kiln_rows *r) { return r ? r->status : KILN_DB_ERROR; }
const char *kiln_rows_error(const kiln_rows *r) { return r ? r->error : "no result"; }

static const db_value *cell(const kiln_rows *r, size_t row, const char *col)
{
    if (!r || row >= r->nrows) return NULL;
    for (size_t c = 0; c < r->ncols; c++)
        if (!strcmp(r->cols[c], col)) return &r->vals[row * r->ncols + c];
    return NULL;
}

int64_t kiln_rows_i64(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    if (!v) return 0;
    if (v->type == DBV_INT || v->type == DBV_BOOL) return v->i;
    if (v->type == DBV_REAL) return (int64_t)v->d;
    if (v->type == DBV_TEXT) return strtoll(v->s, NULL, 10);
    return 0;
}

double kiln_rows_f64(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    if (!v) return 0;
    if (v->type == DBV_REAL) return v->d;
    if (v->type == DBV_INT || v->type == DBV_BOOL) return (double)v->i;
    if (v->type == DBV_TEXT) return strtod(v->s, NULL);
    return 0;
}

const char *kiln_rows_str(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return v && v->type != DBV_NULL ? v->s : NULL;
}

size_t kiln_rows_len(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return v && v->type != DBV_NULL ? v->n : 0;
}

bool kiln_rows_is_null(const kiln_rows *r, size_t row, const char *col)
{
    const db_value *v = cell(r, row, col);
    return !v || v->type == DBV_NULL;
}

/* ---- rows as JSON --------------------------------------------------- */
#define JW(w) ((jw_state *)(void *)(w))

void kiln_jw_row(kiln_jw *w, const kiln_rows *r, size_t row)
{
    jw_state *s = JW(w);
    if (!r || row >= r->nrows) { jw_null(s); return; }
    jw_begin_object(s);
    for (size_t c = 0; c < r->ncols; c++) {
        const db_value *v = &r->vals[row * r->ncols + c];
        jw_key(s, r->cols[c], strlen(r->cols[c]));
        switch (v->type) {
        case DBV_NULL: jw_null(s); break;
        case DBV_INT: jw_int(s, v->i); break;
        case DBV_REAL: jw_double(s, v->d); break;
        case DBV_BOOL: jw_bool(s, v->i != 0); break;
        case DBV_JSON: jw_raw(s, v->s, v->n); break;
        default: jw_string(s, v->s, v->n); break;
        }
    }
    jw_end(s);
}

void kiln_jw_rows(kiln_jw *w, const kiln_rows *r)
{
    jw_begin_array(JW(w));
    for (size_t i = 0; r && i < r->nrows; i++) kiln_jw_row(w, r, i);
    jw_end(JW(w));
}

void kiln_send_rows(kiln_res *res, int status, const kiln_rows *r)
{
    if (kiln_res_started(res)) return;
    kiln_jw_rows(kiln_json_begin(res, status), r);
}

void kiln_send_row(kiln_res *res, int status, const kiln_rows *r)
{
    if (kiln_res_started(res)) return;
    if (!r || r->nrows == 0) { kiln_error(res, 404, "Not Found"); return; }
    kiln_jw_row(kiln_json_begin(res, status), r, 0);
}
