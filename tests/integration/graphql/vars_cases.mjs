// vars_cases.mjs -- documents and variables of the input-coercion
// differential test (vars_diff.test.mjs), on the schema below: every input
// type (scalars, enums, lists, non-null, input objects with defaults,
// @oneOf, custom scalars), valid and invalid values, literals and variables.

export const sdl = `
scalar JSON
enum Color { RED GREEN BLUE DARK_RED }
input Point { x: Int! y: Int = 0 label: String }
input Shape { kind: Color = RED points: [Point!]! tags: [String] = ["a"] meta: JSON nested: Shape }
input Pick @oneOf { id: ID name: String }
type Query {
  int(v: Int): Int
  float(v: Float): Float
  str(v: String): String
  bool(v: Boolean): Boolean
  id(v: ID): ID
  color(v: Color = GREEN): Color
  colors(v: [Color!]): Int
  point(v: Point): Int
  shape(v: Shape!): Int
  pick(v: Pick!): Int
  json(v: JSON): JSON
  req(a: Int!, b: String! = "d", c: [Int!]!): Int
  many(a: Int = 1, b: [[Int]] = [[1], 2], c: Point = {x: 1}, d: Color = BLUE): Int
}`;

const q = (query, variables) => ({ query, variables });

// Variables of every input type against good and bad values.
const varCases = [];
const types = {
  Int: [1, -1, 0, 2147483647, -2147483648, 2147483648, -2147483649, 1.5, 1e3, '1', true, null, [1], { a: 1 }, 1e100, -0],
  Float: [1, 1.5, -0.000001, 1e21, 1e-7, 123456789.125, '1.5', false, null, [1.5], {}, 5e-324],
  String: ['s', '', 'é😀\n"\\', 1, true, null, ['a'], { s: 1 }],
  Boolean: [true, false, 0, 'true', null, [true]],
  ID: ['x', '12', 12, 1.5, -7, true, null, {}, ['1']],
  Color: ['RED', 'red', 'REDD', 'DARK_RED', 'GREN', 1, true, null, ['RED'], { v: 'RED' }],
  JSON: [1, 'x', { a: [1, { b: null }] }, [1, 2, 3], null, true],
  '[Color!]': [['RED', 'BLUE'], 'RED', ['RED', null], ['RED', 'NOPE'], [], null, [['RED']]],
  'Point': [{ x: 1 }, { x: 1, y: 2, label: 'p' }, { y: 2 }, { x: null }, { x: 'a' }, { x: 1, z: 3 }, { x: 1, lable: 'l', ys: 1 }, 'p', [{ x: 1 }], null],
  'Shape!': [{ points: [{ x: 1 }] }, { points: [] }, { points: { x: 2 } }, {}, { points: [{ x: 1 }, {}, { x: 'a' }], kind: 'PINK' },
    { points: [{ x: 1 }], nested: { points: [{ y: 1 }], nested: { kind: 1 } } }, null, { points: [{ x: 1 }], meta: { any: ['thing'] } }],
  'Pick!': [{ id: 1 }, { name: 'n' }, {}, { id: 1, name: 'n' }, { id: null }, { id: null, name: null }, { name: 5 }, { id: 1, other: 2 }],
  'Int!': [1, null, 'x'],
  '[[Int]]': [[[1], [2, null]], [1, 2], 1, [[1.5]], [[null]], 'x'],
};
const fieldOf = { Int: 'int', Float: 'float', String: 'str', Boolean: 'bool', ID: 'id', Color: 'color', JSON: 'json',
  '[Color!]': 'colors', Point: 'point', 'Shape!': 'shape', 'Pick!': 'pick', 'Int!': 'int', '[[Int]]': 'many' };
for (const [type, values] of Object.entries(types)) {
  const field = fieldOf[type];
  const arg = field === 'many' ? 'b' : 'v';
  for (const v of values) varCases.push(q(`query Q($v: ${type}) { ${field}(${arg}: $v) }`, { v }));
  varCases.push(q(`query Q($v: ${type}) { ${field}(${arg}: $v) }`, {}));
}

export const cases = [
  ...varCases,
  // Missing, defaulted and required variables.
  q('query Q($a: Int!, $b: String = "x", $c: [Int] = [1, 2], $d: Point = {x: 3}) { int(v: $a) }', {}),
  q('query Q($a: Int!, $b: String = "x", $c: [Int] = [1, 2], $d: Point = {x: 3}) { int(v: $a) }', { a: 1 }),
  q('query Q($a: Int!, $b: String!) { int(v: $a) str(v: $b) }', { a: null, b: null }),
  q('query Q($a: Int, $b: Int) { int(v: $a) x: int(v: $b) }', { a: 'one', b: 'two', c: 3 }),
  q('query Q($p: Point, $q: Point!, $r: [Point!]!) { point(v: $p) }', { p: { x: 'bad', y: 'bad', z: 1 }, q: {}, r: [{}, null, { x: 1 }] }),
  q('query Q($v: Query) { int }', { v: 1 }),
  q('query Q($v: Nope, $w: [Query!]) { int }', {}),
  q('query Q($v: Color = RED, $w: Color = "RED") { color(v: $v) c2: color(v: $w) c3: color }', {}),
  // Literal arguments, with and without variables.
  q('{ int(v: 3) float(v: 3) f2: float(v: 1.25e2) str(v: "s") bool(v: false) id(v: 7) i2: id(v: "7") color(v: BLUE) json(v: {a: [1, "b", null, ENUMISH, 1.5]}) }', {}),
  q('{ many }', {}),
  q('{ many(a: null, b: null, c: null, d: null) }', {}),
  q('{ many(b: [[1, null], [2]], c: {x: 5, y: 6, label: "l"}) }', {}),
  q('{ point(v: {x: 1, x: 2}) }', {}),
  q('{ shape(v: {points: [{x: 1}, {x: 2, y: 3}], nested: {points: []}}) }', {}),
  q('{ shape(v: {points: {x: 9}}) }', {}),
  q('{ colors(v: RED) c2: colors(v: [RED, GREEN]) }', {}),
  q('{ pick(v: {id: 1}) p2: pick(v: {name: "n"}) }', {}),
  q('query Q($a: Int, $b: Int = 3) { int(v: $a) i2: int(v: $b) many(a: $a, c: {x: $b}) }', {}),
  q('query Q($a: Int, $b: Int = 3) { int(v: $a) i2: int(v: $b) many(a: $a, b: [[$a], [$b]], c: {x: $a}) }', { a: 9 }),
  q('query Q($a: Int) { many(b: [[$a], [$missing]], c: {x: 1, y: $missing}) }', { a: 1 }),
  q('query Q($a: Int) { req(a: $a, c: [$a]) }', {}),
  q('query Q($a: Int) { req(a: $a, c: [1]) }', { a: null }),
  q('{ req(c: [1]) }', {}),
  q('{ req(a: 1, b: null, c: [1]) }', {}),
  q('{ req(a: 1, c: [null]) }', {}),
  q('{ int(v: "x") }', {}),
  q('{ int(v: 2147483648) }', {}),
  q('{ float(v: "x") }', {}),
  q('{ color(v: "RED") }', {}),
  q('{ color(v: PINK) }', {}),
  q('{ id(v: 1.5) }', {}),
  q('{ point(v: {y: 1}) }', {}),
  q('{ pick(v: {}) }', {}),
  q('{ pick(v: {id: 1, name: "x"}) }', {}),
  q('query Q($x: Int) { pick(v: {id: $x}) }', {}),
  q('{ shape(v: {points: [{x: 1}], kind: 5}) }', {}),
];
