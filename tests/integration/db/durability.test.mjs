// durability.test.mjs -- the blog's posts under crashes and under load, on
// SQLite and on PostgreSQL:
//  - a post answered 201 survives SIGKILL of the master and every worker
//    at once (no graceful shutdown, no flush), found again after a restart;
//  - 200 concurrent POSTs on two workers: 200 x 201, 200 distinct ids, then
//    200 rows listed; no 5xx (SQLITE_BUSY between the workers is absorbed).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../lib/server.mjs';
import { BACKENDS, appOnBackends, backendFor, http, alive } from '../lib/db.mjs';
import { workersOf } from '../lib/procs.mjs';

const { app, getPg } = appOnBackends('examples/blog');

for (const kind of BACKENDS) {
  describe(`durability and concurrency on ${kind}`, () => {
    const servers = [];
    const start = async (env) => {
      const srv = await startServer(app.dir, { workers: 2, env });
      servers.push(srv);
      return srv;
    };
    after(async () => {
      for (const s of servers) await s.stop();
    });

    test('a post answered 201 survives SIGKILL of the master and all workers at once', async () => {
      const pg = kind === 'postgres' ? await getPg() : null;
      const be = backendFor(kind, app, pg, 'durable');
      const srv = await start(be.env);
      const posted = [];
      for (let i = 0; i < 5; i++) {
        const r = await http(srv.port, '/api/posts', {
          method: 'POST',
          json: { title: `durable ${i}`, content: `survives kill -9 #${i} ✓` },
        });
        assert.equal(r.status, 201, r.text);
        posted.push(r.json);
      }

      const pids = [srv.proc.pid, ...(await workersOf(srv.proc.pid, 2))];
      // The last POST was answered a moment ago; now kill everything at once.
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const ex = await srv.exited;
      assert.equal(ex.signal, 'SIGKILL');
      for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(20);
      assert.deepEqual(pids.filter(alive), [], 'every server process is gone');

      const again = await start(be.env);
      for (const p of posted) {
        const r = await http(again.port, `/api/posts/${p.id}`);
        assert.equal(r.status, 200, `post ${p.id} after the restart: ${r.text}`);
        assert.deepEqual(r.json, p);
      }
      const all = await http(again.port, '/api/posts');
      assert.deepEqual(all.json, posted);
      // And the database takes writes again (no stale lock, no recovery error).
      const w = await http(again.port, '/api/posts', { method: 'POST', json: { title: 'after', content: 'restart' } });
      assert.equal(w.status, 201, w.text);
      assert.ok(w.json.id > posted.at(-1).id);
    });

    test('200 concurrent POSTs on 2 workers: 200 x 201, 200 distinct ids, 200 rows', async () => {
      const pg = kind === 'postgres' ? await getPg() : null;
      const be = backendFor(kind, app, pg, 'concurrent');
      const srv = await start(be.env);
      const N = 200;
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          http(srv.port, '/api/posts', {
            method: 'POST',
            json: { title: `t${i}`, content: `content of ${i}` },
            timeoutMs: 30_000,
          }).catch((e) => ({ status: 0, text: String(e) })),
        ),
      );
      const byStatus = {};
      for (const r of results) byStatus[r.status] = (byStatus[r.status] || 0) + 1;
      assert.deepEqual(byStatus, { 201: N }, `statuses ${JSON.stringify(byStatus)}; e.g. ${results.find((r) => r.status !== 201)?.text}`);
      const ids = results.map((r) => r.json.id);
      assert.equal(new Set(ids).size, N, 'distinct ids');
      for (let i = 0; i < N; i++) {
        assert.deepEqual(results[i].json, { id: ids[i], title: `t${i}`, content: `content of ${i}` });
      }
      const all = await http(srv.port, '/api/posts');
      assert.equal(all.status, 200);
      assert.equal(all.json.length, N);
      assert.deepEqual(
        all.json.map((p) => p.id),
        [...ids].sort((a, b) => a - b),
        'the list holds exactly the created ids, in id order',
      );
      // Which workers served them (for the log; the kernel decides).
      const perWorker = {};
      for (const l of srv.logs()) if (l.msg === 'request' && l.method === 'POST') perWorker[l.worker] = (perWorker[l.worker] || 0) + 1;
      console.log(`# ${kind}: ${N} concurrent POSTs per worker: ${JSON.stringify(perWorker)}`);
    });
  });
}
