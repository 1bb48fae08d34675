/*
 * dispatch.c -- from a parsed head to a running handler and back: the
 * framework's entry, registered as the engine's request and resume hooks.
 *
 * dispatch_request() is called twice per request with a body: once when the
 * head is parsed (route, method, limits, 100-continue) and once when the body
 * is complete (parse it, run the handler). The handler runs on a coroutine;
 * if it suspends (offload, sleep, raw body, stream backpressure) the
 * connection waits in CS_HANDLER until dispatch_resume().
 *
 * Observability plugs in through api_observe (api.h): it sees each request
 * begin (trace context), may answer it first (/_kiln/ endpoints), sees
 * Kiln's own 5xx answers before they go out (error reports) and each answer
 * (metrics). While a request's code runs, its log lines carry its trace id.
 *
 * Owns: the request's framework state (in the connection's arena), its
 * coroutine and its max-duration timer.
 * Must never: run a handler on the loop's own stack, or send a response for
 * a request whose 504 has already gone out.
 */
#include "api/api.h"
#include "openapi/openapi.h"
#include "api/request.h"
#include "api/upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

static const char *const method_names[KILN_METHOD_COUNT] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};

static int method_of(const char *m, size_t n)
{
    for (int i = 0; i < KILN_METHOD_COUNT; i++)
        if (strlen(method_names[i]) == n && memcmp(method_names[i], m, n) == 0) return i;
    return -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "GET, POST" for a per-method route: the methods it defines (HEAD, served
 * from GET, and OPTIONS, answered by Kiln, work without being listed). */
static const char *allow_list(conn *c, const kiln_route_def *r)
{
    char tmp[96];
    size_t n = 0;
    for (int i = 0; i < KILN_METHOD_COUNT; i++) {
        if (!r->methods[i]) continue;
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%s%s", n ? ", " : "", method_names[i]);
    }
    return arena_strndup(&c->arena, tmp, n);
}

/* Terminate the head's slices in place: the byte after each is a delimiter
 * (SP, '?', CR, ':' or OWS) that the parser has already consumed. */
static void terminate_slices(http_request *h)
{
    ((char *)h->method)[h->method_len] = '\0';
    ((char *)h->path)[h->path_len] = '\0';
    if (h->query_len) ((char *)h->query)[h->query_len] = '\0';
    for (size_t i = 0; i < h->num_headers; i++) {
        ((char *)h->headers[i].name)[h->headers[i].name_len] = '\0';
        ((char *)h->headers[i].value)[h->headers[i].value_len] = '\0';
    }
}

static void next_request_id(worker *w, char *out /* 17 bytes */)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, w->id_prefix, 8);
    unsigned long long v = ++w->id_counter;
    for (int i = 15; i >= 8; i--) { out[i] = hex[v & 15]; v >>= 4; }
    out[16] = '\0';
}

/* Behind a reverse proxy every connection comes from the proxy. When the
 * peer is one of KILN_TRUSTED_PROXIES (a comma-separated list of addresses),
 * the client is the right-most X-Forwarded-For entry that is not itself a
 * trusted proxy; otherwise X-Forwarded-For is ignored (anyone can send it). */
static bool trusted_proxy(const char *addr, size_t n)
{
    static const char *list;
    static bool loaded;
    if (!loaded) { list = getenv("KILN_TRUSTED_PROXIES"); loaded = true; }
    if (!list || !*list) return false;
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == ',') s++;
        const char *e = s;
        while (*e && *e != ',' && *e != ' ') e++;
        if ((size_t)(e - s) == n && n && !memcmp(s, addr, n)) return true;
        s = e;
    }
    return false;
}

static const char *client_address(conn *c)
{
    if (!trusted_proxy(c->remote, strlen(c->remote))) return c->remote;
    const char *xff = kiln_header(&rq(c)->req, "x-forwarded-for");
    if (!xff) return c->remote;
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',') start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (b > a && !trusted_proxy(a, (size_t)(b - a)))
            return (size_t)(b - a) < 64 ? arena_strndup(&c->arena, a, (size_t)(b - a)) : c->remote;
        end = start > xff ? start - 1 : xff;
    }
    return c->remote;
}

