/*
 * redis.c -- channels across machines: Redis pub/sub (KILN_REDIS_URL).
 *
 * Each worker that uses channels holds two connections to Redis, driven by
 * its own event loop through a small adapter for hiredis's asynchronous API
 * (hiredis asks to start/stop watching reads and writes; we keep one
 * level-triggered epoll registration per connection in step with that):
 *   sub  SUBSCRIBE kiln:events -- events published on other machines
 *   pub  PUBLISH kiln:events   -- events published on this machine
 * One Redis channel carries every Kiln channel (the name is inside the
 * message), so a reconnect resubscribes one thing; every machine receives
 * every event, which is what a fan-out to every machine costs anyway.
 *
 * No double delivery: channel.c delivers this machine's events through its
 * ring; the publishing worker alone forwards each one here (when it reads its
 * own record back, so per-publisher order holds on Redis too), tagged with
 * this machine's id, and messages carrying our own id are ignored on the way
 * in. Each worker of the other machines receives the message once and hands
 * it to its own subscribers.
 *
 * Message: "K1 <machine:16 hex> <channel len> <event len> <id len> <origin>\n"
 * followed by channel, event, id and data bytes (binary-safe); origin is
 * the publishing connection (channel_event_origin), 0 for none.
 *
 * Outages: a lost or refused connection is logged once (error), retried
 * with a growing delay (100 ms doubling to 5 s), logged again when it is
 * back (with how long it was away), and resubscribed. Events published
 * meanwhile still reach this machine; for other machines they are held (in
 * order, at most 1 MiB: a short restart loses nothing) and sent when the
 * publisher is back; past that bound they are dropped and counted. The
 * output buffer toward a connected but slow Redis is bounded too (8 MiB).
 *
 * Host names: getaddrinfo blocks for as long as DNS takes, so a name in
 * KILN_REDIS_URL is looked up on a thread of its own (lookup.c), one lookup
 * at a time for both connections, afresh for each (re)connect; hiredis then
 * gets the address. A lookup with no answer in LOOKUP_WAIT_MS (more for
 * the next ones while DNS is silent: lookup.c) is abandoned
 * (a DNS server that never answers holds glibc's resolver about 20 s): it
 * and a failed lookup are outages like a refused connection, retried with
 * the same backoff. Nothing waits for an abandoned lookup, not even the
 * worker's exit. An address (IPv4, or IPv6 as [::1]) connects at once.
 *
 * Shared rate limits (redis_rate, through channel_redis_rate): the
 * publisher connection also runs a small Lua script per check, from the
 * request's coroutine, which suspends until the reply or RATE_WAIT_MS; any
 * failure (down, slow, a bad reply) answers -1 and the caller counts on this
 * machine instead (warned at most every RATE_WARN_MS per worker).
 *
 * Owns: this worker's two hiredis contexts and their loop registrations.
 * Must never: block the loop (no synchronous hiredis calls, no name lookup), crash on any
 * Redis reply, or deliver an event of this machine a second time.
 */
#include "realtime/bridge.h"
#include "realtime/channel.h"
#include "realtime/lookup.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/engine.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
#define OBUF_MAX (8u << 20)
#define HELD_MAX (1u << 20)     /* events held while the publisher connects  */
#define RATE_WAIT_MS 50         /* a rate-limit check waits this long at most */
#define RATE_WARN_MS 10000      /* one fallback warning per this, per worker  */
#define LOOKUP_WAIT_MS 5000     /* a host name's lookup, then it is abandoned */

typedef struct rconn {
    loop_io io;                 /* the socket, while hiredis wants events    */
    uint32_t events;            /* EPOLLIN/EPOLLOUT hiredis asked for        */
    bool watched;
    redisAsyncContext *ac;      /* NULL while disconnected                   */
    bool up;                    /* connected (and, for sub, subscribed)      */
    bool is_sub;
    loop_timer retry;
    unsigned delay_ms;
    uint64_t down_since;        /* 0 while up                                */
    bool down_logged;
    bool resolving;             /* waits for the host name's lookup          */
    const char *name;
} rconn;

