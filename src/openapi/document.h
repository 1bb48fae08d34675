/*
 * document.h -- JSON-writing shorthands shared by the OpenAPI document's
 * writers (document.c: paths and operations; components.c: the components
 * they refer to), and the components entry point. Private to src/openapi.
 */
#ifndef KILN_OPENAPI_DOCUMENT_H
#define KILN_OPENAPI_DOCUMENT_H

#include "json/json.h"

#include <stdbool.h>
#include <string.h>

#define KEY(w, k) jw_key((w), (k), sizeof(k) - 1)
#define RAW(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)

static inline void str(jw_state *w, const char *s) { jw_string(w, s, strlen(s)); }

static inline void kv(jw_state *w, const char *k, const char *v)
{
    jw_key(w, k, strlen(k));
    str(w, v);
}

static inline void ref(jw_state *w, const char *target)
{
    jw_begin_object(w);
    kv(w, "$ref", target);
    jw_end(w);
}

/* components.c: the document's "components" member: Kiln's error shape and
 * responses, the 405 and 429 answers, the session security schemes (when a
 * route uses kiln_require_session) and the GraphQL request and response
 * schemas (when the app has a GraphQL endpoint). */
void openapi_components(jw_state *w, bool session, bool graphql);

#endif
