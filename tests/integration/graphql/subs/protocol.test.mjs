// protocol.test.mjs -- the graphql-transport-ws protocol as Kiln serves it
// (this folder's app/, two workers), with the npm `graphql-ws` client and
// raw `ws` sockets:
//   - queries over the socket; the session from connection_init's payload
//     (a token) and from the upgrade request's bearer; a bad token: 4403;
//   - an invalid subscription (validation, syntax, limits) gets an `error`
//     message and its id is free again; an id still active: 4409;
//   - protocol violations close with the spec's codes (4400, 4401, 4408,
//     4429); ping gets pong with its payload;
//   - many subscribe/complete and connect/close cycles (with and without a
//     close frame) leave no subscription behind (the machine's count of the
//     channel's subscriptions, through the Pusher REST API, returns to 0;
//     LeakSanitizer on ASan builds); at most KILN_GRAPHQL_WS_MAX_SUBS per socket;
//   - events published on either worker reach the sockets of both, in order.
//
// Owns: a copy of app/ and its server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { http } from '../../lib/db.mjs';
import { install, clients, startTestApp, until, subscribers, raw, sendJson, closedWith, acked, HERE } from './lib.mjs';

let skip, app, WebSocket, createClient, url, buildSchema, parse, validate;
const SHOUT = 'subscription { shout }';

before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket, createClient } = await clients());
  ({ buildSchema, parse, validate } = createRequire(path.join(HERE, 'package.json'))('graphql'));
  app = await startTestApp({ workers: 2, env: { KILN_GRAPHQL_WS_INIT_MS: '400', KILN_GRAPHQL_WS_MAX_SUBS: '25' } });
  url = `ws://127.0.0.1:${app.srv.port}/api/graphql`;
});
after(async () => { await app?.stop(); });

const count = () => subscribers(app.srv.port, 'shouts');

function client(opts = {}) {
  return new Promise((resolve, reject) => {
    const c = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, ...opts,
      on: { connected: () => resolve(c), closed: (e) => reject(new Error(`closed ${e.code} ${e.reason}`)) } });
  });
}

// One query over the socket: its single result.
function once(c, query) {
  return new Promise((resolve, reject) => {
    let result;
    c.subscribe({ query }, { next: (r) => { result = r; }, error: reject, complete: () => resolve(result) });
  });
}

test('queries over the socket; the session from connection_init or the upgrade request', async (t) => {
  if (skip) { t.skip(skip); return; }
  const c = await client();
  assert.deepEqual(await once(c, '{ hello }'), { data: { hello: 'Hello, World!' } });
  const anon = await once(c, '{ me }');
  assert.deepEqual(anon, { data: null,
    errors: [{ message: 'Unauthorized', locations: [{ line: 1, column: 3 }], path: ['me'], extensions: { code: 'UNAUTHENTICATED' } }] });
  await c.dispose();

  const login = await http(app.srv.port, '/api/login', { method: 'POST' });
  assert.equal(login.status, 200, login.text);
  const { token } = login.json;

  for (const params of [{ authorization: `Bearer ${token}` }, { token }]) {
    const byInit = await client({ connectionParams: params });
    assert.deepEqual(await once(byInit, '{ me }'), { data: { me: '7' } });
    await byInit.dispose();
  }

  const byHeader = await raw(WebSocket, url, { Authorization: `Bearer ${token}` });
  sendJson(byHeader, { type: 'connection_init' });
  sendJson(byHeader, { id: 'q', type: 'subscribe', payload: { query: '{ me }' } });
  await until(() => byHeader.got.some((m) => m.type === 'complete'), 10_000, 'complete');
  assert.deepEqual(byHeader.got, [{ type: 'connection_ack' }, { id: 'q', type: 'next', payload: { data: { me: '7' } } },
    { id: 'q', type: 'complete' }]);
  byHeader.close();

  for (const payload of [{ token: 'x'.repeat(43) }, { authorization: 'Basic abc' }]) {
    const bad = await raw(WebSocket, url);
    sendJson(bad, { type: 'connection_init', payload });
    await closedWith(bad, 4403, 'Forbidden');
  }
});

