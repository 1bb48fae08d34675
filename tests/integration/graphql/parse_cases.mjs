// parse_cases.mjs -- the documents of the parser differential test,
// generated deterministically (no randomness that changes between runs):
//   - hand-written valid documents covering every rule of the grammar
//     (executable documents and the type-system language, extensions,
//     descriptions, block strings, every escape, unicode);
//   - hand-written invalid ones, one or more per graphql-js syntax error;
//   - mechanical mutants of the valid ones: every prefix (truncation at each
//     character), every single-character deletion, and characters replaced
//     by a fixed set of troublemakers, chosen by a seeded generator.
// Exported: cases() -> [{ group, doc }].

export const valid = [
  '{ a }',
  'query { a b c }',
  'query Q { a }',
  'mutation M { like(id: 1) { count } }',
  'subscription S { onEvent { id } }',
  'query Q($a: Int, $b: [String!]! = ["x"], $c: In = {a: 1, b: [true, null]}) @dir(x: 1) { f(a: $a) }',
  'query Q($v: Int = 1 @dv @dw(x: 2)) { a }',
  '{ alias: field(arg: "value", n: -12, f: 1.5, e: 1e10, E: -0.5E-3, b: false, nul: null, en: RED) }',
  '{ a(list: [], obj: {}) { b(x: [[1], [2, 3]]) } }',
  '{ ...F ... on T { a } ... @include(if: true) { b } ... { c } }\nfragment F on T @d { x }',
  'fragment F on T { ...G } fragment G on T { a }',
  '{ a @skip(if: $x) @include(if: true) b: c @d }',
  '{ a(s: "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u{1F600} \\uD83D\\uDE00 \\u{0} \\u{10FFFF}") }',
  '{ a(s: """block""") }',
  '{ a(s: """\n    indented\n      more\n    back\n""") }',
  '{ a(s: """  leading space""") }',
  '{ a(s: """ends with quote" """) }',
  '{ a(s: """esc \\""" inside""") }',
  '{ a(s: """\n\n  \n  x\n\n  """) }',
  '{ a(s: """line\r\nwindows\rmac""") }',
  '{ a(s: "") b(s: """""") }',
  '{ a(s: "unicode: é ü 日本 😀 \u0001 \u007f \u0085") }',
  '{ a(s: """tab\tin block""") }',
  '\ufeff{ bom }',
  '# comment only before\n{ a # trailing\n b }\n# end',
  '{ a,,, b ,c }',
  '{ f(a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13) }',
  '{ averyveryverylongfieldname(averyverylongargumentname: "a very long string value", other: 1) }',
  '{ a(s: "0123456789012345678901234567890123456789012345678901234567890123456789012345") }',
  '{ a(s: """0123456789012345678901234567890123456789012345678901234567890123456789012345""") }',
  'query on { on(on: on) { ... on on { on } } }',
  'query true { true false null }',
  '{ a(x: $var, y: [$a, {b: $c}]) }',
  'schema { query: Q mutation: M subscription: S }',
  'schema @d { query: Q }',
  '"schema desc" schema { query: Q }',
  'scalar Date',
  'scalar Url @specifiedBy(url: "https://example.com")',
  'type T { a: Int }',
  'type T implements I { a: Int }',
  'type T implements I & J & K @d { a(x: Int = 1 @d, y: [String!]!): [T!] @deprecated(reason: "no") }',
  'type T implements & I & J { a: Int }',
  'type Empty',
  'type T @d',
  '"""\nType description\n  indented\n"""\ntype T {\n  "field desc" a: Int\n  """\n  block desc\n  """\n  b("arg desc" x: Int, "other" y: Int): String\n}',
  'interface I { a: Int }',
  'interface I implements J & K { a: Int }',
  'union U = A | B | C',
  'union U = | A | B',
  'union U @d',
  'union U',
  'enum E { A B C }',
  'enum E { "desc" A @deprecated B @d(x: 1) }',
  'enum E',
  'input I { a: Int = 1, b: [I!] = [{a: 2}], c: String @d }',
  'directive @d on FIELD',
  'directive @d(a: Int = 1, "x" b: [String]) repeatable on FIELD | QUERY | MUTATION | SUBSCRIPTION',
  'directive @d on | FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE | SCHEMA | SCALAR | OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | FRAGMENT_DEFINITION | FRAGMENT_SPREAD | INLINE_FRAGMENT | VARIABLE_DEFINITION',
  '"desc" directive @d on FIELD',
  'extend schema @d',
  'extend schema { query: Q }',
  'extend scalar S @d',
  'extend type T { b: Int }',
  'extend type T implements I',
  'extend type T @d',
  'extend interface I { b: Int }',
  'extend interface I implements J',
  'extend union U = D',
  'extend union U @d',
  'extend enum E { D }',
  'extend enum E @d',
  'extend input I { d: Int }',
  'extend input I @d',
  'type Query { posts: [Post!]! post(id: ID!): Post }\ntype Post { id: ID! title: String! }\n{ posts { id } }',
  'type Post { id: ID!  title: String!  content: String! }\ntype User { id: ID!  name: String!  email: String! }\ninput PostInput { title: String!  content: String! }\ninput UserInput { name: String!  email: String! }\ntype Query {\n  hello: String!\n  posts: [Post!]!\n  post(id: ID!): Post\n  users: [User!]!\n  user(id: ID!): User\n}\ntype Mutation {\n  createPost(input: PostInput!): Post!\n  updatePost(id: ID!, input: PostInput!): Post\n  deletePost(id: ID!): Boolean!\n  createUser(input: UserInput!): User!\n  updateUser(id: ID!, input: UserInput!): User\n  deleteUser(id: ID!): Boolean!\n}\ntype Subscription { postCreated: Post! }',
  'query IntrospectionQuery { __schema { queryType { name } types { ...FullType } directives { name locations args { ...InputValue } } } }\nfragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } }\nfragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }\nfragment TypeRef on __Type { kind name ofType { kind name ofType { kind name } } }',
  '{ a(f: 0, g: -0, h: 0.0, i: 0e0, j: 123456789012345678901234567890, k: 1.0e+10) }',
  '{\n\ta\r\n\tb\r\tc\n}',
];

