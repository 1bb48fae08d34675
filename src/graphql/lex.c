/*
 * lex.c -- the GraphQL lexer (October 2021 spec, section 2.1), token by
 * token on demand, with graphql-js 16's error messages word for word.
 *
 * What it does. gql_lex_advance() reads the next significant token from the
 * source (white space, commas, the BOM and comments are skipped), decoding
 * string values (every escape of the spec: \" \\ \/ \b \f \n \r \t, \uXXXX
 * with JSON-style surrogate pairs, \u{...}) and block strings (the spec's
 * BlockStringValue() dedent, \""" escapes). Names, ints and floats are slices
 * of the source; strings without escapes too; other strings are decoded into
 * the arena.
 *
 * Differences from graphql-js come only from the encoding: the source is
 * UTF-8 bytes, not UTF-16. A byte that is not valid UTF-8 is reported as
 * "Invalid character: 0xNN." (graphql-js would see U+FFFD after decoding);
 * columns are still counted in UTF-16 code units so locations agree.
 *
 * Errors long-jump back to gql_parse() (parse.c) through lx->jump: every
 * allocation is in the caller's arena, so nothing leaks.
 *
 * Owns: nothing. Must never: read outside src[0..len), allocate outside the
 * arena, or accept a token graphql-js rejects.
 */
#include "graphql/gql.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- Errors and locations --------------------------------------------- */

void gql_location(const char *src, size_t len, uint32_t offset, uint32_t *line, uint32_t *column)
{
    /* graphql-js: walk the line terminators before the position. A \r\n
     * whose \r is before the position counts as a line even if the position
     * is its \n (then the column is 0, as there). */
    uint32_t ln = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < len && i < offset; i++) {
        if (src[i] == '\n' || src[i] == '\r') {
            size_t w = (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n') ? 2 : 1;
            ln++;
            line_start = i + w;
            i += w - 1;
        }
    }
    *line = ln;
    /* Column: UTF-16 units from the line start to the position, plus one. */
    if (line_start > offset) { *column = 0; return; }
    size_t end = offset < len ? offset : len;
    *column = (uint32_t)(gql_utf16_len(src + line_start, end - line_start) + 1 + (offset - end));
}

static _Noreturn void fail_with(gql_lexer *lx, uint32_t at, buf *b)
{
    lx->err->message = arena_strndup(lx->a, b->data, b->len);
    lx->err->message_len = b->len;
    buf_free(b);
    lx->err->offset = at;
    gql_location(lx->src, lx->len, at, &lx->err->line, &lx->err->column);
    longjmp(*(jmp_buf *)lx->jump, 1);
}

void gql_lex_fail(gql_lexer *lx, uint32_t at, const char *fmt, ...)
{
    buf b;
    buf_init(&b, 128);
    buf_puts(&b, "Syntax Error: ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    fail_with(lx, at, &b);
}

void gql_fail_parts(gql_lexer *lx, uint32_t at, int n, const kiln_str *parts)
{
    buf b;
    buf_init(&b, 128);
    buf_puts(&b, "Syntax Error: ");
    for (int i = 0; i < n; i++) buf_append(&b, parts[i].ptr, parts[i].len);
    fail_with(lx, at, &b);
}

/* ---- UTF-8 / UTF-16 helpers -------------------------------------------- */

/* Decode the valid UTF-8 sequence at p (n bytes from json_utf8_len). */
static uint32_t decode(const unsigned char *p, size_t n)
{
    switch (n) {
    case 1: return p[0];
    case 2: return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    case 3: return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    default: return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    }
}

/* Length of the character at src[at] (at < len): its UTF-8 length, or 0
 * for a byte that starts no valid sequence. */
static size_t char_len(const gql_lexer *lx, uint32_t at)
{
    const unsigned char *p = (const unsigned char *)lx->src + at;
    return json_utf8_len(p, (const unsigned char *)lx->src + lx->len);
}

size_t gql_utf16_len(const char *s, size_t n)
{
    size_t units = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        size_t w = json_utf8_len(p, end);
        if (w == 0) w = 1;          /* an invalid byte: one U+FFFD          */
        units += w == 4 ? 2 : 1;
        p += w;
    }
    return units;
}

