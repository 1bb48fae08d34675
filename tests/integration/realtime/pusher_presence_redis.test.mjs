// pusher_presence_redis.test.mjs -- Pusher presence across machines: two
// Kiln servers ("machines", two workers each) sharing one redis-server
// started here, pusher-js clients on both and the pusher server SDK asking
// each. Proves: one member_added overall for a user on both machines; no
// member_removed while the user is still on the other machine, exactly one
// (seen on both machines) when the last socket anywhere leaves; member
// lists (subscription_succeeded, REST users, user_count) cover both
// machines (and a presence channel with members on one machine only is
// listed, occupied and counted on both); a SIGKILLed machine's members are
// removed once within the TTL
// bound; a Redis restart is survived, each machine serves its own presence
// meanwhile, presence is rebuilt announcing only who joined during the
// outage, and events after it are not duplicated; a graceful stop removes
// its members at once.
//
// Counts are of raw protocol messages (pusher-js's connection 'message'),
// not of pusher-js's member events, which would hide a duplicate removal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { installClients, HERE } from './lib.mjs';
import { haveRedis, startRedis } from './redis.mjs';

const APP = { appId: '78', key: 'pr-key', secret: 'pr-secret' };
const TTL_S = 3;                                   // KILN_PRESENCE_TTL given to both servers
const BOUND_MS = TTL_S * 1000 + (TTL_S * 1000) / 5; // documented bound: TTL + one heartbeat
const CH = 'presence-room';
const rt = copyApp('tests/fixtures/rtapp');
let skip, PusherJS, Pusher, redis, A, B;
const clients = [];

before(async () => {
  if (!haveRedis()) { skip = 'redis-server is not installed (scripts/deps.sh test installs it)'; return; }
  skip = installClients();
  if (skip) return;
  const req = createRequire(path.join(HERE, 'package.json'));
  PusherJS = req('pusher-js');
  Pusher = req('pusher');
  buildApp(rt.dir);
  redis = await startRedis();
  A = await machine();
  B = await machine();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await sleep(100);
  await A?.stop();
  await B?.stop();
  await redis?.stop();
  rt.remove();
});

async function machine(ttl = TTL_S) {
  const env = {
    PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret,
    KILN_REDIS_URL: redis.url, KILN_PRESENCE_TTL: String(ttl),
  };
  const srv = await startServer(rt.dir, { workers: 2, env });
  srv.sdk = new Pusher({ ...APP, host: '127.0.0.1', port: String(srv.port), useTLS: false });
  await sleep(300);   // the workers connect to Redis (a join before that is decided on the machine)
  return srv;
}

// A pusher-js client on srv as user `id`; raw: every protocol message it got.
function client(srv, id) {
  const signer = new Pusher({ ...APP });
  const c = new PusherJS(APP.key, {
    cluster: 'kiln', wsHost: '127.0.0.1', wsPort: srv.port, forceTLS: false, enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) =>
        cb(null, signer.authorizeChannel(socketId, channelName, { user_id: id, user_info: { name: id } })),
    },
  });
  c.raw = [];
  c.connection.bind('message', (m) => c.raw.push(m));
  c.id = id;
  c.port = srv.port;
  clients.push(c);
  return c;
}

// What the watchers saw, for failure messages.
const seen = () => JSON.stringify(clients.filter((c) => /^w/.test(c.id)).map((c) =>
  [c.id, c.raw.filter((m) => /member_/.test(m.event)).map((m) => `${m.event.slice(24)} ${JSON.stringify(m.data)}`)]));
