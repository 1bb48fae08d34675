/*
 * document.c -- the OpenAPI 3.1 document of an app, written from its route
 * table with the project's JSON writer (json/write.c).
 *
 * Paths. "/api/posts/[id]" becomes "/api/posts/{id}". A catch-all
 * "[...slug]" becomes "{slug}", said honestly: it matches one or more
 * segments, and since an OpenAPI path parameter cannot hold a '/', a client
 * built from the document sends the value percent-encoded as one segment
 * (Kiln's router decodes "%2F" inside a segment, and kiln_query joins
 * segments with '/', so the handler sees the same value either way). An
 * optional catch-all "[[...slug]]" is two paths: one without the parameter,
 * one with it.
 *
 * Operations. A route with per-method functions gets one operation per
 * function it defines (HEAD from GET and OPTIONS are answered by Kiln and not
 * listed; other methods get 405 with Allow, said in the path's description).
 * A `handler` route answers any method: it is listed under GET, POST, PUT,
 * PATCH and DELETE, each marked as the same handler. Parameters come from
 * the pattern and from the method's query schema (a query field named like a
 * path parameter types that parameter: kiln_query merges them); the request
 * body from the method's body schema (required when a field is), with an
 * example the validator accepts.
 *
 * Responses. The route's declared ones (kiln_config.responses) first; then
 * what Kiln itself answers: 400 (invalid JSON, a schema's Joi message), 401
 * and 403 where kiln_require_session guards the route (also declaring the
 * bearer and cookie security schemes), 413 where a body is read, and a
 * default, Kiln's error shape {"error": ...}. 405 and 429 are components
 * (405 text, with Allow; 429 with Retry-After) that a route's own
 * declaration of those statuses refers to.
 *
 * The components the operations refer to (Kiln's error responses, the
 * security schemes, the GraphQL shapes) are components.c's.
 *
 * Owns: nothing beyond the output buffer's growth. Must never: describe a
 * method, parameter or constraint the server does not have.
 */
#include "openapi/document.h"
#include "openapi/openapi.h"
#include "validate/schema.h"

#include <stdio.h>

static const char *const method_names[KILN_METHOD_COUNT] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
static const char *const method_lower[KILN_METHOD_COUNT] = { "get", "head", "post", "put", "patch", "delete", "options" };
/* What a handler route is listed under. */
static const int any_methods[] = { KILN_GET, KILN_POST, KILN_PUT, KILN_PATCH, KILN_DELETE };

/* ---- patterns ---------------------------------------------------------- */

typedef struct seg_param {
    const char *name; size_t len;
    bool catch_all, optional;
} seg_param;

typedef struct path_form {
    char text[1024];            /* "/api/posts/{id}"                   */
    seg_param params[16];
    size_t nparams;
} path_form;

/* The OpenAPI path of a pattern; with_optional false drops an optional
 * catch-all segment (the path it also matches without it). */
static void path_of(const char *pattern, bool with_optional, path_form *pf)
{
    size_t n = 0;
    pf->nparams = 0;
    for (const char *s = pattern; *s;) {
        if (*s == '/') { s++; continue; }
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        seg_param p = { 0 };
        const char *name = s;
        size_t nl = len;
        if (len > 6 && !strncmp(s, "[[...", 5)) { p.catch_all = p.optional = true; name = s + 5; nl = len - 7; }
        else if (len > 5 && !strncmp(s, "[...", 4)) { p.catch_all = true; name = s + 4; nl = len - 5; }
        else if (len > 2 && s[0] == '[') { name = s + 1; nl = len - 2; }
        else name = NULL;
        if (name && p.optional && !with_optional) break;
        if (n + len + 4 >= sizeof pf->text) break;
        pf->text[n++] = '/';
        if (name) {
            p.name = name;
            p.len = nl;
            if (pf->nparams < ARRAY_LEN(pf->params)) pf->params[pf->nparams++] = p;
            n += (size_t)snprintf(pf->text + n, sizeof pf->text - n, "{%.*s}", (int)nl, name);
        } else {
            memcpy(pf->text + n, s, len);
            n += len;
        }
        s += len;
    }
    if (n == 0) pf->text[n++] = '/';
    pf->text[n] = '\0';
}

