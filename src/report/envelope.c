/*
 * envelope.c -- Sentry's wire format: the DSN, the auth header, an event as
 * JSON, the envelope that carries it (with a client report of what was
 * dropped) and the rate-limit headers a Sentry server answers with.
 *
 * Formats followed: develop.sentry.dev "Envelopes", "Event Payloads",
 * "Client Reports" and "Rate Limiting". Everything here is a pure function
 * of its arguments (random ids aside), so the unit tests and the fuzzer
 * (tests/fuzz/fuzz_sentry_limits.c, for the headers a server sends us) see
 * exactly what production sends.
 *
 * Owns: nothing. Must never: put a header or field named like a secret into
 * an event (callers scrub with report_sensitive_name), or emit invalid JSON
 * (every string goes through json_escape).
 */
#include "report/report.h"
#include "json/json.h"
#include "kiln.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- DSN ------------------------------------------------------------- */

int report_dsn_parse(const char *dsn, report_dsn *out)
{
    memset(out, 0, sizeof *out);
    if (!dsn) return -1;
    const char *scheme_end = strstr(dsn, "://");
    if (!scheme_end) return -1;
    size_t sl = (size_t)(scheme_end - dsn);
    if (!((sl == 4 && !strncmp(dsn, "http", 4)) || (sl == 5 && !strncmp(dsn, "https", 5)))) return -1;
    const char *p = scheme_end + 3;
    const char *at = strchr(p, '@');
    if (!at) return -1;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    size_t kl = (size_t)((colon ? colon : at) - p);
    if (kl == 0 || kl >= sizeof out->key) return -1;
    memcpy(out->key, p, kl);
    const char *host = at + 1;
    const char *last = strrchr(host, '/');
    if (!last || last == host) return -1;
    const char *proj = last + 1;
    size_t pl = strlen(proj);
    if (pl == 0 || pl >= sizeof out->project) return -1;
    for (size_t i = 0; i < pl; i++) if (!isdigit((unsigned char)proj[i])) return -1;
    memcpy(out->project, proj, pl);
    /* host[:port][/path] up to the last slash */
    size_t hl = (size_t)(last - host);
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '?' || host[i] == '#') return -1;
    int n = snprintf(out->url, sizeof out->url, "%.*s://%.*s/api/%s/envelope/", (int)sl, dsn, (int)hl, host, out->project);
    if (n < 0 || (size_t)n >= sizeof out->url) return -1;
    return 0;
}

void report_auth_header(const report_dsn *d, char *out, size_t cap)
{
    snprintf(out, cap, "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=%s, sentry_client=kiln/%s",
             d->key, KILN_VERSION);
}

/* ---- ids -------------------------------------------------------------- */

/* Ids are drawn from xorshift128+, seeded per thread from getrandom() and
 * seeded again in a forked child (it would repeat its parent's ids): two
 * syscalls per request would cost more than the rest of the trace context.
 * The ids must be unique, not secret. Async-signal-safe (plain arithmetic;
 * a crash interrupting a draw may at worst repeat one id). */
static unsigned rng_generation = 1;        /* bumped in every forked child */
static __thread unsigned rng_seeded_for;
static __thread uint64_t rng_s[2];

static void rng_after_fork(void) { rng_generation++; }

static uint64_t rng_next(void)
{
    if (UNLIKELY(rng_seeded_for != rng_generation)) {
        if (getrandom(rng_s, sizeof rng_s, 0) != (ssize_t)sizeof rng_s) {
            rng_s[0] = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
            rng_s[1] = (uint64_t)(uintptr_t)&rng_s ^ 0x9e3779b97f4a7c15ull;
        }
        if (!rng_s[0] && !rng_s[1]) rng_s[1] = 1;
        rng_seeded_for = rng_generation;
    }
    uint64_t a = rng_s[0], b = rng_s[1];
    rng_s[0] = b;
    a ^= a << 23;
    rng_s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return rng_s[1] + b;
}

__attribute__((constructor)) static void rng_register_fork(void) { pthread_atfork(NULL, NULL, rng_after_fork); }

/* Eight lowercase hex digits of x, one per byte of the result, in the
 * order of its nibbles from the lowest (the ids are random: any fixed
 * order will do), without a loop or a table. */
