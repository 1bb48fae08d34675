/*
 * write.c -- Kiln's JSON writer: the jw_* calls, json_escape, and jw_fmt,
 * the template engine behind kiln_json(res, 200, "{message: %s}", msg).
 *
 * What it does. Every call appends straight to a caller-owned buf. A jw_state
 * remembers, per open container, whether it is an object and whether an item
 * was already written, so commas and colons are placed for the caller; each
 * value call starts with before_value(), which writes the comma (arrays) or
 * consumes the pending key (objects).
 *
 * Strings: json_escape() escapes '"', '\\' and control characters, keeps valid
 * UTF-8 as is, writes \uFFFD for every byte that is not part of a valid UTF-8
 * sequence, and escapes U+2028/U+2029 (valid JSON, but not valid JavaScript
 * source) so the output is always valid JSON and safe to embed in a script.
 *
 * Templates (jw_fmt): the template is walked once, byte by byte, by a small
 * state machine that copies the structure (brackets, commas, colons,
 * literals) to the output, quotes bare keys, drops whitespace, and expands
 * each conversion from the va_list. There is no pre-parse and no cache: a
 * template like "{message: %s}" costs a dozen branches plus the escaping.
 * The whole template is checked as it is walked; a malformed template is a
 * bug in the program, so it panics with the template text.
 *
 * Owns: nothing (the output buf belongs to the caller; jw_value may borrow a
 * heap stack for very deep trees and frees it before returning).
 * Must never: write invalid JSON for a well-formed call sequence, or recurse
 * over a tree (jw_value walks iteratively, any depth).
 */
#include "json/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- Output helpers --------------------------------------------------- */

static inline void put_c(buf *b, char c)
{
    if (LIKELY(b->len < b->cap)) b->data[b->len++] = c;
    else buf_putc(b, c);
}

#define PUT_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

static void put_int(buf *b, long long v)
{
    if (v < 0) {
        put_c(b, '-');
        buf_put_u64(b, 0ULL - (unsigned long long)v);
    } else {
        buf_put_u64(b, (unsigned long long)v);
    }
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double
 * (%.17g always does). Integral values up to 2^53 are written as integers
 * ("1", not "1.0"; -0 as "0", like JavaScript). Non-finite -> null. */
static void put_double(buf *b, double v)
{
    if (!isfinite(v)) { PUT_LIT(b, "null"); return; }
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(long long)v) {
        put_int(b, (long long)v);
        return;
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) {
        n = snprintf(tmp, sizeof tmp, "%.16g", v);
        if (strtod(tmp, NULL) != v) n = snprintf(tmp, sizeof tmp, "%.17g", v);
    }
    for (int i = 0; i < n; i++)
        if (tmp[i] == ',') tmp[i] = '.';   /* a locale with a decimal comma */
    buf_append(b, tmp, (size_t)n);
}

/* ---- Escaping --------------------------------------------------------- */

/* Per byte: 0 = copy as is; 'u' = \u00XX; another letter = that short escape
 * (\n, \", ...); 1 = first byte of a (maybe) multi-byte UTF-8 sequence. */
