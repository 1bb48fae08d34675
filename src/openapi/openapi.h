/*
 * openapi.h -- the app's API description, OpenAPI 3.1, from what the built
 * app already knows: its route table (patterns, the functions each route
 * file defines, per-route middleware) and each route's kiln_config (the
 * Joi-style schemas of bodies and queries, declared responses, limits).
 *
 * Why the server describes itself. The schemas are C data (kiln_rule trees
 * built from macros, compound literals, arrays shared through lib/): only
 * the compiled program holds them exactly. So the document is written by the
 * built server (`APP/.kiln/server --openapi`, which is what `kiln openapi APP`
 * runs after building), by the dev host and, opt-in, by `kiln start` at
 * /_kiln/openapi.json -- always from the same tables that route and validate
 * the requests, so it cannot drift from them.
 *
 * Files: document.c writes the document (paths, operations, Kiln's own
 * answers, security), components.c its components (document.h: what the
 * two share); schema.c turns kiln_rule trees into JSON
 * Schema and builds examples that the validator itself accepts; check.c
 * loads the optional info block (APP/kiln.json) and checks a real response
 * against its declaration (kiln dev). The server's glue is elsewhere:
 * the /_kiln/openapi.json answer and kiln dev's response check are the
 * framework's (src/api/openapi.c, src/api/dispatch.c), kiln_openapi_main()
 * is src/app/app.c's.
 *
 * Dependencies: core, json (the writer, the parser), validate (the rules'
 * semantics), the router's pattern syntax, auth's kiln_require_session (as a
 * pointer to recognise, declared in kiln.h). Never the engine (src/runtime:
 * sockets, connections, the loop): the framework calls in, with a finished
 * response's bytes.
 *
 * Route kinds: HTTP routes (per-method or `handler`), the GraphQL endpoint
 * (kiln_route_def.graphql, set by kiln build / kiln dev when the route file
 * calls kiln_graphql; x-kiln-graphql) and WebSocket routes (a declared 101;
 * x-kiln-websocket). A new kind adds its case at route_kind() in document.c.
 */
#ifndef KILN_OPENAPI_H
#define KILN_OPENAPI_H

#include "kiln.h"
#include "core/buf.h"
#include "core/core.h"
#include "json/json.h"

/* The document's info block. version NULL: "0.0.0". */
typedef struct openapi_info {
    const char *title;
    const char *version;
    const char *description;
} openapi_info;

/* Read the "openapi": {"info": {...}} block of APP/kiln.json into *info
 * (strings in `a`); the title defaults to the app folder's name. A missing
 * file, or one without the block, is not an error. Invalid JSON, or a field of the wrong type: -1 with
 * *err (in `a`) saying what and where. */
int openapi_info_load(arena *a, const char *app_dir, openapi_info *info, const char **err);

/* Append the whole document for `app` to out (valid JSON, UTF-8). */
void openapi_write(buf *out, const kiln_app_def *app, const openapi_info *info);

/* A declaration's __FILE__ as the app's own path ("pages/api/x.c",
 * "lib/shapes.c"), whether it was compiled from "APP/pages/..." (kiln build)
 * or from an absolute path (kiln dev). */
const char *openapi_source_path(const char *file);

/* ---- schema.c ----------------------------------------------------------- */

/* JSON Schema of one rule (a field, an array's items ...). */
void openapi_rule_schema(jw_state *w, const kiln_rule *r);
/* JSON Schema of an object given by a field list (a root schema). */
void openapi_fields_schema(jw_state *w, const kiln_rule *fields);
/* An example body for a root field list, as JSON text appended to out: every
 * field present, each value meeting its rules. It is validated with the
 * server's own validator before it is offered; false (out unchanged) when no
 * example could be built that passes (a pattern none of the candidates
 * match, say). */
bool openapi_example(arena *a, buf *out, const kiln_rule *fields);

/* ---- check.c ------------------------------------------------------------ */

/* The declaration a response of (method, status) must meet, from the
 * route's config: *decl the entry, or NULL when the status is not declared.
 * Returns false when the method declares nothing (nothing to check). HEAD
 * uses GET's. */
bool openapi_declared(const kiln_config *cfg, int method, int status, const kiln_response **decl);

/* Check a finished response against the route's declaration for its method.
 * Returns NULL when it matches (or the method declares nothing), else why,
 * in `a`; *decl is the declaration concerned (file and line), or NULL when
 * the status itself is not declared. body is the whole response body
 * (len bytes), content_type its Content-Type or NULL. */
const char *openapi_check_response(arena *a, const kiln_config *cfg, int method, int status,
                                   const char *content_type, const char *body, size_t len,
                                   const kiln_response **decl);

#endif