static uint64_t hex8(uint32_t x)
{
    uint64_t v = x;
    v = (v | v << 16) & 0x0000FFFF0000FFFFull;
    v = (v | v << 8) & 0x00FF00FF00FF00FFull;
    v = (v | v << 4) & 0x0F0F0F0F0F0F0F0Full;              /* a nibble per byte */
    uint64_t letters = ((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;   /* 1 where >= 10 */
    return v + 0x3030303030303030ull + letters * ('a' - '0' - 10);
}

static void random_hex(char *out, size_t nhex)
{
    for (size_t i = 0; i < nhex; i += 16) {
        uint64_t v = rng_next();
        uint64_t t[2] = { hex8((uint32_t)v), hex8((uint32_t)(v >> 32)) };
        memcpy(out + i, t, nhex - i < 16 ? nhex - i : 16);
    }
    out[nhex] = '\0';
}

void report_new_event_id(char out[33]) { random_hex(out, 32); }

void report_new_span_id(char out[17])
{
    do random_hex(out, 16); while (!strcmp(out, "0000000000000000"));
}

/* ---- scrubbing -------------------------------------------------------- */

static bool contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(s + i, needle, k)) return true;
    return false;
}

bool report_sensitive_name(const char *name, size_t len)
{
    static const char *const exact[] = { "authorization", "proxy-authorization", "cookie", "set-cookie" };
    for (size_t i = 0; i < ARRAY_LEN(exact); i++)
        if (strlen(exact[i]) == len && !strncasecmp(name, exact[i], len)) return true;
    static const char *const like[] = { "token", "secret", "password", "passwd", "api-key", "apikey",
                                        "api_key", "session", "csrf", "xsrf", "auth", "credential" };
    for (size_t i = 0; i < ARRAY_LEN(like); i++)
        if (contains_ci(name, len, like[i])) return true;
    return false;
}

/* ---- the event -------------------------------------------------------- */

static void put_str(buf *b, const char *key, const char *v)
{
    if (!v) return;
    buf_printf(b, ",\"%s\":", key);
    json_escape(b, v, strlen(v));
}

static void put_ts(buf *b, double ts)
{
    buf_printf(b, "%.6f", ts);
}

