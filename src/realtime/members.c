/*
 * members.c -- presence members across machines, kept in Redis
 * (KILN_REDIS_URL); see members.h for the interface.
 *
 * The unit in Redis is a worker ("node": machine id and pid), not a
 * machine. Each worker counts its own sockets per (channel, user) here and
 * writes to Redis only when that count goes 0 -> 1 or 1 -> 0, on its
 * publisher connection (redis.c), so its writes reach Redis in the order
 * they were decided. (Per machine would need the workers of a machine to
 * agree on one order of writes through two connections; a join on one
 * worker and a leave on another could then be applied in the wrong order
 * and leave a ghost member.)
 *
 * Keys (one Redis, not a cluster: the script names keys it computes):
 *   kiln:pr:nodes          set of nodes that have registered
 *   kiln:pr:node:N         "1", expires after the TTL unless N's heartbeat
 *                          refreshes it (N alive and reaching Redis)
 *   kiln:pr:own:N          hash "channel\nuser" -> user_info: N's members
 *   kiln:pr:c:CHAN         hash user -> number of nodes that have the user
 *   kiln:pr:i:CHAN         hash user -> user_info: the member list
 *   kiln:pr:chans          set of the channels that have members
 *   kiln:pr:epoch          random, set by the first node after Redis
 *                          started empty (see "Redis restarted")
 *
 * One Lua script (EVAL: Redis caches it by digest, and there is no window
 * after a Redis restart where EVALSHA would answer NOSCRIPT) does every
 * operation atomically: join (add, then the member list: one snapshot),
 * list, leave, beat, sync. A user's count going 0 -> 1 publishes
 * member_added, 1 -> 0 member_removed, from inside the script, on the one
 * Redis channel with machine id 0: every worker of every machine, this one
 * included, receives it once from Redis and hands it to its own
 * subscribers, and the ring never carries it, so nothing is delivered
 * twice, and member events reach everyone in the one order Redis ran the
 * scripts in (a leave on A and a join on B of the same user cannot swap).
 *
 * Heartbeat: every TTL/5 each node runs beat: refresh its key (XX: if the
 * key had expired, the node was taken for dead and reaped: it registers
 * again with sync), then reap every registered node whose key expired:
 * remove its members (member_removed for users on no other node), its hash
 * and its name. Reaping is one script run, so two machines reaping at once
 * remove each member once. A machine killed or cut off loses its members
 * within TTL + TTL/5 (KILN_PRESENCE_TTL seconds, default 10).
 *
 * Outages: while this worker's publisher is not up, joins and leaves are
 * decided by the caller's machine table (local_first / local_last), the
 * events are published on this machine only (never forwarded to Redis
 * later: the resync below speaks for them), and lists are the caller's.
 * When the publisher is up again, and after a grace of one reconnect
 * interval (the other machines' subscribers, cut at the same moment and
 * retrying on the same schedule, are back by then: an event published to
 * a subscriber not yet back is lost, as for every channel event), sync
 * replaces this node's members in Redis with its current ones: users gone
 * meanwhile are removed and users new meanwhile added, with their events,
 * sent to the other machines only (this one heard them during the
 * outage). Until that sync has answered (and again if a join or leave
 * came while it was in flight), this machine still decides alone. Redis restarted (empty, or a
 * new epoch): the first node to sync sets a new epoch, and every node whose
 * remembered epoch differs re-registers quietly: members that other
 * machines had been told about are not announced again; only users who
 * joined during the outage are (those who left during it are not: the
 * empty Redis no longer knows them). A node that was taken for dead (its
 * heartbeat stopped for the TTL: every machine heard its members removed)
 * syncs again loudly, to every machine (also when it finds itself reaped
 * at the sync after an outage: its own machine may have heard the reap).
 *
 * Lists: subscription_succeeded waits for the join's reply at most
 * LIST_TIMEOUT_MS, a REST request MEMBERS_WAIT_MS; then, or while this
 * machine decides alone, the caller lists its own table.
 *
 * Owns: this worker's member counts, its heartbeat timer and its pending
 * list requests (each freed by its Redis reply callback, which hiredis
 * calls exactly once, with NULL when the connection goes).
 * Must never: block the loop, call a cancelled callback, or publish a
 * member event through the ring while Redis decides them.
 */