static void on_duration(loop_timer *t);

api_observer api_observe;

static void log_request(conn *c, int status, double ms)
{
    kiln_req *req = &rq(c)->req;
    log_access(req->id, req->method, req->path, req->route, status, ms);
    if (api_observe.end) api_observe.end(c, status, (uint64_t)(ms * 1000.0));
}

/* The function for this method, or NULL after answering 405 (or 204 for
 * OPTIONS) with Allow. */
static kiln_handler resolve_method(conn *c, const kiln_route_def *r)
{
    if (r->handler) return r->handler;
    int m = rq(c)->priv.method;
    kiln_handler fn = m >= 0 ? r->methods[m] : NULL;
    if (!fn && m == KILN_HEAD) fn = r->methods[KILN_GET];
    if (fn) return fn;
    kiln_set_header(&rq(c)->res, "Allow", allow_list(c, r));
    if (m == KILN_OPTIONS) kiln_end(&rq(c)->res, 204);
    else kiln_text(&rq(c)->res, 405, "Method %s Not Allowed", rq(c)->req.method);
    return NULL;
}

/* The request's coroutine: middleware, then method dispatch, then handler. */
static void handler_main(coro *co, void *arg)
{
    conn *c = arg;
    struct kiln_req_private *p = &rq(c)->priv;
    (void)co;
    const kiln_route_def *r = p->match.route;
    p->graphql = r && r->graphql;
    if (p->run_middleware && !middleware_run(&rq(c)->req, &rq(c)->res, api.app, r)) return;
    if (!p->fn && !(p->fn = resolve_method(c, r))) return;
    if (p->config && !validate_route(&rq(c)->req, &rq(c)->res, p->config, p->method)) return;
    p->fn(&rq(c)->req, &rq(c)->res);
}

static unsigned max_duration_ms(const struct kiln_req_private *p)
{
    return p->config && p->config->max_duration_ms ? p->config->max_duration_ms : KILN_DEFAULT_MAX_DURATION_MS;
}

/* Run (or go on running) the handler's coroutine under the watchdog, with
 * the route's deadline. */
static void resume_watched(conn *c)
{
    struct kiln_req_private *p = &rq(c)->priv;
    /* An upgraded connection's handler lives as long as its peer: each run
     * of it gets the route's whole budget. */
    uint64_t base = c->proto ? loop_now_ms(c->w->loop) : p->start_ms;
    conn_run(c, base + max_duration_ms(p));
}

static void run_handler(conn *c)
{
    struct kiln_req_private *p = &rq(c)->priv;
    c->co = coro_new(handler_main, c);
    c->state = CS_HANDLER;
    resume_watched(c);
    if (coro_done(c->co)) {
        dispatch_finish(c);
        return;
    }
    if (c->proto) return;   /* upgraded: no max duration (upgrade.c) */
    unsigned ms = max_duration_ms(p);
    c->duration_timer.on_fire = on_duration;
    loop_timer_set(c->w->loop, &c->duration_timer, p->start_ms + ms);
}

void dispatch_resume(conn *c)
{
    if (!c->co || coro_done(c->co)) return;
    resume_watched(c);
    if (coro_done(c->co)) dispatch_finish(c);
}

/* The route's max duration passed while the handler was suspended. */
static void on_duration(loop_timer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, duration_timer));
    struct kiln_req_private *p = &rq(c)->priv;
    if (c->dead || !c->co || coro_done(c->co) || c->abandoned) return;
    log_set_context(c->req_id, c->trace_id);
    log_event(LOG_WARN, rq(c)->req.id, "handler exceeded its max duration", "\"route\":\"%s\"", rq(c)->req.route);
    if (!rq(c)->res.streaming) {
        char body[128];
        int n = snprintf(body, sizeof body, "{\"error\":\"Gateway Timeout\",\"requestId\":\"%s\"}", rq(c)->req.id);
        if (api_observe.answer) api_observe.answer(c, 504);
        res_simple(c, 504, "application/json; charset=utf-8", body, (size_t)n, NULL);
        log_request(c, 504, (double)(now_ns() - p->start_ns) / 1e6);
    }
    log_set_context(NULL, NULL);
    c->abandoned = true;
    c->close_after = true;
    conn_flush(c);
    /* Wake waits that can end early (a queue for a database connection
     * too); an offloaded call or a query in flight must finish first. */
    if (c->wait == WAIT_SLEEP || c->wait == WAIT_BODY || c->wait == WAIT_WRITE || c->wait == WAIT_QUEUE) {
        loop_timer_cancel(c->w->loop, &c->wake_timer);
        dispatch_resume(c);
    }
}