static bool has_optional_catch_all(const char *pattern) { return strstr(pattern, "[[...") != NULL; }

/* ---- facts about a route ----------------------------------------------- */

static bool uses_session(const kiln_app_def *app, const kiln_route_def *r)
{
    for (const kiln_middleware *m = r->middleware; m && *m; m++)
        if (*m == kiln_require_session) return true;
    /* An app-wide kiln_require_session without a matcher guards everything
     * (with a matcher it would need the matcher's semantics: not claimed). */
    return app->middleware == kiln_require_session && !app->matcher;
}

static const kiln_rule *schema_for(const kiln_rule *const *per_method, int m)
{
    if (per_method[m]) return per_method[m];
    return m == KILN_HEAD ? per_method[KILN_GET] : NULL;
}

/* The body's schema: checked before the handler (config.body) or by the
 * handler itself (config.validates). */
static const kiln_rule *handler_schema(const kiln_route_def *r, int m)
{
    return r->config && !schema_for(r->config->body, m) ? schema_for(r->config->validates, m) : NULL;
}
static const kiln_rule *body_schema(const kiln_route_def *r, int m)
{
    if (!r->config) return NULL;
    const kiln_rule *s = schema_for(r->config->body, m);
    return s ? s : handler_schema(r, m);
}
static const kiln_rule *query_schema(const kiln_route_def *r, int m) { return r->config ? schema_for(r->config->query, m) : NULL; }

static const kiln_response *responses_for(const kiln_route_def *r, int m)
{
    if (!r->config) return NULL;
    const kiln_response *l = r->config->responses[m];
    return !l && m == KILN_HEAD ? r->config->responses[KILN_GET] : l;
}

static bool declares(const kiln_response *l, int status)
{
    for (; l && l->status; l++) if (l->status == status) return true;
    return false;
}

static bool takes_body(const kiln_route_def *r, int m)
{
    return body_schema(r, m) || m == KILN_POST || m == KILN_PUT || m == KILN_PATCH;
}

static const kiln_rule *query_field(const kiln_rule *q, const char *name, size_t len)
{
    for (; q && q->name; q++)
        if (strlen(q->name) == len && !memcmp(q->name, name, len)) return q;
    return NULL;
}

const char *openapi_source_path(const char *file)
{
    if (!file) return "?";
    const char *best = NULL;
    for (const char *p = file; (p = strstr(p, "/pages/")); p++) best = p + 1;
    if (!best)
        for (const char *p = file; (p = strstr(p, "/lib/")); p++) best = p + 1;
    if (!best && (!strncmp(file, "pages/", 6) || !strncmp(file, "lib/", 4))) best = file;
    return best ? best : file;
}

/* ---- one operation ------------------------------------------------------ */

static void parameters(jw_state *w, const kiln_route_def *r, int m, const path_form *pf)
{
    const kiln_rule *q = query_schema(r, m);
    size_t nq = 0;
    for (const kiln_rule *f = q; f && f->name; f++) nq++;
    if (!pf->nparams && !nq) return;
    KEY(w, "parameters");
    jw_begin_array(w);
    for (size_t i = 0; i < pf->nparams; i++) {
        const seg_param *p = &pf->params[i];
        jw_begin_object(w);
        KEY(w, "name");
        jw_string(w, p->name, p->len);
        kv(w, "in", "path");
        KEY(w, "required");
        jw_bool(w, true);
        if (p->catch_all)
            kv(w, "description", "Catch-all: on the server this matches one or more path segments. Send the "
                                 "segments percent-encoded as one ('a%2Fb'); the handler sees them joined by '/' "
                                 "either way (kiln_query), one by one with kiln_query_all.");
        const kiln_rule *typed = query_field(q, p->name, p->len);
        KEY(w, "schema");
        if (typed) openapi_rule_schema(w, typed);
        else { jw_begin_object(w); kv(w, "type", "string"); jw_end(w); }
        jw_end(w);
    }
    for (const kiln_rule *f = q; f && f->name; f++) {
        bool is_path = false;
        for (size_t i = 0; i < pf->nparams; i++)
            if (strlen(f->name) == pf->params[i].len && !memcmp(f->name, pf->params[i].name, pf->params[i].len)) is_path = true;
        if (is_path) continue;
        jw_begin_object(w);
        kv(w, "name", f->name);
        kv(w, "in", "query");
        if (f->required) { KEY(w, "required"); jw_bool(w, true); }
        KEY(w, "schema");
        openapi_rule_schema(w, f);
        jw_end(w);
    }
    jw_end(w);
}

