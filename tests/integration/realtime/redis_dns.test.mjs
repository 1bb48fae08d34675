// redis_dns.test.mjs -- KILN_REDIS_URL naming a host rather than an address
// (src/realtime/redis.c). The name is looked up on a thread of its own
// (src/realtime/lookup.c), never on the worker's event loop (getaddrinfo
// blocks, for as long as DNS takes) nor on its offload pool:
//   1. a name from /etc/hosts (localhost) works: two servers share events;
//   2. in a network namespace of the test's own (loopback only: no packet
//      leaves the machine; `ip netns exec` puts /etc/netns/NS/resolv.conf in
//      place) a DNS server (slow_dns.mjs) answers the Redis host's name after
//      3 s: while the lookup is under way the worker answers requests
//      (loop_probe.mjs) without delay, and once it is answered the worker's
//      subscriber is on Redis. The worker used to block for the lookup, once
//      per connection: no request was answered in that window. A name DNS
//      does not know is logged ("cannot resolve") and the worker serves on;
//   3. a DNS server that never answers (see that test's comment).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp, KILN } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { HERE } from './lib.mjs';
import { haveRedis, startRedis, bridgedPair } from './redis.mjs';
import { workersOf } from '../lib/procs.mjs';

const rt = copyApp('tests/fixtures/rtapp');
buildApp(rt.dir);
const wsapp = copyApp('tests/fixtures/wsapp');
buildApp(wsapp.dir);
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
  rt.remove();
  wsapp.remove();
});

test('KILN_REDIS_URL=redis://localhost:PORT: a name from /etc/hosts, looked up off the loop, carries events between servers', async (t) => {
  if (!haveRedis()) return t.skip('redis-server is not installed (scripts/deps.sh test installs it)');
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  await bridgedPair(rt.dir, { KILN_REDIS_URL: `redis://localhost:${redis.port}` }, 'dns', cleanups, 'redis://localhost');
});

// '' when this test can make its namespace, else why not.
function netnsSupport() {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!haveRedis()) return 'redis-server is not installed (scripts/deps.sh test installs it)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `no ip netns (iproute2): ${r.error?.message ?? r.stderr}`;
  return '';
}

