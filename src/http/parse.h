/*
 * parse.h -- the HTTP/1.1 request parser: a small, stateless unit
 * (picohttpparser's shape) that never allocates and never copies.
 *
 * http_parse_request() looks at buf[0..len) and, when a whole request head
 * (request line + header fields + the empty line) is there, fills `out` with
 * slices pointing INTO buf and returns the number of bytes the head takes.
 * It is strict RFC 9112, with request smuggling closed (see parse.c).
 *
 * Return values:
 *   > 0                the head is complete; that many bytes were consumed
 *   HTTP_INCOMPLETE    need more bytes (the caller enforces the size limit
 *                      and answers 431 when the head grows past it)
 *   HTTP_ERR_*         a malformed or forbidden request: answer the status
 *                      http_error_status() gives, then close the connection
 */
#ifndef KILN_HTTP_PARSE_H
#define KILN_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

enum {
    HTTP_INCOMPLETE = -1,
    HTTP_ERR_BAD = -2,            /* 400: malformed syntax                        */
    HTTP_ERR_TOO_MANY_HEADERS = -3, /* 431: more than max_headers fields          */
    HTTP_ERR_VERSION = -4,        /* 505: not HTTP/1.0 or HTTP/1.1                */
    HTTP_ERR_METHOD = -5,         /* 501: method token too long (> 32)            */
    HTTP_ERR_URI_TOO_LONG = -6,   /* 414: request-target longer than the limit    */
    HTTP_ERR_TE = -7,             /* 501: transfer coding we do not implement     */
};

typedef struct http_header {
    const char *name;  size_t name_len;   /* as sent (case preserved)           */
    const char *value; size_t value_len;  /* leading/trailing OWS stripped      */
} http_header;

typedef struct http_request {
    const char *method;  size_t method_len;
    const char *target;  size_t target_len;  /* request-target as sent          */
    const char *path;    size_t path_len;    /* origin path (absolute-form: the
                                                path part; "*" for OPTIONS *)   */
    const char *query;   size_t query_len;   /* after '?', without it; len 0 if none */
    int minor_version;                       /* 0 or 1                          */
    http_header *headers;                    /* caller's array                  */
    size_t num_headers;                      /* out: fields found               */

    /* Framing facts the parser derives (and validates) from the fields: */
    int64_t content_length;  /* -1 when absent                              */
    bool chunked;            /* Transfer-Encoding: chunked (final coding)   */
    bool keep_alive;         /* persistent after this request (version and
                                Connection: close / keep-alive considered)  */
    bool expect_continue;    /* Expect: 100-continue                        */
    const char *host; size_t host_len; /* the Host field, NULL if absent     */
} http_request;

/* max_headers: capacity of out->headers (the caller sets out->headers).
 * max_target: longest request-target accepted (414 beyond). */
int http_parse_request(const char *buf, size_t len, http_request *out,
                       size_t max_headers, size_t max_target);

/* The status code to answer for an HTTP_ERR_* value (400, 431, 505 ...). */
int http_error_status(int err);

/* ---- Chunked transfer coding -----------------------------------------
 * Decodes in place, across as many reads as it takes. Each call looks at
 * buf[0..*len), moves the decoded payload to the front of buf and sets *len
 * to the payload bytes now there. Returns:
 *   HTTP_INCOMPLETE   more input needed (all of buf was consumed)
 *   >= 0              the body is complete; the value is how many bytes of
 *                     the input, counted from the END of the input given,
 *                     were NOT part of the body (a pipelined next request);
 *                     they still sit at the end of the original input, i.e.
 *                     at buf + original_len - returned
 *   HTTP_ERR_BAD      malformed (bad size, missing CRLF, bare LF/CR, size
 *                     overflow, chunk-size over 16 hex digits)
 * Chunk extensions are validated and ignored; trailer fields are validated
 * and dropped (max 8 KiB of trailers). */
typedef struct http_chunked {
    int state;           /* private                                          */
    uint64_t remaining;  /* private: bytes left in the current chunk         */
    size_t aux;          /* private: counters (hex digits, trailer bytes)    */
    unsigned name_pos;   /* private: bytes of the current trailer name       */
    unsigned name_match; /* private: still matching Content-Length (1) or
                            Transfer-Encoding (2): framing fields are refused
                            in trailers, as llhttp does                      */
} http_chunked;

void http_chunked_init(http_chunked *d);
ssize_t http_chunked_decode(http_chunked *d, char *buf, size_t *len);

/* status.c: "Not Found" for 404; a class name ("Client Error") for codes
 * without a phrase of their own. */
const char *http_reason(int status);

#endif