#include "realtime/members.h"
#include "realtime/bridge.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define MEMBERS_WAIT_MS 200     /* a REST list waits this long for Redis     */
#define LIST_TIMEOUT_MS 1000    /* subscription_succeeded waits this long    */

static const char script[] =
    "local op,ADD,REM,node=ARGV[1],ARGV[2],ARGV[3],ARGV[4] "
    "local P='kiln:pr:' "
    "local from='0000000000000000' "
    "local function pub(ch,ev,data,origin) "
    "  redis.call('PUBLISH','" REDIS_CHANNEL "','K1 '..from..' '..#ch..' '..#ev..' 0 '..origin..'\\n'..ch..ev..data) end "
    "local function add(n,ch,uid,info,origin,loud) "
    "  redis.call('SADD',P..'nodes',n) "
    "  if redis.call('HSET',P..'own:'..n,ch..'\\n'..uid,info)==0 then return end "
    "  redis.call('HSET',P..'i:'..ch,uid,info) redis.call('SADD',P..'chans',ch) "
    "  if redis.call('HINCRBY',P..'c:'..ch,uid,1)==1 and loud then "
    "    pub(ch,ADD,'{\"user_id\":'..uid..',\"user_info\":'..info..'}',origin) end end "
    "local function del(n,ch,uid,origin) "
    "  if redis.call('HDEL',P..'own:'..n,ch..'\\n'..uid)==0 then return end "
    "  if redis.call('HINCRBY',P..'c:'..ch,uid,-1)<=0 then "
    "    redis.call('HDEL',P..'c:'..ch,uid) redis.call('HDEL',P..'i:'..ch,uid) "
    "    if redis.call('HLEN',P..'c:'..ch)==0 then redis.call('SREM',P..'chans',ch) end "
    "    pub(ch,REM,'{\"user_id\":'..uid..'}',origin) end end "
    "local function split(f) local i=string.find(f,'\\n',1,true) return string.sub(f,1,i-1),string.sub(f,i+1) end "
    "if op=='join' then add(node,ARGV[5],ARGV[6],ARGV[7],ARGV[8],true) return redis.call('HGETALL',P..'i:'..ARGV[5]) end "
    "if op=='list' then return redis.call('HGETALL',P..'i:'..ARGV[5]) end "
    "if op=='chans' then local out={} "
    "  for _,c in ipairs(redis.call('SMEMBERS',P..'chans')) do "
    "    if string.sub(c,1,#ARGV[5])==ARGV[5] then out[#out+1]=c out[#out+1]=tostring(redis.call('HLEN',P..'c:'..c)) end end "
    "  return out end "
    "if op=='leave' then del(node,ARGV[5],ARGV[6],ARGV[7]) return 0 end "
    "if op=='beat' then "
    "  if not redis.call('SET',P..'node:'..node,'1','PX',ARGV[5],'XX') then return 1 end "
    "  for _,m in ipairs(redis.call('SMEMBERS',P..'nodes')) do "
    "    if redis.call('EXISTS',P..'node:'..m)==0 then "
    "      for _,f in ipairs(redis.call('HKEYS',P..'own:'..m)) do local c,u=split(f) del(m,c,u,'0') end "
    "      redis.call('DEL',P..'own:'..m) redis.call('SREM',P..'nodes',m) end end "
    "  return 0 end "
    "if op=='sync' then "
    "  from=ARGV[8] "
    "  local ep=redis.call('GET',P..'epoch') "
    "  if not ep then ep=ARGV[7] redis.call('SET',P..'epoch',ep) end "
    "  local loud=(ARGV[6]==ep) "
    "  if loud and redis.call('EXISTS',P..'node:'..node)==0 then from='0000000000000000' end "
    "  redis.call('SET',P..'node:'..node,'1','PX',ARGV[5]) redis.call('SADD',P..'nodes',node) "
    "  local want,new={},{} "
    "  for i=9,#ARGV,3 do want[ARGV[i]]=ARGV[i+1] new[ARGV[i]]=(ARGV[i+2]=='1') end "
    "  for _,f in ipairs(redis.call('HKEYS',P..'own:'..node)) do "
    "    if not want[f] then local c,u=split(f) del(node,c,u,'0') end end "
    "  for f,info in pairs(want) do local c,u=split(f) add(node,c,u,info,'0',loud or new[f]) end "
    "  return ep end "
    "return redis.error_reply('kiln presence: unknown op')";

