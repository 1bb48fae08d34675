/*
 * socket.c -- Pusher's WebSocket endpoint, /app/{key}, protocol 7, as
 * pusher-js speaks it (wsHost/wsPort, forceTLS: false):
 *
 *   server: pusher:connection_established {socket_id, activity_timeout}
 *   client: pusher:subscribe {channel, auth?, channel_data?}
 *   server: pusher_internal:subscription_succeeded (presence: the members)
 *   client: pusher:unsubscribe {channel}, pusher:ping -> pusher:pong
 *   client: client-* events on private- and presence- channels it joined,
 *           relayed to the channel's other subscribers; at most
 *           CLIENT_EVENTS_PER_S (10, Pusher's limit) per second per socket,
 *           the rest refused with 4301; never on private-encrypted-
 *           channels (end-to-end encrypted: the server cannot check them)
 *   server: every channel event {"event","channel","data": string}
 *   server: pusher:error {code, message}: 4001 unknown app key, 4007
 *           unsupported protocol (then close with that code), 4009 bad
 *           subscription signature, 4301 client event refused
 *
 * A Pusher channel is a Kiln channel (src/realtime/channel.h): one
 * channel_subscribe per joined channel, callbacks on the loop thread, no
 * coroutine per socket (the WebSocket runs in callback mode). Client events
 * and member_added/removed are published on the channel with this socket as
 * their origin, so every worker (and machine) relays them and the sender
 * does not get its own back. Presence members live in presence.c's shared
 * table, so the member list covers every worker of the machine; with
 * KILN_REDIS_URL, realtime/members.c decides member_added / member_removed
 * over every machine (it publishes them itself, once) and the member list
 * of subscription_succeeded comes from Redis: until it does, the channel's
 * events for that socket are held (QUEUED_MAX) and sent after it.
 *
 * End-to-end encrypted channels (private-encrypted-NAME) are private
 * channels to this server: the same subscription signature. The app's auth
 * endpoint (the pusher SDK's authorizeChannel with encryptionMasterKeyBase64)
 * hands the client its per-channel shared_secret; the SDK encrypts what it
 * triggers ({nonce, ciphertext}), and Kiln relays that text unread. C code
 * that publishes to such a channel must encrypt its data the same way.
 *
 * Owns: each socket's state (malloc'd at accept, freed in on_close) and its
 * subscriptions and presence slots.
 * Must never: send on a socket after its on_close, trust a subscription
 * without checking its signature, or let a client event reach a public
 * channel.
 */
#include "pusher/presence.h"
#include "pusher/pusher.h"
#include "json/json.h"
#include "realtime/channel.h"
#include "realtime/members.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"
#include "ws/session.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHANNELS_PER_SOCKET 100
#define ACTIVITY_TIMEOUT_S 120
#define CLIENT_EVENTS_PER_S 10
#define QUEUED_MAX (256u << 10)  /* events held while a member list comes   */

typedef struct psub {
    struct psub *next;
    struct psock *ps;
    channel_sub *sub;
    int presence_slot;          /* -1: not a presence channel              */
    char *uid;                  /* presence: this socket's user id (JSON)  */
    members_req *pending;       /* presence: the member list from Redis is
                                   on its way; subscription_succeeded not
                                   sent yet, channel events wait in queued */
    buf queued;
    size_t len;
    char name[];
} psub;

typedef struct psock {
    kiln_ws *ws;
    uint64_t origin;            /* the socket id as a number               */
    char socket_id[48];
    psub *subs;
    int nsubs;
    bool closed;
    uint64_t events_window_ms;  /* client events: start of the current second */
    int events_in_window;       /* ... and how many came in it             */
} psock;

static uint32_t socket_seed;
static uint32_t socket_counter;

static void send_text(psock *p, buf *b)
{
    if (!p->closed) kiln_ws_send(p->ws, KILN_WS_TEXT, b->data, b->len);
}

/* {"event":E,"channel":C,"data":D}: D is put as a JSON string holding
 * data_json (a JSON string as is: pusher-js hands its content over). */
