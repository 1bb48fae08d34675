/*
 * middleware.c -- running middleware, and the built-in ones: CORS, security
 * headers, request logging. (Rate limiting lives in ratelimit.c.)
 *
 * The chain for a request: the app-wide middleware (APP/middleware.c) when
 * its matcher matches the path, then the route's own list. It runs on the
 * request's coroutine, before method dispatch and before the handler.
 *
 * Owns: the matcher (Next.js syntax: "/api/:path*"). Must never: run a
 * middleware after the response has started, or let CORS answer with
 * credentials for any origin ("*").
 */
#include "api/api.h"

#include <stdio.h>
#include <strings.h>

/* ---- the Next.js matcher ------------------------------------------- */

/* Next segment of s (after leading '/'), as [*seg, *seg+*n). */
static bool next_seg(const char **s, const char **seg, size_t *n)
{
    while (**s == '/') (*s)++;
    if (!**s) return false;
    *seg = *s;
    while (**s && **s != '/') (*s)++;
    *n = (size_t)(*s - *seg);
    return true;
}

bool middleware_matcher_match(const char *pattern, const char *path)
{
    const char *p = pattern, *q = path, *ps, *qs;
    size_t pn, qn;
    for (;;) {
        bool hp = next_seg(&p, &ps, &pn);
        if (!hp) return !next_seg(&q, &qs, &qn);      /* both must end together */
        if (ps[0] == ':') {
            char last = ps[pn - 1];
            if (last == '*') return true;                  /* zero or more: the rest */
            if (last == '+') return next_seg(&q, &qs, &qn); /* one or more */
            if (last == '?') {                             /* optional one segment */
                const char *save = q;
                if (!next_seg(&q, &qs, &qn)) continue;
                (void)save;
                continue;
            }
            if (!next_seg(&q, &qs, &qn)) return false;     /* exactly one */
            continue;
        }
        if (!next_seg(&q, &qs, &qn) || pn != qn || memcmp(ps, qs, pn) != 0) return false;
    }
}

bool middleware_applies(const kiln_app_def *app, const kiln_route_def *r, const char *path)
{
    if (r->middleware && r->middleware[0]) return true;
    if (!app || !app->middleware) return false;
    if (!app->matcher) return true;
    for (const char *const *m = app->matcher; *m; m++)
        if (middleware_matcher_match(*m, path)) return true;
    return false;
}

/* Run the chain. True: go on to the handler. */
bool middleware_run(kiln_req *req, kiln_res *res, const kiln_app_def *app, const kiln_route_def *r)
{
    if (app && app->middleware) {
        bool applies = !app->matcher;
        for (const char *const *m = app->matcher; m && *m && !applies; m++)
            applies = middleware_matcher_match(*m, req->path);
        if (applies && (!app->middleware(req, res) || res->started)) return false;
    }
    for (const kiln_middleware *mw = r->middleware; mw && *mw; mw++)
        if (!(*mw)(req, res) || res->started) return false;
    return true;
}

/* ---- CORS ----------------------------------------------------------- */

static bool origin_allowed(const kiln_cors_opts *o, const char *origin, bool *any)
{
    *any = false;
    for (const char *const *p = o->origins; p && *p; p++) {
        if (!strcmp(*p, "*")) { *any = true; return true; }
        if (!strcmp(*p, origin)) return true;
    }
    return false;
}

