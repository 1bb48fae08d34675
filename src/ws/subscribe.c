/*
 * subscribe.c -- forwarding a channel's events to a WebSocket:
 * kiln_ws_subscribe(ws, "posts") sends every event published on "posts" as
 * a text message {"event":"<event>","data":<data>}.
 *
 * Deliveries come from the channel layer (src/realtime/channel.h) on the
 * worker's loop thread, one call per subscriber. The message is the same for
 * all of them, so it is built and framed once per event (keyed by
 * channel_event_serial) and the same frame is written to each socket
 * (ws_session_send_shared: one send() each, no copy). No coroutine is woken
 * and an idle subscriber holds only its subscription record. The last
 * event's text and frames stay in this file's buffers until the next event
 * (cut back when they were large).
 *
 * Owns: the subscription records of each session (a short list).
 * Must never: deliver to a socket that is closing, or keep a subscription
 * past the session (ws_subs_drop runs when the session is freed).
 */
#include "json/json.h"
#include "realtime/channel.h"
#include "ws/session.h"

#include <stdlib.h>
#include <string.h>

struct ws_sub {
    struct ws_sub *next;
    channel_sub *sub;
    kiln_ws *ws;
};

static void deliver(void *ctx, kiln_str channel, kiln_str event, kiln_str data_json)
{
    struct ws_sub *s = ctx;
    (void)channel;
    static buf msg;            /* the loop thread's: the current event's text */
    static ws_shared shared;   /* ... and its frames                          */
    static uint64_t built_for; /* the event they are for                      */
    uint64_t serial = channel_event_serial();
    if (!serial || serial != built_for) {
        buf_reset_trim(&msg, 64 * 1024);
        buf_puts(&msg, "{\"event\":");
        json_escape(&msg, event.ptr, event.len);
        buf_puts(&msg, ",\"data\":");
        if (data_json.len) buf_append(&msg, data_json.ptr, data_json.len);
        else buf_puts(&msg, "null");
        buf_putc(&msg, '}');
        ws_shared_reset(&shared, (kiln_str){ msg.data, msg.len });
        built_for = serial;
    }
    ws_session_send_shared(s->ws, &shared);
}

bool kiln_ws_subscribe(kiln_ws *ws, const char *channel)
{
    if (!channel || !*channel) return false;
    struct ws_sub **list = ws_session_subs(ws);
    struct ws_sub *s = kiln_xcalloc(1, sizeof *s);
    s->ws = ws;
    s->sub = channel_subscribe(channel, deliver, s);
    s->next = *list;
    *list = s;
    return true;
}

void ws_subs_drop(kiln_ws *ws)
{
    struct ws_sub **list = ws_session_subs(ws);
    while (*list) {
        struct ws_sub *s = *list;
        *list = s->next;
        channel_unsubscribe(s->sub);
        free(s);
    }
}
