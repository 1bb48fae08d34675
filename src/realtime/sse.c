/*
 * sse.c -- Server-Sent Events (the text/event-stream format of the HTML
 * standard) on top of kiln_stream_*.
 *
 * A stream has two phases.
 *  1. The handler's phase (kiln_sse_begin .. kiln_sse_run): the handler runs
 *     on its coroutine and may send (history replayed from Last-Event-ID,
 *     say), with kiln_stream_write's back-pressure wait. Channel deliveries
 *     arrive on the loop thread, where nothing may block: they are queued in
 *     the stream's pending buffer.
 *  2. Forwarding (from kiln_sse_run on): what is pending is written, then the
 *     connection is handed to this file as a conn_proto (runtime/upgrade.c)
 *     and kiln_sse_run returns at once. The handler returns; its coroutine,
 *     arena and buffers go back. Deliveries are then written straight to the
 *     socket from the loop thread, a heartbeat timer writes comments, and an
 *     idle stream is the conn struct plus this file's small heap struct:
 *     no coroutine stack, no arena, no read buffer.
 * A channel event is formatted once, whatever the number of streams
 * (shared_event, keyed by channel_event_serial as the WebSocket fan-out
 * is), and the same bytes go to each stream with conn_send: one send()
 * straight from them when nothing is queued on the socket.
 * The stream ends when the client leaves (FIN or reset: on_closed), when it
 * falls SSE_PENDING_MAX bytes behind (disconnected, logged: its EventSource
 * reconnects with Last-Event-ID and the app replays what it missed, which is
 * better than silently losing events in the middle of a stream), or when the
 * worker stops (SIGTERM: the last chunk goes out; the browser reconnects to
 * a worker that stays).
 *
 * Owns: the kiln_sse (request arena) and its sse_stream (heap: the channel
 * subscriptions, the pending buffer, the heartbeat timer). Until the hand-
 * over a kiln_defer of the request frees the stream; after it, the
 * conn_proto calls do (on_closed and on_handler_done, whichever is last).
 * Must never: write to the socket from a delivery before the hand-over (the
 * handler may be in the middle of a write), touch the connection after
 * on_closed, or keep a subscription past the connection.
 */
#include "api/request.h"
#include "realtime/channel.h"
#include "runtime/engine.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_PENDING_MAX (1u << 20)
#define SSE_MAX_SUBS 16
#define SSE_HEARTBEAT_MS 15000

/* The part of a stream that outlives its handler (heap). */
typedef struct sse_stream {
    conn *c;                     /* NULL once the connection is closed      */
    buf pending;                 /* formatted events not yet written        */
    channel_sub *subs[SSE_MAX_SUBS];
    int nsubs;
    bool waiting;                /* the handler is suspended in kiln_sse_run */
    bool overflow;               /* pending hit its bound: end the stream   */
    bool has_floor;              /* an integer id was sent: skip older ones */
    bool forwarding;             /* handed over: deliveries go to the socket */
    bool chunked;                /* HTTP/1.1: chunked framing               */
    bool handler_done, closed;   /* both: the stream is freed               */
    long long floor;
    unsigned heartbeat_ms;
    loop_timer beat;             /* forwarding: the next heartbeat          */
} sse_stream;

struct kiln_sse {
    kiln_req *req;
    kiln_res *res;
    sse_stream *st;
};

static void stream_free(sse_stream *st)
{
    for (int i = 0; i < st->nsubs; i++) channel_unsubscribe(st->subs[i]);
    st->nsubs = 0;
    buf_free(&st->pending);
    free(st);
}

/* kiln_defer of the request: a stream never handed over ends with it. */
static void release(void *arg)
{
    kiln_sse *s = arg;
    if (s->st && !s->st->forwarding) stream_free(s->st);
    s->st = NULL;
}

kiln_sse *kiln_sse_begin(kiln_req *req, kiln_res *res)
{
    kiln_sse *s = kiln_alloc(req, sizeof *s);
    s->req = req;
    s->res = res;
    s->st = kiln_xcalloc(1, sizeof *s->st);
    s->st->c = wait_self();
    kiln_defer(req, release, s);
    kiln_set_header(res, "Cache-Control", "no-cache");
    kiln_set_header(res, "X-Accel-Buffering", "no");   /* nginx: do not buffer */
    kiln_stream_begin(res, 200, "text/event-stream");
    /* A stream lives as long as its client: no max duration. */
    request_unlimited(req);
    return s;
}

const char *kiln_sse_last_event_id(kiln_sse *s)
{
    const char *v = kiln_header(s->req, "last-event-id");
    return v && *v ? v : NULL;
}

