/*
 * pool.c -- the offload thread pool: where handlers send blocking work.
 *
 * kiln_offload() queues (fn, arg) and suspends the request's coroutine. A
 * pool thread runs fn(arg), puts the job on the done list and writes the
 * worker's eventfd; the loop then resumes each finished request. (Work of
 * the framework's own that may block without bound -- a DNS lookup -- does
 * not come here: a running job stops park.c's sweep and the worker's exit
 * joins it; realtime/lookup.c runs detached threads of its own.)
 * Threads start on first use (a worker that never offloads has none).
 *
 * Owns: the threads, both job lists, the eventfd.
 * Must never: let a pool thread touch a connection or the loop (only the
 * job it was given), or resume a coroutine anywhere but on the loop.
 */
#include "runtime/engine.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct job {
    void *(*fn)(void *);
    void *arg;
    void *result;
    conn *c;                    /* resume this request                    */
    struct job *next;
} job;

struct offload_pool {
    loop_io io;                 /* the eventfd, watched by the loop */
    loop *loop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *todo, **todo_tail;
    job *done;
    pthread_t *threads;
    int nthreads, started;
    int idle;                   /* threads waiting for work        */
    int queued;                 /* jobs not yet taken by a thread  */
    bool stopping;
};

static void *thread_main(void *arg)
{
    struct offload_pool *p = arg;
    /* Every signal stays blocked here but a fault: a touch of a parked
     * handler's memory is put back by the loop (park.c's remote path). */
    sigset_t segv;
    sigemptyset(&segv);
    sigaddset(&segv, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &segv, NULL);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        p->idle++;
        while (!p->todo && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        p->idle--;
        if (!p->todo && p->stopping) break;
        job *j = p->todo;
        p->queued--;
        p->todo = j->next;
        if (!p->todo) p->todo_tail = &p->todo;
        pthread_mutex_unlock(&p->mu);
        j->result = j->fn(j->arg);
        pthread_mutex_lock(&p->mu);
        j->next = p->done;
        p->done = j;
        uint64_t one = 1;
        if (write(p->io.fd, &one, sizeof one) < 0) { /* counter full: a wake is pending anyway */ }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void on_eventfd(loop_io *io, uint32_t events)
{
    struct offload_pool *p = (struct offload_pool *)io;
    (void)events;
    uint64_t v;
    while (read(p->io.fd, &v, sizeof v) > 0) {}
    pthread_mutex_lock(&p->mu);
    job *list = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->mu);
    /* Oldest first: reverse the LIFO list. */
    job *rev = NULL;
    while (list) { job *n = list->next; list->next = rev; rev = list; list = n; }
    while (rev) {
        job *j = rev;
        rev = j->next;
        conn *c = j->c;
        c->offload_result = j->result;
        free(j);
        conn_resume_after_wait(c);
    }
}

struct offload_pool *offload_pool_new(loop *l, int threads)
{
    struct offload_pool *p = kiln_xcalloc(1, sizeof *p);
    p->loop = l;
    p->nthreads = threads > 0 ? threads : 4;
    p->threads = kiln_xcalloc((size_t)p->nthreads, sizeof *p->threads);
    p->todo_tail = &p->todo;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->io.fd < 0) KILN_PANIC("eventfd failed");
    p->io.on_event = on_eventfd;
    loop_add(l, &p->io, EPOLLIN | EPOLLET);
    return p;
}

static void enqueue(struct offload_pool *p, job *j);

void offload_submit(struct offload_pool *p, void *(*fn)(void *), void *arg, conn *c)
{
    job *j = kiln_xcalloc(1, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->c = c;
    enqueue(p, j);
}

static void enqueue(struct offload_pool *p, job *j)
{
    pthread_mutex_lock(&p->mu);
    p->queued++;
    if (p->queued > p->idle && p->started < p->nthreads) {
        /* Grow on demand, with every signal blocked in the new thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&p->threads[p->started], NULL, thread_main, p) != 0)
            KILN_PANIC("pthread_create failed");
        p->started++;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    *p->todo_tail = j;
    p->todo_tail = &j->next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

bool offload_running(struct offload_pool *p)
{
    pthread_mutex_lock(&p->mu);
    bool busy = p->started > p->idle;
    pthread_mutex_unlock(&p->mu);
    return busy;
}

void offload_pool_free(struct offload_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
    while (p->done) { job *j = p->done; p->done = j->next; free(j); }
    while (p->todo) { job *j = p->todo; p->todo = j->next; free(j); }
    loop_del(p->loop, &p->io);
    close(p->io.fd);
    free(p->threads);
    free(p);
}
