/*
 * fuzz_redis_url.c -- redis_url_parse (KILN_REDIS_URL) on any bytes, with
 * its properties checked (abort on a broken one). Operator configuration
 * rather than untrusted input, but a parser that must never read past the
 * string nor accept what Kiln cannot connect to:
 *  - it answers (a reason or NULL) without reading outside the string;
 *  - what it accepts begins with redis://, has a host of no control bytes,
 *    brackets or '/', a port from 1 to 65535 and a database >= 0;
 *  - a host with ':' is an IPv6 address (inet_pton agrees) that the URL
 *    wrote in brackets, and is numeric; a numeric host without ':' is IPv4;
 *  - parsing is a function of the bytes: twice gives the same result.
 */
#include "realtime/bridge.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024) return 0;
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    redis_url u, v;
    const char *why = redis_url_parse(s, &u);
    const char *why2 = redis_url_parse(s, &v);
    CHECK((why == NULL) == (why2 == NULL));
    if (!why) {
        CHECK(memcmp(&u, &v, sizeof u) == 0);
        CHECK(!strncmp(s, "redis://", 8));
        size_t hl = strlen(u.host);
        CHECK(hl > 0 && hl < sizeof u.host);
        for (size_t i = 0; i < hl; i++)
            CHECK((unsigned char)u.host[i] > ' ' && u.host[i] != '[' && u.host[i] != ']' && u.host[i] != '/');
        CHECK(u.port >= 1 && u.port <= 65535);
        CHECK(u.db >= 0);
        CHECK(strlen(u.password) < sizeof u.password);
        unsigned char a[16];
        if (strchr(u.host, ':')) {
            CHECK(u.numeric && inet_pton(AF_INET6, u.host, a) == 1);
            char want[300];
            snprintf(want, sizeof want, "[%s]", u.host);
            CHECK(strstr(s, want) != NULL);
        } else if (u.numeric) {
            CHECK(inet_pton(AF_INET, u.host, a) == 1);
        }
    } else {
        CHECK(*why != 0);
    }
    free(s);
    return 0;
}
