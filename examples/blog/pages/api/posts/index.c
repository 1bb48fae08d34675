/* /api/posts -- list and create posts (the lesson's pages/api/posts/index.js). */
#include <kiln.h>
#include "validate.h"
#include "store.h"

/* POST bodies are checked against the lesson's schema before POST runs. */
const kiln_config config = { .body = { [KILN_POST] = post_schema } };

void GET(kiln_req *req, kiln_res *res)
{
    kiln_send_rows(res, 200, posts_all(req));
}

void POST(kiln_req *req, kiln_res *res)
{
    kiln_send_row(res, 201, post_create(req, kiln_body_text(req, "title"), kiln_body_text(req, "content")));
}
