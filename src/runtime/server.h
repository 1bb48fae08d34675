/*
 * server.h -- the runtime's internal types: worker, connection, request.
 *
 * A request's path through a worker is short and linear:
 *   socket (conn.c) -> parser (http/parse.c) -> router (router/match.c)
 *   -> handler on its coroutine (dispatch.c) -> writer (api/res.c) -> socket
 */
#ifndef KILN_SERVER_H
#define KILN_SERVER_H

#include "kiln.h"
#include "core/buf.h"
#include "core/core.h"
#include "http/parse.h"
#include "json/json.h"
#include "router/router.h"
#include "runtime/coro.h"
#include "runtime/loop.h"

#include <sys/types.h>

#define KILN_MAX_HEADERS 100
#define KILN_MAX_HEAD (16 * 1024)       /* request line + headers: 431 beyond */
#define KILN_MAX_TARGET (8 * 1024)      /* request-target: 414 beyond         */
#define KILN_DEFAULT_BODY_LIMIT (1024 * 1024)
#define KILN_DEFAULT_MAX_DURATION_MS 10000

/* Settings shared by master and workers (parsed once in kiln_main). */
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
    const kiln_route_def *routes;
    size_t nroutes;
    const kiln_app_def *app;    /* app-wide middleware and its matcher */
} server_opts;

typedef struct conn conn;
typedef struct worker worker;

/* The request's private state (kiln_req.priv). Lives in the conn's arena. */
struct kiln_req_private {
    conn *c;
    http_request http;          /* slices into c->in                      */
    route_match match;
    int method;                 /* enum kiln_method, or -1 for others     */
    const kiln_config *config;
    kiln_res *res;
    coro *co;
    kiln_handler fn;            /* what the coroutine runs (NULL: resolve
                                   the method after the middleware ran)   */
    bool run_middleware;        /* a middleware chain applies             */
    uint64_t start_ms;
    uint64_t start_ns;
    /* Lazily built views */
    struct kv *query;  size_t nquery;  bool query_done;
    struct kv *form;   size_t nform;   bool form_done;
    /* raw_body streaming */
    bool body_streaming;        /* config.raw_body: body read on demand    */
    int64_t body_left;          /* Content-Length bytes still to come;
                                   chunked: bytes body_limit still allows */
    bool body_chunked;
    http_chunked chunked;
    bool body_done;
    /* waits */
    int wait;                   /* WAIT_* what the coroutine waits for    */
    loop_timer sleep_timer;
    void *offload_result;
    struct db_req *db;          /* db.c: connection held, transaction     */
};

/* WAIT_PEER: a long-lived response (an event stream) waiting for something
 * to send; the peer closing its side also wakes it. WAIT_PROTO: an upgraded
 * connection's handler waiting for its protocol (a WebSocket message). */
enum { WAIT_NONE, WAIT_SLEEP, WAIT_OFFLOAD, WAIT_BODY, WAIT_WRITE, WAIT_FD, WAIT_QUEUE, WAIT_PEER, WAIT_PROTO };

typedef struct kv { const char *key; const char *value; } kv;

typedef struct res_header { const char *name; const char *value; struct res_header *next; } res_header;

