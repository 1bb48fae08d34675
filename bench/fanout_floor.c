/*
 * fanout_floor.c -- the floor of the fan-out benchmark (a bench tool, never a
 * test, and not a WebSocket server): the least any server on this machine can
 * do to put one message into N connected loopback TCP sockets. bench/fanout.sh
 * measures it with the same client (bench/fanout.c) as Kiln and `ws`.
 *
 *   fanout_floor PORT
 *
 * Listens on 127.0.0.1:PORT. A request with an Upgrade header gets a fixed
 * "101 Switching Protocols" (the client does not check the accept key) and
 * its socket joins the subscribers. Any other request is a trigger: one
 * pre-framed text message -- the very bytes Kiln sends for the bench's event,
 * {"event":"fan.event","data":{"n":1}} -- goes to every subscriber with one
 * send(MSG_DONTWAIT | MSG_NOSIGNAL) each, in a plain loop timed with
 * CLOCK_MONOTONIC, and the answer is a 204 whose X-Send-Loop-Us header says
 * how long the loop took. Sockets get TCP_NODELAY, as Kiln's do. Nothing is
 * framed, allocated, looked up or logged per subscriber.
 *
 * To try socket options (bench/README.md): FLOOR_NODELAY=0 leaves Nagle on,
 * FLOOR_CC=cubic sets TCP_CONGESTION (the machine's default here is bbr),
 * FLOOR_SNDBUF=N sets SO_SNDBUF, on every accepted socket.
 *
 * Owns: its sockets. Must never: listen anywhere but loopback, or block (a
 * send that does not take the whole frame is counted and printed at exit).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define MAXFD 65536

static const char EVENT[] = "{\"event\":\"fan.event\",\"data\":{\"n\":1}}";
static const char UPGRADED[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

static unsigned char is_sub[MAXFD];
static int subs[MAXFD], nsubs;

static double mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: fanout_floor PORT\n"); return 2; }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max < MAXFD ? rl.rlim_max : MAXFD;
    setrlimit(RLIMIT_NOFILE, &rl);

    /* The frame: FIN + text, unmasked, 7-bit length. */
    uint8_t frame[2 + sizeof EVENT];
    size_t flen = sizeof EVENT - 1;
    frame[0] = 0x81;
    frame[1] = (uint8_t)flen;
    memcpy(frame + 2, EVENT, flen);
    flen += 2;

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) { perror("fanout_floor: listen"); return 1; }
    int nodelay = getenv("FLOOR_NODELAY") ? atoi(getenv("FLOOR_NODELAY")) : 1;
    const char *cc = getenv("FLOOR_CC");
    int sndbuf = getenv("FLOOR_SNDBUF") ? atoi(getenv("FLOOR_SNDBUF")) : 0;
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[512];
    long short_sends = 0;
    for (;;) {
        int k = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) { close(c); continue; }
                    if (nodelay) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (cc && *cc && setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
                        perror("fanout_floor: TCP_CONGESTION");
                    if (sndbuf) setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
                    is_sub[c] = 0;
                    struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            char b[4096];
            ssize_t r = read(fd, b, sizeof b);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                if (is_sub[fd])
                    for (int j = 0; j < nsubs; j++)
                        if (subs[j] == fd) { subs[j] = subs[--nsubs]; break; }
                is_sub[fd] = 0;
                close(fd);
                continue;
            }
            if (is_sub[fd]) continue;                 /* subscribers say nothing we need */
            /* The client's requests are small: a head comes in one read. */
            if (!memmem(b, (size_t)r, "\r\n\r\n", 4)) continue;
            if (memmem(b, (size_t)r, "Upgrade:", 8)) {
                if (write(fd, UPGRADED, sizeof UPGRADED - 1) < 0) { close(fd); continue; }
                is_sub[fd] = 1;
                subs[nsubs++] = fd;
                continue;
            }
            /* A trigger: the floor itself. */
            double t0 = mono_us();
            for (int j = 0; j < nsubs; j++)
                if (send(subs[j], frame, flen, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)flen) short_sends++;
            double us = mono_us() - t0;
            char ans[160];
            int al = snprintf(ans, sizeof ans, "HTTP/1.1 204 No Content\r\nX-Send-Loop-Us: %.0f\r\nConnection: close\r\n\r\n", us);
            if (write(fd, ans, (size_t)al) < 0) { /* the client went away: nothing to do */ }
            close(fd);
            if (short_sends) fprintf(stderr, "fanout_floor: %ld sends did not take the whole frame\n", short_sends);
        }
    }
}
