/*
 * redis_url.c -- KILN_REDIS_URL, parsed: redis://[[user]:password@]host[:port][/db]
 * where host is a name, an IPv4 address or an IPv6 address in brackets
 * (redis://[::1]:6379/0, as in RFC 3986).
 *
 * Pure (no I/O, no allocation): unit-tested in tests/unit/realtime. A URL
 * it refuses gets one reason, for the log line that says channels stay on
 * this machine. rediss:// (TLS) is refused plainly: Debian's hiredis is
 * built without TLS.
 *
 * Owns: nothing (fills the caller's redis_url).
 * Must never: read past the string, accept what it cannot use (a port out of
 * range, an unbracketed IPv6 address, text after the database number).
 */
#include "realtime/bridge.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Digits only, at most max: the value, or -1. */
static long number(const char *p, size_t n, long max)
{
    if (n == 0 || n > 10) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v <= max ? v : -1;
}

const char *redis_url_parse(const char *url, redis_url *out)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "rediss://", 9) == 0) return "rediss:// (TLS) is not supported: this hiredis has no TLS";
    if (strncmp(url, "redis://", 8) != 0) return "the URL does not start with redis://";
    const char *p = url + 8;
    /* The password: after the last '@' come only host, port and db. */
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;      /* user:password@ or password@ */
        size_t n = (size_t)(at - pw);
        if (n >= sizeof out->password) return "the password is too long";
        memcpy(out->password, pw, n);
        out->password[n] = 0;
        p = at + 1;
    }
    unsigned char a6[16];
    if (*p == '[') {
        const char *close = strchr(p, ']');
        const char *end = p + strcspn(p, "/");
        if (!close || close > end) return "'[' without its ']' around the IPv6 address";
        size_t hl = (size_t)(close - p - 1);
        if (hl == 0) return "empty [] where the IPv6 address goes";
        if (hl >= sizeof out->host) return "the host is too long";
        memcpy(out->host, p + 1, hl);
        out->host[hl] = 0;
        if (inet_pton(AF_INET6, out->host, a6) != 1) return "what is inside [ ] is not an IPv6 address";
        out->numeric = true;
        p = close + 1;
        if (*p && *p != ':' && *p != '/') return "only :port or /db may follow ']'";
    } else {
        size_t hl = strcspn(p, ":/");
        if (hl == 0) return "no host";
        if (hl >= sizeof out->host) return "the host is too long";
        if (memchr(p, ']', hl) || memchr(p, '[', hl)) return "a bracket in the host: write an IPv6 address as [::1]";
        for (size_t i = 0; i < hl; i++)
            if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) return "a space or control character in the host";
        memcpy(out->host, p, hl);
        out->host[hl] = 0;
        p += hl;
        /* host:port:... -- an IPv6 address without its brackets. */
        if (*p == ':' && memchr(p + 1, ':', strcspn(p + 1, "/")))
            return "an IPv6 address needs brackets: redis://[::1]:6379";
        out->numeric = inet_pton(AF_INET, out->host, a6) == 1;
    }
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        long v = number(p + 1, n, 65535);
        if (v <= 0) return "the port is not a number from 1 to 65535";
        out->port = (int)v;
        p += 1 + n;
    }
    if (*p == '/' && p[1]) {
        long v = number(p + 1, strlen(p + 1), 1L << 30);
        if (v < 0) return "the database is not a number (redis://host:port/0)";
        out->db = (int)v;
    }
    return NULL;
}
