/*
 * bridge.h -- internal seam between channel.c (the machine) and redis.c
 * (other machines). Not for use outside src/realtime.
 */
#ifndef KILN_REALTIME_BRIDGE_H
#define KILN_REALTIME_BRIDGE_H

#include "kiln.h"
#include "runtime/loop.h"

#include <stdbool.h>
#include <stdint.h>

/* channel.c: hand an event to this worker's subscribers (loop thread). */
void channel_deliver_local(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin);
/* channel.c: this machine's id (random, shared by every worker). */
uint64_t channel_machine_id(void);
/* channel.c: channel_publish_from, and with machine_only the event stays
 * on this machine (never forwarded to Redis, not even later). */
bool channel_publish_rec(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin,
                         bool machine_only);
/* channel.c: counters kept by redis.c */
void channel_count_redis(int out, int in, int dropped);

/* redis_url.c: KILN_REDIS_URL parsed (see there): NULL, or why not. */
typedef struct redis_url {
    char host[256];             /* a name or an address, without brackets */
    int port;                   /* 6379 unless given                      */
    char password[256];         /* "" for none                            */
    int db;                     /* the /db number, 0 unless given         */
    bool numeric;               /* host is an IPv4 or IPv6 address        */
} redis_url;
const char *redis_url_parse(const char *url, redis_url *out);

/* redis.c: KILN_REDIS_URL is set (read once). */
bool redis_bridge_enabled(void);
/* redis.c: connect this worker (loop thread), subscribe, keep reconnecting. */
void redis_bridge_attach(loop *l);
/* redis.c: send an event published on this machine to the others. */
void redis_bridge_publish(kiln_str channel, kiln_str event, kiln_str id, kiln_str data, uint64_t origin);
/* redis.c: the message on Redis (see redis.c), encoded and decoded. */
typedef struct redis_msg {
    uint64_t machine, origin;
    kiln_str channel, event, id, data;
} redis_msg;
#include "core/buf.h"
void redis_msg_encode(buf *out, uint64_t machine, kiln_str channel, kiln_str event, kiln_str id, kiln_str data,
                      uint64_t origin);
bool redis_msg_decode(const char *p, size_t n, redis_msg *out);

/* redis.c: one shared rate-limit operation (see channel_redis_rate), from
 * a request's coroutine; -1: count on this machine instead. */
int redis_rate(const char *key, size_t klen, unsigned limit, unsigned window_s, int op, unsigned *wait_s);

/* redis.c: close the connections (worker exit). */
void redis_bridge_detach(void);

/* redis.c: the one Redis channel that carries every event. */
#define REDIS_CHANNEL "kiln:events"
/* redis.c: the publisher connection while it is up and keeping up (NULL
 * otherwise), for members.c's commands: on the same connection as this
 * worker's PUBLISHes, so both keep one order. */
struct redisAsyncContext;
struct redisAsyncContext *redis_bridge_pub(void);

/* members.c (cross-machine presence): this worker's loop is attached
 * (start the heartbeat), the publisher is up (again: register this
 * worker's members after grace_ms), and the worker detaches. */
void members_attach(loop *l);
void members_redis_up(unsigned grace_ms);
void members_detach(void);

#endif
