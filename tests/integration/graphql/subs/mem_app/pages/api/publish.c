/* POST /api/publish?channel=C&event=E with a JSON body: kiln_publish it. */
#include <kiln.h>

void POST(kiln_req *req, kiln_res *res)
{
    kiln_publish(kiln_query(req, "channel"), kiln_query(req, "event"), req->body.ptr);
    kiln_end(res, 204);
}
