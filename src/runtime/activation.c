/*
 * activation.c -- socket activation: listening sockets handed over by
 * systemd (a .socket unit, or systemd-socket-activate) instead of bound by
 * Kiln, so that the first connection starts the server and connections
 * that arrive while it is stopped wait in the socket's queue.
 *
 * The protocol is sd_listen_fds(3), read here without libsystemd:
 *   LISTEN_PID      the pid the descriptors are meant for (ours, or they
 *                   belong to someone else: a parent that did not clean up)
 *   LISTEN_FDS      how many, starting at descriptor 3 (SD_LISTEN_FDS_START)
 *   LISTEN_FDNAMES  colon-separated names (FileDescriptorName=), optional
 * The variables are unset once read, and every passed descriptor gets
 * FD_CLOEXEC, as sd_listen_fds(unset_environment = 1) does.
 *
 * Owns: the passed descriptors until it returns the one Kiln serves (the
 * caller owns that one). Must never: take descriptors meant for another
 * pid, or bind anything itself.
 */
#include "runtime/host.h"
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_FDS_START 3

/* The idx-th name in a colon-separated list, copied into out ("" if none). */
static void nth_name(const char *names, int idx, char *out, size_t cap)
{
    out[0] = '\0';
    if (!names) return;
    const char *p = names;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, ':');
        if (p) p++;
    }
    if (!p) return;
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(out, cap, "%.*s", (int)n, p);
}

/* A listening SOCK_STREAM socket? */
static bool is_stream_listener(int fd)
{
    int type = 0, acc = 0;
    socklen_t l1 = sizeof type, l2 = sizeof acc;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 && type == SOCK_STREAM &&
           getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) == 0 && acc == 1;
}

int host_listen_fd(void)
{
    const char *pid_s = getenv("LISTEN_PID");
    const char *fds_s = getenv("LISTEN_FDS");
    if (!pid_s || !fds_s) return -1;
    char *end;
    long pid = strtol(pid_s, &end, 10);
    if (*end || pid != (long)getpid()) return -1;   /* not ours */
    long n = strtol(fds_s, &end, 10);
    if (*end || n <= 0 || n > 64) return -1;
    char *names = getenv("LISTEN_FDNAMES") ? kiln_xstrdup(getenv("LISTEN_FDNAMES")) : NULL;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");

    /* The one named "http", else the first. */
    int chosen = LISTEN_FDS_START;
    for (int i = 0; i < n; i++) {
        char name[256];
        nth_name(names, i, name, sizeof name);
        if (!strcmp(name, "http")) { chosen = LISTEN_FDS_START + i; break; }
    }
    for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        if (fd != chosen) {
            fprintf(stderr, "kiln: socket activation: descriptor %d is not used (Kiln serves one socket: the one named \"http\", or the first)\n", fd);
            close(fd);
        }
    }
    free(names);
    if (!is_stream_listener(chosen)) {
        fprintf(stderr, "kiln: socket activation: descriptor %d is not a listening stream socket "
                        "(ListenStream= with Accept=no)\n", chosen);
        return -2;
    }
    /* systemd passes blocking sockets; the workers accept until EAGAIN. */
    int fl = fcntl(chosen, F_GETFL);
    if (fl < 0 || fcntl(chosen, F_SETFL, fl | O_NONBLOCK) != 0) {
        fprintf(stderr, "kiln: socket activation: descriptor %d: %s\n", chosen, strerror(errno));
        return -2;
    }
    return chosen;
}

int host_socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
    return 0;
}
