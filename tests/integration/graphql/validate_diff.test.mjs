// validate_diff.test.mjs -- differential test of Kiln's GraphQL validation
// (src/graphql/validate.c, validate_overlap.c ...) against graphql-js's
// validate() with the same rules: all 26 of specifiedRules, in that order.
// Asserted per document: the same errors (messages, locations) in the same
// order. OverlappingFieldsCanBeMerged also gets its own schema and shapes
// (overlap_cases.mjs) and a bounded-time test on a big document.
//
//   tests/run-integration.sh build tests/integration/graphql/validate_diff.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphql, runSide } from './side.mjs';
import { sdl } from './exec_cases.mjs';
import { overlapSdl, overlapDocs, bigDocument } from './overlap_cases.mjs';

const g = graphql();
const rules = [g.ExecutableDefinitionsRule, g.UniqueOperationNamesRule, g.LoneAnonymousOperationRule,
  g.SingleFieldSubscriptionsRule, g.KnownTypeNamesRule, g.FragmentsOnCompositeTypesRule, g.VariablesAreInputTypesRule, g.ScalarLeafsRule,
  g.FieldsOnCorrectTypeRule, g.UniqueFragmentNamesRule, g.KnownFragmentNamesRule, g.NoUnusedFragmentsRule,
  g.PossibleFragmentSpreadsRule, g.NoFragmentCyclesRule, g.UniqueVariableNamesRule, g.NoUndefinedVariablesRule,
  g.NoUnusedVariablesRule, g.KnownDirectivesRule, g.UniqueDirectivesPerLocationRule, g.KnownArgumentNamesRule,
  g.UniqueArgumentNamesRule, g.ValuesOfCorrectTypeRule, g.ProvidedRequiredArgumentsRule,
  g.VariablesInAllowedPositionRule, g.OverlappingFieldsCanBeMergedRule, g.UniqueInputFieldNamesRule,
  g.MaxIntrospectionDepthRule];
const schema = g.buildSchema(sdl);

