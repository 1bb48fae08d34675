/*
 * conn.c -- one HTTP/1.1 connection: read, frame, hand over, write, repeat.
 *
 * The connection is an explicit state machine driven by the event loop (no
 * coroutine of its own, so an idle keep-alive connection costs no stack):
 *
 *   CS_HEAD  --head parsed-->  the framework's request hook (route, limits)  --body?--> CS_BODY
 *   CS_BODY  --body complete--> handler coroutine --suspends--> CS_HANDLER
 *   handler done --> response appended to `out` --> CS_HEAD (pipelining)
 *   errors --> error response, then CS_CLOSING --> CS_LINGER --> closed
 *
 * Owns: the socket, the fixed-size input buffer `in` (it never moves while a
 * request's slices point into it), the output buffer, the request body
 * buffer, the request arena and the connection's timer.
 *
 * Must never: block; reallocate `in`; free a connection whose handler is
 * still suspended (it is marked dead and freed when the coroutine ends);
 * free a connection during the event batch that may still name it (freeing
 * happens after the loop turn).
 */
#include "runtime/engine.h"

#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (KILN_MAX_HEAD + 4096)
#define OUT_HIGH_WATER (1024 * 1024)   /* stop taking requests above this   */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (1024 * 1024)

static void conn_on_event(loop_io *io, uint32_t events);
static void conn_on_timer(loop_timer *t);
static void conn_process(conn *c);

static void set_timer(conn *c, unsigned ms)
{
    loop_timer_set(c->w->loop, &c->timer, loop_now_ms(c->w->loop) + ms);
}

static void format_remote(conn *c, const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], c->remote, sizeof c->remote);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, c->remote, sizeof c->remote);
    } else if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, c->remote, sizeof c->remote);
    } else {
        strcpy(c->remote, "unknown");
    }
}

/* Accepts until the queue is empty. Returns false when out of file
 * descriptors (or memory) with connections left in the queue: the socket is
 * edge-triggered, so the caller must retry later. */
bool conn_accept_all(worker *w)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(w->listen_io.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_event(LOG_ERROR, NULL, "accept: out of file descriptors or memory; pausing accepts",
                          "\"error\":\"%s\",\"open\":%zu", strerror(errno), w->nconns);
                return false;
            }
            return true;   /* EAGAIN: the queue is empty */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = kiln_xcalloc(1, sizeof(*c));
        c->io.fd = fd;
        c->io.on_event = conn_on_event;
        c->w = w;
        c->state = CS_HEAD;
        c->timer.on_fire = conn_on_timer;
        c->timer.heap_index = -1;
        c->duration_timer.heap_index = -1;
        c->wake_timer.heap_index = -1;
        format_remote(c, &ss);
        buf_init(&c->in, 0);
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
        w->nconns++;
        loop_add(w->loop, &c->io, 0);
        set_timer(c, w->opts->idle_timeout_ms);
    }
    return true;
}

/* Unlink and close now; the memory is freed after this loop turn. */
void conn_close(conn *c)
{
    if (c->dead) return;
    if (c->proto && !c->proto_closed) {
        /* Tell the protocol first: it wakes a handler waiting on it. */
        c->proto_closed = true;
        c->proto->on_closed(c->proto_ctx);
        if (c->dead) return;
    }
    if (c->co && !coro_done(c->co)) {
        /* A handler is suspended on this connection: let it run to its end
         * (it sees the client gone); the framework closes us again when it ends. */
        c->abandoned = true;
        c->close_after = true;
        if (c->wait == WAIT_PEER) wait_wake_at(c, 0);   /* an event stream ends now */
        return;
    }
    c->dead = true;
    worker *w = c->w;
    loop_timer_cancel(w->loop, &c->timer);
    loop_timer_cancel(w->loop, &c->duration_timer);
    loop_timer_cancel(w->loop, &c->wake_timer);
    loop_del(w->loop, &c->io);
    close(c->io.fd);
    c->io.fd = -1;
    if (c->prev) c->prev->next = c->next; else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    c->next = w->dead;
    w->dead = c;
}

