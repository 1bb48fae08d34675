// pusher_rest.test.mjs -- Pusher's REST API served by Kiln, driven by the
// real `pusher` npm server SDK (the one Next.js apps call), against two
// workers: triggers reach Kiln's own subscribers (SSE streams subscribed to
// the channel, on either worker) with the data as JSON; channels and
// occupancy are reported for the whole machine; every signature failure
// (wrong secret, wrong key, stale timestamp, body_md5, tampered query) is
// 401; an unknown app is 404; a server without PUSHER_* has no such API.
// Also the blog's POST /api/pusher/auth: 401 without a session, and with
// one exactly the signature the SDK's own authorizeChannel computes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { openStream, installClients, pusherModules } from './lib.mjs';

const APP = { appId: '4242', key: 'kiln-key', secret: 'kiln-secret-for-tests' };
const ENV = { PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret };
const rt = copyApp('tests/fixtures/rtapp');
const blog = copyApp('examples/blog');
let srv, Pusher, skip;

before(async () => {
  skip = installClients();
  if (skip) return;
  ({ Pusher } = pusherModules());
  buildApp(rt.dir);
  buildApp(blog.dir);
  srv = await startServer(rt.dir, { workers: 2, env: ENV });
});
after(async () => {
  await srv?.stop();
  rt.remove();
  blog.remove();
});

const sdk = (over = {}) => new Pusher({ ...APP, host: '127.0.0.1', port: String(srv.port), useTLS: false, ...over });