uint32_t gql_utf16_span(const char *s, uint32_t len, uint32_t at, uint32_t n)
{
    const unsigned char *p = (const unsigned char *)s + at, *end = (const unsigned char *)s + len;
    const unsigned char *q = p;
    while (n > 0 && q < end) {
        size_t w = json_utf8_len(q, end);
        if (w == 0) w = 1;
        n -= (w == 4 && n >= 2) ? 2 : 1;
        q += w;
    }
    return (uint32_t)(q - p);
}

/* graphql-js's printCodePointAt: <EOF>, "c" for printable ASCII ('"' for
 * the quote), U+XXXX otherwise; 0xNN for a byte that is not UTF-8. */
static const char *code_point_at(gql_lexer *lx, uint32_t at)
{
    char tmp[16];
    if (at >= lx->len) return "<EOF>";
    unsigned char c = (unsigned char)lx->src[at];
    if (c >= 0x20 && c <= 0x7E) {
        if (c == '"') return "'\"'";
        snprintf(tmp, sizeof tmp, "\"%c\"", c);
    } else {
        size_t n = char_len(lx, at);
        if (n == 0) snprintf(tmp, sizeof tmp, "0x%02X", c);
        else snprintf(tmp, sizeof tmp, "U+%04X", (unsigned)decode((const unsigned char *)lx->src + at, n));
    }
    return arena_strdup(lx->a, tmp);
}

/* ---- Token descriptions -------------------------------------------------- */

static const char *const kind_text[] = {
    "<SOF>", "<EOF>", "!", "$", "&", "(", ")", "...", ":", "=", "@", "[", "]",
    "{", "|", "}", "Name", "Int", "Float", "String", "BlockString", "Comment",
};
static const char *const kind_quoted[] = {
    NULL, NULL, "\"!\"", "\"$\"", "\"&\"", "\"(\"", "\")\"", "\"...\"", "\":\"", "\"=\"",
    "\"@\"", "\"[\"", "\"]\"", "\"{\"", "\"|\"", "\"}\"",
};

const char *gql_tok_kind_desc(gql_tok k)
{
    return (k >= GQL_T_BANG && k <= GQL_T_BRACE_R) ? kind_quoted[k] : kind_text[k];
}

kiln_str gql_token_desc(gql_lexer *lx, const gql_token *t)
{
    const char *kind = gql_tok_kind_desc(t->kind);
    if (t->kind < GQL_T_NAME || t->kind == GQL_T_COMMENT) return gql_cstr(kind);
    size_t kl = strlen(kind);
    char *s = arena_alloc(lx->a, kl + t->value.len + 4);
    memcpy(s, kind, kl);
    s[kl] = ' ';
    s[kl + 1] = '"';
    if (t->value.len) memcpy(s + kl + 2, t->value.ptr, t->value.len);
    s[kl + 2 + t->value.len] = '"';
    s[kl + 3 + t->value.len] = '\0';
    return (kiln_str){ s, kl + 3 + t->value.len };
}

/* ---- Numbers, names ------------------------------------------------------ */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_name_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_name_char(int c) { return is_name_start(c) || is_digit(c); }

/* The byte at i, or -1 past the end (graphql-js's NaN). */
static int at(const gql_lexer *lx, uint32_t i) { return i < lx->len ? (unsigned char)lx->src[i] : -1; }

static uint32_t read_digits(gql_lexer *lx, uint32_t pos)
{
    if (!is_digit(at(lx, pos)))
        gql_lex_fail(lx, pos, "Invalid number, expected digit but got: %s.", code_point_at(lx, pos));
    pos++;
    while (is_digit(at(lx, pos))) pos++;
    return pos;
}

