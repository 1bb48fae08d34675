// loader_diff.test.mjs -- differential test of Kiln's batching loader
// (kiln_gql_load, src/graphql/loader.c and the deferred fields of
// exec_defer.c)
// against graphql-js 16.11 with npm dataloader 2.2.3, both pinned in
// loader/package.json. The same resolvers and batch functions on both
// sides (loader_side.c in C); asserted per document: the response is the
// same bytes (data, null propagation, errors and their order) AND the
// batch functions were called the same number of times with the same keys
// in the same order (one call per level, cached keys never asked again).
// The documents (loader_cases.mjs) pin the order of errors where promises
// decide it: non-null fields failing beside loaded ones at every depth
// (promiseForObject(...).finally), lists with nullable and non-null items,
// cache hits, a batch failing as a whole, rejections climbing through
// loaded objects, errors pushed after the root promise settled but before
// execute()'s handler built the response, mutations; then thousands of random documents
// from fixed seeds, all equal (Kiln runs the promise jobs graphql-js and
// dataloader create, in their order: src/graphql/promise.c).
//
//   tests/run-integration.sh build tests/integration/graphql/loader_diff.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSide } from './side.mjs';
import { sdl, root, users, orgs, cases, randomCases } from './loader_cases.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loader');
if (!existsSync(path.join(dir, 'node_modules', 'dataloader', 'package.json')))
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
const require = createRequire(path.join(dir, 'package.json'));
const { parse, buildSchema, execute, defaultFieldResolver } = require('graphql');
const DataLoader = require('dataloader');

const schema = buildSchema(sdl);

async function reference(query) {
  const batches = [];
  const userLoader = new DataLoader(async (keys) => {
    batches.push(['users', ...keys]);
    return keys.map((k) => (k === '9' ? new Error(`no user ${k}`) : users[k] ?? null));
  });
  const orgLoader = new DataLoader(async (keys) => {
    batches.push(['orgs', ...keys]);
    return keys.map((k) => (k === 'bad' ? new Error(`bad org ${k}`) : orgs[k] ?? null));
  });
  const teamLoader = new DataLoader(async (keys) => {
    batches.push(['teams', ...keys]);
    throw new Error('team service down');
  });
  const r = {
    Post_author: (p) => userLoader.load(p.authorId),
    Post_authorNN: (p) => userLoader.load(p.authorId),
    Post_fail: (p) => { throw new Error(`fail ${p.id}`); },
    Post_failNN: (p) => { throw new Error(`failNN ${p.id}`); },
    User_org: (u) => orgLoader.load(u.orgId),
    User_orgNN: (u) => orgLoader.load(u.orgId),
    User_team: (u) => teamLoader.load(u.id),
    User_fail: (u) => { throw new Error(`ufail ${u.id}`); },
    User_failNN: (u) => { throw new Error(`ufailNN ${u.id}`); },
    Org_failNN: (o) => { throw new Error(`ofailNN ${o.id}`); },
    Query_user: (_, a) => userLoader.load(a.id),
    Query_userNN: (_, a) => userLoader.load(a.id),
    Mutation_touch: (_, a) => userLoader.load(a.id),
    Mutation_touchNN: (_, a) => userLoader.load(a.id),
  };
  const fieldResolver = (src, args, ctx, info) => {
    const fn = r[`${info.parentType.name}_${info.fieldName}`];
    return fn ? fn(src, args) : defaultFieldResolver(src, args, ctx, info);
  };
  const result = await execute({ schema, document: parse(query), rootValue: root, fieldResolver });
  return `${JSON.stringify(result)} ${JSON.stringify(batches)}`;
}

async function compare(cases) {
  const kiln = runSide('loader_side', { sdl, root, users, orgs, cases: cases.map((query) => ({ query })) });
  const ref = [];
  for (const q of cases) ref.push(await reference(q));
  assert.equal(kiln.length, cases.length);
  const bad = [];
  cases.forEach((q, i) => { if (kiln[i] !== ref[i]) bad.push(`${q}\n  graphql-js: ${ref[i]}\n  kiln:       ${kiln[i]}`); });
  assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ:\n${bad.join('\n')}`);
}

test('same responses and the same batches as graphql-js with dataloader', () => compare(cases));
// Seeds and counts: the documents differ from run to run of the seeds only
// if the generator changes; 3 x 1000 run in a few seconds.
for (const seed of [1, 2, 3])
  test(`same responses and batches on 1000 random documents (seed ${seed})`, () => compare(randomCases(seed, 1000)));

test('one batch per level: N posts with authors cost one users batch', async () => {
  const out = await reference('{ posts { author { name } } }');
  const kiln = runSide('loader_side', { sdl, root, users, orgs, cases: [{ query: '{ posts { author { name } } }' }] })[0];
  const batches = JSON.parse(kiln.slice(kiln.lastIndexOf(' [')));
  assert.deepEqual(batches, [['users', '1', '2', '9', '0', '3']]);   // 6 posts, 5 distinct keys, 1 call
  assert.equal(kiln, out);
});