/* ---- this worker's members: (channel, user) -> sockets, info -------- */

typedef struct mem {
    struct mem *next;
    uint32_t socks;
    size_t klen;                /* key: "channel\nuser"                     */
    size_t ilen;
    char *info;
    bool announced;             /* to every machine (through Redis), not
                                   only to this one during an outage       */
    char key[];
} mem;

#define MEM_BUCKETS 1024
static mem *table[MEM_BUCKETS];
static size_t nmem;

static mem **find(kiln_str chan, kiln_str uid)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < chan.len; i++) h = (h ^ (unsigned char)chan.ptr[i]) * 1099511628211ull;
    h = (h ^ '\n') * 1099511628211ull;
    for (size_t i = 0; i < uid.len; i++) h = (h ^ (unsigned char)uid.ptr[i]) * 1099511628211ull;
    mem **pp = &table[h % MEM_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        mem *m = *pp;
        if (m->klen == chan.len + 1 + uid.len && !memcmp(m->key, chan.ptr, chan.len) && m->key[chan.len] == '\n' &&
            !memcmp(m->key + chan.len + 1, uid.ptr, uid.len))
            break;
    }
    return pp;
}

/* ---- state ---------------------------------------------------------- */

/* The events are Pusher's (protocol 7), the one presence protocol Kiln
 * speaks: every worker must name them alike, including one that reaps a
 * dead node without ever having served a presence channel itself. */
static const char ev_added[] = "pusher_internal:member_added", ev_removed[] = "pusher_internal:member_removed";
static loop *ML;
static loop_timer beat_timer;
static char node[40];           /* "<machine id>.<pid>"                      */
static char epoch[40];          /* the Redis epoch of our last sync          */
static unsigned ttl_ms;
static bool live;               /* a sync answered on this connection, and
                                   nothing changed here since it was sent:
                                   Redis decides; else this machine does   */
static bool dirty;              /* a join or leave decided here while not
                                   live: sync (again) when it answers       */
static loop_timer sync_timer;   /* the catch-up sync after an outage        */

/* A join or leave sent to Redis, in case its connection goes before the
 * reply: then nobody may have announced it, so this machine does (as in an
 * outage) and the sync after reconnecting tells the others. */
typedef struct op_note {
    bool added, local;          /* which event; local_first / local_last   */
    uint64_t origin;
    size_t clen, ulen, ilen;
    char data[];                /* channel, user, info                      */
} op_note;

struct members_req {
    members_req *prev, *next;   /* pending, for members_detach              */
    members_list_fn fn;         /* NULL: cancelled or answered              */
    void *ctx;
    loop_timer timeout;
    op_note *note;              /* a join (NULL: a list only)               */
};
static members_req *pending;

static unsigned ttl(void)
{
    if (!ttl_ms) {
        const char *e = getenv("KILN_PRESENCE_TTL");
        long s = e && *e ? strtol(e, NULL, 10) : 10;
        ttl_ms = (unsigned)(s < 2 ? 2 : s > 3600 ? 3600 : s) * 1000;
    }
    return ttl_ms;
}

