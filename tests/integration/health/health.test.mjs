// health.test.mjs -- /_kiln/health (liveness) and /_kiln/ready (readiness:
// workers up, migrations applied, database answering); on SIGTERM readiness
// fails first while the server still serves and in-flight requests finish.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const APP = 'tests/fixtures/reportapp';

before(() => buildApp(APP));

test('health and readiness while serving', async () => {
  const srv = await startServer(APP, { workers: 2 });
  try {
    const h = await srv.fetch('/_kiln/health');
    assert.equal(h.status, 200);
    assert.equal((await h.json()).status, 'ok');
    const r = await srv.fetch('/_kiln/ready');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      ready: true, stopping: false, workersUp: 2, workers: 2, migrations: true, database: 'ok',
    });
    // Unknown /_kiln/ paths are ordinary 404s.
    assert.equal((await srv.fetch('/_kiln/nothing')).status, 404);
  } finally {
    await srv.stop();
  }
});

test('after a crash: ready again once the replacement worker is up', async () => {
  const srv = await startServer(APP, { workers: 1 });
  try {
    await srv.fetch('/api/crash');
    await srv.waitForLog((l) => l.msg === 'worker restarted');
    let body;
    const deadline = Date.now() + 5000;
    do {
      body = await (await srv.fetch('/_kiln/ready')).json().catch(() => ({}));
      if (body.ready) break;
      await sleep(50);
    } while (Date.now() < deadline);
    assert.equal(body.workersUp, 1);
    assert.equal(body.ready, true);
  } finally {
    await srv.stop();
  }
});

test('SIGTERM: readiness fails first, liveness holds, in-flight requests finish', async () => {
  const srv = await startServer(APP, { workers: 1, env: { KILN_SHUTDOWN_DELAY_MS: '1500' } });
  const inflight = srv.fetch('/api/wait?ms=1200');
  await sleep(100);
  const t0 = Date.now();
  srv.proc.kill('SIGTERM');
  await srv.waitForLog((l) => l.msg === 'stopping: not ready, still serving');
  const r = await srv.fetch('/_kiln/ready', { headers: { Connection: 'close' } });
  assert.equal(r.status, 503);
  const body = await r.json();
  assert.equal(body.ready, false);
  assert.equal(body.stopping, true);
  assert.ok(Date.now() - t0 < 1500, 'asked during the delay');
  assert.equal((await srv.fetch('/_kiln/health', { headers: { Connection: 'close' } })).status, 200);
  const done = await inflight;
  assert.equal(done.status, 200);
  assert.deepEqual(await done.json(), { waited: '1200' });
  const exit = await srv.exited;
  assert.equal(exit.code, 0);
  await srv.stop();
});

test('the database unreachable: not ready (503), still alive', async (t) => {
  const { startPostgres, findPgBin } = await import('../lib/pg.mjs');
  const { copyApp, backendFor } = await import('../lib/db.mjs');
  if (!findPgBin()) return t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)');
  const app = copyApp(APP);
  buildApp(app.dir);
  const pg = await startPostgres();
  let srv;
  try {
    srv = await startServer(app.dir, { workers: 1, env: backendFor('postgres', app, pg, 'ready').env });
    const ok = await srv.fetch('/_kiln/ready');
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).database, 'ok');
    await pg.stop();
    const down = await srv.fetch('/_kiln/ready');
    assert.equal(down.status, 503);
    assert.equal((await srv.fetch('/_kiln/health')).status, 200);
  } finally {
    await srv?.stop();
    await pg.stop();
    app.remove();
  }
});
