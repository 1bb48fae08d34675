/*
 * test_openapi.c -- src/openapi: the document written from a route table,
 * kiln_rule -> JSON Schema, examples, the response check and the info block.
 * The document is read back with Kiln's own JSON parser.
 */
#include "t.h"
#include "openapi/openapi.h"
#include "validate/schema.h"

#include <stdlib.h>
#include <unistd.h>

static void h(kiln_req *req, kiln_res *res) { (void)req; (void)res; }

static const kiln_rule body[] = {
    KILN_STRING("name", .required = true, KILN_MIN(2), KILN_MAX(5)),
    KILN_STRING("zip", .pattern = "^\\d{5}(?:-\\d{4})?$"),
    KILN_STRING("note", .allow_empty = true),
    KILN_STRING("tag", .allow_empty = true, KILN_MIN(3)),
    KILN_NUMBER("ratio", KILN_ONE_OF("0.5", "2")),
    KILN_OBJECT("free"),
    KILN_ARRAY("list", KILN_MIN(2), .items = KILN_ITEMS(KILN_INTEGER(NULL, KILN_MIN(10)))),
    { 0 }
};
static const kiln_rule open_body[] = { KILN_STRING("a"), KILN_END_UNKNOWN };
static const kiln_rule id_query[] = { KILN_INTEGER("id", .required = true), KILN_BOOLEAN("full"), { 0 } };
static const kiln_rule out[] = { KILN_INTEGER("id", .required = true), { 0 } };

static const kiln_config cfg = {
    .body = { [KILN_POST] = body, [KILN_PUT] = open_body },
    .query = { [KILN_GET] = id_query },
    .responses = {
        [KILN_GET] = KILN_RESPONSES(KILN_RESPONSE(200, .body = out), KILN_RESPONSE(204)),
        [KILN_POST] = KILN_RESPONSES(KILN_RESPONSE(201, .items = KILN_ITEMS(KILN_INTEGER(NULL))), KILN_RESPONSE(429)),
    },
};
static const kiln_middleware guard[] = { kiln_require_session, NULL };

static const kiln_route_def routes[] = {
    { "/api/things/[id]", "pages/api/things/[id].c", NULL, { [KILN_GET] = h, [KILN_POST] = h, [KILN_PUT] = h }, &cfg, guard, false },
    { "/api/any", "pages/api/any.c", h, { 0 }, NULL, NULL, false },
    { "/api/docs/[...slug]", "pages/api/docs/[...slug].c", NULL, { [KILN_GET] = h }, NULL, NULL, false },
    { "/api/opt/[[...rest]]", "pages/api/opt/[[...rest]].c", NULL, { [KILN_DELETE] = h }, NULL, NULL, false },
};
static const kiln_config ws_cfg = { .responses = { [KILN_GET] = KILN_RESPONSES(KILN_RESPONSE(101, .description = "WebSocket")) } };
static const kiln_route_def ws_routes[] = { { "/api/ws", "pages/api/ws.c", NULL, { [KILN_GET] = h }, &ws_cfg, NULL, false } };
static const kiln_app_def app = { .routes = routes, .nroutes = ARRAY_LEN(routes) };

static const kiln_value *doc(arena *a)
{
    buf b;
    buf_init(&b, 0);
    openapi_info info = { "T", "9", "d" };
    openapi_write(&b, &app, &info);
    const char *err = NULL;
    const kiln_value *v = json_parse(a, arena_strndup(a, b.data, b.len), b.len, &err);
    if (!v) fprintf(stderr, "%s\n%.*s\n", err, (int)b.len, b.data);
    buf_free(&b);
    return v;
}

/* doc["paths"][p][m] ... by a list of keys ending in NULL. */
static const kiln_value *at(const kiln_value *v, ...)
{
    va_list ap;
    va_start(ap, v);
    for (const char *k; v && (k = va_arg(ap, const char *));) {
        if (v->type == KILN_JSON_ARRAY) v = kiln_json_at(v, (size_t)atoi(k));
        else v = kiln_json_get(v, k);
    }
    va_end(ap);
    return v;
}

static double num(const kiln_value *v) { return v && v->type == KILN_JSON_NUMBER ? v->num : -12345; }

