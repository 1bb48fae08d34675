/* gql.h -- what the blog's GraphQL resolvers (the .c files of graphql/) share: the
 * session check, ID arguments, and input checked with the REST schemas. */
#ifndef BLOG_GQL_H
#define BLOG_GQL_H
#include <kiln.h>

/* The request has a session (bearer token or cookie, as REST); if not,
 * fails the field with "Unauthorized", code UNAUTHENTICATED, and returns
 * false. */
bool gql_require_session(kiln_gql *g);
/* An ID argument as a positive integer; 0 (matches no row) otherwise. */
int64_t gql_id_arg(kiln_gql *g, const char *name);
/* The "input" argument when `schema` accepts it; otherwise fails the field
 * with Joi's first message (as REST's 400), code BAD_USER_INPUT, and
 * returns NULL. */
const kiln_value *gql_valid_input(kiln_gql *g, const kiln_rule *schema);

#endif
