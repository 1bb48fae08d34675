/*
 * buf.h -- a growable byte buffer (Kore's kore_buf, Redis's sds, reduced to
 * what Kiln needs). Used for response heads and bodies and for building text.
 * Growth never fails for the caller (kiln_xrealloc aborts on OOM).
 */
#ifndef KILN_BUF_H
#define KILN_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b, size_t cap);          /* cap 0: allocate lazily       */
void buf_free(buf *b);
void buf_grow(buf *b, size_t extra);        /* buf_reserve's slow path      */
/* Room for `extra` more bytes. It, buf_append, buf_putc and buf_puts are
 * inline: the response writers call them for every token (and a literal's
 * length is then known at compile time). */
static inline void buf_reserve(buf *b, size_t extra)
{
    if (__builtin_expect(b->cap - b->len < extra, 0)) buf_grow(b, extra);
}
static inline void buf_append(buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void buf_putc(buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}
static inline void buf_puts(buf *b, const char *s) { buf_append(b, s, strlen(s)); }
/* Copy n <= 16 bytes with at most two (overlapping) loads and stores and
 * no call: the short keys and values of JSON output. */
static inline void copy_upto16(char *d, const char *s, size_t n)
{
    if (n >= 8) {                    /* the first 8 and the last 8, overlapping */
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {             /* the first 4 and the last 4 */
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {                  /* 1-3 bytes: s[0], s[n/2], s[n-1] are all */
        d[0] = s[0];
        d[n >> 1] = s[n >> 1];
        d[n - 1] = s[n - 1];
    }
}
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_put_u64(buf *b, unsigned long long v);   /* decimal, fast */
/* Append the whole file at path, then a '\0' that len does not count.
 * False (b unchanged) when it cannot be opened. */
bool buf_read_file(buf *b, const char *path);
/* Drop the first n bytes (consumed input), keeping the rest. */
void buf_consume(buf *b, size_t n);
/* Forget the content; shrink storage back to `keep` bytes if it grew past. */
void buf_reset_trim(buf *b, size_t keep);

#endif
