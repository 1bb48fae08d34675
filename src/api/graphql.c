/*
 * graphql.c -- the GraphQL endpoint: kiln_graphql(req, res) serves the
 * app's schema by the GraphQL-over-HTTP specification (draft of 2024,
 * https://graphql.github.io/graphql-over-http/draft/), and the runtime
 * schema it serves (graphql_schema()).
 *
 *   request                                   answer
 *   POST application/json {query, operationName?, variables?, extensions?}
 *                                             the execution result
 *   GET ?query=&operationName=&variables=&extensions= (JSON in the params)
 *                                             the same, for queries only; a
 *                                             mutation -> 405, Allow: POST
 *   an upgrade offering graphql-transport-ws  graphql_ws_serve (graphql_ws.c)
 *   another method                            405, Allow: GET, POST
 *   POST of another media type                415
 *   a JSON array (a batch)                    400 "Batched requests are not supported"
 *   a body or params of the wrong shape       400 (graphql-http's messages)
 *   Accept with neither JSON media type       406
 *
 * The media type of the answer: application/graphql-response+json when the
 * client accepts it, otherwise application/json (also for a missing Accept
 * or * / *). Status codes, as the specification says: a request error (the
 * result has no "data": a syntax, limit, validation or variable coercion
 * error) is 400 under application/graphql-response+json and 200 under
 * application/json; a result with "data" is 200 under both. Malformed
 * requests (above) are 4xx under both. A body that is not JSON at all is
 * answered 400 by the dispatcher before this runs; the body limit is the
 * route's (kiln_config.body_limit, 1 MB by default; 413 past it) and the
 * document's the limits module's (KILN_GRAPHQL_MAX_BYTES).
 *
 * Per operation: parse (with the limits' document size and token caps),
 * the limits (depth, aliases, fields, introspection), validation, then
 * execution with the request as resolver context (graphql.h), on the
 * request's coroutine, within the time budget (KILN_GRAPHQL_TIMEOUT_MS).
 * Field errors of an executed result that are not the client's mistakes
 * (graphql_report_errors: not BAD_USER_INPUT, UNAUTHENTICATED ...) go to
 * Sentry through kiln_capture_error (docs/sentry.md). A database failure
 * under a resolver is that field's error, not the data layer's 503/500
 * (graphql_db_failed): the result still has "data", so it is 200.
 *
 * Owns: the runtime schema (one arena, built at master start and inherited
 * by the workers; rebuilt when kiln dev swaps the app, the older ones kept
 * for requests still running on them until the worker exits).
 * Must never: execute a mutation for a GET, execute anything that failed
 * validation or the limits, or answer without a JSON body.
 */
#include "api/graphql.h"
#include "api/api.h"
#include "api/graphql_ws.h"
#include "api/request.h"
#include "graphql/doccache.h"
#include "graphql/exec.h"
#include "graphql/limits.h"
#include "graphql/schema.h"
#include "json/json.h"
#include "metrics/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- The runtime schema ------------------------------------------------------------ */

/* A schema's memory. Under kiln dev a reload builds a new one while
 * requests suspended in resolvers may still use the old: older ones are
 * kept until the worker exits. */
typedef struct built_schema {
    arena a;
    struct built_schema *older;
} built_schema;

static struct {
    const char *sdl;            /* the SDL it was built from (its identity) */
    const kiln_gql_resolver_def *resolvers;
    gql_schema *schema;
    built_schema *mem;          /* this one's, then the older ones          */
    bool built;                 /* tried: schema is the result (maybe NULL) */
} rt;

/* The parsed-document cache: this worker's (graphql/doccache.h). */
static gql_doccache doc_cache;
static bool doc_cache_ready;
static uint64_t schema_gen;         /* bumped by every build(): a reloaded
                                       schema never meets an older entry    */

void graphql_release(void)
{
    if (doc_cache_ready) gql_doccache_free(&doc_cache);
    doc_cache_ready = false;
    while (rt.mem) {
        built_schema *b = rt.mem;
        rt.mem = b->older;
        arena_destroy(&b->a);
        free(b);
    }
    memset(&rt, 0, sizeof rt);
}

/* Build from app's SDL; on failure print its errors ("graphql/schema.graphql:
 * line:col: message") to `f` and leave rt.schema NULL. */
