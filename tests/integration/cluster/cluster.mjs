// cluster.mjs -- the pieces every many-machine test shares (issue 11): Kiln
// machines on fixed addresses (loopback ports or network namespaces), HAProxy
// running the deployment guide's own examples/deploy/haproxy.cfg, a steady
// bounded load of keep-alive clients, and the printed tables.
//
//   const m = { host, port, wrap };        // wrap: [] or net.wrap('kiln1')
//   const p = await startKiln(m, app.dir, env, running);   // ready (200 on /_kiln/ready)
//   const lb = await startHaproxy(lbAt, [m1, m2, m3], running);
//   const l = load(lbAt, (i) => ({method, path, body}), {clients, paceMs, onResult});
//   const s = await l.stop();              // {sent, answered, failed, failures, ok}
//   table('title', [['sent', 10], ...]);
//
// What it owns: the processes it starts (pushed on `running`, which the
// caller kills on every exit path; proc.mjs kills any left at exit) and the
// generated haproxy.cfg copies in a temporary folder removed at exit.
// What it must never do: change the guide's haproxy.cfg beyond one `server`
// line per machine (the file's own instructions), or talk to anything but
// loopback and the namespaces a test made.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KILN, REPO } from '../lib/server.mjs';
import { spawnGroup, timedGet } from './proc.mjs';

export const HAPROXY_CFG = path.join(REPO, 'examples/deploy/haproxy.cfg');
export const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/;

let cfgDir = null;
process.on('exit', () => cfgDir && fs.rmSync(cfgDir, { recursive: true, force: true }));

// The guide's haproxy.cfg with one `server kilnN "${KILN_N}" check` line per
// machine, as its comment says to do ("Add a `server` line per machine"). With
// two machines this is the file itself.
export function haproxyConfig(n) {
  const text = fs.readFileSync(HAPROXY_CFG, 'utf8');
  const lines = text.split('\n');
  const serverRe = /^(\s*)server kiln(\d+) "\$\{KILN_\2\}" check\s*$/;
  const first = lines.findIndex((l) => serverRe.test(l));
  if (first < 0) throw new Error(`no 'server kiln1 "\${KILN_1}" check' line in ${HAPROXY_CFG}`);
  const indent = serverRe.exec(lines[first])[1];
  const kept = lines.filter((l) => !serverRe.test(l));
  const servers = Array.from({ length: n }, (_, i) => `${indent}server kiln${i + 1} "\${KILN_${i + 1}}" check`);
  kept.splice(first, 0, ...servers);
  if (n === 2 && kept.join('\n') === text) return HAPROXY_CFG;
  cfgDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-lb-'));
  const file = path.join(cfgDir, `haproxy-${n}.cfg`);
  fs.writeFileSync(file, kept.join('\n'));
  return file;
}

// Runs cmd in machine m's namespace (or here when m.wrap is empty).
export const spawnIn = (m, cmd, args, opts) =>
  m.wrap.length ? spawnGroup(m.wrap[0], [...m.wrap.slice(1), cmd, ...args], opts) : spawnGroup(cmd, args, opts);

// One Kiln machine (one worker) on m's fixed address; resolves once ready.
export async function startKiln(m, appDir, env, running) {
  const p = spawnIn(m, KILN, ['start', appDir, '--host', m.host, '--port', String(m.port), '--workers', '1'], {
    env: {
      KILN_LOG_LEVEL: 'warn',
      KILN_SHUTDOWN_DELAY_MS: '1000', // > HAProxy's inter 250ms x fall 1, with room
      KILN_SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    },
  });
  running.push(p);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!p.alive) throw new Error(`kiln on ${m.host}:${m.port} exited:\n${p.text()}`);
    const r = await timedGet(m.port, '/_kiln/ready', { host: m.host, timeoutMs: 2000 });
    if (r.status === 200) return p;
    if (Date.now() > deadline) throw new Error(`kiln on ${m.host}:${m.port} never ready:\n${p.text()}`);
    await sleep(50);
  }
}

// HAProxy in lb's namespace in front of `machines`; resolves once it
// serves and has seen every server up.
export async function startHaproxy(lb, machines, running) {
  const env = { KILN_LB_BIND: `${lb.host}:${lb.port}` };
  machines.forEach((m, i) => (env[`KILN_${i + 1}`] = `${m.host}:${m.port}`));
  const p = spawnIn(lb, 'haproxy', ['-db', '-f', haproxyConfig(machines.length)], { env });
  running.push(p);
  const deadline = Date.now() + 10_000;
  while ((await timedGet(lb.port, '/api/hello', { host: lb.host, timeoutMs: 2000 })).status !== 200) {
    if (!p.alive || Date.now() > deadline) throw new Error(`haproxy did not serve:\n${p.text()}`);
    await sleep(50);
  }
  await sleep(700); // every server seen up (rise 2 x 250 ms)
  return p;
}

// A steady, bounded load on target {host, port}: `clients` keep-alive
// clients, one request at a time each (at most one per paceMs each), until
// stop(), `max` requests or `maxMs`. makeReq(i) -> {method, path, body}.
// onResult({i, req, status, text, t0, at, ms}) sees every result as it comes
// (t0, at: Date.now() at send and answer; ms: the duration, sub-millisecond).
export function load(target, makeReq, { clients = 4, max = 50_000, maxMs = 300_000, paceMs = 0, timeoutMs = 10_000, onResult } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const stats = { sent: 0, answered: 0, failed: 0, failures: [], ok: [] };
  const end = Date.now() + maxMs;
  let stopping = false;
  const one = (req) =>
    new Promise((resolve) => {
      const r = http.request(
        { host: target.host, port: target.port, path: req.path, method: req.method, agent, headers: req.body ? { 'content-type': 'application/json' } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, text }));
          res.on('error', (e) => resolve({ status: 0, text: String(e) }));
        },
      );
      r.setTimeout(timeoutMs, () => r.destroy(new Error('timeout')));
      r.on('error', (e) => resolve({ status: 0, text: String(e.code || e.message) }));
      if (req.body) r.write(JSON.stringify(req.body));
      r.end();
    });
  const client = async () => {
    while (!stopping && stats.sent < max && Date.now() < end) {
      const i = stats.sent++;
      const req = makeReq(i);
      const t0 = Date.now();
      const p0 = performance.now();
      const r = await one(req);
      const ms = performance.now() - p0;
      const at = Date.now();
      onResult?.({ i, req, status: r.status, text: r.text, t0, at, ms });
      if (r.status >= 200 && r.status < 300) {
        stats.answered++;
        stats.ok.push({ i, req, text: r.text, at });
      } else {
        stats.failed++;
        stats.failures.push({ i, status: r.status, text: r.text.slice(0, 120), t0, at });
      }
      if (paceMs && at - t0 < paceMs) await sleep(paceMs - (at - t0));
    }
  };
  const done = Promise.all(Array.from({ length: clients }, client));
  return {
    stats,
    done,
    async stop() {
      stopping = true;
      await done;
      agent.destroy();
      return stats;
    },
  };
}

export const table = (title, rows) =>
  console.log(`# ${title}\n` + rows.map(([k, v]) => `#   ${String(k).padEnd(22)} ${v}`).join('\n'));
