/*
 * buf.c -- the growable byte buffer declared in buf.h.
 * Owns: its data block (from and back to the thread's block cache, core.h).
 * Never: returns an error (OOM aborts in kiln_xrealloc).
 */
#include "buf.h"
#include "core.h"

#include <stdio.h>
#include <stdlib.h>

void buf_init(buf *b, size_t cap)
{
    b->data = cap ? kiln_block_get(cap) : NULL;
    b->len = 0;
    b->cap = cap;
}

void buf_free(buf *b)
{
    kiln_block_put(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* buf_reserve() found less than `extra` bytes free. */
void buf_grow(buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    /* Past what the cache keeps: realloc may grow in place (or remap)
     * instead of copying. */
    if (b->data && cap > KILN_BLOCK_MAX) {
        b->data = kiln_xrealloc(b->data, cap);
        b->cap = cap;
        return;
    }
    /* Through the thread's block cache (a request's buffers grow the same
     * way every time): a new block, the bytes copied, the old one given
     * back. */
    char *d = kiln_block_get(cap);
    if (b->len) memcpy(d, b->data, b->len);
    kiln_block_put(b->data, b->cap);
    b->data = d;
    b->cap = cap;
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) KILN_PANIC("vsnprintf failed for format %s", fmt);
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n + 1);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_put_u64(buf *b, unsigned long long v)
{
    char tmp[24];
    int i = sizeof tmp;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    buf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len) { b->len = 0; return; }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_reset_trim(buf *b, size_t keep)
{
    b->len = 0;
    if (b->cap > keep) {
        kiln_block_put(b->data, b->cap);
        b->data = keep ? kiln_block_get(keep) : NULL;
        b->cap = keep;
    }
}

bool buf_read_file(buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_append(b, tmp, n);
    fclose(f);
    buf_putc(b, '\0');
    b->len--;
    return true;
}
