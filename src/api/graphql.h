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

/* graphql/schema.h's and graphql/limits.h's types, by name only: app.c
 * includes this header and may not see the language layer. */
typedef struct gql_schema gql_schema;
typedef struct gql_op_limits gql_op_limits;

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

/* gql_request.failed for every execution of a request (graphql.c and
 * graphql_ws.c, between request_catch_db_failures on and off): a database
 * failure under a resolver or batch function, as the field's error --
 *   unreachable (PostgreSQL down): "Service Unavailable", SERVICE_UNAVAILABLE
 *   any other failure (SQL error):   "Internal Server Error", INTERNAL_SERVER_ERROR
 *   a value the database refused:    its message, BAD_USER_INPUT
 * Never the SQL or the driver's text (logged and reported by db.c). */
bool graphql_db_failed(void *req, const char **message, const char **code);
#define GRAPHQL_CODE_UNAVAILABLE "SERVICE_UNAVAILABLE"
/* A database failure before kiln_graphql ran (the route's middleware: a
 * session check, say; request_answer_db_failure): the same message and
 * code as a GraphQL request error, {"errors":[{"message", "extensions":
 * {"code"}}]}, in the media type the client accepts -- status 503 / 500 /
 * 400 under application/graphql-response+json (a response without "data"
 * is 4xx or 5xx there), 200 under application/json (the specification's
 * SHOULD for that media type, as for kiln_graphql's request errors). */
void graphql_answer_db_failure(kiln_req *req, kiln_res *res, kiln_db_status st, const char *message);

/* The worker's parsed-document cache (graphql/doccache.h): the entry of the
 * query text src[0..len) for schema, parsed with the endpoint's limits,
 * pinned (release it with gql_doccache_release). Over HTTP (pinned until the
 * request's arena is reset) and over the WebSocket (graphql_ws.c: a
 * subscription keeps its entry while it lasts). Each lookup is counted in
 * kiln_graphql_document_cache_total{result="hit"|"miss"}. */
struct gql_cached_doc *graphql_doc(const gql_schema *schema, const char *src, size_t len);

/* Report to Sentry the field errors of an execution result `out` (its JSON)
 * that are not the client's mistakes: those with a path whose
 * extensions.code is not BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
 * CONFLICT or a request error's, and not a database outage (db.c logs and
 * counts those, as it does a REST route's 503). A database failure
 * ("Internal Server Error") goes as a DatabaseError with the database's
 * text and the statement, as a REST route's 500 does. The operation's name:
 * opname, else the operation node's (NULL: none). Over HTTP and over the
 * WebSocket (graphql_ws.c) alike. */
void graphql_report_errors(kiln_req *req, const char *out, size_t len, kiln_str opname);

/* The answer's media type from an Accept header (NULL: none):
 * application/graphql-response+json when listed (not with q=0), else
 * application/json when it, application/ * or * / * is; a missing or empty
 * Accept is application/json. GRAPHQL_MT_NONE: not acceptable (406). */
enum { GRAPHQL_MT_NONE, GRAPHQL_MT_JSON, GRAPHQL_MT_GQL };
int graphql_accept(const char *accept);

#endif
