/*
 * res.c -- the response side of the handler API, and the response writer.
 *
 * A handler's body goes into the connection's response-body buffer (JSON is
 * written straight into it by the jw_* writer); when the handler returns,
 * res_write_head_and_body() puts the status line and headers, then the body,
 * into the connection's output buffer, which conn.c writes with one send().
 * Streaming responses (chunked) bypass that: every kiln_stream_write() goes
 * to the socket at once.
 *
 * Owns: header validation (no CR/LF/NUL can reach the wire), framing headers
 * (Content-Length / Transfer-Encoding / Connection / Date are always ours).
 * Must never: let a handler send twice, or emit a body for HEAD, 204 or 304.
 */
#include "api/api.h"
#include "api/request.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

#define STREAM_HIGH_WATER (256 * 1024)

static conn *conn_of(const kiln_res *res) { return res->req->priv->c; }

void res_init(kiln_res *res, kiln_req *req, buf *body)
{
    *res = (kiln_res){ .req = req, .status = 200, .body = body };
    res->headers_tail = &res->headers;
}

bool kiln_res_started(const kiln_res *res) { return res->started; }

/* May the handler still start a response? Logs misuse. */
static bool begin(kiln_res *res, int status)
{
    if (res->started) {
        if (!conn_of(res)->abandoned && !res->quiet)
            log_event(LOG_ERROR, res->req->id, "response already sent; second send ignored",
                      "\"route\":\"%s\"", res->req->route);
        return false;
    }
    if (status < 100 || status > 999) {
        log_event(LOG_ERROR, res->req->id, "invalid status code; answering 500", "\"status\":%d", status);
        status = 500;
    }
    res->started = true;
    res->status = status;
    return true;
}

static bool token_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s))) return false;
    return true;
}

static bool value_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
    }
    return true;
}

static bool framing_header(const char *name)
{
    return !strcasecmp(name, "content-length") || !strcasecmp(name, "transfer-encoding")
        || !strcasecmp(name, "connection") || !strcasecmp(name, "date");
}

static void add_header(kiln_res *res, const char *name, const char *value, bool replace)
{
    if (!name || !value || !token_ok(name) || !value_ok(value)) {
        log_event(LOG_ERROR, res->req->id, "invalid response header refused (bad name, or CR/LF/NUL in value)",
                  "\"header\":\"%s\"", name && token_ok(name) ? name : "?");
        return;
    }
    if (res->started && !res->json_open) {
        log_event(LOG_ERROR, res->req->id, "header set after the response was sent", "\"header\":\"%s\"", name);
        return;
    }
    if (framing_header(name)) return;   /* framing is Kiln's job */
    arena *a = &conn_of(res)->arena;
    if (!strcasecmp(name, "content-type")) {
        res->content_type = arena_strdup(a, value);
        return;
    }
    if (replace) {
        for (res_header **pp = &res->headers; *pp;) {
            if (!strcasecmp((*pp)->name, name)) {
                *pp = (*pp)->next;
                continue;
            }
            pp = &(*pp)->next;
        }
        res->headers_tail = &res->headers;
        while (*res->headers_tail) res->headers_tail = &(*res->headers_tail)->next;
    }
    res_header *h = arena_alloc(a, sizeof *h);
    h->name = arena_strdup(a, name);
    h->value = arena_strdup(a, value);
    h->next = NULL;
    *res->headers_tail = h;
    res->headers_tail = &h->next;
}

void kiln_set_header(kiln_res *res, const char *name, const char *value) { add_header(res, name, value, true); }
void kiln_append_header(kiln_res *res, const char *name, const char *value) { add_header(res, name, value, false); }

/* ---- writing the head ------------------------------------------------ */

static bool body_forbidden(int status) { return status < 200 || status == 204 || status == 304; }