struct kiln_res {
    kiln_req *req;
    int status;
    bool started;               /* a send call happened                   */
    bool streaming;             /* chunked response in progress           */
    bool stream_ended;
    bool json_open;             /* kiln_json_begin body being built       */
    bool quiet;                 /* an automatic answer went out (db.c):
                                   later sends are ignored without a log  */
    const char *content_type;
    res_header *headers;        /* set/append, in order                   */
    res_header **headers_tail;
    buf *body;                  /* the conn's body buffer                 */
    jw_state jw;
    kiln_jw *jw_handle;
};

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
 * per-worker buffer (the connection keeps none) and hands the bytes over.
 * All calls come from the loop, except on_data right after conn_upgrade and
 * after conn_proto_read(false), which come from wherever those were called. */
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
    /* The worker drains (SIGTERM, SIGHUP): end the protocol politely (a
     * WebSocket sends 1001) so the connection closes before the deadline. */
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
    http_header *headers;       /* KILN_MAX_HEADERS, in the arena, per request */
    http_chunked chunked;       /* buffered chunked body decoding         */
    size_t body_limit;
    bool body_chunked;
    int64_t body_left;
    arena arena;                /* the request arena (only while in use)  */
    bool arena_live;            /* arena initialised: see conn_use_arena  */
    kiln_req req;
    struct kiln_req_private priv;
    kiln_res res;
    loop_timer timer;           /* idle / header / body / linger deadline */
    loop_timer duration_timer;  /* the route's max duration               */
    bool close_after;           /* close once `out` is written            */
    bool write_blocked;         /* last write hit EAGAIN                  */
    bool read_closed;           /* peer sent FIN                          */
    bool dead;                  /* closed, waiting to be freed            */
    bool in_request;            /* between head parsed and response done  */
    bool abandoned;             /* a 504 was sent; coroutine still out    */
    bool need_read;             /* stopped reading with `in` full         */
    uint64_t linger_until;
    char remote[64];
    unsigned long long nreq;    /* requests served on this connection     */
    const conn_proto *proto;    /* upgraded: who gets the bytes (upgrade.c) */
    void *proto_ctx;
    bool proto_closed;          /* proto->on_closed was called            */
    bool read_paused;           /* proto asked to stop reading for now    */
};

struct worker {
    int id;                     /* 0..N-1                                 */
    const server_opts *opts;
    loop *loop;
    loop_io listen_io;
    loop_timer accept_pause;    /* out of fds: listen_io unwatched till it fires */
    loop_io signal_io;
    router *router;
    conn *conns;                /* live connections                       */
    conn *dead;                 /* closed this turn, freed after the turn */
    size_t nconns;
    bool draining;              /* SIGTERM: no new connections            */
    uint64_t drain_deadline;
    char id_prefix[9];          /* request ids: prefix + counter          */
    unsigned long long id_counter;
    struct offload_pool *pool;
    conn *crash_conn;           /* connection of the handler running now  */
    const kiln_app_def *app;    /* routes' app-wide middleware (dev: reloaded) */
    int running;                /* a handler is on the CPU now (watchdog)     */
    uint64_t run_deadline_ms;   /* ... and its route's deadline (monotonic)   */
    const char *dev_error;      /* dev: build failed; JSON diagnostics array  */
    bool paused;                /* dev: a build runs; hold new requests       */
    loop_timer dev_timer;       /* dev: let go of held requests if no reload  */
    struct dev_state *dev;      /* dev: routers of every generation loaded     */
};

extern worker *kiln_current_worker;

/* conn.c */
bool conn_accept_all(worker *w);       /* false: out of fds, retry later */
void conn_resume_after_wait(conn *c);  /* a suspended handler may continue */
void conn_close(conn *c);
void conn_flush(conn *c);
void conn_request_done(conn *c);       /* response queued: next request   */
void conn_fail(conn *c);               /* error response queued: close    */
bool conn_read_more(conn *c);          /* raw body: read on if `in` was full */
void conn_free_dead(worker *w);
void conn_use_arena(conn *c);          /* the arena exists from here on    */
void conn_release_arena(conn *c);      /* idle: give its blocks back       */

/* upgrade.c: the generic hand-over after an HTTP upgrade (101). */
/* From the handler, once the 101 is queued: from now on bytes go to proto.
 * Bytes the client sent after the request head are handed over at once. */
void conn_upgrade(conn *c, const conn_proto *proto, void *ctx);
/* Close after what is queued is written (now, or when the handler returns). */
void conn_proto_end(conn *c);
/* Stop reading (paused true), or read on now (paused false): the protocol's
 * own back-pressure. */
void conn_proto_pause(conn *c, bool paused);
void conn_proto_read(conn *c);             /* conn.c: readable, upgraded   */
void conn_proto_handler_done(conn *c);     /* dispatch.c: handler returned */

