/*
 * schema_check.c -- graphql-js's validateSchema(). Work in progress.
 */
#include "graphql/schema.h"

void gql_schema_check(gql_schema *s, gql_errs *errs)
{
    (void)s;
    (void)errs;
}
