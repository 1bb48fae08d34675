/*
 * engine.h -- the connection engine: master and worker processes, the event
 * loop, connections, handler coroutines, the offload pool, the log.
 *
 * The engine speaks HTTP/1.1 framing (it parses heads, reads bodies, answers
 * its own protocol errors: 400, 408, 413, 414, 431, 501, 505) and knows
 * nothing of routes, handlers, kiln_req or kiln_res. The layer above (the
 * framework: src/api, src/app) registers what it needs through the hooks
 * at the end of this file, and may read and write the structures below.
 * The database and auth layers use only runtime/wait.h (and runtime/log.h).
 *
 *   socket (conn.c) -> parser (http/parse.c) -> engine_hooks.request
 *   -> handler on its coroutine (conn_run) -> response bytes in c->out -> socket
 */
#ifndef KILN_ENGINE_H
#define KILN_ENGINE_H

#include "core/buf.h"
#include "core/core.h"
#include "http/parse.h"
#include "runtime/coro.h"
#include "runtime/log.h"
#include "runtime/loop.h"
#include "runtime/wait.h"

#include <sys/types.h>

#define KILN_MAX_HEADERS 100
#define KILN_MAX_HEAD (16 * 1024)       /* request line + headers: 431 beyond */
#define KILN_MAX_TARGET (8 * 1024)      /* request-target: 414 beyond         */
#define KILN_DEFAULT_BODY_LIMIT (1024 * 1024)

/* Settings shared by master and workers (parsed once in server_main). */
typedef struct server_opts {
    int port;
    const char *host;           /* NULL: all interfaces (dual-stack)   */
    int workers;
    int log_level;              /* LOG_DEBUG .. LOG_ERROR              */
    unsigned idle_timeout_ms;   /* keep-alive connection, no request   */
    unsigned header_timeout_ms; /* first byte to end of head           */
    unsigned body_timeout_ms;   /* longest wait between body reads     */
    unsigned shutdown_timeout_ms;
    int offload_threads;
    int *listen_fds;            /* one SO_REUSEPORT socket per worker slot,
                                   opened by the master (see master.c)   */
    size_t nroutes;             /* for the start-up log line only (set by
                                   a master_start hook)                  */
} server_opts;

typedef struct worker worker;

enum conn_state {
    CS_HEAD,          /* reading a request head                 */
    CS_BODY,          /* reading a buffered body                */
    CS_HANDLER,       /* a handler's coroutine is suspended     */
    CS_CLOSING,       /* writing the last bytes, then close     */
    CS_LINGER,        /* write side shut; draining input a bit  */
    CS_UPGRADED,      /* handed to a protocol (upgrade.c); no handler runs */
};

/* A protocol that took a connection over after an HTTP upgrade (WebSocket,
 * say). The engine knows only these calls; it reads the socket into a
 * buffer on the loop's stack (the connection keeps none) and hands the
 * bytes over. All calls come from the loop, except on_data right after
 * conn_upgrade and after conn_proto_pause(false), which come from wherever
 * those were called. */
typedef struct conn_proto {
    /* Bytes arrived: consume them all (keep what must wait). */
    void (*on_data)(void *ctx, const uint8_t *p, size_t n);
    /* Everything queued was written after a write had blocked. */
    void (*on_drain)(void *ctx);
    /* The connection is closed (peer gone, reset, or conn_close): nothing
     * more will be read or written. Called once. */
    void (*on_closed)(void *ctx);
    /* The request's handler returned: its coroutine, arena and buffers are
     * gone. Called once, before or after on_closed. */
    void (*on_handler_done)(void *ctx);
    /* The worker drains (SIGTERM, SIGHUP): end the protocol politely so
     * that the peer goes elsewhere before the deadline (WebSocket: close
     * 1001). May be NULL. */
    void (*on_shutdown)(void *ctx);
} conn_proto;