static int enabled = -1;        /* -1: not read yet                          */
static redis_url url;          /* KILN_REDIS_URL, parsed                    */
static char where[300];         /* host:port, [v6]:port, for the log         */
static loop *L;
static rconn sub_c = { .is_sub = true, .name = "subscriber" }, pub_c = { .name = "publisher" };
static bool dropping;           /* a drop was logged for this outage         */
static bool detaching;          /* worker exit: closing on purpose           */
static buf held;                /* messages waiting for the publisher to be
                                   up: [u32 length][bytes]..., at most
                                   HELD_MAX bytes, then dropped (counted)    */

bool redis_bridge_enabled(void)
{
    if (enabled < 0) {
        const char *u = getenv("KILN_REDIS_URL");
        enabled = u && *u;
        const char *why = enabled ? redis_url_parse(u, &url) : NULL;
        if (why) {
            log_event(LOG_ERROR, NULL, "KILN_REDIS_URL is not redis://[:password@]host[:port][/db]: channels stay on this machine",
                      "\"error\":\"%s\"", why);
            enabled = 0;
        }
        bool v6 = strchr(url.host, ':') != NULL;
        snprintf(where, sizeof where, "%s%s%s:%d", v6 ? "[" : "", url.host, v6 ? "]" : "", url.port);
    }
    return enabled;
}

/* ---- the message format (pure: fuzzed by tests/fuzz/fuzz_realtime.c) -- */

void redis_msg_encode(buf *out, uint64_t machine, kiln_str channel, kiln_str event, kiln_str id, kiln_str data,
                      uint64_t origin)
{
    buf_printf(out, "K1 %016" PRIx64 " %zu %zu %zu %" PRIu64 "\n", machine, channel.len, event.len, id.len, origin);
    buf_append(out, channel.ptr, channel.len);
    buf_append(out, event.ptr, event.len);
    if (id.len) buf_append(out, id.ptr, id.len);
    buf_append(out, data.ptr, data.len);
}

/* Anything Redis hands us (any client may PUBLISH on our channel): false
 * unless the head is well-formed and every length fits the body. */
bool redis_msg_decode(const char *p, size_t n, redis_msg *out)
{
    const char *nl = memchr(p, '\n', n < 128 ? n : 128);
    if (!nl || nl == p) return false;
    char head[128];
    memcpy(head, p, (size_t)(nl - p));
    head[nl - p] = 0;
    /* Digits and spaces only after "K1 ": sscanf alone would take signs. */
    if (strncmp(head, "K1 ", 3) != 0 || strspn(head + 3, "0123456789abcdef ") != (size_t)(nl - p) - 3) return false;
    uint64_t machine, origin;
    size_t cl, el, il;
    int used = 0;
    if (sscanf(head, "K1 %16" SCNx64 " %zu %zu %zu %" SCNu64 "%n", &machine, &cl, &el, &il, &origin, &used) != 5 ||
        (size_t)used != (size_t)(nl - p))
        return false;
    /* Only the one way we write it (no leading zeros, 16 hex digits). */
    char canon[128];
    int cn = snprintf(canon, sizeof canon, "K1 %016" PRIx64 " %zu %zu %zu %" PRIu64, machine, cl, el, il, origin);
    if (cn != (int)(nl - p) || memcmp(canon, head, (size_t)cn) != 0) return false;
    size_t body = n - (size_t)(nl + 1 - p);
    if (cl > body || el > body - cl || il > body - cl - el) return false;
    const char *b = nl + 1;
    out->machine = machine;
    out->origin = origin;
    out->channel = (kiln_str){ b, cl };
    out->event = (kiln_str){ b + cl, el };
    out->id = (kiln_str){ il ? b + cl + el : NULL, il };
    out->data = (kiln_str){ b + cl + el + il, body - cl - el - il };
    return true;
}

/* ---- the adapter: hiredis <-> this worker's loop -------------------- */

static void rewatch(rconn *r)
{
    if (r->watched) { loop_del(L, &r->io); r->watched = false; }
    if (r->events && r->ac) {
        r->io.fd = r->ac->c.fd;
        loop_add(L, &r->io, r->events);     /* level-triggered: hiredis reads in chunks */
        r->watched = true;
    }
}

