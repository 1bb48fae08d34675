/*
 * json.h -- Kiln's JSON: a strict RFC 8259 parser into an arena tree, and a
 * writer that appends straight into a growable output buffer.
 *
 * The public types and accessors (kiln_value, kiln_json_get ...) are declared
 * in kiln.h. This header is the internal side used by the runtime.
 */
#ifndef KILN_JSON_H
#define KILN_JSON_H

#include "kiln.h"
#include "core/core.h"
#include "core/buf.h"
#include "json/escape.h"
#include <stdarg.h>

/* Parse text[0..len) (any bytes) into a tree allocated from `a`.
 * Returns NULL on invalid input and then, when err is given, sets *err to an
 * arena string like "Unexpected token } in JSON at position 12".
 * Limits: nesting depth 512 (deeper -> invalid). Strings must be valid UTF-8
 * (invalid UTF-8 -> invalid JSON); \u escapes are decoded, lone surrogates
 * are rejected. Numbers follow the JSON grammar exactly. Whitespace around the
 * value is allowed; anything else after it is an error. */
const kiln_value *json_parse(arena *a, const char *text, size_t len, const char **err);

/* The writer. A jw_state tracks nesting so commas and colons are placed
 * automatically; it writes into `out`. */
#define JW_MAX_DEPTH 64
typedef struct jw_state {
    buf *out;
    int depth;
    unsigned char first[JW_MAX_DEPTH]; /* 1 until the first item at that depth */
    unsigned char is_obj[JW_MAX_DEPTH];
    bool after_key;                    /* a key was written, value pending      */
} jw_state;

void jw_init(jw_state *w, buf *out);
void jw_begin_object(jw_state *w);
void jw_begin_array(jw_state *w);
void jw_end(jw_state *w);
void jw_key(jw_state *w, const char *k, size_t n);
void jw_string(jw_state *w, const char *s, size_t n);  /* escapes; s NULL -> null */
void jw_int(jw_state *w, long long v);
void jw_uint(jw_state *w, unsigned long long v);
void jw_double(jw_state *w, double v);                /* shortest round-trip; non-finite -> null */
void jw_bool(jw_state *w, bool v);
void jw_null(jw_state *w);
void jw_value(jw_state *w, const kiln_value *v);       /* a parsed tree; NULL -> null */
void jw_raw(jw_state *w, const char *s, size_t n);    /* a complete JSON value, as is */
/* The template language documented at kiln_json() in kiln.h. A template with
 * a syntax error is a programming error: KILN_PANIC with the template. */
void jw_fmt(jw_state *w, const char *tmpl, va_list *ap);

/* json_utf8_len, json_escape: json/escape.h (below the engine too). */

#endif