/* EVAL script 0 op added removed node args... on the publisher. */
static bool run(redisCallbackFn *cb, void *priv, const char *op, const char **args, const size_t *lens, size_t n)
{
    redisAsyncContext *ac = redis_bridge_pub();
    if (!ac) return false;
    size_t argc = 7 + n;
    const char **argv = kiln_xmalloc(argc * sizeof *argv);
    size_t *argl = kiln_xmalloc(argc * sizeof *argl);
    const char *fixed[7] = { "EVAL", script, "0", op, ev_added, ev_removed, node };
    for (size_t i = 0; i < 7; i++) { argv[i] = fixed[i]; argl[i] = strlen(fixed[i]); }
    for (size_t i = 0; i < n; i++) { argv[7 + i] = args[i]; argl[7 + i] = lens[i]; }
    int rc = redisAsyncCommandArgv(ac, cb, priv, (int)argc, argv, argl);
    free(argv);
    free(argl);
    return rc == REDIS_OK;
}

static void log_reply_error(const char *op, redisReply *m)
{
    if (m && m->type == REDIS_REPLY_ERROR)
        log_event(LOG_ERROR, NULL, "redis presence script failed", "\"op\":\"%s\",\"error\":\"%.*s\"", op,
                  (int)(m->len > 200 ? 200 : m->len), m->str);
}

/* ---- sync: this node's members, all of them ------------------------- */

static void sync_now(bool here_knows);

static void on_sync(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *m = reply;
    if (!m) return;             /* the connection went: it syncs again when back */
    if (m->type != REDIS_REPLY_STRING) { log_reply_error("sync", m); return; }
    snprintf(epoch, sizeof epoch, "%.*s", (int)m->len, m->str);
    if (dirty) { sync_now(true); return; }  /* changed while in flight: once more */
    live = true;
    for (size_t b = 0; b < MEM_BUCKETS; b++)
        for (mem *e = table[b]; e; e = e->next) e->announced = true;
}

/* here_knows: this machine announced its changes itself meanwhile (an
 * outage): the events of the sync skip it (machine id); else (taken for
 * dead: every machine heard the removals) they go to all (0). */
static void sync_now(bool here_knows)
{
    char ttl_s[16], cand[20], from[20];
    snprintf(from, sizeof from, "%016" PRIx64, here_knows ? channel_machine_id() : 0);
    snprintf(ttl_s, sizeof ttl_s, "%u", ttl());
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&r;
    snprintf(cand, sizeof cand, "%016" PRIx64, r);
    size_t n = 4 + 3 * nmem;
    const char **args = kiln_xmalloc(n * sizeof *args);
    size_t *lens = kiln_xmalloc(n * sizeof *lens), k = 0;
    args[k] = ttl_s, lens[k++] = strlen(ttl_s);
    args[k] = epoch, lens[k++] = strlen(epoch);
    args[k] = cand, lens[k++] = strlen(cand);
    args[k] = from, lens[k++] = strlen(from);
    for (size_t b = 0; b < MEM_BUCKETS; b++)
        for (mem *m = table[b]; m; m = m->next) {
            args[k] = m->key, lens[k++] = m->klen;
            args[k] = m->info, lens[k++] = m->ilen;
            args[k] = m->announced ? "0" : "1", lens[k++] = 1;
        }
    live = dirty = false;
    run(on_sync, NULL, "sync", args, lens, k);
    free(args);
    free(lens);
}

static void on_sync_timer(loop_timer *t)
{
    if (ML && redis_bridge_pub()) sync_now(true);
}

void members_redis_up(unsigned grace_ms)
{
    if (!ML) return;
    live = false;               /* this machine decides until the sync answers */
    loop_timer_set(ML, &sync_timer, loop_now_ms(ML) + grace_ms);
}

/* ---- heartbeat ------------------------------------------------------ */

static void on_beat(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *m = reply;
    if (!m) return;
    if (m->type == REDIS_REPLY_INTEGER && m->integer == 1 && live) {
        log_event(LOG_WARN, NULL, "presence: this worker was taken for dead by the others (no heartbeat for the TTL); registering its members again",
                  "\"node\":\"%s\",\"ttlMs\":%u", node, ttl());
        sync_now(false);
    } else if (m->type == REDIS_REPLY_ERROR) {
        log_reply_error("beat", m);
    }
}