/* Called by the worker after each loop turn. */

void conn_free_dead(worker *w)
{
    while (w->dead) {
        conn *c = w->dead;
        w->dead = c->next;
        conn_park_forget(c);
        conn_release_arena(c);
        buf_free(&c->in);
        buf_free(&c->out);
        buf_free(&c->body);
        buf_free(&c->res_body);
        free(c);
    }
}

/* Idle between requests: no read buffer, no arena, no body buffers until
 * bytes arrive (the coroutine stack went back when the handler returned).
 * What stays is the conn struct itself (about 1.4 KB). */
static void conn_release_idle(conn *c)
{
    buf_free(&c->in);
    buf_free(&c->body);
    buf_free(&c->res_body);
    conn_release_arena(c);
}

/* The arena exists only while a request needs it: an idle connection
 * holds none (nor a read buffer: see conn_request_done). */
void conn_use_arena(conn *c)
{
    if (c->arena_live) return;
    arena_init(&c->arena, 8192);
    c->arena_live = true;
}

void conn_release_arena(conn *c)
{
    if (!c->arena_live) return;
    arena_destroy(&c->arena);
    c->arena_live = false;
    c->headers = NULL;
}

static void start_linger(conn *c)
{
    if (c->read_closed) { conn_close(c); return; }
    shutdown(c->io.fd, SHUT_WR);
    c->state = CS_LINGER;
    c->linger_until = 0;
    set_timer(c, LINGER_MS);
}

/* Write-behind. A finished response waits in `out` until the end of the
 * loop turn, and then all of the turn's responses go out one after the
 * other. Under load this is cheaper for the whole machine: the kernel's
 * send path and our request path each stay hot in the caches instead of
 * evicting each other per request, and a client that is still busy with
 * the previous response is not woken again (a wake-up is an IPI, and a VM
 * exit under virtualisation). Measured on the GraphQL bench: about 9 %
 * less CPU per request, p99 latency no worse (bench/README.md).
 *
 * The cost is latency within one turn: a response waits for the requests
 * handled after it in the same turn, at most CONN_WRITE_BATCH - 1 of them;
 * a full queue is written at once. Only a finished response in CS_HEAD is
 * queued: errors, streams, WebSocket frames and a blocked writer go out as
 * before. A queued connection stays allocated until the queue is written
 * (connections are freed after the turn, conn_free_dead, which runs after
 * conn_flush_queued); one that died meanwhile is skipped. */
static void queue_write(conn *c)
{
    worker *w = c->w;
    if (c->write_queued) return;
    if (w->nwrite_queue == CONN_WRITE_BATCH) conn_flush_queued(w);
    c->write_queued = true;
    w->write_queue[w->nwrite_queue++] = c;
}

void conn_flush_queued(worker *w)
{
    for (int i = 0; i < w->nwrite_queue; i++) {
        conn *c = w->write_queue[i];
        c->write_queued = false;
        if (!c->dead && c->out.len > 0 && !c->write_blocked) conn_flush(c);
    }
    w->nwrite_queue = 0;
}

void conn_flush(conn *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->io.fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) { off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        buf_consume(&c->out, off);
        c->out.len = 0;
        conn_close(c);          /* peer reset or gone */
        return;
    }
    buf_consume(&c->out, off);
    c->write_blocked = c->out.len > 0;
    if (c->write_blocked) {
        /* A slow reader: give it the idle timeout to make progress. */
        if (off > 0 || !c->timer.armed) set_timer(c, c->w->opts->idle_timeout_ms);
        return;
    }
    if (c->out.cap > 64 * 1024) buf_reset_trim(&c->out, 0);
    if (c->state == CS_CLOSING) start_linger(c);
}

