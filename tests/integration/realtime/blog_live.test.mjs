// blog_live.test.mjs -- the blog's contract for GET /api/posts/live
// upgraded to a WebSocket (npm `ws` client): for every post created,
// updated or deleted, through any worker, a text message
// {"event":"post.created","data":{"id":..,"title":..,"content":..}} and so
// on, in order; many idle sockets cost no coroutine, and closing them
// unsubscribes them (the machine's occupancy of "posts", read through
// the Pusher REST API, drops to zero).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { until } from '../lib/procs.mjs';
import { installClients, pusherModules } from './lib.mjs';

const blog = copyApp('examples/blog');
let srv, WebSocket, Pusher, skip;
const APP = { appId: '1', key: 'k', secret: 's' };

before(async () => {
  skip = installClients();
  if (skip) return;
  ({ WebSocket, Pusher } = pusherModules());
  buildApp(blog.dir);
  srv = await startServer(blog.dir, { workers: 2, env: { PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret } });
});
after(async () => {
  await srv?.stop();
  blog.remove();
});

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/posts/live`);
    ws.got = [];
    ws.on('message', (m, binary) => { assert.equal(binary, false); ws.got.push(JSON.parse(m.toString())); });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

test('GET /api/posts/live as a WebSocket: post.created / updated / deleted from any worker', async (t) => {
  if (skip) { t.skip(skip); return; }
  const socks = [];
  for (let i = 0; i < 8; i++) socks.push(await open());
  await sleep(100);   // subscriptions are made as the handshake completes
  const made = [];
  for (let i = 0; i < 6; i++) {
    const r = await http(srv.port, '/api/posts', { method: 'POST', json: { title: `t${i}`, content: `c${i}\nline` } });
    assert.equal(r.status, 201);
    made.push(r.json);
  }
  const u = await http(srv.port, `/api/posts/${made[0].id}`, { method: 'PUT', json: { title: 'edited', content: 'new' } });
  assert.equal(u.status, 200);
  assert.equal((await http(srv.port, `/api/posts/${made[1].id}`, { method: 'DELETE' })).status, 204);
  const want = [
    ...made.map((p) => ({ event: 'post.created', data: p })),
    { event: 'post.updated', data: { id: made[0].id, title: 'edited', content: 'new' } },
    { event: 'post.deleted', data: { id: made[1].id } },
  ];
  for (const ws of socks) {
    await until(() => ws.got.length >= want.length);
    assert.deepEqual(ws.got, want);
    ws.close();
  }
  // Everyone left: the machine's occupancy of "posts" drops to zero.
  const sdk = new Pusher({ ...APP, host: '127.0.0.1', port: String(srv.port), useTLS: false });
  const count = async () => (await (await sdk.get({ path: '/channels/posts', params: { info: 'subscription_count' } })).json()).subscription_count;
  const last = await open();
  await until(() => false, 200).catch(() => {});
  assert.equal(await count(), 1);
  last.close();
  let n = 1;
  for (let i = 0; i < 50 && n !== 0; i++) { await sleep(50); n = await count(); }
  assert.equal(n, 0, 'closed sockets are unsubscribed');
});
