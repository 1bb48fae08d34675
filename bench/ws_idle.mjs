// ws_idle.mjs -- the driver of bench/ws_idle.sh (read that file first).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openRaw } = await import(path.join(REPO, 'tests/integration/ws/lib.mjs'));
const N = Number(process.env.BENCH_IDLE || 10000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
process.on('exit', () => { for (const p of procs) try { process.kill(-p.pid, 'SIGKILL'); } catch {} });
const freePort = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
async function up(port) {
  for (let i = 0; i < 200; i++) {
    if (await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); })) return;
    await sleep(50);
  }
  throw new Error(`nothing on port ${port}`);
}
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const child = (pid) => Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
async function many(n, fn) {
  const out = [];
  for (let i = 0; i < n; i += 200) out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, fn))));
  return out;
}
const gdb = (() => { try { execFileSync('gdb', ['--version']); return true; } catch { return false; } })();

// One fresh worker per case: memory freed by an earlier case would be reused
// and hide the cost.
for (const [label, route, extensions] of [
  ['straight-line /api/echo, no deflate', '/api/echo', undefined],
  ['straight-line /api/echo, permessage-deflate offered', '/api/echo', 'permessage-deflate; client_max_window_bits'],
  ['callbacks /api/cb, no deflate', '/api/cb', undefined],
]) {
  const port = await freePort();
  const k = spawn('taskset', ['-c', '0', path.join(REPO, 'build/kiln'), 'start', process.env.BENCH_APP, '--port', String(port), '--workers', '1'],
    { detached: true, stdio: 'ignore', env: { ...process.env, KILN_LOG_LEVEL: 'warn' } });
  procs.push(k);
  await up(port);
  const w = child(k.pid);
  for (const c of await many(300, () => openRaw(port, route, { extensions }))) c.close();
  await sleep(500);
  const base = rss(w);
  const conns = await many(N, () => openRaw(port, route, { extensions }));
  const agreed = conns[0].headers['sec-websocket-extensions'] || 'none';
  await sleep(3000);                        // parked after 1 s of waiting
  const per = (rss(w) - base) / N;
  console.log(`kiln ${N} idle WebSockets, ${label}: +${((rss(w) - base) / 1048576).toFixed(1)} MiB, ${per.toFixed(0)} B each (extensions: ${agreed})`);
  if (gdb && route === '/api/echo') {
    const out = execFileSync('gdb', ['-batch', '-p', String(w), '-x', path.join(REPO, 'bench/ws_idle.py')], { encoding: 'utf8' });
    for (const l of out.split('\n')) if (l.startsWith('BREAKDOWN')) console.log('  ' + l.slice(10));
  }
  for (const c of conns) c.close();
  try { process.kill(-k.pid, 'SIGKILL'); } catch {}
}

// nginx: idle keep-alive after one request, the reference.
try {
  const tmp = fs.mkdtempSync('/tmp/ws-idle-nginx-');
  const port = await freePort();
  fs.writeFileSync(path.join(tmp, 'nginx.conf'), `daemon off; worker_processes 1; pid ${tmp}/pid; error_log ${tmp}/error.log;
worker_rlimit_nofile 30000; events { worker_connections 20000; }
http { access_log off; keepalive_timeout 60s; keepalive_requests 100000; client_body_temp_path ${tmp};
  server { listen 127.0.0.1:${port}; location = /api/hello { default_type application/json; return 200 '{"message":"Hello, World!"}'; } } }`);
  const n = spawn('taskset', ['-c', '0', 'nginx', '-p', tmp, '-e', path.join(tmp, 'error.log'), '-c', path.join(tmp, 'nginx.conf')], { detached: true, stdio: 'ignore' });
  procs.push(n);
  await up(port);
  await sleep(300);
  const w = child(n.pid);
  const base = rss(w);
  const conns = await many(N, () => new Promise((ok, fail) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => ok(s));
    s.on('error', fail);
  }));
  await sleep(500);
  console.log(`nginx ${N} idle HTTP keep-alive: +${((rss(w) - base) / 1048576).toFixed(1)} MiB, ${((rss(w) - base) / N).toFixed(0)} B each`);
  for (const s of conns) s.destroy();
  try { process.kill(-n.pid, 'SIGKILL'); } catch {}
  fs.rmSync(tmp, { recursive: true, force: true });
} catch (e) {
  console.log(`nginx: skipped (${e.message})`);
}
process.exit(0);
