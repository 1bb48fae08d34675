// parse_diff.test.mjs -- differential test of Kiln's GraphQL parser and
// printer (src/graphql) against graphql-js (npm `graphql`, pinned in
// package.json), the reference implementation Apollo Server runs on.
//
//   tests/run-integration.sh build tests/integration/graphql/parse_diff.test.mjs
//
// The documents come from parse_cases.mjs (a few thousand, deterministic:
// hand-written valid and invalid documents plus every prefix and seeded
// mutants of the valid ones). Each goes to graphql-js's parse() + print()
// and to Kiln's gql_parse() + gql_print() (parse_side.c, built here with
// ASan+UBSan unless KILN_DIFF_SAN=0). Asserted per document: the printed
// text is byte-equal, or the syntax error's message and location are.
// Also asserted: print -> parse -> print is stable on both sides.
//
// Setup (side.mjs): `npm install --no-audit --no-fund` in this folder when
// node_modules/graphql is missing (the npm registry must be reachable then).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphql, runSide } from './side.mjs';
import { cases } from './parse_cases.mjs';

const { parse, print } = graphql();
const runKiln = (docs) => runSide('parse_side', docs).map((line) => JSON.parse(line));

function runGraphqlJs(doc) {
  try {
    return { print: print(parse(doc)) };
  } catch (e) {
    if (!e.locations) throw e;
    return { message: e.message, locations: e.locations.map(({ line, column }) => ({ line, column })) };
  }
}

const all = cases();
const docs = all.map((c) => c.doc);
const kiln = runKiln(docs);
const ref = docs.map(runGraphqlJs);

test('both sides answered every document', () => {
  assert.ok(all.length >= 1000, `only ${all.length} documents`);
  assert.equal(kiln.length, all.length);
  assert.ok(ref.filter((r) => r.print !== undefined).length >= 100, 'too few valid documents');
  assert.ok(ref.filter((r) => r.message !== undefined).length >= 500, 'too few invalid documents');
});

const show = (s) => JSON.stringify(s).slice(0, 300);

// The one known difference: graphql-js slices messages by UTF-16 units, so
// a message can end inside an astral character (`"\\😀"` is quoted as a
// lone \ud83d). UTF-8 cannot carry half a character; Kiln quotes it whole.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const halfCharacter = (r) => r.message !== undefined && loneSurrogate.test(r.message);

for (const group of ['valid', 'invalid', 'prefix', 'mutant']) {
  test(`${group}: same print or same syntax error as graphql-js`, () => {
    const bad = [];
    let n = 0;
    all.forEach((c, i) => {
      if (c.group !== group || halfCharacter(ref[i])) return;
      n++;
      if (JSON.stringify(kiln[i]) !== JSON.stringify(ref[i]))
        bad.push(`doc ${show(c.doc)}\n  graphql-js: ${show(ref[i])}\n  kiln:       ${show(kiln[i])}`);
    });
    assert.ok(n > 0);
    assert.equal(bad.length, 0, `${bad.length} of ${n} differ; first ones:\n${bad.slice(0, 8).join('\n')}`);
  });
}

test('messages that cut a character in half (graphql-js) only differ there', () => {
  let n = 0;
  all.forEach((c, i) => {
    if (!halfCharacter(ref[i])) return;
    n++;
    const cut = ref[i].message.replace(/[\ud800-\udbff](?![\udc00-\udfff])/g, '');
    assert.deepEqual(kiln[i].locations, ref[i].locations);
    assert.ok(kiln[i].message.startsWith(cut.slice(0, cut.length - 2)), `${show(kiln[i])} vs ${show(ref[i])}`);
  });
  assert.ok(n >= 1);
});

test('valid documents all parse (the case list is what it claims)', () => {
  all.forEach((c, i) => {
    if (c.group === 'valid') assert.ok(ref[i].print !== undefined, `graphql-js rejects ${show(c.doc)}: ${ref[i].message}`);
    if (c.group === 'invalid') assert.ok(ref[i].message !== undefined, `graphql-js accepts ${show(c.doc)}`);
  });
});

test('print -> parse -> print is stable on Kiln, like graphql-js', () => {
  const printed = kiln.filter((k) => k.print !== undefined).map((k) => k.print);
  const again = runKiln(printed);
  printed.forEach((p, i) => {
    assert.equal(again[i].print, p, `unstable print of ${show(p)}`);
    assert.equal(print(parse(p)), p);
  });
});
