/*
 * channel.c -- channels: publish anywhere, deliver everywhere (this machine).
 *
 * How an event travels. kiln_publish() appends one record to the machine
 * ring, a byte ring in memory shared by the master and every worker (mapped
 * MAP_SHARED before the first fork, by a constructor, so every process of the
 * server inherits it), then writes 1 to an eventfd that every worker watches
 * (edge-triggered, and nobody ever reads it: each write raises a new edge in
 * every epoll set that watches it, so one write wakes all workers). Each
 * worker keeps its own read cursor and, on its loop thread, copies out what
 * is new and calls its local subscribers. The publisher's own worker reads
 * its own records the same way, so there is one path and one order.
 *
 * Why this and not the master relaying over socketpairs: a relay costs two
 * copies and two extra syscalls per event per worker, puts the master (which
 * today only waits for signals) on the hot path, and needs a queue per
 * worker in the master that must be bounded anyway. The ring costs one copy
 * in and one copy out per worker, one eventfd write per publish, and no
 * process in the middle; it is also callable from any thread (offload pool)
 * and from the master. Measured (bench/channels_bench.c, the shared 2-core
 * box): 460,000 events/s of 100 bytes from one process to another, and one
 * event reaches 10,000 subscribers of a worker in 0.4 ms. The relay was not
 * built to compare; its extra hop is the cost it would add.
 *
 * Bounds. The ring has a fixed size (KILN_CHANNEL_BUFFER, default 4 MiB).
 * Publishers never wait for readers: a worker that stalls (a handler that
 * keeps the CPU, a debugger) falls behind, its unread records are
 * overwritten, and when it wakes it notices (cursor more than a ring behind
 * the writer), skips to the present, logs how many events it lost and counts
 * them. Nobody else buffers anything for it. One event is at most 1 MiB (and
 * at most a quarter of the ring); larger ones are refused, logged, counted.
 *
 * Order. Records are appended under one process-shared robust mutex (a
 * worker that dies holding it cannot wedge the others), and every reader
 * reads them in ring order, so events of one publisher arrive in publish
 * order everywhere; events of different publishers arrive in one global
 * order too.
 *
 * Other machines (KILN_REDIS_URL): the worker that published a record, when
 * it reads it back from the ring, hands it to redis.c, which publishes it
 * with this machine's id; records coming back from Redis with our own id are
 * ignored there. So local delivery never depends on Redis and nothing is
 * delivered twice.
 *
 * Owns: the ring mapping and the eventfd (process-wide, inherited), and this
 * worker's subscription table (channel name -> list of subscriptions).
 * Must never: call a subscriber off the loop thread, hold the ring mutex
 * while calling anyone, or let one worker's backlog grow another's memory.
 */
#include "realtime/channel.h"
#include "realtime/bridge.h"
#include "realtime/occupancy.h"
#include "realtime/shm.h"
#include "runtime/log.h"
#include "json/json.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_DEFAULT (4u << 20)
#define RING_MIN (64u << 10)
#define EVENT_MAX (1u << 20)

/* ---- the machine ring (shared memory) -------------------------------- */

typedef struct ring {
    pthread_mutex_t mu;      /* process-shared, robust                       */
    uint64_t wpos;           /* bytes ever written (cursor of the writer)    */
    uint64_t wseq;           /* records ever written                         */
    uint64_t machine_id;     /* random, names this machine to Redis          */
    uint64_t cap;            /* bytes of data[]                              */
    char data[];
} ring;

typedef struct rec_hdr {
    uint32_t size;           /* the whole record, header included, padded to 8 */
    int32_t pid;             /* the publishing process                       */
    uint32_t chan_len, event_len, data_len;
    uint32_t id_len;         /* optional event id (SSE id:), after the data  */
    uint32_t machine_only;   /* 1: never forwarded to Redis (presence events
                                decided during a Redis outage, members.c)   */
    uint64_t seq;            /* wseq when written                            */
    uint64_t origin_conn;    /* the publishing connection, for "not to the
                                sender" (Pusher socket ids); 0: none         */
} rec_hdr;

static ring *R;
static int ring_efd = -1;

