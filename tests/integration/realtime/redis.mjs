// redis.mjs -- a throwaway redis-server for the real-time tests: on
// 127.0.0.1, on a free port, no persistence, stopped at exit whatever
// happens. stop() and start() again on the same port simulate a restart.
// startRedis(port, { host, wrap }): on another address, run under a command
// prefix (ip netns exec NS) -- a Redis machine in a network namespace;
// args: more redis-server options (--requirepass PW).
// bridgedPair(dir, env, channel, cleanups, via): two servers of app dir on
// one KILN_REDIS_URL (in env) that carry an event from A to B.

import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { freePort, waitForPort, startServer } from '../lib/server.mjs';
import { http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { openStream } from './lib.mjs';

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

// Servers A and B of app `dir` (tests/fixtures/rtapp) with `env` (its
// KILN_REDIS_URL), and B's SSE stream on `channel`: publishes on A until
// one event comes through (until both workers' connections are up, events
// published on A wait in A's hold or reach no subscriber on B yet), then one
// more that must arrive. `via` names the URL in the failure message. Each
// piece's stop goes on `cleanups`. Returns { A, B, s }.
export async function bridgedPair(dir, env, channel, cleanups, via) {
  const A = await startServer(dir, { workers: 1, env });
  cleanups.push(() => A.stop());
  const B = await startServer(dir, { workers: 1, env });
  cleanups.push(() => B.stop());
  const s = await openStream(B.port, `/api/sse/sub?channel=${channel}`);
  cleanups.push(() => s.close());
  await s.waitFor((e) => e.type === 'ready');
  let got = false;
  for (let i = 0; i < 100 && !got; i++) {
    assert.equal((await http(A.port, '/api/publish', { method: 'POST', json: { channel, event: 'warm', data: i } })).status, 200);
    await sleep(50);
    got = s.events.some((e) => e.type === 'warm');
  }
  assert.ok(got, `no event from A reached B through ${via} (A: ${A.stderrText()})`);
  assert.equal((await http(A.port, '/api/publish', { method: 'POST', json: { channel, event: 'after', data: 42 } })).status, 200);
  assert.equal((await s.waitFor((x) => x.type === 'after', 5000)).data, '42');
  return { A, B, s };
}