bool kiln_cors(kiln_req *req, kiln_res *res, const kiln_cors_opts *o)
{
    const char *origin = kiln_header(req, "origin");
    bool preflight = !strcmp(req->method, "OPTIONS") && kiln_header(req, "access-control-request-method");
    kiln_append_header(res, "Vary", "Origin");
    if (!origin) return true;                       /* not a CORS request */
    bool any;
    bool ok = origin_allowed(o, origin, &any);
    if (any && o->credentials) {
        kiln_log(req, "error", "CORS: credentials together with origin \"*\" is refused (it would let any site act as the user)");
        kiln_error(res, 500, "Internal Server Error");
        return false;
    }
    if (ok) {
        kiln_set_header(res, "Access-Control-Allow-Origin", any ? "*" : origin);
        if (o->credentials) kiln_set_header(res, "Access-Control-Allow-Credentials", "true");
        if (o->expose && !preflight) kiln_set_header(res, "Access-Control-Expose-Headers", o->expose);
    }
    if (!preflight) return true;
    if (ok) {
        kiln_set_header(res, "Access-Control-Allow-Methods",
                        o->methods ? o->methods : "GET, HEAD, POST, PUT, PATCH, DELETE");
        const char *asked = kiln_header(req, "access-control-request-headers");
        const char *allow = o->headers ? o->headers : asked;
        if (allow && *allow) kiln_set_header(res, "Access-Control-Allow-Headers", allow);
        if (!o->headers) kiln_append_header(res, "Vary", "Access-Control-Request-Headers");
        char age[16];
        snprintf(age, sizeof age, "%u", o->max_age ? o->max_age : 600);
        kiln_set_header(res, "Access-Control-Max-Age", age);
    }
    kiln_end(res, 204);                              /* preflight answered */
    return false;
}

/* ---- security headers, request log ---------------------------------- */

/* Set name to the option when given ("" drops it), else to the default. */
static void header_or_default(kiln_res *res, const char *name, const char *opt, const char *dflt)
{
    const char *v = opt ? opt : dflt;
    if (*v) kiln_set_header(res, name, v);
}

bool kiln_security_headers_with(kiln_req *req, kiln_res *res, const kiln_security_opts *o)
{
    static const kiln_security_opts none = { 0 };
    if (!o) o = &none;
    kiln_set_header(res, "X-Content-Type-Options", "nosniff");
    header_or_default(res, "X-Frame-Options", o->frame_options, "DENY");
    header_or_default(res, "Referrer-Policy", o->referrer_policy, "no-referrer");
    header_or_default(res, "Content-Security-Policy", o->csp, "default-src 'none'; frame-ancestors 'none'");
    header_or_default(res, "Cross-Origin-Resource-Policy", o->resource_policy, "same-origin");
    if (o->hsts_max_age > 0)
        kiln_set_header(res, "Strict-Transport-Security",
                        kiln_sprintf(req, "max-age=%ld%s", o->hsts_max_age, o->hsts_subdomains ? "; includeSubDomains" : ""));
    return true;
}

bool kiln_security_headers(kiln_req *req, kiln_res *res) { return kiln_security_headers_with(req, res, NULL); }

bool kiln_request_log_with(kiln_req *req, kiln_res *res, const kiln_request_log_opts *o)
{
    (void)res;
    const char *lv = o && o->level ? o->level : "info";
    int level = !strcmp(lv, "debug") ? LOG_DEBUG : !strcmp(lv, "warn") ? LOG_WARN : !strcmp(lv, "error") ? LOG_ERROR : LOG_INFO;
    if (!log_enabled(level)) return true;
    const char *ua = kiln_header(req, "user-agent");
    buf b;
    buf_init(&b, 256);
    buf_puts(&b, "\"method\":");
    json_escape(&b, req->method, strlen(req->method));
    buf_puts(&b, ",\"path\":");
    json_escape(&b, req->path, strlen(req->path));
    buf_puts(&b, ",\"remote\":");
    json_escape(&b, req->remote_addr, strlen(req->remote_addr));
    buf_puts(&b, ",\"userAgent\":");
    json_escape(&b, ua ? ua : "", ua ? strlen(ua) : 0);
    for (const char *const *h = o ? o->headers : NULL; h && *h; h++) {
        const char *v = kiln_header(req, *h);
        buf_putc(&b, ',');
        json_escape(&b, *h, strlen(*h));
        buf_putc(&b, ':');
        if (v) json_escape(&b, v, strlen(v));
        else buf_puts(&b, "null");
    }
    buf_putc(&b, '\0');
    log_event(level, req->id, "request started", "%s", b.data);
    buf_free(&b);
    return true;
}

bool kiln_request_log(kiln_req *req, kiln_res *res) { return kiln_request_log_with(req, res, NULL); }
