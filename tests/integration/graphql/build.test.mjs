// build.test.mjs -- `kiln build` and an app's GraphQL: APP/graphql/schema.graphql
// checked against the resolvers of APP/graphql/*.c (found by name, no table
// to edit). Asserted: a root field without a resolver, a resolver that
// matches no field (with "Did you mean"), a duplicate resolver, a schema
// syntax error and a schema error each fail the build naming file:line;
// a consistent app builds, and its generated routes.c carries the resolver
// table and the SDL.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KILN, REPO } from '../lib/server.mjs';

const run = (args) => spawnSync(KILN, args, { cwd: REPO, encoding: 'utf8', timeout: 120_000 });

let tmp;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-build-')); });
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

const HELLO = '#include <kiln.h>\nvoid handler(kiln_req *req, kiln_res *res) { kiln_json(res, 200, "{ok: true}"); }\n';
const SCHEMA = 'type Post { id: ID! title: String! }\ntype Query {\n  hello: String!\n  posts: [Post!]!\n}\ntype Mutation { createPost(title: String!): Post! }\n';
const GOOD = `#include <kiln.h>

static int helper(void) { return 1; }

void Query_hello(kiln_gql *g)
{
    (void)helper;
    kiln_gql_return(g, NULL);
}

void Query_posts(kiln_gql *g) { kiln_gql_error(g, "UNAUTHENTICATED", "Unauthorized"); }
void Mutation_createPost(kiln_gql *g) { kiln_gql_return(g, kiln_gql_arg(g, "title")); }
`;

function app(name, files) {
  const dir = path.join(tmp, name);
  for (const [rel, src] of Object.entries({ 'pages/api/hello.c': HELLO, ...files })) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), src);
  }
  return dir;
}

test('a consistent schema and resolvers build; routes.c carries the table and the SDL', () => {
  const dir = app('good', { 'graphql/schema.graphql': SCHEMA, 'graphql/posts.c': GOOD });
  const r = run(['build', dir]);
  assert.equal(r.status, 0, r.stderr);
  const gen = fs.readFileSync(path.join(dir, '.kiln/routes.c'), 'utf8');
  for (const name of ['Query_hello', 'Query_posts', 'Mutation_createPost']) assert.match(gen, new RegExp(`\\{ "${name}", ${name} \\}`));
  assert.doesNotMatch(gen, /helper/, 'static helpers are not resolvers');
  assert.match(gen, /graphql_sdl, graphql_resolvers, 3 \}/);
  assert.match(gen, /"type Query \{\\n"/);
  assert.ok(fs.statSync(path.join(dir, '.kiln/server')).mode & 0o111);
});

test('an app without graphql/ builds as before', () => {
  const dir = app('plain', {});
  const r = run(['build', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(dir, '.kiln/routes.c'), 'utf8'), /kiln_app_matcher, 0, 0, 0 \}/);
});

test('a root field without a resolver fails the build at its line in the schema', () => {
  const dir = app('missing', { 'graphql/schema.graphql': SCHEMA, 'graphql/posts.c': GOOD.replace(/void Query_posts[^\n]*\n/, '') });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /graphql\/schema\.graphql:4:3: Query\.posts needs a resolver: define void Query_posts\(kiln_gql \*g\)/);
  assert.ok(!fs.existsSync(path.join(dir, '.kiln/server')));
});

test('a resolver that matches no field fails at its file:line, with suggestions', () => {
  const dir = app('stray', {
    'graphql/schema.graphql': SCHEMA,
    'graphql/posts.c': `${GOOD}\nvoid Post_titel(kiln_gql *g) { }\n`,
    'graphql/more.c': '#include <kiln.h>\n\n\nvoid Query_hello(kiln_gql *g) { }\n',
  });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /graphql\/posts\.c:14: resolver Post_titel matches no field of graphql\/schema\.graphql\. Did you mean "Post_title"/);
  assert.match(r.stderr, /graphql\/posts\.c:5: resolver Query_hello is also defined at graphql\/more\.c:4/);
});

test('schema errors fail the build with the graphql-js message at file:line:col', () => {
  let dir = app('syntax', { 'graphql/schema.graphql': 'type Query {\n  a:\n}\n', 'graphql/posts.c': '' });
  let r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /graphql\/schema\.graphql:3:1: Syntax Error: Expected Name, found "\}"\./);
  dir = app('unknown', { 'graphql/schema.graphql': 'type Query { a: Strin }\n', 'graphql/posts.c': '' });
  r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /graphql\/schema\.graphql:1:17: Unknown type "Strin"\. Did you mean "String"\?/);
  dir = app('noquery', { 'graphql/schema.graphql': 'type Foo { a: Int }\n', 'graphql/posts.c': '' });
  r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /graphql\/schema\.graphql: Query root type must be provided\./);
});
