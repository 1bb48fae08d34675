/*
 * session.c -- one WebSocket connection: the kiln_ws_* handler API on top of
 * the framing (frame.c, deflate.c) and the engine's generic upgrade hook
 * (runtime/upgrade.c, a conn_proto).
 *
 * Input: the engine hands bytes over as they are read (it keeps no buffer);
 * ws_rx turns them into events. Pings are answered, pongs and any other byte
 * count as a sign of life for the heartbeat, a close is echoed and ends the
 * connection, a protocol failure is answered with its close code. A data
 * message goes to on_message at once, or waits for kiln_ws_recv: then the
 * rest of the input waits in `stash` and reading pauses, so a handler that
 * does not read holds at most one message plus one read's worth of bytes,
 * and the peer feels TCP back-pressure.
 *
 * Output: a frame is written at once from where it was made (conn_send);
 * only what the socket does not take is queued in the connection's output
 * buffer, up to send_limit, past which the policy drops the message or
 * closes with 1008. A message for many sockets (a channel event: ws_shared)
 * is checked and framed once, compressed once per window size in use, and
 * the same bytes go to every socket: one send() each, nothing copied.
 *
 * Counts (metrics/metrics.h): connections accepted and open, messages in
 * and out. A worker that stops (SIGTERM) closes its sockets with 1001
 * (going away), so clients reconnect to another worker or machine.
 *
 * Memory: between messages a session holds no message buffer, no stash and
 * no zlib state (deflate.c shares one per process), so an idle callback-mode
 * WebSocket is the conn struct plus this struct.
 *
 * Owns: the session struct, its buffers, heartbeat timer, channel
 * subscriptions. Must never: touch the connection after on_closed, free
 * itself while a call into it is still on the stack (`hold`), resume the
 * handler's coroutine except through the loop (wait_wake_at), or send after
 * a close frame.
 */
#include "api/upgrade.h"
#include "metrics/metrics.h"
#include "runtime/engine.h"
#include "ws/session.h"
#include "ws/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_MAX_MESSAGE (1024 * 1024)
#define DEFAULT_SEND_LIMIT (1024 * 1024)
#define DEFAULT_PING_MS 30000
#define DEFLATE_MIN 64             /* smaller messages are sent as they are     */

struct ws_sub;

struct kiln_ws {
    conn *c;                       /* NULL once the connection is closed    */
    uint64_t id;
    ws_rx rx;
    ws_deflate_params deflate;
    size_t send_limit;
    bool drop_when_full;
    unsigned ping_ms;
    void (*on_message)(kiln_ws *ws, const kiln_ws_msg *msg);
    void (*on_close)(kiln_ws *ws, int code, kiln_str reason);
    void *user;
    buf stash;                     /* input waiting behind a message        */
    buf inflated;                  /* the current message, inflated         */
    kiln_ws_msg msg;               /* the message waiting for kiln_ws_recv  */
    bool have_msg;                 /* msg is ready (or handed out)          */
    bool msg_taken;                /* handed out: released on the next recv */
    bool waiting;                  /* the handler is suspended in recv      */
    bool handler_done;             /* the route's handler returned          */
    bool closed;                   /* the engine closed the connection      */
    bool close_sent, close_rcvd;
    bool pong_due;                 /* pinged, nothing heard since           */
    int holds;                     /* calls in progress: do not free        */
    unsigned close_code;           /* for on_close                          */
    uint8_t close_reason_len;
    char *close_reason;            /* WS_MAX_CONTROL bytes, made at the close */
    loop_timer ping_timer;
    struct ws_sub *subs;           /* channel subscriptions (subscribe.c)   */
};

static void hold(kiln_ws *ws) { ws->holds++; }

static void release(kiln_ws *ws)
{
    if (--ws->holds > 0 || !ws->closed || !ws->handler_done) return;
    ws_subs_drop(ws);
    ws_rx_free(&ws->rx);
    buf_free(&ws->stash);
    buf_free(&ws->inflated);
    free(ws->close_reason);
    free(ws);
}

static loop *loop_of(kiln_ws *ws) { return ws->c->w->loop; }

/* Resume the handler if it waits in kiln_ws_recv (through the loop). */
static void wake(kiln_ws *ws)
{
    if (ws->waiting && ws->c) wait_wake_at(ws->c, 0);
}