/* Write p[0..n) after whatever is queued. With nothing queued (a broadcast
 * to idle sockets) one send() straight from the caller's bytes: a frame
 * shared by many sockets is not copied and leaves no buffer behind. Only
 * what the socket does not take goes to `out` (then conn_flush's rules). */
void conn_send(conn *c, const void *p, size_t n)
{
    if (c->dead) return;
    if (c->out.len == 0 && n > 0) {
        ssize_t k;
        do k = send(c->io.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL); while (k < 0 && errno == EINTR);
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { conn_close(c); return; }   /* peer gone */
        if (k > 0) { p = (const char *)p + k; n -= (size_t)k; }
        if (n == 0) { if (c->state == CS_CLOSING) start_linger(c); return; }
    }
    buf_append(&c->out, p, n);
    conn_flush(c);
}

/* ---- reading --------------------------------------------------------- */

static void linger_drain(conn *c)
{
    char tmp[16384];
    for (;;) {
        ssize_t n = recv(c->io.fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            c->linger_until += (uint64_t)n;
            if (c->linger_until > LINGER_MAX_BYTES) { conn_close(c); return; }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        conn_close(c);
        return;
    }
}

/* Fill `in` as far as it goes. Returns false if the connection died. */
static bool read_input(conn *c)
{
    if (!c->in.data) buf_reserve(&c->in, IN_CAP);
    c->need_read = false;
    while (c->in.len < IN_CAP) {
        size_t room = IN_CAP - c->in.len;
        ssize_t n = recv(c->io.fd, c->in.data + c->in.len, room, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            if ((size_t)n < room) break;     /* drained (edge-triggered) */
            continue;
        }
        if (n == 0) { c->read_closed = true; break; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        c->read_closed = true;                /* reset: treat as gone */
        conn_close(c);
        return false;
    }
    /* Full buffer: the kernel may hold more, and no new edge will come. */
    if (c->in.len == IN_CAP) c->need_read = true;
    return true;
}

/* For kiln_body_read (raw bodies): the handler drained `in` while the
 * socket may still hold bytes that no new edge will announce. */
bool conn_read_more(conn *c)
{
    if (c->dead || !c->need_read || c->in.len >= IN_CAP) return !c->dead;
    return read_input(c);
}

static void conn_on_readable(conn *c)
{
    if (c->state == CS_LINGER) { linger_drain(c); return; }
    if (c->state == CS_CLOSING) return;   /* output pending, input ignored */
    if (c->proto) { conn_proto_read(c); return; }
    size_t before = c->in.len;
    if (c->in.len < IN_CAP && !read_input(c)) return;
    if (c->in.len == IN_CAP) c->need_read = true;
    if (c->state == CS_HANDLER) {
        /* A raw-body handler may be waiting for these bytes. */
        if (c->wait == WAIT_BODY) conn_resume_after_wait(c);
        /* A stream waiting for events learns at once that its client left. */
        else if (c->wait == WAIT_PEER && c->read_closed) conn_resume_after_wait(c);
        return;
    }
    if (c->in.len > before && c->state == CS_HEAD && before == c->head_len)
        set_timer(c, c->w->opts->header_timeout_ms);   /* a new request starts */
    if (c->in.len > before && c->state == CS_BODY)
        set_timer(c, c->w->opts->body_timeout_ms);     /* the limit is between reads */
    conn_process(c);
}

static void conn_on_event(loop_io *io, uint32_t events)
{
    conn *c = (conn *)io;
    if (c->dead) return;
    if (c->proto && (events & (EPOLLRDHUP | EPOLLHUP))) c->peer_shut = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_on_readable(c);
    if (c->dead) return;
    if ((events & EPOLLOUT) && c->write_blocked) {
        conn_flush(c);
        if (!c->dead && !c->write_blocked) {
            if (c->proto) { if (!c->proto_closed) c->proto->on_drain(c->proto_ctx); }
            else if (c->state == CS_HANDLER) conn_resume_after_wait(c);  /* stream backpressure */
            else conn_process(c);
        }
    }
}

static void conn_on_timer(loop_timer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, timer));
    if (c->dead) return;
    switch (c->state) {
    case CS_HEAD:
        if (c->in.len > c->head_len && !c->write_blocked) {
            conn_error(c, 408, "Request Timeout");
            return;
        }
        conn_close(c);    /* idle keep-alive, or a reader that never reads */
        return;
    case CS_BODY:
        conn_error(c, 408, "Request Timeout");
        return;
    case CS_HANDLER:
    case CS_UPGRADED:
        if (c->write_blocked) conn_close(c);  /* streaming to a dead reader */
        return;
    case CS_CLOSING:
    case CS_LINGER:
        conn_close(c);
        return;
    }
}

