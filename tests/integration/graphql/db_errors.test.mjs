// db_errors.test.mjs -- a database failure under a resolver of the blog's
// /api/graphql (examples/blog on a PostgreSQL cluster of this test's own) is
// a GraphQL field error, never the data layer's plain 503/500 body:
//  - PostgreSQL stopped mid-run: the field that queried fails with
//    "Service Unavailable", extensions.code SERVICE_UNAVAILABLE, its path
//    and location; other fields keep their data; a non-null field nulls its
//    parent (data: null at the root); a session lookup that cannot run is
//    that error too (not "Unauthorized"); HTTP 200 under application/json
//    and under application/graphql-response+json (the result has "data");
//    PostgreSQL back: the same queries succeed without restarting Kiln;
//  - a failing SQL statement (the posts table renamed away): "Internal
//    Server Error", INTERNAL_SERVER_ERROR, and none of the SQL or the
//    driver's text in the answer (the log has them);
//  - a session checked by middleware before kiln_graphql runs (the blog
//    with an app-wide middleware.c on /api/graphql), PostgreSQL stopped: a
//    GraphQL request error {"errors":[{"message":"Service Unavailable",
//    "extensions":{"code":"SERVICE_UNAVAILABLE"}}]}, 503 under
//    application/graphql-response+json (no "data": 4xx or 5xx), 200 under
//    application/json; a REST route of the same app keeps its plain 503.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, buildApp } from '../lib/server.mjs';
import { startPostgres, findPgBin } from '../lib/pg.mjs';
import { http } from '../lib/db.mjs';
import { prepareApp, signupAndLogin, client } from '../auth/helpers.mjs';

const GQL_CT = 'application/graphql-response+json; charset=utf-8';
const JSON_CT = 'application/json; charset=utf-8';
let pg, srv, mw, db, bearer;

before(async () => {
  if (!findPgBin()) return;
  const dir = prepareApp('examples/blog', 'blog-graphql-dberrors');
  pg = await startPostgres();
  db = 'gql_dberrors';
  srv = await startServer(dir, { workers: 1, env: { DATABASE_URL: pg.createDb(db), BLOG_LOGIN_PER_ADDRESS: '10000' } });
  ({ token: bearer } = await signupAndLogin(client(srv.port)));
  // The same blog, with middleware that reads the session before the
  // GraphQL endpoint runs.
  const mwDir = prepareApp('examples/blog', 'blog-graphql-dberrors-mw');
  fs.writeFileSync(path.join(mwDir, 'middleware.c'), `#include <kiln.h>
const char *const matcher[] = { "/api/graphql", "/api/users", NULL };
bool middleware(kiln_req *req, kiln_res *res) { (void)res; kiln_session_user(req, NULL); return true; }
`);
  buildApp(mwDir);
  mw = await startServer(mwDir, { workers: 1, env: { DATABASE_URL: pg.urlFor(db), BLOG_LOGIN_PER_ADDRESS: '10000' } });
});
after(async () => {
  await mw?.stop();
  await srv?.stop();
  await pg?.stop();
});

async function gql(query, { accept, auth = false, port = srv.port } = {}) {
  const headers = {};
  if (accept) headers.accept = accept;
  if (auth) headers.authorization = `Bearer ${bearer}`;
  const r = await http(port, '/api/graphql', { method: 'POST', json: { query }, headers, timeoutMs: 8000 });
  assert.ok(r.json, `a JSON answer: ${r.status} ${r.text}`);
  return r;
}

const fieldError = (message, code, path, line, column) => ({ message, locations: [{ line, column }], path, extensions: { code } });
const DOWN = (path, column) => fieldError('Service Unavailable', 'SERVICE_UNAVAILABLE', path, 1, column);
const INTERNAL = (path, column) => fieldError('Internal Server Error', 'INTERNAL_SERVER_ERROR', path, 1, column);