void report_event_json(buf *b, const report_event *e, const report_settings *s)
{
    buf_puts(b, "{\"event_id\":\"");
    buf_puts(b, e->event_id);
    buf_puts(b, "\",\"timestamp\":");
    put_ts(b, e->timestamp);
    buf_puts(b, ",\"platform\":\"c\",\"logger\":\"kiln\"");
    put_str(b, "level", e->level ? e->level : "error");
    put_str(b, "server_name", s->server_name);
    put_str(b, "release", s->release);
    put_str(b, "environment", s->environment);
    put_str(b, "transaction", e->transaction && *e->transaction ? e->transaction : NULL);
    buf_printf(b, ",\"sdk\":{\"name\":\"kiln\",\"version\":\"%s\"}", KILN_VERSION);
    if (e->message) {
        buf_puts(b, ",\"message\":{\"formatted\":");
        json_escape(b, e->message, strlen(e->message));
        buf_putc(b, '}');
    }
    if (e->exc_type) {
        buf_puts(b, ",\"exception\":{\"values\":[{\"type\":");
        json_escape(b, e->exc_type, strlen(e->exc_type));
        put_str(b, "value", e->exc_value);
        buf_puts(b, ",\"mechanism\":{\"type\":\"kiln\",\"handled\":false}");
        if (e->nframes) {
            buf_puts(b, ",\"stacktrace\":{\"frames\":[");
            for (size_t i = 0; i < e->nframes; i++) {
                const report_frame *f = &e->frames[i];
                buf_puts(b, i ? ",{\"function\":" : "{\"function\":");
                json_escape(b, f->function ? f->function : "?", strlen(f->function ? f->function : "?"));
                put_str(b, "filename", f->file);
                if (f->line > 0) buf_printf(b, ",\"lineno\":%ld", f->line);
                buf_printf(b, ",\"in_app\":%s}", f->in_app ? "true" : "false");
            }
            buf_puts(b, "]}");
        }
        buf_puts(b, "}]}");
    }
    if (e->method) {
        buf_puts(b, ",\"request\":{");
        buf_puts(b, "\"method\":");
        json_escape(b, e->method, strlen(e->method));
        put_str(b, "url", e->url);
        put_str(b, "query_string", e->query && *e->query ? e->query : NULL);
        buf_puts(b, ",\"headers\":{");
        for (size_t i = 0; i < e->nheaders; i++) {
            if (i) buf_putc(b, ',');
            json_escape(b, e->headers[i].name, strlen(e->headers[i].name));
            buf_putc(b, ':');
            json_escape(b, e->headers[i].value, strlen(e->headers[i].value));
        }
        buf_puts(b, "}}");
    }
    if (e->user_id > 0) buf_printf(b, ",\"user\":{\"id\":\"%lld\"}", (long long)e->user_id);
    buf_puts(b, ",\"tags\":{");
    if (e->worker >= 0) buf_printf(b, "\"worker\":\"%d\"", e->worker);
    else buf_puts(b, "\"worker\":\"master\"");
    put_str(b, "route", e->transaction && *e->transaction ? e->transaction : NULL);
    put_str(b, "method", e->method);
    put_str(b, "request_id", e->request_id);
    put_str(b, "graphql.operation", e->gql_operation);
    buf_putc(b, '}');
    if (e->trace_id) {
        buf_puts(b, ",\"contexts\":{\"trace\":{\"type\":\"trace\",\"op\":\"http.server\"");
        put_str(b, "trace_id", e->trace_id);
        put_str(b, "span_id", e->span_id);
        put_str(b, "parent_span_id", e->parent_span_id);
        buf_puts(b, "}}");
    }
    if (e->ncrumbs) {
        buf_puts(b, ",\"breadcrumbs\":{\"values\":[");
        for (size_t i = 0; i < e->ncrumbs; i++) {
            const report_crumb *c = &e->crumbs[i];
            buf_puts(b, i ? ",{\"timestamp\":" : "{\"timestamp\":");
            put_ts(b, c->ts);
            buf_puts(b, ",\"category\":\"log\"");
            put_str(b, "level", c->level);
            put_str(b, "message", c->message);
            if (c->data && *c->data) {
                /* Only a well-formed object goes in (the data is a log line's
                 * own fields; a truncated one is left out). */
                buf tmp;
                buf_init(&tmp, strlen(c->data) + 3);
                buf_putc(&tmp, '{');
                buf_puts(&tmp, c->data);
                buf_putc(&tmp, '}');
                arena a;
                arena_init(&a, 1024);
                if (json_parse(&a, tmp.data, tmp.len, NULL)) {
                    buf_puts(b, ",\"data\":");
                    buf_append(b, tmp.data, tmp.len);
                }
                arena_destroy(&a);
                buf_free(&tmp);
            }
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
    }
    if (e->request_id || e->sql || e->status || e->gql_path || e->gql_operation) {
        buf_puts(b, ",\"extra\":{");
        bool first = true;
        if (e->request_id) { buf_puts(b, "\"request_id\":"); json_escape(b, e->request_id, strlen(e->request_id)); first = false; }
        if (e->sql) { buf_puts(b, first ? "\"sql\":" : ",\"sql\":"); json_escape(b, e->sql, strlen(e->sql)); first = false; }
        if (e->status) { buf_puts(b, first ? "\"status\":" : ",\"status\":"); json_escape(b, e->status, strlen(e->status)); first = false; }
        if (e->gql_path) { buf_puts(b, first ? "\"graphql_path\":" : ",\"graphql_path\":"); json_escape(b, e->gql_path, strlen(e->gql_path)); first = false; }
        if (e->gql_operation) { buf_puts(b, first ? "\"graphql_operation\":" : ",\"graphql_operation\":"); json_escape(b, e->gql_operation, strlen(e->gql_operation)); }
        buf_putc(b, '}');
    }
    buf_putc(b, '}');
}

/* ---- envelopes -------------------------------------------------------- */

static void iso_now(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void report_envelope(buf *out, const char *event_json, size_t len, const char *event_id,
                     const report_settings *s, const report_drops *d)
{
    char now[40];
    iso_now(now, sizeof now);
    buf_puts(out, "{");
    if (event_id) buf_printf(out, "\"event_id\":\"%s\",", event_id);
    buf_printf(out, "\"sent_at\":\"%s\"", now);
    if (s->dsn) { buf_puts(out, ",\"dsn\":"); json_escape(out, s->dsn, strlen(s->dsn)); }
    buf_printf(out, ",\"sdk\":{\"name\":\"kiln\",\"version\":\"%s\"}}\n", KILN_VERSION);
    if (event_json) {
        buf_printf(out, "{\"type\":\"event\",\"length\":%zu,\"content_type\":\"application/json\"}\n", len);
        buf_append(out, event_json, len);
        buf_putc(out, '\n');
    }
    if (d && (d->queue_overflow || d->ratelimit_backoff || d->sample_rate || d->network_error)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        buf item;
        buf_init(&item, 256);
        buf_printf(&item, "{\"timestamp\":%lld,\"discarded_events\":[", (long long)ts.tv_sec);
        const struct { const char *reason; uint64_t n; } r[] = {
            { "queue_overflow", d->queue_overflow }, { "ratelimit_backoff", d->ratelimit_backoff },
            { "sample_rate", d->sample_rate }, { "network_error", d->network_error },
        };
        bool first = true;
        for (size_t i = 0; i < ARRAY_LEN(r); i++) {
            if (!r[i].n) continue;
            buf_printf(&item, "%s{\"reason\":\"%s\",\"category\":\"error\",\"quantity\":%llu}",
                       first ? "" : ",", r[i].reason, (unsigned long long)r[i].n);
            first = false;
        }
        buf_puts(&item, "]}");
        buf_printf(out, "{\"type\":\"client_report\",\"length\":%zu}\n", item.len);
        buf_append(out, item.data, item.len);
        buf_putc(out, '\n');
        buf_free(&item);
    }
}

/* ---- rate limits ------------------------------------------------------ */

/* Parse a decimal at s[*i..n) (digits only, bounded); -1 when none. */
static long parse_secs(const char *s, size_t n, size_t *i)
{
    long v = 0;
    size_t start = *i;
    while (*i < n && isdigit((unsigned char)s[*i])) {
        if (v < 100000000) v = v * 10 + (s[*i] - '0');
        if (v > 100000000) v = 100000000;   /* about three years: enough */
        (*i)++;
    }
    /* A fraction ("60.5") rounds up. */
    bool capped = v >= 100000000;
    if (*i < n && s[*i] == '.') {
        bool frac = false;
        (*i)++;
        while (*i < n && isdigit((unsigned char)s[*i])) { if (s[*i] != '0') frac = true; (*i)++; }
        if (frac && !capped) v++;
    }
    return *i > start ? v : -1;
}

unsigned report_parse_rate_limits(const char *h, size_t n)
{
    unsigned best = 0;
    size_t i = 0;
    while (i < n) {
        /* one entry: retry_after:categories:scope[:reason[:namespaces]] */
        while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) i++;
        if (i >= n) break;
        size_t end = i;
        while (end < n && h[end] != ',') end++;
        size_t j = i;
        long secs = parse_secs(h, end, &j);
        bool applies = false;
        if (secs >= 0 && j < end && h[j] == ':') {
            j++;
            size_t cs = j;
            while (j < end && h[j] != ':') j++;
            size_t ce = j;
            if (ce == cs) applies = true;          /* no category: all of them */
            for (size_t k = cs; k < ce;) {
                size_t e = k;
                while (e < ce && h[e] != ';') e++;
                size_t l = e - k;
                if ((l == 5 && !strncmp(h + k, "error", 5)) || (l == 7 && !strncmp(h + k, "default", 7)))
                    applies = true;
                k = e + 1;
            }
        }
        if (applies && (unsigned long)secs > best) best = (unsigned)secs;
        i = end;
    }
    return best;
}

unsigned report_parse_retry_after(const char *h, size_t n, unsigned dflt)
{
    if (!h) return dflt;
    size_t i = 0;
    while (i < n && (h[i] == ' ' || h[i] == '\t')) i++;
    long v = parse_secs(h, n, &i);
    while (i < n && (h[i] == ' ' || h[i] == '\t')) i++;
    return v >= 0 && i == n ? (unsigned)v : dflt;
}