TEST(paths_and_methods)
{
    arena a;
    arena_init(&a, 4096);
    const kiln_value *d = doc(&a);
    CHECK(d != NULL);
    CHECK_EQ_STR(kiln_json_str(at(d, "openapi", NULL)), "3.1.0");
    CHECK_EQ_STR(kiln_json_str(at(d, "info", "title", NULL)), "T");
    const kiln_value *p = at(d, "paths", NULL);
    CHECK_EQ_INT(p->len, 5);               /* the optional catch-all is two */
    CHECK(at(p, "/api/things/{id}", "get", NULL) && at(p, "/api/things/{id}", "put", NULL));
    CHECK(!at(p, "/api/things/{id}", "delete", NULL));
    CHECK(!at(p, "/api/things/{id}", "head", NULL));
    const char *any[] = { "get", "post", "put", "patch", "delete" };
    for (size_t i = 0; i < 5; i++) CHECK(at(p, "/api/any", any[i], NULL) != NULL);
    CHECK_EQ_STR(kiln_json_str(at(p, "/api/any", "post", "x-kiln-route", "style", NULL)), "handler");
    CHECK(at(p, "/api/docs/{slug}", "get", "parameters", "0", "description", NULL) != NULL);
    CHECK(at(p, "/api/opt", "delete", NULL) && at(p, "/api/opt/{rest}", "delete", NULL));
    CHECK_EQ_STR(kiln_json_str(at(p, "/api/opt", "delete", "operationId", NULL)), "deleteApiOptRoot");
    CHECK_EQ_STR(kiln_json_str(at(p, "/api/opt/{rest}", "delete", "operationId", NULL)), "deleteApiOptRest");
    arena_destroy(&a);
}

TEST(parameters_security_and_answers)
{
    arena a;
    arena_init(&a, 4096);
    const kiln_value *op = at(doc(&a), "paths", "/api/things/{id}", "get", NULL);
    /* the path parameter typed by the query schema; the other field in the query */
    CHECK_EQ_STR(kiln_json_str(at(op, "parameters", "0", "in", NULL)), "path");
    CHECK_EQ_STR(kiln_json_str(at(op, "parameters", "0", "schema", "type", NULL)), "integer");
    CHECK_EQ_STR(kiln_json_str(at(op, "parameters", "1", "name", NULL)), "full");
    CHECK_EQ_STR(kiln_json_str(at(op, "parameters", "1", "in", NULL)), "query");
    CHECK(!at(op, "parameters", "2", NULL));
    CHECK(at(op, "security", "0", "bearerAuth", NULL) && at(op, "security", "1", "sessionCookie", NULL));
    CHECK(at(op, "responses", "401", NULL) && !at(op, "responses", "403", NULL));   /* GET: no CSRF */
    CHECK(at(op, "responses", "200", "content", NULL) && !at(op, "responses", "204", "content", NULL));
    CHECK(!at(op, "responses", "2XX", NULL) && !at(op, "responses", "413", NULL));
    const kiln_value *post = at(doc(&a), "paths", "/api/things/{id}", "post", NULL);
    CHECK(at(post, "responses", "403", NULL) && at(post, "responses", "413", NULL));
    CHECK_EQ_STR(kiln_json_str(at(post, "responses", "429", "$ref", NULL)), "#/components/responses/TooManyRequests");
    CHECK_EQ_STR(kiln_json_str(at(post, "responses", "201", "content", "application/json", "schema", "type", NULL)), "array");
    const kiln_value *any = at(doc(&a), "paths", "/api/any", "get", NULL);
    CHECK(at(any, "responses", "2XX", NULL) && at(any, "responses", "default", NULL));
    CHECK_EQ_INT(at(any, "security", NULL)->len, 0);
    arena_destroy(&a);
}

