/*
 * validate.c -- the handler side of validation: kiln_validate and friends,
 * the schemas attached to a route's config (run before the handler), and
 * typed access to the body's fields.
 *
 * The body a schema sees is the lesson's `req.body ?? {}` as Next.js builds
 * it: JSON or an urlencoded form is an object; JSON null or no body at all
 * (with a JSON or form type) is {}; any other body reaches the schema as a
 * string ("value" must be of type object).
 *
 * Owns: the list of schemas already checked (schema_check runs once per
 * schema). Must never: let a broken schema reach a request silently (it is
 * checked at start for config schemas, at first use otherwise, and a broken
 * one is a loud programming error).
 */
#include "api/api.h"
#include "validate/schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- schema checking, once per schema -------------------------------- */

#define CHECKED_MAX 256
static const kiln_rule *checked[CHECKED_MAX];
static size_t nchecked;

/* NULL when sound, else a malloc'd message naming the field. */
char *validate_check_schema(const kiln_rule *schema)
{
    for (size_t i = 0; i < nchecked; i++) if (checked[i] == schema) return NULL;
    arena a;
    arena_init(&a, 1024);
    const char *err = schema_check(&a, schema);
    char *out = err ? kiln_xstrdup(err) : NULL;
    arena_destroy(&a);
    if (!out && nchecked < CHECKED_MAX) checked[nchecked++] = schema;
    return out;
}

static void check_or_panic(const kiln_rule *schema)
{
    char *err = validate_check_schema(schema);
    if (err) KILN_PANIC("broken schema: %s", err);
}

/* A declared response's shape (kiln_config.responses): its field list, or
 * its array's items rule checked as the one field of a list (not cached:
 * the list is on this stack). NULL when sound, else a malloc'd message. */
static char *check_response(const kiln_response *d)
{
    if (d->body) return validate_check_schema(d->body);
    if (!d->items) return NULL;
    const kiln_rule list[2] = { { .name = "items", .type = KILN_T_ARRAY, .items = d->items }, { 0 } };
    arena a;
    arena_init(&a, 1024);
    const char *err = schema_check(&a, list);
    char *out = err ? kiln_xstrdup(err) : NULL;
    arena_destroy(&a);
    return out;
}

/* Every schema of one route's config: NULL when all are sound, else a
 * malloc'd "FILE: broken schema: ..." (or "broken response schema (status
 * N)"). The server checks its table at start; kiln dev each reload. */
char *validate_check_route(const kiln_route_def *r)
{
    const kiln_config *c = r->config;
    for (int m = 0; c && m < KILN_METHOD_COUNT; m++) {
        int status = 0;
        char *err = NULL;
        for (const kiln_response *d = c->responses[m]; !err && d && d->status; d++)
            if ((err = check_response(d))) status = d->status;
        if (!err && c->body[m]) err = validate_check_schema(c->body[m]);
        if (!err && c->query[m]) err = validate_check_schema(c->query[m]);
        if (!err) continue;
        buf b;
        buf_init(&b, 256);
        if (status) buf_printf(&b, "%s: broken response schema (status %d): %s", r->file, status, err);
        else buf_printf(&b, "%s: broken schema: %s", r->file, err);
        buf_putc(&b, '\0');
        free(err);
        return b.data;
    }
    return NULL;
}

/* Every route's: at start, in the master. */
int validate_check_routes(const kiln_route_def *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *err = validate_check_route(&routes[i]);
        if (err) {
            fprintf(stderr, "kiln: %s\n", err);
            free(err);
            return -1;
        }
    }
    return 0;
}

/* ---- the body as Next.js hands it to Joi ----------------------------- */

static bool json_or_form(kiln_req *req)
{
    const char *ct = kiln_header(req, "content-type");
    if (!ct) return false;
    size_t n = strcspn(ct, "; \t");
    return (n == 16 && !strncasecmp(ct, "application/json", 16))
        || (n > 5 && !strncasecmp(ct + n - 5, "+json", 5))
        || (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33));
}

/* The value a body schema validates: the parsed body as it is (a JSON
 * `null` included: it is present and not an object, so Joi's answer is
 * "value" must be of type object); an empty object for an absent JSON or
 * form body; a string value for a body that is not JSON (Joi then says
 * "value" must be of type object too). */
static const kiln_value *body_value(kiln_req *req)
{
    static const kiln_value empty_object = { .type = KILN_JSON_OBJECT };
    const kiln_value *body = req->json;
    if (!body) {
        if (req->body.len > 0 || !json_or_form(req)) {
            kiln_value *s = kiln_alloc(req, sizeof *s);
            s->type = KILN_JSON_STRING;
            s->str = req->body.ptr ? req->body.ptr : "";
            s->len = req->body.len;
            return s;
        }
        return &empty_object;
    }
    return body;
}

static const char *query_get(void *ctx, const char *name) { return kiln_query(ctx, name); }

