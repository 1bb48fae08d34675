// limits.test.mjs -- the abuse limits of src/graphql/limits.c on real
// documents: with introspection off, the same errors as graphql-js's
// NoSchemaIntrospectionCustomRule (messages, locations, order); with the
// default limits, the introspection queries GraphiQL and code generators
// send (graphql-js's getIntrospectionQuery, every option on) pass, and
// documents past each limit are refused.
//
//   tests/run-integration.sh build tests/integration/graphql/limits.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphql, runSide } from './side.mjs';
import { sdl } from './exec_cases.mjs';

const g = graphql();
const schema = g.buildSchema(sdl);

const introspectionDocs = [
  '{ hello }',
  '{ __typename people { __typename } }',
  '{ __schema { queryType { name } } }',
  '{ __type(name: "Person") { name fields { name type { name ofType { name } } } } }',
  '{ __schema { types { name fields { name args { name type { kind } } } } directives { name } } }',
  'query Q { a: __schema { t: types { name } } ...F } fragment F on Query { __type(name: "Pet") { possibleTypes { name } } }',
  '{ people { id } } fragment Unused on Query { __schema { description } }',
  '{ nodes { ... on Person { __typename name } } __schema { subscriptionType { name } mutationType { kind } } }',
  '{ __schema { nope } __typo }',
  '{ person(id: "1") { __schema { types { name } } } }',
  `query IntrospectionQuery {
  __schema {
    queryType { name }
    types { ...T }
  }
}
fragment T on __Type { kind name enumValues(includeDeprecated: true) { name } inputFields { name } }`,
  g.getIntrospectionQuery(),
];

const shape = (e) => ({ message: e.message, locations: e.locations.map(({ line, column }) => ({ line, column })) });

test('introspection off: the same errors as graphql-js NoSchemaIntrospectionCustomRule', () => {
  const kiln = runSide('limits_side', { sdl, docs: introspectionDocs, limits: { introspection: false, depth: 0, aliases: 0, fields: 0 } });
  const ref = introspectionDocs.map((d) => JSON.stringify({ errors: g.validate(schema, g.parse(d), [g.NoSchemaIntrospectionCustomRule]).map(shape) }));
  assert.ok(ref.filter((r) => r.includes('introspection has been disabled')).length >= 8, 'too few refused documents');
  introspectionDocs.forEach((d, i) => assert.equal(kiln[i], ref[i], d));
});

test('introspection on (the default): nothing reported, and GraphiQL\'s introspection query fits the default limits', () => {
  const full = g.getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true, oneOf: true });
  const docs = [...introspectionDocs, full];
  const kiln = runSide('limits_side', { sdl, docs });
  docs.forEach((d, i) => assert.equal(kiln[i], '{"errors":[]}', d.slice(0, 80)));
});

test('documents past each default limit are refused with the documented messages', () => {
  const deep = `{ ${'people { friends { '.repeat(8)}id${' } }'.repeat(8)} }`;                 // depth 17
  const aliases = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: hello`).join(' ')} }`;
  const fields = `{ ...F ...F } fragment F on Query { ${Array.from({ length: 501 }, (_, i) => `f${i}: hello`).join(' ')} }`;
  const ok = `{ ${'people { friends { '.repeat(5)}id${' } }'.repeat(5)} }`;                      // depth 11
  const kiln = runSide('limits_side', { sdl, docs: [deep, aliases, fields, ok] }).map((l) => JSON.parse(l).errors);
  assert.deepEqual(kiln[0].map((e) => e.message), ['Query depth 17 exceeds the limit of 12.']);
  assert.deepEqual(kiln[0][0].locations, [{ line: 1, column: 1 + deep.indexOf('id') }]);
  assert.deepEqual(kiln[1].map((e) => e.message), ['Operation has 31 aliases, exceeding the limit of 30.']);
  assert.deepEqual(kiln[2].map((e) => e.message), [
    'Operation has 1002 aliases, exceeding the limit of 30.',
    'Operation has 1002 fields, exceeding the limit of 1000.',
  ]);
  assert.deepEqual(kiln[2][0].locations, [{ line: 1, column: 1 }]);
  assert.deepEqual(kiln[3], []);
});
