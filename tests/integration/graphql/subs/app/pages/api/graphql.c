#include <kiln.h>
void kiln_graphql(kiln_req *req, kiln_res *res);
void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