static void put_head(conn *c, kiln_res *res, int status, const char *ctype, long long content_length, bool chunked)
{
    buf *o = &c->out;
    int minor = c->http.minor_version;
    buf_reserve(o, 256);
    buf_puts(o, minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
    buf_put_u64(o, (unsigned)status);
    buf_putc(o, ' ');
    buf_puts(o, http_reason(status));
    buf_puts(o, "\r\nDate: ");
    buf_puts(o, http_date_now());
    if (ctype) { buf_puts(o, "\r\nContent-Type: "); buf_puts(o, ctype); }
    if (content_length >= 0 && !body_forbidden(status)) {
        buf_puts(o, "\r\nContent-Length: ");
        buf_put_u64(o, (unsigned long long)content_length);
    }
    if (chunked) buf_puts(o, "\r\nTransfer-Encoding: chunked");
    if (rq(c)->req.id) { buf_puts(o, "\r\nX-Request-Id: "); buf_puts(o, rq(c)->req.id); }
    const struct kiln_req_private *p = &rq(c)->priv;
    if (p->trace_id[0]) {
        /* The trace this request belongs to, with our span as the parent of
         * whatever the caller does next. */
        buf_puts(o, "\r\ntraceparent: 00-");
        buf_puts(o, p->trace_id);
        buf_putc(o, '-');
        buf_puts(o, p->span_id);
        buf_putc(o, '-');
        buf_puts(o, p->trace_flags);
    }
    if (p->event_id[0]) { buf_puts(o, "\r\nX-Sentry-Event-Id: "); buf_puts(o, p->event_id); }
    if (res)
        for (res_header *h = res->headers; h; h = h->next) {
            buf_puts(o, "\r\n"); buf_puts(o, h->name); buf_puts(o, ": "); buf_puts(o, h->value);
        }
    if (status == 101) {
        buf_puts(o, "\r\nConnection: Upgrade");
    } else if (c->close_after || c->w->draining) {
        c->close_after = true;
        if (minor == 1) buf_puts(o, "\r\nConnection: close");
    } else if (minor == 0) {
        buf_puts(o, "\r\nConnection: keep-alive");
    }
    buf_puts(o, "\r\n\r\n");
}

static bool is_head(conn *c) { return rq(c)->priv.method == KILN_HEAD; }

/* The 101 of a protocol switch (WebSocket): the handler's headers (the
 * protocol's own among them) and Connection: Upgrade. False if a response
 * was already started. */
bool res_switch_protocols(conn *c)
{
    if (!begin(&rq(c)->res, 101)) return false;
    put_head(c, &rq(c)->res, 101, NULL, -1, false);
    return true;
}

void res_write_head_and_body(conn *c)
{
    kiln_res *res = &rq(c)->res;
    put_head(c, res, res->status, res->content_type, (long long)res->body->len, false);
    if (!is_head(c) && !body_forbidden(res->status)) buf_append(&c->out, res->body->data, res->body->len);
}

void res_simple(conn *c, int status, const char *content_type, const char *body, size_t len,
                const char *extra_headers)
{
    (void)extra_headers;
    put_head(c, NULL, status, content_type, (long long)len, false);
    if (!is_head(c)) buf_append(&c->out, body, len);
}

/* ---- sending from handlers ------------------------------------------- */

#define JSON_CT "application/json; charset=utf-8"

void kiln_json_v(kiln_res *res, int status, const char *tmpl, va_list ap)
{
    if (!begin(res, status)) return;
    if (!res->content_type) res->content_type = JSON_CT;
    jw_init(&res->jw, res->body);
    va_list cp;
    va_copy(cp, ap);
    jw_fmt(&res->jw, tmpl, &cp);
    va_end(cp);
}

void kiln_json(kiln_res *res, int status, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    kiln_json_v(res, status, tmpl, ap);
    va_end(ap);
}

void kiln_send_json(kiln_res *res, int status, const kiln_value *value)
{
    if (!begin(res, status)) return;
    if (!res->content_type) res->content_type = JSON_CT;
    jw_init(&res->jw, res->body);
    jw_value(&res->jw, value);
}

void kiln_error(kiln_res *res, int status, const char *message)
{
    kiln_json(res, status, "{error: %s}", message);
}

void kiln_text(kiln_res *res, int status, const char *fmt, ...)
{
    if (!begin(res, status)) return;
    if (!res->content_type) res->content_type = "text/plain; charset=utf-8";
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(res->body, fmt, ap);
    va_end(ap);
}

void kiln_send(kiln_res *res, int status, const char *content_type, const void *data, size_t len)
{
    if (!begin(res, status)) return;
    if (!res->content_type) res->content_type = content_type ? content_type : "application/octet-stream";
    buf_append(res->body, data, len);
}

void kiln_end(kiln_res *res, int status) { begin(res, status); }

void kiln_redirect(kiln_res *res, int status, const char *location)
{
    if (!status) status = 307;
    if (!location || !value_ok(location)) {
        log_event(LOG_ERROR, res->req->id, "redirect to an invalid location refused", NULL);
        kiln_error(res, 500, "Internal Server Error");
        return;
    }
    kiln_set_header(res, "Location", location);
    kiln_end(res, status);
}

void kiln_set_cookie(kiln_res *res, const char *name, const char *value, const kiln_cookie_opts *o)
{
    arena *a = &conn_of(res)->arena;
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "%s=%s", name, value ? value : "");
    if (o) {
        if (o->max_age) buf_printf(&b, "; Max-Age=%ld", o->max_age < 0 ? 0L : o->max_age);
        if (o->domain) buf_printf(&b, "; Domain=%s", o->domain);
        if (o->path) buf_printf(&b, "; Path=%s", o->path);
        if (o->secure) buf_puts(&b, "; Secure");
        if (o->http_only) buf_puts(&b, "; HttpOnly");
        if (o->same_site) buf_printf(&b, "; SameSite=%s", o->same_site);
    }
    buf_putc(&b, '\0');
    /* Cookie names are tokens; values may not hold ; , space or quotes. */
    bool ok = token_ok(name) && !strpbrk(value ? value : "", ";, \"\\");
    if (ok) kiln_append_header(res, "Set-Cookie", arena_strdup(a, b.data));
    else log_event(LOG_ERROR, res->req->id, "invalid cookie refused", "\"cookie\":\"%s\"", token_ok(name) ? name : "?");
    buf_free(&b);
}