static void on_beat_timer(loop_timer *t)
{
    if (!ML) return;
    char ttl_s[16];
    snprintf(ttl_s, sizeof ttl_s, "%u", ttl());
    const char *a[1] = { ttl_s };
    size_t l[1] = { strlen(ttl_s) };
    run(on_beat, NULL, "beat", a, l, 1);
    loop_timer_set(ML, &beat_timer, loop_now_ms(ML) + ttl() / 5);
}

void members_attach(loop *l)
{
    if (ML) return;
    ML = l;
    snprintf(node, sizeof node, "%016" PRIx64 ".%d", channel_machine_id(), (int)getpid());
    beat_timer.on_fire = on_beat_timer;
    beat_timer.heap_index = -1;
    sync_timer.on_fire = on_sync_timer;
    sync_timer.heap_index = -1;
    loop_timer_set(ML, &beat_timer, loop_now_ms(ML) + ttl() / 5);
}

void members_detach(void)
{
    if (!ML) return;
    loop_timer_cancel(ML, &beat_timer);
    loop_timer_cancel(ML, &sync_timer);
    for (members_req *r = pending; r; r = r->next)
        if (r->timeout.armed) loop_timer_cancel(ML, &r->timeout);
    ML = NULL;
    /* The Redis replies still to come free the requests (with NULL). */
}

/* ---- joins, leaves, lists ------------------------------------------- */

/* Redis decides (else this machine's table does, and a sync follows). */
static bool is_live(void)
{
    return redis_bridge_enabled() && ML && live && redis_bridge_pub();
}

static void publish_here(kiln_str chan, const char *event, kiln_str uid, kiln_str info, uint64_t origin, bool added)
{
    buf d;
    buf_init(&d, 64 + uid.len + info.len);
    buf_puts(&d, "{\"user_id\":");
    buf_append(&d, uid.ptr, uid.len);
    if (added) {
        buf_puts(&d, ",\"user_info\":");
        if (info.len) buf_append(&d, info.ptr, info.len);
        else buf_puts(&d, "null");
    }
    buf_putc(&d, '}');
    channel_publish_rec(chan, (kiln_str){ event, strlen(event) }, (kiln_str){ NULL, 0 },
                        (kiln_str){ d.data, d.len }, origin, true);
    buf_free(&d);
}

/* An HGETALL reply as two arrays of slices (valid during the callback). */
static size_t pairs_of(redisReply *m, kiln_str **uids, kiln_str **infos)
{
    *uids = *infos = NULL;
    if (!m || m->type != REDIS_REPLY_ARRAY || m->elements % 2) return (size_t)-1;
    size_t n = m->elements / 2;
    *uids = kiln_xcalloc(n + 1, sizeof **uids);
    *infos = kiln_xcalloc(n + 1, sizeof **infos);
    for (size_t i = 0; i < n; i++) {
        redisReply *u = m->element[2 * i], *v = m->element[2 * i + 1];
        if (u->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) { free(*uids); free(*infos); return (size_t)-1; }
        (*uids)[i] = (kiln_str){ u->str, u->len };
        (*infos)[i] = (kiln_str){ v->str, v->len };
    }
    return n;
}

static void unlink_req(members_req *r)
{
    if (r->prev) r->prev->next = r->next; else pending = r->next;
    if (r->next) r->next->prev = r->prev;
}

static op_note *note_new(bool added, bool local, uint64_t origin, kiln_str chan, kiln_str uid, kiln_str info)
{
    op_note *n = kiln_xmalloc(sizeof *n + chan.len + uid.len + info.len + 1);
    n->added = added;
    n->local = local;
    n->origin = origin;
    n->clen = chan.len, n->ulen = uid.len, n->ilen = info.len;
    memcpy(n->data, chan.ptr, chan.len);
    memcpy(n->data + chan.len, uid.ptr, uid.len);
    if (info.len) memcpy(n->data + chan.len + uid.len, info.ptr, info.len);
    return n;
}

