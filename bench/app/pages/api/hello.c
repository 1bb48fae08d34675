/* /api/hello -- no database: the figure every other route is compared to. */
#include <kiln.h>

void handler(kiln_req *req, kiln_res *res)
{
    kiln_json(res, 200, "{message: %s}", "Hello, World!");
}
