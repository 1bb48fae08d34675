// vars_diff.test.mjs -- differential test of Kiln's GraphQL input coercion
// (src/graphql/values.c) against graphql-js (pinned in package.json):
// getVariableValues (coerced variables, or the errors with their messages
// and locations) and getArgumentValues on each top-level field, for the
// documents and variables of vars_cases.mjs. Both sides print values with
// JSON.stringify, so numbers, key order and escapes are compared too.
//
//   tests/run-integration.sh build tests/integration/graphql/vars_diff.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { sdl, cases } from './vars_cases.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
if (!existsSync(path.join(here, 'node_modules', 'graphql', 'package.json')))
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
const require = createRequire(path.join(here, 'package.json'));
const { parse, buildSchema } = require('graphql');
const { getVariableValues, getArgumentValues } = require('graphql/execution/values.js');

const schema = buildSchema(sdl);
const shape = (e) => (e.locations
  ? { message: e.message, locations: e.locations.map(({ line, column }) => ({ line, column })) }
  : { message: e.message });

function reference({ query, variables }) {
  const op = parse(query).definitions[0];
  const r = getVariableValues(schema, op.variableDefinitions, variables, { maxErrors: 50 });
  if (r.errors) return { errors: r.errors.map(shape) };
  const args = {};
  for (const f of op.selectionSet.selections) {
    const def = schema.getQueryType().getFields()[f.name.value];
    if (!def) continue;
    try {
      args[(f.alias ?? f.name).value] = getArgumentValues(def, f, r.coerced);
    } catch (e) {
      args[(f.alias ?? f.name).value] = { error: [shape(e)] };
    }
  }
  return { coerced: r.coerced, args };
}

function kilnSide() {
  const out = path.join(repo, 'build', 'graphql_diff');
  mkdirSync(out, { recursive: true });
  const bin = path.join(out, 'vars_side');
  const srcs = (dir) => readdirSync(path.join(repo, dir)).filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);
  const san = process.env.KILN_DIFF_SAN === '0' ? [] : ['-fsanitize=address,undefined', '-fno-omit-frame-pointer'];
  execFileSync(process.env.CC || 'gcc', [
    '-std=c17', '-O1', '-g', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wno-unused-parameter',
    '-D_GNU_SOURCE', '-Iinclude', '-Isrc', ...san,
    'tests/integration/graphql/vars_side.c', ...srcs('src/core'), ...srcs('src/json'), ...srcs('src/graphql'),
    '-o', bin, '-lm', '-lpthread',
  ], { cwd: repo, stdio: 'inherit' });
  const file = path.join(out, 'vars_cases.json');
  writeFileSync(file, JSON.stringify({ sdl, cases }));
  const env = { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1' };
  return execFileSync(bin, [file], { cwd: repo, env, maxBuffer: 64 << 20, encoding: 'utf8' }).trimEnd().split('\n');
}

const kiln = kilnSide();
const ref = cases.map((c) => JSON.stringify(reference(c)));

test('same coerced variables and arguments, or the same errors, as graphql-js', () => {
  assert.ok(cases.length >= 150, `only ${cases.length} cases`);
  assert.equal(kiln.length, cases.length);
  const bad = [];
  cases.forEach((c, i) => {
    if (kiln[i] !== ref[i]) bad.push(`${c.query} ${JSON.stringify(c.variables)}\n  graphql-js: ${ref[i]}\n  kiln:       ${kiln[i]}`);
  });
  assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ; first ones:\n${bad.slice(0, 8).join('\n')}`);
});
