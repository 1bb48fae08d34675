/*
 * fuzz_sentry.c -- the untrusted text src/report/ reads: the traceparent
 * header a caller sends (report/trace.c), the X-Sentry-Rate-Limits and
 * Retry-After headers a Sentry server answers with, and a DSN
 * (report/envelope.c).
 *
 * The first byte picks the parser; the rest is its input. Properties checked
 * (abort() on failure):
 *   - trace_parse accepts only what the W3C rules allow (checked here by an
 *     independent reading: length, dashes, lowercase hex, not all zero, no
 *     version ff, exactly 55 bytes for version 00, '-' after 55 otherwise);
 *     what it returns is the input's own ids; trace_begin always yields
 *     32 + 16 lowercase hex ids, never all zero;
 *   - the rate-limit and Retry-After parsers never read past the input and
 *     return at most 100000000 seconds (a bound that was once missed);
 *   - a DSN that parses gives an endpoint URL that starts with http:// or
 *     https://, ends with /api/<digits>/envelope/, and a non-empty key of
 *     the input's own characters.
 */
#include "report/report.h"
#include "report/trace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool lhex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) if (!strchr("0123456789abcdef", s[i]) || !s[i]) return false;
    return true;
}

static bool zeros(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) if (s[i] != '0') return false;
    return true;
}

static bool valid_traceparent(const char *h, size_t n)
{
    if (n < 55 || !lhex(h, 2) || (h[0] == 'f' && h[1] == 'f')) return false;
    if (h[0] == '0' && h[1] == '0' ? n != 55 : (n > 55 && h[55] != '-')) return false;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
    return lhex(h + 3, 32) && !zeros(h + 3, 32) && lhex(h + 36, 16) && !zeros(h + 36, 16) && lhex(h + 53, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned which = data[0] % 4;
    size_t n = size - 1;
    /* An exact-size heap copy: ASan sees any read past the end. */
    char *s = malloc(n ? n : 1);
    if (n) memcpy(s, data + 1, n);
    if (which == 0) {
        trace_ctx t;
        bool ok = trace_parse(s, n, &t);
        if (ok != valid_traceparent(s, n)) abort();
        if (ok && (memcmp(t.trace_id, s + 3, 32) || memcmp(t.parent_id, s + 36, 16))) abort();
        trace_ctx b;
        trace_begin(s, n, &b);
        if (strlen(b.trace_id) != 32 || !lhex(b.trace_id, 32) || zeros(b.trace_id, 32)) abort();
        if (strlen(b.span_id) != 16 || !lhex(b.span_id, 16) || zeros(b.span_id, 16)) abort();
        if (ok && memcmp(b.trace_id, t.trace_id, 33)) abort();
        if (strcmp(b.flags, "00") && strcmp(b.flags, "01")) abort();
    } else if (which == 1) {
        if (report_parse_rate_limits(s, n) > 100000000u) abort();
    } else if (which == 2) {
        unsigned v = report_parse_retry_after(s, n, 60);
        if (v > 100000000u) abort();
    } else {
        char *z = malloc(n + 1);
        memcpy(z, s, n);
        z[n] = '\0';
        report_dsn d;
        if (report_dsn_parse(z, &d) == 0) {
            size_t ul = strlen(d.url);
            if (strncmp(d.url, "http://", 7) && strncmp(d.url, "https://", 8)) abort();
            if (ul < 10 || strcmp(d.url + ul - 10, "/envelope/")) abort();
            if (!strstr(d.url, "/api/") || !d.key[0] || !d.project[0]) abort();
            for (const char *p = d.project; *p; p++) if (*p < '0' || *p > '9') abort();
            if (!strstr(z, d.key)) abort();
        }
        free(z);
    }
    free(s);
    return 0;
}
