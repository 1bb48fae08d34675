/*
 * components.c -- the "components" member of the OpenAPI document
 * (document.c writes the paths that refer to it): Kiln's error shape
 * {"error": ...} and the responses built on it (400, 401, 403, 413, 429 with
 * Retry-After, the default), 405 with Allow, the bearer and cookie security
 * schemes of kiln_require_session, and the GraphQL-over-HTTP request and
 * response shapes.
 *
 * Owns: nothing beyond the output buffer's growth. Must never: describe an
 * answer Kiln does not give (each one here is written by src/api or
 * src/auth in that shape).
 */
#include "openapi/document.h"
#include "openapi/openapi.h"

/* The request and response shapes of the GraphQL-over-HTTP specification. */
static void graphql_schemas(jw_state *w)
{
    KEY(w, "GraphQLRequest");
    RAW(w, "{\"type\":\"object\",\"description\":\"A GraphQL request (GraphQL over HTTP).\","
           "\"required\":[\"query\"],\"properties\":{"
           "\"query\":{\"type\":\"string\",\"description\":\"The GraphQL document.\"},"
           "\"operationName\":{\"type\":[\"string\",\"null\"]},"
           "\"variables\":{\"type\":[\"object\",\"null\"],\"additionalProperties\":true},"
           "\"extensions\":{\"type\":[\"object\",\"null\"],\"additionalProperties\":true}}}");
    KEY(w, "GraphQLResponse");
    RAW(w, "{\"type\":\"object\",\"description\":\"A GraphQL response.\",\"properties\":{"
           "\"data\":{\"type\":[\"object\",\"null\"],\"additionalProperties\":true},"
           "\"errors\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"message\"],"
           "\"properties\":{\"message\":{\"type\":\"string\"},"
           "\"locations\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
           "\"line\":{\"type\":\"integer\"},\"column\":{\"type\":\"integer\"}}}},"
           "\"path\":{\"type\":\"array\",\"items\":{\"type\":[\"string\",\"integer\"]}},"
           "\"extensions\":{\"type\":\"object\",\"additionalProperties\":true}}}},"
           "\"extensions\":{\"type\":\"object\",\"additionalProperties\":true}}}");
}

/* ---- components --------------------------------------------------------- */

static void error_response(jw_state *w, const char *name, const char *desc, const char *retry_header)
{
    jw_key(w, name, strlen(name));
    jw_begin_object(w);
    kv(w, "description", desc);
    if (retry_header) {
        KEY(w, "headers");
        jw_begin_object(w);
        jw_key(w, retry_header, strlen(retry_header));
        jw_begin_object(w);
        kv(w, "description", "Seconds until the window allows another request.");
        KEY(w, "schema");
        jw_begin_object(w); kv(w, "type", "integer"); jw_end(w);
        jw_end(w);
        jw_end(w);
    }
    KEY(w, "content");
    jw_begin_object(w);
    KEY(w, "application/json");
    jw_begin_object(w);
    KEY(w, "schema");
    ref(w, "#/components/schemas/Error");
    jw_end(w);
    jw_end(w);
    jw_end(w);
}

void openapi_components(jw_state *w, bool session, bool graphql)
{
    KEY(w, "components");
    jw_begin_object(w);
    KEY(w, "schemas");
    jw_begin_object(w);
    if (graphql) graphql_schemas(w);
    KEY(w, "Error");
    RAW(w, "{\"type\":\"object\",\"description\":\"Kiln's error shape: {\\\"error\\\": message}.\","
              "\"required\":[\"error\"],\"properties\":{"
              "\"error\":{\"type\":\"string\",\"description\":\"What went wrong; for a schema, Joi's first message.\"},"
              "\"detail\":{\"type\":\"string\",\"description\":\"Invalid JSON: where the parser stopped.\"},"
              "\"details\":{\"type\":\"array\",\"description\":\"Every validation error (config.all_errors).\","
              "\"items\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"}}}},"
              "\"requestId\":{\"type\":\"string\"}}}");
    jw_end(w);
    KEY(w, "responses");
    jw_begin_object(w);
    error_response(w, "BadRequest", "Invalid JSON, or a body or query that breaks its schema (Joi's message).", NULL);
    error_response(w, "Unauthorized", "No valid session: neither a bearer token nor the session cookie.", NULL);
    error_response(w, "Forbidden", "A cookie-authenticated unsafe request from another site (CSRF).", NULL);
    error_response(w, "PayloadTooLarge", "The body is larger than the route's limit (config.body_limit; default 1 MiB).", NULL);
    error_response(w, "TooManyRequests", "Rate limited (kiln_rate_limit).", "Retry-After");
    error_response(w, "Error", "Any other error, in Kiln's error shape (404, 409, 500, 503, 504 ...).", NULL);
    KEY(w, "MethodNotAllowed");
    RAW(w, "{\"description\":\"A method the route does not define.\",\"headers\":{\"Allow\":{"
              "\"description\":\"The methods the route defines.\",\"schema\":{\"type\":\"string\"}}},"
              "\"content\":{\"text/plain\":{\"schema\":{\"type\":\"string\"}}}}");
    jw_end(w);
    if (session) {
        KEY(w, "securitySchemes");
        RAW(w, "{\"bearerAuth\":{\"type\":\"http\",\"scheme\":\"bearer\",\"description\":"
                  "\"A session token from kiln_session_create, as Authorization: Bearer <token>.\"},"
                  "\"sessionCookie\":{\"type\":\"apiKey\",\"in\":\"cookie\",\"name\":\"session\","
                  "\"description\":\"The same token in the session cookie (HttpOnly, SameSite=Lax).\"}}");
    }
    jw_end(w);
}