/* Answer 400 with the first message (and, when asked, every error). */
static void answer(kiln_res *res, const schema_error *errs, size_t n, bool details)
{
    if (!details) {
        kiln_error(res, 400, errs[0].message);
        return;
    }
    kiln_jw *w = kiln_json_begin(res, 400);
    kiln_jw_object(w);
    kiln_jw_key(w, "error");
    kiln_jw_string(w, errs[0].message);
    kiln_jw_key(w, "details");
    kiln_jw_array(w);
    for (size_t i = 0; i < n; i++) kiln_jw_fmt(w, "{path: %s, message: %s}", errs[i].path, errs[i].message);
    kiln_jw_end(w);
    kiln_jw_end(w);
}

static bool run_body(kiln_req *req, kiln_res *res, const kiln_rule *schema, bool all)
{
    check_or_panic(schema);
    schema_error *errs = NULL;
    size_t n = schema_validate(&req->priv->c->arena, schema, body_value(req), all, &errs);
    if (n) answer(res, errs, n, all);
    return n == 0;
}

static bool run_query(kiln_req *req, kiln_res *res, const kiln_rule *schema, bool all)
{
    check_or_panic(schema);
    schema_error *errs = NULL;
    size_t n = schema_validate_query(&req->priv->c->arena, schema, query_get, req, all, &errs);
    if (n) answer(res, errs, n, all);
    return n == 0;
}

/* kiln dev: a body validated in the handler must be the one its route
 * declares (config.body or config.validates), or the OpenAPI document would
 * describe another body than the one checked. Reported, never refused. */
static void check_declared_body(kiln_req *req, const kiln_rule *schema)
{
    const struct kiln_req_private *p = req->priv;
    if (!p->match.route || p->method < 0) return;
    const kiln_config *cf = p->config;
    int m = p->method == KILN_HEAD ? KILN_GET : p->method;
    if (cf && (cf->validates[m] == schema || cf->body[m] == schema)) return;
    const kiln_route_def *r = p->match.route;
    const char *why = cf && cf->validates[m]
                          ? "kiln_validate() checked the body with another schema than config.validates declares"
                          : "kiln_validate() checked the body, but config.validates declares no schema for this method";
    buf f;
    buf_init(&f, 256);
    buf_puts(&f, "\"file\":");
    json_escape(&f, r->file, strlen(r->file));
    buf_puts(&f, ",\"line\":1,\"route\":");
    json_escape(&f, r->pattern, strlen(r->pattern));
    buf_printf(&f, ",\"method\":\"%s\",\"problem\":\"%s\"", req->method, why);
    buf_putc(&f, '\0');
    log_event(LOG_WARN, req->id, "body check does not match its declaration", "%s", f.data);
    buf_free(&f);
}

bool kiln_validate(kiln_req *req, kiln_res *res, const kiln_rule *schema)
{
    if (UNLIKELY(api.dev)) check_declared_body(req, schema);
    return run_body(req, res, schema, false);
}

bool kiln_validate_query(kiln_req *req, kiln_res *res, const kiln_rule *schema)
{
    return run_query(req, res, schema, false);
}

size_t kiln_validate_all(kiln_req *req, const kiln_value *v, const kiln_rule *schema, const kiln_verror **errors)
{
    check_or_panic(schema);
    schema_error *errs = NULL;
    size_t n = schema_validate(&req->priv->c->arena, schema, v, true, &errs);
    if (errors) *errors = errs;
    return n;
}

/* The route's config schemas for this method; false after answering 400. */
bool validate_route(kiln_req *req, kiln_res *res, const kiln_config *config, int method)
{
    if (!config || method < 0) return true;
    int m = method == KILN_HEAD && !config->body[KILN_HEAD] && !config->query[KILN_HEAD] ? KILN_GET : method;
    if (config->query[m] && !run_query(req, res, config->query[m], config->all_errors)) return false;
    if (config->body[m] && !run_body(req, res, config->body[m], config->all_errors)) return false;
    return true;
}

/* ---- typed access to the body ----------------------------------------- */

static const kiln_value *field(kiln_req *req, const char *key) { return kiln_json_get(req->json, key); }

const char *kiln_body_str(kiln_req *req, const char *key) { return kiln_json_str(field(req, key)); }
kiln_str kiln_body_text(kiln_req *req, const char *key) { return kiln_json_text(field(req, key)); }

double kiln_body_f64(kiln_req *req, const char *key)
{
    const kiln_value *v = field(req, key);
    if (!v) return 0;
    if (v->type == KILN_JSON_NUMBER) return v->num;
    double d = 0;
    if (v->type == KILN_JSON_STRING && schema_coerce_number(&req->priv->c->arena, v->str, v->len, &d) == 1) return d;
    return 0;
}

int64_t kiln_body_i64(kiln_req *req, const char *key)
{
    const kiln_value *v = field(req, key);
    int64_t i;
    if (v && v->type == KILN_JSON_NUMBER && kiln_json_i64(v, &i)) return i;
    double d = kiln_body_f64(req, key);
    return isfinite(d) && fabs(d) < 9.2e18 ? (int64_t)d : 0;
}

bool kiln_body_bool(kiln_req *req, const char *key)
{
    const kiln_value *v = field(req, key);
    if (!v) return false;
    if (v->type == KILN_JSON_TRUE) return true;
    bool b = false;
    if (v->type == KILN_JSON_STRING && schema_coerce_bool(v->str, v->len, &b) == 1) return b;
    return false;
}
