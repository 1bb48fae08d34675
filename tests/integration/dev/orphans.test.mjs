// orphans.test.mjs -- `kiln dev`'s processes end with their parent, however
// it ends: the dev server's worker when the server (the master) is killed
// with SIGKILL (kiln dev then starts a fresh server, alone on the port), and
// the whole server when `kiln dev` itself is killed with SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { KILN, freePort, waitForPort } from '../lib/server.mjs';
import { sanitizerBuild } from '../lib/extra.mjs';
import { childrenOf, alive, portFree, within } from '../lib/procs.mjs';

// "Within a second or two"; a sanitizer build's exit (the leak check) on a
// busy machine gets more.
const GRACE_MS = sanitizerBuild() ? 5000 : 2000;

const kiln = path.resolve(KILN);

async function hello(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/hello`);
    return r.status;
  } catch {
    return 0;
  }
}

test('kiln dev: a killed server takes its worker along; a killed kiln dev takes its server along',
  { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dev-orphans-'));
    const app = path.join(dir, 'myapp');
    execFileSync(kiln, ['new', app], { stdio: 'pipe' });
    const port = await freePort();
    const dev = spawn(kiln, ['dev', '--port', String(port)], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dev.stdout.on('data', (d) => { out += d; });
    dev.stderr.on('data', (d) => { out += d; });
    const all = new Set();
    try {
      await waitForPort(port, { timeoutMs: 30_000 });
      assert.equal(await hello(port), 200, out);
      // kiln dev -> server (master) -> worker
      const [server] = childrenOf(dev.pid).filter((p) => childrenOf(p).length === 1);
      assert.ok(server, `kiln dev's server process: ${childrenOf(dev.pid)}`);
      const [worker] = childrenOf(server);
      all.add(server).add(worker);

      // The server dies hard: its worker goes with it; kiln dev starts a new
      // server, which then answers alone.
      process.kill(server, 'SIGKILL');
      assert.ok(await within(GRACE_MS, () => !alive(worker)), `worker ${worker} outlived its server`);
      assert.ok(await within(20_000, async () => (await hello(port)) === 200), `no new server answered:\n${out}`);
      const [server2] = childrenOf(dev.pid).filter((p) => childrenOf(p).length === 1);
      assert.ok(server2 && server2 !== server, 'kiln dev started a new server');
      const [worker2] = childrenOf(server2);
      all.add(server2).add(worker2);

      // kiln dev itself dies hard: server and worker go too, the port is free.
      dev.kill('SIGKILL');
      assert.ok(await within(GRACE_MS, () => !alive(server2) && !alive(worker2)),
        `still alive ${GRACE_MS} ms after kiln dev was killed: ${[server2, worker2].filter(alive)}`);
      assert.ok(await within(GRACE_MS, () => portFree(port)), `port ${port} is still taken`);
    } finally {
      dev.kill('SIGKILL');
      for (const p of all) if (alive(p)) process.kill(p, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