/* The reply to a join or leave; NULL: the connection went first. */
static void note_done(op_note *n, redisReply *m)
{
    if (!m && ML) {             /* (not at worker exit: nothing to tell then) */
        kiln_str chan = { n->data, n->clen }, uid = { n->data + n->clen, n->ulen },
                 info = { n->data + n->clen + n->ulen, n->ilen };
        if (n->local) publish_here(chan, n->added ? ev_added : ev_removed, uid, info, n->origin, n->added);
        mem *e = *find(chan, uid);
        if (e) e->announced = false;
        dirty = true;
    }
    free(n);
}

static void on_leave(redisAsyncContext *ac, void *reply, void *priv)
{
    if (reply && ((redisReply *)reply)->type == REDIS_REPLY_ERROR) log_reply_error("leave", reply);
    note_done(priv, reply);
}

static void on_list(redisAsyncContext *ac, void *reply, void *priv)
{
    members_req *r = priv;
    if (r->note) note_done(r->note, reply);
    if (ML && r->timeout.armed) loop_timer_cancel(ML, &r->timeout);
    unlink_req(r);
    if (r->fn) {
        kiln_str *uids, *infos;
        size_t n = pairs_of(reply, &uids, &infos);
        members_list_fn fn = r->fn;
        r->fn = NULL;
        if (n == (size_t)-1) {
            log_reply_error("join", reply);
            fn(r->ctx, false, NULL, NULL, 0);
        } else {
            fn(r->ctx, true, uids, infos, n);
        }
        free(uids);
        free(infos);
    }
    free(r);
}

static void on_list_timeout(loop_timer *t)
{
    members_req *r = (members_req *)((char *)t - offsetof(members_req, timeout));
    members_list_fn fn = r->fn;
    r->fn = NULL;               /* the reply, when it comes, frees r */
    log_event(LOG_WARN, NULL, "presence: redis did not answer a member list in time: this machine's members only",
              "\"waitedMs\":%d", LIST_TIMEOUT_MS);
    if (fn) fn(r->ctx, false, NULL, NULL, 0);
}

members_req *members_join(kiln_str chan, kiln_str uid, kiln_str info, uint64_t origin, bool local_first,
                          members_list_fn fn, void *ctx)
{
    bool shared = is_live();
    mem **pp = find(chan, uid);
    if (!*pp) {
        mem *m = kiln_xcalloc(1, sizeof *m + chan.len + 1 + uid.len);
        memcpy(m->key, chan.ptr, chan.len);
        m->key[chan.len] = '\n';
        memcpy(m->key + chan.len + 1, uid.ptr, uid.len);
        m->klen = chan.len + 1 + uid.len;
        m->info = kiln_xmalloc(info.len + 1);
        memcpy(m->info, info.ptr, info.len);
        m->ilen = info.len;
        *pp = m;
        nmem++;
    }
    bool first_here = (*pp)->socks++ == 0;
    if (!shared) {
        dirty = true;
        if (local_first) publish_here(chan, ev_added, uid, info, origin, true);
        return NULL;
    }
    members_req *r = kiln_xcalloc(1, sizeof *r);
    r->fn = fn;
    r->ctx = ctx;
    if (first_here) r->note = note_new(true, local_first, origin, chan, uid, info);
    r->timeout.on_fire = on_list_timeout;
    r->timeout.heap_index = -1;
    char o[24];
    snprintf(o, sizeof o, "%" PRIu64, origin);
    const char *a[4] = { chan.ptr, uid.ptr, info.ptr ? info.ptr : "", o };
    size_t l[4] = { chan.len, uid.len, info.len, strlen(o) };
    if (!run(on_list, r, first_here ? "join" : "list", a, l, first_here ? 4 : 1)) {
        free(r->note);          /* cannot happen while up; decide here then */
        free(r);
        dirty = true;
        if (local_first) publish_here(chan, ev_added, uid, info, origin, true);
        return NULL;
    }
    (*pp)->announced = true;
    r->next = pending;
    if (pending) pending->prev = r;
    pending = r;
    loop_timer_set(ML, &r->timeout, loop_now_ms(ML) + LIST_TIMEOUT_MS);
    return r;
}

