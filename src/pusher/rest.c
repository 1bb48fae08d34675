/*
 * rest.c -- Pusher's HTTP API, as the `pusher` npm SDK calls it:
 *
 *   POST /apps/{app_id}/events          trigger one event on 1..100 channels
 *   POST /apps/{app_id}/batch_events    up to 10 events
 *   GET  /apps/{app_id}/channels        occupied channels (filter_by_prefix, info)
 *   GET  /apps/{app_id}/channels/{name} one channel (info=subscription_count,user_count)
 *   GET  /apps/{app_id}/channels/{name}/users   members of a presence channel
 *
 * Every request is signed (Pusher's "authenticating requests"): the query
 * holds auth_key, auth_timestamp (within 600 s of now), auth_version=1.0,
 * body_md5 (POST: MD5 of the body) and auth_signature, the hex
 * HMAC-SHA256, keyed by the app secret, of
 *     METHOD \n PATH \n every other query parameter, sorted by key, "k=v&..."
 * Anything wrong there: 401 {"error": ...}. Unknown app id: 404.
 *
 * A trigger is a kiln_publish on each channel: Kiln's own subscribers (C,
 * SSE, WebSocket) and Pusher clients get it alike. Occupancy comes from the
 * machine's shared table (src/realtime/occupancy.c), so any worker answers
 * for all of them. Presence members (users, user_count, and presence
 * channels occupied on other machines) come from Redis when KILN_REDIS_URL
 * is set (every machine's, src/realtime/members.c), else, or when Redis
 * does not answer, from this machine's tables.
 *
 * Owns: nothing beyond the request.
 * Must never: publish anything from a request whose signature did not check
 * out, or accept a body whose MD5 differs from body_md5.
 */
#include "pusher/presence.h"
#include "pusher/pusher.h"
#include "realtime/channel.h"
#include "realtime/members.h"
#include "realtime/occupancy.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TIMESTAMP_SKEW 600
#define MAX_EVENT_DATA 10240       /* Pusher's limit on one event's data    */
#define MAX_QUERY_PARAMS 32

typedef struct qparam { const char *key, *value; } qparam;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoded copy ('+' stays: the SDK signs values as it sends them). */
static char *decode(kiln_req *req, const char *s, size_t n)
{
    char *o = kiln_alloc(req, n + 1), *p = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *p++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = 0;
    return o;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const qparam *)a)->key, ((const qparam *)b)->key);
}

/* Check the request's signature; answers 401/404 and returns false when
 * it does not hold. */
static bool authentic(kiln_req *req, kiln_res *res, const pusher_config *cf)
{
    const char *app = kiln_query(req, "app_id");
    if (!app || strcmp(app, cf->app_id) != 0) { kiln_error(res, 404, "Unknown app"); return false; }
    qparam p[MAX_QUERY_PARAMS];
    size_t n = 0;
    const char *sig = NULL, *key = NULL, *ts = NULL, *ver = NULL, *md5 = NULL;
    for (const char *q = req->query_string; *q;) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        if (len) {
            if (n == MAX_QUERY_PARAMS) { kiln_error(res, 401, "Too many query parameters"); return false; }
            size_t kl = eq ? (size_t)(eq - q) : len;
            p[n].key = decode(req, q, kl);
            p[n].value = eq ? decode(req, eq + 1, len - kl - 1) : "";
            const char *k = p[n].key;
            if (!strcmp(k, "auth_signature")) { sig = p[n].value; }
            else {
                if (!strcmp(k, "auth_key")) key = p[n].value;
                else if (!strcmp(k, "auth_timestamp")) ts = p[n].value;
                else if (!strcmp(k, "auth_version")) ver = p[n].value;
                else if (!strcmp(k, "body_md5")) md5 = p[n].value;
                n++;
            }
        }
        q += len;
        if (*q == '&') q++;
    }
    if (!key || !ts || !ver || !sig) { kiln_error(res, 401, "Missing auth_key, auth_timestamp, auth_version or auth_signature"); return false; }
    if (strcmp(key, cf->key) != 0) { kiln_error(res, 401, "Unknown auth_key"); return false; }
    if (strcmp(ver, "1.0") != 0) { kiln_error(res, 401, "Unsupported auth_version"); return false; }
    char *end;
    long long t = strtoll(ts, &end, 10);
    long long now = (long long)time(NULL);
    if (*end || t < now - MAX_TIMESTAMP_SKEW || t > now + MAX_TIMESTAMP_SKEW) {
        kiln_error(res, 401, "Timestamp expired: not within 600 s of the server's time");
        return false;
    }
    if (req->body.len || !strcmp(req->method, "POST")) {
        char want[33];
        pusher_md5_hex(req->body.ptr ? req->body.ptr : "", req->body.len, want);
        if (!md5 || strcmp(md5, want) != 0) { kiln_error(res, 401, "body_md5 does not match the body"); return false; }
    }
    qsort(p, n, sizeof *p, by_key);
    buf s;
    buf_init(&s, 256);
    buf_puts(&s, req->method);
    buf_putc(&s, '\n');
    buf_puts(&s, req->path);
    buf_putc(&s, '\n');
    for (size_t i = 0; i < n; i++) buf_printf(&s, "%s%s=%s", i ? "&" : "", p[i].key, p[i].value);
    char mac[65];
    pusher_sign(cf, s.data, s.len, mac);
    buf_free(&s);
    if (strlen(sig) != 64 || sodium_memcmp(mac, sig, 64) != 0) {
        kiln_error(res, 401, "Invalid signature: you should have sent HmacSHA256Hex(\"METHOD\\nPATH\\nSORTED_QUERY\", secret)");
        return false;
    }
    return true;
}

