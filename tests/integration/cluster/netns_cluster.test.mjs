// netns_cluster.test.mjs -- issue 11's proof: a cluster on one box, in
// network namespaces (netns.mjs), each with its own address on one bridge:
// three Kiln machines, one PostgreSQL, one Redis, HAProxy in front running
// the deployment guide's examples/deploy/haproxy.cfg (one `server` line per
// machine, addresses from the environment: cluster.mjs), and a client
// namespace with a steady, paced load of writes and reads through HAProxy.
// Under that load, phase after phase:
//  - sessions: sign up and log in through one machine, use the token on the
//    others; a post created through kiln1 reaches live subscribers on kiln2
//    and kiln3, both a WebSocket on /api/posts/live and pusher-js on the
//    channel `posts` (through Redis);
//  - a rolling restart of all three machines fails nothing;
//  - SIGKILL of one machine: only requests in flight on it fail, no write
//    answered 2xx is missing from PostgreSQL;
//  - a network cut of one machine (its veth's bridge end down): HAProxy takes
//    it out, only requests in flight on it fail, nothing answered is lost,
//    and it takes load again once the link is back;
//  - Redis restarted (SIGKILL, start again): nothing fails, and real-time
//    delivery across machines resumes for the subscribers already connected;
//  - every machine's /api/hello p99, measured by a probe (probe.c, built
//    here with cc) inside its own namespace the whole time; the issue's aim
//    (5 ms) printed as met or NOT met per phase, a stall bound asserted
//    (below); a 1 s warm-up before the phases is printed, not counted.
// Prints a table of what was sent, answered, failed and lost per phase.
// Needs root, `ip netns`, cc, haproxy, redis-server, PostgreSQL and the npm
// clients of tests/integration/realtime; says why and skips otherwise.
// Everything it made (namespaces, veths, processes, temporary folders) goes
// on every exit path: the finally below, and the exit/SIGINT/SIGTERM hooks
// of netns.mjs, proc.mjs, pg.mjs and redis.mjs.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../lib/server.mjs';
import { startPostgres, findPgBin } from '../lib/pg.mjs';
import { copyApp, percentile } from '../lib/db.mjs';
import { P99_LIMIT_MS, sanitizerBuild } from '../lib/extra.mjs';
import { haveRedis, startRedis } from '../realtime/redis.mjs';
import { installClients, HERE as RT } from '../realtime/lib.mjs';
import { haveCommand, timedGet } from './proc.mjs';
import { canMakeNetwork, makeNetwork } from './netns.mjs';
import { SANITIZER_RE, spawnIn, startKiln, startHaproxy, table } from './cluster.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.join(HERE, 'client.mjs');
const PROBE_C = path.join(HERE, 'probe.c');
const CLIENTS = 4;
const PACE_MS = 20; // per client: a steady ~200 requests/s through HAProxy, not a flood
// /api/hello p99 per machine, measured by probe.c (a C client: a node
// client's own floor read p99 4-11 ms on a busy box, the C probe's
// 0.2-4.8 ms against the same idle servers). The issue's aim is 5 ms in
// every phase, printed as met or NOT met per phase. What is asserted has
// headroom for CI (2 cores shared by the whole cluster -- 3 Kiln, HAProxy,
// PostgreSQL, Redis, the node load client and this process -- and by other
// jobs, gcc and ASan runs one after another): at load average 2-3 the
// phases read 0.7-4.7 ms (aim met), the first up to 11 ms (the hashes);
// at 6-9 from other work, 1-22 ms per phase (worst: the machine restarted
// after SIGKILL, the Redis restart) and 2-10 ms over the run, under ASan
// too. So the bounds catch a machine
// stalled by Kiln (a Redis reconnect or a PostgreSQL wait on the event
// loop: hundreds of ms), not the aim. (A signup's or login's Argon2 hash
// stalls its machine while it runs, single answers of 15-300 ms: the
// first phase misses the aim in some runs for that, even on a quiet box.)
const P99_AIM_MS = 5;
const P99_MS = sanitizerBuild() ? P99_LIMIT_MS : 25; // the whole run
const P99_PHASE_MS = sanitizerBuild() ? 2 * P99_LIMIT_MS : 50; // each phase
const PUSHER = { PUSHER_APP_ID: '11', PUSHER_KEY: 'cluster-key', PUSHER_SECRET: 'cluster-secret' };
const KILNS = ['kiln1', 'kiln2', 'kiln3'];
const run = `c${process.pid}`;
const running = [];
const open = []; // WebSockets and pusher-js clients
let app = null;

