/*
 * handshake.c -- the WebSocket opening handshake (RFC 6455 section 4.2) and
 * the permessage-deflate negotiation (RFC 7692 section 7.1).
 *
 * Pure functions over header values: the accept key (SHA-1 and base64 from
 * nettle, Debian's nettle-dev), the key's shape, token lists, and the
 * extension offer parser.
 *
 * Owns: nothing. Must never: accept an offer it cannot honour (an unknown or
 * repeated parameter, a window zlib cannot produce), or read past a value.
 */
#include "ws/ws.h"

#include <ctype.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *key, size_t key_len, char out[29])
{
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, key_len, (const uint8_t *)key);
    sha1_update(&ctx, sizeof GUID - 1, (const uint8_t *)GUID);
    sha1_digest(&ctx, sizeof digest, digest);
    base64_encode_raw(out, sizeof digest, digest);   /* 28 characters */
    out[28] = '\0';
}

bool ws_key_valid(const char *key, size_t key_len)
{
    /* base64 of 16 bytes: 22 characters, then "==" (the last character
     * carries 4 bits, which base64 decoders accept loosely; `ws` only checks
     * the alphabet too). */
    if (key_len != 24 || key[22] != '=' || key[23] != '=') return false;
    for (size_t i = 0; i < 22; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!(isalnum(c) || c == '+' || c == '/')) return false;
    }
    return true;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

bool ws_header_has_token(const char *value, const char *token)
{
    if (!value) return false;
    size_t tl = strlen(token);
    const char *s = value;
    while (*s) {
        while (*s == ',' || is_ws(*s)) s++;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && is_ws(t[-1])) t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0) return true;
        s = e;
    }
    return false;
}

/* A window-bits value: 8..15, bare or quoted. */
static int window_bits(const char *v, size_t n)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') { v++; n -= 2; }
    if (n == 1 && v[0] == '8') return 8;
    if (n == 1 && v[0] == '9') return 9;
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return -1;
}

/* One offer: "permessage-deflate; a; b=1". Returns true if we can take it. */
static bool take_offer(const char *s, const char *e, ws_deflate_params *pp, bool *smwb)
{
    const char *p = s;
    while (p < e && is_ws(*p)) p++;
    const char *name = p;
    while (p < e && *p != ';' && !is_ws(*p)) p++;
    if ((size_t)(p - name) != 18 || strncasecmp(name, "permessage-deflate", 18) != 0) return false;
    bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
    ws_deflate_params d = { .enabled = true, .server_window_bits = 15, .client_window_bits = 15,
                            .server_no_context = true, .client_no_context = true };
    for (;;) {
        while (p < e && is_ws(*p)) p++;
        if (p == e) break;
        if (*p != ';') return false;
        p++;
        while (p < e && is_ws(*p)) p++;
        const char *k = p;
        while (p < e && *p != '=' && *p != ';' && !is_ws(*p)) p++;
        size_t kl = (size_t)(p - k);
        while (p < e && is_ws(*p)) p++;
        const char *v = NULL;
        size_t vl = 0;
        if (p < e && *p == '=') {
            p++;
            while (p < e && is_ws(*p)) p++;
            v = p;
            while (p < e && *p != ';' && !is_ws(*p)) p++;
            vl = (size_t)(p - v);
            if (vl == 0) return false;
        }
#define IS(lit) (kl == sizeof(lit) - 1 && strncasecmp(k, lit, kl) == 0)
        if (IS("server_no_context_takeover")) {
            if (seen_snct || v) return false;
            seen_snct = true;
        } else if (IS("client_no_context_takeover")) {
            if (seen_cnct || v) return false;
            seen_cnct = true;
        } else if (IS("server_max_window_bits")) {
            int b = v ? window_bits(v, vl) : -1;
            if (seen_smwb || b < 0) return false;
            if (b < 9) return false;      /* zlib's raw deflate makes 9 at least */
            seen_smwb = true;
            d.server_window_bits = b;
        } else if (IS("client_max_window_bits")) {
            if (seen_cmwb || (v && window_bits(v, vl) < 0)) return false;
            seen_cmwb = true;          /* we inflate with 15: any window works */
        } else {
            return false;
        }
#undef IS
    }
    *pp = d;
    *smwb = seen_smwb;     /* accepted by echoing it (section 7.1.2.1) */
    return true;
}

bool ws_deflate_negotiate(const char *header, ws_deflate_params *pp, char *resp, size_t resp_cap)
{
    memset(pp, 0, sizeof *pp);
    if (!header) return false;
    const char *s = header;
    while (*s) {
        /* Offers are separated by commas; values never hold one. */
        const char *e = strchr(s, ',');
        if (!e) e = s + strlen(s);
        ws_deflate_params d;
        bool smwb;
        if (take_offer(s, e, &d, &smwb)) {
            int n;
            if (smwb)
                n = snprintf(resp, resp_cap,
                             "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
                             " server_max_window_bits=%d", d.server_window_bits);
            else
                n = snprintf(resp, resp_cap,
                             "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
            if (n < 0 || (size_t)n >= resp_cap) return false;
            *pp = d;
            return true;
        }
        s = *e ? e + 1 : e;
    }
    return false;
}