static void build(const kiln_app_def *app, FILE *f)
{
    rt.built = true;
    rt.schema = NULL;
    schema_gen++;
    rt.sdl = app ? app->graphql_sdl : NULL;
    rt.resolvers = app ? app->graphql_resolvers : NULL;
    if (!rt.sdl) return;
    built_schema *b = kiln_xcalloc(1, sizeof *b);
    arena_init(&b->a, 1 << 16);
    b->older = rt.mem;
    rt.mem = b;
    arena *a = &b->a;
    size_t len = strlen(rt.sdl);
    gql_error pe;
    gql_node *doc = gql_parse(a, rt.sdl, len, NULL, &pe);
    if (!doc) {
        fprintf(f, "kiln: graphql/schema.graphql:%u:%u: %s\n", pe.line, pe.column, pe.message);
        return;
    }
    gql_errs errs = { .a = a, .src = rt.sdl, .src_len = len };
    gql_schema *s = gql_schema_build(a, rt.sdl, len, doc, &errs);
    if (!s || errs.count) {
        for (const gql_err *e = errs.first; e; e = e->next) {
            if (e->nlocs) fprintf(f, "kiln: graphql/schema.graphql:%u:%u: %s\n", e->locs[0].line, e->locs[0].column, e->message);
            else fprintf(f, "kiln: graphql/schema.graphql: %s\n", e->message);
        }
        if (!errs.count) fprintf(f, "kiln: graphql/schema.graphql: the schema does not build\n");
        return;
    }
    gql_exec_bind(s, app->graphql_resolvers, app->graphql_nresolvers, NULL);
    rt.schema = s;
}

const gql_schema *graphql_schema(void)
{
    const kiln_app_def *app = api.app;
    if (!rt.built || rt.sdl != (app ? app->graphql_sdl : NULL) || rt.resolvers != (app ? app->graphql_resolvers : NULL))
        build(app, stderr);
    return rt.schema;
}

int graphql_check_app(const kiln_app_def *app)
{
    build(app, stderr);
    return app && app->graphql_sdl && !rt.schema ? -1 : 0;
}

const gql_op_limits *graphql_limits(void)
{
    static gql_op_limits l;
    static bool loaded;
    if (!loaded) {
        const char *bad = gql_op_limits_from_env(&l);
        if (bad) kiln_log(NULL, "warn", "%s", bad);
        loaded = true;
    }
    return &l;
}

/* ---- Media types ----------------------------------------------------------------- */

#define CT_GQL "application/graphql-response+json; charset=utf-8"
#define CT_JSON "application/json; charset=utf-8"

enum { MT_NONE = GRAPHQL_MT_NONE, MT_JSON = GRAPHQL_MT_JSON, MT_GQL = GRAPHQL_MT_GQL };

int graphql_accept(const char *h)
{
    if (!h || !*h) return MT_JSON;
    int best = MT_NONE;
    for (const char *p = h; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t tl = strcspn(p, ";,");
        while (tl && (p[tl - 1] == ' ' || p[tl - 1] == '\t')) tl--;
        /* q=0 means "not acceptable" */
        bool refused = false;
        for (const char *q = p + tl; q < p + n; q++)
            if (*q == ';') {
                q++;
                q += strspn(q, " \t");
                if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                    double v = strtod(q + 2, NULL);
                    refused = v <= 0;
                }
            }
#define IS(s) (tl == sizeof(s) - 1 && strncasecmp(p, s, tl) == 0)
        if (!refused) {
            if (IS("application/graphql-response+json")) best = MT_GQL;
            else if ((IS("application/json") || IS("application/*") || IS("*/*")) && best == MT_NONE) best = MT_JSON;
        }
#undef IS
        p += n;
    }
    return best;
}

static int negotiate(kiln_req *req) { return graphql_accept(kiln_header(req, "accept")); }

/* A request error the GraphQL way: {"errors":[{"message":...}]}. */
static void fail(kiln_res *res, int status, int mt, const char *message)
{
    buf out;
    buf_init(&out, 128);
    buf_puts(&out, "{\"errors\":[{\"message\":");
    json_escape(&out, message, strlen(message));
    buf_puts(&out, "}]}");
    kiln_send(res, status, mt == MT_GQL ? CT_GQL : CT_JSON, out.data, out.len);
    buf_free(&out);
}

/* ---- The request's parameters ---------------------------------------------------- */

typedef struct params {
    const kiln_value *query, *operation_name, *variables, *extensions;
} params;

static bool is_null(const kiln_value *v) { return !v || v->type == KILN_JSON_NULL; }

/* GET: the parameters are strings of the URL; variables and extensions
 * hold JSON. NULL, or the message of a 400. */
