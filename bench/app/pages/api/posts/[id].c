/* /api/posts/:id -- GET one post by primary key; PUT updates its title and
 * content (the update case of bench/pg.sh). */
#include <kiln.h>

static int64_t route_id(kiln_req *req)
{
    int64_t id = 0;
    kiln_query_i64(req, "id", &id);
    return id;
}

void GET(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = kiln_db_query(req, "SELECT id, title, content FROM posts WHERE id = ?", route_id(req));
    if (kiln_rows_status(post) != KILN_DB_OK) return;
    kiln_send_row(res, 200, post);
}

void PUT(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = kiln_db_query(req,
        "UPDATE posts SET title = ?, content = ? WHERE id = ? RETURNING id, title, content",
        kiln_body_text(req, "title"), kiln_body_text(req, "content"), route_id(req));
    if (kiln_rows_status(post) != KILN_DB_OK) return;
    kiln_send_row(res, 200, post);
}
