/*
 * metrics.h -- Prometheus metrics for the whole server: counters, gauges
 * and per-route latency histograms in shared memory, one region per worker
 * slot (plus one for the master), summed when scraped.
 *
 * Each process writes only its own region (single writer: plain relaxed
 * loads and stores, no locked instructions on the request path); a scrape
 * from any worker reads every region, so every scrape sees the same server.
 * Counters survive a worker's restart (the region is the slot's, not the
 * process's); gauges of a slot are reset when its new worker starts.
 *
 * The named slots below are the whole set: code elsewhere (the WebSocket
 * engine, the reporter, the database pool) bumps them with metrics_add /
 * metrics_gauge_add, which cost a few instructions and do nothing when
 * metrics are off.
 */
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include "core/buf.h"
#include "core/core.h"

#include <stdint.h>

typedef enum metric_counter {
    MC_WORKER_RESTARTS,       /* kiln_worker_restarts_total                 */
    MC_WORKER_CRASHES,        /* kiln_worker_crashes_total                  */
    MC_DB_POOL_WAITS,         /* kiln_db_pool_waits_total: queued for a conn */
    MC_DB_ERRORS,             /* kiln_db_errors_total                       */
    MC_REPORT_QUEUED,         /* kiln_reporter_events_total{outcome="queued"}  */
    MC_REPORT_SENT,           /* ... outcome="sent"                         */
    MC_REPORT_DROPPED,        /* ... outcome="dropped" (queue full, rate limit) */
    MC_REPORT_FAILED,         /* ... outcome="failed" (network, 5xx)        */
    MC_WS_CONNECTIONS,        /* kiln_websocket_connections_total           */
    MC_WS_MESSAGES_IN,        /* kiln_websocket_messages_total{direction="in"}  */
    MC_WS_MESSAGES_OUT,       /* ... direction="out"                        */
    MC_GQL_DOC_HITS,          /* kiln_graphql_document_cache_total{result="hit"} */
    MC_GQL_DOC_MISSES,        /* ... result="miss"                          */
    MC_COUNT
} metric_counter;

typedef enum metric_gauge {
    MG_INFLIGHT,              /* kiln_http_requests_in_flight               */
    MG_DB_POOL_IN_USE,        /* kiln_db_pool_connections{state="in_use"}   */
    MG_DB_POOL_OPEN,          /* kiln_db_pool_connections{state="open"}     */
    MG_REPORT_QUEUE,          /* kiln_reporter_queue_depth                  */
    MG_WS_OPEN,               /* kiln_websocket_connections_open            */
    MG_COUNT
} metric_gauge;

/* True when KILN_METRICS=1 (set before metrics_init). */
extern bool metrics_on;

/* Master, before fork: map the shared regions for `slots` workers and
 * `nroutes` routes (their patterns kept for labels). Reads KILN_METRICS. */
void metrics_init(int slots, const char *const *patterns, size_t nroutes);
/* In a worker: write to region `slot` from now on (-1: the master's);
 * resets that region's gauges. */
void metrics_bind(int slot);

void metrics_add(metric_counter c, uint64_t n);
void metrics_gauge_add(metric_gauge g, int64_t delta);
void metrics_gauge_set(metric_gauge g, int64_t v);

/* One finished request: route index (-1: no route matched), method index
 * (enum kiln_method, -1: other), status, duration in microseconds. */
void metrics_request(int route, int method, int status, uint64_t us);

/* The text exposition format (version 0.0.4) of every region summed. */
void metrics_render(buf *out);

#endif
