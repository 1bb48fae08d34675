/*
 * t.h -- Kiln's tiny unit-test harness. One header, no library.
 *
 *     #include "t.h"
 *     TEST(arena_grows) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_EQ_STR(s, "x"); }
 *     int main(void) { return t_run(); }
 *
 * Each TEST registers itself (constructor attribute). t_run() runs them all
 * and prints, as its closing line, exactly "N passed, M failed"; the exit
 * status is non-zero when anything failed. A test counts as failed if any
 * CHECK in it failed; every failed CHECK prints file:line and the values.
 */
#ifndef KILN_T_H
#define KILN_T_H
#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
static struct { const char *name; t_fn fn; } t_tests[1024];
static int t_ntests, t_failed_now;
__attribute__((unused)) static int t_checks;

#define TEST(tname)                                                       \
    static void t_##tname(void);                                          \
    __attribute__((constructor)) static void t_reg_##tname(void) {        \
        t_tests[t_ntests].name = #tname; t_tests[t_ntests++].fn = t_##tname; \
    }                                                                     \
    static void t_##tname(void)

#define T_FAIL(...) do { t_failed_now = 1; fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } while (0)
#define CHECK(c) do { t_checks++; if (!(c)) T_FAIL("%s", #c); } while (0)
#define CHECK_EQ_INT(a, b) do { long long t_a = (long long)(a), t_b = (long long)(b); t_checks++; \
    if (t_a != t_b) T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a, t_b); } while (0)
#define CHECK_EQ_STR(a, b) do { const char *t_a = (a), *t_b = (b); t_checks++; \
    if (!t_a || !t_b || strcmp(t_a, t_b)) T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, \
        t_a ? t_a : "(null)", t_b ? t_b : "(null)"); } while (0)
#define CHECK_EQ_MEM(p, n, s) do { size_t t_n = (n); const char *t_s = (s); t_checks++; \
    if (t_n != strlen(t_s) || memcmp((p), t_s, t_n)) T_FAIL("%s == \"%s\": got \"%.*s\"", #p, t_s, (int)t_n, (const char *)(p)); } while (0)

/* Runs fn(arg) in a child process; true if it aborted (a KILN_PANIC) and
 * what it wrote to stderr contains `needle`. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
__attribute__((unused)) static int t_panics(void (*fn)(const char *), const char *arg, const char *needle)
{
    int fds[2];
    if (pipe(fds)) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    char out[2048];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(out, needle) != NULL;
}

static int t_run(void)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < t_ntests; i++) {
        t_failed_now = 0;
        t_tests[i].fn();
        if (t_failed_now) { failed++; fprintf(stderr, "not ok %s\n", t_tests[i].name); }
        else passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
#endif