__attribute__((constructor)) static void ring_create(void)
{
    uint64_t cap = RING_DEFAULT;
    const char *e = getenv("KILN_CHANNEL_BUFFER");
    if (e && *e) {
        char *end;
        unsigned long long v = strtoull(e, &end, 10);
        if (!*end && v >= RING_MIN && v <= (1ull << 32)) cap = v & ~7ull;
    }
    R = shm_table(sizeof(ring) + cap, "channel ring");
    R->cap = cap;
    if (getrandom(&R->machine_id, sizeof R->machine_id, 0) != sizeof R->machine_id)
        R->machine_id = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)R;
    ring_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ring_efd < 0) KILN_PANIC("channel ring: eventfd failed");
}

/* wpos moves last, so a publisher that died holding the lock left nothing
 * half-done in sight. */
static void ring_lock(void) { shm_lock(&R->mu, "channel ring"); }

static void ring_put(uint64_t pos, const void *src, size_t n)
{
    uint64_t at = pos % R->cap;
    size_t first = n < R->cap - at ? n : (size_t)(R->cap - at);
    memcpy(R->data + at, src, first);
    memcpy(R->data, (const char *)src + first, n - first);
}

static void ring_get(uint64_t pos, void *dst, size_t n)
{
    uint64_t at = pos % R->cap;
    size_t first = n < R->cap - at ? n : (size_t)(R->cap - at);
    memcpy(dst, R->data + at, first);
    memcpy((char *)dst + first, R->data, n - first);
}

uint64_t channel_machine_id(void) { return R->machine_id; }

/* ---- this process's counters and reader state ------------------------ */

static channel_stats stats;
static loop_io ring_io = { .fd = -1 };
static loop *attached;               /* this worker's loop, once attached     */
static loop *worker_loop;            /* this worker's loop (channel_worker_start) */
static uint64_t rpos, rseq;          /* our read cursor                       */
static buf scratch;                  /* records copied out of the ring        */
static kiln_str current_id;          /* id of the event being delivered       */
static uint64_t current_origin;      /* ... and its origin                    */
static uint64_t current_serial;      /* ... and its number (channel_event_serial) */
static uint64_t serials;             /* deliveries made by this process       */
static channel_deliver_fn observer;
static void *observer_ctx;

void channel_stats_get(channel_stats *out) { *out = stats; }
void channel_set_observer(channel_deliver_fn fn, void *ctx) { observer = fn; observer_ctx = ctx; }

void channel_count_redis(int out, int in, int dropped)
{
    stats.redis_out += (uint64_t)out;
    stats.redis_in += (uint64_t)in;
    stats.redis_dropped += (uint64_t)dropped;
}

/* Workers run their loop on the process's main thread; offload threads and
 * anything else are other threads. */
static bool on_loop_thread(void)
{
    return worker_loop && (pid_t)syscall(SYS_gettid) == getpid();
}

/* ---- this worker's subscriptions ------------------------------------- */

typedef struct chan chan;
struct channel_sub {
    chan *ch;
    channel_sub *prev, *next;
    channel_deliver_fn fn;      /* NULL once unsubscribed during a delivery   */
    void *ctx;
};

struct chan {
    chan *next;                 /* hash bucket chain                          */
    channel_sub *subs;          /* newest first                               */
    size_t live;                /* subscriptions not yet unsubscribed         */
    int delivering;             /* > 0: list walked now, unlink later         */
    bool has_dead;
    int occ;                    /* slot in the machine's occupancy table    */
    size_t len;
    char name[];
};

static chan **table;
static size_t nbuckets, nchans, nsubs;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static chan **slot_of(const char *name, size_t len)
{
    if (!nbuckets) return NULL;
    chan **pp = &table[hash(name, len) & (nbuckets - 1)];
    while (*pp && !((*pp)->len == len && memcmp((*pp)->name, name, len) == 0)) pp = &(*pp)->next;
    return pp;
}

static void grow(void)
{
    size_t n = nbuckets ? nbuckets * 2 : 64;
    chan **t = kiln_xcalloc(n, sizeof *t);
    for (size_t i = 0; i < nbuckets; i++)
        for (chan *c = table[i], *next; c; c = next) {
            next = c->next;
            chan **b = &t[hash(c->name, c->len) & (n - 1)];
            c->next = *b;
            *b = c;
        }
    free(table);
    table = t;
    nbuckets = n;
}

