/*
 * metrics.c -- the shared-memory metric store and its text exposition.
 *
 * Layout: one anonymous MAP_SHARED mapping made by the master before it
 * forks (like the rate-limit table), holding `slots + 1` regions of equal
 * size: region 0 is the master's, region 1 + i is worker slot i's. A region
 * is the counters, the gauges, and per route (plus one "no route" entry)
 * request counts by method and status class and a latency histogram.
 *
 * Owns: the mapping (never unmapped: workers and restarts share it).
 * Must never: take a lock or a locked instruction on the request path (each
 * region has one writer; readers tolerate a scrape that is a few
 * increments behind), or allocate after metrics_init.
 */
#include "metrics/metrics.h"
#include "kiln.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define NMETHODS (KILN_METHOD_COUNT + 1)   /* the last: any other method */
#define NCLASSES 5                         /* 1xx .. 5xx                 */

/* Latency buckets (seconds), Prometheus' defaults trimmed for an API. */
static const double bucket_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const uint64_t bucket_us[] = { 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
                                      1000000, 2500000, 5000000, 10000000 };
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

typedef struct route_stats {
    uint64_t count[NMETHODS][NCLASSES];
    uint64_t bucket[NBUCKETS + 1];      /* non-cumulative; last is +Inf */
    uint64_t sum_us;
} route_stats;

typedef struct region {
    uint64_t counter[MC_COUNT];
    int64_t gauge[MG_COUNT];
    route_stats routes[];               /* nroutes + 1 (the last: no route) */
} region;

bool metrics_on;
static unsigned char *base;
static size_t region_size;
static int nslots;
static size_t nroutes_;
static const char *const *patterns_;
static region *mine;

static region *region_at(int i) { return (region *)(base + (size_t)i * region_size); }

void metrics_init(int slots, const char *const *patterns, size_t nroutes)
{
    const char *v = getenv("KILN_METRICS");
    metrics_on = v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on"));
    if (!metrics_on || base) return;
    nslots = slots + 1;
    nroutes_ = nroutes;
    patterns_ = patterns;
    region_size = sizeof(region) + (nroutes + 1) * sizeof(route_stats);
    region_size = (region_size + 63) & ~(size_t)63;   /* a cache line apart */
    base = mmap(NULL, region_size * (size_t)nslots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) KILN_PANIC("mmap of the metrics regions failed");
    mine = region_at(0);
}

void metrics_bind(int slot)
{
    if (!metrics_on) return;
    KILN_ASSERT(slot + 1 < nslots);
    mine = region_at(slot + 1);
    for (int g = 0; g < MG_COUNT; g++) __atomic_store_n(&mine->gauge[g], 0, __ATOMIC_RELAXED);
}

/* One writer per region: load, add, store (no lock prefix). */
static inline void bump(uint64_t *p, uint64_t n)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

void metrics_add(metric_counter c, uint64_t n)
{
    if (!metrics_on || !mine) return;
    bump(&mine->counter[c], n);
}

