/*
 * ws.h -- WebSocket framing (RFC 6455) and permessage-deflate (RFC 7692),
 * without sockets: bytes in, events out; messages in, bytes out.
 *
 *   frame.c      frame header parser/writer, masking, the receive state
 *                machine that turns bytes into messages and control frames
 *                and enforces every rule of the protocol (close codes)
 *   handshake.c  the opening handshake: checks the upgrade request, computes
 *                Sec-WebSocket-Accept, negotiates permessage-deflate
 *   deflate.c    compressing and inflating messages with zlib, bounded
 *
 * The connection side (reading the socket, the send queue, heartbeats, the
 * handler API) lives in session.c, on the engine's generic upgrade hook.
 */
#ifndef KILN_WS_H
#define KILN_WS_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
    WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xA
};

/* Close codes (RFC 6455 section 7.4.1). */
enum {
    WS_CLOSE_NORMAL = 1000, WS_CLOSE_GOING_AWAY = 1001, WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_UNSUPPORTED = 1003, WS_CLOSE_NO_STATUS = 1005, WS_CLOSE_ABNORMAL = 1006,
    WS_CLOSE_INVALID_DATA = 1007, WS_CLOSE_POLICY = 1008, WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011
};

#define WS_MAX_HEADER 14          /* 2 + 8 (length) + 4 (mask)            */
#define WS_MAX_CONTROL 125        /* control frame payload limit          */

/* One frame header, as on the wire. */
typedef struct ws_frame {
    bool fin;
    bool rsv1, rsv2, rsv3;
    uint8_t opcode;               /* 4 bits                               */
    bool masked;
    uint8_t mask[4];
    uint64_t len;                 /* payload length                       */
} ws_frame;

/* Parse a frame header from p[0..n). Returns its length (2..14), 0 when
 * more bytes are needed (the fields of the first two bytes -- fin, rsv*,
 * opcode, masked -- are filled as soon as n >= 2, and len once its bytes
 * are there, before the mask key). Never reads past n.
 * Checks nothing but shape: a 64-bit length with its top bit set is returned
 * as is (the caller's size limit refuses it). */
size_t ws_frame_parse(const uint8_t *p, size_t n, ws_frame *f);

/* Write f's header into out; returns its length. Lengths use the shortest
 * form. */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], const ws_frame *f);

/* XOR p[0..n) with the mask, starting at byte `offset` of the payload. */
void ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* True when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
bool ws_utf8_valid(const uint8_t *s, size_t n);

/* True for a close code a peer may send (1000-1014 less 1004-1006, or
 * 3000-4999). */
bool ws_close_code_valid(unsigned code);

/* ---- receiving: bytes in, events out ------------------------------------ */

enum ws_event_type {
    WS_EV_NONE,       /* every byte given was consumed; need more          */
    WS_EV_MESSAGE,    /* a complete data message in rx->msg (compressed if
                         ev->compressed: inflate before use)               */
    WS_EV_PING,       /* payload: ev->data, ev->len (answer with a pong)   */
    WS_EV_PONG,
    WS_EV_CLOSE,      /* ev->code (1005: none), reason: ev->data, ev->len  */
    WS_EV_FAIL        /* protocol error: close with ev->code; stop reading */
};

typedef struct ws_event {
    int type;                     /* enum ws_event_type                   */
    uint8_t opcode;               /* MESSAGE: WS_OP_TEXT or WS_OP_BINARY  */
    bool compressed;              /* MESSAGE: RSV1 was set                */
    const uint8_t *data;          /* control payload (PING/PONG/CLOSE)    */
    size_t len;
    unsigned code;                /* CLOSE / FAIL                         */
    const char *why;              /* FAIL: a short explanation for logs   */
} ws_event;

