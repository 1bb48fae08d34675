// pusher_ws.test.mjs -- pusher-js (npm, in Node, its WebSocket transport)
// against Kiln's own /app/{key}, on two workers: connection and socket id,
// public / private / presence channels (signatures checked), member lists
// and member_added/removed across workers, client events on private and
// presence channels only (never back to the sender), events from the
// pusher server SDK and from C (kiln_publish) alike, Pusher's error codes,
// ping/pong; then the blog: the posts channel and its auth endpoint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { until } from '../lib/procs.mjs';
import { installClients, pusherModules, pusherClient, subscribed } from './lib.mjs';

const APP = { appId: '77', key: 'ws-key', secret: 'ws-secret' };
const ENV = { PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret };
const rt = copyApp('tests/fixtures/rtapp');
const blog = copyApp('examples/blog');
let srv, PusherJS, Pusher, WebSocket, skip, oracle;
const clients = [];

before(async () => {
  skip = installClients();
  if (skip) return;
  ({ PusherJS, Pusher, WebSocket } = pusherModules());
  buildApp(rt.dir);
  buildApp(blog.dir);
  srv = await startServer(rt.dir, { workers: 2, env: ENV });
  oracle = new Pusher({ ...APP, host: '127.0.0.1', port: String(srv.port), useTLS: false });
});
after(async () => {
  for (const c of clients) c.disconnect();
  await sleep(100);
  await srv?.stop();
  rt.remove();
  blog.remove();
});

// A pusher-js client; `member` is its presence identity; `forge` signs
// with a wrong secret.
const client = (port, { member, forge = false, authorize } = {}) => pusherClient(PusherJS, {
  key: APP.key, port, member, authorize, into: clients,
  signer: forge ? new Pusher({ ...APP, secret: 'wrong' }) : oracle,
});
const connected = (c) => until(() => c.connection.state === 'connected', 10_000, 'connected');
function collect(ch, ...events) {
  const got = [];
  for (const e of events) ch.bind(e, (d, meta) => got.push({ e, d, user_id: meta?.user_id }));
  return got;
}

test('connect, public channel: SDK triggers and kiln_publish reach every client', async (t) => {
  if (skip) { t.skip(skip); return; }
  const cs = [client(srv.port), client(srv.port), client(srv.port), client(srv.port)];
  for (const c of cs) await connected(c);
  for (const c of cs) assert.match(c.connection.socket_id, /^\d+\.\d+$/);
  assert.equal(new Set(cs.map((c) => c.connection.socket_id)).size, 4);
  const gots = [];
  for (const c of cs) gots.push(collect((await subscribed(c, 'news')).ch, 'flash', 'from-c'));
  await oracle.trigger('news', 'flash', { n: 1 });
  const r = await http(srv.port, '/api/publish', { method: 'POST', json: { channel: 'news', event: 'from-c', data: { kiln: true } } });
  assert.equal(r.status, 200);
  for (const got of gots) {
    await until(() => got.length === 2, 10_000, 'two events');
    assert.deepEqual(got.map((g) => [g.e, g.d]), [['flash', { n: 1 }], ['from-c', { kiln: true }]]);
  }
  const ch = await (await oracle.get({ path: '/channels/news', params: { info: 'subscription_count' } })).json();
  assert.deepEqual(ch, { occupied: true, subscription_count: 4 });
  for (const c of cs) c.unsubscribe('news');
});