test('an invalid subscription gets an error message, and its id is free again', async (t) => {
  if (skip) { t.skip(skip); return; }
  const ws = await acked(WebSocket, url);
  const errors = () => ws.got.filter((m) => m.type === 'error');
  // graphql-js (npm graphql) validating the same document is the oracle.
  const bad = 'subscription { postUpdated(id: 1) { nope } } subscription { shout shout: postUpdated }';
  const want = validate(buildSchema(fs.readFileSync(path.join(HERE, 'app/graphql/schema.graphql'), 'utf8')), parse(bad))
    .map((e) => e.toJSON());
  assert.ok(want.length >= 3);
  sendJson(ws, { id: '1', type: 'subscribe', payload: { query: bad } });
  await until(() => errors().length === 1, 10_000, 'error');
  assert.deepEqual(errors()[0], { id: '1', type: 'error', payload: want });
  sendJson(ws, { id: '2', type: 'subscribe', payload: { query: 'subscription {' } });
  await until(() => errors().length === 2, 10_000, 'syntax error');
  assert.deepEqual(errors()[1].payload, [{ message: 'Syntax Error: Expected Name, found <EOF>.', locations: [{ line: 1, column: 15 }] }]);
  // The limits of the HTTP endpoint apply (KILN_GRAPHQL_MAX_ALIASES, default 30).
  const many = Array.from({ length: 31 }, (_, i) => `a${i}: hello`).join(' ');
  sendJson(ws, { id: '3', type: 'subscribe', payload: { query: `{ ${many} }` } });
  await until(() => errors().length === 3, 10_000, 'the limit');
  assert.equal(errors()[2].payload[0].message, 'Operation has 31 aliases, exceeding the limit of 30.');
  // The id is free: the same id subscribes now, and gets the events.
  sendJson(ws, { id: '1', type: 'subscribe', payload: { query: SHOUT } });
  await until(async () => (await count()) === 1, 10_000, 'the subscription');
  await http(app.srv.port, '/api/publish?channel=shouts&event=x', { method: 'POST', body: '{"text":"again"}' });
  await until(() => ws.got.some((m) => m.type === 'next'), 10_000, 'next');
  assert.deepEqual(ws.got.find((m) => m.type === 'next'), { id: '1', type: 'next', payload: { data: { shout: 'AGAIN' } } });
  assert.equal(ws.closed, null);
  // The same id while it is active: 4409.
  sendJson(ws, { id: '1', type: 'subscribe', payload: { query: SHOUT } });
  await closedWith(ws, 4409, 'Subscriber for 1 already exists');
  await until(async () => (await count()) === 0, 10_000, 'unsubscribed on close');
});

test('protocol violations close with the spec\'s codes; ping gets pong', async (t) => {
  if (skip) { t.skip(skip); return; }
  const silent = await raw(WebSocket, url);                     // no connection_init
  await closedWith(silent, 4408, 'Connection initialisation timeout');

  const early = await raw(WebSocket, url);
  sendJson(early, { id: '1', type: 'subscribe', payload: { query: '{ hello }' } });
  await closedWith(early, 4401, 'Unauthorized');

  const twice = await acked(WebSocket, url);
  sendJson(twice, { type: 'connection_init' });
  await closedWith(twice, 4429, 'Too many initialisation requests');

  for (const bad of ['not json', '[]', '{"type":1}', { type: 'nope' }, { type: 'connection_init', payload: 'x' },
    { type: 'subscribe', id: '', payload: { query: '{ hello }' } }, { type: 'subscribe', id: '1', payload: { variables: {} } },
    { type: 'subscribe', id: '1', payload: { query: '{ hello }', variables: [] } }, { type: 'complete' },
    { type: 'next', id: '1', payload: {} }]) {
    const ws = await acked(WebSocket, url);
    sendJson(ws, bad);
    await closedWith(ws, 4400, 'Invalid message received');
  }

  const ping = await raw(WebSocket, url);                       // allowed before the ack too
  sendJson(ping, { type: 'ping', payload: { n: 1 } });
  sendJson(ping, { type: 'ping' });
  sendJson(ping, { type: 'pong' });                              // unanswered
  await until(() => ping.got.length === 2, 10_000, 'two pongs');
  assert.deepEqual(ping.got, [{ type: 'pong', payload: { n: 1 } }, { type: 'pong' }]);
  ping.close();
});

