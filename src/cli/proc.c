/*
 * proc.c -- running the compiler and friends for `kiln build` and `kiln dev`.
 *
 * Commands are built by Kiln itself from paths and flags, split on spaces;
 * a space inside one argument (a path with spaces) travels as '\x1f'
 * (quote_arg) and is turned back before exec. No shell is involved.
 *
 * Owns: the child processes until they are reaped. Must never: pass a
 * command through /bin/sh.
 */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

char **argv_split(const char *cmd)
{
    /* Commands are built by us from paths and flags: split on spaces, with
     * '\x1f' standing for a space inside one argument (paths may have spaces). */
    size_t cap = 8, n = 0;
    char **v = kiln_xmalloc(cap * sizeof *v);
    char *copy = kiln_xstrdup(cmd), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (n + 2 > cap) v = kiln_xrealloc(v, (cap *= 2) * sizeof *v);
        for (char *q = t; *q; q++) if (*q == '\x1f') *q = ' ';
        v[n++] = kiln_xstrdup(t);
    }
    v[n] = NULL;
    free(copy);
    return v;
}

void argv_free(char **v)
{
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

char *quote_arg(const char *s)
{
    char *q = kiln_xstrdup(s);
    for (char *p = q; *p; p++) if (*p == ' ') *p = '\x1f';
    return q;
}

/* Run jobs, at most `par` at once; returns the number that failed. */
int run_jobs(job *jobs, size_t n, int par)
{
    int failed = 0, running = 0;
    size_t next = 0;
    while (next < n || running > 0) {
        while (next < n && running < par) {
            pid_t pid = fork();
            if (pid == 0) {
                execvp(jobs[next].argv[0], jobs[next].argv);
                fprintf(stderr, "kiln: cannot run %s: %s\n", jobs[next].argv[0], strerror(errno));
                _exit(127);
            }
            if (pid < 0) { failed++; next++; continue; }
            running++;
            next++;
        }
        int st;
        pid_t pid = wait(&st);
        if (pid < 0) break;
        running--;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed++;
    }
    return failed;
}

int run1(const char *cmd)
{
    job j = { .argv = argv_split(cmd) };
    int f = run_jobs(&j, 1, 1);
    argv_free(j.argv);
    return f;
}

/* Run argv, with its stderr (and stdout) captured into *out as well as
 * copied to our stderr when echo is set. Returns the exit status (or -1). */
int run_capture(char **argv, buf *out, bool echo)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "kiln: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) { close(p[0]); return -1; }
    char tmp[4096];
    ssize_t n;
    while ((n = read(p[0], tmp, sizeof tmp)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0) continue;
        buf_append(out, tmp, (size_t)n);
        if (echo && write(2, tmp, (size_t)n) < 0) { /* terminal gone */ }
    }
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
