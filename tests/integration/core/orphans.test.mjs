// orphans.test.mjs -- workers end with their master, however it ends: a
// master of `kiln start` killed with SIGKILL (after a SIGHUP restart, so the
// workers are a second generation) takes its workers along within a second
// or two, and the port is free again (a new server would otherwise share it
// with workers running the old code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, startFixture, sanitizerBuild } from '../lib/extra.mjs';
import { childrenOf, alive, portFree, within } from '../lib/procs.mjs';

// "Within a second or two"; a sanitizer build's exit (the leak check) on a
// busy machine gets more.
const GRACE_MS = sanitizerBuild() ? 5000 : 2000;

test('kill -9 of the master after a SIGHUP restart: its workers end and the port is free', async () => {
  const srv = await startFixture({ workers: 2 });
  const master = srv.proc.pid;
  let workers = [];
  try {
    // (The port accepts as soon as the master listens, before its workers run.)
    assert.ok(await within(10_000, () => childrenOf(master).length === 2), `two workers at start: ${childrenOf(master)}`);
    const first = childrenOf(master);
    process.kill(master, 'SIGHUP');
    // The new generation is up and the old one has drained away.
    assert.ok(await within(10_000, () => {
      const now = childrenOf(master);
      return now.length === 2 && now.every((p) => !first.includes(p));
    }), `a new generation of two workers after SIGHUP: ${childrenOf(master)}`);
    workers = childrenOf(master);
    assert.equal((await request(srv.port, '/api/pid')).status, 200);

    process.kill(master, 'SIGKILL');
    const gone = await within(GRACE_MS, () => workers.every((p) => !alive(p)));
    assert.ok(gone, `workers still alive ${GRACE_MS} ms after their master was killed: ${workers.filter(alive)}`);
    assert.ok(await within(GRACE_MS, () => portFree(srv.port)), `port ${srv.port} is still taken`);
  } finally {
    for (const p of workers) if (alive(p)) process.kill(p, 'SIGKILL');
    await srv.stop({ allowSanitizer: true }).catch(() => {});
  }
});