static void put_event(buf *b, kiln_str event, const char *channel, size_t clen, kiln_str data_json)
{
    buf_puts(b, "{\"event\":");
    json_escape(b, event.ptr, event.len);
    if (channel) {
        buf_puts(b, ",\"channel\":");
        json_escape(b, channel, clen);
    }
    buf_puts(b, ",\"data\":");
    if (data_json.len && data_json.ptr[0] == '"') buf_append(b, data_json.ptr, data_json.len);
    else json_escape(b, data_json.ptr ? data_json.ptr : "{}", data_json.ptr ? data_json.len : 2);
    buf_putc(b, '}');
}

static void send_error(psock *p, int code, const char *message)
{
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "{\"event\":\"pusher:error\",\"data\":{\"code\":%d,\"message\":", code);
    json_escape(&b, message, strlen(message));
    buf_puts(&b, "}}");
    send_text(p, &b);
    buf_free(&b);
}

/* A channel event for this socket (loop thread). */
static void deliver(void *ctx, kiln_str channel, kiln_str event, kiln_str data)
{
    psub *s = ctx;
    psock *p = s->ps;
    if (p->closed || channel_event_origin() == p->origin) return;   /* not back to the sender */
    /* The same text for every subscriber: built and framed once per event
     * (ws/session.h, ws_shared), then the same bytes to each socket. */
    static buf b;
    static ws_shared shared;
    static uint64_t built_for;
    uint64_t serial = channel_event_serial();
    if (!serial || serial != built_for) {
        buf_reset_trim(&b, 64 * 1024);
        put_event(&b, event, channel.ptr, channel.len, data);
        ws_shared_reset(&shared, (kiln_str){ b.data, b.len });
        built_for = serial;
    }
    if (s->pending) {           /* after subscription_succeeded: [u32 len][text]... */
        if (s->queued.len + 4 + b.len <= QUEUED_MAX) {
            uint32_t n = (uint32_t)b.len;
            buf_append(&s->queued, &n, 4);
            buf_append(&s->queued, b.data, b.len);
        }
    } else {
        ws_session_send_shared(p->ws, &shared);
    }
}

static psub *find_sub(psock *p, const char *name, size_t len)
{
    for (psub *s = p->subs; s; s = s->next)
        if (s->len == len && !memcmp(s->name, name, len)) return s;
    return NULL;
}

static void leave(psock *p, psub *s)
{
    if (s->presence_slot >= 0) {
        members_cancel(s->pending);
        bool last = presence_leave(s->presence_slot);
        members_leave((kiln_str){ s->name, s->len }, (kiln_str){ s->uid, strlen(s->uid) }, p->origin, last);
    }
    channel_unsubscribe(s->sub);
    buf_free(&s->queued);
    free(s->uid);
    free(s);
    p->nsubs--;
}

/* Members as Pusher's subscription_succeeded wants them. */
typedef struct members { buf ids, hash; size_t n; } members;

static void add_member(void *ctx, kiln_str uid, kiln_str info)
{
    members *m = ctx;
    if (m->n++) { buf_putc(&m->ids, ','); buf_putc(&m->hash, ','); }
    buf_append(&m->ids, uid.ptr, uid.len);
    buf_append(&m->hash, uid.ptr, uid.len);
    buf_putc(&m->hash, ':');
    if (info.len) buf_append(&m->hash, info.ptr, info.len);
    else buf_puts(&m->hash, "null");
}

/* pusher_internal:subscription_succeeded with the member list: the one
 * Redis gave (shared), or this machine's table. */