export const invalid = [
  '', ' ', '# only a comment', '\ufeff', ',,,',
  '{', '{ a', '{ a(', '{ a(x', '{ a(x:', '{ a(x: 1', '{ a(x: 1)', '{ }', '{ a }}',
  'query', 'query Q', 'query Q(', 'query Q($', 'query Q($a', 'query Q($a:', 'query Q($a: Int', 'query Q($a: Int =',
  'query Q($a: Int = $b) { a }', 'query Q($a: Int = [$b]) { a }', 'query Q($a: Int = $) { a }', 'query Q($a: [Int) { a }',
  'query Q() { a }', 'query Q @ { a }', 'querx { a }', 'Query { a }', 'notAKeyword', '123', '"str"', '"""block"""',
  '"desc" { a }', '"desc" query { a }', '"desc" fragment F on T { a }', '"desc" extend type T { a: Int }', '"desc" 5',
  'fragment on on T { a }', 'fragment F T { a }', 'fragment F on { a }', 'fragment F on T', 'fragment "on" on T { a }',
  '{ ... on { a } }', '{ ...on }', '{ ... }', '{ ...F @ }', '{ a @skip(if: ) }', '{ a(x: {b}) }', '{ a(x: {b: }) }',
  '{ a(x: [1, 2) }', '{ a(x: ]) }', '{ a(x: :) }', '{ a: }', '{ a: b: c }', '{ a { } }', '{ a b { c }',
  '{ a(x: "unterminated) }', '{ a(x: "line\nbreak") }', '{ a(x: "\\x") }', '{ a(x: "\\u12") }', '{ a(x: "\\u12G4") }',
  '{ a(x: "\\uD800") }', '{ a(x: "\\uDC00") }', '{ a(x: "\\uD800\\u0041") }', '{ a(x: "\\uD83D\\uDE0") }',
  '{ a(x: "\\u{") }', '{ a(x: "\\u{}") }', '{ a(x: "\\u{110000}") }', '{ a(x: "\\u{D800}") }', '{ a(x: "\\u{1F600") }',
  '{ a(x: "\\u{000000041}") }', '{ a(x: "\\u{FFFFFFFFF}") }', '{ a(x: "\\u{12345678}") }', '{ a(x: "\\u{g}") }', '{ a(x: "\\u{12é}") }',
  '{ a(x: "\\', '{ a(x: "\\u', '{ a(x: "\\u{', '{ a(x: "\\é") }', '{ a(x: "\\😀") }',
  '{ a(x: """unterminated) }', '{ a(x: """ok\\"""still""", y: """) }',
  '{ a(x: 01) }', '{ a(x: 00) }', '{ a(x: -) }', '{ a(x: -a) }', '{ a(x: 1.) }', '{ a(x: 1.a) }', '{ a(x: .5) }', '{ a(x: 1e) }',
  '{ a(x: 1e+) }', '{ a(x: 1.5.5) }', '{ a(x: 1x) }', '{ a(x: 0x1F) }', '{ a(x: 1_000) }', '{ a(x: 1.2e3.4) }', '{ a(x: 1e3e) }',
  "{ a(x: 'single') }", '{ a ? }', '{ a ; }', '{ a \u0000 }', '{ a \u0007 }', '{ a é }', '{ a 😀 }', '{ a \u00a0 }', '{ a \u2028 }',
  '{ a .. }', '{ a . }', '{ a ~ }', '{ a % }', '{ a ^ }', '{ a * }', '{ a < }',
  'schema', 'schema {', 'schema { query }', 'schema { query: }', 'schema { foo: Q }', 'schema {}', 'schema @d',
  'scalar', 'scalar 1', 'type', 'type T {', 'type T { }', 'type T { a }', 'type T { a: }', 'type T { a(): Int }',
  'type T { a(x): Int }', 'type T { a(x: Int = $v): Int }', 'type T implements { a: Int }', 'type T implements I &',
  'type T implements I, J { a: Int }', 'type T { a: [Int }', 'type T { a: Int! ! }', 'type T { "desc" }',
  'interface', 'interface I {}', 'union', 'union U =', 'union U = A |', 'union U = A | | B', 'union U = 1',
  'enum', 'enum E {}', 'enum E { true }', 'enum E { false }', 'enum E { null }', 'enum E { "d" "true" }', 'enum E { 1 }',
  'input', 'input I {}', 'input I { a }', 'input I { a: Int = }', 'input I { a(x: Int): Int }',
  'directive', 'directive d on FIELD', 'directive @d', 'directive @d on', 'directive @d on FIELD |', 'directive @d on UNKNOWN',
  'directive @d on field', 'directive @d repeatable', 'directive @d() on FIELD', 'directive @d on FIELD | | QUERY',
  'extend', 'extend foo', 'extend 1', 'extend schema', 'extend schema {}', 'extend scalar S', 'extend type T', 'extend interface I',
  'extend union U', 'extend enum E', 'extend input I', 'extend type T {}', 'extend directive @d on FIELD', 'extend fragment F on T { a }',
  '{ a } extend', '{ a } "desc"', 'query Q { a } query', '{ a(x: [[[[[[1]]]]]] }',
];

