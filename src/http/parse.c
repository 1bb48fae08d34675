/*
 * parse.c -- the HTTP/1.1 request-head parser and the chunked body decoder.
 *
 * What it does: http_parse_request() reads one request head (RFC 9112
 * sections 2-5) out of the caller's buffer in a single forward pass, fills an
 * http_request with {ptr,len} slices into that buffer, and derives the
 * framing facts (Content-Length, chunked, keep-alive, Expect, Host) that the
 * connection layer acts on. http_chunked_decode() is a resumable byte-level
 * state machine for the chunked transfer coding (RFC 9112 section 7.1).
 *
 * What it owns: nothing. Both functions are stateless apart from the small
 * http_chunked struct the caller keeps; they never allocate, never copy a
 * head, and never read outside buf[0..len).
 *
 * What it must never do: guess. Anything that two HTTP implementations could
 * read two ways is refused, because that is how request smuggling works:
 * bare CR or LF, obs-fold, whitespace before a colon, Content-Length that is
 * not a single 1*DIGIT, repeated Content-Length, Content-Length together with
 * Transfer-Encoding, Transfer-Encoding in HTTP/1.0, chunked that is not the
 * final coding or appears twice, chunk sizes with signs, "0x", spaces or
 * more than 16 digits. The caller answers http_error_status() and closes.
 *
 * Errors are reported as soon as the bytes seen so far prove them (so a
 * 414 arrives before the rest of the head does); checks that need the whole
 * head (Host presence, framing conflicts) run once the empty line is seen.
 * A re-parse of a grown buffer starts from scratch: the cost is O(n) per
 * call, like picohttpparser, and the caller bounds the head size.
 * Field values and targets are scanned 16 bytes at a time with SSE2 where
 * the compiler has it; -DKILN_NO_SIMD forces the plain table-driven loops.
 */
#include "http/parse.h"
#include "core/core.h"

#if defined(__SSE2__) && !defined(KILN_NO_SIMD)
#include <emmintrin.h>
#endif

#define MAX_METHOD 32               /* longer method token: 501              */
#define MAX_LEADING_CRLF 4          /* empty lines tolerated before a request */
#define MAX_CONTENT_LENGTH ((uint64_t)1 << 53)
#define MAX_CHUNK_DIGITS 16
#define MAX_CHUNK_EXT_TOTAL 16384   /* chunk-ext bytes per body (DoS bound)  */
#define MAX_TRAILER_BYTES 8192

typedef unsigned char uchar;

/* ---- Character classes ------------------------------------------------
 * One 256-entry table, computed at compile time from the RFC grammar. */