/* An operation's security: the session's bearer token or cookie when the
 * route uses the session middleware, else none. */
static void security(jw_state *w, const kiln_app_def *app, const kiln_route_def *r)
{
    KEY(w, "security");
    jw_begin_array(w);
    if (uses_session(app, r)) {
        jw_begin_object(w); KEY(w, "bearerAuth"); jw_begin_array(w); jw_end(w); jw_end(w);
        jw_begin_object(w); KEY(w, "sessionCookie"); jw_begin_array(w); jw_end(w); jw_end(w);
    }
    jw_end(w);
}

static void request_body(jw_state *w, const kiln_route_def *r, int m)
{
    const kiln_rule *s = body_schema(r, m);
    if (!s && !takes_body(r, m)) return;
    if (r->config && r->config->raw_body) {
        KEY(w, "requestBody");
        jw_begin_object(w);
        kv(w, "description", "Read as it arrives (config.raw_body): any content type.");
        KEY(w, "content");
        jw_begin_object(w);
        KEY(w, "application/octet-stream");
        jw_begin_object(w);
        jw_end(w);
        jw_end(w);
        jw_end(w);
        return;
    }
    bool required = false;
    for (const kiln_rule *f = s; f && f->name; f++) required |= f->required;
    KEY(w, "requestBody");
    jw_begin_object(w);
    if (!s) kv(w, "description", "JSON (or an urlencoded form); its shape is not declared in the route's config.");
    if (s && handler_schema(r, m)) {
        /* Checked by the handler, which may answer first for its own
         * reasons (a 404 for a missing record, say). */
        kv(w, "description", "Checked by the handler (config.validates), after its own checks: a 400 with Kiln's error shape when it breaks this schema.");
        KEY(w, "x-kiln-checked-by-handler");
        jw_bool(w, true);
    }
    KEY(w, "required");
    jw_bool(w, required);
    KEY(w, "content");
    jw_begin_object(w);
    KEY(w, "application/json");
    jw_begin_object(w);
    KEY(w, "schema");
    if (s) openapi_fields_schema(w, s);
    else { jw_begin_object(w); jw_end(w); }
    if (s) {
        arena a;
        arena_init(&a, 4096);
        buf ex;
        buf_init(&ex, 256);
        if (openapi_example(&a, &ex, s)) { KEY(w, "example"); jw_raw(w, ex.data, ex.len); }
        buf_free(&ex);
        arena_destroy(&a);
    }
    jw_end(w);
    jw_end(w);
    jw_end(w);
}

