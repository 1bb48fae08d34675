// loader_sql.test.mjs -- the batching loader through the real endpoint
// (kiln_graphql) on PostgreSQL, counting the statements the database ran:
// PostgreSQL logs every statement (log_statement = 'all') to the cluster's
// server log, and the test counts the lines that query posts and users
// while one GraphQL request runs. N posts with an author: N+1 statements
// with a query per post (Post.authorEach), 2 with the loader (Post.author),
// and both give the same data.
//
//   tests/run-integration.sh build tests/integration/graphql/loader_sql.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres, findPgBin } from '../lib/pg.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const N = 30;

test('N posts with authors: N+1 statements without the loader, 2 with it', async (t) => {
  if (!findPgBin()) { t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)'); return; }
  const pg = await startPostgres();
  after(() => pg.stop());
  pg.psql('CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);' +
    'CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL, author_id int REFERENCES users(id));' +
    `INSERT INTO users SELECT u, 'user ' || u FROM generate_series(1, 7) u;` +
    `INSERT INTO posts SELECT p, 'post ' || p, (p % 7) + 1 FROM generate_series(1, ${N}) p;`);
  pg.psql(`ALTER SYSTEM SET log_statement = 'all'`);
  pg.psql('SELECT pg_reload_conf()');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-loader-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(path.join(HERE, 'loader_app'), dir, { recursive: true });
  buildApp(dir);
  const srv = await startServer(dir, { workers: 1, env: { DATABASE_URL: pg.url } });
  after(() => srv.stop());
  const url = `http://127.0.0.1:${srv.port}/api/graphql`;
  const log = path.join(pg.dir, 'server.log');

  // The statements logged while `query` ran, as [posts, users] counts.
  async function run(query) {
    await post(url, '{ __typename }');              // the pool is connected before we count
    await sleep(200);
    const from = fs.statSync(log).size;
    const body = await post(url, query);
    await sleep(500);                               // the server log is written asynchronously
    const text = fs.readFileSync(log, 'utf8').slice(from);
    const lines = text.split('\n').filter((l) => /LOG:\s+(statement|execute [^:]*):/.test(l));
    return { body, posts: lines.filter((l) => /FROM posts/.test(l)).length, users: lines.filter((l) => /FROM users/.test(l)).length };
  }

  const each = await run('{ posts { id title authorEach { id name } } }');
  assert.equal(each.body.errors, undefined, JSON.stringify(each.body.errors));
  assert.equal(each.body.data.posts.length, N);
  assert.deepEqual([each.posts, each.users], [1, N], 'one query for the posts and one per post');

  const loaded = await run('{ posts { id title author { id name } } }');
  assert.equal(loaded.body.errors, undefined, JSON.stringify(loaded.body.errors));
  assert.deepEqual([loaded.posts, loaded.users], [1, 1], 'one query for the posts and one for all their authors');
  assert.deepEqual(loaded.body.data.posts.map((p) => ({ ...p, authorEach: p.author, author: undefined })).map(({ author, ...p }) => p),
    each.body.data.posts, 'the same data both ways');
  assert.deepEqual(loaded.body.data.posts[0], { id: '1', title: 'post 1', author: { id: '2', name: 'user 2' } });
});

async function post(url, query) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  assert.equal(r.status, 200);
  return r.json();
}
