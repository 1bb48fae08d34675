/*
 * graphql.h -- the framework side of GraphQL (src/api/graphql*.c): the
 * app's runtime schema and the HTTP endpoint's helpers. The language layer
 * (src/graphql) knows no HTTP; this is where the two meet.
 *
 * The resolver context: every operation Kiln executes for a request (over
 * HTTP by kiln_graphql, over a WebSocket by graphql_ws_serve) runs with
 * gql_request.context = that request's kiln_req, on the request's own
 * coroutine. So kiln_gql_req(g) is the real request: its session
 * (kiln_session_user), its database (kiln_db_query suspends only this
 * request), its arena (kiln_alloc; freed with the request).
 */
#ifndef KILN_API_GRAPHQL_H
#define KILN_API_GRAPHQL_H

#include "kiln.h"
#include "graphql/limits.h"
#include "graphql/schema.h"

/* The app's schema (kiln_app_def.graphql_sdl) with its resolvers bound
 * (graphql_resolvers), built once and kept for the worker's life; rebuilt
 * only when the app definition changes (kiln dev's reloads). NULL when the
 * app has no schema, or when it does not build (the errors were logged). */
const gql_schema *graphql_schema(void);

/* At master start, before any worker exists: build the app's schema, so
 * that a broken SDL stops the server with its errors (file, line, column)
 * on stderr instead of answering 500 later. Returns 0, or -1 after
 * printing. Workers inherit the built schema through fork. */
int graphql_check_app(const kiln_app_def *app);

/* Free the schema (worker exit). */
void graphql_release(void);

/* The endpoint's limits (limits.h): the defaults, then the KILN_GRAPHQL_*
 * environment, read once per process. */
const gql_op_limits *graphql_limits(void);

#endif