static void declared_response(jw_state *w, const kiln_response *d)
{
    char k[16];
    snprintf(k, sizeof k, "%d", d->status);
    jw_key(w, k, strlen(k));
    if (!d->body && !d->items && d->status == 429) { ref(w, "#/components/responses/TooManyRequests"); return; }
    if (!d->body && !d->items && d->status == 405) { ref(w, "#/components/responses/MethodNotAllowed"); return; }
    jw_begin_object(w);
    char desc[1200];
    snprintf(desc, sizeof desc, "%s (declared at %s:%d)", d->description ? d->description : "Declared response",
             openapi_source_path(d->file), d->line);
    kv(w, "description", desc);
    if (d->body || d->items || d->status >= 400) {
        KEY(w, "content");
        jw_begin_object(w);
        KEY(w, "application/json");
        jw_begin_object(w);
        KEY(w, "schema");
        if (d->body) openapi_fields_schema(w, d->body);
        else if (d->items) {
            jw_begin_object(w);
            kv(w, "type", "array");
            KEY(w, "items");
            openapi_rule_schema(w, d->items);
            jw_end(w);
        } else ref(w, "#/components/schemas/Error");
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
}

static void responses(jw_state *w, const kiln_app_def *app, const kiln_route_def *r, int m)
{
    const kiln_response *decl = responses_for(r, m);
    KEY(w, "responses");
    jw_begin_object(w);
    bool success = false;
    for (const kiln_response *d = decl; d && d->status; d++) {
        declared_response(w, d);
        success |= d->status >= 200 && d->status < 400;
    }
    if (!success) {
        KEY(w, "2XX");
        jw_begin_object(w);
        kv(w, "description", "Success; the route declares no response shape (kiln_config.responses).");
        jw_end(w);
    }
    bool body = takes_body(r, m) && !(r->config && r->config->raw_body);
    if ((body || query_schema(r, m)) && !declares(decl, 400)) { KEY(w, "400"); ref(w, "#/components/responses/BadRequest"); }
    if (uses_session(app, r)) {
        if (!declares(decl, 401)) { KEY(w, "401"); ref(w, "#/components/responses/Unauthorized"); }
        if (m != KILN_GET && m != KILN_HEAD && m != KILN_OPTIONS && !declares(decl, 403)) {
            KEY(w, "403");
            ref(w, "#/components/responses/Forbidden");
        }
    }
    if ((body || (r->config && r->config->raw_body)) && !declares(decl, 413)) {
        KEY(w, "413");
        ref(w, "#/components/responses/PayloadTooLarge");
    }
    KEY(w, "default");
    ref(w, "#/components/responses/Error");
    jw_end(w);
}

/* "getApiPostsId" from the method and the OpenAPI path (+ suffix). */
static void operation_id(jw_state *w, int m, const char *path, const char *suffix)
{
    char id[1100];
    size_t n = (size_t)snprintf(id, sizeof id, "%s", method_lower[m]);
    bool upper = true;
    for (const char *s = path; *s && n + 2 < sizeof id; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) { upper = true; continue; }
        id[n++] = upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        upper = false;
    }
    snprintf(id + n, sizeof id - n, "%s", suffix);
    kv(w, "operationId", id);
}

static void operation(jw_state *w, const kiln_app_def *app, const kiln_route_def *r, int m,
                      const path_form *pf, bool any, const char *id_suffix)
{
    jw_key(w, method_lower[m], strlen(method_lower[m]));
    jw_begin_object(w);
    operation_id(w, m, pf->text, id_suffix);
    char text[1400];
    snprintf(text, sizeof text, "%s %s", any ? "Any method:" : method_names[m], pf->text);
    kv(w, "summary", text);
    snprintf(text, sizeof text, any ? "%s: one `handler` answers every method (listed under each common one)."
                                    : "%s: its %s function.", r->file, method_names[m]);
    kv(w, "description", text);
    KEY(w, "x-kiln-route");
    jw_begin_object(w);
    kv(w, "pattern", r->pattern);
    kv(w, "file", r->file);
    kv(w, "style", any ? "handler" : "methods");
    jw_end(w);
    if (declares(responses_for(r, m), 101)) {
        /* A WebSocket route (kiln_ws_accept in a GET): OpenAPI has no words
         * for the conversation after the upgrade; the route says it with a
         * declared 101, and tools see this mark. */
        KEY(w, "x-kiln-websocket");
        jw_bool(w, true);
    }
    parameters(w, r, m, pf);
    request_body(w, r, m);
    responses(w, app, r, m);
    security(w, app, r);
    jw_end(w);
}

