/* test_metrics.c -- the shared metric regions: off unless KILN_METRICS=1;
 * counts from several "workers" (regions) summed in one exposition; status
 * classes, histogram buckets cumulative, label values escaped; a region's
 * gauges reset when a new worker binds it, its counters kept. Regions are
 * shared memory: a forked child's counts are seen by the parent. */
#include "t.h"
#include "metrics/metrics.h"
#include "kiln.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *line_value(const char *text, const char *series)
{
    static char v[64];
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)); p += n) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ') {
            size_t k = strcspn(p + n + 1, "\n");
            snprintf(v, sizeof v, "%.*s", (int)k, p + n + 1);
            return v;
        }
    }
    return NULL;
}

TEST(metrics_sum_across_regions)
{
    static const char *const patterns[] = { "/api/hello", "/api/q\"uote" };
    setenv("KILN_METRICS", "1", 1);
    metrics_init(2, patterns, 2);
    CHECK(metrics_on);
    metrics_bind(0);
    metrics_request(0, KILN_GET, 200, 300);        /* <= 0.5 ms */
    metrics_request(0, KILN_GET, 204, 3000);       /* <= 5 ms   */
    metrics_request(1, KILN_POST, 404, 20);
    metrics_request(-1, -1, 503, 20);
    metrics_gauge_add(MG_INFLIGHT, 2);
    metrics_add(MC_WS_MESSAGES_IN, 5);
    pid_t pid = fork();
    if (pid == 0) {                                /* worker 1, another process */
        metrics_bind(1);
        metrics_request(0, KILN_GET, 200, 100);
        metrics_add(MC_WS_MESSAGES_IN, 2);
        metrics_gauge_add(MG_INFLIGHT, 1);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    buf b;
    buf_init(&b, 0);
    metrics_render(&b);
    buf_putc(&b, '\0');
    CHECK_EQ_STR(line_value(b.data, "kiln_http_requests_total{route=\"/api/hello\",method=\"GET\",status=\"2xx\"}"), "3");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_requests_total{route=\"/api/q\\\"uote\",method=\"POST\",status=\"4xx\"}"), "1");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_requests_total{route=\"(none)\",method=\"other\",status=\"5xx\"}"), "1");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_request_duration_seconds_bucket{route=\"/api/hello\",le=\"0.0005\"}"), "2");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_request_duration_seconds_bucket{route=\"/api/hello\",le=\"0.005\"}"), "3");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_request_duration_seconds_bucket{route=\"/api/hello\",le=\"+Inf\"}"), "3");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_request_duration_seconds_count{route=\"/api/hello\"}"), "3");
    CHECK_EQ_STR(line_value(b.data, "kiln_http_requests_in_flight"), "3");
    CHECK_EQ_STR(line_value(b.data, "kiln_websocket_messages_total{direction=\"in\"}"), "7");
    /* A new worker in slot 1: its gauges start at zero, counters stay. */
    metrics_bind(1);
    b.len = 0;
    metrics_render(&b);
    buf_putc(&b, '\0');
    CHECK_EQ_STR(line_value(b.data, "kiln_http_requests_in_flight"), "2");
    CHECK_EQ_STR(line_value(b.data, "kiln_websocket_messages_total{direction=\"in\"}"), "7");
    buf_free(&b);
}

int main(void) { return t_run(); }
