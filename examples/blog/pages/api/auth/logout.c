/* /api/auth/logout -- end the session (the lesson's pages/api/auth/logout.js).
 *
 * POST -> 204: the session row is deleted, so the token (bearer or cookie)
 * is refused from now on by every worker, and the cookie is cleared. No
 * valid session -> 401 "Unauthorized"; the session cookie sent by another
 * site's page -> 403 (kiln_require_session's CSRF rule: no forced logouts).
 * The check runs in the handler, after method dispatch, so that other
 * methods get 405 first, as in the lesson. */
#include <kiln.h>

void POST(kiln_req *req, kiln_res *res)
{
    if (!kiln_require_session(req, res)) return;
    kiln_session_revoke(req, res, NULL);
    kiln_end(res, 204);
}
