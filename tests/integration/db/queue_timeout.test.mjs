// A request waiting for a pooled database connection when its route's max
// duration passes gets its 504 and gives up its place: its query never runs
// later. PostgreSQL, one worker, a pool of one connection:
//   A holds the connection 800 ms (pg_sleep), B queues behind it;
//   both routes allow 300 ms. A's handler still finishes its statement and
//   marks the table after its 504; B must never reach the database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres } from '../lib/pg.mjs';
import { copyApp, backendFor, http } from '../lib/db.mjs';

const app = copyApp('tests/fixtures/dbapp');
let pg = null;
let srv = null;

before(async () => {
  fs.writeFileSync(path.join(app.dir, 'pages/api/queued.c'),
    '#include <kiln.h>\n\nconst kiln_config config = { .max_duration_ms = 300 };\n\n' +
    'void POST(kiln_req *req, kiln_res *res)\n{\n' +
    '    kiln_rows *r = kiln_db_query(req, "SELECT pg_sleep(0.8) IS NULL AS slept");\n' +
    '    if (kiln_rows_status(r) != KILN_DB_OK) return;\n' +
    '    kiln_db_query(req, "INSERT INTO queue_marks (who) VALUES (?)", kiln_query(req, "who"));\n' +
    '    kiln_end(res, 204);\n}\n\n' +
    'void GET(kiln_req *req, kiln_res *res)\n{\n' +
    '    kiln_send_rows(res, 200, kiln_db_query(req, "SELECT who FROM queue_marks ORDER BY who"));\n}\n');
  fs.writeFileSync(path.join(app.dir, 'db/migrations/900_queue_marks.sql'), 'CREATE TABLE queue_marks (who TEXT NOT NULL);\n');
  buildApp(app.dir);
  pg = await startPostgres();
  const db = backendFor('postgres', app, pg, 'queue');
  srv = await startServer(app.dir, { workers: 1, env: { ...db.env, KILN_DB_POOL: '1' } });
});

after(async () => {
  await srv?.stop();
  await pg?.stop();
  app.remove();
});

test('a queued request gives up its place when its 504 goes out', async () => {
  const a = http(srv.port, '/api/queued?who=a', { method: 'POST' });
  await sleep(50);
  const b = http(srv.port, '/api/queued?who=b', { method: 'POST' });
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.status, 504);
  assert.equal(rb.status, 504);
  assert.ok(rb.ms < 700, `B answered after ${rb.ms} ms, while A still held the connection`);
  await sleep(1500);   /* long enough for B's query to have run, had it stayed queued */
  const marks = await http(srv.port, '/api/queued');
  assert.equal(marks.status, 200, marks.text);
  assert.deepEqual(marks.json.map((m) => m.who), ['a'], 'A finished its statement; B never ran');
});
