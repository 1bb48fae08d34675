/*
 * fuzz_http.c -- libFuzzer target for src/http/parse.c.
 *
 * 1. http_parse_request() on the input with roomy and with tight limits:
 *    the return value is one of the allowed ones, a complete head is no
 *    longer than the input and is re-found exactly when the input is cut
 *    just after it, a prefix of a complete head is HTTP_INCOMPLETE, every
 *    slice lies inside the input, names are tchar tokens, values carry no
 *    CR/LF/NUL and no OWS at their ends, framing facts are consistent.
 * 2. http_chunked_decode() on the input (and on what follows a parsed head)
 *    in one go, byte by byte, and in pieces of pseudo-random size: all three
 *    must agree on the outcome, the payload and where the body ended.
 * Any broken property abort()s.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *       tests/fuzz/fuzz_http.c src/core/[a-z]*.c src/http/parse.c -o /tmp/fz
 *   /tmp/fz -max_total_time=120 tests/fuzz/corpus/http
 */
#include "http/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "fuzz_http: %s:%d: %s\n", \
    __FILE__, __LINE__, #c); abort(); } } while (0)

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* [p, p+n) lies within [buf, buf+len). */
static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p != NULL && p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

static void check_head(const char *buf, size_t len, size_t max_headers, size_t max_target)
{
    http_header hs[64];
    http_request r;
    r.headers = hs;
    int rc = http_parse_request(buf, len, &r, max_headers, max_target);

    if (rc < 0) {
        REQUIRE(rc >= HTTP_ERR_TE);
        if (rc != HTTP_INCOMPLETE) {
            int st = http_error_status(rc);
            REQUIRE(st == 400 || st == 414 || st == 431 || st == 501 || st == 505);
        }
        return;
    }
    REQUIRE(rc > 0 && (size_t)rc <= len);
    size_t used = (size_t)rc;
    REQUIRE(buf[used - 1] == '\n' && buf[used - 2] == '\r');

    /* slices, all inside the head */
    REQUIRE(inside(r.method, r.method_len, buf, used) && r.method_len > 0 && r.method_len <= 32);
    for (size_t i = 0; i < r.method_len; i++) REQUIRE(is_tchar((unsigned char)r.method[i]));
    REQUIRE(inside(r.target, r.target_len, buf, used) && r.target_len > 0);
    REQUIRE(r.target_len <= max_target);
    for (size_t i = 0; i < r.target_len; i++) {
        unsigned char c = (unsigned char)r.target[i];
        REQUIRE(c >= 0x21 && c <= 0x7e && c != '#');
    }
    REQUIRE(inside(r.path, r.path_len, buf, used) && r.path_len > 0);
    REQUIRE(inside(r.query, r.query_len, buf, used));
    REQUIRE(memchr(r.path, '?', r.path_len) == NULL);
    REQUIRE(r.minor_version == 0 || r.minor_version == 1);
    REQUIRE(r.num_headers <= max_headers);
    for (size_t i = 0; i < r.num_headers; i++) {
        const http_header *h = &hs[i];
        REQUIRE(inside(h->name, h->name_len, buf, used) && h->name_len > 0);
        for (size_t k = 0; k < h->name_len; k++) REQUIRE(is_tchar((unsigned char)h->name[k]));
        REQUIRE(inside(h->value, h->value_len, buf, used));
        for (size_t k = 0; k < h->value_len; k++) {
            unsigned char c = (unsigned char)h->value[k];
            REQUIRE(c == '\t' || c >= 0x20);
            REQUIRE(c != 0x7f);
        }
        if (h->value_len)
            REQUIRE(!is_ows((unsigned char)h->value[0]) &&
                    !is_ows((unsigned char)h->value[h->value_len - 1]));
    }
    REQUIRE(r.content_length >= -1 && r.content_length <= (int64_t)1 << 53);
    if (r.chunked) REQUIRE(r.content_length == -1 && r.minor_version == 1);
    if (r.minor_version == 1) REQUIRE(r.host != NULL);
    if (r.host) REQUIRE(inside(r.host, r.host_len, buf, used));
    if (r.minor_version == 0) REQUIRE(!r.expect_continue);

    /* the head is self-delimiting: cut right after it, the same answer;
     * cut inside it, not enough yet */
    http_header hs2[64];
    http_request r2;
    r2.headers = hs2;
    REQUIRE(http_parse_request(buf, used, &r2, max_headers, max_target) == rc);
    REQUIRE(r2.num_headers == r.num_headers && r2.content_length == r.content_length &&
            r2.chunked == r.chunked && r2.keep_alive == r.keep_alive);
    REQUIRE(http_parse_request(buf, used - 1, &r2, max_headers, max_target) == HTTP_INCOMPLETE);
    REQUIRE(http_parse_request(buf, used / 2, &r2, max_headers, max_target) == HTTP_INCOMPLETE);
}