/* Send one control frame (ping, pong); the caller checked the state. */
static void put_control(kiln_ws *ws, uint8_t op, const void *p, size_t n)
{
    uint8_t f[WS_MAX_HEADER + WS_MAX_CONTROL];
    ws_frame h = { .fin = true, .opcode = op, .len = n };
    size_t hl = ws_frame_header(f, &h);
    if (n) memcpy(f + hl, p, n);
    conn_send(ws->c, f, hl + n);      /* may close: on_closed runs */
}

static void flush(kiln_ws *ws)
{
    if (ws->c) conn_flush(ws->c);    /* may close: on_closed runs */
}

/* Note the close's code and reason (for on_close). */
static void note_close(kiln_ws *ws, unsigned code, const void *reason, size_t len)
{
    ws->close_code = code;
    ws->close_reason_len = (uint8_t)(len > 123 ? 123 : len);
    if (!ws->close_reason) ws->close_reason = kiln_xmalloc(WS_MAX_CONTROL);
    if (ws->close_reason_len) memcpy(ws->close_reason, reason, ws->close_reason_len);
}

/* Send our close frame (once) and end the connection when written. */
static void close_with(kiln_ws *ws, unsigned code, const char *reason, size_t reason_len)
{
    if (ws->closed) return;
    if (!ws->close_sent) {
        ws->close_sent = true;
        if (!ws->close_code) note_close(ws, code, reason, reason_len);
        ws_write_close(&ws->c->out, code == WS_CLOSE_NO_STATUS ? 0 : code, reason, reason_len, NULL);
    }
    wake(ws);
    flush(ws);
    if (!ws->closed && ws->c) conn_proto_end(ws->c);
}

static void fail(kiln_ws *ws, unsigned code, const char *why)
{
    log_event(LOG_INFO, NULL, "websocket closed: protocol error", "\"code\":%u,\"reason\":\"%s\"", code, why);
    close_with(ws, code, NULL, 0);
}

/* The message in rx.msg / inflated is done with: forget it, and the buffers
 * too when nothing else is in progress (an idle socket keeps none). */
static void release_msg(kiln_ws *ws)
{
    ws->have_msg = ws->msg_taken = false;
    ws_rx_msg_done(&ws->rx);
    if (!ws->rx.frag_opcode && !ws->rx.in_payload) buf_free(&ws->rx.msg);
    buf_free(&ws->inflated);
}

static void on_message(kiln_ws *ws, const ws_event *ev)
{
    char *data = (char *)ev->data;
    size_t len = ev->len;
    if (ev->compressed) {
        unsigned rc = ws_inflate_message(&ws->deflate, ev->data, ev->len, ws->rx.max_message, &ws->inflated);
        if (rc) { fail(ws, rc, rc == WS_CLOSE_TOO_BIG ? "message too big" : "bad compressed data"); return; }
        if (ev->opcode == WS_OP_TEXT && !ws_utf8_valid((const uint8_t *)ws->inflated.data, ws->inflated.len)) {
            fail(ws, WS_CLOSE_INVALID_DATA, "invalid UTF-8 in text message");
            return;
        }
        buf_reserve(&ws->inflated, 1);
        data = ws->inflated.data;
        len = ws->inflated.len;
    }
    if (len == 0) data = (char *)"";
    else data[len] = '\0';   /* ws_rx keeps one spare byte; inflated reserved one */
    ws->msg = (kiln_ws_msg){ ev->opcode == WS_OP_TEXT ? KILN_WS_TEXT : KILN_WS_BINARY, data, len };
    metrics_add(MC_WS_MESSAGES_IN, 1);
    if (ws->on_message) {
        ws->on_message(ws, &ws->msg);
        release_msg(ws);
    } else if (!ws->handler_done) {
        ws->have_msg = true;
        wake(ws);
    } else {
        release_msg(ws);
    }
}

/* Run the state machine over p[0..n). Stops early when a message waits for
 * kiln_ws_recv; returns the bytes consumed. */
static size_t process(kiln_ws *ws, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n && !ws->have_msg && !ws->closed) {
        if (ws->rx.failed) return n;          /* nothing is read after a close */
        ws_event ev;
        off += ws_rx_feed(&ws->rx, p + off, n - off, &ev);
        switch (ev.type) {
        case WS_EV_NONE:
            break;
        case WS_EV_MESSAGE:
            on_message(ws, &ev);
            break;
        case WS_EV_PING:
            if (!ws->close_sent) put_control(ws, WS_OP_PONG, ev.data, ev.len);
            break;
        case WS_EV_PONG:
            break;                             /* any byte is a sign of life */
        case WS_EV_CLOSE:
            ws->close_rcvd = true;
            if (!ws->close_code || !ws->close_sent) note_close(ws, ev.code, ev.data, ev.len);
            /* Echo their code and reason (none for 1005), then the server
             * closes the TCP connection first (RFC 6455 section 7.1.1). */
            close_with(ws, ev.code, (const char *)ev.data, ev.len);
            break;
        case WS_EV_FAIL:
            fail(ws, ev.code, ev.why);
            break;
        }
    }
    return ws->rx.failed ? n : off;
}

