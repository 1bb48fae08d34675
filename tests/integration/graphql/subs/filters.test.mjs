// filters.test.mjs -- what a subscription resolver does with each event
// (this folder's app/, with the `graphql-ws` client): kiln_gql_skip drops
// the events of other posts (an argument filter), kiln_gql_return replaces
// the event's data, kiln_gql_error turns an event into a result with
// errors; events named otherwise on the channel are never seen; a mutation
// over the same socket publishes to its subscriptions.
//
// Owns: a copy of app/ and the server it starts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../../lib/db.mjs';
import { install, clients, startTestApp, until, subscribers } from './lib.mjs';

let skip, app, WebSocket, createClient;

before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket, createClient } = await clients());
  app = await startTestApp();
});
after(async () => { await app?.stop(); });

const publish = (channel, event, data) =>
  http(app.srv.port, `/api/publish?channel=${channel}&event=${event}`, { method: 'POST', body: JSON.stringify(data) });

function collect(c, query, variables) {
  const got = [];
  c.subscribe({ query, variables }, { next: (r) => got.push(r), error: (e) => got.push({ failed: e }), complete: () => {} });
  return got;
}

test('a subscription resolver filters, transforms and fails events', async (t) => {
  if (skip) { t.skip(skip); return; }
  const c = await new Promise((resolve, reject) => {
    const cl = createClient({ url: `ws://127.0.0.1:${app.srv.port}/api/graphql`, webSocketImpl: WebSocket, retryAttempts: 0,
      lazy: false, on: { connected: () => resolve(cl), closed: (e) => reject(new Error(`closed ${e.code}`)) } });
  });
  const two = collect(c, 'subscription ($id: ID!) { postUpdated(id: $id) { id title } }', { id: '2' });
  const shouts = collect(c, 'subscription { shout }');
  const broken = collect(c, 'subscription { broken { id } }');
  await until(async () => (await subscribers(app.srv.port, 'posts')) === 2 && (await subscribers(app.srv.port, 'shouts')) === 1,
    10_000, 'the subscriptions');
  for (const id of [1, 2, 3, 2]) assert.equal((await publish('posts', 'post.updated', { id, title: `t${id}` })).status, 204);
  await publish('posts', 'post.created', { id: 2, title: 'created, not updated' });
  await publish('shouts', 'any', { text: 'hello' });
  // A mutation over the same socket publishes too (from the request's coroutine).
  const done = await new Promise((resolve, reject) => {
    let r;
    c.subscribe({ query: 'mutation { shout(text: "again") }' }, { next: (x) => { r = x; }, error: reject, complete: () => resolve(r) });
  });
  assert.deepEqual(done, { data: { shout: true } });
  await until(() => two.length >= 2 && shouts.length >= 2 && broken.length >= 5, 10_000, 'the events');
  await new Promise((r) => setTimeout(r, 200));   // nothing more comes
  assert.deepEqual(two, [{ data: { postUpdated: { id: '2', title: 't2' } } }, { data: { postUpdated: { id: '2', title: 't2' } } }]);
  assert.deepEqual(shouts, [{ data: { shout: 'HELLO' } }, { data: { shout: 'AGAIN' } }]);
  assert.equal(broken.length, 5);
  assert.deepEqual(broken[0], { data: { broken: null },
    errors: [{ message: 'cannot show t1', locations: [{ line: 1, column: 16 }], path: ['broken'], extensions: { code: 'BROKEN' } }] });
  await c.dispose();
});