void members_cancel(members_req *r)
{
    if (!r) return;
    r->fn = NULL;
    if (ML && r->timeout.armed) loop_timer_cancel(ML, &r->timeout);
}

void members_leave(kiln_str chan, kiln_str uid, uint64_t origin, bool local_last)
{
    mem **pp = find(chan, uid), *m = *pp;
    bool last_here = false;
    if (m && --m->socks == 0) {
        *pp = m->next;
        free(m->info);
        free(m);
        nmem--;
        last_here = true;
    }
    if (is_live()) {
        if (!last_here) return;
        char o[24];
        snprintf(o, sizeof o, "%" PRIu64, origin);
        const char *a[3] = { chan.ptr, uid.ptr, o };
        size_t l[3] = { chan.len, uid.len, strlen(o) };
        op_note *n = note_new(false, local_last, origin, chan, uid, (kiln_str){ NULL, 0 });
        if (run(on_leave, n, "leave", a, l, 3)) return;
        free(n);
    }
    dirty = true;
    if (local_last) publish_here(chan, ev_removed, uid, (kiln_str){ NULL, 0 }, origin, false);
}

/* ---- lists from a request's coroutine ------------------------------- */

typedef struct list_wait {
    conn *c;                    /* NULL once the request stopped waiting    */
    bool done;
    long n;
    void (*each)(void *ctx, kiln_str uid, kiln_str info);
    void *ctx;
} list_wait;

static void on_list_wait(redisAsyncContext *ac, void *reply, void *priv)
{
    list_wait *w = priv;
    w->done = true;
    if (!w->c) { free(w); return; }     /* nobody waits any more */
    kiln_str *uids, *infos;
    size_t n = pairs_of(reply, &uids, &infos);
    w->n = n == (size_t)-1 ? -1 : (long)n;
    if (n == (size_t)-1) log_reply_error("list", reply);
    for (size_t i = 0; w->n > 0 && i < n; i++) w->each(w->ctx, uids[i], infos[i]);   /* the caller is suspended */
    free(uids);
    free(infos);
    wait_wake_at(w->c, 0);
}

static long wait_pairs(const char *op, kiln_str arg, void (*each)(void *ctx, kiln_str a, kiln_str b), void *ctx)
{
    conn *c = wait_self();
    if (!c || !is_live()) return -1;
    list_wait *w = kiln_xcalloc(1, sizeof *w);
    w->c = c;
    w->each = each;
    w->ctx = ctx;
    const char *a[1] = { arg.ptr ? arg.ptr : "" };
    size_t l[1] = { arg.len };
    if (!run(on_list_wait, w, op, a, l, 1)) { free(w); return -1; }
    if (!w->done) {
        wait_wake_at(c, wait_now_ms() + MEMBERS_WAIT_MS);
        wait_suspend(WAIT_SLEEP);
        wait_wake_cancel(c);
    }
    if (!w->done) {
        w->c = NULL;            /* the callback frees it */
        log_event(LOG_WARN, NULL, "presence: redis did not answer a member list in time: this machine's members only",
                  "\"waitedMs\":%d", MEMBERS_WAIT_MS);
        return -1;
    }
    long n = w->n;
    free(w);
    return n;
}

long members_list_wait(kiln_str chan, void (*each)(void *ctx, kiln_str uid, kiln_str info), void *ctx)
{
    return wait_pairs("list", chan, each, ctx);
}

long members_channels_wait(kiln_str prefix, void (*each)(void *ctx, kiln_str name, kiln_str users), void *ctx)
{
    return wait_pairs("chans", prefix, each, ctx);
}
