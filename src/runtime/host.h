/*
 * host.h -- what the machine and the service manager give this process:
 * the CPUs it may use (affinity mask, cgroup CPU quota) and listening
 * sockets handed over by systemd (socket activation).
 *
 * Part of the engine's process management, kept apart from it: these files
 * know nothing of HTTP, workers or the event loop; master.c asks them at
 * start-up and decides what to do.
 */
#ifndef KILN_HOST_H
#define KILN_HOST_H

#include <stdbool.h>

/* ---- cpus.c ----------------------------------------------------------- */

/* The CPUs this process may use: the CPUs in its affinity mask
 * (sched_getaffinity, e.g. `taskset -c 0`), capped by the cgroup CPU quota
 * (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us) rounded up, at
 * least 1. This is what `--workers auto` starts. */
int host_cpus(void);

/* The cgroup CPU quota, in whole CPUs rounded up, of this process's cgroup
 * and its ancestors (the tightest one wins), or 0 when none applies. The
 * files are read under `root` ("" for the real file system; a fixture
 * directory holding proc/self/cgroup, proc/self/mountinfo and the cgroup
 * tree in the tests). */
int host_cgroup_cpus(const char *root);

/* One cgroup v2 cpu.max file ("QUOTA PERIOD" or "max PERIOD"): whole CPUs
 * rounded up, 0 for no limit, -1 when the text is not a cpu.max. */
int host_parse_cpu_max(const char *text);

/* cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us (quota -1: no limit):
 * whole CPUs rounded up, 0 for no limit, -1 when malformed. */
int host_parse_cfs(const char *quota, const char *period);

/* ---- activation.c ----------------------------------------------------- */

/* Socket activation with sd_listen_fds(3) semantics: when LISTEN_PID names
 * this process, the LISTEN_FDS descriptors from 3 up are ours. Each gets
 * FD_CLOEXEC and O_NONBLOCK (systemd passes blocking sockets; the workers
 * accept until EAGAIN). LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are
 * removed from the environment so that no child takes them for its own.
 *
 * Kiln serves one listening socket: the one named "http" in
 * LISTEN_FDNAMES when there is one, else the first. Returns that
 * descriptor, -1 when nothing was passed (bind as usual), or -2 after
 * printing why the passed descriptors cannot be used (not a listening
 * stream socket). The others passed are closed. */
int host_listen_fd(void);

/* The local port of a listening socket (for the log), 0 if unknown. */
int host_socket_port(int fd);

#endif