// Documents: each rule triggered several ways, alone and together.
const docs = [
  '{ hello }',
  'query A { hello } query B { hello }',
  'query A { hello } query A { people { id } } query A { hello }',
  '{ hello } { hello }',
  '{ hello } query A { hello }',
  'query A { hello } mutation A { count } subscription A { hello }',
  'fragment F on Query { hello } fragment F on Query { hello } { ...F }',
  'fragment F on Query { hello } fragment G on Query { ...F } fragment F on Person { id } { ...G }',
  '{ ...Nope people { ...Gone } }',
  'query { ...F } fragment F on Query { hello ...H }',
  'fragment Unused on Query { hello } { hello }',
  'fragment A on Query { ...B } fragment B on Query { hello } fragment C on Query { hello } query Q { ...A } query R { hello }',
  'fragment A on Query { ...A } { ...A }',
  'fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { ...A } { ...A }',
  'fragment A on Query { ...B ...C } fragment B on Query { ...A } fragment C on Query { ...B ...A } { ...A }',
  'fragment A on Query { people { ...B } } fragment B on Person { friends { ...C } } fragment C on Person { best { ...B } } { ...A }',
  'query Q($a: Int, $a: Int, $b: Int, $a: String, $b: Int) { echo(a: $a, s: $b) }',
  'query Q($a: Int) { echo(a: $b) }',
  '{ echo(a: $x, j: {k: [$y, $x]}) }',
  'query Q($a: Int, $unused: Int) { echo(a: $a) }',
  'query ($unused: Int) { hello }',
  'query Q($a: Int) { ...F } fragment F on Query { echo(a: $a) ...G } fragment G on Query { echo(s: $s) }',
  'query Q($a: Int) { ...F } query R { ...F } fragment F on Query { echo(a: $a) }',
  'query Q($d: Boolean!) { hello @include(if: $d) people @skip(if: $e) { id } }',
  'query Q($v: Int = 1) { echo(a: $v) }',
  'type Foo { a: Int } { hello } extend type Query { b: Int } schema { query: Query } scalar S directive @d on FIELD',
  'query A { ...F } query A { ...F } fragment F on Query { echo(a: $z) } fragment F on Query { hello } fragment U on Query { ...U } { hello }',
  'query Q($x: Int, $y: Int) { a: echo(a: $x) b: echo(a: $x) }',
  '{ people { ...P } } fragment P on Person { friends { ...P } }',
  // KnownTypeNames, FragmentsOnCompositeTypes, VariablesAreInputTypes
  'query Q($a: Strng, $b: [Persn!], $c: Filtr) { hello }',
  '{ ... on Persn { id } people { ... on Nod { id } } } fragment F on Quer { hello }',
  '{ ... on Color { x } } fragment F on String { a } fragment G on Filter { b } { ...F ...G }',
  'query Q($a: Person, $b: [Node!]!, $c: Pet, $d: Color, $e: Filter, $f: JSON) { hello }',
  'query Q($a: __Type) { __schema { types { name } } }',
  // KnownDirectives, UniqueDirectivesPerLocation
  '{ hello @unknown people @skip(if: true) @skip(if: false) { id } }',
  'query Q @skip(if: true) { hello } fragment F on Query @include(if: true) { hello } { ...F @deprecated }',
  'query Q($v: Int @skip(if: true)) { hello @include(if: true) @include(if: false) @skip(if: true) }',
  '{ ... @skip(if: true) @skip(if: true) { hello } ...F @include(if: true) @include(if: true) } fragment F on Query { hello }',
  'mutation M @include(if: true) { count } subscription S @specifiedBy(url: "x") { hello }',
  // KnownArgumentNames (directives), UniqueArgumentNames, ProvidedRequiredArguments (directives)
  '{ hello @skip(iff: true) people @include { id } x: hello @skip(if: true, if: false) }',
  '{ echo(a: 1, a: 2, s: "x", s: "y", a: 3) person(id: "1", id: "2") { id } }',
  '{ hello @deprecated(reason: "x", reasn: "y") @include(if: true, unless: false) }',
  // UniqueInputFieldNames
  '{ echo(f: {color: RED, color: BLUE, names: ["a"]}, j: {a: 1, a: {b: 1, b: 2}, c: [{d: 1, d: 2}]}) }',
  'query Q($f: Filter = {min: 1, min: 2}) { echo(f: $f) }',
  // ScalarLeafs, FieldsOnCorrectType (suggestions), PossibleFragmentSpreads
  '{ people hello { x } person(id: "1") { pet best { name { x } } } }',
  '{ helo peple { id nam ag } person(id: "1") { frends { idd } } }',
  '{ nodes { name id barks lives age zzz } pets { name id barks } }',
  '{ nodes { ... on Named { name } ... on Pet { __typename } ... on Dog { barks } ... on Person { nam } } }',
  '{ pets { ... on Person { id } ... on Dog { id } ... on Node { id } ... on Named { name } } }',
  '{ people { ... on Dog { id } ...D ...N ...U } } fragment D on Dog { barks } fragment N on Node { id } fragment U on Pet { __typename }',
  '{ people { pet { ... on Person { id } ...on Cat { lives } } } }',
  '{ __typename people { __typename } __schema { queryType { name } } __type(name: "Person") { name } __typo }',
  '{ pets { __typename id name } nodes { __typename id bark } }',
  // KnownArgumentNames, ProvidedRequiredArguments on fields
  '{ person { id } hello(x: 1) people(first: 2) { id } echo(aa: 1, a: 2, bb: 3) }',
  '{ person(idd: "1") { id } p2: person(id: "1", extra: 2) { id } }',
  '{ __type { name } __type(nam: "x") { name } }',
  // ValuesOfCorrectType
  '{ echo(a: "x", s: 1, b: [RED, "BLUE", GREN, 1, null], j: {any: [1, "x"]}) }',
  '{ echo(a: 1.5, f: {color: "RED", min: 2147483648, names: ["a", 1, null], nope: 1, colr: RED}) }',
  '{ echo(f: [{min: 1}], b: RED, a: [1]) person(id: 1.5) { id } p2: person(id: true) { id } p3: person(id: null) { id } }',
  '{ echo(f: "x", j: [{a: B}], a: null, s: null) people @include(if: "yes") { id } }',
  'query Q($a: Int = "x", $b: [Color!] = [RED, PINK], $f: Filter = {min: true}) { echo(a: $a, b: $b, f: $f) }',
  '{ echo(b: [[RED]], f: {names: "single"}) hello @skip(if: 1) }',
  '{ echo(a: 2147483647, s: "s", j: 1e999) x: echo(a: -2147483649) }',
  // VariablesInAllowedPosition
  'query Q($a: String, $b: Int, $c: [Color], $d: Color!, $e: Filter) { echo(a: $a, s: $b, b: $c, f: $e) person(id: $a) { id } x: echo(b: [$d]) }',
  'query Q($id: ID, $id2: ID = "1", $n: [String]) { person(id: $id) { id } p: person(id: $id2) { id } echo(f: {names: $n}) }',
  'query Q($b: Boolean, $s: String) { hello @include(if: $b) people @skip(if: $s) { id } }',
  'query Q($x: Int) { ...F } fragment F on Query { echo(s: $x) people { ...G } } fragment G on Person { friends { id } }',
  'query Q($c: Color) { echo(b: [$c]) y: echo(b: $c) }',
  'query Q($s: String = "d") { echo(s: $s) }',
  // SingleFieldSubscriptions, MaxIntrospectionDepth
  'subscription S { tick other }',
  'subscription { tick t2: tick other __typename }',
  'subscription S { __typename }',
  'subscription S { tick ...F ... on Subscription { other } } fragment F on Subscription { tick x: other }',
  'subscription S($skip: Boolean = true) { tick other @skip(if: true) ... @include(if: false) { x: tick } }',
  '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
  '{ __type(name: "Person") { fields { type { interfaces { possibleTypes { name } } } } } }',
  '{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...T } } }',
  '{ __schema { types { fields { name } interfaces { name } } } }',
  // OverlappingFieldsCanBeMerged on this schema (more in overlap_cases.mjs)
  '{ hello hello: people { id } }',
  '{ people { id: name } people { id } }',
  '{ person(id: "1") { id } person(id: "2") { id } }',
  '{ nodes { ... on Person { x: age } ... on Dog { x: barks } } }',
  '{ nodes { ... on Person { x: name } ... on Dog { x: name } } pets { ... on Dog { n: id } ... on Cat { n: name } } }',
  '{ echo(f: {min: 1, color: RED}) echo(f: {color: RED, min: 1}) x: echo(a: 1) x: echo(a: 2) }',
  'query Q($a: Int) { echo(a: $a) echo(a: 1) ...F } fragment F on Query { echo(a: $a) }',
  '{ people { friends { best { name } } } people { friends { best { name: color } } } }',
];
// Mechanical variants: every pair of the documents above joined.
const base = docs.slice();
for (let i = 0; i < base.length; i++)
  for (let j = i + 1; j < base.length; j += 4) docs.push(`${base[i]}\n${base[j]}`);

