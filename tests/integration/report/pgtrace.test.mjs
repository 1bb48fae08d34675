// pgtrace.test.mjs -- on PostgreSQL, a request's statements carry its trace
// id as a comment: the server itself (pg_stat_activity) shows it. On a
// throwaway cluster started here (lib/pg.mjs).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres, findPgBin } from '../lib/pg.mjs';
import { copyApp, backendFor } from '../lib/db.mjs';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
let pg, srv, app;

after(async () => {
  await srv?.stop();
  await pg?.stop();
  app?.remove();
});

test('PostgreSQL sees the request\'s trace id in the statement text', async (t) => {
  if (!findPgBin()) return t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)');
  app = copyApp('tests/fixtures/reportapp');
  buildApp(app.dir);
  pg = await startPostgres();
  const be = backendFor('postgres', app, pg, 'trace');
  srv = await startServer(app.dir, { workers: 1, env: be.env });
  const r = await srv.fetch('/api/pgquery', { headers: { traceparent: `00-${TRACE}-b7ad6b7169203331-01` } });
  assert.equal(r.status, 200);
  const { query } = await r.json();
  assert.match(query, /^SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid\(\)\n\/\*trace_id='[0-9a-f]{32}'\*\/$/);
  assert.ok(query.includes(`trace_id='${TRACE}'`), query);
});
