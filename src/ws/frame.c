/*
 * frame.c -- WebSocket frames (RFC 6455 section 5): the header parser and
 * writer, masking, and the receive state machine.
 *
 * ws_rx_feed() takes bytes as they come (any split, one byte at a time is
 * fine) and returns one event at a time: a complete data message, a ping, a
 * pong, a close, or a failure with the close code the peer must get. Every
 * rule is checked here, in the order the `ws` npm library checks them, so
 * the two answer a hostile frame with the same code (the differential test
 * relies on it):
 *   RSV2/RSV3 set, RSV1 without permessage-deflate or on a continuation or
 *   control frame, an unknown opcode, a continuation with nothing to
 *   continue, a new message inside a fragmented one, a fragmented control
 *   frame, a control payload over 125 bytes, a close payload of 1 byte, an
 *   unmasked client frame                                          -> 1002
 *   a message over the size limit (counted at each frame header)   -> 1009
 *   text (or a close reason) that is not UTF-8                     -> 1007
 *   a close code nobody may send                                   -> 1002
 * UTF-8 of a compressed text message is checked by the caller after
 * inflating; everything else is final here.
 *
 * Owns: the assembled message buffer (rx->msg) and the control payload.
 * Must never: read past the bytes it was given, allocate per frame, or go
 * on after a failure.
 */
#include "ws/ws.h"
#include "core/core.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

size_t ws_frame_parse(const uint8_t *p, size_t n, ws_frame *f)
{
    if (n < 2) return 0;
    f->fin = p[0] & 0x80;
    f->rsv1 = p[0] & 0x40;
    f->rsv2 = p[0] & 0x20;
    f->rsv3 = p[0] & 0x10;
    f->opcode = p[0] & 0x0F;
    f->masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7F;
    size_t at = 2;
    if (len == 126) {
        if (n < 4) return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        at = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
        at = 10;
    }
    f->len = len;
    if (f->masked) {
        if (n < at + 4) return 0;      /* (f->len is already filled) */
        memcpy(f->mask, p + at, 4);
        at += 4;
    }
    return at;
}

size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], const ws_frame *f)
{
    out[0] = (uint8_t)((f->fin ? 0x80 : 0) | (f->rsv1 ? 0x40 : 0) | (f->rsv2 ? 0x20 : 0)
                       | (f->rsv3 ? 0x10 : 0) | (f->opcode & 0x0F));
    uint8_t m = f->masked ? 0x80 : 0;
    size_t at;
    if (f->len < 126) {
        out[1] = (uint8_t)(m | f->len);
        at = 2;
    } else if (f->len <= 0xFFFF) {
        out[1] = m | 126;
        out[2] = (uint8_t)(f->len >> 8);
        out[3] = (uint8_t)f->len;
        at = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(f->len >> (56 - 8 * i));
        at = 10;
    }
    if (f->masked) {
        memcpy(out + at, f->mask, 4);
        at += 4;
    }
    return at;
}

void ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    size_t i = 0;
    unsigned k = (unsigned)(offset & 3);
    /* Align the key to the start, then go 8 bytes at a time. */
    while (i < n && k != 0) { p[i++] ^= mask[k]; k = (k + 1) & 3; }
    uint8_t m8[8] = { mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3] };
    uint64_t key;
    memcpy(&key, m8, 8);
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= key;
        memcpy(p + i, &v, 8);
    }
    for (k = 0; i < n; i++, k++) p[i] ^= mask[k & 3];
}

bool ws_utf8_valid(const uint8_t *s, size_t n)
{
    if (n == 0) return true;           /* (s may be NULL for an empty message) */
    const uint8_t *p = s, *end = s + n;
    while (p < end) {
        /* ASCII runs, 8 bytes at a time. */
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            if (v & 0x8080808080808080ull) break;
            p += 8;
        }
        if (p >= end) break;
        size_t k = json_utf8_len(p, end);
        if (!k) return false;
        p += k;
    }
    return true;
}

bool ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006)
        || (code >= 3000 && code <= 4999);
}

/* ---- the receive state machine ---------------------------------------- */

static size_t fail(ws_rx *rx, ws_event *ev, unsigned code, const char *why, size_t consumed)
{
    rx->failed = true;
    ev->type = WS_EV_FAIL;
    ev->code = code;
    ev->why = why;
    return consumed;
}

/* The first two header bytes are there: apply the rules in `ws`'s order
 * (it checks them before reading an extended length, so a bad frame fails
 * as early). Returns 0 when the frame may go on, or a close code. */
