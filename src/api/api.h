/*
 * api.h -- the framework's internal types: a request's private state, the
 * response, and the pieces of the handler API that call each other.
 *
 * The framework sits on the engine (runtime/engine.h): the engine hands it a
 * connection with a parsed head (dispatch_request, registered as the
 * engine's request hook by app/app.c); the framework keeps its per-request
 * state in the connection's arena (c->app) and writes responses into c->out.
 */
#ifndef KILN_API_H
#define KILN_API_H

#include "kiln.h"
#include "core/buf.h"
#include "core/core.h"
#include "http/parse.h"
#include "json/json.h"
#include "router/router.h"
#include "runtime/engine.h"

#define KILN_DEFAULT_MAX_DURATION_MS 10000

/* The request's private state (kiln_req.priv). */
struct kiln_req_private {
    conn *c;
    route_match match;
    int method;                 /* enum kiln_method, or -1 for others     */
    const kiln_config *config;
    kiln_res *res;
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
    struct db_req *db;          /* db.c: connection held, transaction     */
    /* observability (set by the api_observe hooks; "" when unset) */
    char trace_id[33];          /* W3C trace context: the trace            */
    char span_id[17];           /* this request's span                     */
    char parent_span_id[17];    /* the caller's span, "" when it began here */
    char trace_flags[3];
    char event_id[33];          /* an error report about this request      */
    int64_t session_user;       /* kiln_require_session's user, 0: none    */
    const char *session_token;  /* presented another way than by header or
                                   cookie (GraphQL's connection_init)     */
    const char *error_sql;      /* db.c: the failed statement (its 500)    */
    const char *error_text;     /* ... and the database's message          */
    bool db_catch;              /* request_catch_db_failures: GraphQL runs */
    bool graphql;               /* the route is a GraphQL endpoint (its
                                   automatic failures answer as GraphQL)  */
    kiln_db_status db_caught;   /* the first failure not yet taken         */
    const char *db_caught_msg;  /* its message (KILN_DB_INVALID's)         */
    /* graphql.c, while it reports a resolver error: the error's path
     * ("posts.0.author") and the operation's name, for the event. */
    const char *gql_path, *gql_operation;
};

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

/* One request, as the framework sees it: lives in the connection's arena
 * from its head to its answer; c->app points to it. */
typedef struct request {
    kiln_req req;
    kiln_res res;
    struct kiln_req_private priv;
} request;

static inline request *rq(conn *c) { return (request *)c->app; }

/* The framework's per-worker state (each worker is a process of its own). */
typedef struct api_state {
    router *router;             /* the routes: the master's, or kiln dev's latest */
    const kiln_app_def *app;    /* app-wide middleware and its matcher            */
    const char *dev_error;      /* kiln dev: build failed; JSON diagnostics array */
    bool dev;                   /* kiln dev: responses checked against their
                                   declarations, /_kiln/openapi.json served fresh */
    const char *app_dir;        /* the app's folder (its kiln.json)               */
} api_state;
extern api_state api;

/* Observability (error reports, metrics, trace context, built-in
 * endpoints) plugs in here; each may be NULL. Set once, before fork, by
 * report/observe.c (registered by app/app.c). */
typedef struct api_observer {
    void (*begin)(conn *c);                  /* head parsed, request set up  */
    kiln_handler (*builtin)(conn *c);        /* /_kiln/...: its handler (run
                                                on a coroutine), NULL: route */
    void (*answer)(conn *c, int status);     /* Kiln answers 5xx itself (a
                                                database error, a 504, no
                                                answer): before the head     */
    void (*end)(conn *c, int status, uint64_t us); /* answer queued          */
} api_observer;
extern api_observer api_observe;

/* dispatch.c: the engine's request hooks */
void dispatch_request(conn *c);        /* head (+ body) ready: route and run */
void dispatch_resume(conn *c);         /* resume a suspended handler         */
void dispatch_finish(conn *c);         /* handler done: write the response   */

/* res.c (internal side) */
void res_init(kiln_res *res, kiln_req *req, buf *body);
void res_write_head_and_body(conn *c);  /* non-streaming completion          */
void res_simple(conn *c, int status, const char *content_type, const char *body, size_t len,
                const char *extra_headers);
void res_stream_finish(conn *c);
bool res_switch_protocols(conn *c);     /* 101 with the handler's headers */

/* req.c: an urlencoded body as an object of strings (repeated keys become
 * arrays of strings), for req->json. */
const kiln_value *form_as_value(kiln_req *req);

/* validate.c: schemas attached to a route's config */
bool validate_route(kiln_req *req, kiln_res *res, const kiln_config *config, int method);
int validate_check_routes(const kiln_route_def *routes, size_t n);   /* -1 after printing */
char *validate_check_route(const kiln_route_def *r);                 /* malloc'd error or NULL */
char *validate_check_schema(const kiln_rule *schema);                /* malloc'd error or NULL */

/* openapi.c: /_kiln/openapi.json, the API description (src/openapi) of
 * api.app. Served by kiln dev always (built fresh for each request, for its
 * reloads), by kiln start when KILN_OPENAPI=1 (openapi_serving(); built once
 * per process). GET/HEAD get the document, other methods 405. */
bool openapi_serving(void);
void openapi_answer(kiln_req *req, kiln_res *res);

/* middleware.c, ratelimit.c */
bool middleware_applies(const kiln_app_def *app, const kiln_route_def *r, const char *path);
bool middleware_run(kiln_req *req, kiln_res *res, const kiln_app_def *app, const kiln_route_def *r);
bool middleware_matcher_match(const char *pattern, const char *path);
void ratelimit_init(void);     /* master, before fork: the shared table */
/* Counting shared by every machine (the app layer sets it to realtime's
 * channel_redis_rate): op 0 hit, 1 peek, 2 reset; returns 0 and the wait in
 * seconds (0: allowed), or -1 to count in the machine's table instead. */
typedef int (*ratelimit_remote_fn)(const char *key, size_t klen, unsigned limit, unsigned window_s, int op,
                                   unsigned *wait_s);
void ratelimit_set_remote(ratelimit_remote_fn fn);

#endif
