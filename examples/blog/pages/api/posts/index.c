/* /api/posts -- list and create posts (the lesson's pages/api/posts/index.js). */
#include <kiln.h>
#include "validate.h"
#include "live.h"

/* POST bodies are checked against the lesson's schema before POST runs. */
const kiln_config config = { .body = { [KILN_POST] = post_schema } };

void GET(kiln_req *req, kiln_res *res)
{
    kiln_send_rows(res, 200, kiln_db_query(req, "SELECT id, title, content FROM posts ORDER BY id"));
}

void POST(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = kiln_db_query(req,
        "INSERT INTO posts (title, content) VALUES (?, ?) RETURNING id, title, content",
        kiln_body_text(req, "title"), kiln_body_text(req, "content"));
    if (kiln_rows_count(post) == 1) post_event(req, "post.created", post_json(req, post));
    kiln_send_row(res, 201, post);
}