/* kiln dev: a response of a route that declares its responses is checked
 * against the declaration; a mismatch is reported on the terminal with the
 * declaration's file and line (the route's file when the status itself is
 * not declared). The response goes out unchanged. */
static void check_declared(conn *c)
{
    struct kiln_req_private *p = &rq(c)->priv;
    kiln_res *res = &rq(c)->res;
    const kiln_response *d = NULL;
    const char *why = openapi_check_response(&c->arena, p->config, p->method, res->status, res->content_type,
                                             c->res_body.data, c->res_body.len, &d);
    if (!why) return;
    const kiln_route_def *r = p->match.route;
    const char *file = d ? openapi_source_path(d->file) : r->file;
    buf f;
    buf_init(&f, 256);
    buf_puts(&f, "\"file\":");
    json_escape(&f, file, strlen(file));
    buf_printf(&f, ",\"line\":%d,\"route\":", d ? d->line : 1);
    json_escape(&f, r->pattern, strlen(r->pattern));
    buf_printf(&f, ",\"method\":\"%s\",\"status\":%d,\"problem\":", rq(c)->req.method, res->status);
    json_escape(&f, why, strlen(why));
    buf_putc(&f, '\0');
    log_event(LOG_WARN, rq(c)->req.id, "response does not match its declaration", "%s", f.data);
    buf_free(&f);
}

void dispatch_finish(conn *c)
{
    struct kiln_req_private *p = &rq(c)->priv;
    if (c->proto) {            /* the 101 went out: the protocol goes on */
        conn_proto_handler_done(c);
        return;
    }
    loop_timer_cancel(c->w->loop, &c->duration_timer);
    /* A raw-body handler that stopped before the end of its body: the bytes
     * still coming are body, not a next request. Close after this answer. */
    if (p->body_streaming && !p->body_done) c->close_after = true;
    int status = rq(c)->res.status;
    if (!c->abandoned) {
        log_set_context(c->req_id, c->trace_id);
        if (rq(c)->res.streaming) {
            res_stream_finish(c);
        } else if (!rq(c)->res.started) {
            log_event(LOG_ERROR, rq(c)->req.id, "handler returned without sending a response",
                      "\"route\":\"%s\"", rq(c)->req.route);
            status = 500;
            char body[128];
            int n = snprintf(body, sizeof body, "{\"error\":\"Internal Server Error\",\"requestId\":\"%s\"}", rq(c)->req.id);
            if (api_observe.answer) api_observe.answer(c, 500);
            res_simple(c, 500, "application/json; charset=utf-8", body, (size_t)n, NULL);
        } else {
            /* An automatic answer (a database error's 500, say) is Kiln's own. */
            if (rq(c)->res.quiet && status >= 500 && api_observe.answer) api_observe.answer(c, status);
            if (UNLIKELY(api.dev) && p->config && p->match.route) check_declared(c);
            res_write_head_and_body(c);
        }
        double ms = (double)(now_ns() - p->start_ns) / 1e6;
        log_request(c, status, ms);
        log_set_context(NULL, NULL);
    }
    if (c->co) { coro_release(c->co); c->co = NULL; }
    if (c->abandoned) {
        c->close_after = true;
        c->abandoned = false;
        conn_request_done(c);
        if (c->io.fd >= 0 && !c->dead) conn_flush(c);
        return;
    }
    conn_request_done(c);
}

