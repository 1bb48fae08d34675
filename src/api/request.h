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

/* An event on a long-lived request (a GraphQL subscription's delivery on
 * its socket, graphql_ws.c): between request_event_begin and
 * request_event_end, everything allocated for `req` -- kiln_alloc,
 * kiln_strdup, kiln_sprintf, JSON parsed for it, the database layer's
 * state, its kiln_defer clean-ups -- goes to the event's arena `a`, so a
 * socket that lives for a million events does not grow with them; the
 * caller runs the clean-ups (arena_run_defers) before request_event_end,
 * so what they allocate is the event's too, then destroys `a`.
 * request_event_end forgets what the private state kept of the event (the
 * lazy query and form views, the noted database errors); `touched`: the
 * request may have been read (false only when its arena stayed parked, so
 * nothing was set). Begin and end nest (a resolver may publish, and so
 * deliver, within a delivery). */
typedef struct request_scope { const kiln_req *req; arena *a; } request_scope;
request_scope request_event_begin(kiln_req *req, arena *a);
void request_event_end(kiln_req *req, arena *a, bool touched, request_scope outer);
kiln_res *request_res(kiln_req *req);
struct db_req **request_db_slot(kiln_req *req);
/* An automatic answer went out: later sends by the handler are ignored
 * without a log line. */
void request_mute_response(kiln_req *req);
/* For error reports: the statement whose failure is answered 500 (its
 * text; values are bound, never part of it) and the database's message;
 * the user id of the request's session. */
void request_note_db_error(kiln_req *req, const char *sql, const char *error);
/* GraphQL execution (api/graphql.c, graphql_ws.c): while `on`, a database
 * failure answers nothing (no 400/503/500, no mute): db.c still logs it,
 * counts it and notes it for the error report, then hands its status here
 * (request_catch_db_failure returns true). The executor takes it after
 * each resolver and batch function (request_take_db_failure: the first
 * failure since the last take, KILN_DB_OK when none; *message is the
 * database's message for KILN_DB_INVALID only) and makes it a field error. */
void request_catch_db_failures(kiln_req *req, bool on);
/* The automatic answer to a database failure nobody caught (db.c): 400
 * {"error": message} for invalid data, 503 / 500 {"error", "requestId"}
 * when the database is unreachable / failed -- or, on a GraphQL endpoint's
 * route (its middleware ran before kiln_graphql, a session check, say), a
 * GraphQL request error with the same message and extensions.code
 * (graphql_answer_db_failure). */
void request_answer_db_failure(kiln_req *req, kiln_db_status st, const char *message);
bool request_catch_db_failure(kiln_req *req, kiln_db_status st, const char *message);
kiln_db_status request_take_db_failure(kiln_req *req, const char **message);
void request_set_session_user(kiln_req *req, int64_t user_id);
/* A session token the client presented in its protocol rather than in a
 * header (GraphQL over WebSocket: connection_init's payload): from now on
 * the request's session is this token's, as if sent as a Bearer token. */
void request_set_session_token(kiln_req *req, const char *token);
const char *request_session_token(kiln_req *req);
/* A long-lived response (an event stream): the route's max duration no
 * longer applies (the watchdog still guards each run of its handler). */
void request_unlimited(kiln_req *req);
/* A streamed response is about to be handed to a conn_proto (an event
 * stream after kiln_sse_run): log the request now (access log, status and
 * time so far), since its handler's return will not be the end of it. */
void request_hand_over(kiln_req *req);

#endif
