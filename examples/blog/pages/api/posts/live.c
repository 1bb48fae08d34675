/* /api/posts/live -- every post created, updated or deleted, as it happens
 * (through any worker of any machine sharing KILN_REDIS_URL).
 *
 * Upgraded to a WebSocket: one text message per change,
 *     {"event":"post.created","data":{"id":1,"title":"...","content":"..."}}
 * held with no coroutine while idle (kiln_ws_subscribe forwards from the
 * event loop).
 *
 * With Accept: text/event-stream: Server-Sent Events,
 *     id: 7
 *     event: post.created
 *     data: {"id":1,"title":"...","content":"..."}
 * and a client reconnecting with Last-Event-ID first gets the events it
 * missed, from table post_events. */
#include <kiln.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void GET(kiln_req *req, kiln_res *res)
{
    const char *upgrade = kiln_header(req, "upgrade");
    if (upgrade && strcasecmp(upgrade, "websocket") == 0) {
        kiln_ws *ws = kiln_ws_accept(req, res, NULL);
        if (ws) kiln_ws_subscribe(ws, "posts");   /* stays open after we return */
        return;
    }
    const char *accept = kiln_header(req, "accept");
    if (!accept || !strstr(accept, "text/event-stream")) {
        kiln_error(res, 406, "Ask for text/event-stream (Accept header)");
        return;
    }
    kiln_sse *s = kiln_sse_begin(req, res);
    kiln_sse_subscribe(s, "posts");          /* first: nothing is missed meanwhile */
    const char *last = kiln_sse_last_event_id(s);
    if (last) {
        char *end;
        long long after = strtoll(last, &end, 10);
        if (*end == '\0' && after >= 0) {
            kiln_rows *ev = kiln_db_query(req, "SELECT id, event, data FROM post_events WHERE id > ? ORDER BY id", after);
            for (size_t i = 0; i < kiln_rows_count(ev); i++) {
                const char *id = kiln_sprintf(req, "%lld", (long long)kiln_rows_i64(ev, i, "id"));
                if (!kiln_sse_send(s, kiln_rows_str(ev, i, "event"), id, kiln_rows_str(ev, i, "data"))) return;
            }
        }
    }
    kiln_sse_run(s, 0);
}

/* Declared for the API description: the WebSocket upgrade (marked
 * x-kiln-websocket there) and the event stream. */
const kiln_config config = { .responses = { [KILN_GET] = KILN_RESPONSES(
    KILN_RESPONSE(101, .description = "Switching Protocols: a WebSocket of post events"),
    KILN_RESPONSE(200, .description = "Server-Sent Events (Accept: text/event-stream) of post events"),
    KILN_RESPONSE(406, .description = "Neither a WebSocket upgrade nor Accept: text/event-stream")) } };
