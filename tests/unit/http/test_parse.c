/*
 * test_parse.c -- the HTTP/1.1 request-head parser and the chunked decoder:
 * valid heads, pipelining, every-prefix incompleteness, each rejection class
 * (smuggling vectors first), and chunked bodies split at every byte.
 */
#include "t.h"
#include "http/parse.h"

#include <stdlib.h>


static http_header H[64];
static http_request R;

static int parse_lim(const char *s, size_t n, size_t max_headers, size_t max_target)
{
    R.headers = H;
    return http_parse_request(s, n, &R, max_headers, max_target);
}
static int parse_n(const char *s, size_t n) { return parse_lim(s, n, 64, 1024); }
/* P(lit): parse a string literal, embedded NULs included. */
#define P(lit) parse_n((lit), sizeof(lit) - 1)
#define LEN(lit) ((int)(sizeof(lit) - 1))

/* ---- valid heads ------------------------------------------------------- */

TEST(simple_get)
{
    static const char req[] = "GET /hello?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n"
                              "User-Agent:  curl/8.0 \t\r\nAccept: */*\r\n\r\n";
    CHECK_EQ_INT(P(req), LEN(req));
    CHECK_EQ_MEM(R.method, R.method_len, "GET");
    CHECK_EQ_MEM(R.target, R.target_len, "/hello?x=1&y=2");
    CHECK_EQ_MEM(R.path, R.path_len, "/hello");
    CHECK_EQ_MEM(R.query, R.query_len, "x=1&y=2");
    CHECK_EQ_INT(R.minor_version, 1);
    CHECK_EQ_INT(R.num_headers, 3);
    CHECK_EQ_MEM(H[0].name, H[0].name_len, "Host");
    CHECK_EQ_MEM(H[0].value, H[0].value_len, "example.com");
    CHECK_EQ_MEM(H[1].name, H[1].name_len, "User-Agent");
    CHECK_EQ_MEM(H[1].value, H[1].value_len, "curl/8.0");
    CHECK_EQ_MEM(H[2].value, H[2].value_len, "*/*");
    CHECK_EQ_INT(R.content_length, -1);
    CHECK(!R.chunked);
    CHECK(R.keep_alive);
    CHECK(!R.expect_continue);
    CHECK_EQ_MEM(R.host, R.host_len, "example.com");
    CHECK(R.path >= req && R.path + R.path_len <= req + sizeof req);
}

TEST(post_with_content_length)
{
    static const char req[] = "POST /api/items HTTP/1.1\r\nhost: a\r\ncontent-length: 0005\r\n"
                              "Content-Type: application/json\r\n\r\nhello";
    CHECK_EQ_INT(P(req), LEN(req) - 5);
    CHECK_EQ_INT(R.content_length, 5);
    CHECK_EQ_INT(R.query_len, 0);
    CHECK(R.query != NULL);
    CHECK_EQ_MEM(R.path, R.path_len, "/api/items");
}

