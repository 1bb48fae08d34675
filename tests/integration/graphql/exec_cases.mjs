// exec_cases.mjs -- schema, data, resolvers and documents of the execution
// differential test (exec_diff.test.mjs). The same resolvers are written in
// C in exec_side.c; everything else is read by both sides from here.

export const sdl = `
scalar JSON
enum Color { RED GREEN BLUE }
interface Node { id: ID! }
interface Named { name: String }
type Person implements Node & Named {
  id: ID! name: String age: Int score: Float color: Color tags: [String!]
  friends: [Person!]! best: Person pet: Pet fail: String failNN: String! nullNN: String! meta: JSON
}
type Dog implements Node & Named { id: ID! name: String barks: Boolean }
type Cat implements Node & Named { id: ID! name: String lives: Int }
union Pet = Dog | Cat
input Filter { color: Color = RED, min: Int = 0, names: [String!] }
type Query {
  hello: String!
  people: [Person!]!
  person(id: ID!): Person
  nodes: [Node]
  pets: [Pet!]
  echo(a: Int, b: [Color!], f: Filter, j: JSON, s: String = "dflt"): String
  boom: String
  boomNN: String!
  coded: String
  numbers: [Float] ints: [Int] strs: [String] bools: [Boolean] ids: [ID] colors: [Color]
  nested: [[Int!]]
  badList: [Int]
  weird: Pet
  lost: Node
  wrongType: Pet
  notObject: Pet
  deep: Person!
  nullPeople: [Person!]
  mixed: [Person]
  missing: String
  scalarObj: String
  idNum: ID idFloat: ID idBig: ID idNeg: ID idNN: ID! strNum: String strBig: String strBool: String
  lineSep: String intSep: Int
}
type Mutation { setName(id: ID!, name: String!): Person fail: String! count: Int }
type Subscription { tick: Int other: String }
`;

const dog = { __typename: 'Dog', id: 'd1', name: 'Rex', barks: true };
const cat = { __typename: 'Cat', id: 'c1', name: 'Tom', lives: 9 };
const base = [
  { id: '1', name: 'Ann', age: 30, score: 1.5, color: 'RED', tags: ['a', 'b'], pet: dog, nullNN: 'ok', meta: { a: [1, { b: null }], s: 'x' } },
  { id: '2', name: 'Bob', age: null, score: 2, color: 'BLUE', tags: [], pet: cat, nullNN: null, meta: 7 },
  { id: '3', name: null, age: 41, score: 1e21, color: 'GREEN', tags: null, pet: null, nullNN: 'x', meta: null },
];
const people = base.map((p, i) => ({ __typename: 'Person', ...p, friends: base.filter((_, j) => j !== i).map((f) => ({ __typename: 'Person', ...f, friends: [] })), best: i === 0 ? { ...base[1], __typename: 'Person', friends: [] } : null }));

export const root = {
  hello: 'Hello, World!',
  people,
  nodes: [people[0], dog, cat, null],
  pets: [dog, cat],
  numbers: [1, 1.5, 1e21, 1e-7, -0, '2.5', true, 123456789.125],
  ints: [1, 2.0, '3', true, -5, 0],
  strs: ['s', 1, 1.5, true, null, 'é😀\n"\\', '\u0001\u001f\u007f\t', 'long string, long enough for the word path "', -0, 1e21, 2 ** 53 + 2],
  bools: [true, false, 0, 1],
  ids: ['a', 7, -3, -0, 0, 1e21, 2 ** 53 + 2, -2147483649, 'é\n"\\\u0001', '', 1.5, true],
  colors: ['RED', null, 'BLUE'],
  nested: [[1, 2], [3], null],
  badList: 5,
  weird: { __typename: 'Nope' },
  lost: { id: 'x' },
  wrongType: { __typename: 'Person', id: '9' },
  notObject: { __typename: 'Named' },
  deep: people[0],
  nullPeople: [people[0], null, people[1]],
  mixed: [people[0], null, people[2]],
  scalarObj: { a: 1, 'b"\n\\': [{ 'é\u0001': -0 }], '': 'x' },
  idNum: 7, idFloat: 1.5, idBig: 123456789012345678, idNeg: -5, idNN: 1234567890123456, strNum: 1e21, strBig: 999999999999999, strBool: false,
  lineSep: 'a\u2028b\u2029c', intSep: 'x\u2028y',
};

