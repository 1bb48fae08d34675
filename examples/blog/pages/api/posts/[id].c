/* /api/posts/[id] -- read, update, delete one post (the lesson's [id].js). */
#include <kiln.h>
#include "validate.h"
#include "store.h"

void GET(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = post_find(req, route_id(req));
    if (kiln_rows_count(post) == 0) { kiln_error(res, 404, "Post not found"); return; }
    kiln_send_row(res, 200, post);
}

void PUT(kiln_req *req, kiln_res *res)
{
    int64_t id = route_id(req);
    if (!post_exists(req, id)) {
        kiln_error(res, 404, "Post not found");
        return;
    }
    if (!kiln_validate(req, res, post_schema)) return;   /* after the 404, as the lesson */
    kiln_rows *post = post_update(req, id, kiln_body_text(req, "title"), kiln_body_text(req, "content"));
    if (kiln_rows_count(post) == 0) { kiln_error(res, 404, "Post not found"); return; }
    kiln_send_row(res, 200, post);
}

void DELETE(kiln_req *req, kiln_res *res)
{
    if (!post_delete(req, route_id(req))) { kiln_error(res, 404, "Post not found"); return; }
    kiln_end(res, 204);
}

/* The answers, declared: `kiln openapi` describes them, `kiln dev` checks
 * every real response against them. */
const kiln_config config = {
    .responses = {
        [KILN_GET] = KILN_RESPONSES(KILN_RESPONSE(200, .body = post_out), KILN_RESPONSE(404)),
        [KILN_PUT] = KILN_RESPONSES(KILN_RESPONSE(200, .body = post_out), KILN_RESPONSE(404)),
        [KILN_DELETE] = KILN_RESPONSES(KILN_RESPONSE(204), KILN_RESPONSE(404)),
    },
};