/* Continue with held-back input after a message was taken. */
static void resume_input(kiln_ws *ws)
{
    if (ws->stash.len && !ws->closed) {
        size_t used = process(ws, (const uint8_t *)ws->stash.data, ws->stash.len);
        buf_consume(&ws->stash, used);
    }
    if (ws->stash.len == 0) {
        buf_free(&ws->stash);
        if (ws->c && !ws->closed && ws->c->read_paused) conn_proto_pause(ws->c, false);
    }
}

/* ---- the engine's calls (conn_proto) ---------------------------------- */

static void proto_data(void *ctx, const uint8_t *p, size_t n)
{
    kiln_ws *ws = ctx;
    hold(ws);
    ws->pong_due = false;
    size_t used = 0;
    if (!ws->stash.len && !ws->have_msg) used = process(ws, p, n);
    if (used < n && !ws->rx.failed && !ws->closed) {
        buf_append(&ws->stash, p + used, n - used);
        conn_proto_pause(ws->c, true);
    }
    release(ws);
}

static void proto_drain(void *ctx) { (void)ctx; }

static void proto_closed(void *ctx)
{
    kiln_ws *ws = ctx;
    hold(ws);
    ws->closed = true;
    metrics_gauge_add(MG_WS_OPEN, -1);
    loop_timer_cancel(loop_of(ws), &ws->ping_timer);
    wake(ws);
    ws->c = NULL;                 /* (wake went first: it needs the conn) */
    if (!ws->close_code) ws->close_code = WS_CLOSE_ABNORMAL;
    if (ws->on_close)
        ws->on_close(ws, (int)ws->close_code, (kiln_str){ ws->close_reason ? ws->close_reason : "", ws->close_reason_len });
    release(ws);
}

static void proto_handler_done(void *ctx)
{
    kiln_ws *ws = ctx;
    hold(ws);
    ws->handler_done = true;
    ws->waiting = false;
    if (ws->have_msg) release_msg(ws);
    if (!ws->closed) {
        if (!ws->on_message && !ws->on_close && !ws->subs) kiln_ws_close(ws, WS_CLOSE_NORMAL, NULL);
        else resume_input(ws);
    }
    release(ws);
}

/* The worker drains: 1001 Going Away, then the connection ends. */
static void proto_shutdown(void *ctx) { kiln_ws_close(ctx, WS_CLOSE_GOING_AWAY, "server restarting"); }

static const conn_proto ws_proto = { proto_data, proto_drain, proto_closed, proto_handler_done, proto_shutdown };

/* ---- timers ----------------------------------------------------------- */

static void on_ping_timer(loop_timer *t)
{
    kiln_ws *ws = (kiln_ws *)((char *)t - offsetof(kiln_ws, ping_timer));
    if (ws->closed) return;
    if (ws->pong_due) {
        log_event(LOG_INFO, NULL, "websocket peer silent: dropped", "\"ping_ms\":%u", ws->ping_ms);
        conn_close(ws->c);
        return;
    }
    hold(ws);
    if (!ws->close_sent) {
        ws->pong_due = true;
        put_control(ws, WS_OP_PING, NULL, 0);
    }
    if (!ws->closed) loop_timer_set(loop_of(ws), &ws->ping_timer, loop_now_ms(loop_of(ws)) + ws->ping_ms);
    release(ws);
}

/* ---- the handler API (kiln.h) ----------------------------------------- */

