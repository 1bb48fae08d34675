/*
 * cpus.c -- how many CPUs this process may really use, for `--workers auto`.
 *
 * The host's CPU count is the wrong answer in a container or under taskset:
 * a process limited to one CPU that forks one worker per host core gets
 * them all throttled. Two limits apply, and the smaller wins:
 *
 *   the affinity mask   sched_getaffinity (taskset, cpusets, systemd's
 *                       CPUAffinity=): a hard set of CPUs;
 *   the cgroup quota    CPU time per period, in CPUs = quota / period,
 *                       rounded up (1.5 CPUs -> 2 workers): cgroup v2
 *                       cpu.max ("150000 100000", or "max 100000"), v1
 *                       cpu.cfs_quota_us (-1: none) / cpu.cfs_period_us.
 *                       Every ancestor cgroup may set one; the tightest
 *                       applies.
 *
 * Finding the cgroup: /proc/self/cgroup names the process's cgroup path in
 * each hierarchy ("0::/a/b" for v2, "4:cpu,cpuacct:/a/b" for v1), and
 * /proc/self/mountinfo tells where each hierarchy is mounted and which part
 * of it (its root field: "/" on the host, often the container's own cgroup
 * inside one). The directory to read is mount point + (path - mount root),
 * and its ancestors up to the mount point.
 *
 * Every path is taken under a `root` prefix so that the unit tests read
 * fixture trees (tests/fixtures/cgroup/) instead of the real /proc and /sys.
 *
 * Owns: nothing (each call reads and forgets). Must never: fail start-up
 * because a file is missing or odd (no limit found means no limit), or
 * return less than 1 from host_cpus.
 */
#include "runtime/host.h"
#include "core/core.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PATH_CAP 4096

/* Reads a small file whole into dst (NUL-terminated). False if unreadable. */
static bool read_small(const char *path, char *dst, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(dst, 1, cap - 1, f);
    dst[n] = '\0';
    fclose(f);
    return true;
}

/* Whole CPUs from a quota and a period (both > 0), rounded up. */
static int cpus_from(long long quota, long long period)
{
    long long n = (quota + period - 1) / period;
    return n < 1 ? 1 : n > 1 << 20 ? 1 << 20 : (int)n;
}

/* A decimal integer at *p (skipping blanks); advances *p. */
static bool take_ll(const char **p, long long *out)
{
    while (**p == ' ' || **p == '\t') (*p)++;
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (end == *p) return false;
    *p = end;
    *out = v;
    return true;
}

static bool only_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return *p == '\0';
}

int host_parse_cpu_max(const char *text)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t') p++;
    long long quota = -1, period;
    if (!strncmp(p, "max", 3)) p += 3;
    else if (!take_ll(&p, &quota) || quota <= 0) return -1;
    if (!take_ll(&p, &period) || period <= 0 || !only_blanks(p)) return -1;
    return quota < 0 ? 0 : cpus_from(quota, period);
}

int host_parse_cfs(const char *quota_text, const char *period_text)
{
    const char *q = quota_text, *pp = period_text;
    long long quota, period;
    if (!take_ll(&q, &quota) || !only_blanks(q)) return -1;
    if (quota < 0) return 0;                        /* -1: no limit */
    if (quota == 0 || !take_ll(&pp, &period) || period <= 0 || !only_blanks(pp)) return -1;
    return cpus_from(quota, period);
}

/* mountinfo escapes blanks and backslashes in paths as \ooo (octal). */
static void unescape(char *s)
{
    char *d = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
}

/* True if the comma-separated list holds `word`. */
static bool list_has(const char *list, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (n == wl && !memcmp(p, word, wl)) return true;
        p += n + 1;
    }
    return false;
}

/* This process's cgroup path in one hierarchy, from proc/self/cgroup: the
 * v2 one (v2 = true: the "0::" line) or the v1 one holding the cpu
 * controller. False when there is none. */
static bool cgroup_path(const char *root, bool v2, char *out, size_t cap)
{
    char path[PATH_CAP], text[16384];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    if (!read_small(path, text, sizeof text)) return false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        size_t ctl_len = (size_t)(c2 - c1 - 1);
        bool match = v2 ? (c1 - line == 1 && line[0] == '0' && ctl_len == 0)
                        : list_has(c1 + 1, ctl_len, "cpu");
        if (match) {
            snprintf(out, cap, "%s", c2 + 1);
            return true;
        }
    }
    return false;
}