/* ---- framing the body ------------------------------------------------ */

/* Move body bytes from `in` (after the head) into c->body. Returns 1 when
 * the body is complete, 0 when more is needed, -1 after an error response. */
static int take_body(conn *c)
{
    char *region = c->in.data + c->head_len;
    size_t avail = c->in.len - c->head_len;
    if (!c->body_chunked) {
        size_t n = avail < (uint64_t)c->body_left ? avail : (size_t)c->body_left;
        buf_append(&c->body, region, n);
        memmove(region, region + n, avail - n);
        c->in.len -= n;
        c->body_left -= (int64_t)n;
        return c->body_left == 0;
    }
    size_t len = avail;
    ssize_t rc = http_chunked_decode(&c->chunked, region, &len);
    if (rc == HTTP_ERR_BAD) {
        conn_error(c, 400, "Bad Request: malformed chunked body");
        return -1;
    }
    if (c->body.len + len > c->body_limit) {
        char msg[96];
        snprintf(msg, sizeof msg, "Payload Too Large");
        conn_error(c, 413, msg);
        return -1;
    }
    buf_append(&c->body, region, len);
    if (rc == HTTP_INCOMPLETE) {
        c->in.len = c->head_len;
        return 0;
    }
    /* Complete: the last rc bytes of what we gave are the next request. */
    memmove(region, region + avail - (size_t)rc, (size_t)rc);
    c->in.len = c->head_len + (size_t)rc;
    return 1;
}

/* ---- the state machine ----------------------------------------------- */

