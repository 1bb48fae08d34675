/*
 * request.h -- what the layers beside the handler API (the database, auth)
 * may know of a request beyond kiln.h: its arena, its response, and one
 * slot for the database layer's per-request state.
 *
 * They include this instead of api/api.h, so that they never see the engine
 * or the response writer's internals.
 */
#ifndef KILN_API_REQUEST_H
#define KILN_API_REQUEST_H

#include "kiln.h"
#include "core/core.h"

arena *request_arena(kiln_req *req);
kiln_res *request_res(kiln_req *req);
struct db_req **request_db_slot(kiln_req *req);
/* An automatic answer went out: later sends by the handler are ignored
 * without a log line. */
void request_mute_response(kiln_req *req);
/* For error reports: the statement whose failure is answered 500 (its
 * text; values are bound, never part of it) and the database's message;
 * the user id of the request's session. */
void request_note_db_error(kiln_req *req, const char *sql, const char *error);
void request_set_session_user(kiln_req *req, int64_t user_id);
/* A session token the client presented in its protocol rather than in a
 * header (GraphQL over WebSocket: connection_init's payload): from now on
 * the request's session is this token's, as if sent as a Bearer token. */
void request_set_session_token(kiln_req *req, const char *token);
const char *request_session_token(kiln_req *req);
/* A long-lived response (an event stream): the route's max duration no
 * longer applies (the watchdog still guards each run of its handler). */
void request_unlimited(kiln_req *req);

#endif