enum {
    F_TCHAR = 1,   /* token: ALPHA DIGIT !#$%&'*+-.^_`|~                    */
    F_TARGET = 2,  /* request-target byte: VCHAR 0x21-0x7E except '#'        */
    F_VALUE = 4,   /* field-value byte: HTAB SP VCHAR obs-text               */
    F_HOST = 8,    /* authority byte (RFC 3986 reg-name/IP-literal/port, no '@') */
    F_QDTEXT = 16, /* quoted-string text: HTAB SP 0x21 0x23-0x5B 0x5D-0x7E obs-text */
    F_HEX = 32,    /* HEXDIG                                                 */
};

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_TCHAR(c) (IS_DIGIT(c) || IS_ALPHA(c) || (c) == '!' || (c) == '#' || \
    (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' ||    \
    (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' ||     \
    (c) == '`' || (c) == '|' || (c) == '~')
#define IS_VCHAR(c) ((c) >= 0x21 && (c) <= 0x7E)
#define IS_HOST(c) (IS_DIGIT(c) || IS_ALPHA(c) || (c) == '-' || (c) == '.' ||  \
    (c) == '_' || (c) == '~' || (c) == '!' || (c) == '$' || (c) == '&' ||      \
    (c) == '\'' || (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' ||     \
    (c) == ',' || (c) == ';' || (c) == '=' || (c) == ':' || (c) == '[' ||      \
    (c) == ']' || (c) == '%')
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CLS(c) ((IS_TCHAR(c) ? F_TCHAR : 0) |                                  \
    (IS_VCHAR(c) && (c) != '#' ? F_TARGET : 0) |                                \
    ((c) == '\t' || (c) == ' ' || IS_VCHAR(c) || (c) >= 0x80 ? F_VALUE : 0) |  \
    (IS_HOST(c) ? F_HOST : 0) |                                                 \
    ((c) == '\t' || (c) == ' ' || (c) == 0x21 || ((c) >= 0x23 && (c) <= 0x5B) || \
     ((c) >= 0x5D && (c) <= 0x7E) || (c) >= 0x80 ? F_QDTEXT : 0) |             \
    (IS_HEX(c) ? F_HEX : 0))
#define R4(b) CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)
static const uint8_t cls[256] = { R64(0), R64(64), R64(128), R64(192) };

static inline uchar lower(uchar c) { return (unsigned)(c - 'A') < 26u ? c | 0x20 : c; }

/* s[0..n) equals the lowercase literal `lit`, ignoring ASCII case.
 * OR-ing 0x20 folds case exactly for what we compare: literals made of
 * lowercase letters, digits, '-', ':' and '/', against bytes already checked
 * to be tokens, target bytes or field-value bytes. The only other bytes that
 * fold onto a digit, '-', ':' or '/' are C0 controls (0x0D, 0x0F, 0x10-0x1A),
 * which never get this far. */
#define IEQ(s, n, lit) ((n) == sizeof(lit) - 1 && ieq_n((s), (lit), sizeof(lit) - 1))
static inline bool ieq_n(const uchar *s, const char *lit, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {          /* eight bytes at a time: the same fold */
        uint64_t a, b;
        memcpy(&a, s + i, 8);
        memcpy(&b, lit + i, 8);
        if ((a | 0x2020202020202020ull) != b) return false;
    }
    for (; i < n; i++)
        if ((s[i] | 0x20) != (uchar)lit[i]) return false;
    return true;
}

static bool all_cls(const uchar *s, size_t n, uint8_t f)
{
    for (size_t i = 0; i < n; i++)
        if (!(cls[s[i]] & f)) return false;
    return true;
}

static bool is_ows(uchar c) { return c == ' ' || c == '\t'; }

/* Advance p past field-value bytes (F_VALUE); stop at the first other byte
 * or at end. The SSE2 path flags bytes < 0x20 and 0x7F, 16 at a time, and
 * lets the scalar test decide (HTAB is the one flagged byte that is fine). */
static inline const uchar *scan_value(const uchar *p, const uchar *end)
{
#if defined(__SSE2__) && !defined(KILN_NO_SIMD)
    const __m128i c1f = _mm_set1_epi8(0x1f), c7f = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x);
        int m = _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, c7f)));
        if (m == 0) { p += 16; continue; }
        p += __builtin_ctz((unsigned)m);
        if (*p != '\t') return p;
        p++;
    }
#endif
    while (p < end && (cls[*p] & F_VALUE)) p++;
    return p;
}

/* Advance p past token bytes (F_TCHAR): field names, methods. Unrolled,
 * since names are short and this loop is a fifth of the head. */
static inline const uchar *scan_token(const uchar *p, const uchar *end)
{
    while (end - p >= 4) {
        if (!(cls[p[0]] & F_TCHAR)) return p;
        if (!(cls[p[1]] & F_TCHAR)) return p + 1;
        if (!(cls[p[2]] & F_TCHAR)) return p + 2;
        if (!(cls[p[3]] & F_TCHAR)) return p + 3;
        p += 4;
    }
    while (p < end && (cls[*p] & F_TCHAR)) p++;
    return p;
}

/* Advance p past request-target bytes (F_TARGET), at most up to lim. */
static inline const uchar *scan_target(const uchar *p, const uchar *lim)
{
#if defined(__SSE2__) && !defined(KILN_NO_SIMD)
    const __m128i c20 = _mm_set1_epi8(0x20), c7f = _mm_set1_epi8(0x7f),
                  hash = _mm_set1_epi8('#');
    while (lim - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, c20), x),
                                   _mm_cmpeq_epi8(_mm_max_epu8(x, c7f), x));
        int m = _mm_movemask_epi8(_mm_or_si128(bad, _mm_cmpeq_epi8(x, hash)));
        if (m) return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#endif
    while (p < lim && (cls[*p] & F_TARGET)) p++;
    return p;
}

/* Next element of a comma-separated list (RFC 9110 5.6.1) in [*s, end):
 * sets [*es, *es + *en) to it, OWS trimmed (possibly empty), moves *s past
 * the comma. Returns false when the list is exhausted. */