static void ev_add_read(void *p) { rconn *r = p; if (!(r->events & EPOLLIN)) { r->events |= EPOLLIN; rewatch(r); } }
static void ev_del_read(void *p) { rconn *r = p; if (r->events & EPOLLIN) { r->events &= ~(uint32_t)EPOLLIN; rewatch(r); } }
static void ev_add_write(void *p) { rconn *r = p; if (!(r->events & EPOLLOUT)) { r->events |= EPOLLOUT; rewatch(r); } }
static void ev_del_write(void *p) { rconn *r = p; if (r->events & EPOLLOUT) { r->events &= ~(uint32_t)EPOLLOUT; rewatch(r); } }
static void ev_cleanup(void *p)
{
    rconn *r = p;
    r->events = 0;
    rewatch(r);
    r->ac = NULL;               /* hiredis frees the context after this    */
    r->up = false;
}

static void on_io(loop_io *io, uint32_t events)
{
    rconn *r = (rconn *)((char *)io - offsetof(rconn, io));
    if (r->ac && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) redisAsyncHandleRead(r->ac);
    if (r->ac && (events & EPOLLOUT)) redisAsyncHandleWrite(r->ac);
}

/* ---- connecting, losing, reconnecting ------------------------------- */

static void connect_now(rconn *r);

static void on_retry(loop_timer *t)
{
    rconn *r = (rconn *)((char *)t - offsetof(rconn, retry));
    if (L && !r->ac) connect_now(r);
}

static void went_down(rconn *r, const char *why)
{
    r->up = false;
    if (detaching || !L) return;
    if (!r->down_since) r->down_since = loop_now_ms(L);
    if (!r->down_logged) {
        log_event(LOG_ERROR, NULL, "redis unreachable: channels reach this machine only until it is back",
                  "\"connection\":\"%s\",\"redis\":\"%s\",\"error\":\"%s\"", r->name, where, why ? why : "?");
        r->down_logged = true;
    }
    r->delay_ms = r->delay_ms ? r->delay_ms * 2 : RETRY_MIN_MS;
    if (r->delay_ms > RETRY_MAX_MS) r->delay_ms = RETRY_MAX_MS;
    if (!r->retry.armed) loop_timer_set(L, &r->retry, loop_now_ms(L) + r->delay_ms);
}

static void came_up(rconn *r)
{
    unsigned was_ms = r->delay_ms;  /* the retry interval it was at: others too */
    r->up = true;
    r->delay_ms = 0;
    if (r->down_since) {
        log_event(LOG_INFO, NULL, "redis reachable again", "\"connection\":\"%s\",\"downMs\":%" PRIu64,
                  r->name, loop_now_ms(L) - r->down_since);
    }
    r->down_since = 0;
    r->down_logged = false;
    if (!r->is_sub) {
        dropping = false;
        /* What was published while we were away, in order. */
        for (size_t at = 0; at + 4 <= held.len;) {
            uint32_t n;
            memcpy(&n, held.data + at, 4);
            redisAsyncCommand(r->ac, NULL, NULL, "PUBLISH " REDIS_CHANNEL " %b", held.data + at + 4, (size_t)n);
            channel_count_redis(1, 0, 0);
            at += 4 + n;
        }
        buf_reset_trim(&held, 0);
        /* After the held events (they came first), and after one more
         * retry interval, doubled: every machine's subscriber is back. */
        members_redis_up(was_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : was_ms * 2);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rconn *r = ac->ev.data;
    if (status != REDIS_OK) went_down(r, ac->errstr);    /* hiredis frees ac next */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rconn *r = ac->ev.data;
    (void)status;
    went_down(r, ac->errstr[0] ? ac->errstr : "connection closed");
}

/* A message from another machine (or ours, ignored). */
static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    rconn *r = ac->ev.data;
    redisReply *m = reply;
    if (!m || m->type != REDIS_REPLY_ARRAY || m->elements != 3 || m->element[0]->type != REDIS_REPLY_STRING) return;
    const char *kind = m->element[0]->str;
    if (!strcmp(kind, "subscribe")) { came_up(r); return; }
    if (strcmp(kind, "message") != 0 || m->element[2]->type != REDIS_REPLY_STRING) return;
    redis_msg e;
    if (!redis_msg_decode(m->element[2]->str, m->element[2]->len, &e)) return;
    if (e.machine == channel_machine_id()) return;          /* ours: delivered by the ring */
    channel_count_redis(0, 1, 0);
    channel_deliver_local(e.channel, e.event, e.id, e.data, e.origin);
}

static void on_pong(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    redisReply *m = reply;
    if (m && m->type != REDIS_REPLY_ERROR) came_up(ac->ev.data);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    redisReply *m = reply;
    if (m && m->type == REDIS_REPLY_ERROR)
        log_event(LOG_ERROR, NULL, "redis refused the password of KILN_REDIS_URL", "\"error\":\"%s\"", m->str);
    (void)ac;
}