static void conn_process(conn *c)
{
    bool high_water;
again:
    high_water = false;
    while (!c->dead) {
        if (c->need_read && c->in.len < IN_CAP && (c->state == CS_HEAD || c->state == CS_BODY)
            && !read_input(c))
            return;
        if (c->state == CS_HEAD && UNLIKELY(c->w->paused)) break;   /* kiln dev: a build runs */
        if (c->state == CS_HEAD) {
            if (c->out.len > OUT_HIGH_WATER) { high_water = true; break; }  /* let the writer catch up */
            if (c->in.len == 0) {
                if (c->read_closed) { conn_flush(c); if (!c->dead && !c->write_blocked) conn_close(c); return; }
                break;
            }
            http_request *h = &c->http;
            conn_use_arena(c);
            /* Parse into the loop's scratch array; the fields found are then
             * copied into the arena, right-sized (a long-lived request,
             * a WebSocket, keeps only what it got). */
            static http_header scratch[KILN_MAX_HEADERS];
            h->headers = scratch;
            int r = http_parse_request(c->in.data, c->in.len, h, KILN_MAX_HEADERS, KILN_MAX_TARGET);
            if (r == HTTP_INCOMPLETE) {
                if (c->in.len >= KILN_MAX_HEAD) { conn_error(c, 431, "Request Header Fields Too Large"); break; }
                if (c->read_closed) { conn_close(c); return; }
                break;
            }
            if (r < 0) {
                int st = http_error_status(r);
                conn_error(c, st, st == 431 ? "Request Header Fields Too Large"
                                     : st == 414 ? "URI Too Long"
                                     : st == 505 ? "HTTP Version Not Supported"
                                     : st == 501 ? "Not Implemented" : "Bad Request");
                break;
            }
            c->head_len = (size_t)r;
            bool upgrade = conn_upgrade_head(c);   /* park.c */
            c->headers = arena_alloc(&c->arena, (h->num_headers ? h->num_headers : 1) * sizeof(http_header));
            memcpy(c->headers, scratch, h->num_headers * sizeof(http_header));
            h->headers = c->headers;
            if (upgrade) conn_head_to_arena(c);
            c->in_request = true;
            c->nreq++;
            engine_request(c);      /* may switch to CS_BODY, CS_HANDLER, CS_CLOSING or finish */
            continue;
        }
        if (c->state == CS_BODY) {
            int done = take_body(c);
            if (done < 0) break;
            if (done == 0) {
                if (c->read_closed) { conn_close(c); return; }
                /* `in` was full: the kernel may hold more of the body and,
                 * edge-triggered, no new event will say so. Read on. */
                if (c->need_read) continue;
                break;
            }
            engine_request(c);      /* second call: body is there, run the handler */
            continue;
        }
        break;   /* CS_HANDLER, CS_CLOSING, CS_LINGER, CS_UPGRADED: nothing to parse */
    }
    if (c->dead) return;
    if (!high_water && c->state == CS_HEAD && c->out.len > 0 && !c->write_blocked) {
        queue_write(c);                 /* written at the end of this turn */
        if (!c->timer.armed) set_timer(c, c->w->opts->idle_timeout_ms);
        return;
    }
    conn_flush(c);
    if (c->dead) return;
    /* We stopped at the high-water mark and this flush wrote everything:
     * no EPOLLOUT edge will call us back, so go on with the pipelined
     * requests still in `in` now. */
    if (high_water && !c->write_blocked) goto again;
    if (c->state == CS_HEAD && !c->write_blocked && !c->timer.armed)
        set_timer(c, c->w->opts->idle_timeout_ms);
    /* `in` is full and we are not consuming: the peer must wait (pipelining
     * backpressure); when the handler finishes we process again. */
}

/* The drain (SIGTERM, SIGHUP): upgraded connections are asked to end (a WebSocket
 * closes with 1001, going away) and long-lived responses waiting for their
 * peer are woken (an event stream sees wait_stopping() and ends), so their
 * clients reconnect to a worker that stays. */
void conn_stop_long_lived(worker *w)
{
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (c->dead) continue;
        if (c->proto && !c->proto_closed) {
            if (c->proto->on_shutdown) c->proto->on_shutdown(c->proto_ctx);
        } else if (c->state == CS_HANDLER && c->wait == WAIT_PEER) {
            wait_wake_at(c, 0);
        }
    }
}

/* Process what is buffered (kiln dev: after held requests are let go). */
void conn_kick(conn *c)
{
    if (!c->dead && c->state == CS_HEAD) conn_process(c);
}

/* Called by the framework when a request is completely answered. */

void conn_request_done(conn *c)
{
    /* Drop the head (and any body bytes: they were moved out already). */
    size_t rest = c->in.len - c->head_len;
    memmove(c->in.data, c->in.data + c->head_len, rest);
    c->in.len = rest;
    c->head_len = 0;
    c->in_request = false;
    c->head_in_arena = false;
    arena_reset(&c->arena);
    c->headers = NULL;
    c->body.len = 0;
    if (c->body.cap > 64 * 1024) buf_reset_trim(&c->body, 0);
    if (c->res_body.cap > 64 * 1024) buf_reset_trim(&c->res_body, 0);
    /* The request's state is per request (the framework's lived in the
     * arena, reset above). */
    loop_timer_cancel(c->w->loop, &c->wake_timer);
    memset(&c->http, 0, sizeof c->http);
    c->co = NULL;
    c->wait = WAIT_NONE;
    c->offload_result = NULL;
    c->req_id = c->route = c->trace_id = NULL;
    c->head_sent = false;
    c->app = NULL;
    if (c->close_after || c->w->draining) {
        c->state = CS_CLOSING;
        if (c->in.len == 0) c->in.len = 0;
    } else {
        c->state = CS_HEAD;
        if (c->in.len > 0) set_timer(c, c->w->opts->header_timeout_ms);
        else {
            set_timer(c, c->w->opts->idle_timeout_ms);
            conn_release_idle(c);
        }
    }
}

