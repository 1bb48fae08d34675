/*
 * fanout.c -- the fan-out load client of bench/fanout.sh and bench/ws.sh (a
 * bench tool, never a test): N WebSocket subscribers per server on one epoll
 * loop, one trigger per round, and the time until the last subscriber has
 * the event. Several servers are measured in the same run, round after round
 * in turn (A B C A B C ...), by the same code, so load on the machine falls
 * on all of them alike.
 *
 *   fanout N ROUNDS NAME PORT PID SUB_PATH READY METHOD TRIGGER_PATH BODY [NAME ...]
 *
 * 1. For every server: opens N connections to 127.0.0.1:PORT (non-blocking,
 *    500 at a time in flight), sends the WebSocket handshake for SUB_PATH,
 *    and waits until every one got its 101 and, unless READY is "-", a
 *    message containing READY (Kiln's /api/sub says "subscribed" once in
 *    place). Every subscriber asks the kernel for receive timestamps
 *    (SO_TIMESTAMPNS): each segment is stamped when the sender's send() hands
 *    it to the loopback device, so the time a subscriber *has* the event does
 *    not depend on when this one process gets round to reading its socket.
 * 2. Each round, for each server: opens the trigger connection (before t0),
 *    takes t0 (CLOCK_REALTIME, the clock of the stamps), sends the trigger
 *    (an HTTP/1.1 request: Kiln's POST /api/publish, a GET for the others)
 *    and reads every subscriber until each has a message containing
 *    "fan.event". Per subscriber: the kernel's stamp ("in its socket") and
 *    the time this client read it ("read").
 * 3. Prints per round and server: first / p50 / last in the socket, the
 *    spread (last - first: the fan-out itself, without the trigger's HTTP
 *    round and the publish path), and the last read; if the trigger's answer
 *    has an X-Send-Loop-Us header (bench/fanout_floor.c), the server's own
 *    timing of its send loop. With a PID (not "-"): the CPU time the server
 *    process (all its threads) ran during the round and the time it was
 *    runnable but waiting for a CPU, from the schedstat of each of /proc/PID/task:
 *    on a machine others load, the CPU figure is the one that compares.
 *    Then the medians over the rounds, and the server's VmRSS with the N
 *    subscribers connected, before the first round and after the last (what
 *    a broadcast leaves behind per subscriber).
 * With FANOUT_PERF_CTL set to a perf --control fifo, writes "enable" to it
 * before the rounds and "disable" after, so a profile holds the rounds only.
 *
 * Owns: its sockets (all closed at exit). Must never: talk to anything but
 * loopback, or run longer than its bounds (connect phase 60 s per server,
 * 30 s per round). Frames are not parsed: the event name is searched for in
 * the bytes, with the tail of the previous read kept so a split name is seen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
enum { MAX_TARGETS = 4, MAX_ROUNDS = 50 };

typedef struct sub {
    int fd;
    int state;
    char tail[32];       /* the last bytes seen, for a split marker */
    size_t tail_len;
    double in_ms;        /* kernel stamp - t0 */
    double read_ms;      /* read - t0 */
} sub;

typedef struct target {
    const char *name, *sub_path, *ready, *method, *tpath, *body;
    int pid;             /* the server's process (0: unknown)                */
    struct sockaddr_in addr;
    sub *subs;
    int ep;
    /* per round: first, p50, last in socket; last read; server's own loop */
    double first[MAX_ROUNDS], p50[MAX_ROUNDS], last[MAX_ROUNDS], rlast[MAX_ROUNDS], loop_us[MAX_ROUNDS];
    double cpu_ms[MAX_ROUNDS], wait_ms[MAX_ROUNDS];
    int rounds_ok;
    long rss_before, rss_after;   /* kB, with the subscribers connected */
} target;

static int n;

static double realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int open_one(target *t, sub *s, int idx)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) return -1;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0 && errno != EINPROGRESS) return -1;
    s->state = ST_CONNECTING;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)idx };
    return epoll_ctl(t->ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Look for marker in what came (with the previous tail in front). */
static int seen(sub *s, const char *p, size_t len_in, const char *marker)
{
    char joined[32 + 4096];
    size_t k = len_in > 4096 ? 4096 : len_in;
    memcpy(joined, s->tail, s->tail_len);
    memcpy(joined + s->tail_len, p + (len_in - k), k);
    size_t len = s->tail_len + k;
    int hit = memmem(joined, len, marker, strlen(marker)) != NULL;
    size_t keep = len < sizeof s->tail ? len : sizeof s->tail;
    memcpy(s->tail, joined + len - keep, keep);
    s->tail_len = keep;
    return hit;
}

/* One read with its kernel receive stamp (ms since the epoch; 0: none). */
static ssize_t read_stamped(int fd, char *buf, size_t cap, double *stamp_ms)
{
    char ctl[256];
    struct iovec iov = { buf, cap };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
    ssize_t r = recvmsg(fd, &mh, 0);
    *stamp_ms = 0;
    if (r > 0)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                *stamp_ms = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
            }
    return r;
}

/* CPU time run and time spent waiting for a CPU, in ns, summed over the
 * threads of pid (the first two fields of each schedstat). */
