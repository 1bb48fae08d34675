// redis.mjs -- a throwaway redis-server for the real-time tests: on
// 127.0.0.1, on a free port, no persistence, stopped at exit whatever
// happens. stop() and start() again on the same port simulate a restart.
// startRedis(port, { host, wrap }): on another address, run under a command
// prefix (ip netns exec NS) -- a Redis machine in a network namespace;
// args: more redis-server options (--requirepass PW).

import { spawn, spawnSync } from 'node:child_process';
import { freePort, waitForPort } from '../lib/server.mjs';

const live = new Set();
process.on('exit', () => { for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ } });

export function haveRedis() {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function startRedis(port, { host = '127.0.0.1', wrap = [], args = [] } = {}) {
  port ??= await freePort();
  const r = { port, host, url: `redis://${host}:${port}`, proc: null };
  r.start = async () => {
    const argv = ['redis-server', '--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no',
      '--protected-mode', host === '127.0.0.1' ? 'yes' : 'no', '--loglevel', 'warning', ...args];
    const full = [...wrap, ...argv];
    const p = spawn(full[0], full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(p);
    p.on('exit', () => live.delete(p));
    r.proc = p;
    await waitForPort(port, { host, timeoutMs: 10_000, isDead: () => p.exitCode !== null });
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