const until = async (pred, ms, what) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; watchers saw ${seen()}`);
    await sleep(20);
  }
};

// Connected and subscribed to CH; resolves with the member ids it was given.
async function join(srv, id) {
  const c = client(srv, id);
  await until(() => c.connection.state === 'connected', 10_000, `${id} connected`);
  const ch = c.subscribe(CH);
  const data = await new Promise((ok, fail) => {
    ch.bind('pusher:subscription_succeeded', ok);
    ch.bind('pusher:subscription_error', (e) => fail(new Error(`subscription_error ${JSON.stringify(e)}`)));
  });
  const ids = [];
  data.each((m) => ids.push(m.id));
  c.members = ids.sort();
  return c;
}

const memberEvents = (c, kind, user) => c.raw.filter((m) => m.event === `pusher_internal:member_${kind}` &&
  m.channel === CH && (typeof m.data === 'string' ? JSON.parse(m.data) : m.data).user_id === user).length;
const restUsers = async (srv) =>
  (await (await srv.sdk.get({ path: `/channels/${CH}/users` })).json()).users.map((u) => u.id).sort();
const userCount = async (srv) =>
  (await (await srv.sdk.get({ path: `/channels/${CH}`, params: { info: 'user_count' } })).json()).user_count;
const listedCount = async (srv) =>
  (await (await srv.sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json())
    .channels[CH]?.user_count;

let wa, wb;

test('the same user on two machines: one member_added, member_removed only when the last socket anywhere leaves', async (t) => {
  if (skip) { t.skip(skip); return; }
  wa = await join(A, 'wa');
  wb = await join(B, 'wb');
  assert.deepEqual(wb.members, ['wa', 'wb'], "B's subscription_succeeded lists A's member");
  await until(() => memberEvents(wa, 'added', 'wb') === 1, 5000, 'wa sees wb added');
  // carol on A (two sockets: both workers, likely) and on B.
  const ca1 = await join(A, 'carol'), ca2 = await join(A, 'carol'), cb = await join(B, 'carol');
  assert.deepEqual(cb.members, ['carol', 'wa', 'wb']);
  await until(() => memberEvents(wa, 'added', 'carol') >= 1 && memberEvents(wb, 'added', 'carol') >= 1, 5000, 'carol added');
  await sleep(500);   // a second member_added would have come by now
  assert.equal(memberEvents(wa, 'added', 'carol'), 1, 'one member_added for carol on A');
  assert.equal(memberEvents(wb, 'added', 'carol'), 1, 'one member_added for carol on B');
  // Every machine answers for both.
  for (const srv of [A, B]) {
    assert.deepEqual(await restUsers(srv), ['carol', 'wa', 'wb']);
    assert.equal(await userCount(srv), 3);
    assert.equal(await listedCount(srv), 3);
  }
  // A presence channel with members only on B is occupied, and counted, on A too.
  const solo = client(B, 'solo');
  await until(() => solo.connection.state === 'connected', 10_000, 'solo connected');
  await new Promise((ok) => solo.subscribe('presence-elsewhere').bind('pusher:subscription_succeeded', ok));
  const listA = await (await A.sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.deepEqual(listA.channels['presence-elsewhere'], { user_count: 1 }, JSON.stringify(listA));
  const oneA = await (await A.sdk.get({ path: '/channels/presence-elsewhere', params: { info: 'user_count' } })).json();
  assert.deepEqual(oneA, { occupied: true, user_count: 1 });
  solo.disconnect();
  // carol leaves A entirely: still on B, so no member_removed anywhere.
  ca1.disconnect();
  ca2.disconnect();
  await sleep(800);
  assert.equal(memberEvents(wa, 'removed', 'carol'), 0, 'carol is still on B');
  assert.equal(memberEvents(wb, 'removed', 'carol'), 0, 'carol is still on B');
  assert.deepEqual(await restUsers(A), ['carol', 'wa', 'wb']);
  // ... and leaves B: one member_removed, seen on both machines.
  cb.disconnect();
  await until(() => memberEvents(wa, 'removed', 'carol') >= 1 && memberEvents(wb, 'removed', 'carol') >= 1, 5000, 'carol removed');
  await sleep(500);
  assert.equal(memberEvents(wa, 'removed', 'carol'), 1);
  assert.equal(memberEvents(wb, 'removed', 'carol'), 1);
  assert.deepEqual(await restUsers(B), ['wa', 'wb']);
});

test(`a machine SIGKILLed: its members are removed once, within TTL + a heartbeat (${BOUND_MS} ms)`, async (t) => {
  if (skip) { t.skip(skip); return; }
  await join(B, 'dave');
  await join(B, 'erin');
  await join(A, 'erin');
  await until(() => memberEvents(wa, 'added', 'dave') === 1 && memberEvents(wa, 'added', 'erin') === 1, 5000, 'dave, erin added');
  assert.deepEqual(await restUsers(A), ['dave', 'erin', 'wa', 'wb']);
  const killedAt = Date.now();
  process.kill(-B.proc.pid, 'SIGKILL');     // the master and its workers: the machine is gone
  await until(() => memberEvents(wa, 'removed', 'dave') >= 1 && memberEvents(wa, 'removed', 'wb') >= 1,
    BOUND_MS + 5000, "B's members removed");  // headroom for a busy box
  const took = Date.now() - killedAt;
  t.diagnostic(`members of the killed machine removed after ${took} ms (bound ${BOUND_MS} ms + load)`);
  await sleep(1000);
  assert.equal(memberEvents(wa, 'removed', 'dave'), 1, 'dave removed once');
  assert.equal(memberEvents(wa, 'removed', 'wb'), 1, 'wb removed once');
  assert.equal(memberEvents(wa, 'removed', 'erin'), 0, 'erin is still on A');
  assert.deepEqual(await restUsers(A), ['erin', 'wa']);
  await B.stop().catch(() => {});
  for (const c of clients) if (c.port === B.port) c.disconnect();
  B = await machine();
});

test('Redis restarted: presence rebuilt, only a user who joined during the outage announced (once per machine), no duplicates afterwards', async (t) => {
  if (skip) { t.skip(skip); return; }
  const wb2 = await join(B, 'wb2');
  const eb = await join(B, 'erin');
  assert.deepEqual(wb2.members, ['erin', 'wa', 'wb2']);
  await until(() => memberEvents(wa, 'added', 'wb2') === 1, 5000, 'wb2 added');
  const watchers = [wa, wb2];
  const before = watchers.map((c) => c.raw.length);
  await redis.stop();
  await A.waitForLog((l) => /redis unreachable/.test(l.msg), 10_000);
  await sleep(500);
  // Meanwhile each machine is on its own: hank joins A, A's watcher hears it.
  const hank = await join(A, 'hank');
  assert.ok(hank.members.includes('hank') && hank.members.includes('wa'), `A's own list: ${hank.members}`);
  await until(() => memberEvents(wa, 'added', 'hank') === 1, 5000, 'hank added on A during the outage');
  assert.equal(memberEvents(wb2, 'added', 'hank'), 0, 'B cannot hear it yet');
  await redis.start();
  // Both connections of both workers of both machines back, then rebuilt.
  const back = (srv) => srv.logs().filter((l) => /redis reachable again/.test(l.msg)).length >= 4;
  await until(() => back(A) && back(B), 20_000, 'every worker reconnected');
  let users = [];
  for (let i = 0; i < 200; i++) {   // each worker re-registers one reconnect interval (<= 5 s) after it is back
    users = await restUsers(A);
    if (users.join() === 'erin,hank,wa,wb2') break;
    await sleep(100);
  }
  assert.deepEqual(users, ['erin', 'hank', 'wa', 'wb2'], 'presence rebuilt in the new Redis');
  assert.deepEqual(await restUsers(B), ['erin', 'hank', 'wa', 'wb2']);
  await until(() => memberEvents(wb2, 'added', 'hank') === 1, 10_000, 'B told of hank after the rebuild');
  await sleep(500);
  const during = watchers.map((c, i) => c.raw.slice(before[i]).filter((m) => /member_/.test(m.event))
    .map((m) => `${m.event.split(':')[1]} ${(typeof m.data === 'string' ? JSON.parse(m.data) : m.data).user_id}`));
  assert.deepEqual(during, [['member_added hank'], ['member_added hank']],
    'the rebuild announced only who joined during the outage, once on each machine');
  // Afterwards: one event each, as before the restart.
  await join(B, 'frank');
  await until(() => memberEvents(wa, 'added', 'frank') >= 1 && memberEvents(wb2, 'added', 'frank') >= 1, 5000, 'frank added');
  const ea = clients.find((c) => c.id === 'erin' && c.port === A.port && c.connection.state === 'connected');
  ea.disconnect();
  await sleep(800);
  assert.equal(memberEvents(wb2, 'removed', 'erin'), 0, 'erin is still on B');
  eb.disconnect();
  await until(() => memberEvents(wa, 'removed', 'erin') >= 1 && memberEvents(wb2, 'removed', 'erin') >= 1, 5000, 'erin removed');
  await sleep(500);
  assert.equal(memberEvents(wa, 'added', 'frank'), 1);
  assert.equal(memberEvents(wb2, 'added', 'frank'), 1);
  assert.equal(memberEvents(wa, 'removed', 'erin'), 1);
  assert.equal(memberEvents(wb2, 'removed', 'erin'), 1);
  assert.ok(A.proc.exitCode === null && B.proc.exitCode === null, 'servers still running');
  const died = [...A.logs(), ...B.logs()].filter((l) => /worker died|crashed/.test(l.msg || ''));
  assert.deepEqual(died, []);
});

test('a graceful stop (SIGTERM): its members leave as its sockets close, not after the TTL', async (t) => {
  if (skip) { t.skip(skip); return; }
  const C = await machine(60);   // were the leave lost, the others would wait 60 s
  try {
    await join(C, 'gina');
    await until(() => memberEvents(wa, 'added', 'gina') === 1, 5000, 'gina added');
    const stoppedAt = Date.now();
    await C.stop();
    await until(() => memberEvents(wa, 'removed', 'gina') >= 1, 10_000, 'gina removed after a graceful stop');
    t.diagnostic(`gina removed ${Date.now() - stoppedAt} ms after SIGTERM`);
    assert.deepEqual(await restUsers(A), ['frank', 'hank', 'wa', 'wb2']);
  } finally {
    for (const c of clients) if (c.port === C.port) c.disconnect();
    await C.stop();
  }
});