test('many subscribe/complete and connect/close cycles leave no subscription behind', async (t) => {
  if (skip) { t.skip(skip); return; }
  const ws = await acked(WebSocket, url);
  for (let i = 0; i < 300; i++) {
    sendJson(ws, { id: `s${i}`, type: 'subscribe', payload: { query: SHOUT } });
    sendJson(ws, { id: `s${i}`, type: 'complete' });
  }
  for (let i = 0; i < 20; i++) sendJson(ws, { id: `k${i}`, type: 'subscribe', payload: { query: SHOUT } });
  await until(async () => (await count()) === 20, 10_000, 'twenty live subscriptions');
  // At most KILN_GRAPHQL_WS_MAX_SUBS (25 here) at once on one socket.
  for (let i = 20; i < 26; i++) sendJson(ws, { id: `k${i}`, type: 'subscribe', payload: { query: SHOUT } });
  await until(() => ws.got.some((m) => m.type === 'error'), 10_000, 'the 26th refused');
  assert.deepEqual(ws.got.filter((m) => m.type === 'error'),
    [{ id: 'k25', type: 'error', payload: [{ message: 'Too many subscriptions on this socket (the limit is 25).' }] }]);
  assert.equal(await count(), 25);
  ws.close();
  for (let round = 0; round < 10; round++) {
    const socks = await Promise.all(Array.from({ length: 20 }, () => acked(WebSocket, url)));
    socks.forEach((s, i) => sendJson(s, { id: String(i), type: 'subscribe', payload: { query: SHOUT } }));
    if (round % 2) socks.forEach((s) => s.terminate());          // gone without a close frame
    else socks.forEach((s) => s.close());
  }
  await until(async () => (await count()) === 0, 15_000, 'no subscription left');
  // The server still serves a new subscriber.
  const c = await client();
  const got = [];
  c.subscribe({ query: SHOUT }, { next: (r) => got.push(r), error: () => {}, complete: () => {} });
  await until(async () => (await count()) === 1, 10_000, 'one subscription');
  await http(app.srv.port, '/api/publish?channel=shouts&event=x', { method: 'POST', body: '{"text":"last"}' });
  await until(() => got.length === 1, 10_000, 'the event');
  assert.deepEqual(got, [{ data: { shout: 'LAST' } }]);
  await c.dispose();
  await until(async () => (await count()) === 0, 10_000, 'disposed');
});

test('events published on either worker reach the subscribers of both', async (t) => {
  if (skip) { t.skip(skip); return; }
  const open = [];
  const got = [];
  for (let i = 0; i < 12; i++) {
    const c = await client();
    const mine = [];
    c.subscribe({ query: SHOUT }, { next: (r) => mine.push(r.data.shout), error: () => {}, complete: () => {} });
    open.push(c);
    got.push(mine);
  }
  await until(async () => (await count()) === 12, 10_000, 'twelve subscriptions');
  const workers = new Set(app.srv.logs().filter((l) => l.path === '/api/graphql' && l.status === 101).map((l) => l.worker));
  assert.equal(workers.size, 2, `sockets on workers ${[...workers]}`);
  for (let i = 0; i < 6; i++) {    // a POST lands on one worker: half the sockets are on the other
    const r = await http(app.srv.port, '/api/publish?channel=shouts&event=x', { method: 'POST', body: JSON.stringify({ text: `n${i}` }) });
    assert.equal(r.status, 204);
  }
  for (const mine of got) {
    await until(() => mine.length === 6, 10_000, 'six events');
    assert.deepEqual(mine, ['N0', 'N1', 'N2', 'N3', 'N4', 'N5']);   // in publish order
  }
  for (const c of open) await c.dispose();
  await until(async () => (await count()) === 0, 10_000, 'disposed');
});