/* The kind of a route decides how it is described: an HTTP route
 * (per-method functions or one handler), or the GraphQL endpoint (a route
 * file calling kiln_graphql(), marked by kiln build / kiln dev in
 * kiln_route_def.graphql; graphql_path_item()). A WebSocket route is one
 * whose GET declares 101 (marked x-kiln-websocket in operation()), since the
 * route table cannot tell an upgrade from an answer. A new kind gets its
 * case here and its own writer beside path_item(). */
enum route_kind { ROUTE_METHODS, ROUTE_HANDLER, ROUTE_GRAPHQL };

static enum route_kind route_kind(const kiln_route_def *r)
{
    if (r->graphql) return ROUTE_GRAPHQL;
    return r->handler ? ROUTE_HANDLER : ROUTE_METHODS;
}

/* ---- the GraphQL endpoint ------------------------------------------------ */

/* What the endpoint answers (src/api/graphql.c, GraphQL over HTTP): the
 * GraphQL response in either media type, Accept deciding which. */
#define GQL_RESPONSE_SCHEMA "{\"$ref\":\"#/components/schemas/GraphQLResponse\"}"
#define GQL_CONTENT                                                                             \
    "\"content\":{\"application/graphql-response+json\":{\"schema\":" GQL_RESPONSE_SCHEMA "},"    \
    "\"application/json\":{\"schema\":" GQL_RESPONSE_SCHEMA "}}"
#define GQL_RESPONSES                                                                           \
    "{\"200\":{\"description\":\"A GraphQL response (data and/or errors). With Accept: "      \
    "application/graphql-response+json, a request error is answered 400 instead.\"," GQL_CONTENT "}," \
    "\"400\":{\"description\":\"A request error: no query, unparsable JSON, a syntax or "       \
    "validation error.\"," GQL_CONTENT "},"                                                       \
    "\"405\":{\"description\":\"Another method, or a mutation over GET (Allow says which).\","  \
    "\"headers\":{\"Allow\":{\"schema\":{\"type\":\"string\"}}}," GQL_CONTENT "},"              \
    "\"406\":{\"description\":\"Accept names neither JSON media type.\"," GQL_CONTENT "},"      \
    "\"413\":{\"$ref\":\"#/components/responses/PayloadTooLarge\"},"                           \
    "\"415\":{\"description\":\"A POST body that is not application/json.\"," GQL_CONTENT "},"  \
    "\"default\":{\"$ref\":\"#/components/responses/Error\"}}"

static void graphql_operation(jw_state *w, const kiln_app_def *app, const kiln_route_def *r, int m,
                              const path_form *pf, const char *id_suffix)
{
    jw_key(w, method_lower[m], strlen(method_lower[m]));
    jw_begin_object(w);
    operation_id(w, m, pf->text, id_suffix);
    char text[1400];
    snprintf(text, sizeof text, "GraphQL %s %s", m == KILN_GET ? "query (GET)" : "request (POST)", pf->text);
    kv(w, "summary", text);
    snprintf(text, sizeof text, "%s: the GraphQL endpoint (kiln_graphql), by the GraphQL-over-HTTP "
                                "specification.%s", r->file,
             m == KILN_GET ? " GET runs queries only; a mutation is answered 405." : "");
    kv(w, "description", text);
    KEY(w, "x-kiln-route");
    jw_begin_object(w);
    kv(w, "pattern", r->pattern);
    kv(w, "file", r->file);
    kv(w, "style", r->handler ? "handler" : "methods");
    jw_end(w);
    KEY(w, "x-kiln-graphql");
    jw_bool(w, true);
    if (m == KILN_GET) {
        KEY(w, "parameters");
        RAW(w, "[{\"name\":\"query\",\"in\":\"query\",\"required\":true,\"description\":\"The GraphQL "
               "document.\",\"schema\":{\"type\":\"string\"}},"
               "{\"name\":\"operationName\",\"in\":\"query\",\"required\":false,\"description\":"
               "\"The operation to run when the document has several.\",\"schema\":{\"type\":\"string\"}},"
               "{\"name\":\"variables\",\"in\":\"query\",\"required\":false,\"description\":"
               "\"The variables, as JSON text (an object).\",\"schema\":{\"type\":\"string\"}},"
               "{\"name\":\"extensions\",\"in\":\"query\",\"required\":false,\"description\":"
               "\"Extensions, as JSON text (an object).\",\"schema\":{\"type\":\"string\"}}]");
    } else {
        KEY(w, "requestBody");
        RAW(w, "{\"required\":true,\"content\":{\"application/json\":{\"schema\":"
               "{\"$ref\":\"#/components/schemas/GraphQLRequest\"},"
               "\"example\":{\"query\":\"{ __typename }\"}}}}");
    }
    KEY(w, "responses");
    RAW(w, GQL_RESPONSES);
    security(w, app, r);
    jw_end(w);
}