static const pusher_config *enabled(kiln_req *req, kiln_res *res)
{
    const pusher_config *cf = pusher_conf();
    if (!cf) { kiln_error(res, 404, "Not Found"); return NULL; }
    return authentic(req, res, cf) ? cf : NULL;
}

/* One event: checked whole before anything is published. NULL when fine,
 * else the error (400/413 by *status). */
static const char *check_event(const kiln_value *ev, const kiln_value *channels, int *status)
{
    *status = 400;
    const kiln_value *name = kiln_json_get(ev, "name"), *data = kiln_json_get(ev, "data");
    if (!name || name->type != KILN_JSON_STRING || name->len == 0 || name->len > 200) return "name must be a string of 1 to 200 bytes";
    if (!data || data->type != KILN_JSON_STRING) return "data must be a string";
    if (data->len > MAX_EVENT_DATA) { *status = 413; return "data is larger than 10 KiB"; }
    if (!channels || channels->len == 0 || channels->len > 100) return "1 to 100 channels";
    for (const kiln_value *c = channels->type == KILN_JSON_ARRAY ? channels->child : channels; c;
         c = channels->type == KILN_JSON_ARRAY ? c->next : NULL) {
        if (c->type != KILN_JSON_STRING || !pusher_valid_channel(c->str, c->len)) return "invalid channel name";
        if (!strncmp(c->str, "#server-to-user-", 16)) return "user channels are not supported";
    }
    const kiln_value *sid = kiln_json_get(ev, "socket_id");
    if (sid && (sid->type != KILN_JSON_STRING || !pusher_valid_socket_id(sid->str))) return "invalid socket_id";
    return NULL;
}

static void publish_event(kiln_req *req, const kiln_value *ev, const kiln_value *channels)
{
    const kiln_value *name = kiln_json_get(ev, "name"), *data = kiln_json_get(ev, "data");
    const char *json = pusher_data_to_json(req, data->str, data->len);
    /* socket_id: that connection does not get the event (Pusher's
     * "excluding recipients"); socket.c numbers its sockets the same way. */
    const char *sid = kiln_json_str(kiln_json_get(ev, "socket_id"));
    uint64_t origin = sid ? pusher_socket_origin(sid) : 0;
    for (const kiln_value *c = channels->type == KILN_JSON_ARRAY ? channels->child : channels; c;
         c = channels->type == KILN_JSON_ARRAY ? c->next : NULL)
        channel_publish_from((kiln_str){ c->str, c->len }, (kiln_str){ name->str, name->len }, (kiln_str){ NULL, 0 },
                             (kiln_str){ json, strlen(json) }, origin);
}