static void send_presence_ok(psub *s, bool shared, const kiln_str *uids, const kiln_str *infos, size_t n)
{
    members m;
    buf_init(&m.ids, 64);
    buf_init(&m.hash, 128);
    m.n = 0;
    if (shared)
        for (size_t i = 0; i < n; i++) add_member(&m, uids[i], infos[i]);
    else
        presence_members((kiln_str){ s->name, s->len }, add_member, &m);
    buf pd, ok;
    buf_init(&pd, 128);
    buf_init(&ok, 256);
    buf_printf(&pd, "{\"presence\":{\"ids\":[%.*s],\"hash\":{%.*s},\"count\":%zu}}", (int)m.ids.len,
               m.ids.data ? m.ids.data : "", (int)m.hash.len, m.hash.data ? m.hash.data : "", m.n);
    put_event(&ok, (kiln_str){ "pusher_internal:subscription_succeeded", 38 }, s->name, s->len, (kiln_str){ pd.data, pd.len });
    send_text(s->ps, &ok);
    buf_free(&ok);
    buf_free(&pd);
    buf_free(&m.ids);
    buf_free(&m.hash);
}

/* The member list came (members.h): subscription_succeeded, then what the
 * channel delivered meanwhile, in order. */
static void on_members(void *ctx, bool shared, const kiln_str *uids, const kiln_str *infos, size_t n)
{
    psub *s = ctx;
    s->pending = NULL;
    send_presence_ok(s, shared, uids, infos, n);
    for (size_t at = 0; at + 4 <= s->queued.len;) {
        uint32_t len;
        memcpy(&len, s->queued.data + at, 4);
        if (!s->ps->closed) kiln_ws_send(s->ps->ws, KILN_WS_TEXT, s->queued.data + at + 4, len);
        at += 4 + len;
    }
    buf_free(&s->queued);
}

static bool auth_ok(const pusher_config *cf, psock *p, const char *chan, const char *channel_data, const char *auth)
{
    if (!auth) return false;
    size_t kl = strlen(cf->key);
    if (strncmp(auth, cf->key, kl) != 0 || auth[kl] != ':' || strlen(auth + kl + 1) != 64) return false;
    buf m;
    buf_init(&m, 128);
    buf_printf(&m, "%s:%s", p->socket_id, chan);
    if (channel_data) buf_printf(&m, ":%s", channel_data);
    char sig[65];
    pusher_sign(cf, m.data, m.len, sig);
    buf_free(&m);
    return sodium_memcmp(sig, auth + kl + 1, 64) == 0;
}

static void subscribe(psock *p, const pusher_config *cf, const kiln_value *d, arena *a)
{
    const char *chan = kiln_json_str(kiln_json_get(d, "channel"));
    if (!chan || !pusher_valid_channel(chan, strlen(chan))) { send_error(p, 4009, "Invalid channel name"); return; }
    size_t clen = strlen(chan);
    if (find_sub(p, chan, clen)) return;                       /* already: Pusher ignores it */
    if (p->nsubs >= MAX_CHANNELS_PER_SOCKET) { send_error(p, 4009, "Too many channels on one connection"); return; }
    bool private = !strncmp(chan, "private-", 8), presence = !strncmp(chan, "presence-", 9);
    const char *channel_data = kiln_json_str(kiln_json_get(d, "channel_data"));
    if ((private || presence) && !auth_ok(cf, p, chan, presence ? channel_data : NULL, kiln_json_str(kiln_json_get(d, "auth")))) {
        send_error(p, 4009, "Invalid signature: expected HMAC-SHA256 of socket_id:channel[:channel_data] with the app secret");
        return;
    }
    psub *s = kiln_xcalloc(1, sizeof *s + clen + 1);
    memcpy(s->name, chan, clen);
    s->len = clen;
    s->ps = p;
    s->presence_slot = -1;
    buf ok;
    buf_init(&ok, 256);
    if (presence) {
        const kiln_value *cd = channel_data ? json_parse(a, channel_data, strlen(channel_data), NULL) : NULL;
        const kiln_value *uid = kiln_json_get(cd, "user_id");
        if (!uid || (uid->type != KILN_JSON_STRING && uid->type != KILN_JSON_NUMBER)) {
            free(s);
            buf_free(&ok);
            send_error(p, 4009, "channel_data must hold a user_id");
            return;
        }
        buf u, info;
        buf_init(&u, 32);
        buf_init(&info, 64);
        json_escape(&u, uid->str, uid->len);           /* ids are strings to clients */
        jw_state w;
        jw_init(&w, &info);
        jw_value(&w, kiln_json_get(cd, "user_info"));
        buf_putc(&u, 0);
        s->uid = kiln_xstrdup(u.data);
        bool first = false;
        s->presence_slot = presence_join((kiln_str){ chan, clen }, (kiln_str){ s->uid, u.len - 1 },
                                         (kiln_str){ info.data, info.len }, &first);
        if (s->presence_slot < 0) {
            free(s->uid);
            free(s);
            buf_free(&u);
            buf_free(&info);
            buf_free(&ok);
            send_error(p, 4009, "Presence channel is full on this server");
            return;
        }
        /* Subscribed first: events after the member list's snapshot are
         * held until subscription_succeeded is out. */
        s->sub = channel_subscribe(chan, deliver, s);
        s->pending = members_join((kiln_str){ chan, clen }, (kiln_str){ s->uid, u.len - 1 },
                                  (kiln_str){ info.data, info.len }, p->origin, first, on_members, s);
        buf_free(&u);
        buf_free(&info);
        if (!s->pending) send_presence_ok(s, false, NULL, NULL, 0);
    } else {
        put_event(&ok, (kiln_str){ "pusher_internal:subscription_succeeded", 38 }, chan, clen, (kiln_str){ "{}", 2 });
        s->sub = channel_subscribe(chan, deliver, s);
    }
    s->next = p->subs;
    p->subs = s;
    p->nsubs++;
    if (ok.len) send_text(p, &ok);
    buf_free(&ok);
}

