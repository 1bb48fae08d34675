/* The GraphQL endpoint: over HTTP, and the graphql-transport-ws upgrades
 * the subscription tests make. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