static const kiln_value *channels_of(const kiln_value *ev)
{
    const kiln_value *cs = kiln_json_get(ev, "channels");
    if (cs && cs->type == KILN_JSON_ARRAY) return cs;
    const kiln_value *c = kiln_json_get(ev, "channel");
    return c && c->type == KILN_JSON_STRING ? c : cs;
}

void kiln_pusher_rest_events(kiln_req *req, kiln_res *res)
{
    if (!enabled(req, res)) return;
    const kiln_value *ev = req->json;
    if (!ev || ev->type != KILN_JSON_OBJECT) { kiln_error(res, 400, "The body must be a JSON object"); return; }
    int status;
    const char *err = check_event(ev, channels_of(ev), &status);
    if (err) { kiln_error(res, status, err); return; }
    publish_event(req, ev, channels_of(ev));
    kiln_json(res, 200, "{}");
}

void kiln_pusher_rest_batch_events(kiln_req *req, kiln_res *res)
{
    if (!enabled(req, res)) return;
    const kiln_value *batch = req->json ? kiln_json_get(req->json, "batch") : NULL;
    if (!batch || batch->type != KILN_JSON_ARRAY) { kiln_error(res, 400, "The body must be {\"batch\": [...]}"); return; }
    if (batch->len > 10) { kiln_error(res, 400, "At most 10 events in a batch"); return; }
    int status;
    for (const kiln_value *ev = batch->child; ev; ev = ev->next) {
        if (ev->type != KILN_JSON_OBJECT) { kiln_error(res, 400, "Every batch entry must be an object"); return; }
        const char *err = check_event(ev, channels_of(ev), &status);
        if (err) { kiln_error(res, status, err); return; }
    }
    for (const kiln_value *ev = batch->child; ev; ev = ev->next) publish_event(req, ev, channels_of(ev));
    kiln_json(res, 200, "{}");
}

/* info=a,b: does the list hold `what`? */
static bool wants(const char *info, const char *what)
{
    size_t n = strlen(what);
    for (const char *p = info; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !memcmp(p, what, n)) return true;
        p += len;
        if (*p == ',') p++;
    }
    return false;
}

static void count_member(void *ctx, kiln_str uid, kiln_str info)
{
    (void)uid;
    (void)info;
    ++*(size_t *)ctx;
}

/* Members of every machine (Redis), or of this one when Redis is not
 * configured or does not answer in time (members.h). */
static void each_member(kiln_str chan, void (*fn)(void *ctx, kiln_str uid, kiln_str info), void *ctx)
{
    if (members_list_wait(chan, fn, ctx) < 0) presence_members(chan, fn, ctx);
}

static size_t user_count(kiln_str chan)
{
    size_t n = 0;
    each_member(chan, count_member, &n);
    return n;
}

/* Presence channels with members on any machine (Redis), in the arena. */
typedef struct rchan { const char *name; size_t len; long long users; bool listed; } rchan;
typedef struct list_ctx {
    kiln_jw *w;
    bool users;
    kiln_req *req;
    rchan *remote;              /* NULL: none (no Redis, or other names)   */
    size_t nremote, cap;
} list_ctx;

static void remote_one(void *arg, kiln_str name, kiln_str users)
{
    list_ctx *x = arg;
    if (x->nremote == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        rchan *v = kiln_alloc(x->req, cap * sizeof *v);
        if (x->nremote) memcpy(v, x->remote, x->nremote * sizeof *v);
        x->remote = v;
        x->cap = cap;
    }
    x->remote[x->nremote++] = (rchan){ kiln_strndup(x->req, name.ptr, name.len), name.len,
                                       strtoll(kiln_strndup(x->req, users.ptr, users.len), NULL, 10), false };
}

static void list_entry(list_ctx *x, kiln_str name, long long users)
{
    char key[256];
    if (name.len >= sizeof key) return;
    memcpy(key, name.ptr, name.len);
    key[name.len] = 0;
    kiln_jw_key(x->w, key);
    kiln_jw_object(x->w);
    if (x->users) {
        kiln_jw_key(x->w, "user_count");
        kiln_jw_int(x->w, users);
    }
    kiln_jw_end(x->w);
}

