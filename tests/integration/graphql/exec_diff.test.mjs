// exec_diff.test.mjs -- differential test of Kiln's GraphQL executor
// (src/graphql/exec.c) against graphql-js's execute() (pinned in
// package.json): the schema, root data and documents of exec_cases.mjs,
// resolvers written once in JavaScript (exec_cases.mjs) and once in C
// (exec_side.c, bound by name). Asserted per document: the response is the
// same bytes as JSON.stringify(graphql-js's result) -- data, and errors
// with messages, locations, paths and extensions, in the same order.
//
//   tests/run-integration.sh build tests/integration/graphql/exec_diff.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphql, runSide } from './side.mjs';
import { sdl, root, cases as baseCases, resolvers } from './exec_cases.mjs';

const { parse, buildSchema, execute, defaultFieldResolver, GraphQLError, getIntrospectionQuery } = graphql();

// Introspection: GraphiQL's and codegen's query with every option, and
// direct __schema / __type questions.
const full = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true,
  inputValueDeprecation: true, oneOf: true };
const introCases = [
  { query: getIntrospectionQuery(), variables: {} },
  { query: getIntrospectionQuery(full), variables: {} },
  { query: '{ __type(name: "Person") { name kind fields(includeDeprecated: true) { name args { name defaultValue } type { kind name ofType { kind name ofType { kind name } } } } interfaces { name } } }', variables: {} },
  { query: '{ __type(name: "Node") { possibleTypes { name } } pet: __type(name: "Pet") { possibleTypes { name } } }', variables: {} },
  { query: '{ __type(name: "Filter") { inputFields { name defaultValue type { name kind } } isOneOf } }', variables: {} },
  { query: '{ __type(name: "Color") { enumValues { name isDeprecated } } nope: __type(name: "Nope") { name } }', variables: {} },
  { query: '{ __schema { queryType { name } mutationType { name } subscriptionType { name } directives { name locations isRepeatable args { name defaultValue } } } }', variables: {} },
  { query: '{ __schema { types { name kind description specifiedByURL } } }', variables: {} },
  { query: 'query Q($n: String!) { __type(name: $n) { name } }', variables: { n: 'JSON' } },
  { query: '{ __type { name } }', variables: {} },
  { query: '{ people { __schema { description } } }', variables: {} },
];
const cases = [...baseCases, ...introCases];
const schema = buildSchema(sdl);
const r = resolvers(GraphQLError);
const fieldResolver = (src, args, ctx, info) => {
  const fn = r[`${info.parentType.name}_${info.fieldName}`];
  return fn ? fn(src, args) : defaultFieldResolver(src, args, ctx, info);
};

function reference(c) {
  r.reset();
  const result = execute({ schema, document: parse(c.query), rootValue: root, variableValues: c.variables,
    operationName: c.operationName, fieldResolver });
  return JSON.stringify(result);
}

const kiln = runSide('exec_side', { sdl, root, cases });
const ref = cases.map(reference);

test('same response bytes as graphql-js execute() on every document', () => {
  assert.equal(kiln.length, cases.length);
  const bad = [];
  cases.forEach((c, i) => {
    if (kiln[i] !== ref[i]) bad.push(`${c.query} ${JSON.stringify(c.variables)} ${c.operationName ?? ''}\n  graphql-js: ${ref[i]}\n  kiln:       ${kiln[i]}`);
  });
  assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ; first ones:\n${bad.slice(0, 6).join('\n')}`);
});
