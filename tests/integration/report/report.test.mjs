// report.test.mjs -- error reports to Sentry, end to end: a real Kiln server
// (tests/fixtures/reportapp) reports to a local receiver (receiver.mjs) that
// parses every envelope with @sentry/core's parseEnvelope and checks its
// auth header; the events' fields are asserted here.
//
// Proved: a database 500 (SQL text, never the bound value, secrets out of
// the headers, the caller's trace id, breadcrumbs, X-Sentry-Event-Id), a
// crash from a real route (symbolized frames, in_app), a 504, handler-chosen
// 4xx never reported, kiln_capture_message/error with the session's user
// id, the trace id on every log line of a request, a GraphQL resolver error
// (its path and operation name; BAD_USER_INPUT and validation errors not),
// a database failure under a resolver (a field error to the client, a
// DatabaseError to Sentry), and resolver errors over GraphQL's WebSocket
// (a subscription's start, an event, a query; UNAUTHENTICATED not).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { startReceiver } from './receiver.mjs';

const APP = 'tests/fixtures/reportapp';
const HEX32 = /^[0-9a-f]{32}$/;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

let rx, srv;

before(async () => {
  buildApp(APP);
  rx = await startReceiver({ project: 7, key: 'pubkey' });
  srv = await startServer(APP, {
    workers: 2,
    env: { SENTRY_DSN: rx.dsn, SENTRY_ENVIRONMENT: 'staging', SENTRY_RELEASE: 'reportapp@1.2.3', KILN_DB_POOL: '2' },
  });
});

after(async () => {
  await srv?.stop();
  await rx?.close();
});

// Fields every event must have.
function checkEvent(ev, { route, method = 'GET' }) {
  assert.match(ev.event_id, HEX32);
  assert.equal(typeof ev.timestamp, 'number');
  assert.ok(Math.abs(ev.timestamp * 1000 - Date.now()) < 60_000, 'timestamp is now');
  assert.ok(['fatal', 'error', 'warning', 'info', 'debug'].includes(ev.level), ev.level);
  assert.equal(ev.platform, 'c');
  assert.ok(ev.server_name, 'server_name');
  assert.equal(ev.environment, 'staging');
  assert.equal(ev.release, 'reportapp@1.2.3');
  assert.equal(ev.transaction, route);
  assert.equal(ev.request.method, method);
  assert.match(ev.request.url, new RegExp(`^http://127\\.0\\.0\\.1:${srv.port}${route.replace(/[[\]]/g, '\\$&')}`));
  assert.equal(ev.tags.route, route);
  assert.equal(ev.tags.method, method);
  assert.match(ev.tags.worker, /^[01]$/);
  assert.match(ev.tags.request_id, /^[0-9a-f]{16}$/);
  assert.equal(ev.extra.request_id, ev.tags.request_id);
  assert.match(ev.contexts.trace.trace_id, HEX32);
  assert.match(ev.contexts.trace.span_id, /^[0-9a-f]{16}$/);
  for (const name of Object.keys(ev.request.headers)) {
    assert.ok(!/^(authorization|cookie|set-cookie)$|token|secret|api-key|session/i.test(name), `header ${name} was sent`);
  }
}

test('a database error: 500 reported with the SQL text, never its value; secrets scrubbed; trace id kept', async () => {
  const r = await srv.fetch('/api/dberror?page=2', {
    headers: {
      Authorization: 'Bearer very-secret-token',
      Cookie: 'session=cookie-secret',
      'X-Api-Key': 'key-secret',
      'X-Custom': 'visible',
      traceparent: `00-${TRACE}-${PARENT}-01`,
    },
  });
  assert.equal(r.status, 500);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32, 'X-Sentry-Event-Id header');
  const rid = r.headers.get('x-request-id');
  const ev = await rx.waitForEvent((e) => e.event_id === id);
  checkEvent(ev, { route: '/api/dberror' });
  assert.equal(ev.level, 'error');
  assert.equal(ev.exception.values[0].type, 'DatabaseError');
  assert.match(ev.exception.values[0].value, /no such table/);
  assert.equal(ev.extra.sql, 'SELECT name FROM no_such_table WHERE name = ?');
  assert.equal(ev.request.query_string, 'page=2');
  assert.equal(ev.request.headers['X-Custom'], 'visible');
  assert.equal(ev.tags.request_id, rid);
  assert.equal(ev.contexts.trace.trace_id, TRACE);
  assert.equal(ev.contexts.trace.parent_span_id, PARENT);
  assert.ok(ev.breadcrumbs.values.some((b) => b.message === 'database error'), 'the request\'s log line is a breadcrumb');
  // Nothing secret anywhere in what was sent.
  const raw = rx.envelopes.find((e) => e.header.event_id === id).raw;
  for (const secret of ['hunter2-bound-value', 'very-secret-token', 'cookie-secret', 'key-secret']) {
    assert.ok(!raw.includes(secret), `${secret} was sent`);
  }
  // The event id is logged with the request.
  await srv.waitForLog((l) => l.requestId === rid && l.eventId === id);
  assert.deepEqual(rx.problems, []);
});

