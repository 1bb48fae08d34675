// redis.test.mjs -- channels across machines: two Kiln servers (two workers
// each) sharing one redis-server started here. An event published on either
// reaches every stream on both, exactly once, in publish order; through a
// Redis restart (killed, then started again on the same port) the servers
// keep serving and delivering locally, log the outage, reconnect,
// resubscribe, and deliver across again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { openStream } from './lib.mjs';
import { haveRedis, startRedis } from './redis.mjs';

const rt = copyApp('tests/fixtures/rtapp');
let redis, A, B;
const streams = [];

before(async () => {
  if (!haveRedis()) return;
  buildApp(rt.dir);
  redis = await startRedis();
  const env = { KILN_REDIS_URL: redis.url };
  A = await startServer(rt.dir, { workers: 2, env });
  B = await startServer(rt.dir, { workers: 2, env });
});
after(async () => {
  for (const s of streams) s.close();
  await A?.stop();
  await B?.stop();
  await redis?.stop();
  rt.remove();
});

const publish = (srv, event, data, channel = 'x') =>
  http(srv.port, '/api/publish', { method: 'POST', json: { channel, event, data } });

// Streams on both workers of a server.
async function openStreams(srv, name) {
  const out = [];
  const pids = new Set();
  for (let i = 0; i < 40 && (pids.size < 2 || out.length < 3); i++) {
    const s = await openStream(srv.port, '/api/sse/sub?channel=x');
    s.pid = JSON.parse((await s.waitFor((e) => e.type === 'ready')).data).pid;
    s.name = `${name}/${s.pid}`;
    pids.add(s.pid);
    out.push(s);
    streams.push(s);
  }
  assert.equal(pids.size, 2, `${name}: one worker took every connection`);
  return out;
}

// Publish on srv until every stream has seen one (subscriptions to Redis
// are made when a worker first uses channels).
async function warm(srv, all, tag) {
  for (let n = 0; n < 100; n++) {
    await publish(srv, tag, { n });
    await sleep(50);
    if (all.every((s) => s.events.some((e) => e.type === tag))) return;
  }
  throw new Error(`${tag}: not every stream got a warm-up event`);
}

const of = (s, type) => s.events.filter((e) => e.type === type).map((e) => JSON.parse(e.data));

test('two servers sharing Redis: every stream gets every event once, in order', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  const a = await openStreams(A, 'A');
  const b = await openStreams(B, 'B');
  const all = [...a, ...b];
  await warm(A, all, 'warm-a');
  await warm(B, all, 'warm-b');
  // 20 single publishes alternating servers (whichever worker takes each).
  for (let i = 0; i < 20; i++) assert.equal((await publish(i % 2 ? B : A, 'one', { i })).status, 200);
  // And one handler on A publishing 300 in a row.
  assert.equal((await http(A.port, '/api/burst?channel=x&n=300', { method: 'POST' })).status, 200);
  for (const s of all) await s.waitFor((e) => e.type === 'thread', 10_000);
  await sleep(300);   // a duplicate would have arrived by now
  for (const s of all) {
    assert.deepEqual(of(s, 'one').map((d) => d.i).sort((x, y) => x - y), [...Array(20).keys()], s.name);
    assert.deepEqual(of(s, 'seq').map((d) => d.i), [...Array(300).keys()], `${s.name}: order`);
    assert.equal(of(s, 'thread').length, 1, `${s.name}: offloaded publish once`);
  }
});

test('through a Redis restart: local delivery goes on, the outage is logged, cross-machine delivery comes back', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  const a = streams.filter((s) => s.name.startsWith('A/'));
  const b = streams.filter((s) => s.name.startsWith('B/'));
  await redis.stop();
  await A.waitForLog((l) => /redis unreachable/.test(l.msg), 10_000);
  // A still serves and still delivers on its own machine.
  const hello = await publish(A, 'during', { n: 1 });
  assert.equal(hello.status, 200);
  for (const s of a) await s.waitFor((e) => e.type === 'during', 5000);
  await sleep(800);
  await redis.start();
  await A.waitForLog((l) => /redis reachable again/.test(l.msg), 15_000);
  await B.waitForLog((l) => /redis reachable again/.test(l.msg), 15_000);
  // Resubscribed: events cross again (a worker may need its retry to fire).
  for (let n = 0; n < 100 && !b.every((s) => s.events.some((e) => e.type === 'after')); n++) {
    await publish(A, 'after', { n });
    await sleep(100);
  }
  for (const s of [...a, ...b]) await s.waitFor((e) => e.type === 'after', 10_000);
  assert.ok(A.proc.exitCode === null && B.proc.exitCode === null, 'servers still running');
  const died = [...A.logs(), ...B.logs()].filter((l) => /worker died|crashed/.test(l.msg || ''));
  assert.deepEqual(died, []);
});