static void list_one(void *arg, kiln_str name, size_t count)
{
    list_ctx *x = arg;
    if (count == 0) return;
    for (size_t i = 0; i < x->nremote; i++)
        if (x->remote[i].len == name.len && !memcmp(x->remote[i].name, name.ptr, name.len)) {
            x->remote[i].listed = true;
            list_entry(x, name, x->remote[i].users);
            return;
        }
    list_entry(x, name, x->users ? (long long)user_count(name) : 0);
}

void kiln_pusher_rest_channels(kiln_req *req, kiln_res *res)
{
    if (!enabled(req, res)) return;
    const char *prefix = kiln_query(req, "filter_by_prefix");
    const char *info = kiln_query(req, "info");
    if (info && *info && !wants(info, "user_count")) { kiln_error(res, 400, "info may only be user_count here"); return; }
    if (wants(info, "user_count") && (!prefix || strncmp(prefix, "presence-", 9) != 0)) {
        kiln_error(res, 400, "info=user_count needs filter_by_prefix=presence-");
        return;
    }
    kiln_jw *w = kiln_json_begin(res, 200);
    kiln_jw_object(w);
    kiln_jw_key(w, "channels");
    kiln_jw_object(w);
    list_ctx x = { .w = w, .users = wants(info, "user_count"), .req = req };
    /* Presence channels are occupied wherever they have members: ask Redis
     * when the prefix can name one. */
    const char *pre = prefix ? prefix : "";
    size_t pl = strlen(pre);
    if (!strncmp(pre, "presence-", pl < 9 ? pl : 9))
        members_channels_wait((kiln_str){ pre, pl }, remote_one, &x);
    occupancy_each(pre, list_one, &x);
    for (size_t i = 0; i < x.nremote; i++)
        if (!x.remote[i].listed && x.remote[i].users > 0)
            list_entry(&x, (kiln_str){ x.remote[i].name, x.remote[i].len }, x.remote[i].users);
    kiln_jw_end(w);
    kiln_jw_end(w);
}

void kiln_pusher_rest_channel(kiln_req *req, kiln_res *res)
{
    if (!enabled(req, res)) return;
    const char *name = kiln_query(req, "channel_name");
    if (!name || !pusher_valid_channel(name, strlen(name))) { kiln_error(res, 400, "Invalid channel name"); return; }
    const char *info = kiln_query(req, "info");
    if (wants(info, "user_count")) {
        if (strncmp(name, "presence-", 9) != 0) { kiln_error(res, 400, "user_count is only for presence channels"); return; }
    }
    size_t count = occupancy_count((kiln_str){ name, strlen(name) });
    /* A presence channel with members on another machine is occupied too. */
    size_t users = strncmp(name, "presence-", 9) == 0 ? user_count((kiln_str){ name, strlen(name) }) : 0;
    kiln_jw *w = kiln_json_begin(res, 200);
    kiln_jw_object(w);
    kiln_jw_key(w, "occupied");
    kiln_jw_bool(w, count > 0 || users > 0);
    if (wants(info, "subscription_count")) {
        kiln_jw_key(w, "subscription_count");
        kiln_jw_int(w, (long long)count);
    }
    if (wants(info, "user_count")) {
        kiln_jw_key(w, "user_count");
        kiln_jw_int(w, (long long)users);
    }
    kiln_jw_end(w);
}

static void user_entry(void *ctx, kiln_str uid, kiln_str info)
{
    (void)info;
    buf *b = ctx;
    buf_puts(b, b->len > 10 ? ",{\"id\":" : "{\"id\":");
    buf_append(b, uid.ptr, uid.len);          /* stored as a JSON string */
    buf_putc(b, '}');
}

void kiln_pusher_rest_users(kiln_req *req, kiln_res *res)
{
    if (!enabled(req, res)) return;
    const char *name = kiln_query(req, "channel_name");
    if (!name || strncmp(name, "presence-", 9) != 0 || !pusher_valid_channel(name, strlen(name))) {
        kiln_error(res, 400, "Only presence channels have users");
        return;
    }
    buf b;
    buf_init(&b, 256);
    buf_puts(&b, "{\"users\":[");
    each_member((kiln_str){ name, strlen(name) }, user_entry, &b);
    buf_puts(&b, "]}");
    kiln_send(res, 200, "application/json; charset=utf-8", b.data, b.len);
    buf_free(&b);
}