/* dispatch.c */
void dispatch_request(conn *c);        /* head (+ body) ready: route and run */
void dispatch_resume(conn *c);         /* resume a suspended handler         */
void dispatch_finish(conn *c);         /* handler done: write the response   */

/* api/res.c (internal side) */
void res_init(kiln_res *res, kiln_req *req, buf *body);
void res_write_head_and_body(conn *c);  /* non-streaming completion          */
void res_simple(conn *c, int status, const char *content_type, const char *body, size_t len,
                const char *extra_headers);
void res_error_json(conn *c, int status, const char *message);
void res_stream_finish(conn *c);
bool res_switch_protocols(conn *c);     /* 101 with the handler's headers */

/* log.c */
enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_init(int level, int worker_id);
bool log_enabled(int level);
void log_event(int level, const char *request_id, const char *msg, const char *fields_fmt, ...);
void log_flush(void);
void log_set_pretty(bool color);    /* kiln dev: human-readable lines */
void log_access(kiln_req *req, int status, double ms);

/* date.c */
const char *http_date_now(void);   /* "Tue, 24 Nov 2026 05:06:06 GMT", cached */
void http_date_tick(void);

/* pool.c: the offload thread pool */
struct offload_pool *offload_pool_new(loop *l, int threads);
void offload_pool_free(struct offload_pool *p);
void offload_submit(struct offload_pool *p, void *(*fn)(void *), void *arg, conn *c);

/* api/req.c: an urlencoded body as an object of strings (repeated keys
 * become arrays of strings), for req->json. */
const kiln_value *form_as_value(kiln_req *req);

/* api/validate.c: schemas attached to a route's config */
bool validate_route(kiln_req *req, kiln_res *res, const kiln_config *config, int method);
int validate_check_routes(const kiln_route_def *routes, size_t n);   /* -1 after printing */
char *validate_check_schema(const kiln_rule *schema);                /* malloc'd error or NULL */

/* wait.c: suspending a request's coroutine and resuming it from the loop */
/* Wait until fd is ready for `events` (EPOLLIN/EPOLLOUT) or timeout_ms passes
 * (0: no timeout). Returns the ready events, 0 on timeout. */
int wait_fd(kiln_req *req, int fd, uint32_t events, unsigned timeout_ms);
/* From the request's coroutine: yield until something resumes it; `what`
 * (WAIT_*) says what it waits for (a 504 wakes some kinds early). */
void wait_suspend(kiln_req *req, int what);
/* Resume a suspended request from the loop at deadline_ms (0: next turn);
 * never from a coroutine directly. */
void wait_wake_at(conn *c, uint64_t deadline_ms);

/* middleware.c, ratelimit.c */
bool middleware_applies(const kiln_app_def *app, const kiln_route_def *r, const char *path);
bool middleware_run(kiln_req *req, kiln_res *res, const kiln_app_def *app, const kiln_route_def *r);
bool middleware_matcher_match(const char *pattern, const char *path);
void ratelimit_init(void);     /* master, before fork: the shared table */

/* db.c: per-worker set-up and tear-down (lazy connect on first query). */
void db_worker_exit(void);

/* devhost.c: `kiln dev` (routes from shared objects, reloaded on signal) */
extern bool kiln_dev_mode;
void devhost_worker_start(worker *w);       /* load the manifest, own router */
void devhost_signal(worker *w, int sig);    /* SIGUSR2 hold, SIGUSR1 reload  */
void devhost_worker_exit(worker *w);
void devhost_crash_answer(conn *c, int sig);/* 500 with signal + backtrace   */
void conn_kick(conn *c);                    /* conn.c: process buffered input */

/* worker.c */
int worker_run(const server_opts *opts, int id);
/* master, before fork: one listening socket; reuseport joins the port's
 * SO_REUSEPORT group. -1 with errno set on failure. */
int listener_open(const server_opts *opts, bool reuseport);

#endif