static unsigned check_first(ws_rx *rx, const char **why)
{
    ws_frame *f = &rx->cur;
    unsigned len7 = rx->hdr[1] & 0x7F;
    if (f->rsv2 || f->rsv3) { *why = "RSV2 and RSV3 must be clear"; return WS_CLOSE_PROTOCOL; }
    if (f->rsv1 && !rx->deflate) { *why = "RSV1 must be clear"; return WS_CLOSE_PROTOCOL; }
    switch (f->opcode) {
    case WS_OP_CONT:
        if (f->rsv1) { *why = "RSV1 must be clear"; return WS_CLOSE_PROTOCOL; }
        if (!rx->frag_opcode) { *why = "invalid opcode 0"; return WS_CLOSE_PROTOCOL; }
        break;
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (rx->frag_opcode) { *why = "data frame inside a fragmented message"; return WS_CLOSE_PROTOCOL; }
        break;
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        if (!f->fin) { *why = "FIN must be set"; return WS_CLOSE_PROTOCOL; }
        if (f->rsv1) { *why = "RSV1 must be clear"; return WS_CLOSE_PROTOCOL; }
        if (len7 > WS_MAX_CONTROL || (f->opcode == WS_OP_CLOSE && len7 == 1)) {
            *why = "invalid control payload length";
            return WS_CLOSE_PROTOCOL;
        }
        break;
    default:
        *why = "invalid opcode";
        return WS_CLOSE_PROTOCOL;
    }
    if (!rx->client && !f->masked) { *why = "MASK must be set"; return WS_CLOSE_PROTOCOL; }
    if (rx->client && f->masked) { *why = "MASK must be clear"; return WS_CLOSE_PROTOCOL; }
    return 0;
}

/* The whole header is there: the size limit, then the message state. */
static unsigned check_length(ws_rx *rx, const char **why)
{
    ws_frame *f = &rx->cur;
    if (f->opcode < WS_OP_CLOSE && f->len) {
        /* Counted before the payload arrives: a huge frame is refused at
         * once, never buffered. */
        /* A compressed message is held to the limit after inflating; its
         * wire size may exceed it by deflate's worst-case growth. */
        bool z = f->opcode == WS_OP_CONT ? rx->frag_compressed : f->rsv1;
        uint64_t max = rx->max_message;
        if (z && max) max += max / 256 + 64;
        if (f->len > UINT64_MAX - rx->total || (max && rx->total + f->len > max)) {
            *why = "message too big";
            return WS_CLOSE_TOO_BIG;
        }
        rx->total += f->len;
    }
    /* A new message starts (fragmented or not). */
    if (f->opcode == WS_OP_TEXT || f->opcode == WS_OP_BINARY) {
        rx->frag_compressed = f->rsv1;
        if (!f->fin) rx->frag_opcode = f->opcode;
    }
    return 0;
}

/* The frame's payload is all there: produce its event (or none, for a data
 * frame that does not end its message). */
static bool frame_done(ws_rx *rx, ws_event *ev)
{
    ws_frame *f = &rx->cur;
    rx->in_payload = false;
    rx->hdr_len = 0;
    if (f->opcode >= WS_OP_CLOSE) {
        ev->data = rx->ctl ? rx->ctl : (const uint8_t *)"";
        ev->len = (size_t)f->len;
        if (f->opcode == WS_OP_PING) { ev->type = WS_EV_PING; return true; }
        if (f->opcode == WS_OP_PONG) { ev->type = WS_EV_PONG; return true; }
        ev->type = WS_EV_CLOSE;
        rx->failed = true;             /* nothing is read after a close */
        if (f->len == 0) { ev->code = WS_CLOSE_NO_STATUS; return true; }
        ev->code = (unsigned)rx->ctl[0] << 8 | rx->ctl[1];
        ev->data = rx->ctl + 2;
        ev->len = (size_t)f->len - 2;
        if (!ws_close_code_valid(ev->code)) {
            ev->type = WS_EV_FAIL, ev->why = "invalid close code", ev->code = WS_CLOSE_PROTOCOL;
        } else if (!ws_utf8_valid(ev->data, ev->len)) {
            ev->type = WS_EV_FAIL, ev->why = "invalid UTF-8 in close reason", ev->code = WS_CLOSE_INVALID_DATA;
        }
        return true;
    }
    if (!f->fin) return false;
    uint8_t op = f->opcode == WS_OP_CONT ? rx->frag_opcode : f->opcode;
    bool compressed = rx->frag_compressed;
    rx->frag_opcode = 0;
    rx->frag_compressed = false;
    rx->total = 0;
    if (op == WS_OP_TEXT && !compressed && !ws_utf8_valid((const uint8_t *)rx->msg.data, rx->msg.len)) {
        rx->failed = true;
        ev->type = WS_EV_FAIL, ev->why = "invalid UTF-8 in text message", ev->code = WS_CLOSE_INVALID_DATA;
        return true;
    }
    ev->type = WS_EV_MESSAGE;
    ev->opcode = op;
    ev->compressed = compressed;
    ev->data = (const uint8_t *)rx->msg.data;
    ev->len = rx->msg.len;
    return true;
}