after(() => app?.remove());

function whyNot() {
  for (const c of ['haproxy', 'redis-server']) if (!haveCommand(c)) return `${c} is not installed (scripts/deps.sh test)`;
  if (!haveRedis()) return 'redis-server does not run';
  if (!findPgBin()) return 'PostgreSQL server binaries are missing (scripts/deps.sh test)';
  if (!haveCommand('cc')) return 'no C compiler (cc) for the latency probe, probe.c';
  return canMakeNetwork() || installClients() || '';
}

const post = async (m, body, headers = {}) => {
  const r = await fetch(`http://${m.host}:${m.port}${body.path}`, {
    method: body.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body.json ? JSON.stringify(body.json) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
};

// Live subscribers to new posts on machine m: a WebSocket on
// /api/posts/live and pusher-js on the channel `posts`. Each has .titles, the
// titles of the posts it was told about.
async function subscribe(m, WebSocket, PusherJS) {
  const ws = new WebSocket(`ws://${m.host}:${m.port}/api/posts/live`);
  ws.titles = [];
  ws.label = `WebSocket on ${m.name}`;
  ws.on('message', (d) => {
    const e = JSON.parse(d.toString());
    if (e.event === 'post.created') ws.titles.push(e.data.title);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  open.push({ close: () => ws.terminate() });
  const p = new PusherJS(PUSHER.PUSHER_KEY, {
    cluster: 'kiln', wsHost: m.host, wsPort: m.port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
  });
  open.push({ close: () => p.disconnect() });
  const ch = p.subscribe('posts');
  const ps = { titles: [], label: `pusher-js on ${m.name}` };
  ch.bind('post.created', (d) => ps.titles.push(d.title));
  await new Promise((resolve, reject) => {
    ch.bind('pusher:subscription_succeeded', resolve);
    setTimeout(() => reject(new Error(`pusher-js on ${m.name}: no subscription`)), 10_000);
  });
  await sleep(200); // the subscriptions reach Redis
  return [ws, ps];
}

// Creates posts through `via` (one every 300 ms) until every subscriber has
// been told about one of them; returns how long that took.
async function deliveredEverywhere(via, subs, label, ms = 10_000) {
  const t0 = Date.now();
  const mine = [];
  for (let k = 0; ; k++) {
    const title = `${run}-rt-${label}-${k}`;
    const r = await post(via, { path: '/api/posts', json: { title, content: 'live' } }).catch((e) => ({ status: String(e) }));
    if (r.status === 201) mine.push(title);
    for (let w = 0; w < 6; w++) {
      if (subs.every((s) => s.titles.some((t) => mine.includes(t)))) return Date.now() - t0;
      await sleep(50);
    }
    if (Date.now() - t0 > ms) {
      const missing = subs.filter((s) => !s.titles.some((t) => mine.includes(t))).map((s) => s.label);
      throw new Error(`${label}: posts through ${via.name} never reached ${missing.join(', ')}`);
    }
  }
}

// One result line per request from client.mjs.
const results = (p) =>
  p
    .text()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

test('a cluster in network namespaces: 3 Kiln, PostgreSQL, Redis, HAProxy; sessions, real-time, rolling restart, SIGKILL, network cut, Redis restart, p99', { timeout: 240_000 }, async (t) => {
  const why = whyNot();
  if (why) return t.skip(why);
  const req = createRequire(path.join(RT, 'package.json'));
  const WebSocket = req('ws');
  const PusherJS = req('pusher-js');
  app = copyApp('examples/blog');
  buildApp(app.dir);
  const probeBin = path.join(app.dir, 'probe');
  const cc = spawnSync('cc', ['-O2', '-std=c17', '-Wall', '-Wextra', '-Werror', '-o', probeBin, PROBE_C], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `cc probe.c: ${cc.stderr}`);

  const net = makeNetwork([...KILNS, 'pg', 'redis', 'lb', 'client']);
  const at = (n, port) => ({ name: n, host: net.addr(n), port, wrap: net.wrap(n) });
  const M = KILNS.map((n) => at(n, 3000));
  const lbAt = at('lb', 8080);
  let pg = null;
  let redis = null;
  try {
    pg = await startPostgres({ host: net.addr('pg'), wrap: net.wrap('pg') });
    redis = await startRedis(6379, { host: net.addr('redis'), wrap: net.wrap('redis') });
    const env = { DATABASE_URL: pg.url, KILN_REDIS_URL: redis.url, KILN_METRICS: '1', ...PUSHER };
    const machines = await Promise.all(M.map((m) => startKiln(m, app.dir, env, running)));
    assert.equal((await post(M[0], { path: '/api/posts', json: { title: `${run}-first`, content: 'read by the load' } })).status, 201);
    const first = pg.psql(`SELECT id FROM posts WHERE title = '${run}-first'`);
    assert.equal(first, '1', 'the load reads post 1');
    const lb = await startHaproxy(lbAt, M, running);

    // The per-machine probes and the load, all the way through.
    const probes = M.map((m) => spawnIn(m, probeBin, [m.host, String(m.port), '/api/hello', '10', '200000'], {}));
    const loadgen = spawnIn(at('client'), process.execPath, [CLIENT, lbAt.host, String(lbAt.port), String(CLIENTS), String(PACE_MS), '200000', run], {});
    running.push(...probes, loadgen);
    const phases = [];
    let phase = null;
    const begin = (name) => {
      if (phase) phase.end = Date.now();
      phase = { name, start: Date.now(), end: Infinity, events: {} };
      phases.push(phase);
      return phase;
    };

    // 0. The load client starting (node compiling its first requests) and
    // every first connection: printed, not counted.
    begin('warm-up (not counted)').counted = false;
    await sleep(1000);

    // 1. Steady load; sessions and real-time across machines.
    begin('steady: sessions, real-time');
    await sleep(1500);
    const email = `${run}@example.com`;
    phase.marks = { signup: Date.now() };
    const signup = await post(M[0], { path: '/api/auth/signup', json: { email, password: 'correct horse battery' } });
    phase.marks.login = Date.now();
    assert.equal(signup.status, 201, JSON.stringify(signup));
    const login = await post(M[1], { path: '/api/auth/login', json: { email, password: 'correct horse battery' } });
    assert.equal(login.status, 200, JSON.stringify(login));
    const sessionEverywhere = async () => {
      for (const m of M) {
        const s = await post(m, { method: 'GET', path: '/api/auth/session' }, { authorization: `Bearer ${login.json.token}` });
        assert.equal(s.status, 200, `session on ${m.name}: ${JSON.stringify(s)}`);
        assert.equal(s.json.user.email, email);
      }
    };
    await sessionEverywhere();
    phase.marks.sessions = Date.now();
    let subs = [...(await subscribe(M[1], WebSocket, PusherJS)), ...(await subscribe(M[2], WebSocket, PusherJS))];
    phase.marks.subscribed = Date.now();
    phase.events.delivery = `${await deliveredEverywhere(M[0], subs, 'steady')} ms`;
    for (const o of open.splice(0)) o.close();

    // 2. Rolling restart of the three machines.
    const rolling = begin('rolling restart');
    rolling.log = [];
    for (let i = 0; i < M.length; i++) {
      rolling.log.push(`${M[i].name} SIGTERM at ${Date.now()}`);
      process.kill(machines[i].pid, 'SIGTERM');
      const { code } = await machines[i].exited;
      rolling.log.push(`${M[i].name} exited at ${Date.now()}`);
      assert.equal(code, 0, `${M[i].name} exit ${code}:\n${machines[i].text()}`);
      assert.doesNotMatch(machines[i].text(), SANITIZER_RE);
      machines[i] = await startKiln(M[i], app.dir, env, running);
      rolling.log.push(`${M[i].name} ready at ${Date.now()}`);
      await sleep(1000); // HAProxy sees it up (rise 2 x 250 ms)
    }
    await sessionEverywhere(); // the session outlived every machine
    await sleep(500);

    // 3. SIGKILL of kiln1, then it comes back.
    const killed = begin('SIGKILL kiln1');
    killed.at = Date.now();
    await machines[0].kill('SIGKILL');
    await sleep(1500);
    machines[0] = await startKiln(M[0], app.dir, env, running);
    await sleep(1000);

    // 4. A network cut of kiln2, then the link back.
    const cut = begin('network cut kiln2');
    const posts = async (m) => {
      const r = await timedGet(m.port, '/_kiln/metrics', { host: m.host, timeoutMs: 2000 });
      return r.text
        .split('\n')
        .filter((l) => l.startsWith('kiln_http_requests_total{') && l.includes('method="POST"'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    };
    cut.at = Date.now();
    net.cut('kiln2', true);
    await sleep(4000); // HAProxy's check fails within ~0.5 s; requests in flight there time out (3 s)
    const beforeRestore = await posts(M[2]); // still reachable: only kiln2 is cut
    net.cut('kiln2', false);
    const restored = Date.now();
    cut.events.restored = `after ${restored - cut.at} ms`;
    await sleep(1500); // rise 2 x 250 ms, with room
    const k2a = await posts(M[1]);
    await sleep(1000);
    const k2b = await posts(M[1]);
    cut.events['kiln2 POSTs in 1 s after'] = k2b - k2a;
    assert.ok(k2b - k2a > 0, `kiln2 took no writes after its link came back (kiln3 had ${beforeRestore})`);

    // 5. Redis restarted under the load, subscribers connected throughout.
    const rr = begin('Redis restart');
    subs = [...(await subscribe(M[1], WebSocket, PusherJS)), ...(await subscribe(M[2], WebSocket, PusherJS))];
    rr.marks = { stop: Date.now() };
    await redis.stop();
    await sleep(500);
    rr.marks.start = Date.now();
    await redis.start();
    rr.marks.up = Date.now();
    for (const s of subs) s.titles.length = 0;
    rr.events['delivery resumed'] = `${await deliveredEverywhere(M[0], subs, 'redis', 20_000)} ms after restart`;
    for (const o of open.splice(0)) o.close();
    await sleep(500);
    phase.end = Date.now();

    // For the capacity model (docs/deploy.md): PostgreSQL connections held
    // per machine under this load, one worker each (KILN_DB_POOL default).
    const pgConns = pg.psql(
      `SELECT host(client_addr) || ' ' || count(*) FROM pg_stat_activity WHERE datname = 'kiln' AND client_addr IS NOT NULL ` +
        `AND client_addr <> '${net.hostAddr}' GROUP BY client_addr ORDER BY client_addr`,
    );

    // Stop the load, then account.
    await loadgen.kill('SIGTERM');
    for (const p of probes) await p.kill('SIGTERM');
    const all = results(loadgen);
    const answeredWrites = all.filter((r) => r.m === 'POST' && r.s >= 200 && r.s < 300).map((r) => r.title);
    const inDb = new Set(pg.psql(`SELECT title FROM posts WHERE title LIKE '${run}-%'`).split('\n'));
    const lostAll = answeredWrites.filter((x) => !inDb.has(x));
    const probeResults = probes.map(results);
    const rows = [];
    for (const ph of phases) {
      // A request belongs to the phase it ended in: one in flight on a
      // machine killed at a phase's start fails in that phase.
      const rs = all.filter((r) => r.at >= ph.start && r.at < ph.end);
      ph.failures = rs.filter((r) => !(r.s >= 200 && r.s < 300));
      ph.lost = rs.filter((r) => r.m === 'POST' && r.s >= 200 && r.s < 300 && !inDb.has(r.title)).length;
      ph.p99 = probeResults.map((pr) => percentile(pr.filter((r) => r.s === 200 && r.t0 >= ph.start && r.t0 < ph.end).map((r) => r.ms), 99));
      ph.met = ph.p99.every((x) => x < P99_AIM_MS);
      rows.push([ph.name, rs.length, rs.length - ph.failures.length, ph.failures.length, ph.lost, ph.p99.map((x) => x.toFixed(2)).join(' / '),
        ph.counted === false ? '-' : ph.met ? 'met' : 'NOT met', Object.entries(ph.events).map(([k, v]) => `${k} ${v}`).join('; ')]);
    }
    const measured = phases.filter((ph) => ph.counted !== false);
    const from = measured[0].start;
    const all99 = probeResults.map((pr) => percentile(pr.filter((r) => r.s === 200 && r.t0 >= from).map((r) => r.ms), 99));
    const head = ['phase', 'sent', 'answered', 'failed', 'lost', 'hello p99 ms k1/k2/k3', `aim ${P99_AIM_MS} ms`, 'notes'];
    const w = [28, 6, 9, 7, 5, 22, 9];
    console.log(`# cluster in network namespaces: 3 Kiln, PostgreSQL, Redis, HAProxy; load ${CLIENTS} clients at most 1 per ${PACE_MS} ms each (POST /api/posts, GET /api/posts/1) from the client namespace; /api/hello probed every 10 ms in each machine's namespace (probe.c)`);
    for (const r of [head, ...rows, ['whole run (counted)', all.length, all.length - all.filter((r) => !(r.s >= 200 && r.s < 300)).length,
      all.filter((r) => !(r.s >= 200 && r.s < 300)).length, lostAll.length, all99.map((x) => x.toFixed(2)).join(' / '), all99.every((x) => x < P99_AIM_MS) ? 'met' : 'NOT met',
      `bound ${P99_PHASE_MS} ms per phase, ${P99_MS} ms whole; ${probeResults.map((p) => p.length).join('/')} probes`]]) {
      console.log('#   ' + r.map((c, i) => String(c).padEnd(w[i] ?? 0)).join(' '));
    }
    // Where the time went when the aim is not met: each machine's slowest
    // answers in that phase, at milliseconds from its start (and the
    // phase's own steps, for the first one).
    for (const ph of measured.filter((x) => !x.met)) {
      const marks = Object.entries(ph.marks ?? {}).map(([k, v]) => `${k} +${v - ph.start}`).join(', ');
      console.log(`# ${ph.name}: aim not met; slowest /api/hello (ms @ +ms)${marks ? ` [${marks}]` : ''}`);
      probeResults.forEach((pr, i) => {
        const slow = pr.filter((r) => r.s === 200 && r.t0 >= ph.start && r.t0 < ph.end).sort((a, b) => b.ms - a.ms).slice(0, 6);
        console.log(`#   ${KILNS[i]}: ${slow.map((r) => `${r.ms.toFixed(1)} @ +${r.t0 - ph.start}`).join(', ')}`);
      });
    }

    console.log(`# PostgreSQL connections per machine (address count), 1 worker each: ${pgConns.split('\n').join(', ')}`);

    // The checks.
    assert.deepEqual(lostAll, [], 'a write answered 2xx is missing from PostgreSQL');
    const [warm, steady, rollingP, kill, cutP, redisP] = phases;
    for (const ph of [warm, steady, rollingP, redisP]) assert.deepEqual(ph.failures, [], `${ph.name}: failed requests (${(ph.log ?? []).join('; ')})\nhaproxy:\n${lb.text().slice(-2000)}`);
    // In flight on the dead / cut machine: each client's request there and the
    // next one HAProxy sent down a kept-alive connection it had not yet seen
    // die; every one sent before HAProxy's check took it out.
    for (const [ph, within] of [[kill, 1000], [cutP, 1500]]) {
      assert.ok(ph.failures.length <= 2 * CLIENTS, `${ph.name}: ${ph.failures.length} failures: ${JSON.stringify(ph.failures.slice(0, 10))}`);
      for (const f of ph.failures) assert.ok(f.t0 >= ph.at - 3500 && f.t0 <= ph.at + within, `${ph.name} at ${ph.at}: a failure not in flight at the event: ${JSON.stringify(f)}`);
    }
    for (const ph of phases) assert.ok(all.filter((r) => r.at >= ph.start && r.at < ph.end && r.s >= 200 && r.s < 300).length > 20, `${ph.name}: the load went on`);
    all99.forEach((x, i) => assert.ok(x < P99_MS, `${KILNS[i]} /api/hello p99 ${x.toFixed(2)} ms >= ${P99_MS} ms`));
    for (const ph of measured) ph.p99.forEach((x, i) => assert.ok(x < P99_PHASE_MS, `${ph.name}: ${KILNS[i]} /api/hello p99 ${x.toFixed(2)} ms >= ${P99_PHASE_MS} ms`));
    for (const m of machines) await m.kill('SIGTERM');
    for (const m of machines) assert.doesNotMatch(m.text(), SANITIZER_RE);
    await lb.kill();
  } finally {
    for (const o of open.splice(0)) o.close();
    for (const p of running.splice(0)) await p.kill();
    await redis?.stop();
    await pg?.stop();
    net.remove();
  }
});
