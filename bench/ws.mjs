// ws.mjs -- the driver of bench/ws.sh (read that file first). Starts each
// server pinned to CPU 0, measures, stops it. Prints; never fails on slow.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openRaw, frame } = await import(path.join(REPO, 'tests/integration/ws/lib.mjs'));
const SECS = Number(process.env.BENCH_SECS || 5);
const IDLE = Number(process.env.BENCH_IDLE || 10000);
const tmp = process.env.BENCH_TMP;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
process.on('exit', () => { for (const p of procs) try { process.kill(-p.pid, 'SIGKILL'); } catch {} });

function freePort() {
  return new Promise((ok) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
}
async function up(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing on port ${port}`);
}
function start(cmd, args, env = {}) {
  const p = spawn('taskset', ['-c', '0', cmd, ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  p.stderr.resume();
  procs.push(p);
  return p;
}
const stop = (p) => { try { process.kill(-p.pid, 'SIGKILL'); } catch {} };
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
function child(pid) {
  const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return kids.length ? Number(kids[0]) : pid;
}
async function many(n, fn) {
  const out = [];
  for (let i = 0; i < n; i += 200) out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, fn))));
  return out;
}

async function echoRate(port, p) {
  const conns = await many(64, () => openRaw(port, p));
  const msg = frame(1, Buffer.from('x'.repeat(32)), { key: Buffer.from([1, 2, 3, 4]) });
  let count = 0;
  const end = Date.now() + SECS * 1000;
  await Promise.all(conns.map(async (c) => {
    while (Date.now() < end) {
      const before = c.frames.length;
      c.send(msg);
      await c.waitFor((_, i) => false || c.frames.length > before, 5000).catch(() => {});
      c.frames.length = 0;
      count++;
    }
  }));
  for (const c of conns) c.close();
  return count / SECS;
}

// Fan-out, measured by bench/fanout.c (one C process on an epoll loop, built
// by ws.sh): IDLE subscribers, three rounds of one trigger, time until the
// last has it (its summary line). The Node client of the first version parsed
// every frame itself and was the bottleneck (746 ms); the C client is not.
// bench/fanout.sh is the full comparison (with the floor).
function fanout(name, port, pid, subPath, ready, method, tpath, body = '') {
  try {
    const out = execFileSync(path.join(tmp, 'fanout'), [String(IDLE), '3', name, String(port), String(pid), subPath, ready, method, tpath, body],
      { encoding: 'utf8', timeout: 120_000 }).trim();
    return out.split('\n').pop();
  } catch (e) {
    return `failed (${(e.stdout || '').trim()} ${(e.stderr || e.message).trim()})`;
  }
}

async function latency(port, n = 2000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((ok, fail) => http.get({ host: '127.0.0.1', port, path: '/api/hello', agent }, (r) => { r.resume(); r.on('end', ok); }).on('error', fail));
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(n * 0.5)], p99: lat[Math.floor(n * 0.99)] };
}

function idleHttp(port) {
  return new Promise((ok, fail) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => ok(s));
    s.on('error', fail);
  });
}

const out = [];
const say = (s) => { console.log(s); out.push(s); };

// ---- Kiln ----
{
  const port = await freePort();
  const k = start(path.join(REPO, 'build/kiln'), ['start', process.env.BENCH_APP, '--port', String(port), '--workers', '1'], { KILN_LOG_LEVEL: 'warn' });
  await up(port);
  const w = child(k.pid);
  say(`kiln echo /api/cb (callbacks):     ${(await echoRate(port, '/api/cb')).toFixed(0)} round trips/s (64 connections)`);
  say(`kiln echo /api/echo (straight):    ${(await echoRate(port, '/api/echo')).toFixed(0)} round trips/s`);
  const quiet = await latency(port);
  const base = rss(w);
  const httpConns = await many(IDLE, () => idleHttp(port));
  await sleep(500);
  const afterHttp = rss(w);
  for (const s of httpConns) s.destroy();
  await sleep(500);
  const base2 = rss(w);
  const wsConns = await many(IDLE, () => openRaw(port, '/api/cb'));
  await sleep(500);
  const afterWs = rss(w);
  const loaded = await latency(port);
  for (const c of wsConns) c.close();
  // Straight-line handlers (/api/echo) waiting in kiln_ws_recv: stacks parked after 1 s.
  await sleep(500);
  const base3 = rss(w);
  const lineConns = await many(IDLE, () => openRaw(port, '/api/echo'));
  await sleep(2000);
  const afterLine = rss(w);
  for (const c of lineConns) c.close();
  say(`kiln ${IDLE} idle straight-line WebSockets (stacks parked): +${((afterLine - base3) / 1048576).toFixed(1)} MiB, ${((afterLine - base3) / IDLE).toFixed(0)} B each`);
  say(`kiln ${IDLE} idle HTTP keep-alive: +${((afterHttp - base) / 1048576).toFixed(1)} MiB, ${((afterHttp - base) / IDLE).toFixed(0)} B each`);
  say(`kiln ${IDLE} idle WebSockets:      +${((afterWs - base2) / 1048576).toFixed(1)} MiB, ${((afterWs - base2) / IDLE).toFixed(0)} B each (worker RSS ${(afterWs / 1048576).toFixed(1)} MiB)`);
  say(`kiln /api/hello p50/p99: ${quiet.p50.toFixed(3)}/${quiet.p99.toFixed(3)} ms alone, ${loaded.p50.toFixed(3)}/${loaded.p99.toFixed(3)} ms with ${IDLE} idle WebSockets open`);
  await sleep(1000);
  say(`fan-out (C client): ${fanout('kiln', port, w, '/api/sub?channel=fan', 'subscribed', 'POST', '/api/publish',
    JSON.stringify({ channel: 'fan', event: 'fan.event', data: { n: 1 } }))}`);
  stop(k);
}

// ---- ws (npm) ----
{
  const port = await freePort();
  const src = `
    import { WebSocketServer } from '${path.join(REPO, 'tests/integration/ws/node_modules/ws/wrapper.mjs')}';
    import http from 'node:http';
    const srv = http.createServer((req, res) => { for (const c of wss.clients) c.send(JSON.stringify({ event: 'fan.event', data: { n: 1 } })); res.end(); });
    const wss = new WebSocketServer({ server: srv, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    srv.listen(${port}, '127.0.0.1');`;
  fs.writeFileSync(path.join(tmp, 'wsref.mjs'), src);
  const r = start('node', [path.join(tmp, 'wsref.mjs')]);
  await up(port);
  say(`ws (npm) echo:                     ${(await echoRate(port, '/')).toFixed(0)} round trips/s`);
  const base = rss(r.pid);
  const conns = await many(IDLE, () => openRaw(port, '/'));
  await sleep(500);
  say(`ws (npm) ${IDLE} idle WebSockets:  +${((rss(r.pid) - base) / 1048576).toFixed(1)} MiB, ${((rss(r.pid) - base) / IDLE).toFixed(0)} B each`);
  for (const c of conns) c.close();
  await sleep(500);
  say(`fan-out (C client): ${fanout('ws', port, r.pid, '/', '-', 'GET', '/')}`);
  stop(r);
}

// ---- nginx: idle keep-alive ----
try {
  const port = await freePort();
  fs.mkdirSync(path.join(tmp, 'nginx/body'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'nginx/nginx.conf'), `daemon off; worker_processes 1; pid ${tmp}/nginx/pid; error_log ${tmp}/nginx/error.log;
worker_rlimit_nofile 30000; events { worker_connections 20000; }
http { access_log off; keepalive_timeout 60s; keepalive_requests 100000; client_body_temp_path ${tmp}/nginx/body;
  server { listen 127.0.0.1:${port}; location = /api/hello { default_type application/json; return 200 '{"message":"Hello, World!"}'; } } }`);
  const n = start('nginx', ['-p', path.join(tmp, 'nginx'), '-e', path.join(tmp, 'nginx/error.log'), '-c', path.join(tmp, 'nginx/nginx.conf')]);
  await up(port);
  await sleep(300);
  const w = child(n.pid);
  const base = rss(w);
  const conns = await many(IDLE, () => idleHttp(port));
  await sleep(500);
  say(`nginx ${IDLE} idle HTTP keep-alive: +${((rss(w) - base) / 1048576).toFixed(1)} MiB, ${((rss(w) - base) / IDLE).toFixed(0)} B each`);
  for (const s of conns) s.destroy();
  stop(n);
} catch (e) {
  say(`nginx: skipped (${e.message})`);
}
say('Kore 4.1: skipped (not packaged in Debian 12; not built)');
process.exit(0);