size_t ws_rx_feed(ws_rx *rx, const uint8_t *p, size_t n, ws_event *ev)
{
    size_t used = 0;
    memset(ev, 0, sizeof *ev);
    /* The last control event is consumed: its payload buffer goes, unless
     * a control frame's payload is still coming. */
    if (rx->ctl && !(rx->in_payload && rx->cur.opcode >= WS_OP_CLOSE)) {
        free(rx->ctl);
        rx->ctl = NULL;
    }
    if (rx->failed) return n;          /* ignore anything after a close or failure */
    while (used < n) {
        if (!rx->in_payload) {
            /* Gather the header: at most 14 bytes, possibly across calls. */
            size_t take = WS_MAX_HEADER - rx->hdr_len;
            if (take > n - used) take = n - used;
            memcpy(rx->hdr + rx->hdr_len, p + used, take);
            size_t have = rx->hdr_len + take;
            size_t hl = ws_frame_parse(rx->hdr, have, &rx->cur);
            const char *why = NULL;
            unsigned code;
            /* Check as early as `ws` does: the first two bytes, then the
             * length as soon as it is there (before the mask key). */
            if (have >= 2 && rx->hdr_len < 2 && (code = check_first(rx, &why)))
                return fail(rx, ev, code, why, used + 2 - rx->hdr_len);
            size_t len_end = have < 2 ? 99 : (rx->hdr[1] & 0x7F) == 127 ? 10 : (rx->hdr[1] & 0x7F) == 126 ? 4 : 2;
            if (have >= len_end && rx->hdr_len < len_end && (code = check_length(rx, &why)))
                return fail(rx, ev, code, why, used + len_end - rx->hdr_len);
            if (hl == 0) {
                rx->hdr_len = (uint8_t)have;
                used += take;
                continue;
            }
            used += hl - rx->hdr_len;      /* bytes past the header stay unread */
            rx->hdr_len = (uint8_t)hl;
            rx->in_payload = true;
            rx->done = 0;
            if (rx->cur.len == 0 && frame_done(rx, ev)) return used;
            continue;
        }
        /* Payload: unmask straight into its destination. */
        uint64_t left = rx->cur.len - rx->done;
        size_t take = left < (uint64_t)(n - used) ? (size_t)left : n - used;
        uint8_t *dst;
        if (rx->cur.opcode >= WS_OP_CLOSE) {
            if (!rx->ctl) rx->ctl = kiln_xmalloc(WS_MAX_CONTROL);
            dst = rx->ctl + rx->done;
        } else {
            buf_reserve(&rx->msg, take + 1);
            dst = (uint8_t *)rx->msg.data + rx->msg.len;
            rx->msg.len += take;
        }
        memcpy(dst, p + used, take);
        if (rx->cur.masked) ws_mask(dst, take, rx->cur.mask, rx->done);
        rx->done += take;
        used += take;
        if (rx->done == rx->cur.len && frame_done(rx, ev)) return used;
    }
    return used;
}

void ws_rx_msg_done(ws_rx *rx)
{
    if (rx->msg.cap > 64 * 1024) buf_reset_trim(&rx->msg, 0);
    else rx->msg.len = 0;
}

void ws_rx_free(ws_rx *rx)
{
    buf_free(&rx->msg);
    free(rx->ctl);
    rx->ctl = NULL;
}

/* ---- sending ---------------------------------------------------------- */

void ws_write_frame(buf *out, uint8_t opcode, bool fin, bool rsv1, const void *p, size_t n,
                    const uint8_t *mask)
{
    ws_frame f = { .fin = fin, .rsv1 = rsv1, .opcode = opcode, .masked = mask != NULL, .len = n };
    if (mask) memcpy(f.mask, mask, 4);
    uint8_t h[WS_MAX_HEADER];
    size_t hl = ws_frame_header(h, &f);
    buf_reserve(out, hl + n);
    buf_append(out, h, hl);
    if (n) buf_append(out, p, n);
    if (mask) ws_mask((uint8_t *)out->data + out->len - n, n, mask, 0);
}

void ws_write_close(buf *out, unsigned code, const char *reason, size_t reason_len,
                    const uint8_t *mask)
{
    uint8_t pl[WS_MAX_CONTROL];
    size_t n = 0;
    if (code) {
        pl[0] = (uint8_t)(code >> 8);
        pl[1] = (uint8_t)code;
        n = 2;
        if (reason_len > WS_MAX_CONTROL - 2) {
            /* Cut at a character boundary so the reason stays UTF-8. */
            reason_len = WS_MAX_CONTROL - 2;
            while (reason_len > 0 && ((uint8_t)reason[reason_len] & 0xC0) == 0x80) reason_len--;
        }
        if (reason_len) memcpy(pl + 2, reason, reason_len);
        n += reason_len;
    }
    ws_write_frame(out, WS_OP_CLOSE, true, false, pl, n, mask);
}