test('a crash in a real route: reported with its symbolized stack (function, file, line, in_app)', async () => {
  const r = await srv.fetch('/api/crash');
  assert.equal(r.status, 500);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32);
  const ev = await rx.waitForEvent((e) => e.event_id === id, 15_000);
  checkEvent(ev, { route: '/api/crash' });
  assert.equal(ev.level, 'fatal');
  const exc = ev.exception.values[0];
  assert.equal(exc.type, 'SIGSEGV');
  const frames = exc.stacktrace.frames;
  const last = frames[frames.length - 1];
  assert.equal(last.function, 'boom', JSON.stringify(frames));
  assert.equal(last.filename, 'pages/api/crash.c');
  assert.equal(last.lineno, 8);
  assert.equal(last.in_app, true);
  const caller = frames[frames.length - 2];
  assert.equal(caller.function, 'handler');
  assert.equal(caller.filename, 'pages/api/crash.c');
  assert.equal(caller.lineno, 13);
  assert.ok(frames.some((f) => f.in_app === false), 'Kiln\'s own frames are not in_app');
  assert.ok(ev.breadcrumbs.values.some((b) => b.message === 'about to crash'));
  // The server still serves.
  assert.equal((await srv.fetch('/api/hello')).status, 200);
  assert.deepEqual(rx.problems, []);
});

test('a 504 from the time limit is reported', async () => {
  const r = await srv.fetch('/api/slow');
  assert.equal(r.status, 504);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32);
  const ev = await rx.waitForEvent((e) => e.event_id === id);
  checkEvent(ev, { route: '/api/slow' });
  assert.equal(ev.exception.values[0].type, 'Timeout');
  assert.equal(ev.extra.status, '504');
});

test('a handler that never yields: the watchdog\'s 504 is reported with the stack where it spun', async () => {
  const r = await srv.fetch('/api/spin');
  assert.equal(r.status, 504);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32);
  const ev = await rx.waitForEvent((e) => e.event_id === id, 15_000);
  checkEvent(ev, { route: '/api/spin' });
  assert.equal(ev.exception.values[0].type, 'Timeout');
  assert.equal(ev.extra.status, '504');
  const frames = ev.exception.stacktrace?.frames ?? ev.exception.values[0].stacktrace.frames;
  assert.ok(frames.some((f) => f.function === 'spin' && f.filename === 'pages/api/spin.c' && f.in_app), JSON.stringify(frames));
});

test('a 4xx the handler chose is not reported', async () => {
  const before = rx.events().length;
  const r = await srv.fetch('/api/missing');
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('x-sentry-event-id'), null);
  const n = await srv.fetch('/api/nothing-here');
  assert.equal(n.status, 404);
  // A later error proves the sender is alive, and nothing came for the 404s.
  const e = await srv.fetch('/api/dberror');
  await rx.waitForEvent((ev) => ev.event_id === e.headers.get('x-sentry-event-id'));
  const since = rx.events().slice(before);
  assert.ok(!since.some((ev) => ev.transaction === '/api/missing' || /nothing-here/.test(ev.request?.url ?? '')));
});