static void connect_to(rconn *r, const char *addr);

/* The loop thread, the lookup answered or abandoned: connect who waited
 * for it. A fresh lookup for every (re)connection: an address that moved
 * is followed. */
static void lookup_done(const char *addr, const char *err)
{
    rconn *rs[2] = { &sub_c, &pub_c };
    for (int i = 0; i < 2; i++) {
        rconn *r = rs[i];
        if (!r->resolving) continue;
        r->resolving = false;
        if (!L || r->ac) continue;                      /* detached meanwhile */
        if (!addr) {
            char why[400];
            snprintf(why, sizeof why, "cannot resolve %s: %s", url.host, err);
            went_down(r, why);
        } else {
            connect_to(r, addr);
        }
    }
}

/* Connect r: at once to an address; a host name is looked up first on a
 * thread of lookup.c's (never on the loop), then lookup_done connects. */
static void connect_now(rconn *r)
{
    if (url.numeric || !kiln_current_worker) {   /* an address; or no worker (tools): hiredis looks it up */
        connect_to(r, url.host);
        return;
    }
    r->resolving = true;
    if (lookup_busy()) return;           /* the one under way serves both */
    lookup_start(L, url.host, LOOKUP_WAIT_MS, lookup_done);
}

static void connect_to(rconn *r, const char *addr)
{
    redisAsyncContext *ac = redisAsyncConnect(addr, url.port);
    if (!ac) KILN_PANIC("redisAsyncConnect: out of memory");
    if (ac->err) {
        went_down(r, ac->errstr);
        redisAsyncFree(ac);
        return;
    }
    r->ac = ac;
    r->io.on_event = on_io;
    r->events = 0;
    ac->ev.data = r;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (url.password[0]) redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", url.password);
    if (url.db) redisAsyncCommand(ac, NULL, NULL, "SELECT %d", url.db);    /* keys: rate limits, members */
    if (r->is_sub) redisAsyncCommand(ac, on_message, NULL, "SUBSCRIBE " REDIS_CHANNEL);
    else redisAsyncCommand(ac, on_pong, NULL, "PING");
}

void redis_bridge_attach(loop *l)
{
    if (L) return;
    L = l;
    sub_c.retry.on_fire = on_retry;
    pub_c.retry.on_fire = on_retry;
    sub_c.retry.heap_index = pub_c.retry.heap_index = -1;
    connect_now(&sub_c);
    connect_now(&pub_c);
    members_attach(l);
}

struct redisAsyncContext *redis_bridge_pub(void)
{
    return pub_c.ac && pub_c.up && sdslen(pub_c.ac->c.obuf) <= OBUF_MAX ? pub_c.ac : NULL;
}

void redis_bridge_publish(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin)
{
    rconn *r = &pub_c;
    buf m;
    buf_init(&m, 64 + channel.len + event.len + id.len + data.len);
    redis_msg_encode(&m, channel_machine_id(), channel, event, id, data, origin);
    if (r->ac && r->up && held.len == 0) {
        if (sdslen(r->ac->c.obuf) <= OBUF_MAX) {
            redisAsyncCommand(r->ac, NULL, NULL, "PUBLISH " REDIS_CHANNEL " %b", m.data, m.len);
            channel_count_redis(1, 0, 0);
        } else {
            channel_count_redis(0, 0, 1);      /* Redis is not reading fast enough */
            if (!dropping) log_event(LOG_WARN, NULL, "redis is slow: events to other machines dropped", NULL);
            dropping = true;
        }
    } else if (held.len + 4 + m.len <= HELD_MAX) {
        /* Connecting, or Redis is away for a moment: hold it, in order. */
        uint32_t n = (uint32_t)m.len;
        buf_append(&held, &n, 4);
        buf_append(&held, m.data, m.len);
    } else {
        channel_count_redis(0, 0, 1);
        if (!dropping) {
            log_event(LOG_WARN, NULL, "redis unreachable for a while: events to other machines dropped",
                      "\"channel\":\"%.*s\",\"held\":%zu", (int)(channel.len > 200 ? 200 : channel.len),
                      channel.ptr, held.len);
            dropping = true;
        }
    }
    buf_free(&m);
}

/* ---- shared rate limits ------------------------------------------- */

