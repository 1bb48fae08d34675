/*
 * sse.c -- Server-Sent Events (the text/event-stream format of the HTML
 * standard) on top of kiln_stream_*.
 *
 * A stream is a request whose handler stays on its coroutine: kiln_sse_run
 * suspends it (WAIT_PEER) until there is something to write, the heartbeat
 * is due, or the client leaves (the engine wakes WAIT_PEER on a closed peer),
 * or the worker stops (SIGTERM: the stream ends, the browser's EventSource
 * reconnects to a worker that stays).
 * Channel deliveries arrive on the loop thread, outside the coroutine, where
 * nothing may block: they are formatted into the stream's pending buffer
 * and the coroutine is woken to write them. Writing happens only on the
 * coroutine, so kiln_stream_write's back-pressure wait is allowed there.
 *
 * Bounds: the pending buffer holds at most SSE_PENDING_MAX bytes. A client
 * that falls that far behind is disconnected (logged): its EventSource
 * reconnects with Last-Event-ID and the app replays what it missed, which
 * is better than silently losing events in the middle of a stream.
 *
 * Owns: the kiln_sse (request arena), its pending buffer and channel
 * subscriptions (released by a kiln_defer when the request ends, however
 * it ends).
 * Must never: write to the socket from a delivery (loop thread), or keep a
 * subscription past its request.
 */
#include "api/request.h"
#include "realtime/channel.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_PENDING_MAX (1u << 20)
#define SSE_MAX_SUBS 16
#define SSE_HEARTBEAT_MS 15000

struct kiln_sse {
    kiln_req *req;
    kiln_res *res;
    conn *c;
    buf pending;                 /* formatted events not yet written        */
    channel_sub *subs[SSE_MAX_SUBS];
    int nsubs;
    bool waiting;                /* suspended in kiln_sse_run               */
    bool overflow;               /* pending hit its bound: end the stream   */
    bool has_floor;              /* an integer id was sent: skip older ones */
    long long floor;
};

static void release(void *arg)
{
    kiln_sse *s = arg;
    for (int i = 0; i < s->nsubs; i++) channel_unsubscribe(s->subs[i]);
    s->nsubs = 0;
    buf_free(&s->pending);
}

kiln_sse *kiln_sse_begin(kiln_req *req, kiln_res *res)
{
    kiln_sse *s = kiln_alloc(req, sizeof *s);
    s->req = req;
    s->res = res;
    s->c = wait_self();
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

/* Format an event onto b. False: skipped (id not above the floor). */
static bool format_event(kiln_sse *s, buf *b, kiln_str event, kiln_str id, kiln_str data, bool forwarded)
{
    long long v;
    if (id.ptr && int_id(id.ptr, id.len, &v)) {
        if (forwarded && s->has_floor && v <= s->floor) return false;
        if (!s->has_floor || v > s->floor) s->floor = v;
        s->has_floor = true;
    }
    sse_format(b, event, id, data);
    return true;
}

static bool write_now(kiln_sse *s, const buf *b)
{
    return kiln_stream_write(s->res, b->data, b->len);
}

bool kiln_sse_send(kiln_sse *s, const char *event, const char *id, const char *data)
{
    buf b;
    buf_init(&b, 256);
    format_event(s, &b, (kiln_str){ event, event ? strlen(event) : 0 }, (kiln_str){ id, id ? strlen(id) : 0 },
                 (kiln_str){ data, data ? strlen(data) : 0 }, false);
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

/* A channel event, on the loop thread: queue it and wake the coroutine. */
static void on_event(void *ctx, kiln_str channel, kiln_str event, kiln_str data)
{
    (void)channel;
    kiln_sse *s = ctx;
    if (s->overflow || wait_peer_gone(s->c)) return;
    size_t before = s->pending.len;
    if (!format_event(s, &s->pending, event, channel_event_id(), data, true)) return;
    if (s->pending.len > SSE_PENDING_MAX) {
        s->pending.len = before;
        s->overflow = true;
        log_event(LOG_WARN, s->req->id, "event stream client too slow: disconnected",
                  "\"route\":\"%s\",\"pending\":%zu", s->req->route, before);
    }
    if (s->waiting) {
        s->waiting = false;
        wait_wake_at(s->c, 0);
    }
}

void kiln_sse_subscribe(kiln_sse *s, const char *channel)
{
    if (s->nsubs == SSE_MAX_SUBS) KILN_PANIC("kiln_sse_subscribe: more than %d channels on one stream", SSE_MAX_SUBS);
    s->subs[s->nsubs++] = channel_subscribe(channel, on_event, s);
}

static bool gone(const kiln_sse *s)
{
    return wait_peer_gone(s->c) || s->overflow || wait_stopping();
}

void kiln_sse_run(kiln_sse *s, unsigned heartbeat_ms)
{
    conn *c = s->c;
    if (!heartbeat_ms) {
        const char *e = getenv("KILN_SSE_HEARTBEAT_MS");
        long v = e ? strtol(e, NULL, 10) : 0;
        heartbeat_ms = v > 0 && v <= 3600000 ? (unsigned)v : SSE_HEARTBEAT_MS;
    }
    uint64_t next_beat = wait_now_ms() + heartbeat_ms;
    buf out;
    buf_init(&out, 0);
    while (!gone(s)) {
        if (s->pending.len) {
            /* Take what is pending: deliveries during the write go to a
             * fresh buffer and are written on the next round. */
            buf t = out;
            out = s->pending;
            s->pending = t;
            s->pending.len = 0;
            bool ok = write_now(s, &out);
            out.len = 0;
            buf_reset_trim(&out, 16 * 1024);
            if (!ok) break;
            continue;
        }
        if (wait_now_ms() >= next_beat) {
            if (!kiln_stream_write(s->res, ":\n\n", 3)) break;
            next_beat = wait_now_ms() + heartbeat_ms;
            continue;
        }
        s->waiting = true;
        wait_wake_at(c, next_beat);
        wait_suspend(WAIT_PEER);
        s->waiting = false;
        wait_wake_cancel(c);
    }
    buf_free(&out);
    release(s);
}