struct conn {
    loop_io io;
    worker *w;
    conn *prev, *next;          /* worker's list of live connections      */
    enum conn_state state;
    buf in;                     /* bytes read, not yet consumed           */
    buf out;                    /* response bytes not yet written         */
    buf body;                   /* request body being assembled           */
    buf res_body;               /* response body being built              */
    size_t head_len;            /* length of the parsed head in `in`      */
    bool head_in_arena;         /* c->http's slices point into the arena  */
    http_header *headers;       /* KILN_MAX_HEADERS, in the arena, per request */
    http_chunked chunked;       /* buffered chunked body decoding         */
    size_t body_limit;
    bool body_chunked;
    int64_t body_left;
    arena arena;                /* the request arena (only while in use)  */
    bool arena_live;            /* arena initialised: see conn_use_arena  */
    loop_timer timer;           /* idle / header / body / linger deadline */
    loop_timer duration_timer;  /* the route's max duration (framework)   */
    bool close_after;           /* close once `out` is written            */
    bool write_blocked;         /* last write hit EAGAIN                  */
    bool read_closed;           /* peer sent FIN                          */
    bool dead;                  /* closed, waiting to be freed            */
    bool in_request;            /* between head parsed and response done  */
    bool abandoned;             /* a 504 was sent; coroutine still out    */
    bool need_read;             /* stopped reading with `in` full         */
    bool write_queued;          /* in the worker's write-behind queue     */
    uint64_t linger_until;
    char remote[64];
    unsigned long long nreq;    /* requests served on this connection     */
    /* The request in progress (cleared when it is answered). */
    http_request http;          /* the parsed head: slices into `in`      */
    coro *co;                   /* the handler's coroutine                */
    int wait;                   /* WAIT_* what the coroutine waits for    */
    uint64_t yielded_ms;        /* loop time its coroutine last yielded   */
    loop_timer wake_timer;      /* wait_wake_at                           */
    void *offload_result;       /* what the offloaded call returned       */
    const char *req_id;         /* for the engine's answers and crash logs */
    const char *route;          /* the route pattern, for crash logs      */
    const char *trace_id;       /* W3C trace id (framework): on the log
                                   lines of the request's code            */
    bool head_sent;             /* a streamed head went out: a crash can
                                   no longer answer                      */
    void *app;                  /* the framework's request state (arena)  */
    /* After an HTTP upgrade (upgrade.c) */
    const conn_proto *proto;    /* who gets the bytes                     */
    void *proto_ctx;
    bool proto_closed;          /* proto->on_closed was called            */
    bool read_paused;           /* proto asked to stop reading for now    */
    bool peer_shut;             /* epoll saw RDHUP/HUP: read on to the FIN
                                   even after a short read                */
    uint32_t park_slot[2];      /* park.c: its stack's and arena's entries
                                   in w->park_ix, plus one (0: none)      */
};

/* At most this many connections' responses wait for the end of a loop
 * turn (write-behind, conn.c); a full queue is written at once. */
#define CONN_WRITE_BATCH 32

struct worker {
    int id;                     /* 0..N-1                                 */
    const server_opts *opts;
    loop *loop;
    loop_io listen_io;
    loop_timer accept_pause;    /* out of fds: listen_io unwatched till it fires */
    loop_io signal_io;
    conn *conns;                /* live connections                       */
    conn *dead;                 /* closed this turn, freed after the turn */
    /* Write-behind (conn.c): connections whose finished responses wait in
     * `out` to be written together at the end of this loop turn. */
    conn *write_queue[CONN_WRITE_BATCH];
    int nwrite_queue;
    size_t nconns;
    bool draining;              /* SIGTERM: no new connections            */
    bool stopping;              /* SIGTERM seen: not ready (serving on for
                                   KILN_SHUTDOWN_DELAY_MS, then draining)  */
    loop_timer stop_delay;      /* ... that delay                         */
    uint64_t drain_deadline;
    char id_prefix[9];          /* request ids: prefix + counter          */
    unsigned long long id_counter;
    struct offload_pool *pool;
    conn *crash_conn;           /* connection whose handler runs now      */
    int running;                /* a handler is on the CPU now (watchdog)     */
    uint64_t run_deadline_ms;   /* ... and its deadline (monotonic)           */
    bool paused;                /* hold new requests (kiln dev: a build runs) */
    uint64_t park_sweep_ms;     /* next conn_park_idle sweep (loop time)      */
    struct park_ent *park_ix;   /* park.c: parked ranges, sorted by address   */
    uint32_t park_n;
};

