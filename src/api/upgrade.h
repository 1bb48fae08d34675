/*
 * upgrade.h -- what a protocol that takes a request's connection over after
 * an HTTP upgrade (WebSocket: src/ws) needs from the framework, beyond
 * kiln.h: the connection to hand to the engine's conn_upgrade
 * (runtime/engine.h), and the 101 answer.
 *
 * Such a protocol includes this instead of api/api.h, so it never sees the
 * framework's request internals or the response writer.
 */
#ifndef KILN_API_UPGRADE_H
#define KILN_API_UPGRADE_H

#include "kiln.h"

typedef struct conn conn;

/* The connection a request came on. */
conn *request_conn(kiln_req *req);

/* Queue 101 Switching Protocols with the headers set on the request's
 * response (the protocol's own among them) and log the request as answered
 * 101 (access log, metrics). False if a response was already started. */
bool request_switch_protocols(kiln_req *req);

#endif