static const unsigned char esc_class[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"', ['\\'] = '\\',
    [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Writes the body of a JSON string (no quotes); script_safe: U+2028 and
 * U+2029 escaped too. */
static void escape_body(buf *out, const unsigned char *p, const unsigned char *end, bool script_safe)
{
    static const char hex[] = "0123456789abcdef";
    while (p < end) {
        /* A run of bytes that need no escaping, valid UTF-8 included. */
        const unsigned char *run = p;
        size_t n = 0;
        for (;;) {
            while (p < end && esc_class[*p] == 0) p++;
            if (p >= end || esc_class[*p] != 1) break;
            n = json_utf8_len(p, end);
            /* Stop at invalid bytes and at U+2028/U+2029 (E2 80 A8/A9). */
            if (!n || (script_safe && n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] & 0xFE) == 0xA8)) break;
            p += n;
        }
        if (p > run) buf_append(out, run, (size_t)(p - run));
        if (p >= end) break;

        unsigned c = *p, e = esc_class[c];
        if (e == 1 && !n) {                    /* an invalid byte */
            PUT_LIT(out, "\\uFFFD");
            p++;
        } else if (e == 1) {                   /* U+2028 or U+2029 */
            buf_append(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            p += 3;
        } else if (e == 'u') {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_append(out, u, 6);
            p++;
        } else {
            char s[2] = { '\\', (char)e };
            buf_append(out, s, 2);
            p++;
        }
    }
}

static void escape_string(buf *out, const char *s, size_t n, bool script_safe)
{
    buf_reserve(out, n + 2);
    /* Most strings (names, titles, ids) need no escaping at all: copy while
     * checking, eight bytes at a time, and hand the rest to escape_body
     * from the first byte that may need it. */
    const unsigned char *p = (const unsigned char *)s;
    char *d = out->data + out->len + 1;
    size_t i = 0;
    out->data[out->len] = '"';
    if (n >= 8) {
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (json_word_special(w)) break;
            memcpy(d + i, &w, 8);
        }
        if (i < n && i + 8 > n) {             /* a tail: the last 8, overlapping */
            uint64_t w;
            memcpy(&w, p + n - 8, 8);
            if (!json_word_special(w)) { memcpy(d + n - 8, &w, 8); i = n; }
        }
    } else if (n >= 4) {                       /* the first 4 and the last 4 */
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        const uint64_t pad = 0x6161616100000000ull;   /* "aaaa": never special */
        if (!json_word_special(a | pad) && !json_word_special(b | pad)) {
            memcpy(d, &a, 4);
            memcpy(d + n - 4, &b, 4);
            i = n;
        }
    }
    for (; i < n && !esc_class[p[i]]; i++) d[i] = (char)p[i];
    out->len += 1 + i;
    if (i < n) escape_body(out, p + i, p + n, script_safe);
    put_c(out, '"');
}

void json_escape(buf *out, const char *s, size_t n) { escape_string(out, s, n, true); }
void json_escape_stringify(buf *out, const char *s, size_t n) { escape_string(out, s, n, false); }

/* ---- Trees ------------------------------------------------------------ */

/* Writes a parsed tree without recursion: `stack` holds the open containers
 * (on the C stack up to 32 deep, then on the heap). Only the children of
 * the root are followed, never the root's own siblings, so any member of a
 * tree (kiln_json_get's answer, say) can be written on its own. */
static void write_tree(buf *out, const kiln_value *v)
{
    const kiln_value *small[32], **stack = small;
    size_t top = 0, cap = ARRAY_LEN(small);

    if (!v) { PUT_LIT(out, "null"); return; }
    for (;;) {
        switch (v->type) {
        case KILN_JSON_TRUE: PUT_LIT(out, "true"); break;
        case KILN_JSON_FALSE: PUT_LIT(out, "false"); break;
        case KILN_JSON_NUMBER:
            if (v->str && v->len) buf_append(out, v->str, v->len);
            else put_double(out, v->num);
            break;
        case KILN_JSON_STRING:
            if (v->str) json_escape(out, v->str, v->len);
            else PUT_LIT(out, "null");
            break;
        case KILN_JSON_ARRAY:
        case KILN_JSON_OBJECT: {
            bool obj = v->type == KILN_JSON_OBJECT;
            put_c(out, obj ? '{' : '[');
            if (!v->child) { put_c(out, obj ? '}' : ']'); break; }
            if (top == cap) {
                cap *= 2;
                if (stack == small) {
                    stack = kiln_xmalloc(cap * sizeof *stack);
                    memcpy(stack, small, sizeof small);
                } else {
                    stack = kiln_xrealloc(stack, cap * sizeof *stack);
                }
            }
            stack[top++] = v;
            v = v->child;
            if (obj) {
                json_escape(out, v->key ? v->key : "", v->key ? v->key_len : 0);
                put_c(out, ':');
            }
            continue;
        }
        case KILN_JSON_NULL:
        default: PUT_LIT(out, "null"); break;   /* NULL, or a type we do not know */
        }
        /* v is written: go to its next sibling, closing finished containers. */
        for (;;) {
            if (top == 0) {
                if (stack != small) free(stack);
                return;
            }
            const kiln_value *parent = stack[top - 1];
            bool obj = parent->type == KILN_JSON_OBJECT;
            if (v->next) {
                v = v->next;
                put_c(out, ',');
                if (obj) {
                    json_escape(out, v->key ? v->key : "", v->key ? v->key_len : 0);
                    put_c(out, ':');
                }
                break;
            }
            put_c(out, obj ? '}' : ']');
            v = parent;
            top--;
        }
    }
}

