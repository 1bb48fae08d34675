// subs.test.mjs -- the blog's Subscription.postCreated over WebSocket with
// the `graphql-ws` client: posts made by REST POST /api/posts and by the
// GraphQL mutation createPost (over HTTP and over the socket itself) reach
// every subscriber, with sockets on both workers; and the browser code that
// docs/graphql.md shows (fetch for a mutation, graphql-ws for the
// subscription) runs as written. (The protocol itself is tested on this
// folder's own app: protocol.test.mjs, filters.test.mjs.)
//
// Owns: a copy of examples/blog and the server it starts (2 workers).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp, startServer, REPO } from '../../lib/server.mjs';
import { copyApp, http } from '../../lib/db.mjs';
import { install, clients, until, subscribers, PUSHER } from './lib.mjs';

let skip, srv, blog, WebSocket, createClient;

before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket, createClient } = await clients());
  blog = copyApp('examples/blog');
  fs.cpSync(path.join(REPO, 'examples/blog/graphql'), path.join(blog.dir, 'graphql'), { recursive: true });
  buildApp(blog.dir);
  srv = await startServer(blog.dir, { workers: 2, env: PUSHER });
});
after(async () => {
  await srv?.stop();
  blog?.remove();
});

const count = () => subscribers(srv.port, 'posts');

function client(opts = {}) {
  return new Promise((resolve, reject) => {
    const c = createClient({ url: `ws://127.0.0.1:${srv.port}/api/graphql`, webSocketImpl: WebSocket, retryAttempts: 0,
      lazy: false, ...opts, on: { connected: () => resolve(c), closed: (e) => reject(new Error(`closed ${e.code} ${e.reason}`)) } });
  });
}

function once(c, query) {
  return new Promise((resolve, reject) => {
    let result;
    c.subscribe({ query }, { next: (r) => { result = r; }, error: reject, complete: () => resolve(result) });
  });
}

const POST_CREATED = 'subscription { postCreated { id title content } }';

test('postCreated: posts made by REST and by the GraphQL mutation reach every subscriber, through two workers', async (t) => {
  if (skip) { t.skip(skip); return; }
  const clientsOpen = [];
  const subs = [];
  const N = 12;
  for (let i = 0; i < N; i++) {
    const c = await client();
    clientsOpen.push(c);
    const s = { results: [], errors: [] };
    c.subscribe({ query: POST_CREATED }, { next: (r) => s.results.push(r), error: (e) => s.errors.push(e), complete: () => {} });
    subs.push(s);
  }
  await until(async () => (await count()) === N, 10_000, 'the subscriptions');
  // The sockets are spread over both workers (the kernel balances them), so
  // events cross from the worker that made the post to the other one.
  const workers = new Set(srv.logs().filter((l) => l.path === '/api/graphql' && l.status === 101).map((l) => l.worker));
  assert.equal(workers.size, 2, `sockets on workers ${[...workers]}`);
  const want = [];
  for (let i = 0; i < 4; i++) {          // REST POSTs land on either worker
    const r = await http(srv.port, '/api/posts', { method: 'POST', json: { title: `rest ${i}`, content: `c${i}` } });
    assert.equal(r.status, 201);
    want.push({ id: String(r.json.id), title: `rest ${i}`, content: `c${i}` });
  }
  const m = await http(srv.port, '/api/graphql', {
    method: 'POST',
    json: { query: 'mutation($i: PostInput!) { createPost(input: $i) { id title content } }', variables: { i: { title: 'gql', content: 'over http' } } },
  });
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.errors, undefined, m.text);
  want.push(m.json.data.createPost);
  const overWs = await once(clientsOpen[0], 'mutation { createPost(input: {title: "ws", content: "over the socket"}) { id title content } }');
  assert.equal(overWs.errors, undefined, JSON.stringify(overWs));
  want.push(overWs.data.createPost);
  for (const s of subs) {
    await until(() => s.results.length >= want.length, 10_000, 'every event');
    assert.deepEqual(s.results, want.map((p) => ({ data: { postCreated: p } })));
    assert.deepEqual(s.errors, []);
  }
  for (const c of clientsOpen) await c.dispose();
  await until(async () => (await count()) === 0, 10_000, 'no subscription left');
});

// A subscriber that has waited over a second is parked (its handler's
// stack and arena packed aside, runtime/park.c), and the delivery of an
// event reads both (the socket's state lives on the handler's stack): the
// worker puts them back and delivers, and the socket still answers.
test('postCreated reaches a subscriber that waited long enough to be parked', async (t) => {
  if (skip) { t.skip(skip); return; }
  const c = await client();
  const s = { results: [], errors: [] };
  c.subscribe({ query: POST_CREATED }, { next: (r) => s.results.push(r), error: (e) => s.errors.push(e), complete: () => {} });
  await until(async () => (await count()) === 1, 10_000, 'the subscription');
  await new Promise((r) => setTimeout(r, 2500));
  const r = await http(srv.port, '/api/posts', { method: 'POST', json: { title: 'after parking', content: 'x' } });
  assert.equal(r.status, 201);
  await until(() => s.results.length >= 1, 10_000, 'the event');
  assert.equal(s.results[0].data.postCreated.title, 'after parking');
  assert.deepEqual(s.errors, []);
  await new Promise((res) => setTimeout(res, 2500));
  const q = await once(c, 'query { __typename }');
  assert.equal(q.data.__typename, 'Query');
  await c.dispose();
  await until(async () => (await count()) === 0, 10_000, 'no subscription left');
});

// docs/graphql.md shows these lines as what a browser runs (excerpts of
// this test): fetch for queries and mutations, graphql-ws for subscriptions.
test('the browser code of docs/graphql.md', async (t) => {
  if (skip) { t.skip(skip); return; }
  globalThis.WebSocket = WebSocket;                 // a browser has its own
  const origin = `http://127.0.0.1:${srv.port}`;
  const host = `127.0.0.1:${srv.port}`;
  const email = `docs${Date.now()}@example.com`;
  await http(srv.port, '/api/auth/signup', { method: 'POST', json: { email, password: 'correct horse battery' } });
  const token = (await http(srv.port, '/api/auth/login', { method: 'POST', json: { email, password: 'correct horse battery' } })).json.token;
  const posts = [];

  const client = createClient({ url: `ws://${host}/api/graphql`, connectionParams: { authorization: `Bearer ${token}` } });
  client.subscribe({ query: 'subscription { postCreated { id title } }' }, {
    next: ({ data }) => posts.push(data.postCreated),
    error: (err) => console.error(err),
    complete: () => {},
  });

  await until(async () => (await count()) === 1, 10_000, 'the subscription');
  const res = await fetch(`${origin}/api/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({
      query: 'mutation ($input: PostInput!) { createPost(input: $input) { id title } }',
      variables: { input: { title: 'Hello', content: 'from the browser' } },
    }),
  });
  const { data, errors } = await res.json();

  assert.equal(res.status, 200);
  assert.equal(errors, undefined);
  await until(() => posts.length === 1, 10_000, 'the event');
  assert.deepEqual(posts, [data.createPost]);
  await client.dispose();
  delete globalThis.WebSocket;
});
