/*
 * symbolize.c -- an address in an object file to its function, file and
 * line, with binutils' addr2line (the debug information Kiln builds with,
 * -g). Used where a crash is told to a person: kiln dev's crash answer
 * (devhost.c) and the error reports of a production server (report/).
 *
 * Owns: nothing. Must never: run inside a production signal handler (it
 * forks and execs); kiln dev's crash path may, as the process dies anyway.
 */
#include "runtime/engine.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

bool symbolize(const char *obj, uintptr_t off, char *func, size_t fcap, char *loc, size_t lcap)
{
    int p[2];
    if (pipe(p) != 0) return false;
    pid_t pid = fork();
    if (pid < 0) { close(p[0]); close(p[1]); return false; }
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char addr[32];
        snprintf(addr, sizeof addr, "0x%lx", (unsigned long)off);
        execlp("addr2line", "addr2line", "-f", "-e", obj, addr, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char out[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(p[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(p[0]);
    waitpid(pid, NULL, 0);
    char *nl = strchr(out, '\n');
    if (!nl) return false;
    *nl = '\0';
    snprintf(func, fcap, "%.*s", (int)(fcap - 1), out);
    char *l2 = nl + 1;
    l2[strcspn(l2, "\n")] = '\0';
    char *disc = strstr(l2, " (discriminator");
    if (disc) *disc = '\0';
    snprintf(loc, lcap, "%s", l2);
    return true;
}
