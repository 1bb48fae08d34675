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