kiln_ws *kiln_ws_accept(kiln_req *req, kiln_res *res, const kiln_ws_opts *opts)
{
    static const kiln_ws_opts none;
    const kiln_ws_opts *o = opts ? opts : &none;
    conn *c = request_conn(req);
    if (c->proto || kiln_res_started(res)) {
        log_event(LOG_ERROR, req->id, "kiln_ws_accept after a response was started", "\"route\":\"%s\"", req->route);
        return NULL;
    }
    const char *key = kiln_header(req, "sec-websocket-key");
    if (strcmp(req->method, "GET") != 0 || c->http.minor_version != 1
        || !ws_header_has_token(kiln_header(req, "upgrade"), "websocket")
        || !ws_header_has_token(kiln_header(req, "connection"), "upgrade")
        || !key || !ws_key_valid(key, strlen(key))) {
        kiln_error(res, 400, "Bad Request: not a WebSocket handshake");
        return NULL;
    }
    const char *ver = kiln_header(req, "sec-websocket-version");
    if (!ver || strcmp(ver, "13") != 0) {
        kiln_set_header(res, "Sec-WebSocket-Version", "13");
        kiln_error(res, 426, "Upgrade Required: WebSocket version 13");
        return NULL;
    }
    char accept[29], ext[192];
    ws_accept_key(key, strlen(key), accept);
    kiln_set_header(res, "Upgrade", "websocket");
    kiln_set_header(res, "Sec-WebSocket-Accept", accept);
    ws_deflate_params dp = { 0 };
    if (!o->no_deflate && ws_deflate_negotiate(kiln_header(req, "sec-websocket-extensions"), &dp, ext, sizeof ext))
        kiln_set_header(res, "Sec-WebSocket-Extensions", ext);
    if (o->protocol && ws_header_has_token(kiln_header(req, "sec-websocket-protocol"), o->protocol))
        kiln_set_header(res, "Sec-WebSocket-Protocol", o->protocol);
    if (!request_switch_protocols(req)) return NULL;
    metrics_add(MC_WS_CONNECTIONS, 1);
    metrics_gauge_add(MG_WS_OPEN, 1);

    static uint64_t counter;
    kiln_ws *ws = kiln_xcalloc(1, sizeof *ws);
    ws->c = c;
    ws->id = (uint64_t)getpid() << 32 | ++counter;
    ws->rx.max_message = o->max_message ? o->max_message : DEFAULT_MAX_MESSAGE;
    ws->rx.deflate = dp.enabled;
    ws->deflate = dp;
    ws->send_limit = o->send_limit ? o->send_limit : DEFAULT_SEND_LIMIT;
    ws->drop_when_full = o->drop_when_full;
    ws->ping_ms = o->ping_ms ? o->ping_ms : DEFAULT_PING_MS;
    ws->on_message = o->on_message;
    ws->on_close = o->on_close;
    ws->user = o->user;
    ws->ping_timer.on_fire = on_ping_timer;
    ws->ping_timer.heap_index = -1;
    loop_timer_set(c->w->loop, &ws->ping_timer, loop_now_ms(c->w->loop) + ws->ping_ms);
    hold(ws);
    conn_upgrade(c, &ws_proto, ws);   /* sends the 101; early bytes come now */
    release(ws);
    return ws;
}

bool kiln_ws_recv(kiln_ws *ws, kiln_ws_msg *msg)
{
    if (ws->msg_taken) {
        release_msg(ws);
        resume_input(ws);
    }
    for (;;) {
        if (ws->have_msg) {
            *msg = ws->msg;
            ws->msg_taken = true;
            return true;
        }
        if (ws->closed || ws->close_sent || ws->close_rcvd || !ws->c) return false;
        ws->waiting = true;
        wait_suspend(WAIT_PROTO);
        ws->waiting = false;
    }
}

/* Write one ready frame (header and payload, n bytes) under the send_limit
 * policy. */
static bool send_frame(kiln_ws *ws, const void *frame, size_t n)
{
    conn *c = ws->c;
    if (c->out.len > 0 && c->out.len + n > ws->send_limit) {
        if (ws->drop_when_full) {
            log_event(LOG_WARN, NULL, "websocket send queue full: message dropped",
                      "\"queued\":%zu,\"limit\":%zu,\"len\":%zu", c->out.len, ws->send_limit, n);
            return false;
        }
        log_event(LOG_WARN, NULL, "websocket send queue full: closing 1008",
                  "\"queued\":%zu,\"limit\":%zu", c->out.len, ws->send_limit);
        hold(ws);
        close_with(ws, WS_CLOSE_POLICY, "send queue full", 15);
        release(ws);
        return false;
    }
    hold(ws);
    metrics_add(MC_WS_MESSAGES_OUT, 1);
    conn_send(c, frame, n);           /* may close: on_closed runs */
    bool ok = !ws->closed;
    release(ws);
    return ok;
}

static int window_bits(const kiln_ws *ws)
{
    int bits = ws->deflate.server_window_bits;
    return bits >= 9 && bits <= 15 ? bits : 15;
}

