/*
 * test_ws.c -- src/ws: frame parser and writer, the receive state machine's
 * rules and close codes, UTF-8, the handshake key, permessage-deflate
 * negotiation and the bounded inflater (RFC 6455 and RFC 7692 examples).
 */
#include "t.h"
#include "core/core.h"
#include "ws/ws.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Feed everything; return the first event that is not NONE (its type), and
 * the total bytes consumed in *used. */
static int feed_all(ws_rx *rx, const void *p, size_t n, ws_event *ev, size_t *used)
{
    size_t off = 0;
    while (off < n) {
        off += ws_rx_feed(rx, (const uint8_t *)p + off, n - off, ev);
        if (ev->type != WS_EV_NONE) break;
    }
    if (used) *used = off;
    return ev->type;
}

static buf frame(uint8_t op, bool fin, const char *p, size_t n)
{
    buf b;
    buf_init(&b, 0);
    ws_write_frame(&b, op, fin, false, p, n, MASK);
    return b;
}

TEST(accept_key_rfc6455_example)
{
    char out[29];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 24));
    CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23));
    CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZ*==", 24));
}

TEST(rfc_examples_parse)
{
    ws_rx rx = { .max_message = 1 << 20 };
    ws_event ev;
    /* A single-frame masked text message, from section 5.7. */
    const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    size_t used;
    CHECK_EQ_INT(feed_all(&rx, hello, sizeof hello, &ev, &used), WS_EV_MESSAGE);
    CHECK_EQ_INT(used, sizeof hello);
    CHECK_EQ_INT(ev.opcode, WS_OP_TEXT);
    CHECK_EQ_MEM(ev.data, ev.len, "Hello");
    ws_rx_msg_done(&rx);
    /* A masked ping "Hello". */
    uint8_t ping[sizeof hello];
    memcpy(ping, hello, sizeof hello);
    ping[0] = 0x89;
    CHECK_EQ_INT(feed_all(&rx, ping, sizeof ping, &ev, NULL), WS_EV_PING);
    CHECK_EQ_MEM(ev.data, ev.len, "Hello");
    ws_rx_free(&rx);
}