static gql_token read_number(gql_lexer *lx, uint32_t start)
{
    uint32_t pos = start;
    bool is_float = false;
    if (at(lx, pos) == '-') pos++;
    if (at(lx, pos) == '0') {
        pos++;
        if (is_digit(at(lx, pos)))
            gql_lex_fail(lx, pos, "Invalid number, unexpected digit after 0: %s.", code_point_at(lx, pos));
    } else {
        pos = read_digits(lx, pos);
    }
    if (at(lx, pos) == '.') {
        is_float = true;
        pos = read_digits(lx, pos + 1);
    }
    if (at(lx, pos) == 'E' || at(lx, pos) == 'e') {
        is_float = true;
        pos++;
        if (at(lx, pos) == '+' || at(lx, pos) == '-') pos++;
        pos = read_digits(lx, pos);
    }
    if (at(lx, pos) == '.' || is_name_start(at(lx, pos)))
        gql_lex_fail(lx, pos, "Invalid number, expected digit but got: %s.", code_point_at(lx, pos));
    return (gql_token){ is_float ? GQL_T_FLOAT : GQL_T_INT, start, pos, { lx->src + start, pos - start } };
}

/* ---- Strings ------------------------------------------------------------- */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* graphql-js's read16BitHexCode: -1 when any of the 4 is not hex. */
static int32_t hex4(const gql_lexer *lx, uint32_t pos)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(at(lx, pos + (uint32_t)i));
        if (d < 0) return -1;
        v = (v << 4) | d;
    }
    return v;
}

static bool is_scalar(int64_t cp) { return (cp >= 0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0x10FFFF); }

static void put_utf8(buf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) { s[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | (cp >> 12)); s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        s[0] = (char)(0xF0 | (cp >> 18)); s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    buf_append(b, s, n);
}

/* Fail with `what: "<the next n UTF-16 units from pos>".` */
static _Noreturn void fail_slice(gql_lexer *lx, uint32_t pos, uint32_t units, const char *what)
{
    uint32_t n = gql_utf16_span(lx->src, lx->len, pos, units);
    GQL_FAIL(lx, pos, gql_cstr(what), GQL_S(": \""), ((kiln_str){ lx->src + pos, n }), GQL_S("\"."));
}

/* One escape sequence at pos (the backslash). Appends the character to out
 * when out is given; returns its length in bytes. */
static uint32_t read_escape(gql_lexer *lx, uint32_t pos, buf *out)
{
    int c = at(lx, pos + 1);
    if (c == 'u' && at(lx, pos + 2) == '{') {
        /* \u{...}: at most 12 units in all, at least \u{0}. */
        uint32_t point = 0, size = 3;
        while (size < 12) {
            int ch = at(lx, pos + size++);
            if (ch == '}') {
                if (size < 5 || !is_scalar(point)) break;
                if (out) put_utf8(out, point);
                return size;
            }
            int d = hex_digit(ch);
            if (d < 0 || point > 0x07FFFFFFu) break;   /* JS int32 went negative */
            point = (point << 4) | (uint32_t)d;
        }
        fail_slice(lx, pos, size, "Invalid Unicode escape sequence");
    }
    if (c == 'u') {
        int32_t code = hex4(lx, pos + 2);
        if (is_scalar(code)) {
            if (out) put_utf8(out, (uint32_t)code);
            return 6;
        }
        if (code >= 0xD800 && code <= 0xDBFF && at(lx, pos + 6) == '\\' && at(lx, pos + 7) == 'u') {
            int32_t trail = hex4(lx, pos + 8);
            if (trail >= 0xDC00 && trail <= 0xDFFF) {
                if (out) put_utf8(out, 0x10000u + (((uint32_t)code - 0xD800u) << 10) + ((uint32_t)trail - 0xDC00u));
                return 12;
            }
        }
        fail_slice(lx, pos, 6, "Invalid Unicode escape sequence");
    }
    char v;
    switch (c) {
    case '"': v = '"'; break;
    case '\\': v = '\\'; break;
    case '/': v = '/'; break;
    case 'b': v = '\b'; break;
    case 'f': v = '\f'; break;
    case 'n': v = '\n'; break;
    case 'r': v = '\r'; break;
    case 't': v = '\t'; break;
    default: fail_slice(lx, pos, 2, "Invalid character escape sequence");
    }
    if (out) buf_putc(out, v);
    return 2;
}

/* A "string". First pass checks it and finds its end; a second pass decodes
 * it only when it holds escapes (the value is then built in a temporary buf
 * and copied to the arena: no error can happen in the second pass). */