static bool list_next(const uchar **s, const uchar *end, const uchar **es, size_t *en)
{
    const uchar *p = *s;
    if (p == NULL) return false;
    while (p < end && is_ows(*p)) p++;
    const uchar *b = p;
    while (p < end && *p != ',') p++;
    const uchar *e = p;
    while (e > b && is_ows(e[-1])) e--;
    *es = b;
    *en = (size_t)(e - b);
    *s = p < end ? p + 1 : NULL;  /* NULL: that was the last element */
    return true;
}

/* ---- Request heads ----------------------------------------------------- */

/* What the header fields said, gathered until the head is complete. */
typedef struct fields {
    int hosts, content_lengths, te_fields;
    int chunked_count;      /* "chunked" codings across all TE fields        */
    bool last_is_chunked;   /* the final coding seen so far is chunked       */
    bool other_coding;      /* some coding other than chunked                */
    bool conn_close, conn_keep_alive, expect_continue;
    const uchar *host; size_t host_len;
} fields;

/* Authority as in a Host field or a URI: loose syntax check. Empty is
 * allowed for a Host field (RFC 9112 3.2), so callers check emptiness. */
static bool host_ok(const uchar *s, size_t n) { return all_cls(s, n, F_HOST); }

static int on_content_length(fields *f, http_request *r, const uchar *v, size_t n)
{
    if (++f->content_lengths > 1 || n == 0) return HTTP_ERR_BAD;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!IS_DIGIT(v[i])) return HTTP_ERR_BAD;
        x = x * 10 + (uint64_t)(v[i] - '0');
        if (x > MAX_CONTENT_LENGTH) return HTTP_ERR_BAD;
    }
    r->content_length = (int64_t)x;
    return 0;
}

/* Transfer-Encoding: each element must be a bare coding token (no empty
 * elements, no parameters: chunked takes none, and we implement no other).
 * Fields combine into one list; the verdict waits for the end of the head. */
static int on_transfer_encoding(fields *f, const uchar *v, size_t n)
{
    const uchar *s = v, *e;
    size_t en;
    f->te_fields++;
    if (n == 0) return HTTP_ERR_BAD;
    while (list_next(&s, v + n, &e, &en)) {
        if (en == 0 || !all_cls(e, en, F_TCHAR)) return HTTP_ERR_BAD;
        f->last_is_chunked = IEQ(e, en, "chunked");
        if (f->last_is_chunked) f->chunked_count++;
        else f->other_coding = true;
    }
    return 0;
}

static void on_connection(fields *f, const uchar *v, size_t n)
{
    const uchar *s = v, *e;
    size_t en;
    while (list_next(&s, v + n, &e, &en)) {
        if (IEQ(e, en, "close")) f->conn_close = true;
        else if (IEQ(e, en, "keep-alive")) f->conn_keep_alive = true;
    }
}

/* Look at one header field whose name matters for framing or routing. */
static int on_field(fields *f, http_request *r, const uchar *name, size_t nlen,
                    const uchar *v, size_t vlen)
{
    switch (nlen) {
    case 4:
        if (!IEQ(name, 4, "host")) return 0;
        if (++f->hosts > 1 || !host_ok(v, vlen)) return HTTP_ERR_BAD;
        f->host = v;
        f->host_len = vlen;
        return 0;
    case 6:
        if (IEQ(name, 6, "expect") && IEQ(v, vlen, "100-continue")) f->expect_continue = true;
        return 0;
    case 10:
        if (IEQ(name, 10, "connection")) on_connection(f, v, vlen);
        return 0;
    case 14:
        return IEQ(name, 14, "content-length") ? on_content_length(f, r, v, vlen) : 0;
    case 17:
        return IEQ(name, 17, "transfer-encoding") ? on_transfer_encoding(f, v, vlen) : 0;
    default:
        return 0;
    }
}

/* Classify the request-target (RFC 9112 3.2) and split out path and query.
 * *abs_host receives the authority of an absolute-form target. */