// The graphql-js side of the resolvers (exec_side.c has the C side).
export function resolvers(GraphQLError) {
  let counter = 0;
  return {
    reset() { counter = 0; },
    Query_echo: (src, args) => JSON.stringify(args),
    Query_boom: () => { throw new Error('boom'); },
    Query_boomNN: () => { throw new Error('boom NN'); },
    Query_coded: () => { throw new GraphQLError('Unauthorized', { extensions: { code: 'UNAUTHENTICATED' } }); },
    Query_person: (src, args) => src.people.find((p) => p.id === args.id) ?? null,
    Person_fail: (src) => { throw new Error(`fail ${src.id}`); },
    Person_failNN: (src) => { throw new Error(`failNN ${src.id}`); },
    Mutation_count: () => ++counter,
    Mutation_fail: () => { throw new GraphQLError('mutation failed', { extensions: { code: 'BAD_USER_INPUT' } }); },
    Mutation_setName: (src, args) => ({ id: args.id, name: args.name }),
  };
}

const q = (query, variables = {}, operationName) => ({ query, variables, operationName });

export const cases = [
  q('{ hello }'),
  q('{ hello __typename }'),
  q('query { people { id name age score color tags } }'),
  q('{ idNum idBig idNeg idNN strNum strBig strBool }'),
  q('{ idNum idFloat idNN }'),
  q('{ a: idNum b: idNum idNN strBool }'),
  q('{ lineSep intSep }'),
  q('{ people { ...P friends { id ...on Named { name } } } } fragment P on Person { id name best { id name } }'),
  q('{ a: hello b: hello people { x: id y: id } }'),
  q('{ people { id } people { name } }'),
  q('{ people { id ... on Person { age } ... { color } } }'),
  q('{ person(id: "2") { id name } nobody: person(id: "99") { id } }'),
  q('query Q($id: ID!) { person(id: $id) { name friends { name } } }', { id: '1' }),
  q('query Q($id: ID!) { person(id: $id) { name } }', { id: 1 }),
  q('query Q($id: ID!) { person(id: $id) { name } }', {}),
  q('query Q($s: Boolean!) { people { id name @skip(if: $s) age @include(if: $s) } }', { s: true }),
  q('query Q($s: Boolean!) { people { id name @skip(if: $s) age @include(if: $s) } }', { s: false }),
  q('{ people { id ... @skip(if: true) { name } ... @include(if: false) { age } ...F @skip(if: false) } } fragment F on Person { color }'),
  q('{ hello @skip(if: true) @include(if: true) }'),
  q('{ nodes { __typename id ... on Named { name } ... on Dog { barks } ... on Cat { lives } ... on Person { age } } }'),
  q('{ pets { __typename ... on Dog { name barks } ... on Cat { name lives } } }'),
  q('{ people { pet { __typename ... on Node { id } } } }'),
  q('{ echo }'),
  q('{ echo(a: 1, b: [RED, BLUE], f: {names: ["x"]}, j: {k: [1, 2.5, "s", null]}, s: null) }'),
  q('query Q($a: Int, $b: [Color!], $f: Filter, $j: JSON) { echo(a: $a, b: $b, f: $f, j: $j) }', { a: 5, b: ['GREEN'], f: { color: 'BLUE', min: 3 }, j: { deep: { x: [1] } } }),
  q('query Q($a: Int) { echo(a: $a) }', { a: 'nope' }),
  q('query Q($b: [Color!]) { echo(b: $b) }', { b: ['RED', 'PURPLE'] }),
  q('{ echo(b: RED) }'),
  q('{ echo(a: "x") }'),
  q('{ boom hello }'),
  q('{ boomNN hello }'),
  q('{ coded }'),
  q('{ hello coded boom }'),
  q('{ people { id fail } }'),
  q('{ people { id failNN } }'),
  q('{ people { id nullNN } }'),
  q('{ nullPeople { id nullNN } }'),
  q('{ mixed { id nullNN } }'),
  q('{ mixed { id } }'),
  q('{ deep { id failNN } hello }'),
  q('{ deep { id best { failNN } } }'),
  q('{ people { friends { id failNN } } }'),
  q('{ person(id: "1") { friends { id nullNN } } }'),
  q('{ numbers ints strs bools ids colors nested }'),
  q('{ badList }'),
  q('{ weird { __typename } }'),
  q('{ lost { id } }'),
  q('{ wrongType { __typename } }'),
  q('{ notObject { __typename } }'),
  q('{ missing scalarObj }'),
  q('{ people { meta } }'),
  q('{ people { id unknownField } }'),
  q('query A { hello } query B { people { id } }', {}, 'B'),
  q('query A { hello } query B { people { id } }', {}),
  q('query A { hello }', {}, 'C'),
  q('fragment F on Query { hello }'),
  q('mutation { a: count b: count c: count }'),
  q('mutation { a: count fail b: count }'),
  q('mutation M($n: String!) { setName(id: 7, name: $n) { id name } }', { n: 'Zed' }),
  q('mutation M($n: String!) { setName(id: 7, name: $n) { id name } }', { n: null }),
  q('subscription { hello }'),
  q('subscription { tick }'),
  q('{ people { id ...F } } fragment F on Person { name ...G } fragment G on Person { age ...F }'),
  q('{ __typename people { __typename } }'),
  q('query Q($f: Filter = {min: 2}) { echo(f: $f) }'),
  q('query Q($f: Filter = {min: 2}) { echo(f: $f) }', { f: null }),
  q('query Q($a: Int = 3) { echo(a: $a) }', { a: null }),
  // The executor memoizes per field group and execution (definition,
  // arguments, subfields): one response key meaning other fields on other
  // types, objects of alternating types under one field, the same document
  // with other variables.
  q('{ nodes { __typename x: id ... on Dog { y: name } ... on Cat { y: lives } ... on Person { y: age } } }'),
  q('{ nodes { ... on Person { pet { __typename ... on Dog { name } } } ... on Dog { name } } pets { ... on Dog { id } ... on Cat { name } } }'),
  q('{ people { pet { ... on Node { id } ... on Dog { barks } ... on Cat { lives } } friends { pet { __typename } } } }'),
  q('query Q($s: Boolean!) { people { friends { id name @skip(if: $s) } best { friends { id } } } }', { s: true }),
  q('query Q($s: Boolean!) { people { friends { id name @skip(if: $s) } best { friends { id } } } }', { s: false }),
];

