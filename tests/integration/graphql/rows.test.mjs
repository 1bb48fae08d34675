// rows.test.mjs -- resolvers returning database rows (kiln_gql_return_rows,
// kiln_gql_return_row, and kiln_gql_batch_rows for the loader) through the
// real endpoint, on SQLite and on PostgreSQL. The app (rows_app) answers
// every query field twice: from the rows as they are, and the old way, the
// database building JSON text that is parsed again. The two answers must be
// byte for byte the same (data and errors: types, NULLs, a missing column,
// an empty result, an Int out of range, the loader's rows); then the rows
// answers are checked field by field, and a failed query and a constraint
// violation must fail the field.
//
//   tests/run-integration.sh build tests/integration/graphql/rows.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, startServer } from '../lib/server.mjs';
import { startPostgres, findPgBin } from '../lib/pg.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// One build for both tests, removed when the file's tests are done.
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-rows-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));
let built = false;
function app() {
  if (!built) {
    fs.cpSync(path.join(HERE, 'rows_app'), DIR, { recursive: true });
    buildApp(DIR);
    built = true;
  }
  return DIR;
}

async function gql(url, query) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  assert.equal(r.status, 200);
  return r.text();
}

// Each pair: the rows field and its JSON-text twin, padded to one length so
// that error locations agree.
const PAIRS = [['items    ', 'itemsJson'], ['none    ', 'noneJson'], ['item    ', 'itemJson']];
const QUERIES = [
  '{ x: items { id n f t b j owner_id missing owner { id name } } }',
  '{ x: items { id nj fj tj } }',
  '{ x: items { id owner { name } } y: items { owner { id } } }',
  '{ x: items { id missingNN } }',
  '{ x: none { id t } }',
  '{ x: item(id: "1") { id n f t b j owner { name } } }',
  '{ x: item(id: "2") { id n missing } }',
  '{ x: item(id: "42") { id } }',
  '{ x: item(id: "1") { id missingNN } }',
];

async function suite(t, url, onPg) {
  // The same bytes both ways.
  for (const q of QUERIES) {
    const pair = PAIRS.find(([rows]) => q.includes(` ${rows.trim()} `) || q.includes(` ${rows.trim()}(`));
    const rowsQ = q.replaceAll(new RegExp(`\\b${pair[0].trim()}\\b( {0,4})?`, 'g'), pair[0]);
    const jsonQ = q.replaceAll(new RegExp(`\\b${pair[0].trim()}\\b( {0,4})?`, 'g'), pair[1]);
    assert.equal(rowsQ.length, jsonQ.length);
    const [a, b] = [await gql(url, rowsQ), await gql(url, jsonQ)];
    assert.equal(a, b, `rows and JSON text answer ${q} differently`);
  }

  // The rows answers, field by field.
  const all = JSON.parse(await gql(url, QUERIES[0]));
  const j = (v) => (onPg ? v : JSON.stringify(v));        // jsonb is JSON; SQLite's TEXT stays a string
  assert.deepEqual(all.data.x[0], { id: '1', n: 7, f: 1.5, t: 'seven', b: true, j: j({ k: [1, 'x'] }), owner_id: '1', missing: null, owner: { id: '1', name: 'one' } });
  assert.deepEqual(all.data.x[1], { id: '2', n: null, f: null, t: null, b: null, j: null, owner_id: '2', missing: null, owner: { id: '2', name: 'two' } });
  assert.deepEqual(all.data.x[2], { id: '3', n: -3, f: 0.25, t: 'quote " backslash \\ ünï', b: false, j: j([]), owner_id: '99', missing: null, owner: null });
  assert.deepEqual(all.data.x[3], { id: '4', n: null, f: -2, t: '', b: false, j: j(null), owner_id: '1', missing: null, owner: { id: '1', name: 'one' } });
  assert.deepEqual(all.data.x[4], { id: '5', n: 0, f: 3, t: '12', b: true, j: j('s'), owner_id: null, missing: null, owner: null });
  assert.deepEqual(all.errors.map((e) => [e.message, e.path]), [['Int cannot represent non 32-bit signed integer value: 2147483648', ['x', 3, 'n']]]);

  // Uncoerced (a JSON scalar passes values on as they are): numbers stay numbers.
  assert.deepEqual(JSON.parse(await gql(url, QUERIES[1])).data.x.map((r) => [r.nj, r.fj, r.tj]),
    [[7, 1.5, 'seven'], [null, null, null], [-3, 0.25, 'quote " backslash \\ ünï'], [2147483648, -2, ''], [0, 3, '12']]);

  const nn = JSON.parse(await gql(url, QUERIES[3]));
  assert.equal(nn.data, null);
  assert.deepEqual(nn.errors.map((e) => [e.message, e.path]), [['Cannot return null for non-nullable field Item.missingNN.', ['x', 0, 'missingNN']]]);
  assert.deepEqual(JSON.parse(await gql(url, QUERIES[4])), { data: { x: [] } });
  assert.deepEqual(JSON.parse(await gql(url, QUERIES[7])), { data: { x: null } });
  assert.deepEqual(JSON.parse(await gql(url, '{ item(id: "3") { t owner_id owner { id } } }')),
    { data: { item: { t: 'quote " backslash \\ ünï', owner_id: '99', owner: null } } });

  // A failed query: the database layer's error, the field null.
  const broken = JSON.parse(await gql(url, '{ broken { id } }'));
  assert.deepEqual(broken.data, { broken: null });
  assert.deepEqual(broken.errors.map((e) => [e.message, e.extensions?.code, e.path]), [['Internal Server Error', 'INTERNAL_SERVER_ERROR', ['broken']]]);
  // A constraint violation (the resolver's to decide; here it returns the rows): the field fails.
  const dup = JSON.parse(await gql(url, 'mutation { duplicate { id name } }'));
  assert.deepEqual(dup.data, { duplicate: null });
  assert.deepEqual(dup.errors.map((e) => [e.message, e.extensions?.code, e.path]), [['Internal server error', 'INTERNAL_SERVER_ERROR', ['duplicate']]]);
}

test('rows as field values on SQLite: the same bytes as JSON text, typed, NULLs, loader', async (t) => {
  const dir = app();
  const srv = await startServer(dir, { workers: 1, env: { DATABASE_URL: `sqlite:${path.join(dir, 'rows.db')}` } });
  after(() => srv.stop());
  await suite(t, `http://127.0.0.1:${srv.port}/api/graphql`, false);
});

test('rows as field values on PostgreSQL: the same bytes as JSON text, typed, NULLs, loader', async (t) => {
  if (!findPgBin()) { t.skip('PostgreSQL server binaries are not installed (scripts/deps.sh test)'); return; }
  const pg = await startPostgres();
  after(() => pg.stop());
  const dir = app();
  const srv = await startServer(dir, { workers: 1, env: { DATABASE_URL: pg.url } });
  after(() => srv.stop());
  await suite(t, `http://127.0.0.1:${srv.port}/api/graphql`, true);
});