TEST(content_length_limits)
{
    CHECK(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n") > 0);
    CHECK_EQ_INT(R.content_length, 9007199254740992LL);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740993\r\n\r\n"),
                 HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
                 HTTP_ERR_BAD);
    CHECK(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") > 0);
    CHECK_EQ_INT(R.content_length, 0);
}

TEST(chunked_request)
{
    static const char req[] = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n";
    CHECK_EQ_INT(P(req), LEN(req));
    CHECK(R.chunked);
    CHECK_EQ_INT(R.content_length, -1);
    /* list spread over two fields, chunked last */
    CHECK_EQ_INT(P("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"), HTTP_ERR_TE);
    CHECK(P("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:chunked \r\n\r\n") > 0);
    CHECK(R.chunked);
}

TEST(http10_defaults)
{
    CHECK(P("GET / HTTP/1.0\r\n\r\n") > 0);  /* Host is optional in 1.0 */
    CHECK_EQ_INT(R.minor_version, 0);
    CHECK(!R.keep_alive);
    CHECK(R.host == NULL);
    CHECK(P("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    CHECK(R.keep_alive);
    CHECK(P("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") > 0);
    CHECK(!R.expect_continue);  /* RFC 9110 10.1.1 */
}

TEST(connection_tokens)
{
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") > 0);
    CHECK(!R.keep_alive);
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n") > 0);
    CHECK(!R.keep_alive);
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive ,close\r\n\r\n") > 0);
    CHECK(!R.keep_alive);  /* close wins */
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n") > 0);
    CHECK(R.keep_alive);
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") > 0);
    CHECK(!R.keep_alive);
}

TEST(expect_continue)
{
    CHECK(P("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n") > 0);
    CHECK(R.expect_continue);
    CHECK(P("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n") > 0);
    CHECK(!R.expect_continue);
}

TEST(value_bytes)
{
    /* obs-text and HTAB inside a value are fine; OWS trimmed both sides. */
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t caf\xc3\xa9 \t x\t \r\nX-E:\r\nX-W:  \t \r\n\r\n";
    CHECK_EQ_INT(P(req), LEN(req));
    CHECK_EQ_MEM(H[1].value, H[1].value_len, "caf\xc3\xa9 \t x");
    CHECK_EQ_INT(H[2].value_len, 0);
    CHECK_EQ_INT(H[3].value_len, 0);
    /* long values take the vector path; a HTAB in the middle of one */
    static const char req2[] = "GET / HTTP/1.1\r\nHost: a\r\nX-L: 0123456789abcdef\t0123456789abcdef0123456789\r\n\r\n";
    CHECK_EQ_INT(P(req2), LEN(req2));
    CHECK_EQ_MEM(H[1].value, H[1].value_len, "0123456789abcdef\t0123456789abcdef0123456789");
}

TEST(leading_empty_lines)
{
    static const char req[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_EQ_INT(P(req), LEN(req));
    CHECK_EQ_MEM(R.method, R.method_len, "GET");
    CHECK_EQ_INT(P("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("\r\n"), HTTP_INCOMPLETE);
    CHECK_EQ_INT(P("\r"), HTTP_INCOMPLETE);
}

TEST(pipelined_heads)
{
    static const char two[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                              "POST /b?q HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi"
                              "GET /c HTTP/1.0\r\n\r\n";
    size_t off = 0, n = sizeof two - 1;
    int rc = parse_n(two, n);
    CHECK_EQ_INT(rc, 28);
    CHECK_EQ_MEM(R.path, R.path_len, "/a");
    off += (size_t)rc;
    CHECK(memcmp(two + off, "POST", 4) == 0);
    rc = parse_n(two + off, n - off);
    CHECK(rc > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "/b");
    CHECK_EQ_MEM(R.query, R.query_len, "q");
    CHECK_EQ_INT(R.content_length, 2);
    off += (size_t)rc;
    CHECK(memcmp(two + off, "hi", 2) == 0);
    off += 2;
    rc = parse_n(two + off, n - off);
    CHECK_EQ_INT(rc, (int)(n - off));
    CHECK_EQ_MEM(R.path, R.path_len, "/c");
}

/* Every proper prefix of a valid head is HTTP_INCOMPLETE, never an error;
 * parsed from a heap copy of exactly that length so ASan sees any over-read. */
static void check_prefixes(const char *req, size_t n, size_t max_target)
{
    for (size_t i = 0; i < n; i++) {
        char *copy = malloc(i ? i : 1);
        memcpy(copy, req, i);
        int rc = parse_lim(copy, i, 64, max_target);
        if (rc != HTTP_INCOMPLETE) T_FAIL("prefix %zu of \"%.20s...\": got %d", i, req, rc);
        free(copy);
    }
    char *copy = malloc(n);
    memcpy(copy, req, n);
    CHECK_EQ_INT(parse_lim(copy, n, 64, max_target), (int)n);
    free(copy);
}

TEST(every_prefix_incomplete)
{
    static const char *reqs[] = {
        "GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
        "\r\nPOST /a HTTP/1.1\r\nHost: a:80\r\nContent-Length: 12\r\nX-Long: abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) check_prefixes(reqs[i], strlen(reqs[i]), 1024);
    /* a target of exactly max_target bytes is fine at every prefix */
    check_prefixes("GET /abcdefgh HTTP/1.1\r\nHost: a\r\n\r\n", 35, 9);
}

/* ---- request-line rejections ----------------------------------------- */

TEST(method_errors)
{
    CHECK_EQ_INT(P(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    /* 32 tchars are fine, 33 are 501 even before the SP arrives */
    CHECK(P("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_EQ_INT(P("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"), HTTP_ERR_METHOD);
    CHECK_EQ_INT(http_error_status(HTTP_ERR_METHOD), 501);
}

TEST(target_errors)
{
    CHECK_EQ_INT(P("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a  HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a\0 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);        /* HTTP/0.9 */
    CHECK_EQ_INT(P("GET /0123456789abcdef0123456789abcdef#x HTTP/1.1\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET /0123456789abcdef0123456789\xff HTTP/1.1\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
}

TEST(target_too_long_414)
{
    static const char req[] = "GET /abcdefghij HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_EQ_INT(parse_lim(req, sizeof req - 1, 64, 11), (int)sizeof req - 1);
    CHECK_EQ_INT(parse_lim(req, sizeof req - 1, 64, 10), HTTP_ERR_URI_TOO_LONG);
    /* known before the head is complete: 11 target bytes, limit 10 */
    CHECK_EQ_INT(parse_lim(req, 15, 64, 10), HTTP_ERR_URI_TOO_LONG);
    CHECK_EQ_INT(parse_lim(req, 14, 64, 10), HTTP_INCOMPLETE);
    /* long targets (vector path) */
    char big[2100];
    memcpy(big, "GET /", 5);
    memset(big + 5, 'x', 2000);
    CHECK_EQ_INT(parse_lim(big, 2005, 64, 1024), HTTP_ERR_URI_TOO_LONG);
    CHECK_EQ_INT(parse_lim(big, 2005, 64, 4096), HTTP_INCOMPLETE);
    CHECK_EQ_INT(http_error_status(HTTP_ERR_URI_TOO_LONG), 414);
}

TEST(version_errors)
{
    CHECK_EQ_INT(P("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), HTTP_ERR_VERSION);
    CHECK_EQ_INT(P("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), HTTP_ERR_VERSION);
    CHECK_EQ_INT(P("GET / HTTP/0.9\r\n\r\n"), HTTP_ERR_VERSION);
    CHECK_EQ_INT(P("GET / HTTP/2.0"), HTTP_ERR_VERSION);  /* known at once */
    CHECK_EQ_INT(http_error_status(HTTP_ERR_VERSION), 505);
    CHECK_EQ_INT(P("GET / http/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/11\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTPS/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\rHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / FOO"), HTTP_ERR_BAD);  /* garbage shows early */
}

TEST(target_forms)
{
    /* absolute-form: path/query split out, authority recorded as host */
    CHECK(P("GET http://Example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "/p/q");
    CHECK_EQ_MEM(R.query, R.query_len, "x=1");
    CHECK_EQ_MEM(R.host, R.host_len, "Example.com:8080");  /* RFC 9112 3.2.2 */
    CHECK(P("GET HTTPS://h HTTP/1.0\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "/");
    CHECK_EQ_INT(R.query_len, 0);
    CHECK_EQ_MEM(R.host, R.host_len, "h");
    CHECK(P("GET http://h?a=b HTTP/1.0\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "/");
    CHECK_EQ_MEM(R.query, R.query_len, "a=b");
    CHECK_EQ_INT(P("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_ERR_BAD);
    /* HTTP/1.1 still needs a Host field (RFC 9112 3.2) */
    CHECK_EQ_INT(P("GET http://h/ HTTP/1.1\r\n\r\n"), HTTP_ERR_BAD);
    /* asterisk-form: OPTIONS only */
    CHECK(P("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "*");
    CHECK_EQ_INT(P("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK(P("OPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    /* authority-form: CONNECT only, and CONNECT only with it */
    CHECK(P("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "example.com:443");
    CHECK(P("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n") > 0);
    CHECK_EQ_INT(P("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("CONNECT :443 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("CONNECT a:44x HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("CONNECT u@a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    /* origin-form details */
    CHECK(P("GET /?  HTTP/1.1\r\n") == HTTP_ERR_BAD);
    CHECK(P("GET /? HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.path, R.path_len, "/");
    CHECK_EQ_INT(R.query_len, 0);
    CHECK(P("GET /a?b?c HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.query, R.query_len, "b?c");
}

/* ---- header rejections -------------------------------------------------- */

TEST(line_endings)
{
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\n\r\n"), HTTP_ERR_BAD);      /* bare LF */
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\n\n"), HTTP_ERR_BAD);      /* bare LF end */
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), HTTP_ERR_BAD); /* bare CR */
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\n\rX"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX\n: b\r\n\r\n"), HTTP_ERR_BAD);
}

TEST(field_name_errors)
{
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), HTTP_ERR_BAD);  /* space before colon */
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX/y: z\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX\"y: z\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: z\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX\0y: z\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), HTTP_ERR_BAD);
    CHECK(P("GET / HTTP/1.1\r\nHost: a\r\nX!#$%&'*+-.^_`|~9: z\r\n\r\n") > 0);
}

TEST(obs_fold_rejected)
{
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), HTTP_ERR_BAD);  /* WS before 1st field */
}

TEST(value_controls)
{
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1f\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef0123\x0b" "456789\r\n\r\n"),
                 HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef0123\x7f" "456789\r\n\r\n"),
                 HTTP_ERR_BAD);
}

TEST(framing_smuggling)
{
    /* CL + TE */
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
                 HTTP_ERR_BAD);
    /* repeated CL, even equal */
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
                 HTTP_ERR_BAD);
    /* CL syntax */
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\0\r\n\r\n"), HTTP_ERR_BAD);
    /* " 5 " is trimmed OWS and so is fine; a space inside is not */
    CHECK(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\n") > 0);
    CHECK_EQ_INT(R.content_length, 5);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\x0b\r\n\r\n"), HTTP_ERR_BAD);
    /* TE: chunked must be last and once; other codings are 501 */
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                   "Transfer-Encoding: gzip\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), HTTP_ERR_TE);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), HTTP_ERR_TE);
    CHECK_EQ_INT(http_error_status(HTTP_ERR_TE), 501);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\0\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk ed\r\n\r\n"), HTTP_ERR_BAD);
    CHECK(P("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \t\r\n\r\n") > 0);
    /* TE in HTTP/1.0 */
    CHECK_EQ_INT(P("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP_ERR_BAD);
}

TEST(host_rules)
{
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), HTTP_ERR_BAD);
    CHECK_EQ_INT(P("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), HTTP_ERR_BAD);
    CHECK(P("GET / HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n") > 0);
    CHECK_EQ_MEM(R.host, R.host_len, "[::1]:8080");
    CHECK(P("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);  /* empty is allowed (RFC 9112 3.2) */
    CHECK(R.host != NULL);
    CHECK_EQ_INT(R.host_len, 0);
}

TEST(too_many_headers_431)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    CHECK_EQ_INT(parse_lim(req, sizeof req - 1, 3, 100), (int)sizeof req - 1);
    CHECK_EQ_INT(parse_lim(req, sizeof req - 1, 2, 100), HTTP_ERR_TOO_MANY_HEADERS);
    /* known as soon as the third field starts */
    CHECK_EQ_INT(parse_lim(req, 32, 2, 100), HTTP_ERR_TOO_MANY_HEADERS);
    CHECK_EQ_INT(parse_lim(req, 31, 2, 100), HTTP_INCOMPLETE);
    CHECK_EQ_INT(parse_lim("GET / HTTP/1.0\r\n\r\n", 18, 0, 100), 18);
    CHECK_EQ_INT(http_error_status(HTTP_ERR_TOO_MANY_HEADERS), 431);
    CHECK_EQ_INT(http_error_status(HTTP_ERR_BAD), 400);
}

/* ---- chunked decoding ------------------------------------------------- */

typedef struct {
    char payload[4096];
    size_t plen;
    ssize_t rc;       /* final return                                     */
    size_t consumed;  /* input bytes that belonged to the body            */
} dec_result;

/* Decode body[0..n) handed over in pieces ending at the offsets in cuts[]
 * (ascending, last one n), each piece in its own exactly-sized heap buffer. */
static dec_result decode_pieces(const char *body, size_t n, const size_t *cuts, size_t ncuts)
{
    dec_result r;
    http_chunked d;
    size_t from = 0;
    memset(&r, 0, sizeof r);
    r.rc = HTTP_INCOMPLETE;
    http_chunked_init(&d);
    for (size_t i = 0; i < ncuts && r.rc == HTTP_INCOMPLETE; i++) {
        size_t plen = cuts[i] - from;
        char *piece = malloc(plen ? plen : 1);
        memcpy(piece, body + from, plen);
        size_t len = plen;
        r.rc = http_chunked_decode(&d, piece, &len);
        if (len > plen || r.plen + len > sizeof r.payload) abort();
        memcpy(r.payload + r.plen, piece, len);
        r.plen += len;
        if (r.rc >= 0) {
            if ((size_t)r.rc > plen) abort();
            /* the bytes after the body are still where they were */
            if (memcmp(piece + plen - (size_t)r.rc, body + cuts[i] - (size_t)r.rc, (size_t)r.rc)) abort();
            r.consumed = cuts[i] - (size_t)r.rc;
        }
        free(piece);
        from = cuts[i];
    }
    return r;
}

static dec_result decode_all(const char *body, size_t n)
{
    size_t cut = n;
    return decode_pieces(body, n, &cut, 1);
}

/* Two decodes of the same body agree: same outcome, same payload, and (when
 * complete) the body ended at the same input offset. The return value itself
 * differs by split, since it counts bytes left in the last piece only. */
static bool same_result(const dec_result *a, const dec_result *b)
{
    if ((a->rc >= 0) != (b->rc >= 0)) return false;
    if (a->rc < 0 && a->rc != b->rc) return false;
    return a->plen == b->plen && memcmp(a->payload, b->payload, a->plen) == 0 &&
           a->consumed == b->consumed;
}

/* One-shot, every 2-way split, byte-at-a-time and (for short bodies) every
 * 3-way split must agree exactly with the expectation. */
static void check_chunked(const char *body, size_t n, ssize_t want_rc, const char *want_payload)
{
    size_t cuts[4096];
    dec_result a = decode_all(body, n);
    t_checks++;
    if (a.rc != want_rc) {
        T_FAIL("one-shot rc %zd, want %zd for \"%.30s\"", a.rc, want_rc, body);
        return;
    }
    if (want_rc >= 0 && (a.plen != strlen(want_payload) || memcmp(a.payload, want_payload, a.plen))) {
        T_FAIL("one-shot payload \"%.*s\", want \"%s\"", (int)a.plen, a.payload, want_payload);
        return;
    }
    for (size_t i = 0; i <= n; i++) {
        size_t c2[2] = { i, n };
        dec_result b = decode_pieces(body, n, c2, 2);
        if (!same_result(&a, &b)) {
            T_FAIL("split at %zu differs (rc %zd vs %zd) for \"%.30s\"", i, b.rc, a.rc, body);
            return;
        }
    }
    if (n < sizeof cuts / sizeof cuts[0]) {
        for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
        dec_result b = decode_pieces(body, n, cuts, n);
        if (!same_result(&a, &b)) {
            T_FAIL("byte-at-a-time differs (rc %zd vs %zd) for \"%.30s\"", b.rc, a.rc, body);
            return;
        }
    }
    if (n <= 80) {
        for (size_t i = 0; i <= n; i++)
            for (size_t j = i; j <= n; j++) {
                size_t c3[3] = { i, j, n };
                dec_result b = decode_pieces(body, n, c3, 3);
                if (!same_result(&a, &b)) {
                    T_FAIL("split at %zu,%zu differs for \"%.30s\"", i, j, body);
                    return;
                }
            }
    }
}
#define CHUNKED(lit, rc, payload) check_chunked((lit), sizeof(lit) - 1, (rc), (payload))

TEST(chunked_valid)
{
    CHUNKED("5\r\nhello\r\n0\r\n\r\n", 0, "hello");
    CHUNKED("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, "hello world");
    CHUNKED("0\r\n\r\n", 0, "");
    CHUNKED("000\r\n\r\n", 0, "");
    CHUNKED("A\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789");
    CHUNKED("a\r\n0123456789\r\n1F\r\n0123456789012345678901234567890\r\n0\r\n\r\n", 0,
            "01234567890123456789012345678901234567890");
    CHUNKED("0000000000000003\r\nabc\r\n0\r\n\r\n", 0, "abc");  /* 16 digits */
    /* data may hold CR, LF, NUL and anything else */
    CHUNKED("4\r\n\r\n\n\r\r\n0\r\n\r\n", 0, "\r\n\n\r");
}

TEST(chunked_extensions_and_trailers)
{
    CHUNKED("5;foo=bar\r\nhello\r\n0\r\n\r\n", 0, "hello");
    CHUNKED("5;a;b=c;d=\"q \\\" ;x\"\r\nhello\r\n0;last\r\n\r\n", 0, "hello");
    CHUNKED("5 ; a = b ;c\t=\t\"\"\r\nhello\r\n0\r\n\r\n", 0, "hello");
    CHUNKED("3;x=\"caf\xc3\xa9\"\r\nabc\r\n0\r\n\r\n", 0, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum: \t1 2\t\r\n\r\n", 0, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nX-Empty:\r\n\r\n", 0, "abc");
    /* pipelined next request after the last chunk */
    CHUNKED("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 16, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nT: 1\r\n\r\nX", 1, "abc");
}

TEST(chunked_invalid)
{
    CHUNKED("-1\r\nx\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("0x5\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("+5\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("fffffffffffffffff\r\n", HTTP_ERR_BAD, "");          /* 17 digits */
    CHUNKED("00000000000000005\r\nhello\r\n", HTTP_ERR_BAD, "");  /* 17 digits */
    CHUNKED("8000000000000000\r\n", HTTP_ERR_BAD, "");           /* 2^63 */
    CHUNKED("\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");         /* empty size line */
    CHUNKED(" 5\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5 \r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");       /* BWS without ';' */
    CHUNKED("5\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");          /* bare LF */
    CHUNKED("5\rhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");          /* bare CR */
    CHUNKED("5\r\nhelloX\r\n0\r\n\r\n", HTTP_ERR_BAD, "hello");  /* data too long */
    CHUNKED("5\r\nhello\n0\r\n\r\n", HTTP_ERR_BAD, "hello");
    CHUNKED("5\r\nhello\r\n0\r\n\n", HTTP_ERR_BAD, "hello");
    CHUNKED("5\r\nhello\r\n0\n\r\n", HTTP_ERR_BAD, "hello");
    CHUNKED("5;\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");       /* empty ext name */
    CHUNKED("5;a=\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5;a b\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5;a=\"x\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");   /* unterminated quote */
    CHUNKED("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5;a=b \r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5;a=\x01\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", HTTP_ERR_BAD, "");
    CHUNKED("3\r\nabc\r\n0\r\n X: 1\r\n\r\n", HTTP_ERR_BAD, "abc");   /* obs-fold */
    CHUNKED("3\r\nabc\r\n0\r\nX : 1\r\n\r\n", HTTP_ERR_BAD, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nX: a\0b\r\n\r\n", HTTP_ERR_BAD, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nX: a\nb\r\n\r\n", HTTP_ERR_BAD, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nX: a\r\n\r\r\n", HTTP_ERR_BAD, "abc");
    CHUNKED("3\r\nabc\r\n0\r\nNoColon\r\n\r\n", HTTP_ERR_BAD, "abc");
    /* incomplete bodies stay incomplete */
    CHUNKED("5\r\nhel", HTTP_INCOMPLETE, "");
    CHUNKED("5\r\nhello\r\n0\r\n", HTTP_INCOMPLETE, "");
    CHUNKED("7fffffffffffffff\r\nabc", HTTP_INCOMPLETE, "");
}

TEST(chunked_limits)
{
    static char big[40000];
    http_chunked d;
    size_t n, len;

    /* 8 KiB of trailers is the most */
    n = (size_t)sprintf(big, "1\r\nx\r\n0\r\n");
    while (n < 8300) n += (size_t)sprintf(big + n, "X-Pad: %0100d\r\n", 0);
    n += (size_t)sprintf(big + n, "\r\n");
    http_chunked_init(&d);
    len = n;
    CHECK_EQ_INT(http_chunked_decode(&d, big, &len), HTTP_ERR_BAD);
    /* a sticky error */
    len = 3;
    CHECK_EQ_INT(http_chunked_decode(&d, (char[]){ "0\r\n" }, &len), HTTP_ERR_BAD);

    n = (size_t)sprintf(big, "1\r\nx\r\n0\r\n");
    while (n < 7900) n += (size_t)sprintf(big + n, "X-Pad: %0100d\r\n", 0);
    n += (size_t)sprintf(big + n, "\r\n");
    http_chunked_init(&d);
    len = n;
    CHECK_EQ_INT(http_chunked_decode(&d, big, &len), 0);
    CHECK_EQ_INT(len, 1);

    /* chunk extensions: at most 16 KiB over the whole body */
    n = 0;
    for (int i = 0; i < 30; i++) n += (size_t)sprintf(big + n, "1;ext=%0990d\r\nx\r\n", i);
    n += (size_t)sprintf(big + n, "0\r\n\r\n");
    http_chunked_init(&d);
    len = n;
    CHECK_EQ_INT(http_chunked_decode(&d, big, &len), HTTP_ERR_BAD);
    n = 0;
    for (int i = 0; i < 15; i++) n += (size_t)sprintf(big + n, "1;ext=%0990d\r\nx\r\n", i);
    n += (size_t)sprintf(big + n, "0\r\n\r\n");
    http_chunked_init(&d);
    len = n;
    CHECK_EQ_INT(http_chunked_decode(&d, big, &len), 0);
    CHECK_EQ_INT(len, 15);

    /* after completion every further byte is "not ours" */
    char more[] = "GET";
    len = 3;
    CHECK_EQ_INT(http_chunked_decode(&d, more, &len), 3);
    CHECK_EQ_INT(len, 0);
}

TEST(chunked_big_chunk_in_pieces)
{
    /* a 3000-byte chunk arriving in 7-byte reads, payload moved to the front */
    static char body[3100];
    size_t n = (size_t)sprintf(body, "bb8\r\n");
    for (int i = 0; i < 3000; i++) body[n++] = (char)('a' + i % 26);
    n += (size_t)sprintf(body + n, "\r\n0\r\n\r\n");
    size_t cuts[500], k = 0;
    for (size_t c = 7; c < n; c += 7) cuts[k++] = c;
    cuts[k++] = n;
    dec_result r = decode_pieces(body, n, cuts, k);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.plen, 3000);
    CHECK(memcmp(r.payload, body + 5, 3000) == 0);
}

/* llhttp refuses framing fields in a chunked trailer; so do we, at any split. */
TEST(chunked_trailer_framing_fields)
{
#define B(s) s, sizeof(s) - 1
    check_chunked(B("5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"), HTTP_ERR_BAD, NULL);
    check_chunked(B("5\r\nhello\r\n0\r\ncontent-LENGTH:5\r\n\r\n"), HTTP_ERR_BAD, NULL);
    check_chunked(B("5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP_ERR_BAD, NULL);
    check_chunked(B("5\r\nhello\r\n0\r\nX-Content-Length: 5\r\n\r\n"), 0, "hello");
    check_chunked(B("5\r\nhello\r\n0\r\nContent-Lengths: 5\r\n\r\n"), 0, "hello");
    check_chunked(B("5\r\nhello\r\n0\r\nContent-Lengt: 5\r\n\r\n"), 0, "hello");
#undef B
}

int main(void) { return t_run(); }