/* ---- chunked ----------------------------------------------------------- */

typedef struct {
    ssize_t rc;        /* INCOMPLETE, ERR_BAD, or >= 0 (then: done)       */
    size_t consumed;   /* input bytes that were part of the body          */
    size_t plen;
    char *payload;     /* malloc'd, at most the input length              */
} outcome;

/* Decode in[0..n) in pieces: piece(i) gives the size of the next one. */
static outcome decode(const char *in, size_t n, size_t (*piece)(size_t, uint32_t *), uint32_t seed)
{
    outcome o = { HTTP_INCOMPLETE, 0, 0, malloc(n ? n : 1) };
    http_chunked d;
    http_chunked_init(&d);
    size_t off = 0;
    while (off < n && o.rc == HTTP_INCOMPLETE) {
        size_t k = piece(n - off, &seed);
        if (k == 0 || k > n - off) k = n - off;
        char *p = malloc(k);  /* exact size: ASan catches any over-read */
        memcpy(p, in + off, k);
        size_t len = k;
        o.rc = http_chunked_decode(&d, p, &len);
        REQUIRE(o.rc == HTTP_INCOMPLETE || o.rc == HTTP_ERR_BAD || o.rc >= 0);
        REQUIRE(len <= k && o.plen + len <= n);
        memcpy(o.payload + o.plen, p, len);
        o.plen += len;
        if (o.rc >= 0) {
            REQUIRE((size_t)o.rc <= k);
            /* what follows the body is untouched where it was */
            REQUIRE(memcmp(p + k - (size_t)o.rc, in + off + k - (size_t)o.rc, (size_t)o.rc) == 0);
            o.consumed = off + k - (size_t)o.rc;
        } else if (o.rc == HTTP_INCOMPLETE) {
            o.consumed = off + k;
        }
        free(p);
        off += k;
    }
    if (o.rc >= 0) {
        /* a finished decoder hands everything back */
        char extra[2] = { 'x', 'y' };
        size_t len = 2;
        REQUIRE(http_chunked_decode(&d, extra, &len) == 2 && len == 0);
    } else if (o.rc == HTTP_ERR_BAD) {
        char extra[2] = { '0', '\r' };
        size_t len = 2;
        REQUIRE(http_chunked_decode(&d, extra, &len) == HTTP_ERR_BAD);
    }
    return o;
}

static size_t whole(size_t left, uint32_t *s) { (void)s; return left; }
static size_t one(size_t left, uint32_t *s) { (void)left; (void)s; return 1; }
static size_t random_piece(size_t left, uint32_t *s)
{
    (void)left;
    *s = *s * 1103515245u + 12345u;
    return 1 + (*s >> 16) % 23;
}

static void check_chunked(const char *in, size_t n)
{
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < n; i++) seed = (seed ^ (unsigned char)in[i]) * 16777619u;
    outcome a = decode(in, n, whole, 0);
    outcome b = decode(in, n, one, 0);
    outcome c = decode(in, n, random_piece, seed);
    const outcome *others[2] = { &b, &c };
    for (int i = 0; i < 2; i++) {
        const outcome *o = others[i];
        REQUIRE((a.rc >= 0) == (o->rc >= 0));
        if (a.rc < 0) REQUIRE(a.rc == o->rc);
        REQUIRE(a.plen == o->plen && memcmp(a.payload, o->payload, a.plen) == 0);
        if (a.rc != HTTP_ERR_BAD) REQUIRE(a.consumed == o->consumed);
    }
    if (a.rc >= 0) REQUIRE((size_t)a.rc == n - a.consumed);
    free(a.payload);
    free(b.payload);
    free(c.payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    check_head(buf, size, 64, 8192);
    check_head(buf, size, 3, 16);
    check_head(buf, size, 0, 1);

    check_chunked(buf, size);
    http_header hs[64];
    http_request r;
    r.headers = hs;
    int rc = http_parse_request(buf, size, &r, 64, 8192);
    if (rc > 0 && (size_t)rc < size) check_chunked(buf + rc, size - (size_t)rc);
    return 0;
}