/* A fixed window, as the local table counts: KEYS[1] counts, expiring when
 * the window ends. ARGV: op (0 hit, 1 peek, 2 reset), limit, window ms.
 * Returns 0 when allowed, else the ms until the window ends. */
static const char rate_script[] =
    "local op=tonumber(ARGV[1]) "
    "if op==2 then redis.call('DEL',KEYS[1]) return 0 end "
    "local n=tonumber(redis.call('GET',KEYS[1]) or '0') "
    "if n>=tonumber(ARGV[2]) then "
    "  local t=redis.call('PTTL',KEYS[1]) "
    "  if t<0 then redis.call('PEXPIRE',KEYS[1],ARGV[3]) t=tonumber(ARGV[3]) end "
    "  return t end "
    "if op==0 then "
    "  if redis.call('INCR',KEYS[1])==1 then redis.call('PEXPIRE',KEYS[1],ARGV[3]) end "
    "end "
    "return 0";

/* One check in flight. Malloc'd: when the request stops waiting (timeout,
 * 504) before the reply, the reply callback still owns it and frees it. */
typedef struct rate_wait {
    conn *c;                    /* NULL once the request stopped waiting  */
    bool done, ok;
    long long ms;
} rate_wait;

static uint64_t rate_warned_at; /* loop ms of the last fallback warning   */

static void rate_warn(const char *why)
{
    uint64_t now = wait_now_ms();
    if (rate_warned_at && now - rate_warned_at < RATE_WARN_MS) return;
    rate_warned_at = now;
    log_event(LOG_WARN, NULL, "redis rate limits unavailable: counting on this machine",
              "\"reason\":\"%s\",\"redis\":\"%s\"", why, where);
}

static void on_rate(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    rate_wait *w = priv;
    redisReply *m = reply;
    w->done = true;
    w->ok = m && m->type == REDIS_REPLY_INTEGER;
    if (w->ok) w->ms = m->integer;
    if (!w->c) { free(w); return; }     /* nobody waits any more */
    wait_wake_at(w->c, 0);
}

int redis_rate(const char *key, size_t klen, unsigned limit, unsigned window_s, int op, unsigned *wait_s)
{
    conn *c = wait_self();
    rconn *r = &pub_c;
    if (!c) return -1;                  /* not on a request: count locally */
    if (!r->ac || !r->up) { rate_warn("unreachable"); return -1; }
    if (sdslen(r->ac->c.obuf) > OBUF_MAX) { rate_warn("slow"); return -1; }
    rate_wait *w = calloc(1, sizeof *w);
    if (!w) KILN_PANIC("out of memory");
    w->c = c;
    redisAsyncCommand(r->ac, on_rate, w, "EVAL %s 1 kiln:rl:%b %d %u %llu", rate_script, key, klen, op, limit,
                      (unsigned long long)window_s * 1000);
    if (!w->done) {
        wait_wake_at(c, wait_now_ms() + RATE_WAIT_MS);
        wait_suspend(WAIT_SLEEP);
        wait_wake_cancel(c);
    }
    if (!w->done) { w->c = NULL; rate_warn("timeout"); return -1; }     /* the callback frees it */
    bool ok = w->ok;
    long long ms = w->ms;
    free(w);
    if (!ok) { rate_warn("bad reply"); return -1; }
    *wait_s = ms > 0 ? (unsigned)((ms + 999) / 1000) : 0;
    return 0;
}

void redis_bridge_detach(void)
{
    if (!L) return;
    detaching = true;           /* the frees below call back: no retries */
    lookup_detach();            /* a lookup under way is abandoned, not waited for */
    sub_c.resolving = pub_c.resolving = false;
    members_detach();
    rconn *rs[2] = { &sub_c, &pub_c };
    for (int i = 0; i < 2; i++) {
        loop_timer_cancel(L, &rs[i]->retry);
        /* What is still queued (a stopping worker's presence leaves) goes
         * out if the socket takes it now: a few non-blocking writes. */
        int done = 0;
        for (int k = 0; k < 8 && rs[i]->ac && rs[i]->up && !done; k++)
            if (redisBufferWrite(&rs[i]->ac->c, &done) != REDIS_OK) break;
        if (rs[i]->ac) redisAsyncFree(rs[i]->ac);
    }
    L = NULL;
    detaching = false;
    buf_free(&held);
}
