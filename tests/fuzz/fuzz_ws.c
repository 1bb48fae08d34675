/*
 * fuzz_ws.c -- src/ws: the frame parser, the receive state machine, UTF-8
 * and permessage-deflate, on arbitrary bytes.
 *
 * Input: byte 0 picks the settings (deflate on/off, a small or large size
 * limit) and byte 1 a split stride; the rest is the byte stream a client
 * sends. Properties checked (abort() on failure):
 *   - the stream is fed from an exact-size heap copy, so a read past the
 *     input is an ASan report;
 *   - feeding it whole and feeding it in pieces (stride from byte 1, and one
 *     byte at a time) give the same events: type, code, opcode, payload;
 *   - every message respects the size limit (a compressed one: plus
 *     deflate's worst-case growth, and the limit again after inflating); a text message (uncompressed)
 *     is valid UTF-8 by a reference decoder written here; a close code
 *     handed up is one a peer may send; after FAIL or CLOSE nothing more;
 *   - the UTF-8 verdict on the raw input equals the reference decoder's;
 *   - parse -> reserialize: re-encoding any parsed header and parsing that
 *     gives the same frame, and a minimally encoded header is reproduced
 *     byte for byte;
 *   - a compressed message inflates within its limit (or is refused with
 *     1007/1009), and re-deflating what came out inflates back to it.
 */
#include "ws/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64

typedef struct rec {
    int type;
    unsigned code;
    uint8_t opcode;
    bool compressed;
    size_t len;
    uint32_t hash;
} rec;

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Reference UTF-8 check, written from RFC 3629's table, byte by byte. */
static bool ref_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; }
        else return false;
        if (i + k > n) return false;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += k;
    }
    return true;
}

static void check(bool ok, const char *what)
{
    if (!ok) { fprintf(stderr, "fuzz_ws: property broken: %s\n", what); abort(); }
}

static void check_inflate(const ws_deflate_params *pp, const uint8_t *p, size_t n, uint64_t limit)
{
    buf out;
    buf_init(&out, 0);
    unsigned rc = ws_inflate_message(pp, p, n, limit, &out);
    check(rc == 0 || rc == WS_CLOSE_TOO_BIG || rc == WS_CLOSE_INVALID_DATA, "inflate code");
    if (rc == 0) {
        check(out.len <= limit, "inflate within limit");
        buf z, back;
        buf_init(&z, 0);
        buf_init(&back, 0);
        ws_deflate_message(pp, out.data, out.len, &z);
        check(ws_inflate_message(pp, z.data, z.len, 0, &back) == 0, "re-deflated inflates");
        check(back.len == out.len && (out.len == 0 || memcmp(back.data, out.data, out.len) == 0),
              "deflate round trip");
        buf_free(&z);
        buf_free(&back);
    }
    if (rc == WS_CLOSE_TOO_BIG) check(out.len > limit, "1009 only past the limit");
    buf_free(&out);
}

/* Feed the stream with the given stride (0: whole); record the events. */
static size_t run(const uint8_t *p, size_t n, size_t stride, bool deflate, uint64_t limit,
                  rec *out, bool deep)
{
    ws_rx rx = { .max_message = limit, .deflate = deflate };
    ws_deflate_params pp = { .enabled = true, .server_window_bits = 15, .client_window_bits = 15 };
    size_t nev = 0, off = 0;
    bool ended = false;
    while (off < n && nev < MAX_EVENTS) {
        size_t piece = stride ? (n - off < stride ? n - off : stride) : n - off;
        size_t at = 0;
        while (at < piece && nev < MAX_EVENTS) {
            ws_event ev;
            size_t used = ws_rx_feed(&rx, p + off + at, piece - at, &ev);
            check(used <= piece - at, "consumed no more than given");
            at += used;
            if (ev.type == WS_EV_NONE) { check(at == piece, "NONE means all consumed"); break; }
            check(!ended, "no event after FAIL or CLOSE");
            rec r = { .type = ev.type, .code = ev.code, .opcode = ev.opcode, .compressed = ev.compressed,
                      .len = ev.len, .hash = fnv(ev.data, ev.len) };
            if (ev.type == WS_EV_MESSAGE) {
                /* compressed: the wire size may exceed the limit by deflate's
                 * worst-case growth; the limit holds after inflating */
                check(ev.len <= (ev.compressed ? limit + limit / 256 + 64 : limit), "message within limit");
                check(ev.opcode == WS_OP_TEXT || ev.opcode == WS_OP_BINARY, "message opcode");
                check(!ev.compressed || deflate, "compressed only with deflate");
                if (ev.opcode == WS_OP_TEXT && !ev.compressed) check(ref_utf8(ev.data, ev.len), "text is UTF-8");
                if (ev.compressed && deep) check_inflate(&pp, ev.data, ev.len, limit);
                ws_rx_msg_done(&rx);
            } else if (ev.type == WS_EV_CLOSE) {
                check(ev.code == WS_CLOSE_NO_STATUS || ws_close_code_valid(ev.code), "close code");
                check(ref_utf8(ev.data, ev.len), "close reason is UTF-8");
                ended = true;
            } else if (ev.type == WS_EV_FAIL) {
                check(ev.code == 1002 || ev.code == 1007 || ev.code == 1009, "fail code");
                ended = true;
            } else {
                check(ev.len <= WS_MAX_CONTROL, "control payload size");
            }
            out[nev++] = r;
        }
        off += piece;
    }
    ws_rx_free(&rx);
    return nev;
}

static void check_headers(const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off++) {
        ws_frame f, g;
        size_t hl = ws_frame_parse(p + off, n - off, &f);
        if (!hl) continue;
        uint8_t h[WS_MAX_HEADER];
        size_t hl2 = ws_frame_header(h, &f);
        check(ws_frame_parse(h, hl2, &g) == hl2, "reparse length");
        check(f.fin == g.fin && f.rsv1 == g.rsv1 && f.rsv2 == g.rsv2 && f.rsv3 == g.rsv3
              && f.opcode == g.opcode && f.masked == g.masked && f.len == g.len
              && (!f.masked || memcmp(f.mask, g.mask, 4) == 0), "reparse fields");
        bool minimal = (hl - (f.masked ? 4 : 0) == 2) || (hl - (f.masked ? 4 : 0) == 4 && f.len >= 126)
                       || (hl - (f.masked ? 4 : 0) == 10 && f.len > 0xFFFF);
        if (minimal) check(hl2 == hl && memcmp(h, p + off, hl) == 0, "minimal header reproduced");
        if (off > 32) break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    bool deflate = data[0] & 1;
    uint64_t limit = (data[0] & 2) ? 64 : (1u << 20);
    size_t stride = 1 + data[1] % 17;
    size_t n = size - 2;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 2, n);

    check(ws_utf8_valid(p, n) == ref_utf8(p, n), "UTF-8 verdict equals reference");
    check_headers(p, n);

    static rec a[MAX_EVENTS], b[MAX_EVENTS], c[MAX_EVENTS];
    size_t na = run(p, n, 0, deflate, limit, a, true);
    size_t nb = run(p, n, stride, deflate, limit, b, false);
    size_t nc = n <= 4096 ? run(p, n, 1, deflate, limit, c, false) : na;
    check(na == nb && na == nc, "same number of events whatever the split");
    for (size_t i = 0; i < na; i++) {
        check(memcmp(&a[i], &b[i], sizeof a[i]) == 0, "same events (stride)");
        if (n <= 4096) check(memcmp(&a[i], &c[i], sizeof a[i]) == 0, "same events (byte by byte)");
    }
    free(p);
    return 0;
}
