/*
 * graphql_ws.c -- GraphQL over WebSocket with the `graphql-transport-ws`
 * protocol (the protocol of the `graphql-ws` npm package): subscriptions fed
 * by real-time channels, and queries and mutations over the same socket.
 *
 * kiln_graphql hands an upgrade request that offers the subprotocol to
 * graphql_ws_serve. The socket then speaks JSON messages:
 *
 *   client                              server
 *   connection_init {payload?}     ->   connection_ack  (else close 4408 after
 *                                       KILN_GRAPHQL_WS_INIT_MS, default 3000)
 *   ping {payload?}                ->   pong {payload?}
 *   subscribe {id, payload:{query, variables?, operationName?}}
 *                                  ->   error [GraphQLError...]   (syntax,
 *                                       validation, limits, more than
 *                                       KILN_GRAPHQL_WS_MAX_SUBS (100) active
 *                                       subscriptions: the id is free again)
 *                                  ->   next {ExecutionResult} ... complete
 *   complete {id}                  ->   (the subscription ends)
 *
 * and these closes: 4400 an invalid message, 4401 subscribe before the ack,
 * 4403 connection_init with a session token that is not valid, 4408 no
 * connection_init in time, 4409 a subscription id already active, 4429 a
 * second connection_init.
 *
 * A subscription (graphql-js's subscribe()): gql_subscribe runs the root
 * field's resolver once with `sub` set; it names a channel with
 * kiln_gql_subscribe (CreateSourceEventStream). Each event of that channel
 * is delivered on the worker's loop (kiln_channel_subscribe), parsed, and the
 * operation executed with the event's data as root value
 * (MapSourceToResponseEvent); the result goes out as `next`. Nothing is
 * woken for an event: the handler's coroutine stays suspended in
 * kiln_ws_recv, reading the next client message.
 *
 * Why the straight-line socket API and not callbacks: queries and
 * mutations over the socket run resolvers that query the database and read
 * the session, which needs the request and its coroutine; callbacks have
 * neither. (An idle straight-line socket costs what the ws layer makes it
 * cost; see src/ws/session.c.)
 *
 * Owns: the socket's state (a heap record, freed when the handler returns)
 * and its active subscriptions (each a heap record with a small arena of
 * its own -- id, operation name, variables -- and a pin on its document in
 * the worker's parsed-document cache), the init timer.
 * Must never: deliver after a subscription was completed or the socket
 * closed, keep a subscription past the handler (all are dropped when it
 * returns), or send anything but a close after closing.
 */
#include "api/api.h"
#include "api/graphql.h"
#include "api/graphql_ws.h"
#include "api/request.h"
#include "graphql/doccache.h"
#include "graphql/exec.h"
#include "graphql/limits.h"
#include "graphql/schema.h"
#include "json/json.h"
#include "runtime/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_INIT_MS 3000
#define DEFAULT_MAX_SUBS 100       /* active subscriptions per socket */

typedef struct gws gws;

/* One active subscription. */
typedef struct gsub {
    struct gsub *next;
    gws *s;
    arena a;                    /* id, operation name, variables         */
    struct gql_cached_doc *cd;  /* the document: the worker's cache entry,
                                   pinned while the subscription lasts   */
    kiln_str id;
    gql_request rq;
    kiln_channel_sub *cs;
    const char *event;          /* only events of this name; NULL: all   */
} gsub;

/* One socket: on the heap, not on the handler's stack. Deliveries run on
 * the loop while the handler waits in kiln_ws_recv, and a handler that
 * waits a second is parked (runtime/park.c: its stack and arena go back to
 * the kernel): what a delivery reads lives here or in the subscription, so
 * an event to an idle subscriber touches neither (see deliver). */
struct gws {
    kiln_req *req;              /* in the parked arena: touched only when a
                                   resolver needs it                      */
    arena *ra;                  /* the request's arena (in its conn)     */
    kiln_ws *ws;
    const gql_schema *schema;
    bool init_seen;
    bool closing;
    loop *l;
    loop_timer init_timer;
    gsub *subs;
    unsigned nsubs, max_subs;
};

/* What the resolvers of a subscription see (gql_request.sub). */
typedef struct sub_state {
    bool event;                 /* running for an event (else subscribing) */
    const char *channel, *name; /* set by kiln_gql_subscribe              */
    bool skip;                  /* kiln_gql_skip: drop this event         */
} sub_state;

