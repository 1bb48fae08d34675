/*
 * deflate.c -- permessage-deflate (RFC 7692) message compression with zlib.
 *
 * We always negotiate no context takeover in both directions (handshake.c),
 * so every message is compressed and inflated on its own. That lets one
 * compressor per window size and one inflater serve every connection of the
 * process: a connection holds no zlib state at all, idle or not (a zlib
 * compressor costs ~260 KB; ten thousand of them would not fit anywhere).
 *
 * Owns: the process's z_streams (made on first use, reset per message).
 * Must never: inflate past the caller's limit (a zip bomb is refused with
 * 1009 after at most `limit` bytes of output), or be called from two threads
 * (a worker's loop thread only).
 */
#include "ws/ws.h"
#include "core/core.h"

#include <zlib.h>

#define LEVEL 1                 /* fastest: real-time traffic, small messages */
#define MEM_LEVEL 8

static z_stream deflaters[16];  /* by window bits, 9..15 */
static bool deflater_ready[16];
static z_stream inflater;
static bool inflater_ready;

static const uint8_t TAIL[4] = { 0x00, 0x00, 0xFF, 0xFF };

void ws_deflate_message(const ws_deflate_params *pp, const void *p, size_t n, buf *out)
{
    int bits = pp->server_window_bits >= 9 && pp->server_window_bits <= 15 ? pp->server_window_bits : 15;
    z_stream *z = &deflaters[bits];
    if (!deflater_ready[bits]) {
        if (deflateInit2(z, LEVEL, Z_DEFLATED, -bits, MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
            KILN_PANIC("deflateInit2 failed");
        deflater_ready[bits] = true;
    } else {
        deflateReset(z);
    }
    size_t start = out->len;
    z->next_in = (Bytef *)(uintptr_t)p;
    z->avail_in = 0;
    size_t left = n;
    do {
        if (z->avail_in == 0 && left) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z->avail_in = chunk;
            left -= chunk;
        }
        buf_reserve(out, deflateBound(z, z->avail_in) + 16);
        z->next_out = (Bytef *)out->data + out->len;
        z->avail_out = (uInt)(out->cap - out->len);
        int rc = deflate(z, left ? Z_NO_FLUSH : Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR) KILN_PANIC("deflate failed: %d", rc);
        out->len = out->cap - z->avail_out;
    } while (z->avail_in || left || z->avail_out == 0);
    /* A sync flush ends with an empty stored block: 00 00 FF FF. Drop it. */
    KILN_ASSERT(out->len - start >= 4 && memcmp(out->data + out->len - 4, TAIL, 4) == 0);
    out->len -= 4;
}

unsigned ws_inflate_message(const ws_deflate_params *pp, const void *p, size_t n, uint64_t limit,
                            buf *out)
{
    (void)pp;                   /* a 15-bit window inflates any smaller one */
    z_stream *z = &inflater;
    if (!inflater_ready) {
        if (inflateInit2(z, -15) != Z_OK) KILN_PANIC("inflateInit2 failed");
        inflater_ready = true;
    } else {
        inflateReset(z);
    }
    size_t start = out->len;
    /* The message, then the tail the sender removed. */
    const uint8_t *parts[2] = { p, TAIL };
    size_t lens[2] = { n, 4 };
    for (int i = 0; i < 2; i++) {
        z->next_in = (Bytef *)(uintptr_t)parts[i];
        z->avail_in = 0;           /* (a call that stopped early left some) */
        size_t left = lens[i];
        for (;;) {
            if (z->avail_in == 0 && left) {
                uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
                z->avail_in = chunk;
                left -= chunk;
            }
            size_t room = 16 * 1024;
            if (limit) {
                uint64_t produced = out->len - start;
                if (room > limit - produced + 1) room = (size_t)(limit - produced + 1);
            }
            buf_reserve(out, room);
            z->next_out = (Bytef *)out->data + out->len;
            z->avail_out = (uInt)room;
            int rc = inflate(z, Z_SYNC_FLUSH);
            out->len += room - z->avail_out;
            if (limit && out->len - start > limit) return WS_CLOSE_TOO_BIG;
            if (rc == Z_STREAM_END)   /* a final block: legal, but nothing may follow */
                return z->avail_in || left ? WS_CLOSE_INVALID_DATA : 0;
            if (rc != Z_OK && rc != Z_BUF_ERROR) return WS_CLOSE_INVALID_DATA;
            if (z->avail_in == 0 && !left && z->avail_out != 0) break;   /* all in, all out */
        }
    }
    return 0;
}
