/* /api/auth/session -- who is logged in (the lesson's pages/api/auth/session.js).
 *
 * GET with `Authorization: Bearer <token>` or the session cookie ->
 * 200 {"user": {id, email}}; no valid session -> 401 "Unauthorized". */
#include <kiln.h>

void GET(kiln_req *req, kiln_res *res)
{
    if (!kiln_require_session(req, res)) return;          /* 401 */
    kiln_rows *acct = kiln_db_query(req, "SELECT id, email FROM accounts WHERE id = ?", *(int64_t *)req->user);
    if (kiln_rows_count(acct) != 1) {                     /* the account is gone */
        kiln_error(res, 401, "Unauthorized");
        return;
    }
    kiln_jw *w = kiln_json_begin(res, 200);
    kiln_jw_object(w);
    kiln_jw_key(w, "user");
    kiln_jw_row(w, acct, 0);
    kiln_jw_end(w);
}

/* The answers, declared (`kiln openapi`; `kiln dev` checks them). */
static const kiln_rule session_out[] = {
    KILN_OBJECT("user", .required = true, .fields = KILN_FIELDS(
        KILN_INTEGER("id", .required = true),
        KILN_STRING("email", .required = true))),
    { 0 }
};
const kiln_config config = { .responses = { [KILN_GET] = KILN_RESPONSES(
    KILN_RESPONSE(200, .body = session_out, .description = "The logged-in account"),
    KILN_RESPONSE(401, .description = "No valid session (bearer token or cookie)")) } };
