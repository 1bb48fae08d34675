// tx.test.mjs -- transactions, constraint conflicts and value types through
// the dbapp fixture, on SQLite and on PostgreSQL (one worker, so on SQLite
// every request shares the worker's single connection: a transaction left
// open would break the next request).
//  - commit persists, rollback discards, a handler that returns (with or
//    without answering, or after a failed statement) inside a transaction
//    is rolled back and the connection is clean for the next request;
//  - a UNIQUE violation is KILN_DB_CONFLICT: the handler answers 409;
//  - integer / real / text / null / bool / json columns and bound
//    parameters come back with the right JSON types and exact values.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../lib/server.mjs';
import { BACKENDS, appOnBackends, backendFor, http } from '../lib/db.mjs';

const JSON_CT = 'application/json; charset=utf-8';
const { app, getPg } = appOnBackends('tests/fixtures/dbapp');

for (const kind of BACKENDS) {
  describe(`transactions, conflicts and types on ${kind}`, () => {
    let srv;
    const call = (p, opts) => http(srv.port, p, opts);
    const tx = (op, name, extra = '') => call(`/api/tx?op=${op}&name=${encodeURIComponent(name)}${extra}`, { method: 'POST' });
    const count = async (name) => {
      const r = await call(`/api/tx?name=${encodeURIComponent(name)}`);
      assert.equal(r.status, 200, r.text);
      return r.json.count;
    };

    before(async () => {
      const pg = kind === 'postgres' ? await getPg() : null;
      const be = backendFor(kind, app, pg, 'tx');
      srv = await startServer(app.dir, { workers: 1, env: be.env });
    });
    after(async () => {
      await srv?.stop();
    });

    test('commit persists; rollback discards', async () => {
      const c = await tx('commit', 'committed');
      assert.equal(c.status, 200);
      assert.deepEqual(c.json, { op: 'commit', committed: true });
      assert.equal(await count('committed'), 1);

      const r = await tx('rollback', 'rolled back');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { op: 'rollback', committed: false });
      assert.equal(await count('rolled back'), 0);

      // Inside the transaction the request sees its own writes.
      const t = await tx('twice', 'twice');
      assert.deepEqual(t.json, { op: 'twice', inside: 2, committed: false });
      assert.equal(await count('twice'), 0);
    });

    test('a handler returning inside a transaction is rolled back, and the connection is clean', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await tx('return', `open${i}`);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { op: 'return', committed: false });
        // The next transaction on the same (single) connection must work.
        const c = await tx('commit', `next${i}`);
        assert.deepEqual(c.json, { op: 'commit', committed: true }, `commit after an open return #${i}`);
      }
      for (let i = 0; i < 5; i++) {
        assert.equal(await count(`open${i}`), 0, `open${i} rolled back`);
        assert.equal(await count(`next${i}`), 1);
      }
    });

    test('returning without an answer, or after a failed statement: 500 JSON and rolled back', async () => {
      const n = await tx('noreply', 'noreply');
      assert.equal(n.status, 500);
      assert.equal(n.headers['content-type'], JSON_CT);
      assert.equal(n.json.error, 'Internal Server Error');
      assert.equal(await count('noreply'), 0);

      const e = await tx('error', 'failed');
      assert.equal(e.status, 500);
      assert.equal(e.headers['content-type'], JSON_CT);
      assert.deepEqual(Object.keys(e.json).sort(), ['error', 'requestId']);
      assert.equal(e.json.error, 'Internal Server Error');
      assert.equal(await count('failed'), 0);
      const log = await srv.waitForLog((l) => l.msg === 'database error' && l.requestId === e.json.requestId);
      assert.equal(log.level, 'error');
      assert.equal(log.sql, 'INSERT INTO no_such_table (x) VALUES (1)');
      assert.match(log.error, /no_such_table/);

      assert.deepEqual((await tx('commit', 'after-failure')).json, { op: 'commit', committed: true });
      assert.equal(await count('after-failure'), 1);
    });

    test('a conflict inside a transaction: 409 from the handler, nothing kept', async () => {
      const r = await tx('conflict', 'dup@tx');
      assert.equal(r.status, 409, r.text);
      assert.deepEqual(r.json, { error: 'Email already taken' });
      assert.equal(await count('dup@tx'), 0);
      const users = await call('/api/users');
      assert.ok(!users.json.some((u) => u.email === 'dup@tx'), 'the first insert was rolled back too');
    });

    test('isolation: an uncommitted insert is not visible to another request', async () => {
      const hold = tx('hold', 'held', '&ms=400');
      await sleep(150);
      const t0 = Date.now();
      const seen = await call('/api/tx?name=held');
      const holdRes = await hold;
      assert.equal(holdRes.status, 200);
      assert.deepEqual(holdRes.json, { op: 'hold', committed: true });
      if (kind === 'postgres') {
        // Another pooled connection: reads the committed state (nothing yet).
        assert.equal(seen.json.count, 0);
        assert.ok(seen.ms < 300, `the read did not wait for the transaction (${seen.ms} ms)`);
      } else {
        // One connection per worker: the read waits for it (queued, the
        // worker meanwhile free), then sees the committed row.
        assert.equal(seen.json.count, 1);
        assert.ok(Date.now() - t0 >= 150, 'the read waited for the connection');
      }
      assert.equal(await count('held'), 1);
    });

    test('40 concurrent transactions (20 commit, 20 return open): all 200, exact counts', async () => {
      const rs = await Promise.all(
        Array.from({ length: 40 }, (_, i) => tx(i % 2 ? 'return' : 'commit', `conc${i}`, '&ms=5')),
      );
      assert.deepEqual(
        rs.map((r) => r.status),
        rs.map(() => 200),
        rs.find((r) => r.status !== 200)?.text,
      );
      for (let i = 0; i < 40; i++) assert.equal(await count(`conc${i}`), i % 2 ? 0 : 1, `conc${i}`);
    });

    test('UNIQUE violation: KILN_DB_CONFLICT, answered 409 by the handler', async () => {
      const a = await call('/api/users', { method: 'POST', json: { email: 'ada@example.com' } });
      assert.equal(a.status, 201, a.text);
      assert.equal(a.json.email, 'ada@example.com');
      assert.ok(Number.isSafeInteger(a.json.id) && a.json.id > 0);
      const b = await call('/api/users', { method: 'POST', json: { email: 'ada@example.com' } });
      assert.equal(b.status, 409, b.text);
      assert.equal(b.headers['content-type'], JSON_CT);
      assert.deepEqual(b.json, { error: 'Email already taken' });
      const c = await call('/api/users', { method: 'POST', json: { email: 'grace@example.com' } });
      assert.equal(c.status, 201);
      const list = await call('/api/users');
      assert.deepEqual(
        list.json.filter((u) => /example\.com$/.test(u.email)),
        [
          { id: a.json.id, email: 'ada@example.com' },
          { id: c.json.id, email: 'grace@example.com' },
        ],
      );
      // A conflict is not logged as a server error.
      assert.ok(!srv.logs().some((l) => l.msg === 'database error' && /UNIQUE|unique/.test(l.error ?? '')));
    });

    test('column and parameter types', async () => {
      const r = await call('/api/types');
      assert.equal(r.status, 200, r.text);
      const j = r.json;
      // 64-bit integers are written exactly (JSON.parse would round them).
      assert.match(r.text, /"i":9223372036854775807[,}]/);
      assert.match(r.text, /"pmin":-9223372036854775808[,}]/);
      assert.deepEqual(j.columns, ['i', 'r', 't', 'n', 'b', 'j', 'j2', 'small', 'num', 'v', 'quoted']);
      assert.equal(j.rows, 1);
      assert.equal(j.row.r, 1.5);
      assert.equal(j.row.t, 'héllo ✓');
      assert.equal(j.row.n, null);
      assert.equal(j.row.small, 7);
      assert.equal(j.row.num, 2.25);
      assert.equal(j.row.v, 'v');
      assert.equal(j.row.quoted, '42');
      if (kind === 'postgres') {
        assert.equal(j.row.b, true, 'bool column -> true');
        assert.deepEqual(j.row.j, { a: 1, b: [1, 2] }, 'jsonb inserted as JSON');
        assert.deepEqual(j.row.j2, [true, null], 'json inserted as JSON');
        assert.equal(j.params.pb, true);
      } else {
        assert.equal(j.row.b, 1, 'SQLite has no bool: 1');
        assert.equal(j.row.j, '{"a":1,"b":[1,2]}', 'SQLite json() is text');
        assert.equal(j.row.j2, '[true,null]');
        assert.equal(j.params.pb, 1);
        assert.equal(j.params.pnul, 'a\u0000b', 'a kiln_str with a NUL byte');
        assert.equal(j.params.nul_len, 3);
      }
      assert.equal(j.params.pi, 42);
      assert.equal(j.params.pr, 0.1);
      assert.equal(j.params.pt, 'it\'s "quoted" ?');
      assert.equal(j.params.pn, null);
      assert.equal(j.params.pbig, 18446744073709552000, 'unsigned beyond INT64_MAX goes as a real');
      assert.deepEqual(j.get, {
        i: 9223372036854775807,
        r: 1.5,
        t: 'héllo ✓',
        tlen: 10,
        n: null,
        nIsNull: true,
        missingIsNull: true,
        missingI: 0,
        b: 1,
        quotedI: 42,
        rAsI: 1,
        iAsF: 7,
        outOfRange: null,
      });
      assert.match(r.text, /"get":\{"i":9223372036854775807,/);
    });
  });
}
