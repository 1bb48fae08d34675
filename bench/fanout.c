/*
 * fanout.c -- the fan-out load client of bench/ws.sh (a bench tool, never a
 * test): N WebSocket subscribers on one epoll loop, one trigger, and the
 * time until the last subscriber has the event.
 *
 *   fanout PORT SUB_PATH N READY TRIGGER_METHOD TRIGGER_PATH [TRIGGER_BODY]
 *
 * 1. Opens N connections to 127.0.0.1:PORT (non-blocking, 500 at a time in
 *    flight), sends the WebSocket handshake for SUB_PATH, and waits until
 *    every one got its 101 and, unless READY is "-", a message containing
 *    READY (Kiln's /api/sub says "subscribed" once it is in place).
 * 2. Takes t0 (CLOCK_MONOTONIC), sends the trigger (an HTTP/1.1 request on
 *    its own connection: a publish), and reads every subscriber until each
 *    has a message containing "fan.event"; each arrival is timestamped.
 * 3. Prints one line: last, p50 and p99 arrival in ms after t0, and how many
 *    got it. Exit status 1 if not all did within 30 s.
 *
 * Owns: its sockets (all closed at exit). Must never: talk to anything but
 * loopback, or run longer than its bounds (connect phase 60 s, wait 30 s).
 * Frames are not parsed: the event name is searched for in the bytes, with
 * the tail of the previous read kept so a split name is still seen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_UPGRADING, ST_READY, ST_GOT };

typedef struct sub {
    int fd;
    int state;
    char tail[32];       /* the last bytes seen, for a split marker */
    size_t tail_len;
    double got_ms;
} sub;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct sockaddr_in addr;
static const char *sub_path, *ready;

static int open_one(int ep, sub *s, int idx)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) return -1;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) return -1;
    s->state = ST_CONNECTING;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)idx };
    return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Look for marker in what came (with the previous tail in front). */
static int seen(sub *s, const char *p, size_t n, const char *marker)
{
    char joined[32 + 4096];
    size_t k = n > 4096 ? 4096 : n;
    memcpy(joined, s->tail, s->tail_len);
    memcpy(joined + s->tail_len, p + (n - k), k);
    size_t len = s->tail_len + k;
    int hit = memmem(joined, len, marker, strlen(marker)) != NULL;
    size_t keep = len < sizeof s->tail ? len : sizeof s->tail;
    memcpy(s->tail, joined + len - keep, keep);
    s->tail_len = keep;
    return hit;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: fanout PORT SUB_PATH N READY TRIGGER_METHOD TRIGGER_PATH [BODY]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    sub_path = argv[2];
    int n = atoi(argv[3]);
    ready = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
    const char *tmethod = argv[5], *tpath = argv[6], *tbody = argc > 7 ? argv[7] : "";
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    sub *subs = calloc((size_t)n, sizeof *subs);
    int ep = epoll_create1(0);
    char req[512];
    int reqlen = snprintf(req, sizeof req,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", sub_path);
    struct epoll_event evs[512];
    char buf[65536];
    int opened = 0, readied = 0;
    double deadline = now_ms() + 60000;
    /* 1. connect and upgrade, at most 500 in flight */
    while (readied < n && now_ms() < deadline) {
        while (opened < n && opened - readied < 500) {
            if (open_one(ep, &subs[opened], opened) < 0) { perror("fanout: connect"); return 1; }
            opened++;
        }
        int k = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < k; i++) {
            sub *s = &subs[evs[i].data.u32];
            if (s->state == ST_CONNECTING && (evs[i].events & EPOLLOUT)) {
                if (write(s->fd, req, (size_t)reqlen) != reqlen) { perror("fanout: handshake"); return 1; }
                s->state = ST_UPGRADING;
            }
            if (!(evs[i].events & EPOLLIN)) continue;
            for (;;) {
                ssize_t r = read(s->fd, buf, sizeof buf);
                if (r <= 0) {
                    if (r == 0) { fprintf(stderr, "fanout: a subscriber was closed while connecting\n"); return 1; }
                    break;
                }
                if (s->state == ST_UPGRADING && seen(s, buf, (size_t)r, ready ? ready : " 101 ")) {
                    s->state = ST_READY;
                    readied++;
                }
            }
        }
    }
    if (readied < n) { fprintf(stderr, "fanout: only %d of %d subscribers ready in 60 s\n", readied, n); return 1; }
    for (int i = 0; i < n; i++) subs[i].tail_len = 0;
    usleep(200 * 1000);            /* let the server settle */

    /* 2. trigger and wait */
    int tfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(tfd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("fanout: trigger connect"); return 1; }
    int tlen = snprintf(req, sizeof req,
                        "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", tmethod, tpath, strlen(tbody), tbody);
    double t0 = now_ms();
    if (write(tfd, req, (size_t)tlen) != tlen) { perror("fanout: trigger"); return 1; }
    int got = 0;
    deadline = t0 + 30000;
    while (got < n && now_ms() < deadline) {
        int k = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < k; i++) {
            sub *s = &subs[evs[i].data.u32];
            for (;;) {
                ssize_t r = read(s->fd, buf, sizeof buf);
                if (r <= 0) break;
                if (s->state == ST_READY && seen(s, buf, (size_t)r, "fan.event")) {
                    s->state = ST_GOT;
                    s->got_ms = now_ms() - t0;
                    got++;
                }
            }
        }
    }
    close(tfd);
    double *t = calloc((size_t)n, sizeof *t);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (subs[i].state == ST_GOT) t[m++] = subs[i].got_ms;
    qsort(t, (size_t)m, sizeof *t, cmp);
    if (m) printf("last %.1f ms, p50 %.1f ms, p99 %.1f ms, %d of %d got it\n", t[m - 1], t[m / 2], t[(m * 99) / 100], m, n);
    else printf("none of %d got it\n", n);
    for (int i = 0; i < n; i++) close(subs[i].fd);
    free(t);
    free(subs);
    close(ep);
    return m == n ? 0 : 1;
}