/* The socket a delivery runs for (deliveries run on the loop, one at a
 * time, but a resolver may publish and so deliver within a delivery). */
static gws *delivering;

/* ---- the resolver API (kiln.h) ------------------------------------------ */

bool kiln_gql_subscribe(kiln_gql *g, const char *channel, const char *event)
{
    sub_state *st = gql_r_request(g)->sub;
    if (!st) {
        kiln_gql_error(g, NULL, "Subscriptions are served over WebSocket (graphql-transport-ws).");
        return false;
    }
    if (st->event) {                            /* the event's data is the value */
        kiln_gql_return(g, kiln_gql_parent(g));
        return false;
    }
    if (!channel || !*channel) {
        kiln_gql_error(g, NULL, "kiln_gql_subscribe: no channel");
        return false;
    }
    arena *a = gql_r_arena(g);
    st->channel = arena_strdup(a, channel);
    st->name = event ? arena_strdup(a, event) : NULL;
    return true;
}

void kiln_gql_skip(kiln_gql *g)
{
    sub_state *st = gql_r_request(g)->sub;
    if (st && st->event) st->skip = true;
}

/* ---- the session ------------------------------------------------------------ */

/* connection_init's payload may carry a session token, as
 * {"authorization": "Bearer <token>"} or {"token": "<token>"}: from then on
 * it is the request's session (kiln_session_user in resolvers). False when
 * it is not a valid session's (close 4403). Without one, the upgrade
 * request's cookie or bearer token stands. */
static bool authorize(kiln_req *req, const kiln_value *payload)
{
    const char *auth = kiln_json_str(kiln_json_get(payload, "authorization"));
    const char *token = kiln_json_str(kiln_json_get(payload, "token"));
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) return false;
        token = auth + 7;
        while (*token == ' ') token++;
    }
    if (!token) return true;
    request_set_session_token(req, token);
    return kiln_session_user(req, NULL) != 0;
}

/* ---- sending ---------------------------------------------------------------- */

static void send_buf(gws *s, const buf *b)
{
    if (!s->closing) kiln_ws_send(s->ws, KILN_WS_TEXT, b->data, b->len);
}

/* {"id":..,"type":..,"payload":<json>} (payload NULL: none). */
static void send_msg(gws *s, kiln_str id, const char *type, const char *payload, size_t len)
{
    buf b;
    buf_init(&b, 64 + len);
    buf_puts(&b, "{");
    if (id.ptr) { buf_puts(&b, "\"id\":"); json_escape(&b, id.ptr, id.len); buf_putc(&b, ','); }
    buf_printf(&b, "\"type\":\"%s\"", type);
    if (payload) { buf_puts(&b, ",\"payload\":"); buf_append(&b, payload, len); }
    buf_putc(&b, '}');
    send_buf(s, &b);
    buf_free(&b);
}

static void close_socket(gws *s, int code, const char *reason)
{
    if (s->closing) return;
    s->closing = true;
    kiln_ws_close(s->ws, code, reason);
}

/* ---- subscriptions ------------------------------------------------------------ */

static gsub *find_sub(gws *s, kiln_str id)
{
    for (gsub *g = s->subs; g; g = g->next)
        if (g->id.len == id.len && memcmp(g->id.ptr, id.ptr, id.len) == 0) return g;
    return NULL;
}

static void drop_sub(gsub *g)
{
    gsub **pp = &g->s->subs;
    while (*pp != g) pp = &(*pp)->next;
    *pp = g->next;
    g->s->nsubs--;
    kiln_channel_unsubscribe(g->cs);
    gql_doccache_release(g->cd);
    arena_destroy(&g->a);
    free(g);
}

static bool run_op(gws *s, arena *a, gql_request *rq, buf *out, bool subscribe);

/* A channel event for one subscription (on the loop): run the operation
 * with the event's data as root value and send the result. */
