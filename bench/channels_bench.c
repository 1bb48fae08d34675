/*
 * channels_bench.c -- the channel ring (src/realtime/channel.c), measured and
 * printed (never a test): events per second from one process to another,
 * one event to 10,000 local subscribers, and one event across processes.
 *
 *   cc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -Isrc bench/channels_bench.c build/libkiln.a \
 *      -lsqlite3 -lpq -lsodium -lcurl -lhiredis -lpthread -lm -lnettle -lz -o build/channels_bench
 *   build/channels_bench
 */
#include "realtime/channel.h"
#include "runtime/engine.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long got;
static double t_last;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void count(void *ctx, kiln_str ch, kiln_str ev, kiln_str data)
{
    (void)ctx; (void)ch; (void)ev; (void)data;
    got++;
    t_last = now();
}

int main(void)
{
    log_init(LOG_ERROR, 0);
    loop *l = loop_new();
    channel_attach(l);

    /* 1. Throughput: another process publishes 200,000 events of 100 bytes. */
    enum { N = 200000, FAN = 10000, ROUNDS = 200 };
    channel_sub *s = channel_subscribe("b", count, NULL);
    char data[101];
    memset(data, 'x', 100);
    data[0] = data[99] = '"';
    data[100] = 0;
    double t0 = now();
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < N; i++) kiln_publish("b", "e", data);
        _exit(0);
    }
    while (got < N && now() - t0 < 30) loop_run_once(l, 10);
    waitpid(p, NULL, 0);
    channel_stats st;
    channel_stats_get(&st);
    printf("another process -> this one: %ld of %d delivered (%llu lost: this reader fell behind), %.0f events/s\n",
           got, N, (unsigned long long)st.lost, (double)got / (t_last - t0));
    channel_unsubscribe(s);

    /* 2. Fan-out: one event, 10,000 subscribers on this worker. */
    static channel_sub *subs[FAN];
    for (int i = 0; i < FAN; i++) subs[i] = channel_subscribe("f", count, NULL);
    got = 0;
    double t1 = now();
    kiln_publish("f", "e", "{\"id\":1}");
    while (got < FAN) loop_run_once(l, 10);
    printf("one event to %d local subscribers: %.3f ms from publish to the last callback\n", FAN, (t_last - t1) * 1e3);
    for (int i = 0; i < FAN; i++) channel_unsubscribe(subs[i]);

    /* 3. Latency across processes (fork included). */
    double lat = 0;
    for (int r = 0; r < ROUNDS; r++) {
        got = 0;
        channel_sub *q = channel_subscribe("lat", count, NULL);
        double a = now();
        pid_t c = fork();
        if (c == 0) {
            kiln_publish("lat", "e", "1");
            _exit(0);
        }
        while (!got) loop_run_once(l, 10);
        lat += t_last - a;
        waitpid(c, NULL, 0);
        channel_unsubscribe(q);
    }
    printf("fork, publish in the child, deliver here: %.3f ms on average\n", lat / ROUNDS * 1e3);
    channel_detach();
    loop_free(l);
    return 0;
}
