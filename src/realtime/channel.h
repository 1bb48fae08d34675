/*
 * channel.h -- channels: publish anywhere, deliver everywhere.
 *
 * kiln_publish(channel, event, json) (include/kiln.h) reaches every
 * subscriber of `channel` on every worker of this machine and, with
 * KILN_REDIS_URL set, on every machine sharing that Redis. Subscribers live
 * on a worker's event-loop thread and are called there, one event at a time,
 * in publish order per publisher.
 *
 * This header is for the framework layers above the engine (SSE, WebSocket,
 * Pusher); applications use kiln_publish and the SSE / WebSocket APIs.
 */
#ifndef KILN_REALTIME_CHANNEL_H
#define KILN_REALTIME_CHANNEL_H

#include "kiln.h"
typedef struct loop loop;   /* runtime/loop.h: the worker's event loop */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct channel_sub channel_sub;

/* Called on the subscribing worker's loop thread (never on a coroutine).
 * The slices are valid only during the call: copy what you keep. The
 * callback may unsubscribe any subscription, itself included, and may
 * publish. data_json is the JSON text given to kiln_publish. */
typedef void (*channel_deliver_fn)(void *ctx, kiln_str channel, kiln_str event, kiln_str data_json);

/* Subscribe on the calling worker (its loop thread). Never NULL. The same
 * ctx may subscribe to many channels; each call is its own subscription. */
channel_sub *channel_subscribe(const char *channel, channel_deliver_fn fn, void *ctx);
/* Stop deliveries to sub and free it (safe inside a delivery). */
void channel_unsubscribe(channel_sub *sub);

/* Publish with explicit lengths (kiln_publish is this with strlen). Returns
 * false (logged, counted) when the event is larger than the limit. */
bool channel_publish(kiln_str channel, kiln_str event, kiln_str data_json);

/* The same with an event id (kiln_publish_id). */
bool channel_publish_id(kiln_str channel, kiln_str event, kiln_str id, kiln_str data_json);
/* The same, naming the connection that published it (a Pusher socket, so
 * that its own event is not echoed back to it); 0 for none. */
bool channel_publish_from(kiln_str channel, kiln_str event, kiln_str id, kiln_str data_json, uint64_t origin);
/* During a delivery: the id of the event delivered ({NULL,0}: none), and
 * its origin (0: none). */
kiln_str channel_event_id(void);
uint64_t channel_event_origin(void);
/* During a delivery: a number naming the event being delivered, the same
 * for every subscriber called with it and different for the next event (a
 * per-process count of deliveries; never 0). A subscriber that turns every
 * event into the same bytes for everyone (a WebSocket frame) makes them
 * once per number. */
uint64_t channel_event_serial(void);

/* Subscriptions of this worker: in all, and to one channel. */
size_t channel_local_subs(void);
size_t channel_local_count(const char *channel);

/* Rate limits shared by every machine (KILN_REDIS_URL), counted in Redis
 * by the calling request (it suspends; the worker does not block): op 0
 * counts one hit unless `limit` were counted in the window, 1 only checks,
 * 2 forgets the key. Returns 0 and sets *wait_s (0: allowed, else seconds
 * until the window ends); -1 when Redis is not configured, unreachable, or
 * slower than 50 ms (the caller counts on this machine; a warning is
 * logged at most every 10 s per worker). */
int channel_redis_rate(const char *key, size_t klen, unsigned limit, unsigned window_s, int op, unsigned *wait_s);

/* Counters of this process (tests, logs). */
typedef struct channel_stats {
    uint64_t published;      /* events this process put on the machine ring  */
    uint64_t delivered;      /* subscriber callbacks made here               */
    uint64_t lost;           /* events this worker missed: it fell behind the
                                ring (stalled) and they were overwritten     */
    uint64_t too_big;        /* events refused: larger than the limit        */
    uint64_t redis_out;      /* events sent to Redis                         */
    uint64_t redis_in;       /* events received from other machines          */
    uint64_t redis_dropped;  /* events not sent: Redis was unreachable       */
} channel_stats;
void channel_stats_get(channel_stats *out);

/* Read the machine ring on loop l. Workers attach lazily (first subscribe
 * or publish on the loop thread); unit tests call these directly. */
void channel_attach(loop *l);
void channel_detach(void);

/* A worker's start and exit (engine hooks, registered by app/app.c): the
 * loop to attach to on first use, and the tear-down (the ring's reader, the
 * Redis connections). */
void channel_worker_start(loop *l);
void channel_worker_exit(void);

/* For the layers above: a hook called for every event delivered on this
 * worker, whether or not it has subscribers (Pusher presence bookkeeping).
 * One hook; NULL removes it. */
void channel_set_observer(channel_deliver_fn fn, void *ctx);

/* sse.c: one event in the text/event-stream format: `id:` and `event:`
 * (each cut at its first line break or NUL), then a `data:` line per line
 * of data (\n, \r\n and \r all end one), then a blank line. */
#include "core/buf.h"
void sse_format(buf *b, kiln_str event, kiln_str id, kiln_str data);

#endif