// Characters that break things in interesting ways.
const troublemakers = ['', ' ', '"', '\\', '{', '}', '(', ')', '[', ']', '$', '@', '!', ':', '=', '|', '&', '.', '...',
  '#', '\n', '\r', '\t', ',', '0', '-', '1e', 'é', '😀', '"""', "'", '\u0000', 'on', 'null', 'true'];

// A tiny deterministic generator (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function cases() {
  const out = [];
  for (const doc of valid) out.push({ group: 'valid', doc });
  for (const doc of invalid) out.push({ group: 'invalid', doc });
  // Every prefix of the shorter valid documents (code-point boundaries).
  for (const doc of valid) {
    const cps = Array.from(doc);
    if (cps.length > 160) continue;
    for (let i = 1; i < cps.length; i++) out.push({ group: 'prefix', doc: cps.slice(0, i).join('') });
  }
  // Deletions and replacements at seeded positions.
  const next = rng(20211026);
  for (const doc of valid) {
    const cps = Array.from(doc);
    for (let k = 0; k < 12; k++) {
      const at = Math.floor(next() * cps.length);
      const what = troublemakers[Math.floor(next() * troublemakers.length)];
      const copy = cps.slice();
      copy.splice(at, next() < 0.5 ? 1 : 0, what);
      out.push({ group: 'mutant', doc: copy.join('') });
    }
  }
  return out;
}