static const char *from_url(kiln_req *req, params *p)
{
    static const kiln_value null_v = { .type = KILN_JSON_NULL };
    const char *names[4] = { "query", "operationName", "variables", "extensions" };
    const kiln_value **slots[4] = { &p->query, &p->operation_name, &p->variables, &p->extensions };
    for (int i = 0; i < 4; i++) {
        const char *s = kiln_query(req, names[i]);
        if (!s) { *slots[i] = &null_v; continue; }
        if (i < 2) {
            kiln_value *v = kiln_alloc(req, sizeof *v);
            v->type = KILN_JSON_STRING;
            v->str = s;
            v->len = strlen(s);
            *slots[i] = v;
        } else if (!(*slots[i] = kiln_json_parse(req, s, strlen(s), NULL))) {
            return i == 2 ? "Variables are invalid JSON" : "Extensions are invalid JSON";
        }
    }
    return NULL;
}

static const char *check_params(const params *p)
{
    if (is_null(p->query)) return "Missing query";
    if (p->query->type != KILN_JSON_STRING) return "Invalid query";
    if (!is_null(p->operation_name) && p->operation_name->type != KILN_JSON_STRING) return "Invalid operationName";
    if (!is_null(p->variables) && p->variables->type != KILN_JSON_OBJECT) return "Invalid variables";
    if (!is_null(p->extensions) && p->extensions->type != KILN_JSON_OBJECT) return "Invalid extensions";
    return NULL;
}

/* The operation execution would select, or NULL (execution reports it). */
static const gql_node *selected_op(const gql_node *doc, kiln_str name)
{
    const gql_node *op = NULL;
    for (const gql_node *d = doc->items.first; d; d = d->next) {
        if (d->kind != GQL_OPERATION) continue;
        if (name.ptr ? gql_kstr_eq(d->name, name) : !op) op = d;
        else if (!name.ptr) return NULL;            /* ambiguous */
    }
    return op;
}

/* Whether an execution result (graphql-js's key order: errors, then data)
 * has the "data" entry. Inside the errors every quote of a message is
 * escaped, so `],"data":` can only be the key after the errors array. */
static bool has_data(const buf *out)
{
    if (out->len >= 8 && !memcmp(out->data, "{\"data\":", 8)) return true;
    return memmem(out->data, out->len, "],\"data\":", 9) != NULL;
}

/* ---- Database failures ------------------------------------------------------------- */

/* A failure's message and extensions.code (false: it is not one). */
static bool db_failure(kiln_db_status st, const char *m, const char **message, const char **code)
{
    switch (st) {
    case KILN_DB_OK:
    case KILN_DB_CONFLICT:      /* the resolver's to decide (never caught) */
        return false;
    case KILN_DB_INVALID:
        *message = m;
        *code = "BAD_USER_INPUT";
        return true;
    case KILN_DB_UNAVAILABLE:
        *message = "Service Unavailable";
        *code = GRAPHQL_CODE_UNAVAILABLE;
        return true;
    case KILN_DB_ERROR:
        break;
    }
    *message = "Internal Server Error";
    *code = "INTERNAL_SERVER_ERROR";
    return true;
}

bool graphql_db_failed(void *req, const char **message, const char **code)
{
    const char *m;
    kiln_db_status st = request_take_db_failure(req, &m);
    return db_failure(st, m, message, code);
}

void graphql_answer_db_failure(kiln_req *req, kiln_res *res, kiln_db_status st, const char *message)
{
    const char *msg, *code;
    if (!db_failure(st, message ? message : "Invalid data", &msg, &code)) return;
    int mt = negotiate(req);
    int status = mt != MT_GQL ? 200 : st == KILN_DB_UNAVAILABLE ? 503 : st == KILN_DB_INVALID ? 400 : 500;
    buf out;
    buf_init(&out, 128);
    buf_puts(&out, "{\"errors\":[{\"message\":");
    json_escape(&out, msg, strlen(msg));
    buf_puts(&out, ",\"extensions\":{\"code\":");
    json_escape(&out, code, strlen(code));
    buf_puts(&out, "}}]}");
    kiln_send(res, status, mt == MT_GQL ? CT_GQL : CT_JSON, out.data, out.len);
    buf_free(&out);
}

/* ---- Error reports ------------------------------------------------------------- */

/* Codes a resolver gives for the client's own mistakes: not reported. */
static const char *const client_codes[] = { "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "CONFLICT",
                                            "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED",
                                            "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND" };