TEST(unmasked_client_frame_is_1002_but_fine_for_a_client)
{
    const uint8_t hello[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
    ws_rx rx = { 0 };
    ws_event ev;
    CHECK_EQ_INT(feed_all(&rx, hello, sizeof hello, &ev, NULL), WS_EV_FAIL);
    CHECK_EQ_INT(ev.code, 1002);
    /* After a failure everything is ignored. */
    CHECK_EQ_INT(ws_rx_feed(&rx, hello, sizeof hello, &ev), sizeof hello);
    CHECK_EQ_INT(ev.type, WS_EV_NONE);
    ws_rx_free(&rx);
    ws_rx cl = { .client = true };
    CHECK_EQ_INT(feed_all(&cl, hello, sizeof hello, &ev, NULL), WS_EV_MESSAGE);
    CHECK_EQ_MEM(ev.data, ev.len, "Hello");
    ws_rx_free(&cl);
}

TEST(fragments_with_a_ping_between_one_byte_at_a_time)
{
    buf all;
    buf_init(&all, 0);
    ws_write_frame(&all, WS_OP_TEXT, false, false, "Hel", 3, MASK);
    ws_write_frame(&all, WS_OP_PING, true, false, "p", 1, MASK);
    ws_write_frame(&all, WS_OP_CONT, false, false, "l", 1, MASK);
    ws_write_frame(&all, WS_OP_CONT, true, false, "o", 1, MASK);
    ws_rx rx = { .max_message = 100 };
    int seen[4], ns = 0;
    ws_event ev;
    for (size_t i = 0; i < all.len; i++) {
        size_t u = ws_rx_feed(&rx, (uint8_t *)all.data + i, 1, &ev);
        CHECK_EQ_INT(u, 1);
        if (ev.type == WS_EV_NONE) continue;
        if (ns < 4) seen[ns++] = ev.type;
        if (ev.type == WS_EV_PING) CHECK_EQ_MEM(ev.data, ev.len, "p");
        if (ev.type == WS_EV_MESSAGE) { CHECK_EQ_MEM(ev.data, ev.len, "Hello"); ws_rx_msg_done(&rx); }
    }
    CHECK_EQ_INT(ns, 2);
    CHECK_EQ_INT(seen[0], WS_EV_PING);
    CHECK_EQ_INT(seen[1], WS_EV_MESSAGE);
    buf_free(&all);
    ws_rx_free(&rx);
}

TEST(lengths_16_and_64_bit_round_trip)
{
    size_t sizes[] = { 0, 125, 126, 65535, 65536, 300000 };
    for (size_t k = 0; k < ARRAY_LEN(sizes); k++) {
        size_t n = sizes[k];
        char *p = malloc(n + 1);
        for (size_t i = 0; i < n; i++) p[i] = (char)(i * 7);
        buf b = frame(WS_OP_BINARY, true, p, n);
        ws_frame f;
        size_t hl = ws_frame_parse((uint8_t *)b.data, b.len, &f);
        CHECK_EQ_INT(hl, (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4);
        CHECK_EQ_INT(f.len, n);
        ws_rx rx = { .max_message = 1 << 20 };
        ws_event ev;
        CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_MESSAGE);
        CHECK(ev.len == n && (n == 0 || memcmp(ev.data, p, n) == 0));
        ws_rx_free(&rx);
        buf_free(&b);
        free(p);
    }
}

/* Each hostile input and the close code it must get. */
TEST(rule_violations_and_their_codes)
{
    struct { const char *name; uint8_t bytes[16]; size_t n; unsigned code; } cases[] = {
        { "rsv2", { 0xA1, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "rsv1 without deflate", { 0xC1, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "opcode 3", { 0x83, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "opcode 11", { 0x8B, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "continuation first", { 0x80, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "fragmented ping", { 0x09, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "ping 126", { 0x89, 0xFE, 0, 126 }, 4, 1002 },
        { "close len 1", { 0x88, 0x81, 1, 2, 3, 4, 5 }, 7, 1002 },
        { "too big", { 0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 1 }, 10, 1009 },
        { "huge 64-bit", { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 10, 1009 },
        { "unmasked", { 0x82, 0x00 }, 2, 1002 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ws_rx rx = { .max_message = 1 << 20 };
        ws_event ev;
        int t = feed_all(&rx, cases[i].bytes, cases[i].n, &ev, NULL);
        if (t != WS_EV_FAIL || ev.code != cases[i].code)
            T_FAIL("%s: type %d code %u", cases[i].name, t, ev.code);
        ws_rx_free(&rx);
    }
}

TEST(text_inside_fragments_invalid_utf8_and_close_codes)
{
    ws_rx rx = { .max_message = 100 };
    ws_event ev;
    buf a = frame(WS_OP_TEXT, false, "a", 1), b = frame(WS_OP_TEXT, true, "b", 1);
    feed_all(&rx, a.data, a.len, &ev, NULL);
    CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_FAIL);
    CHECK_EQ_INT(ev.code, 1002);
    ws_rx_free(&rx);
    buf_free(&a); buf_free(&b);

    ws_rx r2 = { 0 };
    buf c = frame(WS_OP_TEXT, true, "\xC0\xAF", 2);   /* overlong '/' */
    CHECK_EQ_INT(feed_all(&r2, c.data, c.len, &ev, NULL), WS_EV_FAIL);
    CHECK_EQ_INT(ev.code, 1007);
    ws_rx_free(&r2); buf_free(&c);

    struct { const char *p; size_t n; int type; unsigned code; } closes[] = {
        { "", 0, WS_EV_CLOSE, 1005 },
        { "\x03\xE8", 2, WS_EV_CLOSE, 1000 },
        { "\x03\xE8ok", 4, WS_EV_CLOSE, 1000 },
        { "\x0F\xA0", 2, WS_EV_CLOSE, 4000 },
        { "\x03\xED", 2, WS_EV_FAIL, 1002 },       /* 1005 may not be sent */
        { "\x03\xE7", 2, WS_EV_FAIL, 1002 },       /* 999 */
        { "\x13\x88", 2, WS_EV_FAIL, 1002 },       /* 5000 */
        { "\x03\xE8\xFF", 3, WS_EV_FAIL, 1007 },   /* reason not UTF-8 */
    };
    for (size_t i = 0; i < ARRAY_LEN(closes); i++) {
        ws_rx r = { 0 };
        buf f = frame(WS_OP_CLOSE, true, closes[i].p, closes[i].n);
        int t = feed_all(&r, f.data, f.len, &ev, NULL);
        if (t != closes[i].type || ev.code != closes[i].code)
            T_FAIL("close case %zu: type %d code %u", i, t, ev.code);
        ws_rx_free(&r); buf_free(&f);
    }
}

TEST(size_limit_counts_fragments)
{
    ws_rx rx = { .max_message = 10 };
    ws_event ev;
    buf a = frame(WS_OP_BINARY, false, "123456", 6), b = frame(WS_OP_CONT, true, "12345", 5);
    CHECK_EQ_INT(feed_all(&rx, a.data, a.len, &ev, NULL), WS_EV_NONE);
    CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_FAIL);
    CHECK_EQ_INT(ev.code, 1009);
    ws_rx_free(&rx); buf_free(&a); buf_free(&b);
}

TEST(utf8_verdicts)
{
    CHECK(ws_utf8_valid((const uint8_t *)"", 0));
    CHECK(ws_utf8_valid((const uint8_t *)"plain ascii, long enough for the fast path", 42));
    CHECK(ws_utf8_valid((const uint8_t *)"\xCE\xBA\xE1\xBD\xB9\xF0\x9F\x98\x80", 9));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xED\xA0\x80", 3));        /* surrogate */
    CHECK(!ws_utf8_valid((const uint8_t *)"\xF4\x90\x80\x80", 4));    /* > U+10FFFF */
    CHECK(!ws_utf8_valid((const uint8_t *)"abcdefgh\xE2\x82", 10));   /* truncated */
}

TEST(server_frames_close_reason_is_cut_at_a_character)
{
    buf b;
    buf_init(&b, 0);
    char reason[200];
    for (int i = 0; i < 200; i += 2) { reason[i] = (char)0xCE; reason[i + 1] = (char)0xBA; }
    ws_write_close(&b, 1000, reason, 200, NULL);
    ws_rx rx = { .client = true };
    ws_event ev;
    CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_CLOSE);
    CHECK_EQ_INT(ev.code, 1000);
    CHECK(ev.len <= 123 && ev.len % 2 == 0);
    ws_rx_free(&rx);
    buf_free(&b);
}

TEST(deflate_negotiation)
{
    ws_deflate_params d;
    char resp[256];
    CHECK(!ws_deflate_negotiate(NULL, &d, resp, sizeof resp));
    CHECK(ws_deflate_negotiate("permessage-deflate; client_max_window_bits", &d, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    CHECK(d.enabled && d.server_window_bits == 15);
    CHECK(ws_deflate_negotiate("permessage-deflate; server_max_window_bits=10; client_no_context_takeover",
                               &d, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
                       " server_max_window_bits=10");
    CHECK_EQ_INT(d.server_window_bits, 10);
    CHECK(ws_deflate_negotiate("permessage-deflate; server_max_window_bits=\"12\"", &d, resp, sizeof resp));
    CHECK_EQ_INT(d.server_window_bits, 12);
    /* Declined: 8 bits (zlib), junk, repeats, bad values; the next offer wins. */
    CHECK(!ws_deflate_negotiate("permessage-deflate; server_max_window_bits=8", &d, resp, sizeof resp));
    CHECK(!ws_deflate_negotiate("permessage-deflate; foo", &d, resp, sizeof resp));
    CHECK(!ws_deflate_negotiate("permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                                &d, resp, sizeof resp));
    CHECK(!ws_deflate_negotiate("permessage-deflate; server_max_window_bits", &d, resp, sizeof resp));
    CHECK(!ws_deflate_negotiate("permessage-deflate; client_max_window_bits=16", &d, resp, sizeof resp));
    CHECK(!ws_deflate_negotiate("x-webkit-deflate-frame", &d, resp, sizeof resp));
    CHECK(ws_deflate_negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate",
                               &d, resp, sizeof resp));
    CHECK_EQ_INT(d.server_window_bits, 15);
    CHECK(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
    CHECK(!ws_header_has_token("keep-alive, Upgrades", "upgrade"));
}

TEST(deflate_round_trip_rfc7692_example_and_bomb)
{
    ws_deflate_params d = { .enabled = true, .server_window_bits = 15 };
    buf out;
    buf_init(&out, 0);
    /* RFC 7692 section 7.2.3.1: "Hello" as one compressed block. */
    const uint8_t hello[] = { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 };
    CHECK_EQ_INT(ws_inflate_message(&d, hello, sizeof hello, 100, &out), 0);
    CHECK_EQ_MEM(out.data, out.len, "Hello");
    out.len = 0;
    ws_deflate_message(&d, "", 0, &out);
    CHECK(out.len == 1 && out.data[0] == 0);       /* section 7.2.3.6 */
    size_t n = 2u << 20;
    char *zeros = calloc(1, n);
    for (int bits = 9; bits <= 15; bits += 3) {
        d.server_window_bits = bits;
        buf z, back;
        buf_init(&z, 0); buf_init(&back, 0);
        ws_deflate_message(&d, zeros, n, &z);
        CHECK(z.len < n / 100);
        CHECK_EQ_INT(ws_inflate_message(&d, z.data, z.len, 0, &back), 0);
        CHECK(back.len == n && memcmp(back.data, zeros, n) == 0);
        back.len = 0;
        CHECK_EQ_INT(ws_inflate_message(&d, z.data, z.len, 1 << 20, &back), 1009);
        CHECK(back.len <= (1u << 20) + 1);
        buf_free(&z); buf_free(&back);
    }
    free(zeros);
    out.len = 0;
    CHECK_EQ_INT(ws_inflate_message(&d, "\xff\xff\xff\xff", 4, 100, &out), 1007);
    buf_free(&out);
}

TEST(rsv1_allowed_only_with_deflate_on_first_frame)
{
    ws_rx rx = { .deflate = true, .max_message = 100 };
    ws_event ev;
    buf b;
    buf_init(&b, 0);
    ws_write_frame(&b, WS_OP_TEXT, false, true, "\xf2\x48\xcd", 3, MASK);
    ws_write_frame(&b, WS_OP_CONT, true, false, "\xc9\xc9\x07\x00", 4, MASK);
    CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_MESSAGE);
    CHECK(ev.compressed && ev.len == 7);
    ws_rx_msg_done(&rx);
    b.len = 0;
    ws_write_frame(&b, WS_OP_TEXT, false, false, "a", 1, MASK);
    ws_write_frame(&b, WS_OP_CONT, true, true, "b", 1, MASK);
    CHECK_EQ_INT(feed_all(&rx, b.data, b.len, &ev, NULL), WS_EV_FAIL);
    CHECK_EQ_INT(ev.code, 1002);
    buf_free(&b);
    ws_rx_free(&rx);
}

int main(void) { return t_run(); }
