/*
 * master.c -- server_main(): the server's main. Parses options, runs the
 * framework's master_start hooks (routes, schemas, migrations: a bad table
 * fails before anything listens), forks the workers and keeps them alive.
 *
 *   SIGCHLD  a worker died: log how (signal or status) and start another
 *   SIGTERM  (or SIGINT) pass it on, wait for the workers to drain, exit 0
 *   SIGHUP   zero-downtime restart: start a new set of workers, wait until
 *            each is listening, then drain the old set
 *
 * The listening sockets are opened here, before the first fork: one
 * SO_REUSEPORT socket per worker slot (the kernel spreads connections over
 * them), each inherited by every worker of that slot, generation after
 * generation. Closing a socket resets the connections still queued in it,
 * so no worker may own one: while the master holds it, a crashed worker's
 * queue waits for its replacement and a drained one's (SIGHUP) is served by
 * the new worker of the same slot.
 *
 * Socket activation (host.h): when systemd passes a listening socket
 * (LISTEN_FDS), nothing is bound: every slot gets a copy of that one socket
 * and systemd keeps its own, so connections that arrive while Kiln is
 * stopped wait in its queue. With --idle-exit SECONDS the master stops the
 * server (as on SIGTERM) once the activity board (idle.h) shows no
 * connection and no request for that long; the next connection makes
 * systemd start it again.
 *
 * Owns: the worker table and the listening sockets.
 * Must never: accept connections itself, restart workers in a tight loop
 * (a worker that keeps dying at start-up is given up on), or leave workers
 * behind: each worker asks the kernel for SIGTERM when its master dies
 * (PR_SET_PDEATHSIG), so a master killed with SIGKILL takes them along.
 */
#include "runtime/engine.h"
#include "runtime/host.h"
#include "runtime/idle.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int kiln_ready_fd = -1;

#define MAX_WORKERS 256

typedef struct {
    pid_t pid;
    int slot;        /* worker id 0..N-1 */
    int generation;
    uint64_t started_ms;
} child;

static child children[MAX_WORKERS * 2];
static int nchildren;
static int generation;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
    }
}

static pid_t spawn(const server_opts *o, int slot, int ready_fd, const sigset_t *oldmask)
{
    fflush(NULL);
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_event(LOG_ERROR, NULL, "fork failed", "\"error\":\"%s\"", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* A worker ends with its master, however the master ends (SIGKILL
         * included): the kernel sends SIGTERM (a drain, through the signalfd
         * below) when the master goes. A master that died before this line
         * is caught by the parent check. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master) _exit(1);
        /* SIGTERM/SIGINT stay blocked: a stop sent right after this fork
         * must wait for the worker's signalfd (a graceful drain), not kill
         * it with the default action before worker_run sets that up. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGCHLD, SIG_DFL);
        sigset_t mask = *oldmask;
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (engine_user_signals()) {   /* and kiln dev's reload signals */
            sigaddset(&mask, SIGUSR1);
            sigaddset(&mask, SIGUSR2);
        }
        sigprocmask(SIG_SETMASK, &mask, NULL);
        kiln_ready_fd = ready_fd;
        exit(worker_run(o, slot));
    }
    children[nchildren++] = (child){ .pid = pid, .slot = slot, .generation = generation, .started_ms = now_ms() };
    return pid;
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 0 || n > 1000000000 ? dflt : (int)n;
}

