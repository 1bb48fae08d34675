/* The GraphQL bench's in-memory app: its route. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
