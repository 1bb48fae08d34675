/* A plain route, answered while a resolver of the same worker sleeps. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res) { kiln_json(res, 200, "{hello: %s}", "world"); }
