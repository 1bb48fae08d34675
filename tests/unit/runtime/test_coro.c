/*
 * test_coro.c -- coroutines and parking (copying-stack mode): a coroutine
 * parked between two yields resumes with its locals, pointers to its locals
 * and deep frames intact; a parked stack
 * faults when touched from outside (checked in a child process); many
 * parked coroutines at once; KILN_CORO_PARK=0 turns parking off.
 */
#include "t.h"
#include "runtime/coro.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct state {
    int rounds;              /* how many times the body ran between yields */
    long sum;                /* checked against the expected total         */
    volatile char *local;    /* a pointer to one of the coroutine's locals */
} state;

/* Recursion with a buffer per frame, so the live stack spans frames. */
static long deep(coro *co, state *s, int depth)
{
    char pad[200];
    for (int i = 0; i < (int)sizeof pad; i++) pad[i] = (char)(depth + i);
    if (depth == 0) {
        s->rounds++;
        coro_yield(co);
        s->rounds++;
        coro_yield(co);
        return 0;
    }
    long below = deep(co, s, depth - 1);
    long mine = 0;
    for (int i = 0; i < (int)sizeof pad; i++) mine += pad[i];
    return below + mine;
}

static void body(coro *co, void *arg)
{
    state *s = arg;
    char word[16] = "kept across";
    s->local = word;
    long v = deep(co, s, 8);
    s->sum = v + (word[0] == 'k' && word[5] == 'a' ? 1 : 0);
}

static long expected(void)
{
    long t = 0;
    for (int d = 1; d <= 8; d++)
        for (int i = 0; i < 200; i++) t += (char)(d + i);
    return t + 1;
}

TEST(park_and_resume_keeps_the_stack)
{
    state s = { 0 };
    coro *co = coro_new(body, &s);
    coro_resume(co);
    CHECK_EQ_INT(s.rounds, 1);
    CHECK(!coro_parked(co));
    if (coro_park(co)) {
        CHECK(coro_parked(co));
        CHECK(!coro_park(co));           /* once is enough */
    }
    coro_resume(co);                     /* copied back, runs on */
    CHECK(!coro_parked(co));
    CHECK_EQ_INT(s.rounds, 2);
    CHECK_EQ_MEM((const char *)s.local, 11, "kept across");   /* running: readable */
    coro_park(co);
    coro_resume(co);
    CHECK(coro_done(co));
    CHECK_EQ_INT(s.sum, expected());
    coro_release(co);
}

TEST(many_parked_at_once)
{
    enum { N = 300 };
    static state s[N];
    static coro *co[N];
    for (int i = 0; i < N; i++) {
        s[i] = (state){ 0 };
        co[i] = coro_new(body, &s[i]);
        coro_resume(co[i]);
        coro_park(co[i]);
    }
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < N; i++) {
            coro_resume(co[i]);
            if (!coro_done(co[i])) coro_park(co[i]);
        }
    for (int i = 0; i < N; i++) {
        CHECK(coro_done(co[i]));
        CHECK_EQ_INT(s[i].sum, expected());
        coro_release(co[i]);
    }
}

TEST(a_parked_stack_faults_when_touched)
{
#if defined(__x86_64__)
    state s = { 0 };
    coro *co = coro_new(body, &s);
    coro_resume(co);
    if (!coro_park(co)) {
        coro_resume(co);
        coro_resume(co);
        coro_release(co);
        return;                          /* parking off (KILN_CORO_PARK=0) */
    }
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        char c = s.local[0];             /* must fault: the stack is PROT_NONE */
        _exit(c == 'k' ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    coro_resume(co);
    coro_resume(co);
    CHECK(coro_done(co));
    CHECK_EQ_INT(s.sum, expected());
    coro_release(co);
#endif
}

int main(void)
{
    int rc = t_run();
    coro_pool_drain();
    return rc;
}