static bool int_id(const char *p, size_t n, long long *out)
{
    if (!p || n == 0 || n > 18) return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Append one field line per line of v ("data: a\ndata: b\n"); \r\n, \r and
 * \n all end a line, as the parser on the other side reads them. */
static void put_field(buf *b, const char *name, const char *v, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && v[j] != '\n' && v[j] != '\r') j++;
        buf_puts(b, name);
        buf_puts(b, ": ");
        buf_append(b, v + i, j - i);
        buf_putc(b, '\n');
        if (j == n) break;           /* "a\n" gives "a" and "": the browser joins them back */
        if (v[j] == '\r' && j + 1 < n && v[j + 1] == '\n') j++;
        i = j + 1;
    }
}

/* An id or event name is one line: anything after a line break (or a NUL,
 * which the browser would refuse in an id) is cut off. */
static size_t one_line(const char *v, size_t n)
{
    size_t k = 0;
    while (k < n && v[k] != '\n' && v[k] != '\r' && v[k] != '\0') k++;
    return k;
}

/* One event in the event-stream format (pure: fuzzed). */
void sse_format(buf *b, kiln_str event, kiln_str id, kiln_str data)
{
    if (id.ptr) {
        buf_puts(b, "id: ");
        buf_append(b, id.ptr, one_line(id.ptr, id.len));
        buf_putc(b, '\n');
    }
    if (event.ptr && event.len) {
        buf_puts(b, "event: ");
        buf_append(b, event.ptr, one_line(event.ptr, event.len));
        buf_putc(b, '\n');
    }
    put_field(b, "data", data.ptr ? data.ptr : "", data.ptr ? data.len : 0);
    buf_putc(b, '\n');
}

/* An event with this id goes to stream s? False: skip it (a delivered
 * integer id not above the highest one already sent). Raises the floor. */
static bool pass_floor(sse_stream *s, kiln_str id, bool forwarded)
{
    long long v;
    if (id.ptr && int_id(id.ptr, id.len, &v)) {
        if (forwarded && s->has_floor && v <= s->floor) return false;
        if (!s->has_floor || v > s->floor) s->floor = v;
        s->has_floor = true;
    }
    return true;
}

/* The channel event being delivered, formatted once for every stream
 * (loop thread; rebuilt when channel_event_serial changes, as
 * ws/subscribe.c does for WebSocket frames): the bare frame, and on first
 * need the same as one HTTP/1.1 chunk. Valid until the next event. */
static kiln_str shared_event(kiln_str event, kiln_str data, bool chunked)
{
    static buf frame, chunk;
    static uint64_t built_for;
    static bool chunk_made;
    uint64_t serial = channel_event_serial();
    if (!serial || serial != built_for) {
        buf_reset_trim(&frame, 64 * 1024);
        buf_reset_trim(&chunk, 64 * 1024);
        sse_format(&frame, event, channel_event_id(), data);
        built_for = serial;
        chunk_made = false;
    }
    if (!chunked) return (kiln_str){ frame.data, frame.len };
    if (!chunk_made) {
        buf_printf(&chunk, "%zx\r\n", frame.len);
        buf_append(&chunk, frame.data, frame.len);
        buf_append(&chunk, "\r\n", 2);
        chunk_made = true;
    }
    return (kiln_str){ chunk.data, chunk.len };
}

static bool write_now(kiln_sse *s, const buf *b)
{
    return kiln_stream_write(s->res, b->data, b->len);
}

bool kiln_sse_send(kiln_sse *s, const char *event, const char *id, const char *data)
{
    buf b;
    buf_init(&b, 256);
    kiln_str kid = { id, id ? strlen(id) : 0 };
    pass_floor(s->st, kid, false);
    sse_format(&b, (kiln_str){ event, event ? strlen(event) : 0 }, kid, (kiln_str){ data, data ? strlen(data) : 0 });
    bool ok = write_now(s, &b);
    buf_free(&b);
    return ok;
}

bool kiln_sse_retry(kiln_sse *s, unsigned ms)
{
    return kiln_stream_printf(s->res, "retry: %u\n\n", ms);
}

bool kiln_sse_comment(kiln_sse *s, const char *text)
{
    buf b;
    buf_init(&b, 64);
    put_field(&b, "", text ? text : "", text ? strlen(text) : 0);   /* ": text" lines */
    buf_putc(&b, '\n');
    bool ok = write_now(s, &b);
    buf_free(&b);
    return ok;
}

/* Forwarding: write p[0..n), already in the response's framing, with
 * conn_send (one send() straight from p when nothing is queued: the bytes
 * of a channel event are shared by every stream). A reader that would fall
 * SSE_PENDING_MAX behind is disconnected. May close the connection
 * (on_closed runs, and may free st): the caller must not touch st after. */
static void forward_send(sse_stream *st, const char *p, size_t n)
{
    conn *c = st->c;
    if (c->out.len + n > SSE_PENDING_MAX) {
        log_event(LOG_WARN, NULL, "event stream client too slow: disconnected", "\"pending\":%zu", c->out.len);
        conn_close(c);
        return;
    }
    conn_send(c, p, n);
}

