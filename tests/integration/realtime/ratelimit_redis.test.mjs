// ratelimit_redis.test.mjs -- rate limits shared by two Kiln servers through
// one redis-server started here (KILN_REDIS_URL), issue 11:
//   - mwapp's /api/limited (kiln_rate_limit, 5 per 60 s per address): 5
//     answered across both servers, the 6th -- on the other server -- 429
//     with Retry-After and the JSON body;
//   - the blog's login throttling (kiln_rate_check + kiln_rate_limit): 3
//     failures spread over both servers, then 429 on either;
//   - Redis killed mid-test: every request still answered, limits counted
//     per server (5 more on the other one), a warning logged; Redis started
//     again on the same port: shared again;
//   - many keys: Redis holds one expiring key per address, and a server's
//     memory does not grow with them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { prepareApp, request, startOn, stopAll, uniqueEmail } from '../auth/helpers.mjs';
import { startServer } from '../lib/server.mjs';
import { sanitizerBuild, sleep } from '../lib/extra.mjs';
import { workersOf } from '../lib/procs.mjs';
import { haveRedis, startRedis } from './redis.mjs';

let redis, A, B, blogA, blogB;
const mw = haveRedis() ? prepareApp('tests/fixtures/mwapp', 'mwapp-redis-limits') : null;
const blog = haveRedis() ? prepareApp('examples/blog', 'blog-redis-limits') : null;
const servers = [];

before(async () => {
  if (!haveRedis()) return;
  redis = await startRedis();
  const env = { KILN_REDIS_URL: redis.url };
  A = await startServer(mw, { workers: 2, env });
  B = await startServer(mw, { workers: 2, env });
  servers.push(A, B);
  // One SQLite file for both blog servers: the same accounts on each.
  const limits = { BLOG_LOGIN_PER_EMAIL: '3', BLOG_LOGIN_PER_ADDRESS: '1000' };
  blogA = await startOn(blog, 'sqlite', { workers: 2, env: { ...env, ...limits } });
  blogB = await startOn(blog, 'sqlite', { workers: 2, db: blogA.db, env: { ...env, ...limits } });
});
after(async () => {
  for (const s of servers) await s.stop();
  await stopAll();
  await redis?.stop();
});

const limited = (srv, localAddress) => request(srv.port, '/api/limited', { localAddress });

