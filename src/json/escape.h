/*
 * escape.h -- JSON string escaping for layers that write JSON text without
 * the parser or the writer (the engine's log lines). Needs no kiln.h.
 */
#ifndef KILN_JSON_ESCAPE_H
#define KILN_JSON_ESCAPE_H

#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (p < end), or 0 when it is not
 * one: overlong forms, encoded surrogates and code points past U+10FFFF are
 * invalid (RFC 3629). Shared by the parser and the escaper. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* Escape s[0..n) as a JSON string (with the quotes) onto out. Invalid UTF-8
 * bytes are replaced by U+FFFD so the output is always valid JSON. */
void json_escape(buf *out, const char *s, size_t n);
/* The same as JavaScript's JSON.stringify writes it: U+2028 and U+2029 as
 * they are (valid JSON; graphql-js's responses, byte for byte). */
void json_escape_stringify(buf *out, const char *s, size_t n);

/* The bytes of w (loaded little-endian) that need more than a copy in a
 * JSON string: below 0x20, '"', '\\', or 0x80 and above. Each gets its
 * high bit set (the classic "has a zero byte" test, for each of those).
 * A borrow can also flag a byte above a flagged one, never below: the
 * lowest flagged byte is always a true one. */
static inline uint64_t json_word_special_mask(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t t = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | w;
    return t & high;
}

/* Does any byte of w need more than a copy? */
static inline bool json_word_special(uint64_t w) { return json_word_special_mask(w) != 0; }

/* json_escape_stringify for the writer that puts every key and value of a
 * response through it (the GraphQL result): inlined, a string of at most
 * 16 bytes that needs no escaping (a name, an id, a short title) is checked
 * with at most two word loads and written with as many stores, the quotes
 * and `then` (':' after a key; 0: nothing) in one reserve. Anything else
 * goes to json_escape_stringify, whose output it is, byte for byte
 * (test_json: escape_short_matches_escape). */
__attribute__((always_inline)) static inline void json_escape_short(buf *out, const char *s, size_t n, char then)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n > 16) goto slow;
    buf_reserve(out, n + 3);         /* first: no call between the checks and the copy */
    if (n >= 8) {                    /* the first 8 and the last 8, overlapping */
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        if (json_word_special(a) || json_word_special(b)) goto slow;
    } else if (n >= 4) {             /* the first 4 and the last 4, in one word */
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        if (json_word_special((uint64_t)a | (uint64_t)b << 32)) goto slow;
    } else if (n) {                  /* 1-3 bytes: p[0], p[n/2], p[n-1] are all */
        uint64_t w = (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16
                   | 0x6161616161000000ull;          /* "aaaaa": never special */
        if (json_word_special(w)) goto slow;
    }
    char *d = out->data + out->len;
    copy_upto16(d + 1, s, n);        /* before any other store: the loads are reused */
    d[0] = '"';
    d[n + 1] = '"';
    d[n + 2] = then;                 /* reserved; counted only when wanted */
    out->len += n + 2 + (then != 0);
    return;
slow:
    json_escape_stringify(out, s, n);
    if (then) buf_putc(out, then);
}

#endif