/* ---- The writer state ------------------------------------------------- */

void jw_init(jw_state *w, buf *out)
{
    w->out = out;
    w->depth = 0;
    w->after_key = false;
}

/* Comma before an array element; inside an object, the value of the key
 * just written. At depth 0 values are simply written one after another. */
static inline void before_value(jw_state *w)
{
    if (w->depth == 0) return;
    int d = w->depth - 1;
    if (w->is_obj[d]) {
        if (UNLIKELY(!w->after_key)) KILN_PANIC("jw: a value inside an object needs jw_key first");
        w->after_key = false;
    } else {
        if (!w->first[d]) put_c(w->out, ',');
        w->first[d] = 0;
    }
}

static void begin(jw_state *w, bool obj)
{
    before_value(w);
    if (UNLIKELY(w->depth >= JW_MAX_DEPTH)) KILN_PANIC("jw: nesting deeper than %d", JW_MAX_DEPTH);
    w->is_obj[w->depth] = obj;
    w->first[w->depth] = 1;
    w->depth++;
    put_c(w->out, obj ? '{' : '[');
}

void jw_begin_object(jw_state *w) { begin(w, true); }
void jw_begin_array(jw_state *w) { begin(w, false); }

void jw_end(jw_state *w)
{
    if (UNLIKELY(w->depth == 0)) KILN_PANIC("jw_end: nothing is open");
    if (UNLIKELY(w->after_key)) KILN_PANIC("jw_end: a key is waiting for its value");
    w->depth--;
    put_c(w->out, w->is_obj[w->depth] ? '}' : ']');
}

void jw_key(jw_state *w, const char *k, size_t n)
{
    int d = w->depth - 1;
    if (UNLIKELY(d < 0 || !w->is_obj[d])) KILN_PANIC("jw_key: not inside an object");
    if (UNLIKELY(w->after_key)) KILN_PANIC("jw_key: the previous key has no value");
    if (!w->first[d]) put_c(w->out, ',');
    w->first[d] = 0;
    json_escape(w->out, k ? k : "", k ? n : 0);
    put_c(w->out, ':');
    w->after_key = true;
}

void jw_string(jw_state *w, const char *s, size_t n)
{
    before_value(w);
    if (s) json_escape(w->out, s, n);
    else PUT_LIT(w->out, "null");
}

void jw_int(jw_state *w, long long v) { before_value(w); put_int(w->out, v); }
void jw_uint(jw_state *w, unsigned long long v) { before_value(w); buf_put_u64(w->out, v); }
void jw_double(jw_state *w, double v) { before_value(w); put_double(w->out, v); }

void jw_bool(jw_state *w, bool v)
{
    before_value(w);
    if (v) PUT_LIT(w->out, "true");
    else PUT_LIT(w->out, "false");
}

void jw_null(jw_state *w) { before_value(w); PUT_LIT(w->out, "null"); }
void jw_value(jw_state *w, const kiln_value *v) { before_value(w); write_tree(w->out, v); }

void jw_raw(jw_state *w, const char *s, size_t n)
{
    before_value(w);
    if (s) buf_append(w->out, s, n);
    else PUT_LIT(w->out, "null");
}

/* ---- Templates -------------------------------------------------------- */

#define TPL_MAX_DEPTH 64   /* nesting inside one template (a 64-bit mask) */

