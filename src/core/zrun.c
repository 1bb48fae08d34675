/*
 * zrun.c -- a byte-wise zero-run packing for memory set aside while it is
 * not used (a parked coroutine stack, a parked request arena: see
 * runtime/park.c). Such memory is mostly zeros -- empty fields of the request
 * struct, padding, the high bytes of small integers -- and packing them away
 * halves what a parked connection keeps, at a cost of a few hundred ns.
 *
 * Format: a sequence of tokens. A byte t < 128 is followed by t+1 literal
 * bytes; a byte t >= 128 stands for t-127 zero bytes (1..128). The packed
 * form does not record its unpacked length: the caller keeps it.
 *
 * Owns: nothing (the packed block belongs to the caller; free() it).
 * Must never: write past the n bytes the caller gives kiln_zrun_unpack, or
 * allocate in kiln_zrun_unpack (it runs from a signal handler, park.c).
 */
#include "core.h"

#include <stdlib.h>

#define MAX_TOKEN 128

/* How long the zero run at p[i..n) is, at most MAX_TOKEN. */
static size_t zeros_at(const unsigned char *p, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && j - i < MAX_TOKEN && p[j] == 0) j++;
    return j - i;
}

/* Packs p[0..n) into out (NULL: only count). Returns the packed length. */
static size_t pack(const unsigned char *p, size_t n, unsigned char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t z = zeros_at(p, i, n);
        if (z >= 2) {                     /* a run: one byte */
            if (out) out[o] = (unsigned char)(127 + z);
            o++;
            i += z;
            continue;
        }
        /* Literals up to the next run of two zeros or more. */
        size_t k = i + 1;
        while (k < n && k - i < MAX_TOKEN && zeros_at(p, k, n) < 2) k++;
        if (out) {
            out[o] = (unsigned char)(k - i - 1);
            memcpy(out + o + 1, p + i, k - i);
        }
        o += 1 + (k - i);
        i = k;
    }
    return o;
}

void *kiln_zrun_pack(const void *p, size_t n, size_t *packed_len)
{
    size_t len = pack(p, n, NULL);
    unsigned char *out = kiln_xmalloc(len);
    pack(p, n, out);
    *packed_len = len;
    return out;
}

void kiln_zrun_unpack(void *dst, size_t n, const void *packed)
{
    unsigned char *d = dst;
    const unsigned char *s = packed;
    size_t o = 0;
    while (o < n) {
        unsigned t = *s++;
        size_t k = t < 128 ? t + 1u : t - 127u;
        KILN_ASSERT(k <= n - o);
        if (t < 128) { memcpy(d + o, s, k); s += k; }
        else memset(d + o, 0, k);
        o += k;
    }
}