bool kiln_ws_send(kiln_ws *ws, kiln_ws_type type, const void *data, size_t len)
{
    if (ws->closed || ws->close_sent || !ws->c) return false;
    if (type != KILN_WS_TEXT && type != KILN_WS_BINARY) return false;
    if (type == KILN_WS_TEXT && !ws_utf8_valid(data, len)) {
        log_event(LOG_ERROR, NULL, "kiln_ws_send: text is not UTF-8; not sent", "\"len\":%zu", len);
        return false;
    }
    static buf z, f;   /* the loop thread's scratch: compressed payload, frame */
    const void *p = data;
    size_t n = len;
    bool rsv1 = false;
    if (ws->deflate.enabled && len >= DEFLATE_MIN) {
        z.len = 0;
        ws_deflate_message(&ws->deflate, data, len, &z);
        if (z.len < len) { p = z.data; n = z.len; rsv1 = true; }
    }
    f.len = 0;
    ws_write_frame(&f, type == KILN_WS_TEXT ? WS_OP_TEXT : WS_OP_BINARY, true, rsv1, p, n, NULL);
    bool ok = send_frame(ws, f.data, f.len);
    if (z.cap > 256 * 1024) buf_free(&z);
    if (f.cap > 256 * 1024) buf_free(&f);
    return ok;
}

/* ---- one message for many sockets (session.h) -------------------------- */

void ws_shared_reset(ws_shared *m, kiln_str text)
{
    m->text = text;
    m->valid = -1;
    buf_reset_trim(&m->plain, 64 * 1024);
    for (int i = 0; i < 16; i++)
        if (m->zmade & (1u << i)) buf_reset_trim(&m->z[i], 64 * 1024);
    m->zmade = 0;
}

bool ws_session_send_shared(kiln_ws *ws, ws_shared *m)
{
    if (ws->closed || ws->close_sent || !ws->c) return false;
    if (m->valid < 0) {
        m->valid = ws_utf8_valid((const uint8_t *)m->text.ptr, m->text.len);
        if (!m->valid)
            log_event(LOG_ERROR, NULL, "websocket broadcast: text is not UTF-8; not sent", "\"len\":%zu", m->text.len);
    }
    if (!m->valid) return false;
    if (ws->deflate.enabled && m->text.len >= DEFLATE_MIN) {
        /* No context takeover: the compressed bytes depend on the window
         * size alone, so each size in use is compressed once. An empty
         * z[bits] means compression did not pay: the plain frame goes. */
        int bits = window_bits(ws);
        buf *zb = &m->z[bits];
        if (!(m->zmade & (1u << bits))) {
            static buf z;
            z.len = 0;
            ws_deflate_message(&ws->deflate, m->text.ptr, m->text.len, &z);
            if (z.len < m->text.len) ws_write_frame(zb, WS_OP_TEXT, true, true, z.data, z.len, NULL);
            if (z.cap > 256 * 1024) buf_free(&z);
            m->zmade |= 1u << bits;
        }
        if (zb->len) return send_frame(ws, zb->data, zb->len);
    }
    if (!m->plain.len) ws_write_frame(&m->plain, WS_OP_TEXT, true, false, m->text.ptr, m->text.len, NULL);
    return send_frame(ws, m->plain.data, m->plain.len);
}

bool kiln_ws_send_text(kiln_ws *ws, const char *text)
{
    return kiln_ws_send(ws, KILN_WS_TEXT, text, strlen(text));
}

bool ws_session_send_text(kiln_ws *ws, kiln_str text)
{
    return kiln_ws_send(ws, KILN_WS_TEXT, text.ptr, text.len);
}

void kiln_ws_close(kiln_ws *ws, int code, const char *reason)
{
    if (ws->closed || ws->close_sent) return;
    unsigned cc = code ? (unsigned)code : WS_CLOSE_NORMAL;
    if (!ws_close_code_valid(cc)) cc = WS_CLOSE_NORMAL;
    hold(ws);
    /* Once our close frame is written the write side is shut and their
     * close frame, if it comes, is read and dropped while lingering. */
    close_with(ws, cc, reason ? reason : "", reason ? strlen(reason) : 0);
    release(ws);
}

void *kiln_ws_user(const kiln_ws *ws) { return ws->user; }
void kiln_ws_set_user(kiln_ws *ws, void *user) { ws->user = user; }
uint64_t ws_session_id(const kiln_ws *ws) { return ws->id; }

void ws_session_set_callbacks(kiln_ws *ws, void (*on_msg)(kiln_ws *, const kiln_ws_msg *),
                              void (*on_cl)(kiln_ws *, int, kiln_str))
{
    if (on_msg) ws->on_message = on_msg;
    if (on_cl) ws->on_close = on_cl;
}

struct ws_sub **ws_session_subs(kiln_ws *ws) { return &ws->subs; }