static void schedstat(int pid, double *run_ns, double *wait_ns)
{
    *run_ns = *wait_ns = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p2[320];
        snprintf(p2, sizeof p2, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(p2, "r");
        if (!f) continue;
        double a, b;
        if (fscanf(f, "%lf %lf", &a, &b) == 2) { *run_ns += a; *wait_ns += b; }
        fclose(f);
    }
    closedir(d);
}

/* VmRSS of pid in kB (0: unknown). */
static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int k)
{
    double t[MAX_ROUNDS];
    memcpy(t, v, (size_t)k * sizeof *t);
    qsort(t, (size_t)k, sizeof *t, cmp);
    return k ? (k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2) : 0;
}

static char buf[65536];

static int connect_all(target *t)
{
    char req[512];
    int reqlen = snprintf(req, sizeof req,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          t->sub_path);
    struct epoll_event evs[1024];
    int opened = 0, readied = 0;
    double deadline = realtime_ms() + 60000;
    while (readied < n && realtime_ms() < deadline) {
        while (opened < n && opened - readied < 500) {
            if (open_one(t, &t->subs[opened], opened) < 0) { perror("fanout: connect"); return -1; }
            opened++;
        }
        int k = epoll_wait(t->ep, evs, 1024, 100);
        for (int i = 0; i < k; i++) {
            sub *s = &t->subs[evs[i].data.u32];
            if (s->state == ST_CONNECTING && (evs[i].events & EPOLLOUT)) {
                if (write(s->fd, req, (size_t)reqlen) != reqlen) { perror("fanout: handshake"); return -1; }
                s->state = ST_UPGRADING;
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = evs[i].data.u32 };
                epoll_ctl(t->ep, EPOLL_CTL_MOD, s->fd, &ev);   /* level-triggered reads from now on */
            }
            if (!(evs[i].events & EPOLLIN)) continue;
            double st;
            ssize_t r = read_stamped(s->fd, buf, sizeof buf, &st);
            if (r == 0) { fprintf(stderr, "fanout %s: a subscriber was closed while connecting\n", t->name); return -1; }
            if (r > 0 && s->state == ST_UPGRADING && seen(s, buf, (size_t)r, t->ready ? t->ready : " 101 ")) {
                s->state = ST_READY;
                readied++;
            }
        }
    }
    if (readied < n) { fprintf(stderr, "fanout %s: only %d of %d subscribers ready in 60 s\n", t->name, readied, n); return -1; }
    return 0;
}

