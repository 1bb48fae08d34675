/* The GraphQL endpoint. TEMPORARY: straight to the WebSocket server until
 * kiln_graphql (branch s3-gql-http) is merged; then `kiln_graphql(req, res)`,
 * which hands it the upgrades that offer graphql-transport-ws. */
#include <kiln.h>

void graphql_ws_serve(kiln_req *req, kiln_res *res);

void handler(kiln_req *req, kiln_res *res) { graphql_ws_serve(req, res); }
