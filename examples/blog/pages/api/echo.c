/* /api/echo -- a WebSocket that sends every message back with its type (text
 * stays text, binary stays binary): the target of the protocol conformance
 * tests. Straight-line style: kiln_ws_recv suspends only this connection. */
#include <kiln.h>

void GET(kiln_req *req, kiln_res *res)
{
    kiln_ws *ws = kiln_ws_accept(req, res, NULL);
    if (!ws) return;                       /* not a WebSocket handshake: 400 sent */
    kiln_ws_msg msg;
    while (kiln_ws_recv(ws, &msg))         /* false once the peer closed */
        kiln_ws_send(ws, msg.type, msg.data, msg.len);
}

/* Declared for the API description: the upgrade (x-kiln-websocket there). */
const kiln_config config = { .responses = { [KILN_GET] = KILN_RESPONSES(
    KILN_RESPONSE(101, .description = "Switching Protocols: a WebSocket that echoes every message")) } };