static int split_target(http_request *r, const uchar *t, size_t n, const uchar **abs_host,
                        size_t *abs_host_len)
{
    const uchar *m = (const uchar *)r->method;
    bool connect = r->method_len == 7 && memcmp(m, "CONNECT", 7) == 0;
    const uchar *end = t + n, *q;

    if (connect) {
        /* authority-form: uri-host ":" port, nothing else. */
        const uchar *colon = NULL;
        for (const uchar *p = t; p < end; p++)
            if (*p == ':') colon = p;
        if (!host_ok(t, n) || !colon || colon == t || colon + 1 == end) return HTTP_ERR_BAD;
        for (const uchar *p = colon + 1; p < end; p++)
            if (!IS_DIGIT(*p)) return HTTP_ERR_BAD;
        r->path = (const char *)t;
        r->path_len = n;
        r->query = (const char *)end;
        r->query_len = 0;
        return 0;
    }
    if (t[0] == '*') {
        /* asterisk-form: exactly "*", OPTIONS only. */
        if (n != 1 || r->method_len != 7 || memcmp(m, "OPTIONS", 7) != 0) return HTTP_ERR_BAD;
        r->path = (const char *)t;
        r->path_len = 1;
        r->query = (const char *)end;
        r->query_len = 0;
        return 0;
    }
    if (t[0] != '/') {
        /* absolute-form: http[s]://authority[/path][?query]. */
        size_t k;
        if (n > 7 && IEQ(t, 7, "http://")) k = 7;
        else if (n > 8 && IEQ(t, 8, "https://")) k = 8;
        else return HTTP_ERR_BAD;
        const uchar *a = t + k, *p = a;
        while (p < end && *p != '/' && *p != '?') p++;
        if (p == a || !host_ok(a, (size_t)(p - a)) || a[0] == ':') return HTTP_ERR_BAD;
        *abs_host = a;
        *abs_host_len = (size_t)(p - a);
        if (p == end || *p == '?') {
            /* Empty path means "/": point at the last '/' of "://", which
             * keeps every slice inside buf. */
            r->path = (const char *)(a - 1);
            r->path_len = 1;
            r->query = (const char *)(p == end ? end : p + 1);
            r->query_len = (size_t)(p == end ? 0 : end - p - 1);
            return 0;
        }
        t = p;  /* origin part: split like origin-form below */
    }
    /* origin-form: absolute-path [ "?" query ] */
    q = memchr(t, '?', (size_t)(end - t));
    r->path = (const char *)t;
    r->path_len = (size_t)((q ? q : end) - t);
    r->query = (const char *)(q ? q + 1 : end);
    r->query_len = q ? (size_t)(end - q - 1) : 0;
    return 0;
}

/* "HTTP/" DIGIT "." DIGIT CRLF, checked on whatever part of it is here. */
static int parse_version(const uchar *p, const uchar *end, int *minor)
{
    static const char pat[] = "HTTP/#.#\r\n";   /* '#' stands for a DIGIT */
    size_t n = (size_t)(end - p), i;
    if (LIKELY(n >= 10 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '1' || p[7] == '0') &&
               p[8] == '\r' && p[9] == '\n')) {
        *minor = p[7] - '0';
        return 10;
    }
    if (n > 10) n = 10;
    for (i = 0; i < n; i++) {
        bool ok = pat[i] == '#' ? IS_DIGIT(p[i]) : p[i] == (uchar)pat[i];
        if (!ok) return HTTP_ERR_BAD;
    }
    if (n >= 8 && (p[5] != '1' || p[7] > '1')) return HTTP_ERR_VERSION;
    if (n < 10) return HTTP_INCOMPLETE;
    *minor = p[7] - '0';
    return 10;
}

