// gql_ws_idle.mjs -- the driver of bench/gql_ws_idle.sh (read that file first).
// For each case: a fresh one-worker server of the given kiln binary (pinned
// to CPU 0) serving bench/gql_ws_app; N graphql-transport-ws sockets (the
// `ws` npm client of tests/integration/graphql/subs speaking the protocol by
// hand: connection_init, then one subscribe to postCreated), left 3.5 s so that every
// handler is parked; the worker's RSS growth per socket; then ROUNDS events
// (POST /api/publish), each after 3.5 s of quiet: the time from the POST to
// the last subscriber's `next`, and the worker's CPU time (utime+stime from
// /proc) over that span. Medians are printed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUBS = path.join(REPO, 'tests/integration/graphql/subs');
const WebSocket = createRequire(path.join(SUBS, 'package.json'))('ws');
const CASES = (process.env.BENCH_CASES || '').split(',').filter(Boolean);   // label=kiln binary
const SIZES = (process.env.BENCH_SIZES || '2000,5000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
process.on('exit', () => { for (const p of procs) try { process.kill(-p.pid, 'SIGKILL'); } catch {} });
const freePort = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
async function up(port) {
  for (let i = 0; i < 400; i++) {
    if (await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); })) return;
    await sleep(50);
  }
  throw new Error(`nothing on port ${port}`);
}
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;      // utime + stime, 100 Hz ticks
};
const child = (pid) => Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// One socket, subscribed; onNext counts its `next` messages.
function subscriber(port, onNext) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/graphql`, 'graphql-transport-ws');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { postCreated { id title } }' } }));
        ok(ws);
      } else if (m.type === 'next') onNext(m);
      else if (m.type === 'error') fail(new Error(JSON.stringify(m)));
    });
    ws.on('error', fail);
  });
}

async function publish(port, title) {
  const r = await fetch(`http://127.0.0.1:${port}/api/publish?channel=posts&event=post.created`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 1, title }) });
  if (r.status !== 204) throw new Error(`publish: ${r.status}`);
}

const apps = {};
for (const c of CASES) {
  const [label, bin] = c.split('=');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gqlws-'));
  fs.cpSync(path.join(REPO, 'bench/gql_ws_app'), dir, { recursive: true });
  execFileSync(bin, ['build', dir], { stdio: 'ignore' });
  apps[label] = { bin, dir };
}
process.on('exit', () => { for (const a of Object.values(apps)) fs.rmSync(a.dir, { recursive: true, force: true }); });

for (const n of SIZES) {
  for (const c of CASES) {
    const label = c.split('=')[0];
    const { bin, dir } = apps[label];
    const port = await freePort();
    const k = spawn('taskset', ['-c', '0', bin, 'start', dir, '--port', String(port), '--workers', '1'],
      { detached: true, stdio: 'ignore', env: { ...process.env, KILN_LOG_LEVEL: 'warn', PUSHER_APP_ID: '1', PUSHER_KEY: 'k', PUSHER_SECRET: 's' } });
    procs.push(k);
    await up(port);
    const w = child(k.pid);
    let got = 0;
    const warm = [];
    for (let i = 0; i < 200; i++) warm.push(await subscriber(port, () => {}));
    for (const s of warm) s.close();
    await sleep(1000);
    const base = rss(w);
    const socks = [];
    for (let i = 0; i < n; i += 250) socks.push(...await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => subscriber(port, () => got++))));
    await sleep(3500);                                   // every handler parked
    const per = (rss(w) - base) / n;
    const times = [], cpus = [];
    for (let r = 0; r < ROUNDS; r++) {
      got = 0;
      const c0 = cpuMs(w), t0 = performance.now();
      await publish(port, `t${r}`);
      while (got < n && performance.now() - t0 < 30_000) await sleep(1);
      const t1 = performance.now();
      if (got < n) throw new Error(`${label} n=${n}: ${got} of ${n} got the event`);
      cpus.push(cpuMs(w) - c0);
      times.push(t1 - t0);
      await sleep(3500);                                 // parked again
    }
    console.log(`${label.padEnd(7)} ${String(n).padStart(5)} idle graphql-ws subscribers: ${(per).toFixed(0)} B each (RSS +${((rss(w) - base) / 1048576).toFixed(1)} MiB); ` +
      `one event to all: ${median(times).toFixed(0)} ms to the last (rounds ${times.map((x) => x.toFixed(0)).join('/')}), worker CPU ${median(cpus).toFixed(0)} ms (${cpus.map((x) => x.toFixed(0)).join('/')})`);
    for (const s of socks) s.terminate();
    try { process.kill(-k.pid, 'SIGKILL'); } catch {}
    await sleep(500);
  }
}
