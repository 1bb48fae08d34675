// Build/run: gcc -O2 -Iinclude -Isrc bench/parser_bench.c src/http/parse.c src/core/*.c -o /tmp/pb && /tmp/pb [iterations]
/*
 * parser_bench.c -- how fast http_parse_request() reads a typical browser
 * request head (300 bytes, 6 fields) and a short wrk-style head. Prints
 * ns/request and MB/s for each. Standalone: not part of `make test`.
 */
#include "http/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char browser_req[] =
    "GET /api/posts/42?include=author&limit=10 HTTP/1.1\r\n"
    "Host: localhost:3000\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: application/json,text/plain,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

static const char wrk_req[] =
    "GET /api/hello HTTP/1.1\r\n"
    "Host: 127.0.0.1:3000\r\n"
    "\r\n";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run(const char *label, const char *req, long iters)
{
    size_t len = strlen(req);
    http_header headers[64];
    http_request r;
    long sink = 0;

    r.headers = headers;
    for (long i = 0; i < iters / 10; i++)  /* warm up */
        sink += http_parse_request(req, len, &r, 64, 8192);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        r.headers = headers;
        int rc = http_parse_request(req, len, &r, 64, 8192);
        if (rc != (int)len) {
            fprintf(stderr, "%s: parse returned %d, expected %zu\n", label, rc, len);
            exit(1);
        }
        sink += rc + (long)r.num_headers;
        __asm__ volatile("" ::: "memory");  /* keep the loop honest */
    }
    double dt = now_ns() - t0;
    double ns = dt / (double)iters;
    printf("%-8s %3zu bytes  %7.1f ns/request  %8.1f MB/s  (%ld iterations, sink %ld)\n",
           label, len, ns, (double)len * 1e3 / ns, iters, sink % 7);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    run("browser", browser_req, iters);
    run("wrk", wrk_req, iters);
    return 0;
}