static void deliver(void *ctx, kiln_str event, kiln_str data)
{
    gsub *g = ctx;
    if (g->s->closing) return;
    if (g->event && !(strlen(g->event) == event.len && memcmp(g->event, event.ptr, event.len) == 0)) return;
    arena a;
    arena_init(&a, 4096);
    const char *err = NULL;
    const kiln_value *root = data.len ? json_parse(&a, data.ptr, data.len, &err) : NULL;
    sub_state st = { .event = true };
    gql_request rq = g->rq;
    rq.root = root;
    rq.sub = &st;
    rq.deadline_ns = gql_deadline_ns(graphql_limits());
    buf out;
    buf_init(&out, 256);
    gws *outer = delivering;
    delivering = g->s;
    request_scope scope = request_event_begin(g->s->req, &a);   /* the event's memory is its own */
    run_op(g->s, &a, &rq, &out, false);
    arena_run_defers(&a);             /* its kiln_defer clean-ups (a rollback), still in its scope */
    request_event_end(g->s->req, &a, !g->s->ra->off, scope);
    delivering = outer;
    if (!st.skip) send_msg(g->s, g->id, "next", out.data, out.len);
    buf_free(&out);
    arena_destroy(&a);
}

/* gql_request.failed for deliveries: the executor asks after every
 * resolver whether the database failed under it, and asking reads the
 * request. While the request's arena is still parked nothing has touched
 * the request, so no query ran: nothing failed, and the arena stays
 * parked. (A resolver that reads the session or queries the database
 * touches the request: the fault puts the arena back, and then we ask.) */
static bool delivery_db_failed(void *req, const char **message, const char **code)
{
    if (delivering && delivering->ra->off) return false;
    return graphql_db_failed(req, message, code);
}

/* ---- messages ------------------------------------------------------------------- */

/* The operation the request selects (NULL: none or ambiguous; execution
 * then reports it). */
static const gql_node *selected_op(const gql_node *doc, kiln_str name)
{
    const gql_node *op = NULL;
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (d->kind != GQL_OPERATION) continue;
        if (name.ptr ? gql_kstr_eq(d->name, name) : !op) op = d;
        else if (!name.ptr) return NULL;
    }
    return op;
}

/* One execution on the socket's request (a query or mutation, a
 * subscription's start, an event): database failures under its resolvers
 * are field errors (graphql.h), and the result's resolver errors are
 * reported to Sentry as over HTTP. `subscribe`: gql_subscribe (true when
 * the stream started), else gql_execute. */
static bool run_op(gws *s, arena *a, gql_request *rq, buf *out, bool subscribe)
{
    bool event = rq->sub && ((sub_state *)rq->sub)->event;
    rq->failed = event ? delivery_db_failed : graphql_db_failed;
    /* An event arrives while the handler is suspended, with failures
     * caught (graphql_ws_serve): they are reset unless the request is
     * parked (then nothing was caught since) and stay caught after. */
    if (!event || !s->ra->off) request_catch_db_failures(s->req, true);
    bool ok = subscribe ? gql_subscribe(a, s->schema, rq, out) : (gql_execute(a, s->schema, rq, out), true);
    if (!event) request_catch_db_failures(s->req, false);
    /* Only a result with errors is reported (graphql_report_errors looks at
     * the request first: not for every event). */
    if (out->len >= 10 && !memcmp(out->data, "{\"errors\":", 10)) {
        const gql_node *op = selected_op(rq->doc, rq->operation_name);
        kiln_str name = rq->operation_name.ptr ? rq->operation_name : op ? op->name : (kiln_str){ NULL, 0 };
        graphql_report_errors(s->req, out->data, out->len, name);
    }
    return ok;
}

static bool is_str(const kiln_value *v) { return v && v->type == KILN_JSON_STRING; }
static bool is_obj_or_null(const kiln_value *v) { return !v || v->type == KILN_JSON_OBJECT || v->type == KILN_JSON_NULL; }

/* A subscribe message. Its document comes from the worker's parsed-document
 * cache (graphql_doc), as over HTTP: the same parse, the same limits checked
 * first on every request (they bound validation's work), then validation
 * (cached with the entry). A subscription keeps the entry pinned and holds
 * only its id, operation name and variables. scratch: the message's arena
 * (execution of a single result or of the subscribing root field). */
