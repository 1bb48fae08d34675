/*
 * password.c -- kiln_password_hash / _verify / _dummy_verify: Argon2id
 * password hashes (libsodium's crypto_pwhash_str), computed on the worker's
 * thread pool so that a login never stalls the other requests of a worker
 * -- and there handed to a helper process (pwhelper.c), so that Argon2's
 * 64 MiB is mapped and unmapped in another address space than the event
 * loop's; when no helper can answer, the pool thread computes it itself.
 *
 * Cost: libsodium's INTERACTIVE limits (2 passes over 64 MiB; about 100 ms on
 * one core of a 2020s x86). MODERATE (256 MiB, ~0.5 s) would make every
 * login half a second and a burst of logins a memory hazard; INTERACTIVE is
 * what libsodium recommends for online logins and is above OWASP's minimum
 * for Argon2id (19 MiB, 2 passes).
 *
 * Each hash needs 64 MiB and a CPU for ~100 ms, so how many run at once is
 * bounded: a worker runs at most `slots` of them (KILN_PWHASH_CONCURRENCY;
 * default (online CPUs - 1) / workers, at least 1: a burst of logins leaves
 * a CPU to the event loops, which is what keeps every other request fast).
 * The requests beyond that wait in a FIFO, parked on their coroutine, and
 * the worker serves others meanwhile. That also caps the memory at
 * slots x 64 MiB per worker and keeps a burst of logins from filling every
 * pool thread (other offloaded work still runs). The FIFO is bounded too
 * (KILN_PWHASH_QUEUE waiters per worker, default 64): past it the request
 * is answered 503 with Retry-After at once, so a flood of logins (right
 * passwords included, which no failure counter sees) costs a bounded wait
 * and never more than the slots' CPU.
 *
 * Equal time: verifying against a dummy hash with the same parameters (a
 * hash string of random salt and digest, built once) costs what a real check
 * costs, so "no such user" and "wrong password" look the same from outside.
 *
 * Owns: the dummy hash, this worker's hash slots and their wait queue.
 * Must never: hash on the event loop's thread, touch req/res from a pool
 * thread, or keep a copy of a password (the job's copy is wiped).
 */
