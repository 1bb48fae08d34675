/* POST /api/login: a session for user 7 (the test needs a valid token). */
#include <kiln.h>

void POST(kiln_req *req, kiln_res *res)
{
    const char *token = kiln_session_create(req, res, 7, NULL);
    if (token) kiln_json(res, 200, "{token: %s}", token);
}