// The OverlappingFieldsCanBeMerged shapes on their own schema, alone and
// in mechanical pairs.
const odocs = overlapDocs.slice();
for (let i = 0; i < overlapDocs.length; i++) odocs.push(`${overlapDocs[i]}\n${overlapDocs[(i * 7 + 3) % overlapDocs.length]}`);

const shape = (e) => ({ message: e.message, locations: e.locations.map(({ line, column }) => ({ line, column })) });
function reference(doc, on = schema) {
  let d;
  try { d = g.parse(doc); } catch (e) { return JSON.stringify({ syntax: e.message }); }
  return JSON.stringify({ errors: g.validate(on, d, rules).map(shape) });
}

test('the same validation errors as graphql-js (all of specifiedRules)', () => {
  const kiln = runSide('validate_side', { sdl, docs });
  assert.equal(kiln.length, docs.length);
  const ref = docs.map((d) => reference(d));
  const bad = [];
  docs.forEach((d, i) => { if (kiln[i] !== ref[i]) bad.push(`${JSON.stringify(d)}\n  graphql-js: ${ref[i]}\n  kiln:       ${kiln[i]}`); });
  assert.ok(docs.length >= 100, `only ${docs.length} documents`);
  assert.ok(ref.filter((r) => r !== '{"errors":[]}').length >= 50, 'too few invalid documents');
  assert.equal(bad.length, 0, `${bad.length} of ${docs.length} differ; first ones:\n${bad.slice(0, 6).join('\n')}`);
});

test('OverlappingFieldsCanBeMerged: graphql-js test shapes, byte-equal', () => {
  const oschema = g.buildSchema(overlapSdl);
  const kiln = runSide('validate_side', { sdl: overlapSdl, docs: odocs });
  assert.equal(kiln.length, odocs.length);
  const ref = odocs.map((d) => reference(d, oschema));
  const bad = [];
  odocs.forEach((d, i) => { if (kiln[i] !== ref[i]) bad.push(`${JSON.stringify(d)}\n  graphql-js: ${ref[i]}\n  kiln:       ${kiln[i]}`); });
  assert.ok(odocs.length >= 150, `only ${odocs.length} documents`);
  const conflicts = ref.filter((r) => r.includes('Use different aliases on the fields')).length;
  assert.ok(conflicts >= 100, `only ${conflicts} documents with a field conflict`);
  assert.equal(bad.length, 0, `${bad.length} of ${odocs.length} differ; first ones:\n${bad.slice(0, 6).join('\n')}`);
});

test('OverlappingFieldsCanBeMerged: thousands of fields and fragments validate fast', () => {
  const oschema = g.buildSchema(overlapSdl);
  const doc = bigDocument(12000, 200);    // ~44,000 tokens, under the parser's 50,000
  const t0 = process.hrtime.bigint();
  const kiln = runSide('validate_side', { sdl: overlapSdl, docs: [doc], timed: true });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const ref = reference(doc, oschema);
  assert.ok(kiln[0] === ref, `differs:\n  graphql-js: ${ref.slice(0, 400)}\n  kiln:       ${kiln[0].slice(0, 400)}`);
  // validate_side reports its own validation time (the last line); the
  // bound has headroom for a sanitizer build on a busy machine.
  const took = Number(kiln[1]);
  assert.ok(took < 3000, `validation took ${took} ms (whole run ${ms.toFixed(0)} ms)`);
});
