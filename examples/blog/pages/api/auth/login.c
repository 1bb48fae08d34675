/* /api/auth/login -- log in (the lesson's pages/api/auth/login.js).
 *
 * POST {email, password} -> 200 {"token": ...} and the session cookie.
 * A wrong email and a wrong password get the same answer, 401 "Invalid
 * credentials", after the same work: an unknown email is checked against a
 * dummy hash (kiln_password_dummy_verify), so timing tells nothing either.
 *
 * FAILED attempts are throttled, per client address and per email (an
 * attacker spreading guesses over many addresses still hits the second), as
 * OWASP's authentication guidance has it: guesses are cut off, users are not
 * (a class behind one NAT, or a test suite, may log in as often as it
 * likes). Once the failures of a key reach its limit, every attempt for it
 * gets 429 with Retry-After until the window ends, the right password too.
 * The counts are shared by every worker. A success clears the email's count
 * (not the address's: an attacker's own account must not clear it).
 * Environment: BLOG_LOGIN_PER_ADDRESS (failures, default 20),
 * BLOG_LOGIN_PER_EMAIL (failures, default 5), per BLOG_LOGIN_WINDOW_S
 * seconds (default 60).
 *
 * The hashing cost is bounded apart from that (see kiln_password_verify):
 * a flood of logins, right or wrong, waits in a bounded queue and gets 503
 * past it, so it cannot take the CPU from the other routes. */
#include <kiln.h>
#include <stdlib.h>
#include <string.h>
#include "validate.h"

static unsigned env_uint(const char *name, unsigned def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return *end == '\0' && n > 0 && n <= 1000000 ? (unsigned)n : def;
}

void POST(kiln_req *req, kiln_res *res)
{
    unsigned window = env_uint("BLOG_LOGIN_WINDOW_S", 60);
    unsigned per_address = env_uint("BLOG_LOGIN_PER_ADDRESS", 20);
    unsigned per_email = env_uint("BLOG_LOGIN_PER_EMAIL", 5);
    const char *by_address = kiln_sprintf(req, "login-address:%s", req->remote_addr);
    /* Over a limit already: refused before any hashing. */
    if (!kiln_rate_check(req, res, by_address, per_address, window)) return;
    if (!kiln_validate(req, res, login_schema)) return;
    const char *email = lower_dup(req, kiln_body_str(req, "email"));
    const char *by_email = kiln_sprintf(req, "login-email:%s", email);
    if (!kiln_rate_check(req, res, by_email, per_email, window)) return;

    kiln_str pw = kiln_body_text(req, "password");
    bool pw_ok = !memchr(pw.ptr, '\0', pw.len);   /* signup never stores one with a NUL */
    kiln_rows *acct = kiln_db_query(req, "SELECT id, password_hash FROM accounts WHERE email = ?", email);
    bool ok;
    if (kiln_rows_count(acct) == 1) {
        ok = kiln_password_verify(req, kiln_rows_str(acct, 0, "password_hash"), pw.ptr) && pw_ok;
    } else {
        kiln_password_dummy_verify(req, pw.ptr);
        ok = false;
    }
    if (kiln_res_started(res)) return;           /* 503: the hashing queue is full */
    if (!ok) {
        /* Count the failure. When a concurrent guess reached a limit
         * meanwhile, this one gets the 429 too: exactly `limit` guesses
         * learn their answer per window. */
        if (kiln_rate_limit(req, res, by_address, per_address, window)
            && kiln_rate_limit(req, res, by_email, per_email, window))
            kiln_error(res, 401, "Invalid credentials");
        return;
    }
    /* The right password, but a guess racing past the first checks must
     * not learn so once a limit is reached. */
    if (!kiln_rate_check(req, res, by_address, per_address, window)
        || !kiln_rate_check(req, res, by_email, per_email, window))
        return;
    kiln_rate_reset(req, by_email, per_email, window);
    const char *token = kiln_session_create(req, res, kiln_rows_i64(acct, 0, "id"), NULL);
    if (!token) return;                          /* answered (503) */
    kiln_json(res, 200, "{token: %s}", token);
}

/* The answers, declared (`kiln openapi`; `kiln dev` checks them). */
static const kiln_rule token_out[] = { KILN_STRING("token", .required = true), { 0 } };
const kiln_config config = { .validates = { [KILN_POST] = login_schema }, .responses = { [KILN_POST] = KILN_RESPONSES(
    KILN_RESPONSE(200, .body = token_out, .description = "Logged in: the session token (also set as the cookie)"),
    KILN_RESPONSE(401, .description = "Invalid credentials"),
    KILN_RESPONSE(429, .description = "Too many attempts from this address or for this email")) } };
