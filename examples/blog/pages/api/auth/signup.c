/* /api/auth/signup -- create an account (the lesson's pages/api/auth/signup.js).
 *
 * POST {email, password} -> 201 {id, email}. The email is stored lower-cased;
 * a second signup with the same address is refused by the table's UNIQUE
 * constraint (409), not by a look-up first, so two signups racing cannot
 * both win. Only the Argon2id hash of the password is stored. */
#include <kiln.h>
#include <string.h>
#include "validate.h"

/* Joi.object({ email: Joi.string().email().required(),
 *              password: Joi.string().min(8).required() }),
 * checked before POST runs (and described by `kiln openapi`). */
static const kiln_rule account_out[] = {
    KILN_INTEGER("id", .required = true),
    KILN_STRING("email", .required = true, .email = true),
    { 0 }
};
const kiln_config config = {
    .body = { [KILN_POST] = signup_schema },
    .responses = { [KILN_POST] = KILN_RESPONSES(
        KILN_RESPONSE(201, .body = account_out, .description = "The account"),
        KILN_RESPONSE(409, .description = "Email already registered")) },
};

void POST(kiln_req *req, kiln_res *res)
{
    kiln_str pw = kiln_body_text(req, "password");
    if (memchr(pw.ptr, '\0', pw.len)) {
        /* A C string would end at the NUL: refuse rather than hash a prefix. */
        kiln_error(res, 400, "\"password\" contains an invalid value");
        return;
    }
    const char *email = lower_dup(req, kiln_body_str(req, "email"));
    char *hash = kiln_password_hash(req, pw.ptr);
    if (!hash) {
        kiln_error(res, 503, "Service Unavailable");
        return;
    }
    kiln_rows *acct = kiln_db_query(req,
        "INSERT INTO accounts (email, password_hash) VALUES (?, ?) RETURNING id, email", email, hash);
    if (kiln_rows_status(acct) == KILN_DB_CONFLICT) {
        kiln_error(res, 409, "Email already registered");
        return;
    }
    kiln_send_row(res, 201, acct);
}
