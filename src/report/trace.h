/*
 * trace.h -- W3C traceparent: parse (validated) or start a trace.
 */
#ifndef KILN_REPORT_TRACE_H
#define KILN_REPORT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct trace_ctx {
    char trace_id[33];    /* 32 lowercase hex, not all zero                */
    char parent_id[17];   /* the caller's span; "" when the trace began here */
    char span_id[17];     /* ours                                          */
    char flags[3];        /* "01" sampled, "00" not                         */
} trace_ctx;

/* A valid traceparent value h[0..n) (OWS already trimmed) fills trace_id,
 * parent_id and flags and returns true; anything else returns false. */
bool trace_parse(const char *h, size_t n, trace_ctx *t);
/* The caller's trace when h is valid, else a new one; always a new span. */
void trace_begin(const char *h, size_t n, trace_ctx *t);

#endif
