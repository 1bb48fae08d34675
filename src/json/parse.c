/*
 * parse.c -- Kiln's JSON parser: strict RFC 8259 text into an arena tree,
 * plus the public accessors kiln_json_get / _at / _str / _i64.
 *
 * What it does. json_parse() reads text[0..len) (any bytes, not necessarily
 * NUL-terminated) and builds a tree of kiln_value nodes in the caller's arena.
 * It accepts exactly the RFC 8259 grammar: no comments, no trailing commas,
 * no BOM, no NaN/Infinity, whitespace = space, tab, LF, CR. Strings must be
 * valid UTF-8 (no overlongs, no encoded surrogates, nothing past U+10FFFF);
 * \u escapes are decoded, surrogate pairs combined, lone surrogates are an
 * error. \u0000 is kept (STRING len counts it; str stays NUL-terminated).
 *
 * How. The parser is iterative, so nesting costs no C stack: nesting is
 * limited to JSON_MAX_DEPTH (512) containers anyway. While a container is
 * open its `next` field (unused until it gets a sibling) points to its parent,
 * and its children are pushed at the front of `child`, newest first; when
 * the container closes the child list is reversed into document order, `next`
 * is cleared and the container is linked into its own parent. So parsing
 * needs no side stack and no tail pointers, and members keep insertion order.
 *
 * Errors read like JavaScript's JSON.parse ("Unexpected token } in JSON at
 * position 12", "Unexpected end of JSON input"); positions are byte offsets.
 *
 * Owns: nothing; every byte it returns lives in the caller's arena.
 * Must never: read outside text[0..len), recurse, or accept text that
 * another strict parser would reject.
 */
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>

#define JSON_MAX_DEPTH 512

typedef struct parser {
    const unsigned char *start;  /* text[0]                              */
    const unsigned char *p;      /* the next byte to look at             */
    const unsigned char *end;    /* text + len                           */
    arena *a;                    /* where nodes, strings and errors go   */
    const char **err;            /* where the error message goes, or NULL */
} parser;

/* ---- Errors ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (p < end), or 0 when it is not one:
 * overlong forms, encoded surrogates (U+D800..DFFF) and code points above
 * U+10FFFF are all invalid (RFC 3629 table). */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t avail = (size_t)(end - p);
    if (c < 0xC2) return 0;
    if (c < 0xE0) return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3) return 0;
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4) return 0;
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        return 4;
    }
    return 0;
}

/* "Unexpected token X in JSON at position N" for the byte at `at`, or
 * "Unexpected end of JSON input" when at == end. The token is shown as
 * itself when it is a printable character (ASCII or one valid UTF-8
 * character), otherwise as \xNN so the message stays readable text. */
static const kiln_value *fail_at(parser *ps, const unsigned char *at)
{
    if (!ps->err) return NULL;
    if (at >= ps->end) {
        *ps->err = "Unexpected end of JSON input";
        return NULL;
    }
    char tok[8];
    size_t n = json_utf8_len(at, ps->end);
    if (n > 1) {
        memcpy(tok, at, n);
        tok[n] = '\0';
    } else if (*at > 0x20 && *at < 0x7F) {
        tok[0] = (char)*at;
        tok[1] = '\0';
    } else {
        snprintf(tok, sizeof tok, "\\x%02X", *at);
    }
    char msg[96];
    int len = snprintf(msg, sizeof msg, "Unexpected token %s in JSON at position %zu",
                       tok, (size_t)(at - ps->start));
    *ps->err = arena_strndup(ps->a, msg, (size_t)len);
    return NULL;
}

static const kiln_value *fail_depth(parser *ps, const unsigned char *at)
{
    if (!ps->err) return NULL;
    char msg[96];
    int len = snprintf(msg, sizeof msg,
                       "Maximum nesting depth of %d exceeded in JSON at position %zu",
                       JSON_MAX_DEPTH, (size_t)(at - ps->start));
    *ps->err = arena_strndup(ps->a, msg, (size_t)len);
    return NULL;
}

/* ---- Lexing ----------------------------------------------------------- */

static inline void skip_ws(parser *ps)
{
    const unsigned char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    ps->p = p;
}

