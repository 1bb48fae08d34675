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
import { graphql, runSide } from './side.mjs';
import { cases } from './schema_cases.mjs';

const { parse, buildASTSchema, validateSchema, printSchema, execute, getIntrospectionQuery } = graphql();
const { validateSDL } = graphql('graphql/validation/validate.js');

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

const all = cases();
const kiln = runSide('schema_side', { sdls: all.map((c) => c.sdl), introspection: introspectionQuery })
  .map((line) => JSON.parse(line));
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