test('private channels: signature checked; client events go to the others, never public', async (t) => {
  if (skip) { t.skip(skip); return; }
  const a = client(srv.port), b = client(srv.port), bad = client(srv.port, { forge: true });
  for (const c of [a, b, bad]) await connected(c);
  const { ch: cha } = await subscribed(a, 'private-room');
  const { ch: chb } = await subscribed(b, 'private-room');
  const gotA = collect(cha, 'client-typing', 'server-said'), gotB = collect(chb, 'client-typing', 'server-said');
  // A forged signature: refused with Pusher's 4009, no subscription.
  bad.subscribe('private-room');
  await until(() => bad.errors.length > 0, 10_000, 'error for a forged signature');
  assert.equal(bad.errors[0].data.code, 4009);
  assert.equal(bad.channel('private-room').subscribed, false);
  assert.equal(cha.trigger('client-typing', { who: 'a' }), true);
  await until(() => gotB.length === 1, 10_000, 'client event');   // two publishers: no order between them
  await oracle.trigger('private-room', 'server-said', 'hi');
  await until(() => gotB.length === 2 && gotA.length === 1, 10_000, 'client event and server event');
  assert.deepEqual(gotB.map((g) => [g.e, g.d]), [['client-typing', { who: 'a' }], ['server-said', 'hi']]);
  assert.deepEqual(gotA.map((g) => g.e), ['server-said'], 'the sender does not get its own client event');
  // A REST trigger with socket_id: every subscriber but that socket.
  await oracle.trigger('private-room', 'server-said', 'not to a', { socket_id: a.connection.socket_id });
  await until(() => gotB.length === 3, 10_000, 'trigger excluding a');
  assert.equal(gotB[2].d, 'not to a');
  await sleep(200);
  assert.equal(gotA.length, 1, 'the excluded socket did not get it');
  // On a public channel a client event is refused (4301).
  const { ch: pub } = await subscribed(a, 'lobby');
  pub.trigger('client-nope', {});
  await until(() => a.errors.some((e) => e.data?.code === 4301), 10_000, '4301');
});

test('presence: members across workers, member_added / member_removed, REST users', async (t) => {
  if (skip) { t.skip(skip); return; }
  const alice = { user_id: 'alice', user_info: { email: 'alice@example.com' } };
  const bob = { user_id: 'bob', user_info: { email: 'bob@example.com' } };
  const ca = client(srv.port, { member: alice });
  await connected(ca);
  const { ch: pa, data: firstMembers } = await subscribed(ca, 'presence-team');
  assert.equal(firstMembers.count, 1);
  assert.equal(firstMembers.me.id, 'alice');
  const added = [], removed = [];
  pa.bind('pusher:member_added', (m) => added.push(m));
  pa.bind('pusher:member_removed', (m) => removed.push(m));
  // Bob on as many connections as it takes to land on the other worker too.
  const bobs = [];
  for (let i = 0; i < 4; i++) {
    const cb = client(srv.port, { member: bob });
    await connected(cb);
    const { data } = await subscribed(cb, 'presence-team');
    assert.equal(data.count, 2);
    const ids = [];
    data.each((m) => ids.push([m.id, m.info.email]));
    assert.deepEqual(ids.sort(), [['alice', 'alice@example.com'], ['bob', 'bob@example.com']]);
    bobs.push(cb);
  }
  await until(() => added.length >= 1, 10_000, 'member_added');
  await sleep(200);
  assert.deepEqual(added.map((m) => [m.id, m.info]), [['bob', bob.user_info]], 'one member_added for bob, however many sockets');
  const users = await (await oracle.get({ path: '/channels/presence-team/users' })).json();
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['alice', 'bob']);
  const counts = await (await oracle.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.deepEqual(counts.channels['presence-team'], { user_count: 2 });
  for (const cb of bobs.slice(1)) cb.disconnect();
  await sleep(300);
  assert.equal(removed.length, 0, 'bob still has a socket');
  bobs[0].disconnect();
  await until(() => removed.length === 1, 10_000, 'member_removed');
  assert.equal(removed[0].id, 'bob');
  assert.equal(pa.members.count, 1);
  // Client events on presence channels carry on too.
  const cz = client(srv.port, { member: { user_id: 'zoe', user_info: {} } });
  await connected(cz);
  const { ch: pz } = await subscribed(cz, 'presence-team');
  const gotA = collect(pa, 'client-hello');
  pz.trigger('client-hello', { from: 'zoe' });
  await until(() => gotA.length === 1, 10_000, 'presence client event');
  assert.deepEqual(gotA[0].d, { from: 'zoe' });
});

