// doccache.test.mjs -- subscriptions use the worker's parsed-document cache
// (src/graphql/doccache.c) as HTTP does (this folder's app/, one worker,
// KILN_METRICS=1):
//   - the same subscription document on several sockets is parsed once:
//     kiln_graphql_document_cache_total{result="miss"} goes up by one and
//     {result="hit"} by the others; every one of them still gets the
//     events, also after one of them completed (the entry stays pinned by
//     the others);
//   - an invalid document gets over the socket, first time (miss) and again
//     (hit), exactly the errors HTTP answers for it (syntax, validation,
//     the limits, which are checked on every request before validation).
//
// Owns: a copy of app/ and its server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../../lib/db.mjs';
import { install, clients, startTestApp, until, sendJson, acked } from './lib.mjs';

let skip, app, WebSocket, url;
before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket } = await clients());
  app = await startTestApp({ env: { KILN_METRICS: '1', KILN_GRAPHQL_MAX_DEPTH: '3', KILN_GRAPHQL_MAX_ALIASES: '3' } });
  url = `ws://127.0.0.1:${app.srv.port}/api/graphql`;
});
after(async () => { await app?.stop(); });

async function cacheCounts() {
  const r = await http(app.srv.port, '/_kiln/metrics', { headers: { Connection: 'close' } });
  assert.equal(r.status, 200);
  const n = (result) => Number(new RegExp(`^kiln_graphql_document_cache_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(r.text)?.[1]);
  return { hit: n('hit'), miss: n('miss') };
}

const publish = (title) => http(app.srv.port, '/api/publish?channel=posts&event=post.updated', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 7, title }) });

test('a repeated subscription document is parsed once (cache hits), and every subscriber gets the events', async (t) => {
  if (skip) { t.skip(skip); return; }
  const query = `subscription S { postUpdated(id: "7") { id title } } # ${Date.now()}`;   // new to this worker
  const before0 = await cacheCounts();
  assert.ok(Number.isInteger(before0.hit) && Number.isInteger(before0.miss), 'the cache counters are in /_kiln/metrics');
  const socks = [];
  for (let i = 0; i < 4; i++) {
    const ws = await acked(WebSocket, url);
    sendJson(ws, { id: 's', type: 'subscribe', payload: { query } });
    socks.push(ws);
  }
  await new Promise((r) => setTimeout(r, 300));         // the subscribes are in
  const after0 = await cacheCounts();
  assert.equal(after0.miss - before0.miss, 1, 'one parse');
  assert.equal(after0.hit - before0.hit, 3, 'three hits');
  const nexts = (ws) => ws.got.filter((m) => m.type === 'next');
  assert.equal((await publish('one')).status, 204);
  await until(() => socks.every((ws) => nexts(ws).length === 1), 10_000, 'the first event on every socket');
  for (const ws of socks) assert.deepEqual(nexts(ws)[0], { id: 's', type: 'next', payload: { data: { postUpdated: { id: '7', title: 'one' } } } });
  // One completes: the others keep the entry (pinned) and their events.
  sendJson(socks[0], { id: 's', type: 'complete' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await publish('two')).status, 204);
  await until(() => socks.slice(1).every((ws) => nexts(ws).length === 2), 10_000, 'the second event');
  for (const ws of socks.slice(1)) assert.equal(nexts(ws)[1].payload.data.postUpdated.title, 'two');
  assert.equal(nexts(socks[0]).length, 1, 'nothing after complete');
  for (const ws of socks) ws.close();
});

test('invalid documents: the same errors over the socket (miss, then hit) as over HTTP', async (t) => {
  if (skip) { t.skip(skip); return; }
  const docs = [
    'subscription {',                                                  // syntax
    'subscription { nope }',                                           // validation
    'subscription { postUpdated { id } }',                             // a missing argument
    'subscription A { shout } subscription A { shout }',               // two of one name
    'subscription { postUpdated(id: "1") { a: id b: id c: id d: id } }',  // the alias limit
    '{ hello { x { y { z } } } }',                                     // the depth limit before validation
  ];
  const ws = await acked(WebSocket, url);
  let n = 0;
  for (const query of docs) {
    const r = await http(app.srv.port, '/api/graphql', { method: 'POST', body: JSON.stringify({ query }),
      headers: { 'content-type': 'application/json', accept: 'application/json' } });
    const want = JSON.parse(r.text).errors;
    assert.ok(Array.isArray(want) && want.length > 0, `HTTP has errors for ${query}: ${r.text}`);
    for (let i = 0; i < 2; i++) {
      const id = `e${n++}`;
      sendJson(ws, { id, type: 'subscribe', payload: { query } });
      await until(() => ws.got.some((m) => m.id === id), 10_000, `the answer to ${query}`);
      assert.deepEqual(ws.got.find((m) => m.id === id), { id, type: 'error', payload: want }, query);
    }
  }
  ws.close();
});