static gql_token read_string(gql_lexer *lx, uint32_t start)
{
    uint32_t pos = start + 1;
    bool escapes = false;
    for (;;) {
        int c = at(lx, pos);
        if (c < 0 || c == '\n' || c == '\r') gql_lex_fail(lx, pos, "Unterminated string.");
        if (c == '"') break;
        if (c == '\\') { escapes = true; pos += read_escape(lx, pos, NULL); continue; }
        size_t n = char_len(lx, pos);
        if (n == 0) gql_lex_fail(lx, pos, "Invalid character within String: %s.", code_point_at(lx, pos));
        pos += (uint32_t)n;
    }
    gql_token t = { GQL_T_STRING, start, pos + 1, { lx->src + start + 1, pos - start - 1 } };
    if (escapes) {
        buf b;
        buf_init(&b, pos - start);
        for (uint32_t i = start + 1; i < pos;) {
            if (lx->src[i] == '\\') i += read_escape(lx, i, &b);
            else buf_putc(&b, lx->src[i++]);
        }
        t.value.ptr = arena_strndup(lx->a, b.data ? b.data : "", b.len);
        t.value.len = b.len;
        buf_free(&b);
    }
    return t;
}

static bool ws(char c) { return c == ' ' || c == '\t'; }

/* A """block string""": the raw lines (with \""" turned into """), then
 * the spec's dedent: common indentation of every line but the first removed,
 * leading and trailing blank lines dropped, lines joined by \n. */
static gql_token read_block_string(gql_lexer *lx, uint32_t start)
{
    uint32_t pos = start + 3, nlines = 1;
    for (;;) {
        int c = at(lx, pos);
        if (c < 0) gql_lex_fail(lx, pos, "Unterminated string.");
        if (c == '"' && at(lx, pos + 1) == '"' && at(lx, pos + 2) == '"') break;
        if (c == '\\' && at(lx, pos + 1) == '"' && at(lx, pos + 2) == '"' && at(lx, pos + 3) == '"') { pos += 4; continue; }
        if (c == '\n' || c == '\r') {
            pos += (c == '\r' && at(lx, pos + 1) == '\n') ? 2 : 1;
            nlines++;
            continue;
        }
        size_t n = char_len(lx, pos);
        if (n == 0) gql_lex_fail(lx, pos, "Invalid character within String: %s.", code_point_at(lx, pos));
        pos += (uint32_t)n;
    }
    uint32_t close = pos;
    /* Pass 2: unescaped text in `text`, lines as [off, len) into it. */
    char *text = arena_alloc(lx->a, close - start + 1);
    uint32_t *off = arena_alloc(lx->a, sizeof(uint32_t) * nlines * 2), *ln = off + nlines;
    uint32_t tl = 0, li = 0;
    off[0] = 0;
    for (uint32_t i = start + 3; i < close;) {
        char c = lx->src[i];
        if (c == '\\' && at(lx, i + 1) == '"' && at(lx, i + 2) == '"' && at(lx, i + 3) == '"') {
            memcpy(text + tl, "\"\"\"", 3); tl += 3; i += 4; continue;
        }
        if (c == '\n' || c == '\r') {
            ln[li] = tl - off[li];
            i += (c == '\r' && i + 1 < close && lx->src[i + 1] == '\n') ? 2 : 1;
            off[++li] = tl;
            continue;
        }
        text[tl++] = c;
        i++;
    }
    ln[li] = tl - off[li];
    /* Dedent. */
    uint32_t common = UINT32_MAX;
    int64_t first = -1, last = -1;
    for (uint32_t i = 0; i < nlines; i++) {
        uint32_t ind = 0;
        while (ind < ln[i] && ws(text[off[i] + ind])) ind++;
        if (ind == ln[i]) continue;
        if (first < 0) first = i;
        last = i;
        if (i != 0 && ind < common) common = ind;
    }
    char *val = arena_alloc(lx->a, tl + nlines + 1);
    uint32_t vl = 0;
    if (first < 0) first = 0;
    for (int64_t i = first; i <= last; i++) {
        uint32_t o = off[i], l = ln[i];
        if (i != 0) { uint32_t cut = common < l ? common : l; o += cut; l -= cut; }
        if (i != first) val[vl++] = '\n';
        memcpy(val + vl, text + o, l);
        vl += l;
    }
    val[vl] = '\0';
    return (gql_token){ GQL_T_BLOCK_STRING, start, close + 3, { val, vl } };
}

