// pg_pipeline.test.mjs -- PostgreSQL only: the pipelined connection pool and
// the prepared-statement cache (src/db/pipeline.c).
//  - statement cache invalidation: an ALTER TABLE that changes a cached
//    statement's result shape (SELECT *), DISCARD ALL sent by a handler, and
//    a server restart (new connections, nothing prepared) -- the next
//    requests answer 200 with the new shape, never 500;
//  - many requests share ONE connection (KILN_DB_POOL=1): a failing
//    statement in the middle of the pipeline fails only its own request;
//  - kiln_db_send/kiln_db_wait: 20 statements of one request in one batch,
//    results in order; a failing statement in the middle of a batch fails
//    alone;
//  - plain SELECTs that share one Sync: a failing one makes the server skip
//    the rest of its group, which Kiln sends again (every other batch gets
//    its own results), and a write next to them is never undone;
//  - the connection lost with statements in flight (the backend terminated):
//    every waiting request answers 503 JSON quickly, none hangs; the next
//    request succeeds on a new connection.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres } from '../lib/pg.mjs';
import { copyApp, backendFor, http } from '../lib/db.mjs';

const JSON_CT = 'application/json; charset=utf-8';
const app = copyApp('tests/fixtures/dbapp');
let pg = null;

const routes = {
  // A cached statement whose result shape an ALTER TABLE changes.
  'pages/api/shape.c': `#include <kiln.h>
void GET(kiln_req *req, kiln_res *res)
{
    int64_t id = 1;
    kiln_query_i64(req, "id", &id);
    kiln_rows *r = kiln_db_query(req, "SELECT * FROM shape WHERE id = ?", id);
    if (kiln_rows_status(r) != KILN_DB_OK) return;
    kiln_send_row(res, 200, r);
}
`,
  // DISCARD ALL through kiln_db_query (a pooler, or a handler, may do it).
  'pages/api/discard.c': `#include <kiln.h>
void POST(kiln_req *req, kiln_res *res)
{
    kiln_rows *r = kiln_db_query(req, "DISCARD ALL");
    if (kiln_rows_status(r) != KILN_DB_OK) return;
    kiln_json(res, 200, "{discarded: %b}", true);
}
`,
  // ?n=K: SELECT K + 1; ?bad=1: a division by zero (answered 400).
  'pages/api/calc.c': `#include <kiln.h>
void GET(kiln_req *req, kiln_res *res)
{
    int64_t n = 0, bad = 0;
    kiln_query_i64(req, "n", &n);
    kiln_query_i64(req, "bad", &bad);
    kiln_rows *r = bad ? kiln_db_query(req, "SELECT 1 / (?::int - ?::int) AS v", n, n)
                       : kiln_db_query(req, "SELECT ?::bigint + 1 AS v, pg_backend_pid() AS pid", n);
    if (kiln_rows_status(r) != KILN_DB_OK) return;
    kiln_json(res, 200, "{v: %lld, pid: %lld}", (long long)kiln_rows_i64(r, 0, "v"),
              (long long)kiln_rows_i64(r, 0, "pid"));
}
`,
  // 20 statements in one batch; ?dup=1 puts a UNIQUE conflict in the middle.
  // ?fail=1 instead makes the 11th of these plain SELECTs (which share a
  // Sync) raise a unique_violation (a conflict: not answered automatically),
  // so the server skips the rest of its group and Kiln sends them again.
  'pages/api/batch.c': `#include <kiln.h>
void GET(kiln_req *req, kiln_res *res)
{
    int64_t dup = 0, fail = 0;
    kiln_query_i64(req, "dup", &dup);
    kiln_query_i64(req, "fail", &fail);
    kiln_rows *r[20];
    for (int i = 0; i < 20; i++) {
        if (dup && i == 10)
            r[i] = kiln_db_send(req, "INSERT INTO users (email) VALUES (?) RETURNING id AS v", "dup@batch");
        else if (fail && i == 10)
            r[i] = kiln_db_send(req, "SELECT kiln_conflict() AS v");
        else
            r[i] = kiln_db_send(req, "SELECT ?::bigint * 10 AS v", i);
    }
    bool all = kiln_db_wait(req);
    kiln_jw *w = kiln_json_begin(res, 200);
    kiln_jw_object(w);
    kiln_jw_key(w, "all");
    kiln_jw_bool(w, all);
    kiln_jw_key(w, "v");
    kiln_jw_array(w);
    for (int i = 0; i < 20; i++) {
        if (kiln_rows_status(r[i]) == KILN_DB_OK) kiln_jw_int(w, kiln_rows_i64(r[i], 0, "v"));
        else kiln_jw_string(w, kiln_rows_status(r[i]) == KILN_DB_CONFLICT ? "conflict" : "error");
    }
    kiln_jw_end(w);
    kiln_jw_end(w);
}
`,
  'db/migrations/901_conflict.pg.sql': `CREATE FUNCTION kiln_conflict() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RAISE unique_violation USING MESSAGE = 'a conflict raised on purpose';
END
$$;
`,
  // A SELECT that writes (through a function), queued in the same loop turn
  // as a SELECT that fails: both share a Sync, so the server rolls the write
  // back with the failure; Kiln must run it again, so each answered note is
  // in the table exactly once.
  'pages/api/noted.c': `#include <kiln.h>
void GET(kiln_req *req, kiln_res *res)
{
    const char *tag = kiln_query(req, "tag");
    kiln_rows *note = kiln_db_send(req, "SELECT kiln_note(?) AS v", tag ? tag : "");
    kiln_rows *bad = kiln_db_send(req, "SELECT kiln_conflict() AS v");
    kiln_db_wait(req);
    kiln_json(res, 200, "{note: %lld, bad: %s}", (long long)kiln_rows_i64(note, 0, "v"),
              kiln_rows_status(bad) == KILN_DB_CONFLICT ? "conflict" : "other");
}
`,
  'db/migrations/902_notes.pg.sql': `CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, tag TEXT NOT NULL);
CREATE FUNCTION kiln_note(t TEXT) RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO notes (tag) VALUES (t) RETURNING id
$$;
`,
  'db/migrations/900_shape.sql': `CREATE TABLE shape (id BIGINT PRIMARY KEY, a TEXT NOT NULL);
INSERT INTO shape (id, a) VALUES (1, 'one'), (2, 'two');
`,
};

