// redis.mjs -- a throwaway redis-server for the real-time tests: on
// 127.0.0.1, on a free port, no persistence, stopped at exit whatever
// happens. stop() and start() again on the same port simulate a restart.

import { spawn, spawnSync } from 'node:child_process';
import { freePort, waitForPort } from '../lib/server.mjs';

const live = new Set();
process.on('exit', () => { for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ } });

export function haveRedis() {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function startRedis(port) {
  port ??= await freePort();
  const r = { port, url: `redis://127.0.0.1:${port}`, proc: null };
  r.start = async () => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(p);
    p.on('exit', () => live.delete(p));
    r.proc = p;
    await waitForPort(port, { timeoutMs: 10_000, isDead: () => p.exitCode !== null });
  };
  r.stop = () => new Promise((resolve) => {
    const p = r.proc;
    if (!p || p.exitCode !== null || p.signalCode) { resolve(); return; }
    p.once('exit', () => resolve());
    p.kill('SIGKILL');            // an outage, not a goodbye
  });
  await r.start();
  return r;
}