test('PostgreSQL stopped mid-run: field errors with path and code, 200, data kept; back up: answered again', async (t) => {
  if (!pg) { t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)'); return; }
  const made = await gql('mutation { createPost(input: { title: "Up", content: "u" }) { id } }');
  const id = made.json.data.createPost.id;
  const q = `{ hello post(id: "${id}") { title } }`;
  assert.deepEqual((await gql(q)).json, { data: { hello: 'Hello, World!', post: { title: 'Up' } } });
  await pg.down();
  try {
    for (const accept of [undefined, 'application/graphql-response+json']) {
      const r = await gql(q, { accept });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['content-type'], accept ? GQL_CT : JSON_CT);
      assert.deepEqual(r.json, { errors: [DOWN(['post'], 9)], data: { hello: 'Hello, World!', post: null } });
    }
    // posts: [Post!]! -- the error reaches the root: data null, still 200
    // (GraphQL over HTTP: a result with "data" is 2xx, null or not).
    for (const accept of [undefined, 'application/graphql-response+json']) {
      const r = await gql('{ hello posts { id } }', { accept });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { errors: [DOWN(['posts'], 9)], data: null });
    }
    // Every failing field is its own error; the session lookup too.
    const both = await gql('{ a: post(id: "1") { id } users { id } }', { auth: true });
    assert.deepEqual(both.json, { errors: [DOWN(['a'], 3), DOWN(['users'], 27)], data: null });
    const m = await gql('mutation { updatePost(id: 1, input: { title: "x", content: "y" }) { id } }');
    assert.deepEqual(m.json, { errors: [DOWN(['updatePost'], 12)], data: { updatePost: null } });
    assert.ok(srv.logs().some((l) => l.msg === 'database unavailable' && l.level === 'error'), 'logged');
  } finally {
    await pg.up();
  }
  let ok;
  for (let i = 0; i < 20 && !ok; i++) {
    const r = await gql(q);
    if (!r.json.errors) ok = r.json;
  }
  assert.deepEqual(ok, { data: { hello: 'Hello, World!', post: { title: 'Up' } } });
  assert.deepEqual((await gql('{ users { id } }', { auth: true })).json.errors, undefined);
});

test('a failing SQL statement: INTERNAL_SERVER_ERROR without the SQL or the driver text; logged with them', async (t) => {
  if (!pg) { t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)'); return; }
  pg.psql('ALTER TABLE posts RENAME TO posts_moved_away', { db });
  try {
    for (const accept of [undefined, 'application/graphql-response+json']) {
      const r = await gql('{ hello post(id: "1") { id } }', { accept });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { errors: [INTERNAL(['post'], 9)], data: { hello: 'Hello, World!', post: null } });
      assert.doesNotMatch(r.text, /SELECT|posts|relation|does not exist|requestId/);
    }
    const r = await gql('mutation { createPost(input: { title: "t", content: "c" }) { id } deletePost(id: 1) }');
    assert.deepEqual(r.json, { errors: [INTERNAL(['createPost'], 12)], data: null });
    assert.doesNotMatch(r.text, /INSERT|posts_moved|relation/);
    const logged = srv.logs().filter((l) => l.msg === 'database error');
    assert.ok(logged.some((l) => /FROM posts WHERE id/.test(l.sql) && /posts/.test(l.error)), JSON.stringify(logged.slice(-2)));
  } finally {
    pg.psql('ALTER TABLE posts_moved_away RENAME TO posts', { db });
  }
  assert.deepEqual((await gql('{ post(id: "999999") { id } }')).json, { data: { post: null } });
});

test('a session checked by middleware before kiln_graphql, PostgreSQL stopped: a GraphQL request error, SERVICE_UNAVAILABLE', async (t) => {
  if (!pg) { t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)'); return; }
  const q = '{ hello }';
  assert.deepEqual((await gql(q, { auth: true, port: mw.port })).json, { data: { hello: 'Hello, World!' } });
  await pg.down();
  try {
    const body = { errors: [{ message: 'Service Unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] };
    for (const [accept, status, ct] of [['application/graphql-response+json', 503, GQL_CT], [undefined, 200, JSON_CT],
      ['application/json', 200, JSON_CT]]) {
      const r = await gql(q, { accept, auth: true, port: mw.port });
      assert.equal(r.status, status, r.text);
      assert.equal(r.headers['content-type'], ct);
      assert.deepEqual(r.json, body);
    }
    const rest = await http(mw.port, '/api/users', { headers: { authorization: `Bearer ${bearer}` }, timeoutMs: 8000 });
    assert.equal(rest.status, 503, rest.text);
    assert.equal(rest.json.error, 'Service Unavailable');
    assert.ok(rest.json.requestId, rest.text);
  } finally {
    await pg.up();
  }
  let ok;
  for (let i = 0; i < 20 && !ok; i++) {
    const r = await gql(q, { auth: true, port: mw.port });
    if (!r.json.errors) ok = r.json;
  }
  assert.deepEqual(ok, { data: { hello: 'Hello, World!' } });
});