static void unsubscribe(psock *p, const kiln_value *d)
{
    const char *chan = kiln_json_str(kiln_json_get(d, "channel"));
    if (!chan) return;
    for (psub **pp = &p->subs; *pp; pp = &(*pp)->next)
        if ((*pp)->len == strlen(chan) && !memcmp((*pp)->name, chan, (*pp)->len)) {
            psub *s = *pp;
            *pp = s->next;
            leave(p, s);
            return;
        }
}

/* Pusher's per-connection limit: CLIENT_EVENTS_PER_S in any one-second
 * window (a window opens with the first event after the last one closed). */
static bool client_event_allowed(psock *p)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (!p->events_window_ms || now - p->events_window_ms >= 1000) {
        p->events_window_ms = now;
        p->events_in_window = 0;
    }
    return ++p->events_in_window <= CLIENT_EVENTS_PER_S;
}

static void client_event(psock *p, const kiln_value *m, const char *event)
{
    const char *chan = kiln_json_str(kiln_json_get(m, "channel"));
    if (!chan || (strncmp(chan, "private-", 8) && strncmp(chan, "presence-", 9))) {
        send_error(p, 4301, "Client event rejected: only private and presence channels take client events");
        return;
    }
    if (!find_sub(p, chan, strlen(chan))) { send_error(p, 4301, "Client event rejected: not subscribed to that channel"); return; }
    if (!strncmp(chan, "private-encrypted-", 18)) {
        send_error(p, 4301, "Client event rejected: client events are not supported on encrypted channels");
        return;
    }
    if (!client_event_allowed(p)) {
        send_error(p, 4301, "Client event rejected: more than 10 client events in a second");
        return;
    }
    if (strlen(event) > 200) { send_error(p, 4301, "Client event rejected: event name too long"); return; }
    buf d;
    buf_init(&d, 128);
    jw_state w;
    jw_init(&w, &d);
    const kiln_value *data = kiln_json_get(m, "data");
    if (data && data->type == KILN_JSON_STRING) buf_append(&d, data->str, data->len);   /* already text */
    else jw_value(&w, data);
    if (d.len > 10240) { buf_free(&d); send_error(p, 4301, "Client event rejected: data over 10 KiB"); return; }
    char *json = pusher_data_to_json(NULL, d.data ? d.data : "null", d.data ? d.len : 4);
    channel_publish_from((kiln_str){ chan, strlen(chan) }, (kiln_str){ event, strlen(event) }, (kiln_str){ NULL, 0 },
                         (kiln_str){ json, strlen(json) }, p->origin);
    free(json);
    buf_free(&d);
}