int http_parse_request(const char *buf, size_t len, http_request *out,
                       size_t max_headers, size_t max_target)
{
    const uchar *const start = (const uchar *)buf, *const end = start + len;
    const uchar *p = start, *abs_host = NULL;
    size_t abs_host_len = 0;
    fields f;
    int rc;

    memset(&f, 0, sizeof f);
    out->method = out->target = out->path = out->query = NULL;
    out->method_len = out->target_len = out->path_len = out->query_len = 0;
    out->minor_version = 1;
    out->num_headers = 0;
    out->content_length = -1;
    out->chunked = out->keep_alive = out->expect_continue = false;
    out->host = NULL;
    out->host_len = 0;

    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line (CRLF)
     * received before the request-line. We take a few, no more. */
    for (int i = 0;; i++) {
        if (p == end) return HTTP_INCOMPLETE;
        if (*p != '\r') break;
        if (i == MAX_LEADING_CRLF) return HTTP_ERR_BAD;
        if (p + 1 == end) return HTTP_INCOMPLETE;
        if (p[1] != '\n') return HTTP_ERR_BAD;
        p += 2;
    }

    /* method SP */
    const uchar *m = p;
    while (p < end && (cls[*p] & F_TCHAR)) {
        if (++p - m > MAX_METHOD) return HTTP_ERR_METHOD;
    }
    if (p == end) return HTTP_INCOMPLETE;
    if (*p != ' ' || p == m) return HTTP_ERR_BAD;
    out->method = (const char *)m;
    out->method_len = (size_t)(p - m);
    p++;

    /* request-target SP: 414 as soon as it is longer than max_target. */
    const uchar *t = p;
    const uchar *lim = (size_t)(end - t) > max_target ? t + max_target + 1 : end;
    p = scan_target(t, lim);
    if ((size_t)(p - t) > max_target) return HTTP_ERR_URI_TOO_LONG;
    if (p == end) return HTTP_INCOMPLETE;
    if (*p != ' ' || p == t) return HTTP_ERR_BAD;
    out->target = (const char *)t;
    out->target_len = (size_t)(p - t);
    if ((rc = split_target(out, t, out->target_len, &abs_host, &abs_host_len)) != 0) return rc;
    p++;

    /* HTTP-version CRLF */
    if ((rc = parse_version(p, end, &out->minor_version)) < 0) return rc;
    p += rc;

    /* *( field-line CRLF ) CRLF */
    for (;;) {
        if (p == end) return HTTP_INCOMPLETE;
        if (*p == '\r') {
            if (p + 1 == end) return HTTP_INCOMPLETE;
            if (p[1] != '\n') return HTTP_ERR_BAD;
            p += 2;
            break;
        }
        /* A line starting with SP/HTAB (obs-fold, or whitespace before the
         * first field), a bare LF or a ':' fails the name check below. */
        if (out->num_headers == max_headers) return HTTP_ERR_TOO_MANY_HEADERS;
        const uchar *name = p;
        p = scan_token(p, end);
        if (p == end) return HTTP_INCOMPLETE;
        if (*p != ':' || p == name) return HTTP_ERR_BAD;
        size_t name_len = (size_t)(p - name);
        p++;
        while (p < end && is_ows(*p)) p++;
        const uchar *v = p;
        p = scan_value(p, end);
        if (p == end) return HTTP_INCOMPLETE;
        if (*p != '\r') return HTTP_ERR_BAD;  /* NUL, DEL, bare LF, other CTLs */
        if (p + 1 == end) return HTTP_INCOMPLETE;
        if (p[1] != '\n') return HTTP_ERR_BAD;
        const uchar *ve = p;
        while (ve > v && is_ows(ve[-1])) ve--;
        p += 2;

        http_header *h = &out->headers[out->num_headers++];
        h->name = (const char *)name;
        h->name_len = name_len;
        h->value = (const char *)v;
        h->value_len = (size_t)(ve - v);
        if ((rc = on_field(&f, out, name, name_len, v, h->value_len)) != 0) return rc;
    }

    /* The whole head is here: framing verdicts (RFC 9112 3.2, 6.1, 6.3). */
    if (f.hosts == 0 && out->minor_version == 1) return HTTP_ERR_BAD;
    if (f.te_fields) {
        if (out->minor_version == 0 || f.content_lengths) return HTTP_ERR_BAD;
        if (f.chunked_count > 1 || (f.chunked_count == 1 && !f.last_is_chunked))
            return HTTP_ERR_BAD;
        if (f.other_coding) return HTTP_ERR_TE;
        out->chunked = true;
    }
    out->keep_alive = f.conn_close ? false : (f.conn_keep_alive || out->minor_version == 1);
    /* RFC 9110 10.1.1: ignore 100-continue in an HTTP/1.0 request. */
    out->expect_continue = f.expect_continue && out->minor_version == 1;
    /* RFC 9112 3.2.2: with absolute-form, the target's authority wins. */
    if (abs_host) {
        out->host = (const char *)abs_host;
        out->host_len = abs_host_len;
    } else if (f.hosts) {
        out->host = (const char *)f.host;
        out->host_len = f.host_len;
    }
    if (UNLIKELY(p - start > INT32_MAX)) return HTTP_ERR_BAD;  /* fits the int return */
    return (int)(p - start);
}

int http_error_status(int err)
{
    switch (err) {
    case HTTP_ERR_BAD: return 400;
    case HTTP_ERR_TOO_MANY_HEADERS: return 431;
    case HTTP_ERR_VERSION: return 505;
    case HTTP_ERR_METHOD: return 501;
    case HTTP_ERR_URI_TOO_LONG: return 414;
    case HTTP_ERR_TE: return 501;
    default: return 400;
    }
}