static int parse_level(const char *s)
{
    if (!s) return LOG_INFO;
    if (!strcmp(s, "debug")) return LOG_DEBUG;
    if (!strcmp(s, "warn")) return LOG_WARN;
    if (!strcmp(s, "error")) return LOG_ERROR;
    if (!strcmp(s, "info")) return LOG_INFO;
    return -1;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
        "usage: %s [--port N] [--host ADDR] [--workers N|auto] [--threads N] [--log-level L]\n"
        "          [--idle-exit SECONDS]\n"
        "  --port N        port to listen on (env PORT; default 3000)\n"
        "  --host ADDR     address to bind (env HOST; default all interfaces)\n"
        "  --workers N     worker processes (env KILN_WORKERS; default auto: one per CPU\n"
        "                  this process may use -- affinity mask and cgroup CPU quota)\n"
        "  --idle-exit S   exit after S seconds without connections (env KILN_IDLE_EXIT;\n"
        "                  default 0: never); with a systemd socket (LISTEN_FDS), the\n"
        "                  next connection starts the server again\n"
        "  --threads N     offload threads per worker (env KILN_THREADS; default 64)\n"
        "  --log-level L   debug|info|warn|error (env KILN_LOG_LEVEL; default info)\n"
        "Timeouts (ms) from the environment: KILN_IDLE_TIMEOUT_MS (60000),\n"
        "KILN_HEADER_TIMEOUT_MS (10000), KILN_BODY_TIMEOUT_MS (30000),\n"
        "KILN_SHUTDOWN_TIMEOUT_MS (10000).\n", argv0);
}

/* Wait until `want` workers wrote their ready byte, or the timeout. */
static int wait_ready(int fd, int want, int timeout_ms)
{
    int got = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (got < want) {
        uint64_t t = now_ms();
        if (t >= end) break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(end - t)) <= 0) continue;
        char b[64];
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0) break;
        got += (int)n;
    }
    return got;
}

static int listen_fds[MAX_WORKERS];
static int nlisten;

/* A port someone already listens on fails here rather than being joined
 * (SO_REUSEPORT would let a second server share it silently): a plain
 * socket is bound first, then the group is made. A socket passed by systemd
 * is used instead: one socket, a copy per slot. */
static int open_listeners(server_opts *o)
{
    int passed = host_listen_fd();
    if (passed == -2) {
        errno = ENOTSOCK;
        return -1;
    }
    if (passed >= 0) {
        o->port = host_socket_port(passed);
        listen_fds[0] = passed;
        for (nlisten = 1; nlisten < o->workers; nlisten++) {
            listen_fds[nlisten] = fcntl(passed, F_DUPFD_CLOEXEC, 3);
            if (listen_fds[nlisten] < 0) KILN_PANIC("cannot copy the activated socket: %s", strerror(errno));
        }
        o->listen_fds = listen_fds;
        log_event(LOG_INFO, NULL, "socket activation: serving the socket passed by the service manager",
                  "\"port\":%d", o->port);
        return 0;
    }
    int probe = listener_open(o, false);
    if (probe < 0) return -1;
    close(probe);
    for (nlisten = 0; nlisten < o->workers; nlisten++) {
        listen_fds[nlisten] = listener_open(o, true);
        if (listen_fds[nlisten] < 0) {
            int err = errno;
            while (nlisten > 0) close(listen_fds[--nlisten]);
            errno = err;
            return -1;
        }
    }
    o->listen_fds = listen_fds;
    return 0;
}

/* The master's copies; each socket closes when its workers close theirs. */
static void stop_listening(void)
{
    while (nlisten > 0) close(listen_fds[--nlisten]);
}

static int start_generation(const server_opts *o, const sigset_t *oldmask)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    generation++;
    for (int i = 0; i < o->workers; i++) spawn(o, i, p[1], oldmask);
    close(p[1]);
    int ready = wait_ready(p[0], o->workers, 10000);
    close(p[0]);
    return ready;
}

/* "auto" or a count in 1..MAX_WORKERS; 0 when neither. */
static int parse_workers(const char *s)
{
    if (!s) return 0;
    if (!strcmp(s, "auto")) return host_cpus() > MAX_WORKERS ? MAX_WORKERS : host_cpus();
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v >= 1 && v <= MAX_WORKERS ? (int)v : 0;
}

/* Stop: let go of the sockets (once the workers close theirs, a bound port
 * refuses; an activated one queues for the next start) and drain. */
static void stop_workers(void)
{
    stop_listening();
    for (int i = 0; i < nchildren; i++) kill(children[i].pid, SIGTERM);
}

static void signal_generation(int gen, int sig, bool older)
{
    for (int i = 0; i < nchildren; i++)
        if (older ? children[i].generation < gen : children[i].generation == gen) kill(children[i].pid, sig);
}

