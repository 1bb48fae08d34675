/* The rows test's GraphQL route. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