/* One round on one server; returns 0 when every subscriber got the event. */
static int round_one(target *t, int r)
{
    for (int i = 0; i < n; i++) { t->subs[i].state = ST_READY; t->subs[i].tail_len = 0; }
    int tfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(tfd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0) { perror("fanout: trigger connect"); return -1; }
    int one = 1;
    setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[1024];
    int tlen = snprintf(req, sizeof req,
                        "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", t->method, t->tpath, strlen(t->body), t->body);
    struct epoll_event evs[1024];
    double run0 = 0, wait0 = 0;
    if (t->pid) schedstat(t->pid, &run0, &wait0);
    double t0 = realtime_ms();
    if (write(tfd, req, (size_t)tlen) != tlen) { perror("fanout: trigger"); close(tfd); return -1; }
    int got = 0;
    double deadline = t0 + 30000;
    while (got < n && realtime_ms() < deadline) {
        int k = epoll_wait(t->ep, evs, 1024, 100);
        for (int i = 0; i < k; i++) {
            sub *s = &t->subs[evs[i].data.u32];
            double st;
            ssize_t rr = read_stamped(s->fd, buf, sizeof buf, &st);
            if (rr == 0) { fprintf(stderr, "fanout %s: a subscriber was closed\n", t->name); close(tfd); return -1; }
            if (rr > 0 && s->state == ST_READY && seen(s, buf, (size_t)rr, "fan.event")) {
                double now = realtime_ms();
                s->state = ST_GOT;
                s->read_ms = now - t0;
                s->in_ms = (st ? st : now) - t0;
                got++;
            }
        }
    }
    /* The trigger's answer: the floor server reports its own send loop. */
    char ans[2048];
    size_t al = 0;
    struct pollfd pf = { tfd, POLLIN, 0 };
    while (al < sizeof ans - 1 && poll(&pf, 1, 2000) > 0) {
        ssize_t k = read(tfd, ans + al, sizeof ans - 1 - al);
        if (k <= 0) break;
        al += (size_t)k;
    }
    ans[al] = '\0';
    close(tfd);
    if (t->pid) {
        double run1, wait1;
        schedstat(t->pid, &run1, &wait1);
        t->cpu_ms[r] = (run1 - run0) / 1e6;
        t->wait_ms[r] = (wait1 - wait0) / 1e6;
    }
    const char *lu = strstr(ans, "X-Send-Loop-Us: ");
    t->loop_us[r] = lu ? atof(lu + 16) : -1;
    if (got < n) { fprintf(stderr, "fanout %s: only %d of %d got the event in 30 s\n", t->name, got, n); return -1; }
    static double *in, *rd;
    if (!in) { in = calloc((size_t)n, sizeof *in); rd = calloc((size_t)n, sizeof *rd); }
    for (int i = 0; i < n; i++) { in[i] = t->subs[i].in_ms; rd[i] = t->subs[i].read_ms; }
    qsort(in, (size_t)n, sizeof *in, cmp);
    qsort(rd, (size_t)n, sizeof *rd, cmp);
    t->first[r] = in[0];
    t->p50[r] = in[n / 2];
    t->last[r] = in[n - 1];
    t->rlast[r] = rd[n - 1];
    printf("round %d %-6s in socket: first %.2f p50 %.2f last %.2f ms (spread %.2f); last read %.2f ms",
           r + 1, t->name, in[0], in[n / 2], in[n - 1], in[n - 1] - in[0], rd[n - 1]);
    if (t->loop_us[r] >= 0) printf("; server's send loop %.2f ms", t->loop_us[r] / 1000);
    if (t->pid) printf("; server CPU %.2f ms, waited for CPU %.2f ms", t->cpu_ms[r], t->wait_ms[r]);
    printf("\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 11 || (argc - 3) % 8 != 0) {
        fprintf(stderr, "usage: fanout N ROUNDS NAME PORT PID SUB_PATH READY METHOD TRIGGER_PATH BODY [NAME ...]\n");
        return 2;
    }
    n = atoi(argv[1]);
    int rounds = atoi(argv[2]);
    if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS) { fprintf(stderr, "fanout: bad N or ROUNDS\n"); return 2; }
    int nt = (argc - 3) / 8;
    if (nt > MAX_TARGETS) { fprintf(stderr, "fanout: at most %d servers\n", MAX_TARGETS); return 2; }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    static target ts[MAX_TARGETS];
    for (int i = 0; i < nt; i++) {
        char **a = argv + 3 + 8 * i;
        target *t = &ts[i];
        t->name = a[0];
        t->addr.sin_family = AF_INET;
        t->addr.sin_port = htons((uint16_t)atoi(a[1]));
        t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t->pid = atoi(a[2]);
        t->sub_path = a[3];
        t->ready = strcmp(a[4], "-") == 0 ? NULL : a[4];
        t->method = a[5];
        t->tpath = a[6];
        t->body = a[7];
        t->subs = calloc((size_t)n, sizeof *t->subs);
        t->ep = epoll_create1(0);
        if (connect_all(t) < 0) return 1;
    }
    usleep(300 * 1000);            /* let the servers settle */
    const char *ctl = getenv("FANOUT_PERF_CTL");
    FILE *perf_ctl = ctl && *ctl ? fopen(ctl, "w") : NULL;
    if (perf_ctl) { fputs("enable\n", perf_ctl); fflush(perf_ctl); usleep(50 * 1000); }
    int failed = 0;
    for (int i = 0; i < nt; i++) if (ts[i].pid) ts[i].rss_before = rss_kb(ts[i].pid);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nt; i++) {
            if (ts[i].rounds_ok < r) continue;          /* it failed a round: stop measuring it */
            if (round_one(&ts[i], r) == 0) ts[i].rounds_ok++;
            else failed = 1;
            usleep(100 * 1000);
        }
    if (perf_ctl) { fputs("disable\n", perf_ctl); fclose(perf_ctl); }
    usleep(200 * 1000);
    for (int i = 0; i < nt; i++) if (ts[i].pid) ts[i].rss_after = rss_kb(ts[i].pid);
    for (int i = 0; i < nt; i++) {
        target *t = &ts[i];
        int k = t->rounds_ok;
        if (!k) { printf("%-6s %d subscribers: no round completed\n", t->name, n); continue; }
        double lo = t->last[0], hi = t->last[0];
        for (int r = 1; r < k; r++) { if (t->last[r] < lo) lo = t->last[r]; if (t->last[r] > hi) hi = t->last[r]; }
        double spread[MAX_ROUNDS];
        for (int r = 0; r < k; r++) spread[r] = t->last[r] - t->first[r];
        printf("%-6s %5d subscribers, median of %d rounds: last in socket %.2f ms (%.2f..%.2f), first %.2f, "
               "p50 %.2f, spread %.2f; last read by the client %.2f ms",
               t->name, n, k, median(t->last, k), lo, hi, median(t->first, k), median(t->p50, k),
               median(spread, k), median(t->rlast, k));
        if (t->loop_us[0] >= 0) printf("; server's own send loop %.2f ms", median(t->loop_us, k) / 1000);
        if (t->pid) printf("; server CPU %.2f ms (%.2f us per subscriber), waited for CPU %.2f ms; "
                           "RSS with them connected %ld kB before the rounds, %ld kB after",
                           median(t->cpu_ms, k), median(t->cpu_ms, k) * 1000 / n, median(t->wait_ms, k),
                           t->rss_before, t->rss_after);
        printf("\n");
    }
    for (int i = 0; i < nt; i++) {
        for (int j = 0; j < n; j++) if (ts[i].subs[j].fd > 0) close(ts[i].subs[j].fd);
        free(ts[i].subs);
        close(ts[i].ep);
    }
    return failed;
}
