/* /api/users/[id] -- read, replace, delete one user, logged-in callers only
 * (the lesson's pages/api/users/[id].js).
 *
 * GET -> 200 {id, name, email}; PUT {name, email} -> 200; DELETE -> 204;
 * no such user -> 404 "User not found"; an email another user has -> 409
 * "Email already exists". Other methods -> 405, Allow: GET, PUT, DELETE. */
#include <kiln.h>
#include "validate.h"

const kiln_middleware middleware[] = { kiln_require_session, NULL };

void GET(kiln_req *req, kiln_res *res)
{
    kiln_rows *user = kiln_db_query(req, "SELECT id, name, email FROM users WHERE id = ?", route_id(req));
    if (kiln_rows_count(user) == 0) { kiln_error(res, 404, "User not found"); return; }
    kiln_send_row(res, 200, user);
}

void PUT(kiln_req *req, kiln_res *res)
{
    int64_t id = route_id(req);
    if (kiln_rows_count(kiln_db_query(req, "SELECT 1 FROM users WHERE id = ?", id)) == 0) {
        kiln_error(res, 404, "User not found");
        return;
    }
    if (!kiln_validate(req, res, user_schema)) return;
    kiln_rows *user = kiln_db_query(req, "UPDATE users SET name = ?, email = ? WHERE id = ? RETURNING id, name, email",
                                    kiln_body_text(req, "name"), kiln_body_text(req, "email"), id);
    if (kiln_rows_status(user) == KILN_DB_CONFLICT) { kiln_error(res, 409, "Email already exists"); return; }
    if (kiln_rows_count(user) == 0) { kiln_error(res, 404, "User not found"); return; }
    kiln_send_row(res, 200, user);
}

void DELETE(kiln_req *req, kiln_res *res)
{
    kiln_rows *gone = kiln_db_query(req, "DELETE FROM users WHERE id = ?", route_id(req));
    if (kiln_rows_changes(gone) == 0) { kiln_error(res, 404, "User not found"); return; }
    kiln_end(res, 204);
}