/* 1 for bytes a string may hold with no further thought: printable ASCII
 * other than '"' and '\\'. Everything else takes the slow path. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                              /* 0x00..0x1F: controls */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2F, '"' out */
    R16(1), R16(1),                              /* 0x30..0x4F          */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50..0x5F, '\\' out */
    R16(1),                                      /* 0x60..0x6F          */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70..0x7F          */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

static int hexval(unsigned c)
{
    if (c - '0' < 10) return (int)(c - '0');
    c |= 0x20;
    if (c - 'a' < 6) return (int)(c - 'a' + 10);
    return -1;
}

/* The four hex digits at p (p + 4 <= end checked by the caller); -1 and
 * *bad = the first non-hex digit when they are not hex. */
static long hex4(const unsigned char *p, const unsigned char **bad)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) { *bad = p + i; return -1; }
        v = v << 4 | h;
    }
    return v;
}

static char *put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The first byte of p..end that is not plain string text (plain[]), or
 * end: eight bytes at a time where a word fits (json_word_special_mask's
 * lowest flagged byte is the first special one). */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t m = json_word_special_mask(w);
        if (m) return p + (__builtin_ctzll(m) >> 3);
    }
#endif
    while (p < end && plain[*p]) p++;
    return p;
}

/* A string; ps->p is on the opening quote. On success *out and *out_len get the
 * decoded, NUL-terminated copy and ps->p moves past the closing quote.
 *
 * Plain text up to the closing quote (no escape, no control character, no
 * byte above 0x7F) -- most strings -- is found in one scan and copied once.
 * Otherwise two passes: the first only finds where the string stops (the
 * closing quote or the end of input), so the copy can be sized once
 * (decoding never makes a string longer: \n is 2 -> 1 bytes, \uXXXX 6 -> at
 * most 3, a pair 12 -> 4); the second decodes and validates, so the first
 * error reported is the leftmost one. */
static bool parse_string(parser *ps, const char **out, size_t *out_len)
{
    const unsigned char *s = ps->p + 1, *end = ps->end, *stop = plain_run(s, end);
    if (stop < end && *stop == '"') {      /* the common case: plain text to the quote */
        size_t n = (size_t)(stop - s);
        char *dst = arena_alloc(ps->a, n + 1);
        memcpy(dst, s, n);
        dst[n] = '\0';
        *out = dst;
        *out_len = n;
        ps->p = stop + 1;
        return true;
    }
    while (stop < end && *stop != '"') {
        if (*stop == '\\' && end - stop < 2) { stop = end; break; }  /* final '\\' */
        stop += (*stop == '\\') ? 2 : 1;
        stop = plain_run(stop, end);
    }

    char *dst = arena_alloc(ps->a, (size_t)(stop - s) + 1), *o = dst;
    const unsigned char *p = s;
    while (p < stop) {
        const unsigned char *run = p;
        p = plain_run(p, stop);
        if (p > run) { memcpy(o, run, (size_t)(p - run)); o += p - run; }
        if (p >= stop) break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t n = json_utf8_len(p, stop);
            if (!n) { fail_at(ps, p); return false; }
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        if (c != '\\') { fail_at(ps, p); return false; }  /* a control char */
        if (p + 1 >= stop) { fail_at(ps, end); return false; }
        const unsigned char *esc = p;
        switch (p[1]) {
        case '"': *o++ = '"'; p += 2; continue;
        case '\\': *o++ = '\\'; p += 2; continue;
        case '/': *o++ = '/'; p += 2; continue;
        case 'b': *o++ = '\b'; p += 2; continue;
        case 'f': *o++ = '\f'; p += 2; continue;
        case 'n': *o++ = '\n'; p += 2; continue;
        case 'r': *o++ = '\r'; p += 2; continue;
        case 't': *o++ = '\t'; p += 2; continue;
        case 'u': break;
        default: fail_at(ps, p + 1); return false;
        }
        /* \uXXXX, maybe a surrogate pair. Lone surrogates are errors,
         * reported at the backslash of the escape that is wrong. */
        const unsigned char *bad = NULL;
        if (stop - p < 6) {
            /* Too short: name the first non-hex byte, the closing quote
             * or the end of input, whichever comes first. */
            for (p += 2; p < stop && hexval(*p) >= 0; p++) {}
            fail_at(ps, p);
            return false;
        }
        long cp = hex4(p + 2, &bad);
        if (cp < 0) { fail_at(ps, bad); return false; }
        p += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) { fail_at(ps, esc); return false; }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate needs a \\u low surrogate right after it. */
            if (stop - p < 6 || p[0] != '\\' || p[1] != 'u') {
                fail_at(ps, p);
                return false;
            }
            long lo = hex4(p + 2, &bad);
            if (lo < 0) { fail_at(ps, bad); return false; }
            if (lo < 0xDC00 || lo > 0xDFFF) { fail_at(ps, p); return false; }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        o = put_utf8(o, (unsigned long)cp);
    }
    if (stop >= end) { fail_at(ps, end); return false; }
    *o = '\0';
    *out = dst;
    *out_len = (size_t)(o - dst);
    ps->p = stop + 1;
    return true;
}

