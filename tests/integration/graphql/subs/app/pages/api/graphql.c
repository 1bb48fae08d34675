/* The GraphQL endpoint: HTTP, and upgrades that offer graphql-transport-ws
 * handed to the WebSocket server. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