/* Where the hierarchy is mounted (mount point and the mount's root inside
 * the hierarchy), from proc/self/mountinfo. */
static bool cgroup_mount(const char *root, bool v2, char *mnt, char *mroot, size_t cap)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        /* id parent maj:min ROOT MOUNTPOINT opts [optional...] - FSTYPE SOURCE SUPEROPTS */
        char *fields[6] = { 0 };
        char *save = NULL, *tok = strtok_r(line, " \n", &save);
        int nf = 0;
        while (tok && nf < 5) { fields[nf++] = tok; tok = strtok_r(NULL, " \n", &save); }
        while (tok && strcmp(tok, "-") != 0) tok = strtok_r(NULL, " \n", &save);
        if (nf < 5 || !tok) continue;
        char *fstype = strtok_r(NULL, " \n", &save);
        char *source = fstype ? strtok_r(NULL, " \n", &save) : NULL;
        char *superopts = source ? strtok_r(NULL, " \n", &save) : NULL;
        if (!fstype) continue;
        if (v2 ? strcmp(fstype, "cgroup2") != 0
               : strcmp(fstype, "cgroup") != 0 || !superopts || !list_has(superopts, strlen(superopts), "cpu"))
            continue;
        snprintf(mroot, cap, "%s", fields[3]);
        snprintf(mnt, cap, "%s", fields[4]);
        unescape(mroot);
        unescape(mnt);
        found = true;
    }
    fclose(f);
    return found;
}

/* The tightest quota in one hierarchy (v2 or v1), 0 for none. */
static int hierarchy_cpus(const char *root, bool v2)
{
    char cg[PATH_CAP], mnt[PATH_CAP], mroot[PATH_CAP];
    if (!cgroup_path(root, v2, cg, sizeof cg) || !cgroup_mount(root, v2, mnt, mroot, sizeof mroot)) return 0;
    /* The part of our path below the mount's root. Inside a cgroup
     * namespace the path may not start with it: then the mount point is
     * our cgroup. */
    const char *rel = cg;
    size_t rl = strlen(mroot);
    if (!strcmp(mroot, "/")) rel = cg;
    else if (!strncmp(cg, mroot, rl) && (cg[rl] == '/' || cg[rl] == '\0')) rel = cg + rl;
    else rel = "";

    char dir[PATH_CAP * 2];
    int n = snprintf(dir, sizeof dir, "%s%s%s", root, mnt, rel);
    if (n < 0 || (size_t)n >= sizeof dir) return 0;
    size_t base = strlen(root) + strlen(mnt);     /* never climb above the mount */
    while (n > 1 && dir[n - 1] == '/' && (size_t)n > base) dir[--n] = '\0';

    int best = 0;
    for (;;) {
        char f1[PATH_CAP * 2 + 32], t1[256], t2[256];
        int got = -1;
        if (v2) {
            snprintf(f1, sizeof f1, "%s/cpu.max", dir);
            if (read_small(f1, t1, sizeof t1)) got = host_parse_cpu_max(t1);
        } else {
            snprintf(f1, sizeof f1, "%s/cpu.cfs_quota_us", dir);
            bool ok = read_small(f1, t1, sizeof t1);
            snprintf(f1, sizeof f1, "%s/cpu.cfs_period_us", dir);
            if (ok && read_small(f1, t2, sizeof t2)) got = host_parse_cfs(t1, t2);
        }
        if (got > 0 && (best == 0 || got < best)) best = got;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < base) break;
        *slash = '\0';
    }
    return best;
}

int host_cgroup_cpus(const char *root)
{
    int a = hierarchy_cpus(root, true);
    int b = hierarchy_cpus(root, false);
    if (a == 0) return b;
    if (b == 0) return a;
    return a < b ? a : b;
}

int host_cpus(void)
{
    int n = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    int q = host_cgroup_cpus("");
    if (q > 0 && q < n) n = q;
    return n < 1 ? 1 : n;
}
