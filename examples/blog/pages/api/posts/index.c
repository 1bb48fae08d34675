/* /api/posts -- list and create posts (the lesson's pages/api/posts/index.js). */
#include <kiln.h>
#include "validate.h"

void GET(kiln_req *req, kiln_res *res)
{
    kiln_send_rows(res, 200, kiln_db_query(req, "SELECT id, title, content FROM posts ORDER BY id"));
}

void POST(kiln_req *req, kiln_res *res)
{
    if (!validate_post(req, res)) return;
    kiln_rows *post = kiln_db_query(req,
        "INSERT INTO posts (title, content) VALUES (?, ?) RETURNING id, title, content",
        kiln_json_text(kiln_json_get(req->json, "title")),
        kiln_json_text(kiln_json_get(req->json, "content")));
    kiln_send_row(res, 201, post);
}