/* After a wait ended (offload done, sleep over, socket writable again). */
void conn_resume_after_wait(conn *c)
{
    engine_resume(c);
    if (c->dead) return;
    conn_process(c);
}

/* Run the request's coroutine until it yields or ends. While it runs, the
 * worker's watchdog (worker.c) knows the deadline: a handler that keeps the
 * CPU past it cannot be preempted, so the watchdog ends the worker (504 to
 * that client, the master starts a new worker). */
void conn_run(conn *c, uint64_t deadline_ms)
{
    worker *w = c->w;
    c->wait = WAIT_NONE;
    w->crash_conn = c;
    log_set_context(c->req_id, c->trace_id);   /* its lines carry its trace id */
    __atomic_store_n(&w->run_deadline_ms, deadline_ms, __ATOMIC_RELAXED);
    conn_unpark(c);
    __atomic_store_n(&w->running, 1, __ATOMIC_RELEASE);
    coro_resume(c->co);
    __atomic_store_n(&w->running, 0, __ATOMIC_RELEASE);
    w->crash_conn = NULL;
    c->yielded_ms = loop_now_ms(w->loop);
    log_set_context(NULL, NULL);
}


/* ---- the engine's own answers ------------------------------------------ */

/* Protocol-level error: answer with a JSON body and close the connection.
 * The framework's writer (api/res.c) is not involved: this is all the HTTP
 * the engine writes itself. */
void conn_error(conn *c, int status, const char *message)
{
    char body[256];
    int n;
    c->close_after = true;
    const char *id = c->in_request ? c->req_id : NULL;
    int minor = 1;
    bool head = false;
    if (id) {
        minor = c->http.minor_version;
        head = c->http.method_len == 4 && memcmp(c->http.method, "HEAD", 4) == 0;
    } else {
        /* No request yet (bad head): give the answer an id anyway. */
        static __thread char rid[17];
        snprintf(rid, sizeof rid, "%.8s%08llx", c->w->id_prefix, ++c->w->id_counter);
        id = rid;
    }
    if (status == 413)
        n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"limit\":%zu}", message,
                     c->body_limit ? c->body_limit : (size_t)KILN_DEFAULT_BODY_LIMIT);
    else
        n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", message);
    buf *o = &c->out;
    buf_puts(o, minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
    buf_put_u64(o, (unsigned)status);
    buf_putc(o, ' ');
    buf_puts(o, http_reason(status));
    buf_puts(o, "\r\nDate: ");
    buf_puts(o, http_date_now());
    buf_puts(o, "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ");
    buf_put_u64(o, (unsigned long long)n);
    buf_puts(o, "\r\nX-Request-Id: ");
    buf_puts(o, id);
    if (minor == 1) buf_puts(o, "\r\nConnection: close");
    buf_puts(o, "\r\n\r\n");
    if (!head) buf_append(o, body, (size_t)n);
    log_event(status >= 500 ? LOG_ERROR : LOG_INFO, id, "request refused",
              "\"status\":%d,\"reason\":\"%s\"", status, message);
    if (c->co && !coro_done(c->co)) c->abandoned = true;
    c->req_id = NULL;
    conn_fail(c);
}

/* Error path: answer queued, close (with lingering). */

void conn_fail(conn *c)
{
    c->close_after = true;
    c->state = CS_CLOSING;
    loop_timer_set(c->w->loop, &c->timer, loop_now_ms(c->w->loop) + c->w->opts->idle_timeout_ms);
    conn_flush(c);
}