void metrics_gauge_add(metric_gauge g, int64_t delta)
{
    if (!metrics_on || !mine) return;
    __atomic_store_n(&mine->gauge[g], __atomic_load_n(&mine->gauge[g], __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

void metrics_gauge_set(metric_gauge g, int64_t v)
{
    if (!metrics_on || !mine) return;
    __atomic_store_n(&mine->gauge[g], v, __ATOMIC_RELAXED);
}

void metrics_request(int route, int method, int status, uint64_t us)
{
    if (!metrics_on || !mine) return;
    size_t r = route >= 0 && (size_t)route < nroutes_ ? (size_t)route : nroutes_;
    int m = method >= 0 && method < KILN_METHOD_COUNT ? method : KILN_METHOD_COUNT;
    int cls = status >= 100 && status < 600 ? status / 100 - 1 : 4;
    route_stats *rs = &mine->routes[r];
    bump(&rs->count[m][cls], 1);
    size_t b = 0;
    while (b < NBUCKETS && us > bucket_us[b]) b++;
    bump(&rs->bucket[b], 1);
    bump(&rs->sum_us, us);
}

/* ---- exposition -------------------------------------------------------- */

static uint64_t sum_counter(int c)
{
    uint64_t s = 0;
    for (int i = 0; i < nslots; i++) s += __atomic_load_n(&region_at(i)->counter[c], __ATOMIC_RELAXED);
    return s;
}

static int64_t sum_gauge(int g)
{
    int64_t s = 0;
    for (int i = 0; i < nslots; i++) s += __atomic_load_n(&region_at(i)->gauge[g], __ATOMIC_RELAXED);
    return s;
}

/* A label value: backslash, double quote and newline escaped. */
static void label(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') { buf_putc(b, '\\'); buf_putc(b, *s); }
        else if (*s == '\n') buf_puts(b, "\\n");
        else buf_putc(b, *s);
    }
}

static void header(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const method_names[NMETHODS] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other" };

static const char *route_name(size_t r) { return r < nroutes_ ? patterns_[r] : "(none)"; }

void metrics_render(buf *b)
{
    if (!metrics_on) return;
    /* Requests by route, method and status class. */
    header(b, "kiln_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status class.");
    for (size_t r = 0; r <= nroutes_; r++)
        for (int m = 0; m < NMETHODS; m++)
            for (int k = 0; k < NCLASSES; k++) {
                uint64_t n = 0;
                for (int i = 0; i < nslots; i++) n += __atomic_load_n(&region_at(i)->routes[r].count[m][k], __ATOMIC_RELAXED);
                if (!n) continue;
                buf_puts(b, "kiln_http_requests_total{route=\"");
                label(b, route_name(r));
                buf_printf(b, "\",method=\"%s\",status=\"%dxx\"} %llu\n", method_names[m], k + 1, (unsigned long long)n);
            }
    header(b, "kiln_http_request_duration_seconds", "histogram", "Time from the request head to the response, by route pattern.");
    for (size_t r = 0; r <= nroutes_; r++) {
        uint64_t bk[NBUCKETS + 1] = { 0 }, sum = 0, total = 0;
        for (int i = 0; i < nslots; i++) {
            route_stats *rs = &region_at(i)->routes[r];
            for (size_t j = 0; j <= NBUCKETS; j++) bk[j] += __atomic_load_n(&rs->bucket[j], __ATOMIC_RELAXED);
            sum += __atomic_load_n(&rs->sum_us, __ATOMIC_RELAXED);
        }
        for (size_t j = 0; j <= NBUCKETS; j++) total += bk[j];
        if (!total) continue;
        uint64_t cum = 0;
        for (size_t j = 0; j <= NBUCKETS; j++) {
            cum += bk[j];
            buf_puts(b, "kiln_http_request_duration_seconds_bucket{route=\"");
            label(b, route_name(r));
            if (j < NBUCKETS) buf_printf(b, "\",le=\"%g\"} %llu\n", bucket_le[j], (unsigned long long)cum);
            else buf_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        buf_puts(b, "kiln_http_request_duration_seconds_sum{route=\"");
        label(b, route_name(r));
        buf_printf(b, "\"} %.6f\n", (double)sum / 1e6);
        buf_puts(b, "kiln_http_request_duration_seconds_count{route=\"");
        label(b, route_name(r));
        buf_printf(b, "\"} %llu\n", (unsigned long long)total);
    }
    /* The plain series: one per counter or gauge; a family's HELP/TYPE
     * lines come with its first series. */
    static const struct series {
        const char *family, *labels, *type, *help;
        int index;                       /* metric_counter or metric_gauge */
    } plain[] = {
        { "kiln_http_requests_in_flight", "", "gauge", "Requests being handled now.", MG_INFLIGHT },
        { "kiln_worker_restarts_total", "", "counter", "Workers started again after one ended.", MC_WORKER_RESTARTS },
        { "kiln_worker_crashes_total", "", "counter", "Workers that died of a signal or a failure exit.", MC_WORKER_CRASHES },
        { "kiln_db_pool_connections", "{state=\"open\"}", "gauge", "Database connections, by state.", MG_DB_POOL_OPEN },
        { "kiln_db_pool_connections", "{state=\"in_use\"}", "gauge", NULL, MG_DB_POOL_IN_USE },
        { "kiln_db_pool_waits_total", "", "counter", "Queries that waited for a pooled connection.", MC_DB_POOL_WAITS },
        { "kiln_db_errors_total", "", "counter", "Queries that failed (not constraint violations).", MC_DB_ERRORS },
        { "kiln_reporter_queue_depth", "", "gauge", "Error reports waiting to be sent.", MG_REPORT_QUEUE },
        { "kiln_reporter_events_total", "{outcome=\"queued\"}", "counter", "Error reports, by outcome.", MC_REPORT_QUEUED },
        { "kiln_reporter_events_total", "{outcome=\"sent\"}", "counter", NULL, MC_REPORT_SENT },
        { "kiln_reporter_events_total", "{outcome=\"dropped\"}", "counter", NULL, MC_REPORT_DROPPED },
        { "kiln_reporter_events_total", "{outcome=\"failed\"}", "counter", NULL, MC_REPORT_FAILED },
        { "kiln_websocket_connections_open", "", "gauge", "WebSocket connections open now.", MG_WS_OPEN },
        { "kiln_websocket_connections_total", "", "counter", "WebSocket connections accepted.", MC_WS_CONNECTIONS },
        { "kiln_websocket_messages_total", "{direction=\"in\"}", "counter", "WebSocket messages, by direction.", MC_WS_MESSAGES_IN },
        { "kiln_websocket_messages_total", "{direction=\"out\"}", "counter", NULL, MC_WS_MESSAGES_OUT },
        { "kiln_graphql_document_cache_total", "{result=\"hit\"}", "counter",
          "GraphQL documents looked up in the parsed-document cache, by result.", MC_GQL_DOC_HITS },
        { "kiln_graphql_document_cache_total", "{result=\"miss\"}", "counter", NULL, MC_GQL_DOC_MISSES },
    };
    for (size_t i = 0; i < ARRAY_LEN(plain); i++) {
        const struct series *m = &plain[i];
        if (m->help) header(b, m->family, m->type, m->help);
        if (m->type[0] == 'g') buf_printf(b, "%s%s %lld\n", m->family, m->labels, (long long)sum_gauge(m->index));
        else buf_printf(b, "%s%s %llu\n", m->family, m->labels, (unsigned long long)sum_counter(m->index));
    }
}
