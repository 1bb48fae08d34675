// redis_ipv6.test.mjs -- KILN_REDIS_URL with an IPv6 literal
// (src/realtime/redis_url.c): redis://:PASSWORD@[::1]:PORT/3 reaches a
// real redis-server listening on ::1 only, with the password and database
// applied (CLIENT LIST shows both of Kiln's connections on db 3), and
// carries events between two servers; a URL with a malformed bracket is
// refused with its reason in the log, and the server serves on (channels
// stay on the machine). Skipped, saying why, without an IPv6 loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { openStream } from './lib.mjs';
import { haveRedis, startRedis, bridgedPair } from './redis.mjs';

const rt = copyApp('tests/fixtures/rtapp');
buildApp(rt.dir);
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
  rt.remove();
});

// '' when ::1 can be listened on, else why not.
function ipv6Loopback() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (e) => resolve(`no IPv6 loopback on this machine (listen on ::1: ${e.code})`));
    s.listen(0, '::1', () => s.close(() => resolve('')));
  });
}

test('KILN_REDIS_URL=redis://:pw@[::1]:PORT/3: a Redis on the IPv6 loopback carries events between servers', async (t) => {
  if (!haveRedis()) return t.skip('redis-server is not installed (scripts/deps.sh test installs it)');
  const why = await ipv6Loopback();
  if (why) return t.skip(why);
  const PW = 'v6-secret';
  const redis = await startRedis(undefined, { host: '::1', args: ['--requirepass', PW] });
  cleanups.push(() => redis.stop());
  const cli = (...a) => spawnSync('redis-cli', ['-h', '::1', '-p', String(redis.port), '--no-auth-warning', '-a', PW, ...a], { encoding: 'utf8' });
  const { A, B } = await bridgedPair(rt.dir, { KILN_REDIS_URL: `redis://:${PW}@[::1]:${redis.port}/3` }, 'v6', cleanups, '[::1]');
  // Both servers' publisher and subscriber, authenticated, on database 3.
  const clients = cli('client', 'list').stdout.trim().split('\n').filter((l) => !/cmd=client/.test(l));
  assert.ok(clients.length >= 4, `Kiln's connections missing from CLIENT LIST:\n${clients.join('\n')}`);
  for (const l of clients) assert.match(l, /\bdb=3\b/, `a connection not on the URL's database 3: ${l}`);
  assert.doesNotMatch(A.stderrText() + B.stderrText(), /refused the password|redis unreachable/);
});

test('a malformed bracket in KILN_REDIS_URL is refused with its reason, and the server serves on', async () => {
  const S = await startServer(rt.dir, { workers: 1, env: { KILN_REDIS_URL: 'redis://[::1:6379/0' } });
  cleanups.push(() => S.stop());
  // The URL is read when channels are first used.
  assert.equal((await http(S.port, '/api/publish', { method: 'POST', json: { channel: 'c', event: 'e', data: 1 } })).status, 200);
  const line = await S.waitForLog((l) => /KILN_REDIS_URL is not/.test(JSON.stringify(l)), 5000);
  assert.match(JSON.stringify(line), /without its ']'/);
  const u = await startServer(rt.dir, { workers: 1, env: { KILN_REDIS_URL: 'redis://::1:6379' } });
  cleanups.push(() => u.stop());
  assert.equal((await http(u.port, '/api/publish', { method: 'POST', json: { channel: 'c', event: 'e', data: 1 } })).status, 200);
  const line2 = await u.waitForLog((l) => /KILN_REDIS_URL is not/.test(JSON.stringify(l)), 5000);
  assert.match(JSON.stringify(line2), /no host/);
  // Channels stay on the machine: an event still reaches this server's subscriber.
  const s = await openStream(S.port, '/api/sse/sub?channel=local');
  cleanups.push(() => s.close());
  await s.waitFor((e) => e.type === 'ready');
  assert.equal((await http(S.port, '/api/publish', { method: 'POST', json: { channel: 'local', event: 'here', data: 1 } })).status, 200);
  assert.equal((await s.waitFor((x) => x.type === 'here', 5000)).data, '1');
});
