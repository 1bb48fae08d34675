/* The GraphQL endpoint of memory.test.mjs: the graphql-transport-ws
 * upgrade its subscriber makes. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
