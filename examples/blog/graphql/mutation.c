/*
 * mutation.c -- the blog's GraphQL mutations, on the same data access as
 * the REST routes (lib/store.c), so both publish the same real-time events
 * (lib/live.c). Inputs are checked with the REST routes' schemas
 * (lib/validate.c): Joi's first message, extensions.code BAD_USER_INPUT.
 * The user mutations need a session (UNAUTHENTICATED); an email another
 * user has is "Email already exists", CONFLICT.
 */
#include <kiln.h>
#include "gql.h"
#include "store.h"
#include "validate.h"

static const kiln_value *TRUE_V = &(const kiln_value){ .type = KILN_JSON_TRUE };
static const kiln_value *FALSE_V = &(const kiln_value){ .type = KILN_JSON_FALSE };

void Mutation_createPost(kiln_gql *g)
{
    const kiln_value *in = gql_valid_input(g, post_schema);
    if (!in) return;
    kiln_rows *post = post_create(kiln_gql_req(g), kiln_json_text(kiln_json_get(in, "title")), kiln_json_text(kiln_json_get(in, "content")));
    if (kiln_rows_count(post) == 1) kiln_gql_return_row(g, post);
    else kiln_gql_error(g, "INTERNAL_SERVER_ERROR", "The post was not created");
}

void Mutation_updatePost(kiln_gql *g)
{
    kiln_req *req = kiln_gql_req(g);
    int64_t id = gql_id_arg(g, "id");
    if (!post_exists(req, id)) { kiln_gql_return(g, NULL); return; }  /* before validation, as REST */
    const kiln_value *in = gql_valid_input(g, post_schema);
    if (!in) return;
    kiln_rows *post = post_update(req, id, kiln_json_text(kiln_json_get(in, "title")), kiln_json_text(kiln_json_get(in, "content")));
    kiln_gql_return_row(g, post);
}

void Mutation_deletePost(kiln_gql *g)
{
    kiln_gql_return(g, post_delete(kiln_gql_req(g), gql_id_arg(g, "id")) ? TRUE_V : FALSE_V);
}

/* A user row from user_create/user_update, or the error it calls for. */
static void return_user(kiln_gql *g, kiln_rows *user, bool must)
{
    if (kiln_rows_status(user) == KILN_DB_CONFLICT) kiln_gql_error(g, "CONFLICT", "Email already exists");
    else if (kiln_rows_count(user)) kiln_gql_return_row(g, user);
    else if (must) kiln_gql_error(g, "INTERNAL_SERVER_ERROR", "The user was not created");
    else kiln_gql_return(g, NULL);
}

void Mutation_createUser(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    const kiln_value *in = gql_valid_input(g, user_schema);
    if (!in) return;
    return_user(g, user_create(kiln_gql_req(g), kiln_json_text(kiln_json_get(in, "name")), kiln_json_text(kiln_json_get(in, "email"))), true);
}

void Mutation_updateUser(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_req *req = kiln_gql_req(g);
    int64_t id = gql_id_arg(g, "id");
    if (!user_exists(req, id)) { kiln_gql_return(g, NULL); return; }
    const kiln_value *in = gql_valid_input(g, user_schema);
    if (!in) return;
    return_user(g, user_update(req, id, kiln_json_text(kiln_json_get(in, "name")), kiln_json_text(kiln_json_get(in, "email"))), false);
}

void Mutation_deleteUser(kiln_gql *g)
{
    if (!gql_require_session(g)) return;
    kiln_gql_return(g, user_delete(kiln_gql_req(g), gql_id_arg(g, "id")) ? TRUE_V : FALSE_V);
}
