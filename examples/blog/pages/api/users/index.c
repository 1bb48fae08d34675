/* /api/users -- list and create users, logged-in callers only (the lesson's
 * practice task, pages/api/users/index.js).
 *
 * GET -> 200 [{id, name, email}]; POST {name, email} -> 201 {id, name, email};
 * an email some user already has -> 409 "Email already exists" (the table's
 * UNIQUE constraint decides). Other methods -> 405, Allow: GET, POST. */
#include <kiln.h>
#include "validate.h"
#include "store.h"

const kiln_middleware middleware[] = { kiln_require_session, NULL };
const kiln_config config = { .body = { [KILN_POST] = user_schema } };

void GET(kiln_req *req, kiln_res *res)
{
    kiln_send_rows(res, 200, users_all(req));
}

void POST(kiln_req *req, kiln_res *res)
{
    kiln_rows *user = user_create(req, kiln_body_text(req, "name"), kiln_body_text(req, "email"));
    if (kiln_rows_status(user) == KILN_DB_CONFLICT) {
        kiln_error(res, 409, "Email already exists");
        return;
    }
    kiln_send_row(res, 201, user);
}