extern worker *kiln_current_worker;

/* conn.c */
bool conn_accept_all(worker *w);       /* false: out of fds, retry later */
void conn_resume_after_wait(conn *c);  /* a suspended handler may continue */
void conn_close(conn *c);
void conn_flush(conn *c);
void conn_flush_queued(worker *w);     /* write-behind: after each loop turn */
void conn_send(conn *c, const void *p, size_t n);   /* write now if nothing queued, queue the rest */
void conn_request_done(conn *c);       /* response queued: next request   */
void conn_fail(conn *c);               /* error response queued: close    */
bool conn_read_more(conn *c);          /* raw body: read on if `in` was full */
void conn_free_dead(worker *w);
void conn_kick(conn *c);               /* process buffered input (after a pause) */
void conn_use_arena(conn *c);          /* the arena exists from here on    */
void conn_release_arena(conn *c);      /* idle: give its blocks back       */
/* The engine's own answer to a protocol error (400, 408, 413, 414, 431,
 * 501, 505 ...): {"error": message} (413 adds the limit), then close. */
void conn_error(conn *c, int status, const char *message);
/* Run c->co (made by the framework with coro_new) until it yields or ends,
 * under the worker's watchdog: a handler that keeps the CPU past
 * deadline_ms (monotonic) ends the worker with a 504 to its client. */
void conn_run(conn *c, uint64_t deadline_ms);
/* After every loop turn (worker.c): at most twice a second, park the stack
 * of every handler that has waited for its protocol (WAIT_PROTO: a
 * WebSocket in kiln_ws_recv) for CONN_PARK_AFTER_MS or more (coro_park):
 * an idle straight-line WebSocket then holds no coroutine stack. */
void conn_park_idle(worker *w);
#define CONN_PARK_AFTER_MS 1000
/* Before a parked handler runs again (conn_run): its arena comes back (its
 * stack comes back in coro_resume). */
void conn_unpark(conn *c);
/* From the worker's SIGSEGV handler, on the loop thread: addr lies in a
 * parked stack or arena of one of w's connections (some code outside the
 * handler touched it): it is put back, true, and the access goes on. */
bool conn_park_fault(worker *w, const void *addr);
/* conn.c, before a connection is freed: its entries in the index of parked
 * ranges no longer name it. */
void conn_park_forget(conn *c);
/* worker.c, at exit: the index goes. */
void conn_park_free(worker *w);
/* From the SIGSEGV handler on another thread than the loop's (a pool
 * thread): ask the loop to put back the parked memory at addr and wait for
 * it (conn_park_remote_init, at worker start, made the loop listen). True:
 * the access can go on; false: not parked memory (a crash). */
bool conn_park_fault_remote(const void *addr);
void conn_park_remote_init(worker *w);
/* park.c, from conn.c's head parsing: true (and a page-aligned arena) when
 * the request asks to upgrade; then, once the headers are in the arena,
 * conn_head_to_arena moves the head there so that `in` can go. */
bool conn_upgrade_head(conn *c);
void conn_head_to_arena(conn *c);

/* upgrade.c: the generic hand-over after an HTTP upgrade (101). The engine
 * knows no WebSocket: only a conn_proto.
 * From the handler, once the 101 is queued: from now on bytes go to proto.
 * Bytes the client sent after the request head are handed over at once. */
void conn_upgrade(conn *c, const conn_proto *proto, void *ctx);
/* Close after what is queued is written (now, or when the handler returns). */
void conn_proto_end(conn *c);
/* Stop reading (paused true), or read on now (paused false): the protocol's
 * own back-pressure. */
void conn_proto_pause(conn *c, bool paused);
void conn_proto_read(conn *c);             /* conn.c: readable, upgraded     */
/* The framework: the handler of an upgraded request returned. Its
 * coroutine, arena and HTTP buffers go back; the protocol goes on. */
void conn_proto_handler_done(conn *c);
/* worker.c's drain (SIGTERM, SIGHUP): tell upgraded connections (on_shutdown) and wake
 * long-lived responses waiting for their peer (WAIT_PEER). */
void conn_stop_long_lived(worker *w);