// A child in the namespace, in its own process group, killed at the end.
function inNs(ns, argv, env = {}) {
  const p = spawn('ip', ['netns', 'exec', ns, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  p.out = '';
  p.err = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.err += d; });
  p.ended = new Promise((resolve) => p.on('exit', resolve));
  cleanups.push(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      try { process.kill(-p.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await p.ended;
      clearTimeout(t);
    }
  });
  return p;
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A network namespace of the test's own (loopback only), its resolv.conf
// (options: resolver options, '' for glibc's defaults) naming the DNS
// server slow_dns.mjs (dnsMode: DELAY_MS or "never") run inside it, and a
// redis-server inside it on rport; all removed at the end.
let nsCount = 0;
async function namespace(options, dnsMode, name, rport) {
  const ns = `krd${process.pid}n${nsCount++}`;
  const etc = `/etc/netns/${ns}`;
  const ip = (...a) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  ip('netns', 'add', ns);
  const removeNs = () => {
    spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(etc, { recursive: true, force: true });
  };
  process.once('exit', removeNs);
  cleanups.push(removeNs);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'resolv.conf'), `nameserver 127.0.0.1\n${options ? `options ${options}\n` : ''}`);

  const dns = inNs(ns, ['node', path.join(HERE, 'slow_dns.mjs'), dnsMode, name]);
  await until(() => dns.out.includes('ready'), 10_000, `the DNS server (${dns.err})`);
  const redis = inNs(ns, ['redis-server', '--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  const cli = (...a) => spawnSync('ip', ['netns', 'exec', ns, 'redis-cli', '-p', String(rport), ...a], { encoding: 'utf8' });
  await until(() => cli('ping').stdout.trim() === 'PONG', 10_000, `redis-server in the namespace (${redis.err})`);
  return { ns, dns, cli };
}

test('a slow DNS answer for the Redis host never stalls the worker, and the connection follows once it comes', async (t) => {
  const why = netnsSupport();
  if (why) return t.skip(why);
  const DELAY = 3000, NAME = 'redis.kiln.test', RPORT = 6390, KPORT = 18080;
  const { ns, dns, cli } = await namespace('timeout:10 attempts:1', String(DELAY), NAME, RPORT);

  // The probe first (it retries until the port listens), then the server.
  const probe = inNs(ns, ['node', path.join(HERE, 'loop_probe.mjs'), String(KPORT), String(DELAY + 4000)]);
  const kiln = inNs(ns, [KILN, 'start', rt.dir, '--port', String(KPORT), '--workers', '1'],
    { KILN_REDIS_URL: `redis://${NAME}:${RPORT}` });
  await probe.ended;
  const samples = JSON.parse(probe.out.trim() || '[]');
  const lines = dns.out.split('\n').filter((l) => l.startsWith(`query ${NAME} 1 `) || l.startsWith(`answer ${NAME} 1 `));
  const asked = Number(lines.find((l) => l.startsWith('query'))?.split(' ')[3]);
  const answered = Number(lines.find((l) => l.startsWith('answer'))?.split(' ')[3]);
  assert.ok(asked && answered, `the worker never looked ${NAME} up: dns said\n${dns.out}\nkiln: ${kiln.err}`);
  const during = samples.filter(([at, took]) => at >= asked && at + took <= answered);
  const worst = Math.max(...samples.filter(([at]) => at >= asked).map(([, took]) => took));
  console.log(`# lookup ${asked}..${answered} (${answered - asked} ms): ${during.length} requests answered meanwhile; slowest request after the lookup began: ${worst} ms`);
  assert.ok(during.length >= 10, `only ${during.length} requests answered during the ${answered - asked} ms lookup: the loop waited for DNS`);
  assert.ok(worst < DELAY / 2, `a request took ${worst} ms while the lookup ran`);
  // The answer came: the subscriber is on Redis.
  await until(() => Number(cli('pubsub', 'numsub', 'kiln:events').stdout.split('\n')[1]) >= 1, 10_000,
    `the worker's subscriber on Redis after the answer (kiln: ${kiln.err})`);
  // It stops cleanly (a sanitizer build reports leaks and errors here).
  process.kill(-kiln.pid, 'SIGTERM');
  await kiln.ended;
  assert.doesNotMatch(kiln.err, /Sanitizer|runtime error|panic/, kiln.err);

  // A name DNS does not know is an outage like a refused connection:
  // logged with the resolver's reason, retried, and the worker serves on.
  const lost = inNs(ns, [KILN, 'start', rt.dir, '--port', String(KPORT + 1), '--workers', '1'],
    { KILN_REDIS_URL: `redis://nowhere.kiln.test:${RPORT}` });
  await until(() => /cannot resolve nowhere\.kiln\.test/.test(lost.err), 10_000, `the failed lookup logged (kiln: ${lost.err})`);
  const again = inNs(ns, ['node', path.join(HERE, 'loop_probe.mjs'), String(KPORT + 1), '1000']);
  await again.ended;
  assert.ok(JSON.parse(again.out.trim() || '[]').length >= 5, `the worker with an unknown Redis host did not serve: ${again.out}`);
  assert.match(dns.out, /query nowhere\.kiln\.test 1 /, 'the lookup did not reach the namespace\'s DNS server');
  process.kill(-lost.pid, 'SIGTERM');
  await lost.ended;
  assert.doesNotMatch(lost.err, /Sanitizer|runtime error|panic/, lost.err);
});

// A process's mappings: [[lo, hi, perms]...] from /proc/PID/maps.
function maps(pid) {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean).map((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(l);
    return [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`), m[3]];
  });
}
// Bytes readable-writable in `before` and PROT_NONE in `after`: a parked
// handler's stack (256 KB) and arena become PROT_NONE (runtime/park.c),
// and that is how parking shows from outside. (Not the PROT_NONE total:
// AddressSanitizer's allocator turns reserved PROT_NONE into memory.)
function parkedBytes(before, after) {
  let n = 0n;
  for (const [lo, hi, p] of before) {
    if (!p.startsWith('rw')) continue;
    for (const [lo2, hi2, p2] of after) {
      if (p2 !== '---p' || hi2 <= lo || lo2 >= hi) continue;
      n += (hi2 < hi ? hi2 : hi) - (lo2 > lo ? lo2 : lo);
    }
  }
  return Number(n);
}

// A DNS server that never answers (glibc's default resolver options: 5 s a
// try, 2 tries, for A then AAAA: about 20 s a lookup). The lookup used to
// hold a pool thread all that time: the worker parked nothing (park.c
// sweeps only while no pool job runs) and its graceful exit joined that
// thread. Now (realtime/lookup.c) the lookup runs on a thread nobody waits
// for and is abandoned after 5 s: the worker serves, parks an idle
// WebSocket, exits at once on SIGTERM, retries with backoff and connects
// once DNS answers.
test('a DNS server that never answers for the Redis host: the worker serves, parks, stops at once, and connects once DNS answers', async (t) => {
  const why = netnsSupport();
  if (why) return t.skip(why);
  const NAME = 'hung.kiln.test', RPORT = 6391, KPORT = 18090;
  const { ns, dns, cli } = await namespace('', 'never', NAME, RPORT);
  const env = { KILN_REDIS_URL: `redis://${NAME}:${RPORT}` };

  // 1. Serving and parking while the lookup hangs.
  const kiln = inNs(ns, [KILN, 'start', wsapp.dir, '--port', String(KPORT), '--workers', '1'], env);
  const [worker] = await workersOf(kiln.pid, 1);
  const hold = inNs(ns, ['node', path.join(HERE, 'ws_hold.mjs'), String(KPORT), '4000']);
  await until(() => hold.out.includes('open'), 15_000, `the WebSocket (${hold.out} ${hold.err})`);
  const base = maps(worker);     // the handler has waited < 1 s: not parked yet
  await until(() => dns.out.includes(`query ${NAME} 1 `), 5000, `the lookup of ${NAME} (dns: ${dns.out})`);
  const probe = inNs(ns, ['node', path.join(HERE, 'loop_probe.mjs'), String(KPORT), '3000']);
  await probe.ended;
  const parked = parkedBytes(base, maps(worker));
  await hold.ended;
  const samples = JSON.parse(probe.out.trim() || '[]');
  const worst = Math.max(...samples.map(([, took]) => took));
  console.log(`# hung lookup: ${samples.length} requests in 3 s (slowest ${worst} ms); ${parked} bytes of the worker went from read-write to PROT_NONE`);
  assert.ok(samples.length >= 10 && worst < 1000, `the worker did not serve while DNS hung: ${probe.out}`);
  assert.ok(parked >= 128 * 1024, `the idle WebSocket was not parked while DNS hung (${parked} bytes read-write to PROT_NONE)`);
  assert.match(hold.out, /"echoed":true/, `the parked WebSocket did not answer afterwards: ${hold.out} ${hold.err}`);
  assert.doesNotMatch(dns.out, new RegExp(`answer ${NAME.replace(/\./g, '\\.')} `), 'the DNS server answered');

  // 2. SIGTERM with a lookup hanging: the worker does not wait for it.
  const t0 = Date.now();
  process.kill(-kiln.pid, 'SIGTERM');
  await kiln.ended;
  const took = Date.now() - t0;
  console.log(`# SIGTERM to exit with a lookup hanging: ${took} ms`);
  assert.ok(took < 5000, `the worker took ${took} ms to stop: it waited for the hung lookup`);
  assert.doesNotMatch(kiln.err, /Sanitizer|runtime error|panic/, kiln.err);

  // 3. The lookup is given up after 5 s (logged as an outage), retried with
  //    backoff, and once DNS answers the worker is on Redis.
  const again = inNs(ns, [KILN, 'start', wsapp.dir, '--port', String(KPORT + 1), '--workers', '1'], env);
  const attach = inNs(ns, ['node', path.join(HERE, 'ws_hold.mjs'), String(KPORT + 1), '0']);
  await attach.ended;
  await until(() => new RegExp(`cannot resolve ${NAME.replace(/\./g, '\\.')}: no answer`).test(again.err), 12_000,
    `the abandoned lookup logged (kiln: ${again.err})`);
  const switched = Date.now();
  process.kill(-dns.pid, 'SIGUSR1');
  await until(() => dns.out.includes('answering'), 5000, 'the DNS server to answer');
  await until(() => Number(cli('pubsub', 'numsub', 'kiln:events').stdout.split('\n')[1]) >= 1, 12_000,
    `the worker's subscriber on Redis once DNS answered (kiln: ${again.err})`);
  console.log(`# on Redis ${Date.now() - switched} ms after DNS began to answer`);
  process.kill(-again.pid, 'SIGTERM');
  await again.ended;
  assert.doesNotMatch(again.err, /Sanitizer|runtime error|panic/, again.err);
});