/* graphql.h. The result is parsed only when it has errors; with reporting
 * off kiln_capture_error returns at once. The error's path and the
 * operation's name go on the event (priv.gql_path / gql_operation, read by
 * src/report/capture.c). */
void graphql_report_errors(kiln_req *req, const char *out, size_t len, kiln_str opname)
{
    if (!req->priv || len < 10 || memcmp(out, "{\"errors\":", 10) != 0) return;
    const kiln_value *root = kiln_json_parse(req, out, len, NULL);
    const kiln_value *errors = root ? kiln_json_get(root, "errors") : NULL;
    if (!errors || errors->type != KILN_JSON_ARRAY) return;
    req->priv->gql_operation = opname.ptr ? kiln_sprintf(req, "%.*s", (int)opname.len, opname.ptr) : NULL;
    for (const kiln_value *e = errors->child; e; e = e->next) {
        const kiln_value *pv = kiln_json_get(e, "path");
        if (!pv || pv->type != KILN_JSON_ARRAY) continue;       /* a request error */
        const char *code = kiln_json_str(kiln_json_get(kiln_json_get(e, "extensions"), "code"));
        const char *msg = kiln_json_str(kiln_json_get(e, "message"));
        bool client = false;
        for (size_t i = 0; code && i < ARRAY_LEN(client_codes); i++) client |= !strcmp(code, client_codes[i]);
        if (client || (code && !strcmp(code, GRAPHQL_CODE_UNAVAILABLE))) continue;
        buf path;
        buf_init(&path, 64);
        for (const kiln_value *s = pv->child; s; s = s->next) {
            if (path.len) buf_putc(&path, '.');
            if (s->type == KILN_JSON_STRING) buf_append(&path, s->str, s->len);
            else if (s->type == KILN_JSON_NUMBER) buf_append(&path, s->str, s->len);
        }
        req->priv->gql_path = path.len ? kiln_sprintf(req, "%.*s", (int)path.len, path.data) : NULL;
        buf_free(&path);
        if (code && !strcmp(code, "INTERNAL_SERVER_ERROR") && msg && !strcmp(msg, "Internal Server Error") &&
            req->priv->error_text)              /* graphql_db_failed's: the database's own words */
            kiln_capture_error(req, "DatabaseError", "%s", req->priv->error_text);
        else
            kiln_capture_error(req, "GraphQLError", "%s%s%s%s", msg ? msg : "resolver error",
                               code ? " [" : "", code ? code : "", code ? "]" : "");
    }
    req->priv->gql_path = req->priv->gql_operation = NULL;
}

/* ---- The parsed-document cache ------------------------------------------------------ */

static void release_doc(void *e) { gql_doccache_release(e); }

/* graphql.h: the entry of the query text, pinned; counted in the metrics. */
gql_cached_doc *graphql_doc(const gql_schema *schema, const char *src, size_t len)
{
    const gql_op_limits *lim = graphql_limits();
    if (!doc_cache_ready) {
        gql_doccache_init(&doc_cache, lim->cache_entries, lim->cache_bytes);
        doc_cache_ready = true;
    }
    gql_limits plim = gql_op_limits_parser(lim);
    bool hit = false;
    gql_cached_doc *e = gql_doccache_get(&doc_cache, schema, schema_gen, src, len, &plim, &hit);
    metrics_add(hit ? MC_GQL_DOC_HITS : MC_GQL_DOC_MISSES, 1);
    return e;
}

/* The cache's entry for the query text, pinned until `a` (the request's
 * arena) is reset: execution may suspend while other requests evict it. */
static gql_cached_doc *cached_doc(arena *a, const gql_schema *schema, const char *src, size_t len)
{
    gql_cached_doc *e = graphql_doc(schema, src, len);
    arena_defer_fn(a, release_doc, e);
    return e;
}

/* ---- The endpoint ---------------------------------------------------------------- */

static bool offers_graphql_ws(kiln_req *req)
{
    const char *up = kiln_header(req, "upgrade");
    const char *proto = kiln_header(req, "sec-websocket-protocol");
    return up && strcasecmp(up, "websocket") == 0 && proto && strstr(proto, "graphql-transport-ws");
}

