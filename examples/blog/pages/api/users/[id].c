/* /api/users/[id] -- read, replace, delete one user, logged-in callers only
 * (the lesson's pages/api/users/[id].js).
 *
 * GET -> 200 {id, name, email}; PUT {name, email} -> 200; DELETE -> 204;
 * no such user -> 404 "User not found"; an email another user has -> 409
 * "Email already exists". Other methods -> 405, Allow: GET, PUT, DELETE. */
#include <kiln.h>
#include "validate.h"
#include "store.h"

const kiln_middleware middleware[] = { kiln_require_session, NULL };

void GET(kiln_req *req, kiln_res *res)
{
    kiln_rows *user = user_find(req, route_id(req));
    if (kiln_rows_count(user) == 0) { kiln_error(res, 404, "User not found"); return; }
    kiln_send_row(res, 200, user);
}

void PUT(kiln_req *req, kiln_res *res)
{
    int64_t id = route_id(req);
    if (!user_exists(req, id)) {
        kiln_error(res, 404, "User not found");
        return;
    }
    if (!kiln_validate(req, res, user_schema)) return;
    kiln_rows *user = user_update(req, id, kiln_body_text(req, "name"), kiln_body_text(req, "email"));
    if (kiln_rows_status(user) == KILN_DB_CONFLICT) { kiln_error(res, 409, "Email already exists"); return; }
    if (kiln_rows_count(user) == 0) { kiln_error(res, 404, "User not found"); return; }
    kiln_send_row(res, 200, user);
}

void DELETE(kiln_req *req, kiln_res *res)
{
    if (!user_delete(req, route_id(req))) { kiln_error(res, 404, "User not found"); return; }
    kiln_end(res, 204);
}

/* The body PUT checks itself, after its 404: the OpenAPI document describes
 * it, and `kiln dev` warns if the handler ever checks another. */
const kiln_config config = { .validates = { [KILN_PUT] = user_schema } };
