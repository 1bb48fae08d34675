/* /api/posts/[id] -- read, update, delete one post (the lesson's [id].js). */
#include <kiln.h>
#include "validate.h"
#include "live.h"

void GET(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = kiln_db_query(req, "SELECT id, title, content FROM posts WHERE id = ?", route_id(req));
    if (kiln_rows_count(post) == 0) { kiln_error(res, 404, "Post not found"); return; }
    kiln_send_row(res, 200, post);
}

void PUT(kiln_req *req, kiln_res *res)
{
    int64_t id = route_id(req);
    if (kiln_rows_count(kiln_db_query(req, "SELECT 1 FROM posts WHERE id = ?", id)) == 0) {
        kiln_error(res, 404, "Post not found");
        return;
    }
    if (!kiln_validate(req, res, post_schema)) return;   /* after the 404, as the lesson */
    kiln_rows *post = kiln_db_query(req,
        "UPDATE posts SET title = ?, content = ? WHERE id = ? RETURNING id, title, content",
        kiln_body_text(req, "title"), kiln_body_text(req, "content"), id);
    if (kiln_rows_count(post) == 0) { kiln_error(res, 404, "Post not found"); return; }
    post_event(req, "post.updated", post_json(req, post));
    kiln_send_row(res, 200, post);
}

void DELETE(kiln_req *req, kiln_res *res)
{
    int64_t id = route_id(req);
    kiln_rows *gone = kiln_db_query(req, "DELETE FROM posts WHERE id = ?", id);
    if (kiln_rows_changes(gone) == 0) { kiln_error(res, 404, "Post not found"); return; }
    post_event(req, "post.deleted", kiln_json_fmt(req, "{id: %lld}", (long long)id));
    kiln_end(res, 204);
}

/* The answers, declared: `kiln openapi` describes them, `kiln dev` checks
 * every real response against them. */
const kiln_config config = {
    .validates = { [KILN_PUT] = post_schema },     /* checked by PUT itself */
    .responses = {
        [KILN_GET] = KILN_RESPONSES(KILN_RESPONSE(200, .body = post_out), KILN_RESPONSE(404)),
        [KILN_PUT] = KILN_RESPONSES(KILN_RESPONSE(200, .body = post_out), KILN_RESPONSE(404)),
        [KILN_DELETE] = KILN_RESPONSES(KILN_RESPONSE(204), KILN_RESPONSE(404)),
    },
};