/* A channel event, on the loop thread. Before the hand-over: queue it and
 * wake the handler if it waits. After: straight to the socket. Either way
 * the bytes are the event's shared ones (shared_event), formatted once. */
static void on_event(void *ctx, kiln_str channel, kiln_str event, kiln_str data)
{
    (void)channel;
    sse_stream *s = ctx;
    if (s->forwarding) {
        if (s->closed || !pass_floor(s, channel_event_id(), true)) return;
        kiln_str f = shared_event(event, data, s->chunked);
        forward_send(s, f.ptr, f.len);
        return;
    }
    if (s->overflow || wait_peer_gone(s->c)) return;
    if (!pass_floor(s, channel_event_id(), true)) return;
    kiln_str f = shared_event(event, data, false);    /* kiln_stream_write frames it */
    if (s->pending.len + f.len > SSE_PENDING_MAX) {
        s->overflow = true;
        log_event(LOG_WARN, NULL, "event stream client too slow: disconnected", "\"pending\":%zu", s->pending.len);
    } else {
        buf_append(&s->pending, f.ptr, f.len);
    }
    if (s->waiting) {
        s->waiting = false;
        wait_wake_at(s->c, 0);
    }
}

void kiln_sse_subscribe(kiln_sse *s, const char *channel)
{
    sse_stream *st = s->st;
    if (st->nsubs == SSE_MAX_SUBS) KILN_PANIC("kiln_sse_subscribe: more than %d channels on one stream", SSE_MAX_SUBS);
    st->subs[st->nsubs++] = channel_subscribe(channel, on_event, st);
}

/* ---- forwarding: the stream as a conn_proto ---------------------------- */

static void on_beat(loop_timer *t)
{
    sse_stream *st = (sse_stream *)((char *)t - offsetof(sse_stream, beat));
    if (st->closed) return;
    loop_timer_set(st->c->w->loop, &st->beat, loop_now_ms(st->c->w->loop) + st->heartbeat_ms);
    static const char chunk[] = "3\r\n:\n\n\r\n", bare[] = ":\n\n";
    if (st->chunked) forward_send(st, chunk, sizeof chunk - 1);
    else forward_send(st, bare, sizeof bare - 1);    /* may close: on_closed cancels the timer */
}

static void proto_data(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx, (void)p, (void)n;  /* an event-stream client sends nothing we use */
}

static void proto_drain(void *ctx) { (void)ctx; }

static void proto_closed(void *ctx)
{
    sse_stream *st = ctx;
    st->closed = true;
    loop_timer_cancel(st->c->w->loop, &st->beat);
    for (int i = 0; i < st->nsubs; i++) channel_unsubscribe(st->subs[i]);
    st->nsubs = 0;
    st->c = NULL;
    if (st->handler_done) stream_free(st);
}

static void proto_handler_done(void *ctx)
{
    sse_stream *st = ctx;
    st->handler_done = true;
    if (st->closed) stream_free(st);
}

/* The worker drains: the stream ends (the last chunk), the client reconnects. */
static void proto_shutdown(void *ctx)
{
    sse_stream *st = ctx;
    if (st->closed) return;
    conn *c = st->c;
    if (st->chunked) buf_append(&c->out, "0\r\n\r\n", 5);
    conn_proto_end(c);
}

static const conn_proto sse_proto = { proto_data, proto_drain, proto_closed, proto_handler_done, proto_shutdown };

static bool gone(const sse_stream *s)
{
    return wait_peer_gone(s->c) || s->overflow || wait_stopping();
}

void kiln_sse_run(kiln_sse *s, unsigned heartbeat_ms)
{
    sse_stream *st = s->st;
    conn *c = st->c;
    if (!heartbeat_ms) {
        const char *e = getenv("KILN_SSE_HEARTBEAT_MS");
        long v = e ? strtol(e, NULL, 10) : 0;
        heartbeat_ms = v > 0 && v <= 3600000 ? (unsigned)v : SSE_HEARTBEAT_MS;
    }
    /* HEAD got its head: there is no body to stream. */
    if (strcmp(s->req->method, "HEAD") == 0) return;
    /* What came during the handler's phase goes out first, on the
     * coroutine (back-pressure may wait here). */
    while (st->pending.len && !gone(st)) {
        buf out = st->pending;
        buf_init(&st->pending, 0);
        bool ok = kiln_stream_write(s->res, out.data, out.len);
        buf_free(&out);
        if (!ok) return;
    }
    if (gone(st)) return;        /* the stream ends with the request */
    buf_free(&st->pending);
    st->chunked = c->http.minor_version == 1;
    st->heartbeat_ms = heartbeat_ms;
    st->beat.on_fire = on_beat;
    st->beat.heap_index = -1;
    st->forwarding = true;
    request_hand_over(s->req);
    conn_upgrade(c, &sse_proto, st);
    if (!st->closed) loop_timer_set(c->w->loop, &st->beat, loop_now_ms(c->w->loop) + heartbeat_ms);
}
