/*
 * schema_t.h -- for src/graphql's unit tests: a schema from SDL text (the
 * test fails, and NULL comes back, when it does not build). Test code only.
 */
#ifndef KILN_GQL_SCHEMA_T_H
#define KILN_GQL_SCHEMA_T_H

#include "graphql/schema.h"
#include "t.h"

static inline gql_schema *t_schema(arena *a, const char *sdl)
{
    gql_error pe;
    gql_node *d = gql_parse(a, sdl, strlen(sdl), NULL, &pe);
    gql_errs e = { .a = a, .src = sdl, .src_len = strlen(sdl) };
    gql_schema *s = d ? gql_schema_build(a, sdl, strlen(sdl), d, &e) : NULL;
    if (!s) T_FAIL("the test schema does not build: %s", d ? (e.first ? e.first->message : "?") : pe.message);
    return s;
}

#endif