/* ---- The token loop ------------------------------------------------------ */

static gql_token punct(gql_tok k, uint32_t pos, uint32_t n) { return (gql_token){ k, pos, pos + n, { NULL, 0 } }; }

/* graphql-js's readNextToken: the token starting at or after pos, comments
 * included. */
static gql_token read_token(gql_lexer *lx, uint32_t pos)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    while (pos < lx->len) {
        unsigned char c = s[pos];
        switch (c) {
        case ' ': case '\t': case ',': case '\n': case '\r': pos++; continue;
        case 0xEF:
            if (pos + 2 < lx->len && s[pos + 1] == 0xBB && s[pos + 2] == 0xBF) { pos += 3; continue; }
            break;
        case '#': {
            uint32_t p = pos + 1;
            while (p < lx->len && s[p] != '\n' && s[p] != '\r') {
                size_t n = char_len(lx, p);
                if (n == 0) break;
                p += (uint32_t)n;
            }
            return (gql_token){ GQL_T_COMMENT, pos, p, { lx->src + pos + 1, p - pos - 1 } };
        }
        case '!': return punct(GQL_T_BANG, pos, 1);
        case '$': return punct(GQL_T_DOLLAR, pos, 1);
        case '&': return punct(GQL_T_AMP, pos, 1);
        case '(': return punct(GQL_T_PAREN_L, pos, 1);
        case ')': return punct(GQL_T_PAREN_R, pos, 1);
        case '.':
            if (at(lx, pos + 1) == '.' && at(lx, pos + 2) == '.') return punct(GQL_T_SPREAD, pos, 3);
            break;
        case ':': return punct(GQL_T_COLON, pos, 1);
        case '=': return punct(GQL_T_EQUALS, pos, 1);
        case '@': return punct(GQL_T_AT, pos, 1);
        case '[': return punct(GQL_T_BRACKET_L, pos, 1);
        case ']': return punct(GQL_T_BRACKET_R, pos, 1);
        case '{': return punct(GQL_T_BRACE_L, pos, 1);
        case '|': return punct(GQL_T_PIPE, pos, 1);
        case '}': return punct(GQL_T_BRACE_R, pos, 1);
        case '"':
            if (at(lx, pos + 1) == '"' && at(lx, pos + 2) == '"') return read_block_string(lx, pos);
            return read_string(lx, pos);
        default: break;
        }
        if (is_digit(c) || c == '-') return read_number(lx, pos);
        if (is_name_start(c)) {
            uint32_t p = pos + 1;
            while (is_name_char(at(lx, p))) p++;
            return (gql_token){ GQL_T_NAME, pos, p, { lx->src + pos, p - pos } };
        }
        if (c == '\'')
            gql_lex_fail(lx, pos, "Unexpected single quote character ('), did you mean to use a double quote (\")?");
        if (char_len(lx, pos) == 0) gql_lex_fail(lx, pos, "Invalid character: %s.", code_point_at(lx, pos));
        gql_lex_fail(lx, pos, "Unexpected character: %s.", code_point_at(lx, pos));
    }
    return punct(GQL_T_EOF, lx->len, 0);
}

/* The next token after `t`, comments skipped (graphql-js's lookahead). */
static gql_token next_significant(gql_lexer *lx, const gql_token *t)
{
    if (t->kind == GQL_T_EOF) return *t;
    gql_token n = *t;
    do n = read_token(lx, n.end); while (n.kind == GQL_T_COMMENT);
    return n;
}

const gql_token *gql_lex_lookahead(gql_lexer *lx)
{
    if (!lx->has_ahead) {
        lx->ahead = next_significant(lx, &lx->token);
        lx->has_ahead = true;
    }
    return &lx->ahead;
}

void gql_lex_advance(gql_lexer *lx)
{
    lx->last_end = lx->token.end;
    if (lx->has_ahead) { lx->token = lx->ahead; lx->has_ahead = false; }
    else lx->token = next_significant(lx, &lx->token);
    if (lx->token.kind != GQL_T_EOF && ++lx->tokens > lx->max_tokens)
        gql_lex_fail(lx, lx->token.start, "Document contains more that %u tokens. Parsing aborted.", lx->max_tokens);
}