TEST(schemas_say_what_the_validator_does)
{
    arena a;
    arena_init(&a, 4096);
    const kiln_value *s = at(doc(&a), "paths", "/api/things/{id}", "post", "requestBody", "content", "application/json", "schema", NULL);
    CHECK_EQ_INT(at(s, "additionalProperties", NULL)->type, KILN_JSON_FALSE);
    CHECK_EQ_STR(kiln_json_str(at(s, "required", "0", NULL)), "name");
    CHECK(!at(s, "required", "1", NULL));
    CHECK(num(at(s, "properties", "name", "minLength", NULL)) == 2);
    CHECK(num(at(s, "properties", "name", "maxLength", NULL)) == 5);
    CHECK(num(at(s, "properties", "zip", "minLength", NULL)) == 1);       /* Joi refuses "" */
    CHECK(!at(s, "properties", "note", "minLength", NULL));               /* .allow_empty */
    CHECK_EQ_STR(kiln_json_str(at(s, "properties", "tag", "anyOf", "0", "const", NULL)), "");
    CHECK(num(at(s, "properties", "tag", "anyOf", "1", "minLength", NULL)) == 3);
    CHECK(num(at(s, "properties", "ratio", "enum", "0", NULL)) == 0.5);   /* numbers, not strings */
    CHECK_EQ_INT(at(s, "properties", "free", NULL)->len, 1);              /* {"type":"object"} */
    CHECK(num(at(s, "properties", "list", "minItems", NULL)) == 2);
    CHECK(num(at(s, "properties", "list", "items", "minimum", NULL)) == 10);
    /* the example: every field, accepted by the validator */
    const kiln_value *ex = at(doc(&a), "paths", "/api/things/{id}", "post", "requestBody", "content", "application/json", "example", NULL);
    CHECK(ex && ex->len == 7);
    CHECK(schema_validate(&a, body, ex, true, NULL) == 0);
    CHECK_EQ_STR(kiln_json_str(at(ex, "zip", NULL)), "00000");
    CHECK_EQ_INT(at(ex, "list", NULL)->len, 2);
    /* unknown keys allowed: no additionalProperties */
    const kiln_value *o = at(doc(&a), "paths", "/api/things/{id}", "put", "requestBody", "content", "application/json", "schema", NULL);
    CHECK(o && !at(o, "additionalProperties", NULL));
    arena_destroy(&a);
}

TEST(no_example_when_none_passes)
{
    arena a;
    arena_init(&a, 4096);
    static const kiln_rule impossible[] = { KILN_STRING("z", .pattern = "^\\d{5}$", KILN_MAX(3)), { 0 } };
    buf b;
    buf_init(&b, 0);
    CHECK(!openapi_example(&a, &b, impossible));
    CHECK_EQ_INT(b.len, 0);
    static const kiln_rule fine[] = { KILN_STRING("c", .pattern = "^(?:red|green)-[a-f0-9]{2,}$"), { 0 } };
    CHECK(openapi_example(&a, &b, fine));
    CHECK_EQ_MEM(b.data, b.len, "{\"c\":\"red-aa\"}");
    buf_free(&b);
    arena_destroy(&a);
}

TEST(response_check)
{
    arena a;
    arena_init(&a, 4096);
    const kiln_response *d;
    const char *json = "application/json; charset=utf-8";
#define RESP(m, st, body) openapi_check_response(&a, &cfg, (m), (st), json, (body), strlen(body), &d)
    CHECK(RESP(KILN_GET, 200, "{\"id\":1}") == NULL);
    CHECK(RESP(KILN_HEAD, 200, "{\"id\":1}") == NULL);                   /* HEAD uses GET's */
    CHECK_EQ_STR(RESP(KILN_GET, 200, "{\"id\":\"x\"}"), "\"id\" must be a number");
    CHECK(d && d->status == 200 && d->line > 0);
    CHECK_EQ_STR(RESP(KILN_GET, 200, "{\"id\":1,\"x\":2}"), "\"x\" is not allowed");
    CHECK(RESP(KILN_GET, 204, "") == NULL);
    CHECK(RESP(KILN_GET, 204, "{}") != NULL);
    CHECK(RESP(KILN_GET, 404, "{\"error\":\"Not Found\"}") == NULL);       /* Kiln's shape */
    CHECK(d == NULL);
    CHECK_EQ_STR(RESP(KILN_GET, 202, "{}"), "status 202 is not declared for this method");
    CHECK(RESP(KILN_POST, 201, "[1,2]") == NULL);
    CHECK_EQ_STR(RESP(KILN_POST, 201, "{}"), "\"value\" must be an array");
    CHECK(RESP(KILN_POST, 429, "{\"error\":\"Too Many Requests\"}") == NULL);
    CHECK(RESP(KILN_POST, 429, "slow down") != NULL);
    CHECK(RESP(KILN_PUT, 500, "anything") == NULL);                      /* nothing declared */
    CHECK(openapi_check_response(&a, &cfg, KILN_GET, 200, "text/plain", "{\"id\":1}", 8, &d) != NULL);
#undef RESP
    arena_destroy(&a);
}

