/*
 * session.h -- a WebSocket seen from the worker's event loop: what code that
 * is not a request handler needs (channels, the Pusher protocol).
 *
 * A kiln_ws is made by kiln_ws_accept() in a route. These kiln.h calls are
 * safe from the loop thread at any time (a channel delivery, a timer, an
 * on_message callback), and never from another thread:
 *     kiln_ws_send, kiln_ws_send_text, kiln_ws_close,
 *     kiln_ws_user, kiln_ws_set_user, kiln_ws_subscribe.
 * kiln_ws_send never suspends: it queues the frame and writes what the
 * socket takes (the send_limit policy applies).
 * kiln_ws_recv is for the route's own handler (its coroutine) only.
 *
 * A kiln_ws stays valid until its on_close callback has returned (or, for a
 * socket without callbacks, until its handler returned); after that the
 * pointer must be forgotten.
 */
#ifndef KILN_WS_SESSION_H
#define KILN_WS_SESSION_H

#include "kiln.h"

#include <stdint.h>

/* A number naming this socket, unique on the machine while it is open
 * (worker pid and a counter): e.g. for Pusher's socket_id. */
uint64_t ws_session_id(const kiln_ws *ws);

/* Set (or replace) the callbacks after kiln_ws_accept: the same as passing
 * them in kiln_ws_opts. NULL leaves one unset. */
void ws_session_set_callbacks(kiln_ws *ws, void (*on_message)(kiln_ws *, const kiln_ws_msg *),
                              void (*on_close)(kiln_ws *, int, kiln_str));

/* Send text of known length (need not be NUL-terminated). */
bool ws_session_send_text(kiln_ws *ws, kiln_str text);

/* One text message for many sockets (a channel event delivered to each
 * subscriber in turn): UTF-8 checked once, framed once, compressed once per
 * permessage-deflate window size in use, and the same bytes written to
 * every socket (one send() each when nothing is queued on it, no copy).
 * The owner keeps one (zeroed to start), calls ws_shared_reset when the
 * message changes (text must stay valid until the next reset), and passes
 * it to ws_session_send_shared for each socket; the send_limit policy of
 * each socket applies as for kiln_ws_send. Loop thread only. */
#include "core/buf.h"
typedef struct ws_shared {
    kiln_str text;
    int valid;              /* -1: not checked yet; 0: not UTF-8 (not sent)  */
    buf plain;              /* the frame, uncompressed (made on first use)   */
    buf z[16];              /* the compressed frame, by window bits (9..15)  */
    unsigned zmade;         /* bit b: z[b] was made (empty: did not pay)     */
} ws_shared;
void ws_shared_reset(ws_shared *m, kiln_str text);
bool ws_session_send_shared(kiln_ws *ws, ws_shared *m);

/* Internal, between session.c and subscribe.c: the session's list of
 * channel subscriptions, and dropping them all (when the session ends). */
struct ws_sub;
struct ws_sub **ws_session_subs(kiln_ws *ws);
void ws_subs_drop(kiln_ws *ws);

#endif
