/*
 * sign.c -- Pusher's configuration and signatures: HMAC-SHA256 (libsodium)
 * of requests and channel authorizations, MD5 (nettle) of request bodies,
 * and the checks on names Pusher makes.
 *
 * Owns: the configuration read from the environment (once per process).
 * Must never: compare a signature in variable time, or sign with an empty
 * secret.
 */
#include "pusher/pusher.h"
#include "json/json.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"

#include <nettle/md5.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pusher_config conf;
static int conf_state;          /* 0 unread, 1 on, -1 off */

const pusher_config *pusher_conf(void)
{
    if (!conf_state) {
        conf.app_id = getenv("PUSHER_APP_ID");
        conf.key = getenv("PUSHER_KEY");
        conf.secret = getenv("PUSHER_SECRET");
        conf_state = conf.app_id && *conf.app_id && conf.key && *conf.key && conf.secret && *conf.secret ? 1 : -1;
    }
    return conf_state > 0 ? &conf : NULL;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

void pusher_sign(const pusher_config *cf, const char *msg, size_t len, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)cf->secret, strlen(cf->secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
    crypto_auth_hmacsha256_final(&st, mac);
    hex(mac, sizeof mac, out);
}

void pusher_md5_hex(const void *data, size_t len, char out[33])
{
    struct md5_ctx c;
    unsigned char d[MD5_DIGEST_SIZE];
    md5_init(&c);
    md5_update(&c, len, data);
    md5_digest(&c, sizeof d, d);
    hex(d, sizeof d, out);
}

bool pusher_valid_channel(const char *s, size_t n)
{
    if (n == 0 || n > 164) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_=@,.;", c) ) || !c)
            return false;
    }
    return true;
}

bool pusher_valid_socket_id(const char *s)
{
    if (!s) return false;
    size_t a = strspn(s, "0123456789");
    if (a == 0 || a > 20 || s[a] != '.') return false;
    size_t b = strspn(s + a + 1, "0123456789");
    return b > 0 && b <= 20 && s[a + 1 + b] == 0;
}

uint64_t pusher_socket_origin(const char *s)
{
    if (!pusher_valid_socket_id(s)) return 0;
    char *end;
    unsigned long long a = strtoull(s, &end, 10), b = strtoull(end + 1, NULL, 10);
    return a > UINT32_MAX || b > UINT32_MAX ? 0 : (uint64_t)a << 32 | b;
}

char *pusher_data_to_json(kiln_req *req, const char *data, size_t len)
{
    arena a;
    arena_init(&a, 1024);
    bool is_json = json_parse(&a, data, len, NULL) != NULL;
    arena_destroy(&a);
    buf b;
    buf_init(&b, len + 8);
    if (is_json) buf_append(&b, data, len);
    else json_escape(&b, data, len);
    buf_putc(&b, 0);
    if (!req) return b.data;
    char *out = kiln_strndup(req, b.data, b.len - 1);
    buf_free(&b);
    return out;
}

/* The body of a channel authorization (kiln.h). */
const char *kiln_pusher_authorize(kiln_req *req, const char *socket_id, const char *channel, const char *presence_json)
{
    const pusher_config *cf = pusher_conf();
    if (!cf || !pusher_valid_socket_id(socket_id) || !channel || !pusher_valid_channel(channel, strlen(channel)))
        return NULL;
    bool presence = strncmp(channel, "presence-", 9) == 0;
    if (presence && !presence_json) return NULL;
    char *msg = presence ? kiln_sprintf(req, "%s:%s:%s", socket_id, channel, presence_json)
                         : kiln_sprintf(req, "%s:%s", socket_id, channel);
    char sig[65];
    pusher_sign(cf, msg, strlen(msg), sig);
    char *auth = kiln_sprintf(req, "%s:%s", cf->key, sig);
    return presence ? kiln_json_fmt(req, "{auth: %s, channel_data: %s}", auth, presence_json)
                    : kiln_json_fmt(req, "{auth: %s}", auth);
}
