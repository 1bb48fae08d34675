/* /api/pusher/auth -- the channel authorization endpoint pusher-js calls
 * (form fields socket_id and channel_name) before it joins a private- or
 * presence- channel. Both need a logged-in session (401 otherwise); a
 * presence member is {user_id: the account id, user_info: {email}}. */
#include <kiln.h>
#include <string.h>

void POST(kiln_req *req, kiln_res *res)
{
    const char *socket_id = kiln_form(req, "socket_id"), *channel = kiln_form(req, "channel_name");
    if (!socket_id || !channel) { kiln_error(res, 400, "socket_id and channel_name are required"); return; }
    if (strncmp(channel, "private-", 8) != 0 && strncmp(channel, "presence-", 9) != 0) {
        kiln_error(res, 400, "Only private- and presence- channels need authorization");
        return;
    }
    if (!kiln_require_session(req, res)) return;          /* 401 (403 for a cross-site cookie) */
    const char *member = NULL;
    if (strncmp(channel, "presence-", 9) == 0) {
        int64_t id = *(int64_t *)req->user;
        kiln_rows *acct = kiln_db_query(req, "SELECT email FROM accounts WHERE id = ?", id);
        if (kiln_rows_count(acct) != 1) { kiln_error(res, 401, "Unauthorized"); return; }
        member = kiln_json_fmt(req, "{user_id: %s, user_info: {email: %s}}",
                               kiln_sprintf(req, "%lld", (long long)id), kiln_rows_str(acct, 0, "email"));
    }
    const char *body = kiln_pusher_authorize(req, socket_id, channel, member);
    if (!body) { kiln_error(res, 400, "Invalid socket_id or channel_name (or Pusher is not configured)"); return; }
    kiln_send(res, 200, "application/json; charset=utf-8", body, strlen(body));
}