static void chan_free_if_empty(chan *c)
{
    if (c->live || c->delivering) return;
    chan **pp = slot_of(c->name, c->len);
    KILN_ASSERT(pp && *pp == c);
    *pp = c->next;
    occupancy_release(c->occ);
    free(c);
    if (--nchans == 0) {          /* nothing left: give the table back too */
        free(table);
        table = NULL;
        nbuckets = 0;
    }
}

static void sweep(chan *c)
{
    for (channel_sub *s = c->subs, *next; s; s = next) {
        next = s->next;
        if (s->fn) continue;
        if (s->prev) s->prev->next = s->next; else c->subs = s->next;
        if (s->next) s->next->prev = s->prev;
        free(s);
    }
    c->has_dead = false;
}

void channel_attach(loop *l);

channel_sub *channel_subscribe(const char *channel, channel_deliver_fn fn, void *ctx)
{
    KILN_ASSERT(channel && fn);
    if (worker_loop && !attached) channel_attach(worker_loop);
    size_t len = strlen(channel);
    chan **pp = slot_of(channel, len);
    if (!pp || !*pp) {
        if (nchans + 1 > nbuckets) grow();
        pp = slot_of(channel, len);
        chan *c = kiln_xcalloc(1, sizeof *c + len + 1);
        memcpy(c->name, channel, len);
        c->len = len;
        c->occ = occupancy_claim((kiln_str){ channel, len });
        *pp = c;
        nchans++;
    }
    chan *c = *pp;
    channel_sub *s = kiln_xcalloc(1, sizeof *s);
    s->ch = c;
    s->fn = fn;
    s->ctx = ctx;
    s->next = c->subs;
    if (c->subs) c->subs->prev = s;
    c->subs = s;
    c->live++;
    occupancy_set(c->occ, c->live);
    nsubs++;
    return s;
}

void channel_unsubscribe(channel_sub *s)
{
    if (!s) return;
    chan *c = s->ch;
    KILN_ASSERT(s->fn && c->live > 0);
    c->live--;
    occupancy_set(c->occ, c->live);
    nsubs--;
    if (c->delivering) {          /* the list is being walked: unlink later */
        s->fn = NULL;
        c->has_dead = true;
        return;
    }
    if (s->prev) s->prev->next = s->next; else c->subs = s->next;
    if (s->next) s->next->prev = s->prev;
    free(s);
    chan_free_if_empty(c);
}

size_t channel_local_subs(void) { return nsubs; }

size_t channel_local_count(const char *channel)
{
    chan **pp = slot_of(channel, strlen(channel));
    return pp && *pp ? (*pp)->live : 0;
}

void channel_deliver_local(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin)
{
    /* A subscriber may cause a delivery inside this one (nested): the
     * outer event's number comes back after it. */
    uint64_t outer_serial = current_serial;
    current_id = id;
    current_origin = origin;
    current_serial = ++serials;
    if (observer) observer(observer_ctx, channel, event, data);
    chan **pp = slot_of(channel.ptr, channel.len);
    if (!pp || !*pp) { current_id = (kiln_str){ NULL, 0 }; current_serial = outer_serial; return; }
    chan *c = *pp;
    c->delivering++;
    /* Subscriptions added during the walk go to the head: not called now. */
    for (channel_sub *s = c->subs; s; s = s->next)
        if (s->fn) { stats.delivered++; s->fn(s->ctx, channel, event, data); }
    c->delivering--;
    if (!c->delivering && c->has_dead) sweep(c);
    chan_free_if_empty(c);
    current_id = (kiln_str){ NULL, 0 };
    current_serial = outer_serial;
}

/* ---- publishing and reading the ring --------------------------------- */

kiln_str channel_event_id(void) { return current_id; }
uint64_t channel_event_origin(void) { return current_origin; }
uint64_t channel_event_serial(void) { return current_serial; }

bool channel_publish(kiln_str channel, kiln_str event, kiln_str data)
{
    return channel_publish_id(channel, event, (kiln_str){ NULL, 0 }, data);
}

bool channel_publish_id(kiln_str channel, kiln_str event, kiln_str id, kiln_str data)
{
    return channel_publish_from(channel, event, id, data, 0);
}

bool channel_publish_from(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin)
{
    return channel_publish_rec(channel, event, id, data, origin, false);
}