before(async () => {
  for (const [f, text] of Object.entries(routes)) {
    fs.mkdirSync(path.dirname(path.join(app.dir, f)), { recursive: true });
    fs.writeFileSync(path.join(app.dir, f), text);
  }
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
}

describe('the prepared-statement cache follows the server', () => {
  let srv;
  let db;
  before(async () => {
    db = backendFor('postgres', app, pg, 'shape');
    srv = await startServer(app.dir, { workers: 1, env: { ...db.env, KILN_DB_POOL: '2' } });
  });
  after(async () => {
    await srv?.stop();
  });

  // Warm the cache on every pooled connection: concurrent requests open both.
  const warm = async () => {
    const rs = await Promise.all(Array.from({ length: 16 }, () => http(srv.port, '/api/shape?id=1')));
    for (const r of rs) assert.equal(r.status, 200, r.text);
    return rs[0].json;
  };

  test('ALTER TABLE changes a cached statement result shape: the next requests see the new shape', async () => {
    assert.deepEqual(await warm(), { id: 1, a: 'one' });
    pg.psql("ALTER TABLE shape ADD COLUMN b TEXT NOT NULL DEFAULT 'bee'", { db: db.db });
    for (let i = 0; i < 8; i++) {
      const r = await http(srv.port, '/api/shape?id=2');
      assert.equal(r.status, 200, `request ${i} after the ALTER: ${r.text}`);
      assert.deepEqual(r.json, { id: 2, a: 'two', b: 'bee' });
    }
    const rs = await Promise.all(Array.from({ length: 16 }, () => http(srv.port, '/api/shape?id=1')));
    for (const r of rs) assert.deepEqual(r.json, { id: 1, a: 'one', b: 'bee' }, r.text);
    pg.psql('ALTER TABLE shape DROP COLUMN a', { db: db.db });
    const d = await http(srv.port, '/api/shape?id=1');
    assert.equal(d.status, 200, d.text);
    assert.deepEqual(d.json, { id: 1, b: 'bee' });
  });

  test('DISCARD ALL from a handler: later statements are prepared again', async () => {
    await warm();
    for (let i = 0; i < 4; i++) {
      const x = await http(srv.port, '/api/discard', { method: 'POST' });
      assert.equal(x.status, 200, x.text);
      const rs = await Promise.all(Array.from({ length: 8 }, () => http(srv.port, '/api/shape?id=2')));
      for (const r of rs) assert.equal(r.status, 200, `after DISCARD ALL: ${r.text}`);
    }
    // The server holds no more prepared statements than the cache names.
    const n = Number(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", { db: db.db }));
    assert.ok(n >= 1);
  });

  test('PostgreSQL restarted: new connections, statements prepared anew, 200 at once', async () => {
    await warm();
    await pg.restart({ downMs: 200 });
    for (let i = 0; i < 10; i++) {
      const r = await http(srv.port, '/api/shape?id=2', { timeoutMs: 8000 });
      assert.equal(r.status, 200, `request ${i} after the restart: ${r.text}`);
    }
  });
});

describe('one connection shared by many requests (KILN_DB_POOL=1)', () => {
  let srv;
  let db;
  before(async () => {
    db = backendFor('postgres', app, pg, 'pipe');
    srv = await startServer(app.dir, { workers: 1, env: { ...db.env, KILN_DB_POOL: '1', KILN_DB_PIPELINE: '64' } });
    assert.equal((await http(srv.port, '/api/calc?n=1')).status, 200);
  });
  after(async () => {
    await srv?.stop();
  });

  test('a failing statement in the middle of the pipeline fails only its own request', async () => {
    // A slow statement first, so that the others pile up behind it.
    const slow = http(srv.port, '/api/sleep?ms=300');
    await sleep(50);
    const reqs = [];
    for (let i = 0; i < 41; i++) reqs.push(http(srv.port, i === 20 ? '/api/calc?n=3&bad=1' : `/api/calc?n=${i}`));
    const rs = await Promise.all(reqs);
    assert.equal((await slow).status, 200);
    const pids = new Set();
    rs.forEach((r, i) => {
      if (i === 20) {
        assert.equal(r.status, 400, `the division by zero: ${r.text}`);
        assert.equal(r.headers['content-type'], JSON_CT);
        return;
      }
      assert.equal(r.status, 200, `request ${i}: ${r.text}`);
      assert.equal(r.json.v, i + 1, `request ${i} got its own result`);
      pids.add(r.json.pid);
    });
    assert.equal(pids.size, 1, 'all on the one pooled connection');
  });

  test('a batch of 20 statements: results in order; a conflict in the middle fails alone', async () => {
    const r = await http(srv.port, '/api/batch');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { all: true, v: Array.from({ length: 20 }, (_, i) => i * 10) });
    const first = await http(srv.port, '/api/batch?dup=1');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.all, true);
    const again = await http(srv.port, '/api/batch?dup=1');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.all, false);
    const want = Array.from({ length: 20 }, (_, i) => (i === 10 ? 'conflict' : i * 10));
    assert.deepEqual(again.json.v, want);
    // Concurrent batches share the connection too.
    const rs = await Promise.all(Array.from({ length: 10 }, () => http(srv.port, '/api/batch')));
    for (const x of rs) assert.deepEqual(x.json, { all: true, v: Array.from({ length: 20 }, (_, i) => i * 10) }, x.text);
  });

  test('plain SELECTs share a Sync: one failing skips none of the others, and no write is undone', async () => {
    const want = Array.from({ length: 20 }, (_, i) => i * 10);
    const failed = await http(srv.port, '/api/batch?fail=1');
    assert.equal(failed.status, 200, failed.text);
    assert.deepEqual(failed.json, { all: false, v: want.map((v, i) => (i === 10 ? 'conflict' : v)) });
    // Interleaved on the one connection: batches that fail, batches that do
    // not, single failing statements (400) and writes. Every batch gets its
    // own results; every write answered 201 is in the table.
    const count = () => Number(pg.psql("SELECT count(*) FROM users WHERE email LIKE 'grouped-%'", { db: db.db }));
    const before = count();
    const reqs = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) reqs.push(http(srv.port, '/api/batch?fail=1'));
      else if (i % 3 === 1) reqs.push(http(srv.port, '/api/batch'));
      else reqs.push(http(srv.port, '/api/calc?n=1&bad=1'));
      reqs.push(http(srv.port, '/api/users', { method: 'POST', json: { email: `grouped-${i}@example.com` } }));
    }
    const rs = await Promise.all(reqs);
    let written = 0;
    rs.forEach((r, j) => {
      const i = j >> 1;
      if (j % 2) {
        assert.equal(r.status, 201, `write ${i}: ${r.text}`);
        written++;
      } else if (i % 3 === 0) assert.deepEqual(r.json, failed.json, `failing batch ${i}`);
      else if (i % 3 === 1) assert.deepEqual(r.json, { all: true, v: want }, `batch ${i}: ${r.text}`);
      else assert.equal(r.status, 400, `division by zero ${i}: ${r.text}`);
    });
    assert.equal(count() - before, written);
  });

  test('a SELECT that writes, grouped with a failing SELECT: its write is run again, not lost, and not doubled', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => http(srv.port, `/api/noted?tag=n-${i}`)));
    rs.forEach((r, i) => {
      assert.equal(r.status, 200, `note ${i}: ${r.text}`);
      assert.equal(r.json.bad, 'conflict', `note ${i}: ${r.text}`);
      assert.ok(r.json.note > 0, `note ${i}: ${r.text}`);
    });
    const rows = pg.psql("SELECT tag || ':' || count(*) FROM notes WHERE tag LIKE 'n-%' GROUP BY tag ORDER BY tag", { db: db.db });
    const counts = Object.fromEntries(rows.split('\n').filter(Boolean).map((l) => l.split(':')));
    for (let i = 0; i < 20; i++) assert.equal(counts[`n-${i}`], '1', `note n-${i} is in the table ${counts[`n-${i}`] ?? 0} times`);
    // Each answer names the row that stayed.
    const ids = pg.psql("SELECT string_agg(id::text, ',' ORDER BY tag) FROM notes WHERE tag LIKE 'n-%'", { db: db.db });
    assert.equal(new Set(ids.trim().split(',')).size, 20);
    for (const r of rs) assert.ok(ids.trim().split(',').includes(String(r.json.note)), `answered note ${r.json.note} is not in the table`);
  });

  test('the connection lost with statements in flight: every waiting request gets 503, none hangs', async () => {
    const t0 = Date.now();
    const reqs = [];
    for (let i = 0; i < 20; i++) reqs.push(http(srv.port, '/api/sleep?ms=3000', { timeoutMs: 10_000 }));
    for (let i = 0; i < 10; i++) reqs.push(http(srv.port, `/api/calc?n=${i}`, { timeoutMs: 10_000 }));
    await sleep(400);
    const killed = pg.psql(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      { db: db.db },
    );
    assert.equal(killed, '1', 'one pooled connection');
    const rs = await Promise.all(reqs);
    for (const r of rs) assert503(r, 'a statement in flight on the lost connection');
    assert.ok(Date.now() - t0 < 2500, `all answered within ${Date.now() - t0} ms`);
    const ok = await http(srv.port, '/api/calc?n=41');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.v, 42);
  });
});