static void on_message(kiln_ws *ws, const kiln_ws_msg *msg)
{
    psock *p = kiln_ws_user(ws);
    const pusher_config *cf = pusher_conf();
    if (!p || p->closed || !cf) return;
    arena a;
    arena_init(&a, 2048);
    const kiln_value *m = json_parse(&a, msg->data, msg->len, NULL);
    const char *event = kiln_json_str(kiln_json_get(m, "event"));
    if (!event) { send_error(p, 4000, "Messages are JSON objects with an event"); arena_destroy(&a); return; }
    const kiln_value *d = kiln_json_get(m, "data");
    if (d && d->type == KILN_JSON_STRING) d = json_parse(&a, d->str, d->len, NULL);   /* data as a string */
    if (!strcmp(event, "pusher:ping")) {
        buf b;
        buf_init(&b, 48);
        buf_puts(&b, "{\"event\":\"pusher:pong\",\"data\":{}}");
        send_text(p, &b);
        buf_free(&b);
    } else if (!strcmp(event, "pusher:subscribe")) {
        subscribe(p, cf, d, &a);
    } else if (!strcmp(event, "pusher:unsubscribe")) {
        unsubscribe(p, d);
    } else if (!strncmp(event, "client-", 7)) {
        client_event(p, m, event);
    }
    arena_destroy(&a);
}

static void on_close(kiln_ws *ws, int code, kiln_str reason)
{
    (void)code;
    (void)reason;
    psock *p = kiln_ws_user(ws);
    if (!p) return;
    p->closed = true;
    while (p->subs) {
        psub *s = p->subs;
        p->subs = s->next;
        leave(p, s);
    }
    kiln_ws_set_user(ws, NULL);
    free(p);
}

/* GET /app/{key}?protocol=7&client=js&version=... (built-in route). */
void kiln_pusher_socket(kiln_req *req, kiln_res *res)
{
    const pusher_config *cf = pusher_conf();
    if (!cf) { kiln_error(res, 404, "Not Found"); return; }
    psock *p = kiln_xcalloc(1, sizeof *p);
    kiln_ws_opts o = { .on_message = on_message, .on_close = on_close, .user = p, .max_message = 64 * 1024 };
    kiln_ws *ws = kiln_ws_accept(req, res, &o);
    if (!ws) { free(p); return; }
    p->ws = ws;
    const char *key = kiln_query(req, "key"), *proto = kiln_query(req, "protocol");
    long v = proto ? strtol(proto, NULL, 10) : 0;
    if (!key || strcmp(key, cf->key) != 0) {
        send_error(p, 4001, "App key not in this cluster: check PUSHER_KEY");
        kiln_ws_close(ws, 4001, "Unknown app key");
        return;
    }
    if (v < 5 || v > 7) {
        send_error(p, 4007, "Unsupported protocol version: this server speaks 7");
        kiln_ws_close(ws, 4007, "Unsupported protocol version");
        return;
    }
    if (!socket_seed) {
        if (getrandom(&socket_seed, sizeof socket_seed, 0) != sizeof socket_seed) socket_seed = (uint32_t)getpid();
        socket_seed |= 1;
    }
    uint32_t n = ++socket_counter;
    p->origin = ((uint64_t)socket_seed << 32) | n;   /* = pusher_socket_origin(socket_id) */
    snprintf(p->socket_id, sizeof p->socket_id, "%u.%u", socket_seed, n);
    buf b;
    buf_init(&b, 128);
    char data[96];
    snprintf(data, sizeof data, "{\"socket_id\":\"%s\",\"activity_timeout\":%d}", p->socket_id, ACTIVITY_TIMEOUT_S);
    put_event(&b, (kiln_str){ "pusher:connection_established", 29 }, NULL, 0, (kiln_str){ data, strlen(data) });
    send_text(p, &b);
    buf_free(&b);
}