/* ---- Chunked transfer coding (RFC 9112 7.1) ----------------------------
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 * One state per grammar position, so input may be split anywhere.
 * d->aux holds, in its low 5 bits, the hex digits of the current size, and
 * above them the running total of chunk-ext bytes for the whole body; in the
 * trailer section it counts trailer bytes instead. */
enum {
    CS_SIZE,        /* hex digits of chunk-size                           */
    CS_WS_SEMI,     /* BWS seen after size/value: only more WS or ';'     */
    CS_EXT_NAME0,   /* after ';': BWS then the first name byte            */
    CS_EXT_NAME,    /* in the ext name                                    */
    CS_EXT_NAME_WS, /* BWS after the name: '=' or ';'                     */
    CS_EXT_VAL0,    /* after '=': BWS then token or '"'                   */
    CS_EXT_TOKEN,   /* in a token value                                   */
    CS_EXT_QUOTED,  /* in a quoted-string value                           */
    CS_EXT_QESC,    /* after a backslash in a quoted-string               */
    CS_EXT_AFTER_Q, /* right after the closing quote                      */
    CS_SIZE_LF,     /* CR of the size line seen                           */
    CS_DATA,        /* chunk-data, d->remaining bytes to go               */
    CS_DATA_CR,     /* CRLF after chunk-data                              */
    CS_DATA_LF,
    CS_TR_START,    /* start of a trailer line (or the final CRLF)        */
    CS_TR_NAME,
    CS_TR_VALUE,
    CS_TR_LF,
    CS_END_LF,      /* LF of the final CRLF                               */
    CS_DONE,
    CS_ERROR,
};

#define DIGITS_MASK 31u
#define EXT_ONE 32u   /* one chunk-ext byte in d->aux */

void http_chunked_init(http_chunked *d)
{
    d->state = CS_SIZE;
    d->remaining = 0;
    d->aux = 0;
    d->name_pos = 0;
    d->name_match = 0;
}

/* Track whether the trailer name so far is a prefix of Content-Length or
 * Transfer-Encoding (case-insensitive), across any split of the input. */
static void trailer_name_byte(http_chunked *d, unsigned char c)
{
    static const char cl[] = "content-length", te[] = "transfer-encoding";
    unsigned char lc = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    unsigned i = d->name_pos;
    if ((d->name_match & 1) && (i >= sizeof cl - 1 || (unsigned char)cl[i] != lc)) d->name_match &= ~1u;
    if ((d->name_match & 2) && (i >= sizeof te - 1 || (unsigned char)te[i] != lc)) d->name_match &= ~2u;
    if (d->name_pos < 64) d->name_pos++;
}