function assert429(r) {
  assert.equal(r.status, 429, r.text);
  assert.deepEqual(r.json, { error: 'Too Many Requests', retryAfter: Number(r.headers['retry-after']) });
  const ra = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After: ${r.headers['retry-after']}`);
}

function redisCli(...args) {
  const r = spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// Is the limit on `addr` shared? 5 on A (alternating workers), then B.
async function sharedOn(addr) {
  for (let i = 0; i < 5; i++) assert.equal((await limited(A, addr)).status, 200);
  return limited(B, addr);
}

test('a limit of 5 per window is enforced across two servers', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  // Alternate servers: 5 answered in all, then 429 on both.
  for (let i = 0; i < 5; i++) assert.equal((await limited(i % 2 ? B : A, '127.0.0.21')).status, 200);
  assert429(await limited(A, '127.0.0.21'));
  assert429(await limited(B, '127.0.0.21'));
  // 5 on A, the 6th on B.
  assert429(await sharedOn('127.0.0.22'));
  // Another address is not limited; the count lives in Redis with a TTL.
  assert.equal((await limited(B, '127.0.0.23')).status, 200);
  const keys = redisCli('--scan', '--pattern', 'kiln:rl:*').split('\n').filter(Boolean);
  // Keys are named by a digest of the limiter's key, never by the address
  // or email itself.
  const digest = crypto.createHash('sha256').update('127.0.0.22').digest('hex').slice(0, 32);
  assert.ok(keys.some((k) => k.endsWith(`/${digest}`)), keys.join(','));
  assert.ok(!keys.some((k) => k.includes('127.0.0')), `a raw address in Redis: ${keys.join(',')}`);
  const ttl = Number(redisCli('PTTL', keys.find((k) => k.endsWith(`/${digest}`))));
  assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
});

test('login throttling across two servers', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  const acct = { email: uniqueEmail('shared'), password: 'the right password' };
  assert.equal((await blogA.api.post('/api/auth/signup', { json: acct })).status, 201);
  for (let i = 0; i < 3; i++) {
    const s = i % 2 ? blogB : blogA;
    const r = await s.api.post('/api/auth/login', { localAddress: '127.0.0.31', json: { ...acct, password: `wrong ${i}` } });
    assert.equal(r.status, 401, r.text);
  }
  for (const s of [blogA, blogB]) {
    const r = await s.api.post('/api/auth/login', { localAddress: '127.0.0.32', json: acct });
    assert429(r);
  }
  // Another account on the other server is not limited.
  const other = { email: uniqueEmail('free'), password: 'the right password' };
  assert.equal((await blogB.api.post('/api/auth/signup', { json: other })).status, 201);
  assert.equal((await blogA.api.post('/api/auth/login', { localAddress: '127.0.0.31', json: other })).status, 200);
  // The accounts' counters are in Redis under digests, not under the emails.
  const keys = redisCli('--scan', '--pattern', 'kiln:rl:*').split('\n').filter(Boolean);
  assert.ok(keys.length > 0);
  assert.ok(!keys.some((k) => k.includes('@')), `an email in Redis: ${keys.join(',')}`);
});

test('Redis frozen (SIGSTOP): each check waits at most ~50 ms, then counts locally', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  process.kill(redis.proc.pid, 'SIGSTOP');
  try {
    const addr = '127.0.0.51';
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await limited(A, addr)).status, 200);
    assert429(await limited(A, addr));
    assert.equal((await limited(B, addr)).status, 200, 'B counts on its own');
    const ms = Date.now() - t0;
    assert.ok(ms < 3000, `7 requests took ${ms} ms against a frozen Redis`);
    await B.waitForLog((l) => l.msg === 'redis rate limits unavailable: counting on this machine' && l.reason === 'timeout', 5000);
  } finally {
    process.kill(redis.proc.pid, 'SIGCONT');
  }
  // Late replies to abandoned checks are harmless; shared again at once.
  await sleep(200);
  assert429(await sharedOn('127.0.0.52'));
});

test('Redis stopped: answered, counted per server, warned; Redis back: shared again', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  await redis.stop();
  const t0 = Date.now();
  // Local counts: 5 on A then 429 on A, and 5 more on B.
  const addr = '127.0.0.41';
  for (let i = 0; i < 5; i++) assert.equal((await limited(A, addr)).status, 200);
  // Workers count on the machine's table: the 6th on A may land on either worker, both see it.
  assert429(await limited(A, addr));
  for (let i = 0; i < 5; i++) assert.equal((await limited(B, addr)).status, 200, 'B counts on its own');
  assert429(await limited(B, addr));
  assert.ok(Date.now() - t0 < 5000, 'requests waited on a dead Redis');
  await A.waitForLog((l) => l.msg === 'redis rate limits unavailable: counting on this machine', 5000);
  // Back on the same port: the workers reconnect (backoff up to 5 s).
  await redis.start();
  let shared = false;
  for (let n = 0; n < 40 && !shared; n++) {
    await sleep(250);
    const r = await sharedOn(`127.0.1.${n + 1}`);
    shared = r.status === 429;
  }
  assert.ok(shared, 'limits not shared again after Redis came back');
  // Once reconnected, every worker of both servers shares (several rounds).
  for (let n = 0; n < 6; n++) assert429(await sharedOn(`127.0.2.${n + 1}`));
});

test('many keys: Redis expires them, the servers do not grow', async (t) => {
  if (!redis) { t.skip('redis-server is not installed (scripts/deps.sh test installs it)'); return; }
  const rss = async (srv) => {
    let total = 0;
    for (const pid of [srv.proc.pid, ...(await workersOf(srv.proc.pid, 2))]) {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(m[1]);
    }
    return total;
  };
  const burst = async (base) => {
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) =>
        limited(i % 100 ? A : B, `127.${base}.${((i + j) >> 8) & 255}.${(i + j) & 255 || 1}`)));
    }
  };
  await burst(10);
  const before1 = (await rss(A)) + (await rss(B));
  await burst(11);
  await burst(12);
  const after1 = (await rss(A)) + (await rss(B));
  // The servers keep no per-key state for Redis counts (the local table is a
  // fixed mapping). A sanitizer build's RSS holds ASan's quarantine of freed
  // blocks (up to 256 MiB per process) instead: there the bound is that, and
  // LeakSanitizer at stop() finds what a leak would be.
  const boundKiB = sanitizerBuild() ? 4 * 256 * 1024 : 8 * 1024;
  assert.ok(after1 - before1 < boundKiB, `servers grew ${after1 - before1} KiB over 4000 new keys`);
  // Every key in Redis expires (PTTL > 0): nothing kept forever.
  const keys = redisCli('--scan', '--pattern', 'kiln:rl:*').split('\n').filter(Boolean);
  assert.ok(keys.length >= 4000, `${keys.length} keys`);
  for (const k of keys.slice(0, 50)) assert.ok(Number(redisCli('PTTL', k)) > 0, k);
});