test('a GraphQL resolver error is reported (path, operation, route); a BAD_USER_INPUT or validation error is not', async () => {
  const gql = (body) => srv.fetch('/api/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const before = rx.events().length;
  // The client's own mistakes: a BAD_USER_INPUT from a resolver, a
  // validation error, a syntax error -- none reported.
  const bad = await gql({ query: 'query Check { checked(n: 0) }', operationName: 'Check' });
  const badBody = await bad.json();
  assert.equal(badBody.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.equal(bad.headers.get('x-sentry-event-id'), null);
  assert.ok((await (await gql({ query: '{ nosuchfield }' })).json()).errors.length > 0);
  assert.ok((await (await gql({ query: '{ ok' })).json()).errors.length > 0);
  // A resolver failing with no code: reported.
  const r = await gql({ query: 'query Items { ok boom { name } }', operationName: 'Items' });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.deepEqual(body.data, { ok: 'fine', boom: null });
  assert.deepEqual(body.errors[0].path, ['boom']);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32, 'X-Sentry-Event-Id header');
  const ev = await rx.waitForEvent((e) => e.event_id === id);
  checkEvent(ev, { route: '/api/graphql', method: 'POST' });
  assert.equal(ev.level, 'error');
  assert.equal(ev.exception.values[0].type, 'GraphQLError');
  assert.match(ev.exception.values[0].value, /the item store is unreachable/);
  assert.equal(ev.extra.graphql_path, 'boom');
  assert.equal(ev.extra.graphql_operation, 'Items');
  assert.equal(ev.tags['graphql.operation'], 'Items');
  // Only that one event came: none for the client's mistakes.
  await new Promise((res) => setTimeout(res, 300));
  const since = rx.events().slice(before).filter((e) => e.transaction === '/api/graphql');
  assert.deepEqual(since.map((e) => e.event_id), [id]);
});

test('a database failure under a GraphQL resolver: a field error INTERNAL_SERVER_ERROR to the client, a DatabaseError to Sentry', async () => {
  const r = await srv.fetch('/api/graphql', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query Broken { ok broken { name } }' }) });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.deepEqual(JSON.parse(text), {
    errors: [{ message: 'Internal Server Error', locations: [{ line: 1, column: 19 }], path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    data: { ok: 'fine', broken: null },
  });
  assert.doesNotMatch(text, /no_such_items|gql-bound-secret|SELECT/);
  const id = r.headers.get('x-sentry-event-id');
  assert.match(id ?? '', HEX32, 'X-Sentry-Event-Id header');
  const ev = await rx.waitForEvent((e) => e.event_id === id);
  checkEvent(ev, { route: '/api/graphql', method: 'POST' });
  assert.equal(ev.exception.values[0].type, 'DatabaseError');
  assert.match(ev.exception.values[0].value, /no such table: no_such_items/);
  assert.equal(ev.extra.sql, 'SELECT name FROM no_such_items WHERE name = ?');
  assert.equal(ev.extra.graphql_path, 'broken');
  assert.equal(ev.extra.graphql_operation, 'Broken');
  const raw = rx.envelopes.find((e) => e.header.event_id === id).raw;
  assert.ok(!raw.includes('gql-bound-secret'), 'the bound value was sent');
});

// graphql-ws and ws, from this folder's package.json.
async function wsClient() {
  const { existsSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const here = new URL('.', import.meta.url).pathname;
  if (!existsSync(`${here}node_modules/graphql-ws/package.json`)) execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const c = createClient({ url: `ws://127.0.0.1:${srv.port}/api/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false,
      on: { connected: () => resolve(c), closed: (e) => reject(new Error(`closed ${e.code}`)) } });
  });
}

// Every result of one operation over the socket, until it completes (or `until` says enough).
function results(c, payload, until = () => false) {
  const got = [];
  return {
    got,
    done: new Promise((resolve, reject) => {
      const stop = c.subscribe(payload, {
        next: (x) => { got.push(x); if (until(got)) { stop(); resolve(got); } },
        error: reject,
        complete: () => resolve(got),
      });
    }),
  };
}

test('GraphQL over the WebSocket: subscription resolver errors reported as over HTTP (start, event, query); UNAUTHENTICATED not', async () => {
  const c = await wsClient();
  try {
    const before = rx.events().length;
    const denied = await results(c, { query: 'subscription Denied { denied { name } }' }).done;
    assert.equal(denied[0].errors[0].extensions.code, 'UNAUTHENTICATED');
    const ticks = await results(c, { query: 'subscription Ticks { ticks { name } }' }).done;
    assert.deepEqual(ticks, [{ errors: [{ message: 'the tick source is down', locations: [{ line: 1, column: 22 }], path: ['ticks'] }] }]);
    const start = await rx.waitForEvent((e) => e.extra?.graphql_operation === 'Ticks');
    checkEvent(start, { route: '/api/graphql' });
    assert.equal(start.exception.values[0].type, 'GraphQLError');
    assert.match(start.exception.values[0].value, /the tick source is down/);
    assert.equal(start.extra.graphql_path, 'ticks');
    assert.equal(start.tags['graphql.operation'], 'Ticks');

    // An event whose resolver fails: reported with the subscription's operation.
    const seen = results(c, { query: 'subscription Seen { itemSeen { name } }' }, (got) => got.some((x) => x.errors));
    let subscribed = false;
    for (let i = 0; i < 100 && !subscribed; i++) {
      await results(c, { query: 'mutation { seen(name: "good") }' }).done;
      subscribed = seen.got.length > 0;
      if (!subscribed) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(subscribed, 'the subscription saw an event');
    await results(c, { query: 'mutation { seen(name: "bad") }' }).done;
    const got = await seen.done;
    assert.deepEqual(got.filter((x) => x.data.itemSeen?.name !== 'good'), [{ data: { itemSeen: null },
      errors: [{ message: 'cannot show item bad', locations: [{ line: 1, column: 21 }], path: ['itemSeen'] }] }]);
    const evEvent = await rx.waitForEvent((e) => e.extra?.graphql_operation === 'Seen');
    assert.equal(evEvent.exception.values[0].type, 'GraphQLError');
    assert.match(evEvent.exception.values[0].value, /cannot show item bad/);
    assert.equal(evEvent.extra.graphql_path, 'itemSeen');

    // A query over the socket: as over HTTP.
    const q = await results(c, { query: 'query Sock { boom { name } checked(n: 0) }' }).done;
    assert.deepEqual(q[0].data, { boom: null, checked: null });
    const evQuery = await rx.waitForEvent((e) => e.extra?.graphql_operation === 'Sock');
    assert.equal(evQuery.extra.graphql_path, 'boom');

    // Exactly those three from the socket: none for UNAUTHENTICATED or BAD_USER_INPUT.
    await new Promise((res) => setTimeout(res, 300));
    const since = rx.events().slice(before).filter((e) => e.transaction === '/api/graphql');
    assert.deepEqual(since.map((e) => e.extra.graphql_operation).sort(), ['Seen', 'Sock', 'Ticks']);
    assert.deepEqual(rx.problems, []);
  } finally {
    await c.dispose();
  }
});

test('kiln_capture_error / kiln_capture_message: handled errors, with the session user id (never the token)', async () => {
  const c = await srv.fetch('/api/capture');
  assert.equal(c.status, 402);
  const body = await c.json();
  assert.match(body.eventId, HEX32);
  assert.equal(c.headers.get('x-sentry-event-id'), body.eventId);
  const ev = await rx.waitForEvent((e) => e.event_id === body.eventId);
  checkEvent(ev, { route: '/api/capture' });
  assert.equal(ev.exception.values[0].type, 'PaymentError');
  assert.equal(ev.exception.values[0].value, 'card ending 4242 declined');
  assert.ok(ev.breadcrumbs.values.some((b) => b.message === 'charging card'));
  assert.equal(ev.user, undefined, 'no session: no user');

  const login = await srv.fetch('/api/login', { method: 'POST' });
  assert.equal(login.status, 200);
  const { token } = await login.json();
  const me = await srv.fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
  const mb = await me.json();
  const mev = await rx.waitForEvent((e) => e.event_id === mb.eventId);
  checkEvent(mev, { route: '/api/me' });
  assert.equal(mev.level, 'warning');
  assert.equal(mev.message.formatted, 'user 42 looked');
  assert.deepEqual(mev.user, { id: '42' });
  assert.equal(mev.contexts.trace.trace_id, mb.traceId);
  const raw = rx.envelopes.find((e) => e.header.event_id === mb.eventId).raw;
  assert.ok(!raw.includes(token), 'the session token was sent');
});

test('trace context: a valid traceparent is followed on every log line and in the answer; an invalid one starts a new trace', async () => {
  const r = await srv.fetch('/api/capture', { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
  const rid = r.headers.get('x-request-id');
  const tp = r.headers.get('traceparent');
  assert.match(tp, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  assert.notEqual(tp.split('-')[2], PARENT, 'our own span id');
  await srv.waitForLog((l) => l.requestId === rid && l.msg === 'request');
  const lines = srv.logs().filter((l) => l.requestId === rid);
  assert.ok(lines.length >= 3, JSON.stringify(lines));   // charging card, error reported, request
  for (const l of lines) assert.equal(l.traceId, TRACE, JSON.stringify(l));

  for (const bad of [
    `00-${TRACE.toUpperCase()}-${PARENT}-01`,            // uppercase
    `00-${'0'.repeat(32)}-${PARENT}-01`,                // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`,                 // all-zero parent
    `ff-${TRACE}-${PARENT}-01`,                         // version ff
    `00-${TRACE}-${PARENT}-01-extra`,                   // version 00 with more
    `00-${TRACE}-${PARENT}`,                            // short
  ]) {
    const b = await srv.fetch('/api/hello', { headers: { traceparent: bad } });
    const t = b.headers.get('traceparent');
    assert.match(t, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, bad);
    assert.notEqual(t.split('-')[1], TRACE, `accepted ${bad}`);
  }
  // A future version with more fields is accepted (its first 55 characters).
  const fut = await srv.fetch('/api/hello', { headers: { traceparent: `01-${TRACE}-${PARENT}-00-more` } });
  assert.match(fut.headers.get('traceparent'), new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  // Without one, a trace is started; X-Request-Id keeps working.
  const none = await srv.fetch('/api/hello');
  assert.match(none.headers.get('traceparent'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.match(none.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
});
