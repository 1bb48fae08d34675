/*
 * lookup.c -- a host name's address, looked up on a thread nobody waits for.
 *
 * getaddrinfo blocks for as long as DNS takes, and a DNS server that never
 * answers makes that the resolver's whole timeout (glibc: 5 s per try, 2
 * tries, per query: about 20 s for Redis's A-then-AAAA lookup). So each
 * lookup runs on a detached thread of its own, never on the worker's loop
 * and never on its offload pool: a pool job would hold a pool thread, stop
 * park.c's sweep (it parks nothing while a job runs) and make the worker's
 * exit (offload_pool_free joins its threads) wait for DNS.
 *
 * The loop waits for the answer wait_ms at most; past that the lookup is
 * abandoned (the caller treats it as a failed lookup and retries with its
 * own backoff) and its thread, when getaddrinfo returns at last, frees its
 * slot and says nothing. Each abandoned lookup doubles the next one's wait
 * (up to 8 x wait_ms; an answer resets it), so a DNS server that is slow
 * rather than dead still gets through. At worker exit (lookup_detach) everything under
 * way is abandoned the same way and the process exits without joining:
 * such a thread owns nothing but its static slot.
 *
 * Slots are static (LOOKUP_SLOTS of them), so at most that many threads
 * ever hang on a dead DNS server at once; with every slot taken by an
 * abandoned lookup a new one fails at once ("too many lookups hung").
 * A thread that finishes writes the eventfd the loop watches; the loop
 * takes the answer of the slot it awaits and frees the others.
 *
 * Owns: the slots, their threads (detached), the eventfd, the deadline.
 * Must never: block the loop; touch a slot the other side owns (the state
 * field, under mu, says whose it is); write the eventfd after lookup_detach.
 */
#include "realtime/lookup.h"
#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LOOKUP_SLOTS 4

enum { SLOT_FREE, SLOT_RUNNING, SLOT_DONE, SLOT_ABANDONED };

/* RUNNING/ABANDONED: the thread owns host, err and addr; FREE/DONE: the
 * loop does. */