bool channel_publish_rec(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin,
                         bool machine_only)
{
    size_t body = channel.len + event.len + data.len + id.len;
    size_t size = (sizeof(rec_hdr) + body + 7) & ~(size_t)7;
    if (body > EVENT_MAX || size > R->cap / 4) {
        stats.too_big++;
        log_event(LOG_ERROR, NULL, "event too large to publish: dropped",
                  "\"channel\":\"%.*s\",\"bytes\":%zu", (int)(channel.len > 200 ? 200 : channel.len),
                  channel.ptr, body);
        return false;
    }
    if (!attached && on_loop_thread()) channel_attach(worker_loop);
    rec_hdr h = { .size = (uint32_t)size, .pid = (int32_t)getpid(), .chan_len = (uint32_t)channel.len,
                  .event_len = (uint32_t)event.len, .data_len = (uint32_t)data.len,
                  .id_len = (uint32_t)id.len, .machine_only = machine_only, .origin_conn = origin };
    ring_lock();
    uint64_t pos = R->wpos;
    h.seq = R->wseq;
    ring_put(pos, &h, sizeof h);
    pos += sizeof h;
    ring_put(pos, channel.ptr, channel.len);
    pos += channel.len;
    ring_put(pos, event.ptr, event.len);
    pos += event.len;
    ring_put(pos, data.ptr, data.len);
    pos += data.len;
    if (id.len) ring_put(pos, id.ptr, id.len);
    R->wseq++;
    __atomic_store_n(&R->wpos, R->wpos + size, __ATOMIC_RELEASE);   /* last: the record exists */
    pthread_mutex_unlock(&R->mu);
    stats.published++;
    uint64_t one = 1;
    if (write(ring_efd, &one, sizeof one) < 0) { /* counter full: impossible in practice */ }
    return true;
}

void kiln_publish_id(const char *channel, const char *event, const char *id, const char *json)
{
    KILN_ASSERT(channel && event);
    if (!json) json = "null";
    channel_publish_id((kiln_str){ channel, strlen(channel) }, (kiln_str){ event, strlen(event) },
                       (kiln_str){ id, id ? strlen(id) : 0 }, (kiln_str){ json, strlen(json) });
}

/* ---- kiln.h: subscribing from C code ------------------------------------ */

struct kiln_channel_sub {
    channel_sub *sub;
    kiln_channel_fn fn;
    void *ctx;
};

static void forward(void *ctx, kiln_str channel, kiln_str event, kiln_str data_json)
{
    kiln_channel_sub *k = ctx;
    (void)channel;
    k->fn(k->ctx, event, data_json);    /* may unsubscribe k: not touched after */
}

kiln_channel_sub *kiln_channel_subscribe(const char *channel, kiln_channel_fn fn, void *ctx)
{
    kiln_channel_sub *k = kiln_xcalloc(1, sizeof *k);
    k->fn = fn;
    k->ctx = ctx;
    k->sub = channel_subscribe(channel, forward, k);
    return k;
}

void kiln_channel_unsubscribe(kiln_channel_sub *k)
{
    if (!k) return;
    channel_unsubscribe(k->sub);
    free(k);
}

void kiln_publish(const char *channel, const char *event, const char *json)
{
    kiln_publish_id(channel, event, NULL, json);
}

static void fmt_json(buf *out, const char *tmpl, va_list *ap)
{
    jw_state w;
    jw_init(&w, out);
    jw_fmt(&w, tmpl, ap);
    buf_putc(out, '\0');
}

/* Template to JSON text: into the request's arena, or (req NULL) publish
 * it right away. */
static char *json_from(kiln_req *req, const char *channel, const char *event, const char *tmpl, va_list *ap)
{
    buf out;
    buf_init(&out, 256);
    fmt_json(&out, tmpl, ap);
    char *s = req ? kiln_strndup(req, out.data, out.len - 1) : NULL;
    if (!req) kiln_publish(channel, event, out.data);
    buf_free(&out);
    return s;
}

void kiln_publishf(const char *channel, const char *event, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    json_from(NULL, channel, event, tmpl, &ap);
    va_end(ap);
}

char *kiln_json_fmt(kiln_req *req, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    char *s = json_from(req, NULL, NULL, tmpl, &ap);
    va_end(ap);
    return s;
}