static void on_subscribe(gws *s, const kiln_value *m, arena *scratch)
{
    const kiln_value *id = kiln_json_get(m, "id"), *p = kiln_json_get(m, "payload");
    const kiln_value *q = p ? kiln_json_get(p, "query") : NULL;
    const kiln_value *vars = p ? kiln_json_get(p, "variables") : NULL;
    const kiln_value *name = p ? kiln_json_get(p, "operationName") : NULL;
    if (!is_str(id) || id->len == 0 || !p || p->type != KILN_JSON_OBJECT || !is_str(q) || !is_obj_or_null(vars)
        || !(!name || is_str(name) || name->type == KILN_JSON_NULL)) {
        close_socket(s, 4400, "Invalid message received");
        return;
    }
    kiln_str sid = { id->str, id->len };
    if (find_sub(s, sid)) {
        char reason[128];
        snprintf(reason, sizeof reason, "Subscriber for %.*s already exists", (int)(sid.len > 90 ? 90 : sid.len), sid.ptr);
        close_socket(s, 4409, reason);
        return;
    }
    /* The subscription's own memory: kept if it becomes one. */
    gsub *g = kiln_xcalloc(1, sizeof *g);
    g->s = s;
    arena_init(&g->a, 256);
    g->id = (kiln_str){ arena_strndup(&g->a, sid.ptr, sid.len), sid.len };
    g->cd = graphql_doc(s->schema, q->str, q->len);
    const gql_node *doc = g->cd->doc;
    const char *src = g->cd->text;
    size_t len = g->cd->len;
    buf out;
    buf_init(&out, 256);
    bool keep = false;
    if (g->cd->state == GQL_DOC_SYNTAX) goto request_error;
    kiln_str opname = is_str(name) ? (kiln_str){ arena_strndup(&g->a, name->str, name->len), name->len } : (kiln_str){ NULL, 0 };
    gql_errs errs = { .a = scratch, .src = src, .src_len = len };
    gql_check_limits(s->schema, doc, opname, graphql_limits(), &errs);
    if (errs.count) {
        gql_write_errors(&out, &errs);
        send_msg(s, g->id, "error", out.data, out.len);
        goto done;
    }
    gql_doccache_validate(g->cd, s->schema, scratch);
    if (g->cd->state == GQL_DOC_INVALID) goto request_error;
    const kiln_value *v = NULL;
    if (vars && vars->type == KILN_JSON_OBJECT) {   /* a copy the subscription keeps */
        buf vb;
        buf_init(&vb, 128);
        gql_stringify(&vb, vars);
        v = json_parse(&g->a, vb.data, vb.len, &(const char *){ NULL });
        buf_free(&vb);
    }
    g->rq = (gql_request){ .doc = doc, .src = src, .src_len = len, .operation_name = opname,
                           .variables = v, .context = s->req };
    const gql_node *op = selected_op(doc, opname);
    if (!op || op->op != GQL_SUBSCRIPTION) {                /* a single result */
        g->rq.deadline_ns = gql_deadline_ns(graphql_limits());
        run_op(s, scratch, &g->rq, &out, false);
        send_msg(s, g->id, "next", out.data, out.len);
        send_msg(s, g->id, "complete", NULL, 0);
        goto done;
    }
    sub_state st = { .event = false };
    g->rq.sub = &st;
    bool ok = run_op(s, scratch, &g->rq, &out, true);
    g->rq.sub = NULL;
    if (ok && !st.channel) {
        buf_puts(&out, "{\"errors\":[{\"message\":\"Subscription field must return Async Iterable. Received: undefined.\"}]}");
        ok = false;
    }
    if (!ok) {                  /* an ExecutionResult instead of a stream */
        send_msg(s, g->id, "next", out.data, out.len);
        send_msg(s, g->id, "complete", NULL, 0);
        goto done;
    }
    if (s->nsubs >= s->max_subs) {
        buf_printf(&out, "[{\"message\":\"Too many subscriptions on this socket (the limit is %u).\"}]", s->max_subs);
        send_msg(s, g->id, "error", out.data, out.len);
        goto done;
    }
    g->event = st.name ? arena_strdup(&g->a, st.name) : NULL;
    g->cs = kiln_channel_subscribe(st.channel, deliver, g);
    g->next = s->subs;
    s->subs = g;
    s->nsubs++;
    keep = true;
    goto done;
request_error:                  /* a syntax or validation error (cached) */
    send_msg(s, g->id, "error", g->cd->errors, g->cd->errors_len);
done:
    buf_free(&out);
    if (!keep) { gql_doccache_release(g->cd); arena_destroy(&g->a); free(g); }
}