static struct slot {
    int state;                  /* under mu                                 */
    char host[256];
    int err;                    /* getaddrinfo's (or getnameinfo's) result  */
    char addr[INET6_ADDRSTRLEN];
} slots[LOOKUP_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static loop *L;
static loop_io wake = { .fd = -1 };     /* eventfd: a thread finished       */
static loop_timer deadline = { .heap_index = -1 };
static int current = -1;        /* the slot awaited; -1: none            */
static bool awaiting;           /* a done call is owed                   */
static lookup_done_fn on_done;
static char fail_why[160];      /* a lookup that could not even start    */
static unsigned patience = 1;   /* x wait_ms: doubles per abandoned lookup */

static void *lookup_thread(void *arg)
{
    struct slot *s = arg;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_INET }, *res = NULL;
    char addr[INET6_ADDRSTRLEN] = "";
    /* IPv4 first and IPv6 when it has none, as hiredis's own lookup does. */
    int err = getaddrinfo(s->host, NULL, &hints, &res);
    if (err) {
        hints.ai_family = AF_INET6;
        err = getaddrinfo(s->host, NULL, &hints, &res);
    }
    if (!err) err = getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST);
    if (res) freeaddrinfo(res);
    pthread_mutex_lock(&mu);
    if (s->state == SLOT_ABANDONED) {
        s->state = SLOT_FREE;           /* nobody waits: the slot is free again */
    } else {
        s->err = err;
        memcpy(s->addr, addr, sizeof addr);
        s->state = SLOT_DONE;
        uint64_t one = 1;
        if (write(wake.fd, &one, sizeof one) < 0) { /* counter full: a wake is pending */ }
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Owe no more: the done call, with an address or a reason. */
static void finish(const char *addr, const char *why)
{
    awaiting = false;
    current = -1;
    if (L) loop_timer_cancel(L, &deadline);
    on_done(addr, why);
}

static void on_wake(loop_io *io, uint32_t events)
{
    (void)io, (void)events;
    uint64_t v;
    while (read(wake.fd, &v, sizeof v) > 0) {}
    bool got = false;
    int err = 0;
    char addr[INET6_ADDRSTRLEN];
    pthread_mutex_lock(&mu);
    for (int i = 0; i < LOOKUP_SLOTS; i++) {
        if (slots[i].state != SLOT_DONE) continue;
        if (i == current) {
            got = true;
            err = slots[i].err;
            memcpy(addr, slots[i].addr, sizeof addr);
        }
        slots[i].state = SLOT_FREE;
    }
    pthread_mutex_unlock(&mu);
    if (!got || !awaiting) return;
    patience = 1;
    if (err) {
        char why[160];
        snprintf(why, sizeof why, "%s", gai_strerror(err));
        finish(NULL, why);
    } else {
        finish(addr, NULL);
    }
}

static void on_deadline(loop_timer *t)
{
    (void)t;
    if (!awaiting) return;
    if (current < 0) { finish(NULL, fail_why); return; }    /* never started */
    pthread_mutex_lock(&mu);
    int st = slots[current].state;
    if (st == SLOT_RUNNING) slots[current].state = SLOT_ABANDONED;
    pthread_mutex_unlock(&mu);
    if (st == SLOT_RUNNING && patience < 8) patience *= 2;
    if (st == SLOT_DONE) { on_wake(&wake, 0); return; }     /* answered just now */
    finish(NULL, "no answer from DNS in time (lookup abandoned)");
}

bool lookup_busy(void) { return awaiting; }

void lookup_start(loop *l, const char *host, unsigned wait_ms, lookup_done_fn done)
{
    if (awaiting) KILN_PANIC("lookup_start: one is under way");
    L = l;
    on_done = done;
    awaiting = true;
    current = -1;
    deadline.on_fire = on_deadline;
    if (wake.fd < 0) {
        wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake.fd < 0) KILN_PANIC("eventfd failed");
        wake.on_event = on_wake;
        loop_add(L, &wake, EPOLLIN);
    }
    int i;
    pthread_mutex_lock(&mu);
    for (i = 0; i < LOOKUP_SLOTS && slots[i].state != SLOT_FREE; i++) {}
    if (i < LOOKUP_SLOTS) slots[i].state = SLOT_RUNNING;
    pthread_mutex_unlock(&mu);
    if (i == LOOKUP_SLOTS) {
        snprintf(fail_why, sizeof fail_why, "%d earlier lookups still hang on DNS", LOOKUP_SLOTS);
        loop_timer_set(L, &deadline, loop_now_ms(L));       /* fails on the next turn */
        return;
    }
    snprintf(slots[i].host, sizeof slots[i].host, "%s", host);
    /* Detached, with every signal blocked (the worker's are the loop's). */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, &attr, lookup_thread, &slots[i]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&mu);
        slots[i].state = SLOT_FREE;
        pthread_mutex_unlock(&mu);
        snprintf(fail_why, sizeof fail_why, "cannot start a lookup thread: %s", strerror(rc));
        loop_timer_set(L, &deadline, loop_now_ms(L));
        return;
    }
    current = i;
    loop_timer_set(L, &deadline, loop_now_ms(L) + (uint64_t)wait_ms * patience);
}

void lookup_detach(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < LOOKUP_SLOTS; i++) {
        if (slots[i].state == SLOT_RUNNING) slots[i].state = SLOT_ABANDONED;
        else if (slots[i].state == SLOT_DONE) slots[i].state = SLOT_FREE;
    }
    if (wake.fd >= 0) {
        /* Under mu: no thread is between its state check and its write. */
        if (L) loop_del(L, &wake);
        close(wake.fd);
        wake.fd = -1;
    }
    pthread_mutex_unlock(&mu);
    if (L) loop_timer_cancel(L, &deadline);
    awaiting = false;
    current = -1;
    L = NULL;
}