static void deliver_records(const char *p, size_t n)
{
    pid_t me = getpid();
    bool bridge = redis_bridge_enabled();
    while (n >= sizeof(rec_hdr)) {
        rec_hdr h;
        memcpy(&h, p, sizeof h);
        KILN_ASSERT(h.size >= sizeof h && h.size <= n);
        if (h.seq != rseq) {          /* cannot happen under the lock; say so if it does */
            stats.lost += h.seq > rseq ? h.seq - rseq : 0;
            log_event(LOG_WARN, NULL, "channel ring: sequence gap", "\"expected\":%llu,\"got\":%llu",
                      (unsigned long long)rseq, (unsigned long long)h.seq);
        }
        rseq = h.seq + 1;
        const char *b = p + sizeof h;
        kiln_str ch = { b, h.chan_len }, ev = { b + h.chan_len, h.event_len },
                 data = { b + h.chan_len + h.event_len, h.data_len },
                 id = { h.id_len ? b + h.chan_len + h.event_len + h.data_len : NULL, h.id_len };
        if (bridge && h.pid == me && !h.machine_only) redis_bridge_publish(ch, ev, id, data, h.origin_conn);
        channel_deliver_local(ch, ev, id, data, h.origin_conn);
        p += h.size;
        n -= h.size;
    }
}

static void ring_drain(void)
{
    for (;;) {
        ring_lock();
        uint64_t w = R->wpos, ws = R->wseq;
        if (w == rpos) { pthread_mutex_unlock(&R->mu); break; }
        if (w - rpos > R->cap) {
            /* We fell more than a ring behind: what we had not read is gone. */
            uint64_t lost = ws - rseq;
            rpos = w;
            rseq = ws;
            pthread_mutex_unlock(&R->mu);
            stats.lost += lost;
            log_event(LOG_WARN, NULL, "channel: this worker fell behind; events lost",
                      "\"lost\":%llu,\"lostTotal\":%llu", (unsigned long long)lost,
                      (unsigned long long)stats.lost);
            continue;
        }
        size_t n = (size_t)(w - rpos);
        scratch.len = 0;
        buf_reserve(&scratch, n);
        ring_get(rpos, scratch.data, n);
        pthread_mutex_unlock(&R->mu);
        rpos = w;
        deliver_records(scratch.data, n);
    }
    buf_reset_trim(&scratch, 64 * 1024);
}

static void on_ring(loop_io *io, uint32_t events)
{
    (void)io;
    (void)events;
    ring_drain();
}

/* Start reading the ring on this loop (the worker's, lazily: on its first
 * subscription or publish). Events published before are not ours. */
void channel_attach(loop *l)
{
    if (attached) return;
    ring_lock();
    rpos = R->wpos;
    rseq = R->wseq;
    pthread_mutex_unlock(&R->mu);
    ring_io.fd = ring_efd;
    ring_io.on_event = on_ring;
    loop_add(l, &ring_io, EPOLLIN | EPOLLET);
    attached = l;
    if (redis_bridge_enabled()) redis_bridge_attach(l);
}

int channel_redis_rate(const char *key, size_t klen, unsigned limit, unsigned window_s, int op, unsigned *wait_s)
{
    if (!redis_bridge_enabled()) return -1;
    if (!attached) {
        if (!worker_loop) return -1;    /* not in a worker: count locally */
        channel_attach(worker_loop);    /* connects; this first check is local */
    }
    return redis_rate(key, klen, limit, window_s, op, wait_s);
}

/* Stop reading (tests, and a worker's exit). */
void channel_detach(void)
{
    if (!attached) return;
    if (redis_bridge_enabled()) redis_bridge_detach();
    loop_del(attached, &ring_io);
    attached = NULL;
    buf_free(&scratch);
}

/* Registered by the app layer as engine hooks (app/app.c): the engine
 * itself knows nothing of channels. */
void channel_worker_start(loop *l)
{
    worker_loop = l;
    /* With Redis, connect now: shared rate limits need it from the first
     * request, not from the first subscription. */
    if (redis_bridge_enabled()) channel_attach(l);
}

void channel_worker_exit(void)
{
    channel_detach();
    worker_loop = NULL;
}
