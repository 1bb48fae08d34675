/* /api/posts -- POST creates a post (the insert case of bench/pg.sh). */
#include <kiln.h>

void POST(kiln_req *req, kiln_res *res)
{
    kiln_rows *post = kiln_db_query(req,
        "INSERT INTO posts (title, content) VALUES (?, ?) RETURNING id, title, content",
        kiln_body_text(req, "title"), kiln_body_text(req, "content"));
    if (kiln_rows_status(post) != KILN_DB_OK) return;
    kiln_send_row(res, 201, post);
}
