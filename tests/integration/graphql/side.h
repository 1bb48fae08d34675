/*
 * side.h -- what the Kiln sides of the GraphQL differential tests share:
 * reading their input file and writing errors as graphql-js's toJSON()
 * does ({"message", "locations"}). Test code only.
 */
#ifndef KILN_GQL_TEST_SIDE_H
#define KILN_GQL_TEST_SIDE_H

#include "graphql/exec.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>

/* The whole file into b, or exit(2). */
static inline void side_read(const char *path, buf *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); exit(2); }
    buf_init(b, 1 << 16);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) buf_append(b, chunk, got);
    fclose(fp);
}

/* [{"message": ..., "locations": [{"line", "column"}]}, ...] */
static inline void side_put_errs(jw_state *w, const gql_errs *errs)
{
    jw_begin_array(w);
    for (const gql_err *x = errs->first; x; x = x->next) {
        jw_begin_object(w);
        jw_key(w, "message", 7);
        jw_string(w, x->message, strlen(x->message));
        if (x->nlocs) {
            jw_key(w, "locations", 9);
            jw_begin_array(w);
            for (uint32_t i = 0; i < x->nlocs; i++) {
                jw_begin_object(w);
                jw_key(w, "line", 4);
                jw_uint(w, x->locs[i].line);
                jw_key(w, "column", 6);
                jw_uint(w, x->locs[i].column);
                jw_end(w);
            }
            jw_end(w);
        }
        jw_end(w);
    }
    jw_end(w);
}

#endif
