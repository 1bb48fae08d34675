/*
 * req.c -- the request side of the handler API: query and route params,
 * headers, cookies, form fields, the arena allocators, waiting (offload,
 * sleep, raw body reads) and logging.
 *
 * Owns: the lazily built query and form tables (in the request arena).
 * Must never: copy what a lookup does not return (headers are terminated in
 * place by dispatch.c), or block the worker (waits suspend the coroutine).
 */
#include "api/api.h"
#include "api/request.h"
#include "api/graphql.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

static conn *conn_of(kiln_req *req) { return req->priv->c; }

/* The request whose allocations go to an event's arena, and that arena
 * (request_event_begin): this thread's, compared by address only, so the
 * check never reads a parked request. */
static __thread request_scope event_scope;

static arena *arena_of(kiln_req *req)
{
    if (UNLIKELY(event_scope.req == req)) return event_scope.a;
    return &req->priv->c->arena;
}

/* ---- memory ---------------------------------------------------------- */
void *kiln_alloc(kiln_req *req, size_t size) { return arena_calloc(arena_of(req), size); }
char *kiln_strdup(kiln_req *req, const char *s) { return arena_strdup(arena_of(req), s); }
char *kiln_strndup(kiln_req *req, const char *s, size_t n) { return arena_strndup(arena_of(req), s, n); }
void kiln_defer(kiln_req *req, void (*fn)(void *), void *arg) { arena_defer_fn(arena_of(req), fn, arg); }

char *kiln_sprintf(kiln_req *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(arena_of(req), fmt, ap);
    va_end(ap);
    return p;
}

/* ---- urlencoded key=value lists (query strings, form bodies) -------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decode application/x-www-form-urlencoded text: '+' is a space, %XX a byte;
 * a malformed escape is kept literally (as browsers and Node do). */
static char *url_decode(arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') { *o++ = ' '; continue; }
        if (s[i] == '%' && i + 2 < n) {
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h >= 0 && l >= 0) { *o++ = (char)(h * 16 + l); i += 2; continue; }
        }
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static kv *parse_urlencoded(arena *a, const char *s, size_t n, size_t *count)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) if (s[i] == '&') cap++;
    kv *list = arena_alloc(a, cap * sizeof *list);
    size_t k = 0;
    const char *end = s + n;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        if (!amp) amp = end;
        if (amp > s) {
            const char *eq = memchr(s, '=', (size_t)(amp - s));
            const char *kend = eq ? eq : amp;
            list[k].key = url_decode(a, s, (size_t)(kend - s));
            list[k].value = eq ? url_decode(a, eq + 1, (size_t)(amp - eq - 1)) : "";
            k++;
        }
        s = amp + 1;
    }
    *count = k;
    return list;
}

static void ensure_query(kiln_req *req)
{
    struct kiln_req_private *p = req->priv;
    if (p->query_done) return;
    p->query_done = true;
    p->query = parse_urlencoded(arena_of(req), req->query_string, strlen(req->query_string), &p->nquery);
}

static const route_param *param_of(kiln_req *req, const char *name)
{
    route_match *m = &req->priv->match;
    for (size_t i = 0; i < m->nparams; i++)
        if (!strcmp(m->params[i].name, name)) return &m->params[i];
    return NULL;
}

size_t kiln_query_all(kiln_req *req, const char *name, const char *const **out)
{
    const route_param *rp = param_of(req, name);
    if (rp) {
        *out = rp->values;
        return rp->count;
    }
    ensure_query(req);
    struct kiln_req_private *p = req->priv;
    size_t n = 0;
    for (size_t i = 0; i < p->nquery; i++) if (!strcmp(p->query[i].key, name)) n++;
    const char **vals = arena_alloc(arena_of(req), (n ? n : 1) * sizeof *vals);
    size_t k = 0;
    for (size_t i = 0; i < p->nquery; i++) if (!strcmp(p->query[i].key, name)) vals[k++] = p->query[i].value;
    *out = vals;
    return n;
}

