// pg_outage.test.mjs -- PostgreSQL only: what a request sees when the
// database goes away, and that a slow query delays nobody else.
//  - PostgreSQL down when a request starts: 503 JSON at once; requests that
//    need no database still answer; back up: requests succeed again.
//  - a restart during a loop of requests: in-flight statements fail with
//    503 JSON (never hang, never 500, no worker crash), and once PostgreSQL
//    is back the next requests succeed without restarting Kiln;
//  - pooled idle connections left stale by a restart are not handed out;
//  - a crash (SIGKILL of the postmaster) is survived the same way;
//  - ONE worker, 50 concurrent pg_sleep(0.2) requests: 200 sequential
//    /api/hello requests meanwhile keep a p99 under 10 ms.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres } from '../lib/pg.mjs';
import { copyApp, backendFor, http, processTree, percentile } from '../lib/db.mjs';
import { P99_LIMIT_MS } from '../lib/extra.mjs';
import { workersOf } from '../lib/procs.mjs';

const JSON_CT = 'application/json; charset=utf-8';
const app = copyApp('tests/fixtures/dbapp');
let pg;

before(async () => {
  buildApp(app.dir);
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
  app.remove();
});

function assert503(r, what) {
  assert.equal(r.status, 503, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.headers['content-type'], JSON_CT, what);
  assert.equal(r.json?.error, 'Service Unavailable', `${what}: ${r.text}`);
  assert.match(r.json.requestId, /^[0-9a-f]{16}$/);
}

describe('PostgreSQL outages', () => {
  let srv;
  let workerPids;
  before(async () => {
    const be = backendFor('postgres', app, pg, 'outage');
    srv = await startServer(app.dir, { workers: 2, env: { ...be.env, KILN_DB_POOL: '4' } });
    workerPids = await workersOf(srv.proc.pid, 2);
  });
  after(async () => {
    await srv?.stop();
  });

  // No worker died: the same two worker processes, no "worker died" log.
  function noCrash() {
    assert.deepEqual(processTree(srv.proc.pid).slice(1).sort((a, b) => a - b), workerPids, 'the same workers are serving');
    assert.equal(srv.logs().filter((l) => /worker (died|crashed)/.test(l.msg)).length, 0, srv.stderrText().slice(-2000));
  }

  test('PostgreSQL down when a request starts: 503 JSON; no-database routes unaffected; back up: 200', async () => {
    assert.equal((await http(srv.port, '/api/tx?name=warm')).status, 200);
    await pg.down();
    try {
      for (const p of ['/api/tx?name=x', '/api/users', '/api/types']) {
        const r = await http(srv.port, p, { timeoutMs: 8000 });
        assert503(r, `GET ${p} with PostgreSQL down`);
        assert.ok(r.ms < 5000, `answered in ${r.ms} ms`);
      }
      const w = await http(srv.port, '/api/users', { method: 'POST', json: { email: 'down@x' }, timeoutMs: 8000 });
      assert503(w, 'POST with PostgreSQL down');
      const t = await http(srv.port, '/api/tx?op=commit&name=down', { method: 'POST', timeoutMs: 8000 });
      assert503(t, 'BEGIN with PostgreSQL down');
      const h = await http(srv.port, '/api/hello');
      assert.equal(h.status, 200);
      assert.deepEqual(h.json, { message: 'Hello, World!' });
      assert.ok(srv.logs().some((l) => l.msg === 'database unavailable' && l.level === 'error'), 'logged');
    } finally {
      await pg.up();
    }
    for (let i = 0; i < 10; i++) {
      const r = await http(srv.port, `/api/tx?name=up${i}`);
      assert.equal(r.status, 200, `request ${i} after PostgreSQL came back: ${r.text}`);
      assert.deepEqual(r.json, { name: `up${i}`, count: 0 });
    }
    const u = await http(srv.port, '/api/users', { method: 'POST', json: { email: 'back@x' } });
    assert.equal(u.status, 201, u.text);
    noCrash();
  });

  test('a statement in flight when PostgreSQL shuts down: 503 JSON, not a hang', async () => {
    const inflight = http(srv.port, '/api/sleep?ms=3000', { timeoutMs: 10_000 });
    await sleep(300);
    const t0 = Date.now();
    await pg.down();
    const r = await inflight;
    assert503(r, 'pg_sleep(3) cut by a fast shutdown');
    assert.ok(Date.now() - t0 < 2500, `answered ${Date.now() - t0} ms after the shutdown began`);
    await pg.up();
    const after1 = await http(srv.port, '/api/sleep?ms=10');
    assert.equal(after1.status, 200, after1.text);
    noCrash();
  });

  test('restart during a loop of requests: only 2xx or 503 JSON, then success without restarting Kiln', async () => {
    let stop = false;
    let seq = 0;
    const seen = [];
    const loop = async (k) => {
      while (!stop) {
        const i = seq++;
        const which = (i + k) % 4;
        const req =
          which === 0
            ? ['GET', `/api/tx?name=n${i}`]
            : which === 1
              ? ['POST', '/api/users', { email: `u${i}@load` }]
              : which === 2
                ? ['GET', '/api/sleep?ms=30']
                : ['POST', `/api/tx?op=commit&name=c${i}`];
        try {
          const r = await http(srv.port, req[1], { method: req[0], json: req[2], timeoutMs: 8000 });
          seen.push({ req: `${req[0]} ${req[1]}`, status: r.status, ct: r.headers['content-type'], json: r.json, text: r.text, at: Date.now() });
        } catch (e) {
          seen.push({ req: `${req[0]} ${req[1]}`, status: 0, text: String(e), at: Date.now() });
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, k) => loop(k));
    await sleep(300);
    const downAt = Date.now();
    await pg.restart({ downMs: 500 });
    const upAt = Date.now();
    await sleep(300);
    stop = true;
    await Promise.all(loops);

    const bad = seen.filter(
      (s) =>
        !(
          (s.status === 200 || s.status === 201) ||
          (s.status === 503 && s.ct === JSON_CT && s.json?.error === 'Service Unavailable')
        ),
    );
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} responses other than 2xx / 503 JSON`);
    const n503 = seen.filter((s) => s.status === 503).length;
    const before = seen.filter((s) => s.at < downAt);
    assert.ok(before.length > 20 && before.every((s) => s.status < 300), 'all good before the restart');
    assert.ok(n503 > 0, 'the outage was seen');
    console.log(`# restart under load: ${seen.length} responses, ${n503} x 503, down for ${upAt - downAt} ms`);

    // PostgreSQL is back: the next requests succeed (stale pooled
    // connections must not be handed out).
    for (let i = 0; i < 20; i++) {
      const r = await http(srv.port, i % 2 ? `/api/tx?name=after${i}` : '/api/sleep?ms=1');
      assert.equal(r.status, 200, `request ${i} after the restart: ${r.text}`);
    }
    const w = await http(srv.port, '/api/users', { method: 'POST', json: { email: 'after-restart@x' } });
    assert.equal(w.status, 201, w.text);
    noCrash();
  });

  test('idle pooled connections made stale by a restart are replaced, not used', async () => {
    // Open every pooled connection on both workers: 16 overlapping sleeps.
    const warm = await Promise.all(Array.from({ length: 16 }, () => http(srv.port, '/api/sleep?ms=100')));
    assert.ok(warm.every((r) => r.status === 200));
    await pg.restart();
    // No load while it restarted: every pooled connection is now stale.
    const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => http(srv.port, `/api/tx?name=stale${i}`)));
    assert.deepEqual(
      rs.map((r) => r.status),
      rs.map(() => 200),
      rs.find((r) => r.status !== 200)?.text,
    );
    noCrash();
  });

  test('PostgreSQL crashes (SIGKILL of the postmaster): 503 JSON, then healed', async () => {
    await pg.kill();
    const r = await http(srv.port, '/api/tx?name=crashed', { timeoutMs: 8000 });
    assert503(r, 'after a postmaster crash');
    await pg.up();
    let ok = 0;
    for (let i = 0; i < 10; i++) if ((await http(srv.port, `/api/tx?name=healed${i}`)).status === 200) ok++;
    assert.equal(ok, 10);
    noCrash();
  });
});

