/*
 * sdl_rules.c -- the SDL validation rules graphql-js runs before building a
 * schema (specifiedSDLRules). Work in progress.
 */
#include "graphql/schema.h"

void gql_sdl_validate(const gql_node *doc, gql_errs *errs)
{
    (void)doc;
    (void)errs;
}
