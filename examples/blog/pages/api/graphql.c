/* /api/graphql -- the blog's GraphQL API (graphql/schema.graphql, resolvers
 * in the .c files of graphql/): GET and POST by the GraphQL-over-HTTP specification, and
 * subscriptions over a WebSocket (graphql-transport-ws). */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