#include "auth/auth.h"
#include "api/request.h"
#include "core/core.h"
#include "runtime/log.h"
#include "runtime/wait.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- once per process ------------------------------------------------ */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void init_once(void)
{
    if (sodium_init() < 0) KILN_PANIC("sodium_init failed");
    /* A well-formed Argon2id string with our parameters and random salt and
     * digest: verifying against it does the full work and never matches. */
    unsigned char salt[crypto_pwhash_SALTBYTES], digest[32];
    char s64[sodium_base64_ENCODED_LEN(sizeof salt, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    char d64[sodium_base64_ENCODED_LEN(sizeof digest, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(digest, sizeof digest);
    sodium_bin2base64(s64, sizeof s64, salt, sizeof salt, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(d64, sizeof d64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    int n = snprintf(dummy_hash, sizeof dummy_hash, "$argon2id$v=19$m=%zu,t=%llu,p=1$%s$%s",
                     (size_t)(AUTH_PW_MEMLIMIT / 1024), (unsigned long long)AUTH_PW_OPSLIMIT, s64, d64);
    if (n <= 0 || (size_t)n >= sizeof dummy_hash) KILN_PANIC("dummy password hash does not fit");
}

void auth_sodium_init(void)
{
    pthread_once(&once, init_once);
}

/* ---- the hash slots of this worker ---------------------------------- */

typedef struct slot_waiter { conn *c; bool woken; struct slot_waiter *next; } slot_waiter;

static struct {
    int max;                  /* 0 until first use                          */
    int busy;
    int queue_max;            /* waiters allowed; 0 until first use         */
    int waiting;
    slot_waiter *head, *tail;
} slots;

static void slot_give(void);

static int slots_max(void)
{
    if (slots.max) return slots.max;
    const char *env = getenv("KILN_PWHASH_CONCURRENCY");
    long n = env && *env ? strtol(env, NULL, 10) : 0;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int workers = wait_workers();
        if (cpus < 1) cpus = 1;
        if (workers < 1) workers = 1;
        n = (cpus - 1) / workers;
    }
    if (n < 1) n = 1;
    if (n > 64) n = 64;
    slots.max = (int)n;
    return slots.max;
}

static int queue_max(void)
{
    if (slots.queue_max) return slots.queue_max;
    const char *env = getenv("KILN_PWHASH_QUEUE");
    long n = env && *env ? strtol(env, NULL, 10) : 64;
    if (n < 1) n = 1;
    if (n > 100000) n = 100000;
    slots.queue_max = (int)n;
    return slots.queue_max;
}

/* The line is full: 503 now (the handler's own answer is then ignored). */
static void answer_busy(kiln_req *req)
{
    kiln_res *res = request_res(req);
    log_event(LOG_WARN, req->id, "password hashing queue full; answering 503",
              "\"slots\":%d,\"queue\":%d", slots.max, slots.queue_max);
    if (!kiln_res_started(res)) {
        kiln_set_header(res, "Retry-After", "1");
        kiln_json(res, 503, "{error: %s, requestId: %s}", "Service Unavailable", req->id);
    }
    request_mute_response(req);
}

/* Take a slot, waiting in line for one. False when the line is full (503
 * answered) or the request was abandoned meanwhile (client gone, 504 sent):
 * then no slot is held. */
static bool slot_take(kiln_req *req)
{
    conn *c = wait_self();
    if (slots.busy < slots_max() && !slots.head) {
        slots.busy++;
        return true;
    }
    if (slots.waiting >= queue_max()) {
        answer_busy(req);
        return false;
    }
    slot_waiter w = { .c = c };
    if (slots.tail) slots.tail->next = &w; else slots.head = &w;
    slots.tail = &w;
    slots.waiting++;
    while (!w.woken) wait_suspend(WAIT_QUEUE);
    slots.waiting--;
    /* slot_give() unlinked us and handed its slot over (busy unchanged). */
    if (wait_gave_up(c)) {
        slot_give();            /* nobody will read the answer: pass it on */
        return false;
    }
    return true;
}

/* Give a slot back: to the first in line, or to the pool. */
static void slot_give(void)
{
    slot_waiter *w = slots.head;
    if (!w) {
        slots.busy--;
        return;
    }
    slots.head = w->next;
    if (!slots.head) slots.tail = NULL;
    w->woken = true;            /* the slot passes to w: busy stays the same */
    wait_wake_at(w->c, 0);
}

/* ---- the jobs run on a pool thread ---------------------------------- */

typedef struct pw_job {
    const char *hash;                     /* verify: the stored hash      */
    char *password;                       /* a malloc'd copy, wiped after */
    size_t len;
    char out[crypto_pwhash_STRBYTES];     /* hash: the result             */
    int rc;
} pw_job;

static void *hash_fn(void *arg)
{
    pw_job *j = arg;
    j->rc = auth_pwhash('H', j->password, j->len, NULL, j->out);
    return NULL;
}

static void *verify_fn(void *arg)
{
    pw_job *j = arg;
    j->rc = auth_pwhash('V', j->password, j->len, j->hash, NULL);
    return NULL;
}

/* Run fn on the pool within a hash slot. False if the request was abandoned
 * before it got one (fn did not run). */
static bool run_job(kiln_req *req, void *(*fn)(void *), pw_job *j, const char *password)
{
    auth_sodium_init();
    j->len = strlen(password);
    j->password = kiln_xmalloc(j->len + 1);
    memcpy(j->password, password, j->len + 1);
    bool ran = slot_take(req);
    if (ran) {
        kiln_offload(req, fn, j);
        slot_give();
    }
    sodium_memzero(j->password, j->len);
    free(j->password);
    j->password = NULL;
    return ran;
}

/* ---- the API ---------------------------------------------------------- */

char *kiln_password_hash(kiln_req *req, const char *password)
{
    if (!password) return NULL;
    pw_job j = { 0 };
    if (!run_job(req, hash_fn, &j, password)) return NULL;
    if (j.rc != 0) {
        /* Only out of memory (64 MiB) makes crypto_pwhash_str fail. */
        log_event(LOG_ERROR, req->id, "password hashing failed", "\"memlimit\":%zu", (size_t)AUTH_PW_MEMLIMIT);
        return NULL;
    }
    return kiln_strdup(req, j.out);
}

/* A string crypto_pwhash_str_verify can take: "$argon2id$" or "$argon2i$",
 * NUL-terminated within the size it allows. Anything else gets the dummy
 * hash, so a corrupt row costs the same time as a real check. */
static bool hash_usable(const char *hash)
{
    if (!hash) return false;
    if (strncmp(hash, "$argon2id$", 10) && strncmp(hash, "$argon2i$", 9)) return false;
    return memchr(hash, '\0', crypto_pwhash_STRBYTES) != NULL;
}

bool kiln_password_verify(kiln_req *req, const char *hash, const char *password)
{
    bool usable = hash_usable(hash) && password;
    auth_sodium_init();
    pw_job j = { .hash = usable ? hash : dummy_hash };
    if (!run_job(req, verify_fn, &j, password ? password : "")) return false;
    return usable && j.rc == 0;
}

void kiln_password_dummy_verify(kiln_req *req, const char *password)
{
    auth_sodium_init();
    pw_job j = { .hash = dummy_hash };
    (void)run_job(req, verify_fn, &j, password ? password : "");
}
