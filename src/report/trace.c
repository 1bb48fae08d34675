/*
 * trace.c -- W3C Trace Context (https://www.w3.org/TR/trace-context/):
 * the traceparent header a caller sends, validated as the specification
 * says, or a trace started here; and this request's own span id.
 *
 *   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *                ver trace-id (32 hex)                parent-id (16)  flags
 *
 * Rules followed (section 3.2 and 4.3): lowercase hex only; version "ff" is
 * invalid; version 00 is exactly 55 characters; a higher version is parsed
 * as 00 for its first 55 characters and must have '-' after them if longer;
 * an all-zero trace-id or parent-id is invalid. An invalid header is
 * ignored and a new trace started (as the specification asks).
 *
 * Owns: nothing. Must never: accept uppercase hex or a wrong length (a
 * fuzzer, tests/fuzz/fuzz_traceparent.c, checks what it accepts).
 */
#include "report/trace.h"
#include "report/report.h"

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static bool all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) if (s[i] != '0') return false;
    return true;
}

bool trace_parse(const char *h, size_t n, trace_ctx *t)
{
    if (!h || n < 55) return false;
    if (!lower_hex(h, 2) || (h[0] == 'f' && h[1] == 'f')) return false;
    bool v00 = h[0] == '0' && h[1] == '0';
    if (v00 && n != 55) return false;
    if (!v00 && n > 55 && h[55] != '-') return false;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
    if (!lower_hex(h + 3, 32) || all_zero(h + 3, 32)) return false;
    if (!lower_hex(h + 36, 16) || all_zero(h + 36, 16)) return false;
    if (!lower_hex(h + 53, 2)) return false;
    memcpy(t->trace_id, h + 3, 32);
    t->trace_id[32] = '\0';
    memcpy(t->parent_id, h + 36, 16);
    t->parent_id[16] = '\0';
    /* Only the sampled bit is defined (level 1); keep just that. */
    unsigned flags = (unsigned)((h[53] <= '9' ? h[53] - '0' : h[53] - 'a' + 10) * 16
                              + (h[54] <= '9' ? h[54] - '0' : h[54] - 'a' + 10));
    t->flags[0] = '0';
    t->flags[1] = (flags & 1) ? '1' : '0';
    t->flags[2] = '\0';
    return true;
}

void trace_begin(const char *h, size_t n, trace_ctx *t)
{
    if (!trace_parse(h, n, t)) {
        char tid[33];
        do report_new_event_id(tid); while (all_zero(tid, 32));
        memcpy(t->trace_id, tid, 33);
        t->parent_id[0] = '\0';
        memcpy(t->flags, "01", 3);
    }
    report_new_span_id(t->span_id);
}