const char *kiln_query(kiln_req *req, const char *name)
{
    const route_param *rp = param_of(req, name);
    if (rp) {
        if (rp->count == 1) return rp->values[0];
        if (rp->count == 0) return NULL;
        size_t len = 0;
        for (size_t i = 0; i < rp->count; i++) len += strlen(rp->values[i]) + 1;
        char *s = arena_alloc(arena_of(req), len), *o = s;
        for (size_t i = 0; i < rp->count; i++) {
            size_t l = strlen(rp->values[i]);
            memcpy(o, rp->values[i], l);
            o += l;
            *o++ = '/';
        }
        o[-1] = '\0';
        return s;
    }
    ensure_query(req);
    struct kiln_req_private *p = req->priv;
    for (size_t i = 0; i < p->nquery; i++)
        if (!strcmp(p->query[i].key, name)) return p->query[i].value;
    return NULL;
}

bool kiln_query_i64(kiln_req *req, const char *name, int64_t *out)
{
    const char *s = kiln_query(req, name);
    if (!s || !*s) return false;
    bool neg = *s == '-';
    const char *d = s + neg;
    if (!*d) return false;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return false;
        unsigned digit = (unsigned)(*d - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    if (!neg && v > (uint64_t)INT64_MAX) return false;
    if (neg && v > (uint64_t)INT64_MAX + 1) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* ---- headers, cookies, form ----------------------------------------- */

const char *kiln_header(kiln_req *req, const char *name)
{
    const http_request *h = &req->priv->c->http;
    size_t n = strlen(name);
    for (size_t i = 0; i < h->num_headers; i++)
        if (h->headers[i].name_len == n && !strncasecmp(h->headers[i].name, name, n))
            return h->headers[i].value;
    return NULL;
}

const char *kiln_cookie(kiln_req *req, const char *name)
{
    const http_request *h = &req->priv->c->http;
    size_t n = strlen(name);
    for (size_t i = 0; i < h->num_headers; i++) {
        if (h->headers[i].name_len != 6 || strncasecmp(h->headers[i].name, "cookie", 6)) continue;
        const char *s = h->headers[i].value, *end = s + h->headers[i].value_len;
        while (s < end) {
            while (s < end && (*s == ' ' || *s == '\t' || *s == ';')) s++;
            const char *semi = memchr(s, ';', (size_t)(end - s));
            if (!semi) semi = end;
            const char *eq = memchr(s, '=', (size_t)(semi - s));
            if (eq && (size_t)(eq - s) == n && !memcmp(s, name, n)) {
                const char *v = eq + 1, *ve = semi;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
                if (ve - v >= 2 && *v == '"' && ve[-1] == '"') { v++; ve--; }
                return arena_strndup(arena_of(req), v, (size_t)(ve - v));
            }
            s = semi + 1;
        }
    }
    return NULL;
}

const char *kiln_form(kiln_req *req, const char *name)
{
    struct kiln_req_private *p = req->priv;
    if (!p->form_done) {
        p->form_done = true;
        const char *ct = kiln_header(req, "content-type");
        if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
            p->form = parse_urlencoded(arena_of(req), req->body.ptr, req->body.len, &p->nform);
    }
    for (size_t i = 0; i < p->nform; i++)
        if (!strcmp(p->form[i].key, name)) return p->form[i].value;
    return NULL;
}

static kiln_value *string_value(arena *a, const char *s)
{
    kiln_value *v = arena_calloc(a, sizeof *v);
    v->type = KILN_JSON_STRING;
    v->str = s;
    v->len = strlen(s);
    return v;
}

const kiln_value *form_as_value(kiln_req *req)
{
    arena *a = arena_of(req);
    size_t n = 0;
    kv *f = parse_urlencoded(a, req->body.ptr, req->body.len, &n);
    kiln_value *obj = arena_calloc(a, sizeof *obj), **tail = &obj->child;
    obj->type = KILN_JSON_OBJECT;
    for (size_t i = 0; i < n; i++) {
        kiln_value *prev = NULL;
        for (kiln_value *m = obj->child; m; m = m->next)
            if (!strcmp(m->key, f[i].key)) prev = m;
        if (prev) {
            /* A repeated key: turn the member into an array of its values. */
            if (prev->type == KILN_JSON_STRING) {
                kiln_value *first = string_value(a, prev->str);
                prev->type = KILN_JSON_ARRAY;
                prev->child = first;
                prev->len = 1;
                prev->str = NULL;
            }
            kiln_value *it = prev->child;
            while (it->next) it = it->next;
            it->next = string_value(a, f[i].value);
            prev->len++;
            continue;
        }
        kiln_value *m = string_value(a, f[i].value);
        m->key = f[i].key;
        m->key_len = strlen(f[i].key);
        *tail = m;
        tail = &m->next;
        obj->len++;
    }
    return obj;
}

const kiln_value *kiln_json_parse(kiln_req *req, const char *text, size_t len, const char **err)
{
    return json_parse(arena_of(req), text, len, err);
}

/* ---- waiting --------------------------------------------------------- */

void *kiln_offload(kiln_req *req, void *(*fn)(void *), void *arg)
{
    conn *c = conn_of(req);
    offload_submit(c->w->pool, fn, arg, c);
    wait_suspend(WAIT_OFFLOAD);
    return req->priv->c->offload_result;
}

void kiln_sleep(kiln_req *req, unsigned ms)
{
    conn *c = conn_of(req);
    if (c->abandoned) return;
    wait_wake_at(c, loop_now_ms(c->w->loop) + ms);
    wait_suspend(WAIT_SLEEP);
    loop_timer_cancel(c->w->loop, &req->priv->c->wake_timer);
}

long kiln_body_read(kiln_req *req, void *dst, size_t cap)
{
    struct kiln_req_private *p = req->priv;
    conn *c = p->c;
    if (!p->body_streaming) {
        /* Buffered route: hand out the buffered body once. */
        if (p->body_done) return 0;
        size_t n = req->body.len < cap ? req->body.len : cap;
        memcpy(dst, req->body.ptr, n);
        req->body.ptr += n;
        req->body.len -= n;
        if (req->body.len == 0) p->body_done = true;
        return (long)n;
    }
    for (;;) {
        if (p->body_done) return 0;
        if (c->abandoned || c->dead) return -1;
        char *region = c->in.data ? c->in.data + c->head_len : NULL;
        size_t avail = c->in.data ? c->in.len - c->head_len : 0;
        if (avail > 0) {
            if (!p->body_chunked) {
                size_t n = avail < (uint64_t)p->body_left ? avail : (size_t)p->body_left;
                if (n > cap) n = cap;
                memcpy(dst, region, n);
                memmove(region, region + n, avail - n);
                c->in.len -= n;
                p->body_left -= (int64_t)n;
                if (p->body_left == 0) p->body_done = true;
                return (long)n;
            }
            /* Decode what is there in place, then hand out up to cap. */
            size_t take = avail < cap ? avail : cap;
            size_t len = take;
            ssize_t rc = http_chunked_decode(&p->chunked, region, &len);
            if (rc == HTTP_ERR_BAD) { c->close_after = true; return -1; }
            if ((uint64_t)len > (uint64_t)p->body_left) {
                /* Over config.body_limit (body_left counts down from it). */
                log_event(LOG_WARN, req->id, "chunked raw body over the body limit", NULL);
                c->close_after = true;
                return -1;
            }
            p->body_left -= (int64_t)len;
            memcpy(dst, region, len);
            size_t used = rc == HTTP_INCOMPLETE ? take : take - (size_t)rc;
            memmove(region, region + used, avail - used);
            c->in.len -= used;
            if (rc >= 0) p->body_done = true;
            if (len > 0 || p->body_done) return (long)len;
            continue;
        }
        /* `in` was full when last read: more may be in the kernel already,
         * and edge-triggered epoll will not announce it again. */
        if (c->need_read) {
            if (!conn_read_more(c)) return -1;
            if (c->in.len > c->head_len) continue;
        }
        if (c->read_closed) return -1;
        wait_suspend(WAIT_BODY);
    }
}

/* ---- logging --------------------------------------------------------- */

void kiln_log(kiln_req *req, const char *level, const char *fmt, ...)
{
    int lv = !strcmp(level, "debug") ? LOG_DEBUG : !strcmp(level, "warn") ? LOG_WARN
           : !strcmp(level, "error") ? LOG_ERROR : LOG_INFO;
    if (!log_enabled(lv)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_event(lv, req ? req->id : NULL, msg, req ? "\"route\":\"%s\"" : NULL, req ? req->route : "");
}

/* ---- request.h: events on a long-lived request --------------------------- */

request_scope request_event_begin(kiln_req *req, arena *a)
{
    request_scope outer = event_scope;
    event_scope = (request_scope){ req, a };
    return outer;
}

/* What the event may have left in the request's private state points into
 * its arena: forget it, as a request's end would. (Not the database slot:
 * db.c's own clean-ups in that arena forget it when they run.) */
void request_event_end(kiln_req *req, arena *a, bool touched, request_scope outer)
{
    if (touched) {
        struct kiln_req_private *p = req->priv;
        if (p->query && arena_owns(a, p->query)) { p->query = NULL; p->nquery = 0; p->query_done = false; }
        if (p->form && arena_owns(a, p->form)) { p->form = NULL; p->nform = 0; p->form_done = false; }
        if (p->error_sql && arena_owns(a, p->error_sql)) p->error_sql = NULL;
        if (p->error_text && arena_owns(a, p->error_text)) p->error_text = NULL;
        if (p->db_caught_msg && arena_owns(a, p->db_caught_msg)) { p->db_caught_msg = NULL; p->db_caught = KILN_DB_OK; }
        if (p->gql_path && arena_owns(a, p->gql_path)) p->gql_path = NULL;
        if (p->gql_operation && arena_owns(a, p->gql_operation)) p->gql_operation = NULL;
    }
    event_scope = outer;
}

/* ---- request.h: for the database and auth layers ------------------------ */

arena *request_arena(kiln_req *req) { return arena_of(req); }
kiln_res *request_res(kiln_req *req) { return req->priv->res; }
struct db_req **request_db_slot(kiln_req *req) { return &req->priv->db; }

void request_note_db_error(kiln_req *req, const char *sql, const char *error)
{
    req->priv->error_sql = arena_strdup(arena_of(req), sql);
    req->priv->error_text = arena_strdup(arena_of(req), error ? error : "database error");
}

void request_catch_db_failures(kiln_req *req, bool on)
{
    req->priv->db_catch = on;
    req->priv->db_caught = KILN_DB_OK;
}

bool request_catch_db_failure(kiln_req *req, kiln_db_status st, const char *message)
{
    struct kiln_req_private *p = req->priv;
    if (!p->db_catch) return false;
    if (p->db_caught == KILN_DB_OK) {
        p->db_caught = st;
        p->db_caught_msg = arena_strdup(arena_of(req), message ? message : "Invalid data");
    }
    return true;
}

void request_answer_db_failure(kiln_req *req, kiln_db_status st, const char *message)
{
    kiln_res *res = req->priv->res;
    if (req->priv->graphql) { graphql_answer_db_failure(req, res, st, message); return; }
    switch (st) {
    case KILN_DB_OK:
    case KILN_DB_CONFLICT:
        return;
    case KILN_DB_INVALID:
        kiln_json(res, 400, "{error: %s}", message ? message : "Invalid data");
        return;
    case KILN_DB_UNAVAILABLE:
        kiln_json(res, 503, "{error: %s, requestId: %s}", "Service Unavailable", req->id);
        return;
    case KILN_DB_ERROR:
        kiln_json(res, 500, "{error: %s, requestId: %s}", "Internal Server Error", req->id);
        return;
    }
}

kiln_db_status request_take_db_failure(kiln_req *req, const char **message)
{
    struct kiln_req_private *p = req->priv;
    kiln_db_status st = p->db_caught;
    *message = st == KILN_DB_OK ? NULL : p->db_caught_msg;
    p->db_caught = KILN_DB_OK;
    return st;
}

void request_set_session_user(kiln_req *req, int64_t user_id) { req->priv->session_user = user_id; }
void request_set_session_token(kiln_req *req, const char *token) { req->priv->session_token = kiln_strdup(req, token); }
const char *request_session_token(kiln_req *req) { return req->priv->session_token; }
