/*
 * pwhelper.c -- Argon2id in a process of its own: the password hashes of
 * password.c are computed by helper processes (this same binary, started as
 * `SERVER --pwhash-helper` with one socket on fd 3), never in the worker.
 *
 * Why: libsodium maps Argon2's 64 MiB with MAP_POPULATE and unmaps it after
 * each hash. Measured in a worker (strace -T): the map takes 32-38 ms and the
 * unmap 6-7 ms, and both hold the address space's lock, which every page
 * fault and map of the event loop's thread also needs -- so a login on a
 * pool thread stalled /api/hello on the same worker by up to 40 ms (150 ms
 * on a busy box). In a helper process the lock is the helper's own.
 *
 * The protocol is one SOCK_SEQPACKET message each way:
 *   request  [op: 'H' hash | 'V' verify][u32 password length][password][hash string, verify only]
 *   reply    [i32 rc][hash string, 'H' only, crypto_pwhash_STRBYTES]
 * A helper answers one request at a time; the worker keeps up to as many
 * helpers as it has hash slots (password.c bounds that), each either busy
 * with one pool thread or idle on a free list. A helper exits at end of
 * file (the worker closed it, or the worker is gone), or on SIGTERM: it
 * starts with an empty signal mask and default dispositions, whatever the
 * spawning pool thread blocked or the worker ignored.
 *
 * Owns: the idle helpers (their sockets and pids).
 * Must never: run a hash on the worker's own address space when a helper
 * answers, hand one helper to two threads at once, or keep a password after
 * the request (the message buffers are wiped).
 */
#include "auth/auth.h"
#include "core/core.h"
#include "runtime/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define HELPER_FD 3
#define PASSWORD_MAX 65536   /* longer ones (the body limit allows them) hash in the worker */
#define REQ_MAX (1 + 4 + PASSWORD_MAX + crypto_pwhash_STRBYTES)
#define REP_LEN (4 + crypto_pwhash_STRBYTES)

/* ---- the hash itself: the helper's work, and the worker's fallback ---- */

/* 'H': hash password into out; 'V': verify it against hash (a C string).
 * What crypto_pwhash_str / _verify return. */
static int compute(char op, const char *password, size_t len, const char *hash, char *out)
{
    if (op == 'H') return crypto_pwhash_str(out, password, len, AUTH_PW_OPSLIMIT, AUTH_PW_MEMLIMIT);
    return crypto_pwhash_str_verify(hash, password, len);
}

/* ---- the helper process ----------------------------------------------- */

int auth_pwhash_helper_main(void)
{
    if (sodium_init() < 0) return 1;
    static unsigned char req[REQ_MAX + 1];
    unsigned char rep[REP_LEN];
    for (;;) {
        ssize_t n = recv(HELPER_FD, req, sizeof req - 1, 0);   /* room for the NUL */
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;                       /* the worker is gone */
        uint32_t len;
        int32_t rc = -1;
        memset(rep, 0, sizeof rep);
        if (n >= 5) memcpy(&len, req + 1, 4);
        if (n < 5 || len > PASSWORD_MAX || (size_t)n < 5 + (size_t)len) {
            rc = -2;                                /* malformed: not ours */
        } else if ((req[0] == 'H' && (size_t)n == 5 + (size_t)len) || (req[0] == 'V' && (size_t)n > 5 + (size_t)len)) {
            req[n] = '\0';                          /* a verify's hash string ends the message */
            rc = compute((char)req[0], (const char *)req + 5, len, (const char *)req + 5 + len, (char *)rep + 4);
        } else {
            rc = -2;
        }
        sodium_memzero(req, (size_t)n);
        memcpy(rep, &rc, 4);
        if (send(HELPER_FD, rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep) return 0;
    }
}

/* ---- the worker's side (pool threads) -------------------------------- */

typedef struct helper { int fd; pid_t pid; struct helper *next; } helper;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static helper *idle_list;

static helper *spawn_helper(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], HELPER_FD);     /* dup2 clears CLOEXEC */
    posix_spawn_file_actions_addclosefrom_np(&fa, HELPER_FD + 1);
    char *argv[] = { "kiln-pwhash", "--pwhash-helper", NULL };
    /* We run on a pool thread, which blocks every signal, and the worker
     * ignores some (SIGPIPE): both would pass through exec to the helper,
     * and a helper that cannot take SIGTERM outlives `kill`. The helper
     * starts with no signal blocked and every disposition at its default. */
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int err = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (err) { close(sv[0]); return NULL; }
    helper *h = kiln_xmalloc(sizeof *h);
    h->fd = sv[0];
    h->pid = pid;
    h->next = NULL;
    return h;
}

static void drop_helper(helper *h)
{
    close(h->fd);                    /* a live helper exits at end of file */
    while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR) {}
    free(h);
}

/* One request to helper h and its answer. False if h did not answer (it
 * died, or was killed): h is then closed and reaped. */
static bool ask(helper *h, const unsigned char *req, size_t n, unsigned char rep[REP_LEN])
{
    ssize_t got = -1;
    if (send(h->fd, req, n, MSG_NOSIGNAL) == (ssize_t)n)
        do got = recv(h->fd, rep, REP_LEN, 0); while (got < 0 && errno == EINTR);
    if (got == REP_LEN) return true;
    drop_helper(h);
    return false;
}

/* The hash or verify of compute(), done by a helper when one answers, else
 * by this thread: a password over PASSWORD_MAX, no helper could be
 * started, or a fresh one died too. An idle helper found dead is replaced
 * by a new one first. */
int auth_pwhash(char op, const char *password, size_t len, const char *hash, char *out)
{
    size_t hlen = hash ? strlen(hash) : 0;
    if (len > PASSWORD_MAX || hlen >= crypto_pwhash_STRBYTES) return compute(op, password, len, hash, out);

    unsigned char *req = kiln_xmalloc(REQ_MAX);
    uint32_t l32 = (uint32_t)len;
    req[0] = (unsigned char)op;
    memcpy(req + 1, &l32, 4);
    memcpy(req + 5, password, len);
    if (hlen) memcpy(req + 5 + len, hash, hlen);
    size_t n = 5 + len + hlen;
    unsigned char rep[REP_LEN];
    helper *h = NULL;
    for (int attempt = 0; attempt < 2 && !h; attempt++) {
        pthread_mutex_lock(&mu);
        h = idle_list;
        if (h) idle_list = h->next;
        pthread_mutex_unlock(&mu);
        bool fresh = !h;
        if (fresh && !(h = spawn_helper())) break;
        if (!ask(h, req, n, rep)) {
            h = NULL;
            if (fresh) break;       /* a new helper that cannot answer: give up */
        }
    }
    sodium_memzero(req, n);
    free(req);
    if (!h) return compute(op, password, len, hash, out);

    int32_t r;
    memcpy(&r, rep, 4);
    if (r == -2) KILN_PANIC("password helper refused a request it should take");
    if (op == 'H') {
        memcpy(out, rep + 4, crypto_pwhash_STRBYTES);
        out[crypto_pwhash_STRBYTES - 1] = '\0';
    }
    sodium_memzero(rep, sizeof rep);
    pthread_mutex_lock(&mu);
    h->next = idle_list;
    idle_list = h;
    pthread_mutex_unlock(&mu);
    return r;
}

/* At worker exit: close every idle helper (each exits) and reap it. */
void auth_pwhash_helpers_stop(void)
{
    pthread_mutex_lock(&mu);
    helper *h = idle_list;
    idle_list = NULL;
    pthread_mutex_unlock(&mu);
    while (h) {
        helper *next = h->next;
        drop_helper(h);
        h = next;
    }
}
