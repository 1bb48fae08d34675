/*
 * graphql_ws.h -- GraphQL over WebSocket (graphql_ws.c): the subscription
 * server kiln_graphql hands upgrade requests to.
 */
#ifndef KILN_API_GRAPHQL_WS_H
#define KILN_API_GRAPHQL_WS_H

#include "kiln.h"
#include "graphql/schema.h"

/* The app's schema with its resolvers bound, built once per worker: from
 * the GraphQL endpoint (api/graphql.c, s3-gql-http's branch). NULL when the
 * app has none. */
const gql_schema *graphql_schema(void);

/* Serve a WebSocket upgrade request that offers the graphql-transport-ws
 * subprotocol: accept it and speak the protocol until the socket closes
 * (subscriptions on channels, queries and mutations). Runs on the request's
 * coroutine; answers 500 when the app has no GraphQL schema. */
void graphql_ws_serve(kiln_req *req, kiln_res *res);

#endif
