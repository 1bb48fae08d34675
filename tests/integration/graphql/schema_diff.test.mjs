// schema_diff.test.mjs -- differential test of Kiln's GraphQL schema
// builder (src/graphql/schema*.c, sdl_rules.c) against graphql-js (npm
// `graphql`, pinned in package.json).
//
//   tests/run-integration.sh build tests/integration/graphql/schema_diff.test.mjs
//
// Each SDL document of schema_cases.mjs goes to graphql-js (parse,
// validateSDL, buildASTSchema, validateSchema, printSchema) and to Kiln
// (gql_parse, gql_schema_build, gql_schema_print; schema_side.c, built here
// with ASan+UBSan unless KILN_DIFF_SAN=0). Asserted per document: the same
// printed schema, type map and introspection answer, or the same errors in the same order (messages and
// locations), or the same syntax error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cases } from './schema_cases.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

if (!existsSync(path.join(here, 'node_modules', 'graphql', 'package.json')))
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
const require = createRequire(path.join(here, 'package.json'));
const { parse, buildASTSchema, validateSchema, printSchema, execute, getIntrospectionQuery } = require('graphql');
const { validateSDL } = require('graphql/validation/validate.js');

// Every valid schema is also introspected on both sides (GraphiQL's query
// with every option): the answers must be the same bytes.
const introspectionQuery = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true,
  directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });

function refSchema(sdl) {
  let doc;
  try {
    doc = parse(sdl);
  } catch (e) {
    if (!e.locations) throw e;
    return { syntax: e.message };
  }
  const shape = (e) => (e.locations
    ? { message: e.message, locations: e.locations.map(({ line, column }) => ({ line, column })) }
    : { message: e.message });
  const sdlErrors = validateSDL(doc);
  if (sdlErrors.length) return { errors: sdlErrors.map(shape) };
  const schema = buildASTSchema(doc, { assumeValidSDL: true });
  const errors = validateSchema(schema);
  if (errors.length) return { errors: errors.map(shape) };
  const introspection = execute({ schema, document: parse(introspectionQuery) });
  return { print: printSchema(schema), types: Object.keys(schema.getTypeMap()), introspection };
}

function buildKiln() {
  const out = path.join(repo, 'build', 'graphql_diff');
  mkdirSync(out, { recursive: true });
  const bin = path.join(out, 'schema_side');
  const cc = process.env.CC || 'gcc';
  const srcs = (dir) => readdirSync(path.join(repo, dir)).filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);
  const san = process.env.KILN_DIFF_SAN === '0' ? [] : ['-fsanitize=address,undefined', '-fno-omit-frame-pointer'];
  execFileSync(cc, [
    '-std=c17', '-O1', '-g', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wno-unused-parameter',
    '-D_GNU_SOURCE', '-Iinclude', '-Isrc', ...san,
    'tests/integration/graphql/schema_side.c', ...srcs('src/core'), ...srcs('src/json'), ...srcs('src/graphql'),
    '-o', bin, '-lm', '-lpthread',
  ], { cwd: repo, stdio: 'inherit' });
  return { bin, dir: out };
}

const all = cases();
const { bin, dir } = buildKiln();
const file = path.join(dir, 'schema_docs.json');
writeFileSync(file, JSON.stringify({ sdls: all.map((c) => c.sdl), introspection: introspectionQuery }));
const env = { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1' };
const kiln = execFileSync(bin, [file], { cwd: repo, env, maxBuffer: 256 << 20, encoding: 'utf8' })
  .trimEnd().split('\n').map((line) => JSON.parse(line));
const ref = all.map((c) => refSchema(c.sdl));

const show = (s) => JSON.stringify(s).slice(0, 600);

test('both sides answered every document; the groups are what they claim', () => {
  assert.equal(kiln.length, all.length);
  all.forEach((c, i) => {
    if (c.group === 'valid') assert.ok(ref[i].print !== undefined, `graphql-js rejects ${show(c.sdl)}: ${show(ref[i])}`);
    if (c.group === 'invalid') assert.ok(ref[i].errors !== undefined, `graphql-js accepts ${show(c.sdl)}`);
  });
});

for (const group of ['valid', 'invalid']) {
  test(`${group}: same printed schema or same errors as graphql-js`, () => {
    const bad = [];
    let n = 0;
    all.forEach((c, i) => {
      if (c.group !== group) return;
      n++;
      if (JSON.stringify(kiln[i]) !== JSON.stringify(ref[i]))
        bad.push(`sdl ${show(c.sdl)}\n  graphql-js: ${show(ref[i])}\n  kiln:       ${show(kiln[i])}`);
    });
    if (n === 0) return;
    assert.equal(bad.length, 0, `${bad.length} of ${n} differ; first ones:\n${bad.slice(0, 6).join('\n')}`);
  });
}