static void on_message(gws *s, const kiln_ws_msg *msg)
{
    arena a;
    arena_init(&a, 1024);
    const char *err = NULL;
    const kiln_value *m = msg->type == KILN_WS_TEXT ? json_parse(&a, msg->data, msg->len, &err) : NULL;
    const kiln_value *type = m && m->type == KILN_JSON_OBJECT ? kiln_json_get(m, "type") : NULL;
    const char *t = is_str(type) ? type->str : "";
    if (!strcmp(t, "connection_init")) {
        if (!is_obj_or_null(kiln_json_get(m, "payload"))) close_socket(s, 4400, "Invalid message received");
        else if (s->init_seen) close_socket(s, 4429, "Too many initialisation requests");
        else {
            s->init_seen = true;
            loop_timer_cancel(s->l, &s->init_timer);
            if (!authorize(s->req, kiln_json_get(m, "payload"))) close_socket(s, 4403, "Forbidden");
            else send_msg(s, (kiln_str){ NULL, 0 }, "connection_ack", NULL, 0);
        }
    } else if (!strcmp(t, "ping") || !strcmp(t, "pong")) {
        const kiln_value *p = kiln_json_get(m, "payload");
        if (!is_obj_or_null(p)) close_socket(s, 4400, "Invalid message received");
        else if (t[1] == 'i') {
            buf pb;
            buf_init(&pb, 64);
            if (p) gql_stringify(&pb, p);
            send_msg(s, (kiln_str){ NULL, 0 }, "pong", p ? pb.data : NULL, pb.len);
            buf_free(&pb);
        }
    } else if (!strcmp(t, "subscribe")) {
        if (!s->init_seen) close_socket(s, 4401, "Unauthorized");
        else on_subscribe(s, m, &a);
    } else if (!strcmp(t, "complete")) {
        const kiln_value *id = kiln_json_get(m, "id");
        gsub *g = is_str(id) && id->len ? find_sub(s, (kiln_str){ id->str, id->len }) : NULL;
        if (!is_str(id) || !id->len) close_socket(s, 4400, "Invalid message received");
        else if (g) drop_sub(g);
    } else {
        close_socket(s, 4400, "Invalid message received");
    }
    arena_destroy(&a);
}

static void on_init_timeout(loop_timer *t)
{
    gws *s = (gws *)((char *)t - offsetof(gws, init_timer));
    if (!s->init_seen) close_socket(s, 4408, "Connection initialisation timeout");
}

/* ---- the socket ------------------------------------------------------------------ */

void graphql_ws_serve(kiln_req *req, kiln_res *res)
{
    const gql_schema *schema = graphql_schema();
    if (!schema) { kiln_error(res, 500, "GraphQL schema unavailable"); return; }
    kiln_ws *ws = kiln_ws_accept(req, res, &(kiln_ws_opts){ .protocol = "graphql-transport-ws" });
    if (!ws) return;
    gws *s = kiln_xcalloc(1, sizeof *s);
    *s = (gws){ .req = req, .ra = request_arena(req), .ws = ws, .schema = schema, .l = kiln_current_worker->loop };
    const char *env = getenv("KILN_GRAPHQL_WS_INIT_MS");
    long init_ms = env && *env ? strtol(env, NULL, 10) : DEFAULT_INIT_MS;
    env = getenv("KILN_GRAPHQL_WS_MAX_SUBS");
    long max_subs = env && *env ? strtol(env, NULL, 10) : DEFAULT_MAX_SUBS;
    s->max_subs = max_subs > 0 ? (unsigned)max_subs : DEFAULT_MAX_SUBS;
    s->init_timer.on_fire = on_init_timeout;
    s->init_timer.heap_index = -1;
    loop_timer_set(s->l, &s->init_timer, loop_now_ms(s->l) + (uint64_t)(init_ms > 0 ? init_ms : DEFAULT_INIT_MS));
    kiln_ws_msg msg;
    for (;;) {
        /* Deliveries run while we wait: database failures under their
         * resolvers are caught from here on (run_op). */
        request_catch_db_failures(req, true);
        bool got = !s->closing && kiln_ws_recv(ws, &msg);
        request_catch_db_failures(req, false);
        if (!got) break;
        on_message(s, &msg);
    }
    s->closing = true;
    loop_timer_cancel(s->l, &s->init_timer);
    while (s->subs) drop_sub(s->subs);
    free(s);
}