static inline bool is_digit(unsigned c) { return c - '0' < 10; }

/* A number by the RFC grammar:  -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 * The literal is copied (NUL-terminated) as v->str; v->num is its value,
 * computed exactly for short integers and by strtod otherwise. */
static bool parse_number(parser *ps, kiln_value *v)
{
    const unsigned char *s = ps->p, *p = s, *end = ps->end;
    bool simple = true;    /* only digits (and maybe a minus sign) */
    if (p < end && *p == '-') p++;
    if (p >= end) { fail_at(ps, p); return false; }
    if (*p == '0') {
        p++;
    } else if (is_digit(*p)) {
        while (p < end && is_digit(*p)) p++;
    } else {
        fail_at(ps, p);
        return false;
    }
    if (p < end && *p == '.') {
        simple = false;
        p++;
        if (p >= end || !is_digit(*p)) { fail_at(ps, p); return false; }
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        simple = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) { fail_at(ps, p); return false; }
        while (p < end && is_digit(*p)) p++;
    }
    size_t n = (size_t)(p - s);
    char *lit = arena_strndup(ps->a, (const char *)s, n);
    v->type = KILN_JSON_NUMBER;
    v->str = lit;
    v->len = n;
    if (simple && n - (*s == '-') <= 15) {
        /* At most 15 digits: exact in a double, no need for strtod. */
        const char *d = lit + (*lit == '-');
        double x = 0;
        for (; *d; d++) x = x * 10 + (*d - '0');
        v->num = *lit == '-' ? -x : x;
    } else {
        v->num = strtod(lit, NULL);
    }
    ps->p = p;
    return true;
}

/* true, false or null: compare byte by byte so the error names the first
 * byte that differs (or the end of input), as JSON.parse does. */
static bool parse_word(parser *ps, const char *word, kiln_json_type type, kiln_value *v)
{
    const unsigned char *p = ps->p;
    for (const char *w = word; *w; w++, p++) {
        if (p >= ps->end || *p != (unsigned char)*w) { fail_at(ps, p); return false; }
    }
    v->type = type;
    ps->p = p;
    return true;
}

/* An object key and its colon; ps->p is at the first byte to look at. */
static bool parse_key(parser *ps, const char **key, size_t *key_len)
{
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"') { fail_at(ps, ps->p); return false; }
    if (!parse_string(ps, key, key_len)) return false;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') { fail_at(ps, ps->p); return false; }
    ps->p++;
    return true;
}

/* Put the children of a closed container back in document order. */
static void reverse_children(kiln_value *c)
{
    kiln_value *prev = NULL, *n = c->child;
    while (n) {
        kiln_value *next = n->next;
        n->next = prev;
        prev = n;
        n = next;
    }
    c->child = prev;
}