// A signed request made by hand (for the failures the SDK cannot make).
function signed(method, p, { body, params = {}, secret = APP.secret, ts, md5, tamper } = {}) {
  const q = { auth_key: APP.key, auth_timestamp: ts ?? Math.floor(Date.now() / 1000), auth_version: '1.0', ...params };
  if (body !== undefined) q.body_md5 = md5 ?? crypto.createHash('md5').update(body).digest('hex');
  const qs = Object.keys(q).sort().map((k) => `${k}=${q[k]}`).join('&');
  const sig = crypto.createHmac('sha256', secret).update(`${method}\n${p}\n${qs}`).digest('hex');
  const url = `${p}?${qs}${tamper ?? ''}&auth_signature=${sig}`;
  return http(srv.port, url, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
}

async function streamsOnBothWorkers(channel) {
  const out = [];
  const pids = new Set();
  for (let i = 0; i < 40 && (pids.size < 2 || out.length < 3); i++) {
    const s = await openStream(srv.port, `/api/sse/sub?channel=${channel}`);
    s.pid = JSON.parse((await s.waitFor((e) => e.type === 'ready')).data).pid;
    pids.add(s.pid);
    out.push(s);
  }
  assert.equal(pids.size, 2);
  return out;
}

test('pusher SDK trigger and triggerBatch reach Kiln subscribers on both workers', async (t) => {
  if (skip) { t.skip(skip); return; }
  const streams = await streamsOnBothWorkers('news');
  const p = sdk();
  const r = await p.trigger('news', 'flash', { headline: 'Kiln speaks Pusher', n: 1 });
  assert.equal(r.status, 200);
  await p.trigger(['news', 'elsewhere'], 'text', 'plain words, not JSON');
  await p.triggerBatch([
    { channel: 'news', name: 'b1', data: { i: 1 } },
    { channel: 'news', name: 'b2', data: '[1,2,3]' },
  ]);
  for (const s of streams) {
    await s.waitFor((e) => e.type === 'b2');
    const got = s.events.filter((e) => e.type !== 'ready').map((e) => [e.type, JSON.parse(e.data)]);
    assert.deepEqual(got, [
      ['flash', { headline: 'Kiln speaks Pusher', n: 1 }],
      ['text', 'plain words, not JSON'],
      ['b1', { i: 1 }],
      ['b2', [1, 2, 3]],
    ]);
  }
  // Occupancy of the whole machine, whichever worker answers.
  for (let i = 0; i < 4; i++) {
    const all = await p.get({ path: '/channels' });
    assert.equal(all.status, 200);
    const body = await all.json();
    assert.deepEqual(body.channels.news, {});
    assert.equal(body.channels.elsewhere, undefined, 'nobody subscribes to "elsewhere"');
    const one = await (await p.get({ path: '/channels/news', params: { info: 'subscription_count' } })).json();
    assert.deepEqual(one, { occupied: true, subscription_count: streams.length });
    const pre = await (await p.get({ path: '/channels', params: { filter_by_prefix: 'ne' } })).json();
    assert.deepEqual(Object.keys(pre.channels), ['news']);
    const none = await (await p.get({ path: '/channels', params: { filter_by_prefix: 'zz' } })).json();
    assert.deepEqual(none, { channels: {} });
  }
  for (const s of streams) s.close();
  let occupied = true;
  for (let i = 0; i < 50 && occupied; i++) {
    await sleep(50);
    occupied = (await (await p.get({ path: '/channels/news' })).json()).occupied;
  }
  assert.equal(occupied, false, 'still occupied after every subscriber left');
});

test('signature failures are 401, an unknown app 404, bad events 400/413', async (t) => {
  if (skip) { t.skip(skip); return; }
  const body = JSON.stringify({ name: 'e', channels: ['c'], data: '{}' });
  const ev = `/apps/${APP.appId}/events`;
  assert.equal((await signed('POST', ev, { body })).status, 200, 'a correct request by hand');
  const wrongSecret = sdk({ secret: 'not-the-secret' });
  await assert.rejects(wrongSecret.trigger('c', 'e', {}), (e) => e.status === 401);
  await assert.rejects(sdk({ key: 'other-key' }).trigger('c', 'e', {}), (e) => e.status === 401);
  assert.equal((await signed('POST', ev, { body, ts: Math.floor(Date.now() / 1000) - 700 })).status, 401, 'stale timestamp');
  assert.equal((await signed('POST', ev, { body, ts: Math.floor(Date.now() / 1000) + 700 })).status, 401, 'future timestamp');
  assert.equal((await signed('POST', ev, { body, md5: '0'.repeat(32) })).status, 401, 'body_md5');
  assert.equal((await signed('GET', `/apps/${APP.appId}/channels`, { tamper: '&filter_by_prefix=x' })).status, 401, 'unsigned parameter');
  assert.equal((await http(srv.port, `/apps/${APP.appId}/channels`)).status, 401, 'no signature at all');
  const r401 = await signed('POST', ev, { body, secret: 'nope' });
  assert.equal(r401.status, 401);
  assert.match(r401.json.error, /signature/i);
  assert.equal((await signed('GET', '/apps/999/channels')).status, 404, 'unknown app');
  const big = JSON.stringify({ name: 'e', channels: ['c'], data: 'x'.repeat(10241) });
  assert.equal((await signed('POST', ev, { body: big })).status, 413);
  const badName = JSON.stringify({ name: 'e', channels: ['bad channel!'], data: '{}' });
  assert.equal((await signed('POST', ev, { body: badName })).status, 400);
  const tooMany = JSON.stringify({ batch: Array.from({ length: 11 }, () => ({ name: 'e', channel: 'c', data: '1' })) });
  assert.equal((await signed('POST', `/apps/${APP.appId}/batch_events`, { body: tooMany })).status, 400);
  const notPresence = await signed('GET', `/apps/${APP.appId}/channels/news/users`);
  assert.equal(notPresence.status, 400);
});

test('without PUSHER_* there is no Pusher API', async (t) => {
  if (skip) { t.skip(skip); return; }
  const off = await startServer(rt.dir, { workers: 1 });
  try {
    const r = await http(off.port, `/apps/${APP.appId}/channels`);
    assert.equal(r.status, 404);
  } finally {
    await off.stop();
  }
});

test("blog: POST /api/pusher/auth needs a session and signs exactly as Pusher's SDK", async (t) => {
  if (skip) { t.skip(skip); return; }
  const b = await startServer(blog.dir, { workers: 1, env: ENV });
  try {
    const form = (f, headers = {}) => http(b.port, '/api/pusher/auth', {
      method: 'POST', body: new URLSearchParams(f).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    assert.equal((await form({ socket_id: '123.456', channel_name: 'private-room' })).status, 401);
    assert.equal((await form({ socket_id: '123.456', channel_name: 'presence-room' })).status, 401);
    const email = `rt${Date.now()}@example.com`;
    assert.equal((await http(b.port, '/api/auth/signup', { method: 'POST', json: { email, password: 'correct horse' } })).status, 201);
    const login = await http(b.port, '/api/auth/login', { method: 'POST', json: { email, password: 'correct horse' } });
    assert.equal(login.status, 200);
    const auth = { authorization: `Bearer ${login.json.token}` };
    const me = (await http(b.port, '/api/auth/session', { headers: auth })).json.user;
    const oracle = new Pusher({ ...APP, host: '127.0.0.1', port: String(b.port), useTLS: false });

    const priv = await form({ socket_id: '123.456', channel_name: 'private-room' }, auth);
    assert.equal(priv.status, 200);
    assert.deepEqual(priv.json, oracle.authorizeChannel('123.456', 'private-room'));

    const pres = await form({ socket_id: '7.42', channel_name: 'presence-room' }, auth);
    assert.equal(pres.status, 200);
    const member = { user_id: String(me.id), user_info: { email } };
    assert.deepEqual(JSON.parse(pres.json.channel_data), member);
    assert.deepEqual(pres.json, oracle.authorizeChannel('7.42', 'presence-room', member));

    assert.equal((await form({ socket_id: 'not-a-socket', channel_name: 'private-room' }, auth)).status, 400);
    assert.equal((await form({ socket_id: '1.2', channel_name: 'public' }, auth)).status, 400);
  } finally {
    await b.stop();
  }
});
