/*
 * upgrade.c -- handing a connection over to another protocol after an HTTP
 * upgrade (a 101 response): the engine's side of WebSocket, and of anything
 * else that keeps a connection open and speaks its own framing.
 *
 * The engine knows no WebSocket: it knows a conn_proto (engine.h), a few
 * calls. Once upgraded, the socket is read into a buffer on the loop's stack
 * and the bytes are handed over at once, so an upgraded connection holds no
 * read buffer; when the request's handler returns, its coroutine, arena and
 * HTTP buffers are given back, so an idle upgraded connection is the conn
 * struct plus what the protocol keeps. A request that asked to upgrade has
 * its head in the arena (conn.c), so `in` goes at the upgrade already, while
 * a straight-line handler still runs.
 *
 * Owns: reading an upgraded socket, the hand-over of leftover bytes, the end
 * of the request that upgraded.
 * Must never: hand bytes over after on_closed, call on_closed twice, or free
 * the request's memory while its handler still runs.
 */
#include "runtime/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#define READ_CHUNK 16384

void conn_upgrade(conn *c, const conn_proto *proto, void *ctx)
{
    KILN_ASSERT(!c->proto);
    c->proto = proto;
    c->proto_ctx = ctx;
    c->close_after = false;
    /* A protocol connection lives as long as its peer: no max duration
     * (the watchdog still guards each run of the handler, see dispatch.c). */
    loop_timer_cancel(c->w->loop, &c->duration_timer);
    loop_timer_cancel(c->w->loop, &c->timer);
    /* Bytes that came with the head belong to the new protocol. They stay
     * in `in` (the request's slices point there) but are handed over now. */
    size_t extra = c->in.len - c->head_len;
    if (extra) {
        c->in.len = c->head_len;
        proto->on_data(ctx, (const uint8_t *)c->in.data + c->head_len, extra);
    }
    /* The head was copied to the arena (conn.c): the read buffer can go now. */
    if (c->head_in_arena && !c->dead) {
        buf_free(&c->in);
        c->head_len = 0;
    }
    conn_flush(c);
    /* The 101 had no body, and once written the output buffer is empty:
     * both go now (the next handshake reuses them), a send makes a new one. */
    buf_free(&c->res_body);
    if (!c->dead && c->out.len == 0) buf_free(&c->out);
    /* Upgraded while the worker drains: end it now, as the drain did the others. */
    if (!c->dead && !c->proto_closed && c->w->draining && proto->on_shutdown) proto->on_shutdown(ctx);
}

void conn_proto_end(conn *c)
{
    if (c->dead) return;
    c->close_after = true;
    if (c->state == CS_UPGRADED) {
        c->state = CS_CLOSING;
        conn_flush(c);
    }
    /* A handler still runs: conn_proto_handler_done closes. */
}

void conn_proto_read(conn *c)
{
    uint8_t tmp[READ_CHUNK];
    while (!c->dead && !c->proto_closed && !c->read_paused && !c->read_closed) {
        ssize_t n = recv(c->io.fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            c->proto->on_data(c->proto_ctx, tmp, (size_t)n);
            /* A short read drained the socket (edge-triggered) -- unless the
             * peer also shut down: its FIN may sit behind these bytes with no
             * new edge to announce it, so read on to it. */
            if ((size_t)n < sizeof tmp && !c->peer_shut) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        /* FIN or reset: the protocol did not close properly; we are done. */
        c->read_closed = true;
        conn_close(c);
        return;
    }
}

void conn_proto_pause(conn *c, bool paused)
{
    bool was = c->read_paused;
    c->read_paused = paused;
    /* Edge-triggered: bytes that came while paused raise no new event. */
    if (was && !paused) conn_proto_read(c);
}

void conn_proto_handler_done(conn *c)
{
    loop_timer_cancel(c->w->loop, &c->duration_timer);
    loop_timer_cancel(c->w->loop, &c->wake_timer);
    if (c->co) { coro_release(c->co); c->co = NULL; }
    /* The request is over: its memory goes back (deferred clean-ups run). */
    if (c->arena_live) arena_reset(&c->arena);
    memset(&c->http, 0, sizeof c->http);
    c->wait = WAIT_NONE;
    c->offload_result = NULL;
    c->req_id = c->route = c->trace_id = NULL;
    c->app = NULL;
    c->in_request = false;
    c->head_in_arena = false;
    c->abandoned = false;
    c->head_len = 0;
    buf_free(&c->in);
    buf_free(&c->body);
    buf_free(&c->res_body);
    conn_release_arena(c);
    c->state = c->close_after ? CS_CLOSING : CS_UPGRADED;
    c->proto->on_handler_done(c->proto_ctx);
    if (!c->dead && (c->state == CS_CLOSING || c->close_after)) {
        c->state = CS_CLOSING;
        conn_flush(c);
    }
}