ssize_t http_chunked_decode(http_chunked *d, char *buf, size_t *len)
{
    uchar *const in = (uchar *)buf, *const end = in + *len;
    uchar *p = in, *out = in;

    if (d->state == CS_DONE) {  /* everything after the body is not ours */
        ssize_t rest = (ssize_t)*len;
        *len = 0;
        return rest;
    }
    if (d->state == CS_ERROR) goto bad;

    while (p < end) {
        if (d->state == CS_DATA) {
            size_t n = (size_t)(end - p);
            if (n > d->remaining) n = (size_t)d->remaining;
            if (out != p) memmove(out, p, n);
            out += n;
            p += n;
            d->remaining -= n;
            if (d->remaining == 0) d->state = CS_DATA_CR;
            continue;
        }
        uchar c = *p++;
        int s = d->state;
        if (s >= CS_WS_SEMI && s <= CS_EXT_AFTER_Q) {
            /* every chunk-ext byte counts against the per-body bound */
            d->aux += EXT_ONE;
            if (d->aux / EXT_ONE > MAX_CHUNK_EXT_TOTAL) goto bad;
        } else if (s >= CS_TR_START && s <= CS_END_LF) {
            if (++d->aux > MAX_TRAILER_BYTES) goto bad;
        }
        switch (s) {
        case CS_SIZE:
            if (cls[c] & F_HEX) {
                if ((d->aux & DIGITS_MASK) == MAX_CHUNK_DIGITS) goto bad;
                d->aux++;
                d->remaining = (d->remaining << 4) |
                               (uint64_t)(IS_DIGIT(c) ? c - '0' : lower(c) - 'a' + 10);
                if (d->remaining >> 63) goto bad;  /* past 2^63 - 1 */
                break;
            }
            if ((d->aux & DIGITS_MASK) == 0) goto bad;  /* no digits: "", "-1", ";x" */
            d->aux &= ~(size_t)DIGITS_MASK;
            if (c == '\r') d->state = CS_SIZE_LF;
            else if (c == ';') d->state = CS_EXT_NAME0;
            else if (is_ows(c)) d->state = CS_WS_SEMI;
            else goto bad;
            break;
        case CS_WS_SEMI:
            if (c == ';') d->state = CS_EXT_NAME0;
            else if (!is_ows(c)) goto bad;
            break;
        case CS_EXT_NAME0:
            if (cls[c] & F_TCHAR) d->state = CS_EXT_NAME;
            else if (!is_ows(c)) goto bad;
            break;
        case CS_EXT_NAME:
        case CS_EXT_NAME_WS:
            if (s == CS_EXT_NAME && (cls[c] & F_TCHAR)) break;
            if (c == '=') d->state = CS_EXT_VAL0;
            else if (c == ';') d->state = CS_EXT_NAME0;
            else if (is_ows(c)) d->state = CS_EXT_NAME_WS;
            else if (c == '\r' && s == CS_EXT_NAME) d->state = CS_SIZE_LF;
            else goto bad;
            break;
        case CS_EXT_VAL0:
            if (cls[c] & F_TCHAR) d->state = CS_EXT_TOKEN;
            else if (c == '"') d->state = CS_EXT_QUOTED;
            else if (!is_ows(c)) goto bad;
            break;
        case CS_EXT_QUOTED:
            if (c == '"') d->state = CS_EXT_AFTER_Q;
            else if (c == '\\') d->state = CS_EXT_QESC;
            else if (!(cls[c] & F_QDTEXT)) goto bad;
            break;
        case CS_EXT_QESC:  /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (!(cls[c] & F_VALUE)) goto bad;
            d->state = CS_EXT_QUOTED;
            break;
        case CS_EXT_TOKEN:
        case CS_EXT_AFTER_Q:
            if (s == CS_EXT_TOKEN && (cls[c] & F_TCHAR)) break;
            if (c == ';') d->state = CS_EXT_NAME0;
            else if (c == '\r') d->state = CS_SIZE_LF;
            else if (is_ows(c)) d->state = CS_WS_SEMI;
            else goto bad;
            break;
        case CS_SIZE_LF:
            if (c != '\n') goto bad;
            if (d->remaining) {
                d->state = CS_DATA;
            } else {
                d->state = CS_TR_START;  /* last-chunk */
                d->aux = 0;
            }
            break;
        case CS_DATA_CR:
            if (c != '\r') goto bad;
            d->state = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            if (c != '\n') goto bad;
            d->state = CS_SIZE;
            d->aux &= ~(size_t)DIGITS_MASK;
            break;
        case CS_TR_START:  /* obs-fold, bare LF and empty names fail here */
            if (c == '\r') { d->state = CS_END_LF; break; }
            if (!(cls[c] & F_TCHAR)) goto bad;
            d->state = CS_TR_NAME;
            d->name_pos = 0;
            d->name_match = 3;
            /* fall through: the first name byte is matched below */
            trailer_name_byte(d, c);
            break;
        case CS_TR_NAME:
            if (c == ':') {
                /* A framing field in a trailer is a smuggling attempt. */
                if (((d->name_match & 1) && d->name_pos == 14) || ((d->name_match & 2) && d->name_pos == 17))
                    goto bad;
                d->state = CS_TR_VALUE;
            } else if (!(cls[c] & F_TCHAR)) {
                goto bad;
            } else {
                trailer_name_byte(d, c);
            }
            break;
        case CS_TR_VALUE:
            if (c == '\r') d->state = CS_TR_LF;
            else if (!(cls[c] & F_VALUE)) goto bad;
            break;
        case CS_TR_LF:
            if (c != '\n') goto bad;
            d->state = CS_TR_START;
            break;
        case CS_END_LF:
            if (c != '\n') goto bad;
            d->state = CS_DONE;
            *len = (size_t)(out - in);
            return (ssize_t)(end - p);
        default:
            KILN_PANIC("http_chunked_decode: bad state %d", s);
        }
    }
    *len = (size_t)(out - in);
    return HTTP_INCOMPLETE;

bad:
    d->state = CS_ERROR;
    *len = (size_t)(out - in);
    return HTTP_ERR_BAD;
}