static void path_item(jw_state *w, const kiln_app_def *app, const kiln_route_def *r, bool with_optional)
{
    path_form pf;
    path_of(r->pattern, with_optional, &pf);
    const char *suffix = has_optional_catch_all(r->pattern) && !with_optional ? "Root" : "";
    jw_key(w, pf.text, strlen(pf.text));
    jw_begin_object(w);
    if (route_kind(r) == ROUTE_GRAPHQL) {
        graphql_operation(w, app, r, KILN_GET, &pf, suffix);
        graphql_operation(w, app, r, KILN_POST, &pf, suffix);
        kv(w, "description", "The GraphQL endpoint: GET (queries) and POST; other methods are answered 405.");
    } else if (route_kind(r) == ROUTE_HANDLER) {
        for (size_t i = 0; i < ARRAY_LEN(any_methods); i++) operation(w, app, r, any_methods[i], &pf, true, suffix);
    } else {
        char allow[96] = "";
        size_t n = 0;
        for (int m = 0; m < KILN_METHOD_COUNT; m++) {
            if (!r->methods[m]) continue;
            operation(w, app, r, m, &pf, false, suffix);
            n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", method_names[m]);
        }
        char desc[300];
        snprintf(desc, sizeof desc, "Other methods are answered 405 with `Allow: %s` (HEAD is served from GET, "
                                    "OPTIONS answered 204 with Allow).", n ? allow : "");
        kv(w, "description", desc);
    }
    jw_end(w);
}

/* ---- the document ------------------------------------------------------- */

void openapi_write(buf *out, const kiln_app_def *app, const openapi_info *info)
{
    jw_state w;
    jw_init(&w, out);
    jw_begin_object(&w);
    kv(&w, "openapi", "3.1.0");
    KEY(&w, "info");
    jw_begin_object(&w);
    kv(&w, "title", info && info->title ? info->title : "Kiln app");
    kv(&w, "version", info && info->version ? info->version : "0.0.0");
    if (info && info->description) kv(&w, "description", info->description);
    jw_end(&w);
    KEY(&w, "servers");
    RAW(&w, "[{\"url\":\"/\"}]");
    KEY(&w, "paths");
    jw_begin_object(&w);
    bool session = false, graphql = false;
    for (size_t i = 0; i < app->nroutes; i++) {
        const kiln_route_def *r = &app->routes[i];
        /* Routes Kiln adds to every app (Pusher's REST API and socket,
         * src/pusher; their file reads "(built in) ...") are Pusher's
         * documented protocol, off unless PUSHER_* are set: not the app's. */
        if (r->file && !strncmp(r->file, "(built in)", 10)) continue;
        session |= uses_session(app, r);
        graphql |= route_kind(r) == ROUTE_GRAPHQL;
        if (has_optional_catch_all(r->pattern)) path_item(&w, app, r, false);
        path_item(&w, app, r, true);
    }
    jw_end(&w);
    openapi_components(&w, session, graphql);
    jw_end(&w);
}