void kiln_graphql(kiln_req *req, kiln_res *res)
{
    if (offers_graphql_ws(req)) { graphql_ws_serve(req, res); return; }
    int mt = negotiate(req);
    bool get = strcmp(req->method, "GET") == 0;
    if (!get && strcmp(req->method, "POST") != 0) {
        kiln_set_header(res, "Allow", "GET, POST");
        fail(res, 405, mt, "Only GET and POST requests are allowed");
        return;
    }
    if (mt == MT_NONE) {
        fail(res, 406, MT_JSON, "Accept application/graphql-response+json or application/json");
        return;
    }
    const gql_schema *schema = graphql_schema();
    if (!schema) { fail(res, 500, mt, "The app's GraphQL schema does not build"); return; }

    params p = { 0 };
    const char *bad = NULL;
    if (get) {
        bad = from_url(req, &p);
    } else {
        const char *ct = kiln_header(req, "content-type");
        size_t ctl = ct ? strcspn(ct, "; \t") : 0;
        if (!ct || ctl != 16 || strncasecmp(ct, "application/json", 16) != 0) {
            fail(res, 415, mt, "Unsupported media type: POST application/json");
            return;
        }
        const kiln_value *b = req->json;
        if (!b) bad = "Missing body";
        else if (b->type == KILN_JSON_ARRAY) bad = "Batched requests are not supported";
        else if (b->type != KILN_JSON_OBJECT) bad = "Invalid body: a JSON object is expected";
        else p = (params){ kiln_json_get(b, "query"), kiln_json_get(b, "operationName"), kiln_json_get(b, "variables"),
                           kiln_json_get(b, "extensions") };
    }
    if (!bad) bad = check_params(&p);
    if (bad) { fail(res, 400, mt, bad); return; }

    arena *a = request_arena(req);
    kiln_str opname = is_null(p.operation_name) ? (kiln_str){ NULL, 0 }
                                                : (kiln_str){ p.operation_name->str, p.operation_name->len };
    const gql_op_limits *lim = graphql_limits();
    buf out;
    buf_init(&out, 512);
    /* The parse (and, below, validation) of this text: cached per worker
     * (graphql/doccache.h), pinned until the request's arena is reset. */
    gql_cached_doc *cd = cached_doc(a, schema, p.query->str, p.query->len);
    const gql_node *doc = cd->doc;
    const char *src = cd->text;
    size_t len = cd->len;
    int status = 200;
    if (cd->state == GQL_DOC_SYNTAX) goto request_error;
    /* The limits first, on every request (they depend on the operation
     * named): they bound the work validation does (limits.h). */
    gql_errs errs = { .a = a, .src = src, .src_len = len };
    gql_check_limits(schema, doc, opname, lim, &errs);
    if (errs.count) {
        buf_puts(&out, "{\"errors\":");
        gql_write_errors(&out, &errs);
        buf_putc(&out, '}');
        status = mt == MT_GQL ? 400 : 200;
        goto send;
    }
    gql_doccache_validate(cd, schema, a);
    if (cd->state == GQL_DOC_INVALID) goto request_error;
    const gql_node *op = selected_op(doc, opname);
    if (get && op && op->op != GQL_QUERY) {
        buf_free(&out);
        kiln_set_header(res, "Allow", "POST");
        fail(res, 405, mt, op->op == GQL_MUTATION ? "Can only perform a mutation operation from a POST request"
                                                  : "Can only perform a subscription operation over a WebSocket");
        return;
    }
    if (op && op->op == GQL_SUBSCRIPTION) {
        buf_free(&out);
        fail(res, 400, mt, "Subscriptions are served over a WebSocket (graphql-transport-ws)");
        return;
    }
    gql_request rq = { .doc = doc, .src = src, .src_len = len, .operation_name = opname,
                       .variables = is_null(p.variables) ? NULL : p.variables, .context = req,
                       .deadline_ns = gql_deadline_ns(lim), .failed = graphql_db_failed };
    request_catch_db_failures(req, true);
    gql_execute(a, schema, &rq, &out);
    request_catch_db_failures(req, false);
    if (!has_data(&out)) {
        if (mt == MT_GQL) status = 400;
    } else {
        graphql_report_errors(req, out.data, out.len, opname.ptr ? opname : op ? op->name : (kiln_str){ NULL, 0 });
    }
    goto send;
request_error:                     /* a syntax or validation error (cached) */
    buf_puts(&out, "{\"errors\":");
    buf_append(&out, cd->errors, cd->errors_len);
    buf_putc(&out, '}');
    status = mt == MT_GQL ? 400 : 200;
send:
    kiln_send(res, status, mt == MT_GQL ? CT_GQL : CT_JSON, out.data, out.len);
    buf_free(&out);
}