/* date.c */
const char *http_date_now(void);   /* "Tue, 24 Nov 2026 05:06:06 GMT", cached */
void http_date_tick(void);

/* pool.c: the offload thread pool */
struct offload_pool *offload_pool_new(loop *l, int threads);
void offload_pool_free(struct offload_pool *p);
/* Run fn(arg) on a pool thread; c->offload_result gets its result and c
 * resumes (WAIT_OFFLOAD). */
void offload_submit(struct offload_pool *p, void *(*fn)(void *), void *arg, conn *c);
/* True while a pool thread runs a job (park.c parks nothing then). */
bool offload_running(struct offload_pool *p);

/* worker.c */
int worker_run(const server_opts *opts, int id);
/* master, before fork: one listening socket; reuseport joins the port's
 * SO_REUSEPORT group. -1 with errno set on failure. */
int listener_open(const server_opts *opts, bool reuseport);

/* ---- hooks: how the framework plugs into the engine ------------------
 * Registered before server_main(); each list runs in registration order.
 * Start hooks return 0, or an exit status after printing why (the server
 * then does not start). */
typedef int  (*engine_master_start_fn)(server_opts *o);  /* master, before the first fork */
typedef void (*engine_worker_fn)(worker *w);             /* each worker: start / exit      */
typedef void (*engine_conn_fn)(conn *c);
typedef void (*engine_signal_fn)(worker *w, int sig);
typedef void (*engine_crash_fn)(conn *c, int sig);

void engine_on_master_start(engine_master_start_fn fn);
/* Runs in each worker before it listens (after the loop and pool exist). */
void engine_on_worker_start(engine_worker_fn fn);
/* Runs in each worker after its last connection closed, before exit. */
void engine_on_worker_exit(engine_worker_fn fn);
/* The handler entry (exactly one): `request` is called when a head is parsed
 * and again, in CS_BODY, when the body is complete; it answers or runs a
 * coroutine (conn_run). `resume` continues a suspended one (a wait ended). */
void engine_set_handler(engine_conn_fn request, engine_conn_fn resume);
/* SIGUSR1/SIGUSR2: with a hook set, the master passes them to its workers
 * and each worker calls it from its loop (kiln dev: reload, hold). */
void engine_on_user_signal(engine_signal_fn fn);
/* A handler crashed (async-signal context, on the crash stack): with a hook
 * set, the answers queued before it are written and the hook writes the
 * crashed request's answer to c->io.fd itself (kiln dev: a backtrace). */
void engine_on_crash(engine_crash_fn fn);
/* A handler crashed or overran (async-signal context, before the answer is
 * written): the hook may note it (error reports) and put header lines
 * ("Name: value\r\n") for the answer into hdr (cap bytes; "" for none).
 * frames: backtrace() of the signal handler's stack. */
typedef void (*engine_crash_note_fn)(conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap);
void engine_on_crash_note(engine_crash_note_fn fn);
/* Master: a worker ended (crashed: by a signal or a failure status;
 * restarted: a new one takes its slot). */
typedef void (*engine_worker_ended_fn)(int slot, bool crashed, bool restarted);
void engine_on_worker_ended(engine_worker_ended_fn fn);

/* master.c: parse the options (argv, environment), run the master_start
 * hooks, fork the workers and keep them alive. Returns the exit status. */
int server_main(int argc, char **argv);

/* hooks.c: the engine's side of the hooks (used by master.c, worker.c). */
int engine_run_master_start(server_opts *o);
void engine_run_worker_start(worker *w);
void engine_run_worker_exit(worker *w);
void engine_request(conn *c);
void engine_resume(conn *c);
bool engine_user_signals(void);
void engine_user_signal(worker *w, int sig);
bool engine_crash_answers(void);
void engine_crash(conn *c, int sig);
void engine_crash_note(conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap);
void engine_worker_ended(int slot, bool crashed, bool restarted);

/* symbolize.c: "func" and "file:line" of offset `off` in object `obj`
 * (addr2line); false when it cannot tell. Forks: never in a production
 * signal handler. */
bool symbolize(const char *obj, uintptr_t off, char *func, size_t fcap, char *loc, size_t lcap);

#endif