describe('a slow query delays nobody (one worker)', () => {
  let srv;
  before(async () => {
    const be = backendFor('postgres', app, pg, 'latency');
    srv = await startServer(app.dir, { workers: 1, env: { ...be.env, KILN_DB_POOL: '4' } });
  });
  after(async () => {
    await srv?.stop();
  });

  test('50 concurrent pg_sleep(0.2) requests; 200 sequential /api/hello meanwhile: p99 < 10 ms', async () => {
    // Warm up: the pool's connections and the hello route.
    await Promise.all(Array.from({ length: 4 }, () => http(srv.port, '/api/sleep?ms=1')));
    for (let i = 0; i < 20; i++) await http(srv.port, '/api/hello');

    let sleepsDone = 0;
    const t0 = Date.now();
    const sleeps = Array.from({ length: 50 }, () =>
      http(srv.port, '/api/sleep?ms=200', { timeoutMs: 20_000 }).then((r) => {
        sleepsDone++;
        return r;
      }),
    );
    await sleep(50);
    const times = [];
    for (let i = 0; i < 200; i++) {
      const r = await http(srv.port, '/api/hello');
      assert.equal(r.status, 200);
      times.push(r.ms);
    }
    const doneDuringHello = sleepsDone;
    const results = await Promise.all(sleeps);
    const total = Date.now() - t0;
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    console.log(
      `# hello under 50 pg_sleep(0.2): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms; ` +
        `sleeps took ${total} ms, ${doneDuringHello}/50 done when the hellos ended`,
    );
    assert.ok(results.every((r) => r.status === 200), results.find((r) => r.status !== 200)?.text);
    assert.ok(results.every((r) => r.json.pid === results[0].json.pid), 'one worker served every sleep');
    // The pool (4 connections) queues the sleeps: about 50/4 x 200 ms.
    assert.ok(total >= 2000, `sleeps were queued on the pool (${total} ms)`);
    assert.ok(doneDuringHello < 50, 'the hellos ran while sleeps were still in progress');
    assert.ok(p99 < P99_LIMIT_MS, `hello p99 ${p99.toFixed(2)} ms (limit ${P99_LIMIT_MS} ms)`);
  });
});