const kiln_value *json_parse(arena *a, const char *text, size_t len, const char **err)
{
    if (!text) text = "", len = 0;   /* no body at all: "Unexpected end" */
    parser ps = {
        .start = (const unsigned char *)text,
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .a = a,
        .err = err,
    };
    kiln_value *parent = NULL;   /* the innermost open container */
    int depth = 0;
    const char *key = NULL;     /* the key of the value about to be parsed */
    size_t key_len = 0;

    for (;;) {
        /* ---- one value ---- */
        skip_ws(&ps);
        if (ps.p >= ps.end) return fail_at(&ps, ps.end);
        kiln_value *v = arena_alloc(a, sizeof *v);
        *v = (kiln_value){ .key = key, .key_len = key_len };
        key = NULL;
        key_len = 0;
        unsigned c = *ps.p;
        if (c == '{' || c == '[') {
            if (++depth > JSON_MAX_DEPTH) return fail_depth(&ps, ps.p);
            v->type = c == '{' ? KILN_JSON_OBJECT : KILN_JSON_ARRAY;
            ps.p++;
            skip_ws(&ps);
            if (ps.p < ps.end && *ps.p == (c == '{' ? '}' : ']')) {
                ps.p++;             /* empty: closed at once */
                depth--;
            } else {
                v->next = parent;   /* open: `next` is the parent for now */
                parent = v;
                if (c == '{' && !parse_key(&ps, &key, &key_len)) return NULL;
                continue;
            }
        } else if (c == '"') {
            v->type = KILN_JSON_STRING;
            if (!parse_string(&ps, &v->str, &v->len)) return NULL;
        } else if (c == '-' || is_digit(c)) {
            if (!parse_number(&ps, v)) return NULL;
        } else if (c == 't') {
            if (!parse_word(&ps, "true", KILN_JSON_TRUE, v)) return NULL;
        } else if (c == 'f') {
            if (!parse_word(&ps, "false", KILN_JSON_FALSE, v)) return NULL;
        } else if (c == 'n') {
            if (!parse_word(&ps, "null", KILN_JSON_NULL, v)) return NULL;
        } else {
            return fail_at(&ps, ps.p);
        }

        /* ---- v is complete: attach it, then close what it completes ---- */
        for (;;) {
            if (!parent) {
                skip_ws(&ps);
                if (ps.p < ps.end) return fail_at(&ps, ps.p);
                return v;
            }
            v->next = parent->child;
            parent->child = v;
            parent->len++;
            skip_ws(&ps);
            if (ps.p >= ps.end) return fail_at(&ps, ps.end);
            bool obj = parent->type == KILN_JSON_OBJECT;
            if (*ps.p == ',') {
                ps.p++;
                if (obj && !parse_key(&ps, &key, &key_len)) return NULL;
                break;              /* on to the next value */
            }
            if (*ps.p != (obj ? '}' : ']')) return fail_at(&ps, ps.p);
            ps.p++;
            v = parent;
            parent = v->next;
            v->next = NULL;
            reverse_children(v);
            depth--;
        }
    }
}

/* ---- Public accessors ------------------------------------------------- */

const kiln_value *kiln_json_get(const kiln_value *obj, const char *key)
{
    if (!obj || obj->type != KILN_JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    const kiln_value *found = NULL;
    /* The last one wins, like JavaScript's JSON.parse. */
    for (const kiln_value *m = obj->child; m; m = m->next)
        if (m->key_len == n && m->key && memcmp(m->key, key, n) == 0) found = m;
    return found;
}

const kiln_value *kiln_json_at(const kiln_value *arr, size_t i)
{
    if (!arr || arr->type != KILN_JSON_ARRAY || i >= arr->len) return NULL;
    const kiln_value *e = arr->child;
    while (e && i--) e = e->next;
    return e;
}

const char *kiln_json_str(const kiln_value *v)
{
    return v && v->type == KILN_JSON_STRING ? v->str : NULL;
}

/* Only integral literals: an optional '-' and digits, nothing else, computed
 * exactly (never through the double) and range-checked. "-0" is 0. */
bool kiln_json_i64(const kiln_value *v, int64_t *out)
{
    if (!v || v->type != KILN_JSON_NUMBER || !v->str || !v->len) return false;
    const char *p = v->str, *end = v->str + v->len;
    bool neg = *p == '-';
    if (neg) p++;
    if (p >= end) return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t x = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned char)*p - '0';
        if (d > 9) return false;
        if (x > (limit - d) / 10) return false;
        x = x * 10 + d;
    }
    if (out) *out = !neg ? (int64_t)x : x > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)x;
    return true;
}

kiln_str kiln_json_text(const kiln_value *v)
{
    if (!v || v->type != KILN_JSON_STRING) return (kiln_str){ NULL, 0 };
    return (kiln_str){ v->str, v->len };
}