TEST(info_from_kiln_json)
{
    arena a;
    arena_init(&a, 4096);
    char dir[] = "/tmp/kiln-openapi-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    openapi_info info;
    const char *err = NULL;
    CHECK(openapi_info_load(&a, dir, &info, &err) == 0);                 /* no file: defaults */
    CHECK_EQ_STR(info.title, strrchr(dir, '/') + 1);
    CHECK(info.version == NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/kiln.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"openapi\":{\"info\":{\"title\":\"Shop\",\"version\":\"2.0\",\"description\":\"d\"}}}", f);
    fclose(f);
    CHECK(openapi_info_load(&a, dir, &info, &err) == 0);
    CHECK_EQ_STR(info.title, "Shop");
    CHECK_EQ_STR(info.version, "2.0");
    CHECK_EQ_STR(info.description, "d");
    f = fopen(path, "w");
    fputs("{\"openapi\":{\"info\":{\"title\":7}}}", f);
    fclose(f);
    CHECK(openapi_info_load(&a, dir, &info, &err) == -1);
    CHECK(err && strstr(err, "openapi.info.title"));
    f = fopen(path, "w");
    fputs("{\"openapi\":", f);
    fclose(f);
    CHECK(openapi_info_load(&a, dir, &info, &err) == -1);
    unlink(path);
    rmdir(dir);
    arena_destroy(&a);
}

TEST(websocket_routes_declare_101)
{
    const kiln_app_def ws_app = { .routes = ws_routes, .nroutes = 1 };
    buf b;
    buf_init(&b, 0);
    openapi_write(&b, &ws_app, NULL);
    arena a;
    arena_init(&a, 4096);
    const kiln_value *op = at(json_parse(&a, b.data, b.len, NULL), "paths", "/api/ws", "get", NULL);
    CHECK(op && at(op, "x-kiln-websocket", NULL) && at(op, "x-kiln-websocket", NULL)->type == KILN_JSON_TRUE);
    CHECK(at(op, "responses", "101", NULL) && !at(op, "responses", "101", "content", NULL));
    CHECK(!at(at(doc(&a), "paths", "/api/things/{id}", "get", NULL), "x-kiln-websocket", NULL));
    buf_free(&b);
    arena_destroy(&a);
}

/* A route marked graphql (kiln build / kiln dev: its file calls
 * kiln_graphql) is described as the endpoint, whatever functions it has. */
TEST(graphql_route_is_marked)
{
    const kiln_route_def gql_routes[] = { { "/api/graphql", "pages/api/graphql.c", h, { 0 }, NULL, NULL, true } };
    const kiln_app_def gql_app = { .routes = gql_routes, .nroutes = 1 };
    buf b;
    buf_init(&b, 0);
    openapi_write(&b, &gql_app, NULL);
    arena a;
    arena_init(&a, 4096);
    const kiln_value *d = json_parse(&a, b.data, b.len, NULL);
    const kiln_value *get = at(d, "paths", "/api/graphql", "get", NULL), *post = at(d, "paths", "/api/graphql", "post", NULL);
    CHECK(get && post && !at(d, "paths", "/api/graphql", "put", NULL));
    CHECK(at(get, "x-kiln-graphql", NULL) && at(get, "x-kiln-graphql", NULL)->type == KILN_JSON_TRUE);
    CHECK(at(post, "x-kiln-graphql", NULL) && at(post, "x-kiln-graphql", NULL)->type == KILN_JSON_TRUE);
    CHECK(at(post, "requestBody", "content", "application/json", "schema", NULL));
    CHECK(at(post, "responses", "200", "content", "application/graphql-response+json", NULL));
    CHECK(at(d, "components", "schemas", "GraphQLRequest", "properties", "operationName", NULL));
    CHECK(!at(doc(&a), "components", "schemas", "GraphQLRequest", NULL));   /* only with an endpoint */
    buf_free(&b);
    arena_destroy(&a);
}

TEST(source_paths)
{
    CHECK_EQ_STR(openapi_source_path("/var/lib/x/app/pages/api/a.c"), "pages/api/a.c");
    CHECK_EQ_STR(openapi_source_path("examples/blog/lib/validate.c"), "lib/validate.c");
    CHECK_EQ_STR(openapi_source_path("pages/api/b.c"), "pages/api/b.c");
    CHECK_EQ_STR(openapi_source_path("lib/s.c"), "lib/s.c");
    CHECK_EQ_STR(openapi_source_path("/var/lib/x/app/lib/s.c"), "lib/s.c");
    CHECK_EQ_STR(openapi_source_path("other.c"), "other.c");
    CHECK_EQ_STR(openapi_source_path(NULL), "?");
}

int main(void) { return t_run(); }