_Noreturn static void tpl_panic(const char *tmpl, const char *at, const char *why)
{
    KILN_PANIC("jw_fmt: %s at offset %zu of template: %s", why, (size_t)(at - tmpl), tmpl);
}

static inline bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static inline bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
static inline bool is_dig(char c) { return c >= '0' && c <= '9'; }

/* A string literal of the template, copied as written (it is assumed to be
 * valid JSON) except that "%%" becomes '%'. Any other '%' inside a string is
 * an error: conversions stand for whole values. Returns the byte after the
 * closing quote. */
static const char *tpl_string(buf *out, const char *tmpl, const char *p)
{
    const char *q = p + 1, *run = p;
    for (;;) {
        char c = *q;
        if (c == '"') break;
        if (c == '\0') tpl_panic(tmpl, p, "unterminated string");
        if (c == '\\') {
            if (q[1] == '\0') tpl_panic(tmpl, p, "unterminated string");
            q += 2;
        } else if (c == '%') {
            if (q[1] != '%') tpl_panic(tmpl, q, "conversion inside a string literal (write %% for '%')");
            buf_append(out, run, (size_t)(q + 1 - run));  /* up to the first '%' */
            q += 2;
            run = q;
        } else {
            q++;
        }
    }
    buf_append(out, run, (size_t)(q + 1 - run));        /* with the quote */
    return q + 1;
}

/* A number literal of the template, checked against the JSON grammar. */
static const char *tpl_number(buf *out, const char *tmpl, const char *p)
{
    const char *q = p;
    if (*q == '-') q++;
    if (*q == '0') q++;
    else if (is_dig(*q)) while (is_dig(*q)) q++;
    else tpl_panic(tmpl, p, "bad number");
    if (*q == '.') {
        if (!is_dig(*++q)) tpl_panic(tmpl, p, "bad number");
        while (is_dig(*q)) q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!is_dig(*q)) tpl_panic(tmpl, p, "bad number");
        while (is_dig(*q)) q++;
    }
    if (is_ident(*q) || *q == '.') tpl_panic(tmpl, p, "bad number");
    buf_append(out, p, (size_t)(q - p));
    return q;
}

/* One conversion at p ('%'); consumes its argument. Returns the next byte. */
static const char *tpl_conv(buf *out, const char *tmpl, const char *p, va_list *ap)
{
    switch (p[1]) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (s) json_escape(out, s, strlen(s));
        else PUT_LIT(out, "null");
        return p + 2;
    }
    case 'S': {
        kiln_str s = va_arg(*ap, kiln_str);
        if (s.ptr) json_escape(out, s.ptr, s.len);
        else PUT_LIT(out, "null");
        return p + 2;
    }
    case 'd': put_int(out, va_arg(*ap, int)); return p + 2;
    case 'u': buf_put_u64(out, va_arg(*ap, unsigned)); return p + 2;
    case 'g': put_double(out, va_arg(*ap, double)); return p + 2;
    case 'b':
        if (va_arg(*ap, int)) PUT_LIT(out, "true");
        else PUT_LIT(out, "false");
        return p + 2;
    case 'j': write_tree(out, va_arg(*ap, const kiln_value *)); return p + 2;
    case 'r': {
        const char *s = va_arg(*ap, const char *);
        if (s) buf_puts(out, s);
        else PUT_LIT(out, "null");
        return p + 2;
    }
    case 'l':
        if (p[2] == 'd') { put_int(out, va_arg(*ap, long)); return p + 3; }
        if (p[2] == 'u') { buf_put_u64(out, va_arg(*ap, unsigned long)); return p + 3; }
        if (p[2] == 'l' && p[3] == 'd') { put_int(out, va_arg(*ap, long long)); return p + 4; }
        if (p[2] == 'l' && p[3] == 'u') { buf_put_u64(out, va_arg(*ap, unsigned long long)); return p + 4; }
        break;
    case '%':
        tpl_panic(tmpl, p, "%% stands for '%' inside a string literal, not for a value");
    default:
        break;
    }
    tpl_panic(tmpl, p, "unknown conversion");
}