/* ---- JSON built piece by piece -------------------------------------- */
#define JW(w) ((jw_state *)(void *)(w))

kiln_jw *kiln_json_begin(kiln_res *res, int status)
{
    if (!begin(res, status)) {
        /* Still hand back a writer, into a scratch buffer nobody sends. */
        static __thread buf scratch;
        scratch.len = 0;
        jw_init(&res->jw, &scratch);
        return (kiln_jw *)(void *)&res->jw;
    }
    if (!res->content_type) res->content_type = JSON_CT;
    res->json_open = true;
    jw_init(&res->jw, res->body);
    return (kiln_jw *)(void *)&res->jw;
}

void kiln_jw_object(kiln_jw *w) { jw_begin_object(JW(w)); }
void kiln_jw_array(kiln_jw *w) { jw_begin_array(JW(w)); }
void kiln_jw_end(kiln_jw *w) { jw_end(JW(w)); }
void kiln_jw_key(kiln_jw *w, const char *key) { jw_key(JW(w), key, strlen(key)); }
void kiln_jw_string(kiln_jw *w, const char *s) { jw_string(JW(w), s, s ? strlen(s) : 0); }
void kiln_jw_stringn(kiln_jw *w, const char *s, size_t n) { jw_string(JW(w), s, n); }
void kiln_jw_int(kiln_jw *w, long long v) { jw_int(JW(w), v); }
void kiln_jw_double(kiln_jw *w, double v) { jw_double(JW(w), v); }
void kiln_jw_bool(kiln_jw *w, bool v) { jw_bool(JW(w), v); }
void kiln_jw_null(kiln_jw *w) { jw_null(JW(w)); }
void kiln_jw_value(kiln_jw *w, const kiln_value *v) { jw_value(JW(w), v); }
void kiln_jw_fmt(kiln_jw *w, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    jw_fmt(JW(w), tmpl, &ap);
    va_end(ap);
}

/* ---- streaming ------------------------------------------------------- */

void kiln_stream_begin(kiln_res *res, int status, const char *content_type)
{
    if (!begin(res, status)) return;
    conn *c = conn_of(res);
    if (content_type) res->content_type = content_type;
    res->streaming = true;
    c->head_sent = true;          /* a crash can no longer answer it */
    /* HEAD gets the head GET would get (Transfer-Encoding: chunked, no
     * Content-Length), and no body: the writes below skip it. */
    bool chunked = c->http.minor_version == 1 && !body_forbidden(status);
    if (!chunked && !is_head(c)) c->close_after = true;   /* HTTP/1.0: the body ends at close */
    put_head(c, res, status, res->content_type, -1, chunked);
    conn_flush(c);
}

bool kiln_stream_write(kiln_res *res, const void *data, size_t len)
{
    conn *c = conn_of(res);
    if (!res->streaming || res->stream_ended || c->abandoned || c->dead) return false;
    if (len == 0 || is_head(c) || body_forbidden(res->status)) return true;
    if (c->http.minor_version == 1) {
        char hex[24];
        int n = snprintf(hex, sizeof hex, "%zx\r\n", len);
        buf_append(&c->out, hex, (size_t)n);
        buf_append(&c->out, data, len);
        buf_append(&c->out, "\r\n", 2);
    } else {
        buf_append(&c->out, data, len);
    }
    conn_flush(c);
    /* Backpressure: wait for the client to read before queueing more. */
    while (!c->dead && !c->abandoned && c->write_blocked && c->out.len > STREAM_HIGH_WATER) {
        c->wait = WAIT_WRITE;
        coro_yield(c->co);
    }
    return !c->dead && !c->abandoned;
}

bool kiln_stream_printf(kiln_res *res, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    if ((size_t)n < sizeof small) return kiln_stream_write(res, small, (size_t)n);
    char *big = arena_alloc(&conn_of(res)->arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return kiln_stream_write(res, big, (size_t)n);
}

void kiln_stream_end(kiln_res *res)
{
    conn *c = conn_of(res);
    if (!res->streaming || res->stream_ended) return;
    res->stream_ended = true;
    if (c->dead || c->abandoned) return;
    if (c->http.minor_version == 1 && !is_head(c) && !body_forbidden(res->status))
        buf_append(&c->out, "0\r\n\r\n", 5);
    conn_flush(c);
}

void res_stream_finish(conn *c) { kiln_stream_end(&rq(c)->res); }

/* request.h: an automatic answer went out (the database layer's 503, say):
 * the handler's own sends are now quietly ignored. */
void request_mute_response(kiln_req *req)
{
    req->priv->res->started = true;
    req->priv->res->quiet = true;
}
