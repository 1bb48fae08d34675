/*
 * probe.c -- the cluster test's latency probe (netns_cluster.test.mjs): one
 * kept-alive connection to HOST:PORT sending `GET PATH` at most once every
 * PACE_MS, each answer timed with CLOCK_MONOTONIC from the write to the last
 * byte of the body. It runs inside a machine's network namespace next to
 * that machine, so what it measures is the machine, not the network.
 *
 *   probe HOST PORT PATH PACE_MS MAX_MS
 *
 * Prints one JSON line per request, the same fields as client.mjs:
 *   {"i":3,"m":"GET","s":200,"t0":1764330000123,"at":1764330000124,"ms":0.412}
 * (s 0: no answer -- refused, reset or 3 s without one; t0/at: wall-clock
 * milliseconds at send and at the end). Stops after MAX_MS or on SIGTERM
 * (after the request in flight), exit status 0.
 *
 * Why C and not node: a node client adds its own event loop, timers and
 * garbage collector to every figure (milliseconds on a busy box, and tens of
 * them while it compiles its first requests), and the aim it checks is 5 ms.
 * Its own floor is printed by the test against a fixed-response server.
 *
 * Owns: its one socket. Must never: talk to anything but HOST:PORT, run
 * unbounded (MAX_MS), or parse more than a Content-Length answer (what
 * Kiln's /api/hello sends; chunked or close-delimited answers count as
 * failures, s 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 3000

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Waits for fd to be readable until `deadline` (mono ms): 1 ready, 0 not. */
static int wait_readable(int fd, double deadline)
{
    for (;;) {
        int left = (int)(deadline - mono_ms());
        if (left <= 0) return 0;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, left);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return 0;
    }
}

/* One request on fd; returns the status (0: no complete answer). */
static int one_request(int fd, const char *req, size_t reqlen, double deadline)
{
    static char buf[65536];
    size_t have = 0;
    if (write(fd, req, reqlen) != (ssize_t)reqlen) return 0;
    for (;;) {
        if (!wait_readable(fd, deadline)) return 0;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) return 0;
        have += (size_t)n;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (have == sizeof buf - 1) return 0;
            continue;
        }
        int status = 0;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return 0;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (!cl || cl > end) return 0;
        size_t want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
        if (want >= sizeof buf) return 0;
        while (have < want) {
            if (!wait_readable(fd, deadline)) return 0;
            n = read(fd, buf + have, sizeof buf - 1 - have);
            if (n <= 0) return 0;
            have += (size_t)n;
        }
        return have == want ? status : 0; /* more: not a lone answer */
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: probe HOST PORT PATH PACE_MS MAX_MS\n");
        return 2;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "probe: not an IPv4 address: %s\n", argv[1]);
        return 2;
    }
    char req[512];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", argv[3], argv[1], argv[2]);
    if (reqlen <= 0 || reqlen >= (int)sizeof req) return 2;
    double pace = atof(argv[4]), end = mono_ms() + atof(argv[5]);
    struct sigaction act = { .sa_handler = on_term };
    sigaction(SIGTERM, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    int fd = -1;
    for (long i = 0; !stopping && mono_ms() < end; i++) {
        long long t0 = wall_ms();
        double p0 = mono_ms();
        if (fd < 0) fd = connect_to(&sa);
        int status = fd < 0 ? 0 : one_request(fd, req, (size_t)reqlen, p0 + TIMEOUT_MS);
        double ms = mono_ms() - p0;
        if (status == 0 && fd >= 0) {
            close(fd);
            fd = -1;
        }
        printf("{\"i\":%ld,\"m\":\"GET\",\"s\":%d,\"t0\":%lld,\"at\":%lld,\"ms\":%.3f}\n", i, status, t0, wall_ms(), ms);
        double wait = pace - (mono_ms() - p0);
        if (wait > 0) {
            struct timespec ts = { (time_t)(wait / 1e3), (long)((wait - (long)(wait / 1e3) * 1e3) * 1e6) };
            nanosleep(&ts, NULL);
        }
    }
    if (fd >= 0) close(fd);
    return 0;
}