test("Pusher's protocol by hand: ping/pong, unknown key 4001, protocol 4007", async (t) => {
  if (skip) { t.skip(skip); return; }
  const talk = (url) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${url}`);
    const msgs = [];
    ws.on('message', (m) => {
      msgs.push(JSON.parse(m.toString()));
      if (msgs.length === 1 && msgs[0].event === 'pusher:connection_established') ws.send(JSON.stringify({ event: 'pusher:ping', data: {} }));
      if (msgs.some((x) => x.event === 'pusher:pong')) ws.close();
    });
    ws.on('close', (code) => resolve({ code, msgs }));
    ws.on('error', reject);
  });
  const ok = await talk(`/app/${APP.key}?protocol=7&client=js&version=8.4.0`);
  assert.equal(ok.msgs[0].event, 'pusher:connection_established');
  assert.match(JSON.parse(ok.msgs[0].data).socket_id, /^\d+\.\d+$/);
  assert.equal(ok.msgs[1].event, 'pusher:pong');
  const badKey = await talk('/app/nope?protocol=7');
  assert.equal(badKey.code, 4001);
  assert.equal(badKey.msgs[0].event, 'pusher:error');
  assert.equal(badKey.msgs[0].data.code, 4001);
  const badProto = await talk(`/app/${APP.key}?protocol=3`);
  assert.equal(badProto.code, 4007);
  assert.equal(badProto.msgs[0].data.code, 4007);
});

test('blog: pusher-js on "posts" sees post.created/updated/deleted; private channels through /api/pusher/auth', async (t) => {
  if (skip) { t.skip(skip); return; }
  const b = await startServer(blog.dir, { workers: 2, env: ENV });
  try {
    const email = `pjs${Date.now()}@example.com`;
    await http(b.port, '/api/auth/signup', { method: 'POST', json: { email, password: 'correct horse' } });
    const token = (await http(b.port, '/api/auth/login', { method: 'POST', json: { email, password: 'correct horse' } })).json.token;
    const me = (await http(b.port, '/api/auth/session', { headers: { authorization: `Bearer ${token}` } })).json.user;
    const endpoint = `http://127.0.0.1:${b.port}/api/pusher/auth`;
    const c = client(b.port, { authorize: { endpoint, headers: { Authorization: `Bearer ${token}` } } });
    const anon = client(b.port, { authorize: { endpoint } });
    await connected(c);
    await connected(anon);
    const { ch } = await subscribed(c, 'posts');
    const got = collect(ch, 'post.created', 'post.updated', 'post.deleted');
    const p = (await http(b.port, '/api/posts', { method: 'POST', json: { title: 'Pushed', content: 'by Kiln' } })).json;
    await http(b.port, `/api/posts/${p.id}`, { method: 'PUT', json: { title: 'Pushed!', content: 'again' } });
    await http(b.port, `/api/posts/${p.id}`, { method: 'DELETE' });
    await until(() => got.length === 3, 10_000, 'three post events');
    assert.deepEqual(got.map((g) => [g.e, g.d]), [
      ['post.created', { id: p.id, title: 'Pushed', content: 'by Kiln' }],
      ['post.updated', { id: p.id, title: 'Pushed!', content: 'again' }],
      ['post.deleted', { id: p.id }],
    ]);
    // Private and presence need the session: with it, joined; without, refused.
    await subscribed(c, 'private-notes');
    const { data: members } = await subscribed(c, 'presence-readers');
    assert.deepEqual(members.me, { id: String(me.id), info: { email } });
    const refused = new Promise((ok) => anon.subscribe('private-notes').bind('pusher:subscription_error', ok));
    const err = await refused;
    assert.equal(err.status, 401);
  } finally {
    await b.stop();
  }
});