int server_main(int argc, char **argv)
{
    static server_opts o;
    o.port = env_int("PORT", 3000);
    o.host = getenv("HOST");
    o.workers = parse_workers(getenv("KILN_WORKERS"));
    if (o.workers == 0) o.workers = parse_workers("auto");
    int idle_exit_s = env_int("KILN_IDLE_EXIT", 0);
    o.offload_threads = env_int("KILN_THREADS", 64);
    o.log_level = parse_level(getenv("KILN_LOG_LEVEL"));
    if (o.log_level < 0) o.log_level = LOG_INFO;
    o.idle_timeout_ms = (unsigned)env_int("KILN_IDLE_TIMEOUT_MS", 60000);
    o.header_timeout_ms = (unsigned)env_int("KILN_HEADER_TIMEOUT_MS", 10000);
    o.body_timeout_ms = (unsigned)env_int("KILN_BODY_TIMEOUT_MS", 30000);
    o.shutdown_timeout_ms = (unsigned)env_int("KILN_SHUTDOWN_TIMEOUT_MS", 10000);

    static const struct option longopts[] = {
        { "port", required_argument, 0, 'p' }, { "host", required_argument, 0, 'H' },
        { "workers", required_argument, 0, 'w' }, { "threads", required_argument, 0, 't' },
        { "log-level", required_argument, 0, 'l' }, { "help", no_argument, 0, 'h' },
        { "idle-exit", required_argument, 0, 'i' }, { 0, 0, 0, 0 }
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "p:H:w:t:l:hi:", longopts, NULL)) != -1) {
        char *end = NULL;
        long v = optarg ? strtol(optarg, &end, 10) : 0;
        bool num_ok = optarg && end && !*end;
        switch (ch) {
        case 'p': if (!num_ok || v < 0 || v > 65535) goto bad; o.port = (int)v; break;
        case 'w': if (!(o.workers = parse_workers(optarg))) goto bad; break;
        case 'i': if (!num_ok || v < 0 || v > 1000000) goto bad; idle_exit_s = (int)v; break;
        case 't': if (!num_ok || v < 1 || v > 1024) goto bad; o.offload_threads = (int)v; break;
        case 'H': o.host = optarg; break;
        case 'l': o.log_level = parse_level(optarg); if (o.log_level < 0) goto bad; break;
        case 'h': usage(stdout, argv[0]); return 0;
        default: usage(stderr, argv[0]); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "%s: invalid value '%s' for --%s\n", argv[0], optarg, longopts[ch == 'p' ? 0 : ch == 'H' ? 1 : ch == 'w' ? 2 : ch == 't' ? 3 : ch == 'i' ? 6 : 4].name);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
        usage(stderr, argv[0]);
        return 2;
    }
    if (o.workers > MAX_WORKERS) o.workers = MAX_WORKERS;
    log_init(o.log_level, -1);

    /* The framework's set-up before any worker exists (routes, schemas,
     * shared tables, migrations). */
    int rc = engine_run_master_start(&o);
    if (rc != 0) return rc;

    if (open_listeners(&o) != 0) {
        log_event(LOG_ERROR, NULL, "cannot listen", "\"port\":%d,\"error\":\"%s\"", o.port, strerror(errno));
        return 1;
    }

    sigset_t set, oldmask;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    if (engine_user_signals()) {
        sigaddset(&set, SIGUSR1);   /* kiln dev: passed on to the worker */
        sigaddset(&set, SIGUSR2);
    }
    sigprocmask(SIG_BLOCK, &set, &oldmask);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);

    if (idle_exit_s > 0) idle_board_init(o.workers);
    int ready = start_generation(&o, &oldmask);
    if (ready < o.workers) {
        log_event(LOG_ERROR, NULL, "workers failed to start (is the port in use?)",
                  "\"port\":%d,\"ready\":%d,\"workers\":%d", o.port, ready, o.workers);
        signal_generation(generation, SIGKILL, false);
        while (wait(NULL) > 0) {}
        stop_listening();
        close(sfd);
        return 1;
    }
    log_event(LOG_INFO, NULL, "server listening",
              "\"port\":%d,\"workers\":%d,\"routes\":%zu,\"pid\":%d,\"url\":\"http://localhost:%d\"",
              o.port, o.workers, o.nroutes, (int)getpid(), o.port);

    bool stopping = false;
    int fast_deaths = 0;
    uint64_t stop_deadline = 0;
    for (;;) {
        struct pollfd p = { .fd = sfd, .events = POLLIN };
        int timeout = stopping ? 200 : idle_exit_s > 0 ? 250 : -1;
        if (poll(&p, 1, timeout) < 0 && errno != EINTR) break;
        struct signalfd_siginfo si;
        while (p.revents & POLLIN) {
            if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) break;
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                if (!stopping) {
                    log_event(LOG_INFO, NULL, "shutting down", NULL);
                    stopping = true;
                    stop_deadline = now_ms() + o.shutdown_timeout_ms + 2000;
                    stop_workers();
                }
            } else if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
                for (int i = 0; i < nchildren; i++) kill(children[i].pid, (int)si.ssi_signo);
            } else if (si.ssi_signo == SIGHUP && !stopping) {
                log_event(LOG_INFO, NULL, "restarting workers (SIGHUP)", NULL);
                int old = generation;
                int r = start_generation(&o, &oldmask);
                if (r < o.workers) {
                    log_event(LOG_ERROR, NULL, "new workers did not start; keeping the old ones", NULL);
                    signal_generation(generation, SIGTERM, false);
                } else {
                    signal_generation(old + 1, SIGTERM, true);
                }
            }
            p.revents = 0;
            struct pollfd again = { .fd = sfd, .events = POLLIN };
            if (poll(&again, 1, 0) > 0) p.revents = again.revents;
        }
        /* --idle-exit: the whole server idle long enough stops as on SIGTERM
         * (queued connections are still served by the draining workers). */
        if (!stopping && idle_exit_s > 0 && idle_board_idle_for(now_ms(), (uint64_t)idle_exit_s * 1000)) {
            log_event(LOG_INFO, NULL, "idle: no connections; exiting", "\"idleExitSeconds\":%d", idle_exit_s);
            stopping = true;
            stop_deadline = now_ms() + o.shutdown_timeout_ms + 2000;
            stop_workers();
        }
        /* Reap. */
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int idx = -1;
            for (int i = 0; i < nchildren; i++) if (children[i].pid == pid) idx = i;
            if (idx < 0) continue;
            child ch0 = children[idx];
            children[idx] = children[--nchildren];
            bool crashed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
            if (WIFSIGNALED(status))
                log_event(LOG_ERROR, NULL, "worker died", "\"pid\":%d,\"worker\":%d,\"signal\":\"%s\"",
                          (int)pid, ch0.slot, signame(WTERMSIG(status)));
            else
                log_event(crashed ? LOG_ERROR : LOG_DEBUG, NULL, "worker exited",
                          "\"pid\":%d,\"worker\":%d,\"status\":%d", (int)pid, ch0.slot, WEXITSTATUS(status));
            bool restart = !stopping && ch0.generation == generation && crashed;
            engine_worker_ended(ch0.slot, crashed, restart);
            if (!restart) continue;
            fast_deaths = now_ms() - ch0.started_ms < 1000 ? fast_deaths + 1 : 0;
            if (fast_deaths > 10) {
                log_event(LOG_ERROR, NULL, "workers keep dying at start-up; giving up", NULL);
                stopping = true;
                stop_deadline = now_ms() + 2000;
                stop_workers();
                continue;
            }
            if (spawn(&o, ch0.slot, -1, &oldmask) > 0)
                log_event(LOG_INFO, NULL, "worker restarted", "\"worker\":%d", ch0.slot);
        }
        if (stopping && nchildren == 0) break;
        if (stopping && now_ms() > stop_deadline) {
            for (int i = 0; i < nchildren; i++) kill(children[i].pid, SIGKILL);
        }
    }
    stop_listening();
    idle_board_free();
    close(sfd);
    log_event(LOG_INFO, NULL, "server stopped", NULL);
    return fast_deaths > 10 ? 1 : 0;
}
