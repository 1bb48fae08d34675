/*
 * escape.h -- JSON string escaping for layers that write JSON text without
 * the parser or the writer (the engine's log lines). Needs no kiln.h.
 */
#ifndef KILN_JSON_ESCAPE_H
#define KILN_JSON_ESCAPE_H

#include "core/buf.h"
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (p < end), or 0 when it is not
 * one: overlong forms, encoded surrogates and code points past U+10FFFF are
 * invalid (RFC 3629). Shared by the parser and the escaper. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* Escape s[0..n) as a JSON string (with the quotes) onto out. Invalid UTF-8
 * bytes are replaced by U+FFFD so the output is always valid JSON. */
void json_escape(buf *out, const char *s, size_t n);

#endif