/* The receive state of one connection. Zero it, then set the limits. */
typedef struct ws_rx {
    /* settings */
    uint64_t max_message;         /* payload bytes per message; 0: none   */
    bool deflate;                 /* permessage-deflate: RSV1 allowed     */
    bool client;                  /* we are the client: frames unmasked   */
    /* state */
    uint8_t hdr[WS_MAX_HEADER];   /* a header split across reads          */
    uint8_t hdr_len;
    bool in_payload;              /* reading the current frame's payload  */
    ws_frame cur;                 /* the current frame                    */
    uint64_t done;                /* payload bytes of it consumed         */
    uint8_t frag_opcode;          /* a fragmented message is in progress  */
    bool frag_compressed;
    uint64_t total;               /* payload bytes of the message so far  */
    uint8_t *ctl;                 /* the current control frame's payload:
                                     WS_MAX_CONTROL bytes on the heap, made
                                     for a payload and freed by the next
                                     call (an idle socket keeps none)      */
    bool failed;                  /* a FAIL was returned: nothing more    */
    buf msg;                      /* the data message being assembled     */
} ws_rx;

/* Consume bytes until one event is complete. Returns how many bytes were
 * consumed; *ev says what happened (WS_EV_NONE: all n consumed, need more).
 * Call again with the rest. Message data stays in rx->msg until the next
 * call; control payloads point into rx->ctl, valid until the next call. */
size_t ws_rx_feed(ws_rx *rx, const uint8_t *p, size_t n, ws_event *ev);
/* Forget the message just returned (keeps rx->msg's storage unless large). */
void ws_rx_msg_done(ws_rx *rx);
void ws_rx_free(ws_rx *rx);

/* ---- sending ------------------------------------------------------------ */

/* Append one frame (header + payload) to out. mask: NULL for a server;
 * a client passes its 4 mask bytes. rsv1 marks a compressed message. */
void ws_write_frame(buf *out, uint8_t opcode, bool fin, bool rsv1, const void *p, size_t n,
                    const uint8_t *mask);
/* A close frame: code (0: none) and a reason cut to fit 123 bytes at a
 * UTF-8 boundary. */
void ws_write_close(buf *out, unsigned code, const char *reason, size_t reason_len,
                    const uint8_t *mask);

/* ---- the opening handshake (handshake.c) -------------------------------- */

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 chars + NUL. */
void ws_accept_key(const char *key, size_t key_len, char out[29]);
/* A Sec-WebSocket-Key must be base64 of 16 bytes (24 chars, "==" end). */
bool ws_key_valid(const char *key, size_t key_len);
/* True when a comma-separated header value lists `token` (any case). */
bool ws_header_has_token(const char *value, const char *token);

/* permessage-deflate parameters agreed for a connection. */
typedef struct ws_deflate_params {
    bool enabled;
    int server_window_bits;       /* 9..15: our compressor's window        */
    int client_window_bits;       /* 8..15: the peer's (our inflater's)    */
    bool server_no_context;       /* we reset our compressor per message   */
    bool client_no_context;       /* the peer resets per message           */
} ws_deflate_params;

/* Pick the first acceptable permessage-deflate offer from the
 * Sec-WebSocket-Extensions header (NULL: none). An offer with unknown,
 * repeated or malformed parameters is declined, as is server_max_window_bits
 * below 9 (zlib cannot make an 8-bit window). We always ask for no context
 * takeover on both sides, so an idle connection keeps no zlib state. On
 * success fills *pp and writes the response value into resp. */
bool ws_deflate_negotiate(const char *header, ws_deflate_params *pp, char *resp, size_t resp_cap);

/* ---- permessage-deflate (deflate.c) ------------------------------------- */

/* Compress a message: the raw DEFLATE stream, ended by an empty stored block
 * whose 00 00 FF FF tail is removed (RFC 7692 section 7.2.1). Appends to out. */
void ws_deflate_message(const ws_deflate_params *pp, const void *p, size_t n, buf *out);
/* Inflate a message into out, at most `limit` bytes (0: none). Returns 0,
 * WS_CLOSE_TOO_BIG past the limit, or WS_CLOSE_INVALID_DATA for corrupt
 * data. */
unsigned ws_inflate_message(const ws_deflate_params *pp, const void *p, size_t n, uint64_t limit,
                            buf *out);

#endif