/* Where the walk is: what the next non-blank byte of the template may be. */
enum tpl_state {
    T_VALUE,            /* a value                              */
    T_VALUE_OR_CLOSE,   /* a value or ']' (just after '[')      */
    T_KEY,              /* a key (after ',' in an object)       */
    T_KEY_OR_CLOSE,     /* a key or '}' (just after '{')        */
    T_COLON,            /* ':' after a key                      */
    T_NEXT,             /* ',' or the closing bracket           */
    T_DONE,             /* the value is complete: only blanks   */
};

void jw_fmt(jw_state *w, const char *tmpl, va_list *ap)
{
    before_value(w);
    buf *out = w->out;
    const char *p = tmpl;
    uint64_t objs = 0;  /* bit i set: template level i is an object */
    int depth = 0;
    enum tpl_state st = T_VALUE;

    for (;;) {
        char c = *p;
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') { p++; continue; }
        if (c == '\0') {
            if (st != T_DONE) tpl_panic(tmpl, p, "unexpected end (unbalanced brackets?)");
            return;
        }
        switch (st) {
        case T_DONE:
            tpl_panic(tmpl, p, "text after the value");
        case T_COLON:
            if (c != ':') tpl_panic(tmpl, p, "missing ':' after a key");
            put_c(out, ':');
            p++;
            st = T_VALUE;
            continue;
        case T_NEXT:
            if (c == ',') {
                put_c(out, ',');
                p++;
                st = (objs >> (depth - 1) & 1) ? T_KEY : T_VALUE;
                continue;
            }
            break;                           /* a closing bracket, below */
        case T_KEY_OR_CLOSE:
            if (c == '}') break;
            __attribute__((fallthrough));
        case T_KEY:
            if (c == '"') {
                p = tpl_string(out, tmpl, p);
            } else if (is_ident_start(c)) {
                const char *q = p + 1;
                while (is_ident(*q)) q++;
                put_c(out, '"');
                buf_append(out, p, (size_t)(q - p));
                put_c(out, '"');
                p = q;
            } else {
                tpl_panic(tmpl, p, "expected a key");
            }
            st = T_COLON;
            continue;
        case T_VALUE_OR_CLOSE:
            if (c == ']') break;
            __attribute__((fallthrough));
        case T_VALUE:
            if (c == '{' || c == '[') {
                if (depth == TPL_MAX_DEPTH) tpl_panic(tmpl, p, "nested too deep");
                if (c == '{') objs |= (uint64_t)1 << depth;
                else objs &= ~((uint64_t)1 << depth);
                depth++;
                put_c(out, c);
                p++;
                st = c == '{' ? T_KEY_OR_CLOSE : T_VALUE_OR_CLOSE;
                continue;
            }
            if (c == '%') {
                p = tpl_conv(out, tmpl, p, ap);
            } else if (c == '"') {
                p = tpl_string(out, tmpl, p);
            } else if (c == '-' || is_dig(c)) {
                p = tpl_number(out, tmpl, p);
            } else if (is_ident_start(c)) {
                const char *q = p + 1;
                while (is_ident(*q)) q++;
                size_t n = (size_t)(q - p);
                if (!((n == 4 && !memcmp(p, "true", 4)) || (n == 5 && !memcmp(p, "false", 5)) ||
                      (n == 4 && !memcmp(p, "null", 4))))
                    tpl_panic(tmpl, p, "unknown literal (keys go before ':')");
                buf_append(out, p, n);
                p = q;
            } else {
                tpl_panic(tmpl, p, "expected a value");
            }
            st = depth ? T_NEXT : T_DONE;
            continue;
        }
        /* A closing bracket: it must match the innermost open one. */
        if (depth == 0) tpl_panic(tmpl, p, "unbalanced brackets");
        char want = (objs >> (depth - 1) & 1) ? '}' : ']';
        if (c != want) tpl_panic(tmpl, p, want == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        put_c(out, c);
        p++;
        depth--;
        st = depth ? T_NEXT : T_DONE;
    }
}
