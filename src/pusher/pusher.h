/*
 * pusher.h -- the Pusher Channels protocol (version 7), served by Kiln:
 * configuration, signatures, and the REST API as the `pusher` server SDK
 * calls it. Pusher channels are Kiln channels (src/realtime/channel.h): an
 * event triggered through the REST API is a kiln_publish, and an event
 * published in C reaches Pusher clients.
 */
#ifndef KILN_PUSHER_H
#define KILN_PUSHER_H

#include "kiln.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PUSHER_APP_ID, PUSHER_KEY, PUSHER_SECRET, read once; NULL when any is
 * unset or empty (Pusher is off). */
typedef struct pusher_config {
    const char *app_id;
    const char *key;
    const char *secret;
} pusher_config;
const pusher_config *pusher_conf(void);

/* Lower-case hex HMAC-SHA256 of msg with the app secret (65 bytes out). */
void pusher_sign(const pusher_config *cf, const char *msg, size_t len, char out[65]);
/* Lower-case hex MD5 (33 bytes out): body_md5. */
void pusher_md5_hex(const void *data, size_t len, char out[33]);

/* Names as Pusher allows them: [-a-zA-Z0-9_=@,.;]{1,164}; socket ids as
 * "digits.digits". */
bool pusher_valid_channel(const char *name, size_t len);
bool pusher_valid_socket_id(const char *s);
/* A valid socket id "A.B" as the channel origin of that socket (A << 32 | B;
 * 0 when it is not one of ours). */
uint64_t pusher_socket_origin(const char *socket_id);

/* The data of a Pusher event (a string) as the JSON Kiln channels carry: a
 * string that is JSON text is taken as is, any other string becomes a JSON
 * string. And back: what Pusher clients get as `data` for a channel event:
 * a JSON string's content, or the JSON text itself. Both in req's arena
 * (or malloc'd with req NULL: free them). */
char *pusher_data_to_json(kiln_req *req, const char *data, size_t len);

/* The REST API routes (`kiln build` adds them to every app; they answer
 * 404 while Pusher is off). */
void kiln_pusher_rest_events(kiln_req *req, kiln_res *res);
void kiln_pusher_rest_batch_events(kiln_req *req, kiln_res *res);
void kiln_pusher_rest_channels(kiln_req *req, kiln_res *res);
void kiln_pusher_rest_channel(kiln_req *req, kiln_res *res);
void kiln_pusher_rest_users(kiln_req *req, kiln_res *res);
/* The WebSocket endpoint /app/{key} (socket.c). */
void kiln_pusher_socket(kiln_req *req, kiln_res *res);

/* The routes every app gets after its own, in one list for both ways an app
 * is served: `kiln build` writes them into the generated table (src/cli/
 * build.c) and `kiln dev`'s host appends them to each loaded generation
 * (src/app/devhost.c). X(pattern, method, handler). */
#define PUSHER_BUILTIN_ROUTES(X)                                              \
    X("/apps/[app_id]/events", KILN_POST, kiln_pusher_rest_events)            \
    X("/apps/[app_id]/batch_events", KILN_POST, kiln_pusher_rest_batch_events) \
    X("/apps/[app_id]/channels", KILN_GET, kiln_pusher_rest_channels)         \
    X("/apps/[app_id]/channels/[channel_name]", KILN_GET, kiln_pusher_rest_channel) \
    X("/apps/[app_id]/channels/[channel_name]/users", KILN_GET, kiln_pusher_rest_users) \
    X("/app/[key]", KILN_GET, kiln_pusher_socket)

#endif