/* ---- for protocols and long-lived responses (api/upgrade.h, request.h) ---- */

conn *request_conn(kiln_req *req) { return req->priv->c; }

bool request_switch_protocols(kiln_req *req)
{
    conn *c = req->priv->c;
    if (!res_switch_protocols(c)) return false;
    log_request(c, 101, (double)(now_ns() - req->priv->start_ns) / 1e6);
    return true;
}

void request_unlimited(kiln_req *req)
{
    conn *c = req->priv->c;
    loop_timer_cancel(c->w->loop, &c->duration_timer);
}

void request_hand_over(kiln_req *req)
{
    conn *c = req->priv->c;
    log_request(c, rq(c)->res.status, (double)(now_ns() - req->priv->start_ns) / 1e6);
}

/* Route, check limits, and either start reading the body or run. */
void dispatch_request(conn *c)
{
    struct kiln_req_private *p = c->app ? &rq(c)->priv : NULL;
    http_request *h = &c->http;

    if (c->state == CS_BODY) {
        /* Second call: the whole body is in c->body. */
        buf_putc(&c->body, '\0');
        c->body.len--;
        rq(c)->req.body.ptr = c->body.data;
        rq(c)->req.body.len = c->body.len;
        goto body_ready;
    }

    /* ---- first call: a new head ---- */
    request *r0 = arena_calloc(&c->arena, sizeof *r0);
    c->app = r0;
    p = &r0->priv;
    p->start_ns = now_ns();
    p->start_ms = loop_now_ms(c->w->loop);
    terminate_slices(h);
    char *rid = arena_alloc(&c->arena, 17);
    next_request_id(c->w, rid);
    c->req_id = rid;
    rq(c)->req = (kiln_req){
        .method = h->method, .path = h->path, .query_string = h->query_len ? h->query : "",
        .body = { "", 0 }, .remote_addr = c->remote, .id = rid, .route = "", .priv = p,
    };
    p->c = c;
    p->res = &rq(c)->res;
    rq(c)->req.remote_addr = client_address(c);
    p->method = method_of(h->method, h->method_len);
    c->body_chunked = h->chunked;
    c->body_left = h->content_length > 0 ? h->content_length : 0;
    if (c->body_chunked) http_chunked_init(&c->chunked);
    if (!c->res_body.data) buf_init(&c->res_body, 1024);
    c->res_body.len = 0;
    res_init(&rq(c)->res, &rq(c)->req, &c->res_body);
    if (!h->keep_alive) c->close_after = true;
    bool has_body = c->body_chunked || c->body_left > 0;
    if (api_observe.begin) api_observe.begin(c);

    /* kiln dev with a broken build: every request gets the diagnostics. */
    if (UNLIKELY(api.dev_error != NULL)) {
        if (has_body) c->close_after = true;
        kiln_json(&rq(c)->res, 500, "{error: %s, diagnostics: %r}", "Build failed", api.dev_error);
        goto respond_now;
    }

    /* The framework's own endpoints (/_kiln/health ...): no body, no
     * middleware, run on a coroutine (a readiness check may query). */
    kiln_handler builtin = api_observe.builtin ? api_observe.builtin(c) : NULL;
    if (builtin) {
        if (has_body) c->close_after = true;
        rq(c)->req.route = c->route = "/_kiln";
        p->fn = builtin;
        run_handler(c);
        return;
    }

    /* Next.js redirects "/api/hello/" to "/api/hello" with 308. */
    if (h->path_len > 1 && h->path[h->path_len - 1] == '/') {
        size_t n = h->path_len;
        while (n > 1 && h->path[n - 1] == '/') n--;
        /* (The query was NUL-terminated in place by terminate_slices.) */
        const char *loc = h->query_len
            ? kiln_sprintf(&rq(c)->req, "%.*s?%s", (int)n, h->path, h->query)
            : arena_strndup(&c->arena, h->path, n);
        if (has_body) c->close_after = true;
        kiln_redirect(&rq(c)->res, 308, loc);
        goto respond_now;
    }

    /* The API description (src/openapi): kiln dev, or KILN_OPENAPI=1. */
    if (UNLIKELY(h->path_len == 19 && !memcmp(h->path, "/_kiln/openapi.json", 19))
        && (api.dev || openapi_serving())) {
        if (has_body) c->close_after = true;
        rq(c)->req.route = c->route = "/_kiln";
        openapi_answer(&rq(c)->req, &rq(c)->res);
        goto respond_now;
    }

    int mr = h->path[0] == '/' ? router_match(api.router, h->path, h->path_len, &c->arena, &p->match)
                               : ROUTE_NOT_FOUND;
    if (mr != ROUTE_FOUND) {
        if (has_body) c->close_after = true;
        kiln_error(&rq(c)->res, mr == ROUTE_BAD_PATH ? 400 : 404, mr == ROUTE_BAD_PATH ? "Bad Request" : "Not Found");
        goto respond_now;
    }
    const kiln_route_def *r = p->match.route;
    rq(c)->req.route = r->pattern;
    c->route = r->pattern;
    p->config = r->config;

    /* Without middleware the method is resolved now (a 405 needs no
     * coroutine); with it, after the chain ran (CORS must see preflights). */
    p->run_middleware = middleware_applies(api.app, r, h->path);
    if (!p->run_middleware && !(p->fn = resolve_method(c, r))) {
        if (has_body) c->close_after = true;
        goto respond_now;
    }

    c->body_limit = p->config && p->config->body_limit ? p->config->body_limit : KILN_DEFAULT_BODY_LIMIT;
    if (has_body && p->config && p->config->raw_body) {
        /* A declared length over the limit is refused before the handler
         * runs (a chunked raw body is counted in kiln_body_read). */
        if (!c->body_chunked && (uint64_t)c->body_left > c->body_limit) {
            conn_error(c, 413, "Payload Too Large");
            return;
        }
        p->body_streaming = true;
        p->body_chunked = c->body_chunked;
        /* Content-Length: what is still to come; chunked: what the limit
         * still allows (kiln_body_read counts it down). */
        p->body_left = c->body_chunked ? (int64_t)(c->body_limit > INT64_MAX ? INT64_MAX : c->body_limit)
                                       : c->body_left;
        if (c->body_chunked) http_chunked_init(&p->chunked);
        if (h->expect_continue && h->minor_version == 1)
            buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        run_handler(c);
        return;
    }
    if (has_body) {
        if (!c->body_chunked && (uint64_t)c->body_left > c->body_limit) {
            conn_error(c, 413, "Payload Too Large");
            return;
        }
        c->body.len = 0;
        if (h->expect_continue && h->minor_version == 1 && c->in.len == c->head_len)
            buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        c->state = CS_BODY;
        loop_timer_set(c->w->loop, &c->timer, loop_now_ms(c->w->loop) + c->w->opts->body_timeout_ms);
        return;
    }

body_ready:
    if (rq(c)->req.body.len > 0 && !p->body_streaming) {
        const char *ct = kiln_header(&rq(c)->req, "content-type");
        size_t ctl = ct ? strcspn(ct, "; \t") : 0;
        bool is_json = ct && ((ctl == 16 && strncasecmp(ct, "application/json", 16) == 0)
                              || (ctl > 5 && strncasecmp(ct + ctl - 5, "+json", 5) == 0));
        if (is_json) {
            const char *err = NULL;
            rq(c)->req.json = json_parse(&c->arena, rq(c)->req.body.ptr, rq(c)->req.body.len, &err);
            if (!rq(c)->req.json && !(p->config && p->config->allow_invalid_json)) {
                kiln_json(&rq(c)->res, 400, "{error: %s, detail: %s}", "Invalid JSON", err);
                goto respond_now;
            }
        } else if (ct && ctl == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
            /* Like Next.js req.body: a form is an object of strings. */
            rq(c)->req.json = form_as_value(&rq(c)->req);
        }
    }
    loop_timer_cancel(c->w->loop, &c->timer);
    run_handler(c);
    return;

respond_now:
    c->state = CS_HANDLER;
    dispatch_finish(c);
}
