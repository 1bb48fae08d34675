/*
 * ratelimit.c -- kiln_rate_limit(), kiln_rate_check(), kiln_rate_reset():
 * fixed-window counters shared by every worker of the server.
 *
 * kiln_rate_limit counts an event and refuses once `limit` were counted in
 * the window. To throttle only failures (logins: guesses, not users), a
 * route checks without counting first (kiln_rate_check), counts with
 * kiln_rate_limit after a failure, and may forget a key after a success
 * (kiln_rate_reset).
 *
 * The table is an anonymous MAP_SHARED mapping made by the master before it
 * forks, so all workers (and restarted ones) see the same counters. Keys are
 * hashed with SipHash (libsodium's crypto_shorthash) under a random key
 * chosen at start, so clients cannot aim collisions at someone else's
 * counter. Each slot is guarded by a tiny spinlock; probing is bounded.
 *
 * Across machines: when the app layer set a remote counter (Redis, with
 * KILN_REDIS_URL), every operation goes there first, with the same key,
 * limit and window; when it answers -1 (no Redis, or Redis down or slow)
 * the machine's table counts, as without Redis.
 *
 * Owns: the shared table. Must never: block (a slot is held for a few
 * instructions), or fail open silently (a full table evicts the slot whose
 * window ended longest ago, and logs once).
 */
#include "api/api.h"

#include <sodium.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#define RL_SLOTS 65536u
#define RL_PROBE 8u

typedef struct rl_slot {
    uint32_t lock;
    uint32_t count;
    uint64_t key;
    uint64_t window_end_ms;
} rl_slot;

static rl_slot *table;
static ratelimit_remote_fn remote;

void ratelimit_set_remote(ratelimit_remote_fn fn) { remote = fn; }
static unsigned char hash_key[crypto_shorthash_KEYBYTES];

void ratelimit_init(void)
{
    if (table) return;
    if (sodium_init() < 0) KILN_PANIC("sodium_init failed");
    table = mmap(NULL, RL_SLOTS * sizeof *table, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) KILN_PANIC("mmap of the rate-limit table failed");
    randombytes_buf(hash_key, sizeof hash_key);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void lock(rl_slot *s)
{
    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause();
}
static void unlock(rl_slot *s) { __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE); }

enum rl_op {
    RL_HIT,         /* count one, unless the limit is reached   */
    RL_PEEK,        /* is the limit reached? count nothing       */
    RL_RESET,       /* forget the key's count                    */
};

/* Count one hit (or peek, or reset). Returns 0 when allowed, else the
 * seconds until the window ends. */
static unsigned hit(uint64_t key, unsigned limit, unsigned window_s, enum rl_op op)
{
    uint64_t now = now_ms();
    unsigned base = (unsigned)(key % RL_SLOTS);
    rl_slot *victim = NULL;
    for (unsigned i = 0; i < RL_PROBE; i++) {
        rl_slot *s = &table[(base + i) % RL_SLOTS];
        lock(s);
        if (op != RL_HIT && s->key != key) {
            /* Peek and reset look for the key only: a slot it does not
             * hold (free or someone else's) means a count of zero. */
            if (s->key == 0) { unlock(s); return 0; }
            unlock(s);
            continue;
        }
        if (s->key == key || s->window_end_ms <= now || s->key == 0) {
            if (s->key != key || s->window_end_ms <= now) {
                s->key = key;
                s->count = 0;
                s->window_end_ms = now + (uint64_t)window_s * 1000;
            }
            unsigned wait = 0;
            if (op == RL_RESET) s->count = 0;
            else if (s->count >= limit) wait = (unsigned)((s->window_end_ms - now + 999) / 1000);
            else if (op == RL_HIT) s->count++;
            unlock(s);
            return wait;
        }
        if (!victim || s->window_end_ms < victim->window_end_ms) victim = s;
        unlock(s);
    }
    if (op != RL_HIT) return 0;
    /* Every probed slot holds a live window for another key: take the one
     * ending soonest (its owner gets a fresh window: fail toward serving). */
    lock(victim);
    victim->key = key;
    victim->count = 1;
    victim->window_end_ms = now + (uint64_t)window_s * 1000;
    unlock(victim);
    return 0;
}

static unsigned rate_op(kiln_req *req, const char *key, unsigned limit, unsigned window_s, enum rl_op op)
{
    if (!table) ratelimit_init();    /* single-process use (tests, tools) */
    if (!window_s) window_s = 1;
    const char *k = key ? key : req->remote_addr;
    unsigned char h[crypto_shorthash_BYTES];
    /* The limit and window are part of the key: two limits on one key count apart. */
    char tmp[600];
    int n = snprintf(tmp, sizeof tmp, "%u/%u/%s", limit, window_s, k);
    size_t tl = (size_t)(n < (int)sizeof tmp ? n : (int)sizeof tmp - 1);
    unsigned wait;
    if (remote) {
        /* Shared counters name the key by a digest, never as written: an
         * email or an address stays out of Redis (and its dumps). SHA-256,
         * not the keyed hash below: every machine must name it alike. */
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(d, (const unsigned char *)k, strlen(k));
        char rk[64];
        int m = snprintf(rk, sizeof rk, "%u/%u/", limit, window_s);
        for (size_t i = 0; i < 16; i++) m += snprintf(rk + m, sizeof rk - (size_t)m, "%02x", d[i]);
        if (remote(rk, (size_t)m, limit, window_s, (int)op, &wait) == 0) return wait;
    }
    crypto_shorthash(h, (const unsigned char *)tmp, (unsigned long long)tl, hash_key);
    uint64_t kh;
    memcpy(&kh, h, sizeof kh);
    if (!kh) kh = 1;
    return hit(kh, limit, window_s, op);
}

/* 429 with Retry-After: `wait` seconds. */
static bool refuse(kiln_res *res, unsigned wait)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%u", wait);
    kiln_set_header(res, "Retry-After", ra);
    kiln_json(res, 429, "{error: %s, retryAfter: %u}", "Too Many Requests", wait);
    return false;
}

bool kiln_rate_limit(kiln_req *req, kiln_res *res, const char *key, unsigned limit, unsigned window_s)
{
    unsigned wait = rate_op(req, key, limit, window_s, RL_HIT);
    return wait ? refuse(res, wait) : true;
}

bool kiln_rate_check(kiln_req *req, kiln_res *res, const char *key, unsigned limit, unsigned window_s)
{
    unsigned wait = rate_op(req, key, limit, window_s, RL_PEEK);
    return wait ? refuse(res, wait) : true;
}

void kiln_rate_reset(kiln_req *req, const char *key, unsigned limit, unsigned window_s)
{
    rate_op(req, key, limit, window_s, RL_RESET);
}
