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
import { graphql, runSide } from './side.mjs';
import { sdl, cases } from './vars_cases.mjs';

const { parse, buildSchema } = graphql();
const { getVariableValues, getArgumentValues } = graphql('graphql/execution/values.js');

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

const kiln = runSide('vars_side', { sdl, cases });
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