// Generated, deterministic: every Person field (with and without aliases,
// fragments and directives) on every person, every Query list field alone,
// and selections of the root fields in many combinations.
const personFields = ['id', 'name', 'age', 'score', 'color', 'tags', 'fail', 'failNN', 'nullNN', 'meta', '__typename',
  'best { id name }', 'pet { __typename ... on Dog { barks } ... on Cat { lives } }', 'friends { id nullNN }'];
for (const id of ['1', '2', '3', '4']) {
  for (const f of personFields) {
    cases.push(q(`{ person(id: "${id}") { ${f} } }`));
    cases.push(q(`query Q($s: Boolean!) { p: person(id: "${id}") { id ... on Person @include(if: $s) { ${f} } } }`, { s: id !== '2' }));
    cases.push(q(`{ person(id: "${id}") { ...F } } fragment F on Named { name ... on Person { ${f} } }`));
  }
}
const rootFields = ['hello', 'boom', 'coded', 'numbers', 'ints', 'strs', 'bools', 'ids', 'colors', 'nested', 'badList',
  'weird { __typename }', 'lost { id }', 'mixed { id }', 'nullPeople { id }', 'pets { __typename }', 'missing', 'scalarObj',
  'people { id nullNN }', 'nodes { id }', 'boomNN', 'deep { name }'];
for (let i = 0; i < rootFields.length; i++) {
  for (let j = i; j < rootFields.length; j += 3) {
    cases.push(q(`{ ${rootFields[i]} x: ${rootFields[j]} }`));
  }
}
for (const v of [1, -1, 2147483647, 0.5, 'RED', null, [1, 2], { color: 'GREEN', names: ['n', 'm'] }, { names: [null] }, { min: 'x' },
  { 'b"\n\\': [{ 'é\u0001': -0, n: 1e21 }], '': 'x\u001f' }]) {
  cases.push(q('query Q($a: Int, $b: [Color!], $f: Filter) { echo(a: $a, b: $b, f: $f) }', { a: v, b: v, f: v }));
  cases.push(q('query Q($j: JSON) { echo(j: $j) }', { j: v }));
}
