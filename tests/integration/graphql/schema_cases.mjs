// schema_cases.mjs -- SDL documents of the schema differential test
// (schema_diff.test.mjs): valid schemas using every type-system feature,
// and invalid ones triggering each check graphql-js makes when it builds a
// schema (the SDL rules of assertValidSDL, then validateSchema), several
// ways each. Exported: cases() -> [{ group, sdl }].

import { readFileSync } from 'node:fs';

// The blog's schema (issue 9) and a schema that uses every type-system
// feature: one copy each, in the parser fuzzer's seed corpus, read from
// there (a trailing newline dropped).
const seed = (name) => readFileSync(new URL(`../../fuzz/corpus/graphql/${name}`, import.meta.url), 'utf8').replace(/\n$/, '');
export const blog = seed('blog.graphql');
export const kitchen = seed('kitchen.graphql');

export const valid = [
  blog,
  kitchen,
  'type Query { a: String }',
  'type Query { a: Int } type Mutation { b: Int } type Subscription { c: Int }',
  'schema { query: Q } type Q { a: Int }',
  'schema { query: Query mutation: M } type Query { a: Int } type M { x: Int }',
  '"described" schema { query: Query } type Query { a: Int }',
  'type Query { b: B a: A } type A { x: Int } type B { y: A z: C } type C { w: Int }',
  'type Query { a: Int } type Unused { x: Int }',
  'type Query { a(x: Int = 1.5, y: Float = 1e3, z: Float = 0.000001, w: Float = 1e-7, v: Float = 123456789012345678901234) : Int }',
  'type Query { a(x: Int = 2147483648, y: Int = -2147483648, z: Int = -0): Int }',
  'type Query { a(x: ID = "12", y: ID = 12, z: ID = "abc", w: ID = "-0", v: ID = "007"): Int }',
  'type Query { a(x: String = "a\\nb\\u0001\\u007F\\u0085", y: String = """block "x" """, z: String = ENUMLIKE): Int }',
  'type Query { a(x: Boolean = true, y: Boolean = "true", z: [Int] = 1, w: [Int] = [1, "2"], v: [[Int]] = [[1], 2]): Int }',
  'scalar S type Query { a(x: S = 1, y: S = 1.0, z: S = "s", w: S = ENUMV, v: S = true, u: S = null, t: S = 1e2): Int }',
  'enum E { A B } type Query { a(x: E = A, y: E = "A", z: E = C, w: [E!]! = [A, B]): Int }',
  'input I { a: Int! b: String = "d" } type Query { f(x: I = {a: 1}, y: I = {b: "z"}, z: I = {a: 1, c: 3}, w: I = null, v: I! = {a: 2, b: null}): Int }',
  'type Query { "single line" a: Int "multi\\nline" b: Int """  indented first""" c: Int "trailing\\n" d: Int "\\nleading" e: Int "" f: Int "tab\\tin" g: Int "cr\\r" h: Int }',
  'type Query { a("arg doc" x: Int, y: Int): Int b(x: Int, "second doc" y: Int = 3 @deprecated): Int }',
  '"""\nType\n  doc\n"""\ntype Query { a: Int }',
  '"a very long description that goes on and on well past the seventy character limit of block strings" type Query { a: Int }',
  'directive @d(a: Int = 1) on FIELD | QUERY type Query { a: Int }',
  'directive @d repeatable on OBJECT | INTERFACE "doc" directive @e("x" a: Int) on SCHEMA type Query @d @d { a: Int }',
  'directive @deprecated(reason: String) on FIELD_DEFINITION type Query { a: Int @deprecated }',
  'type Query { a: Int @deprecated(reason: null) b: Int @deprecated(reason: "No longer supported") c: Int @deprecated(reason: "other") }',
  'scalar String type Query { a: String }',
  'interface I { a: Int } interface J implements I { a: Int } type Query implements J & I { a: Int }',
  'union U = A type A { a: Int } type Query { u: U }',
  'type Query { a: Int } extend type Query { b: Int } extend type Query @k directive @k on OBJECT',
  'enum E { A } extend enum E { B } extend enum E @k directive @k on ENUM type Query { e: E }',
  'input I { a: Int } extend input I { b: Int } type Query { f(i: I): Int }',
  'type Query { f(a: [[String!]!], b: [Int] = [], c: [Int] = null): [[String]] }',
  'type Query { a: Query }',
  'input I { self: I } type Query { f(i: I): Int }',
  'input I { self: [I!]! } type Query { f(i: I): Int }',
  'interface I { f: I } type Query implements I { f: Query } interface J implements I { f: I }',
  'interface I { f: [I] } type Query implements I { f: [Query!]! }',
  'directive @d repeatable on OBJECT type Query @d @d { a: Int } extend type Query @d',
  'type Query { a(x: Float = 5e-324, y: Float = 1.7976931348623157e308, z: Float = 0.1, w: Float = 100, v: Float = 1e21, u: Float = 1e20, t: Float = 123e-20): Int }',
];

// Invalid SDL, several documents per check. The SDL rules first (errors of
// all rules interleave in document order), then validateSchema's checks.
export const invalid = [
  // LoneSchemaDefinition
  'schema { query: Query } schema { query: Query } type Query { a: Int }',
  'schema { query: Query } type Query { a: Int } schema { mutation: Query } schema { subscription: Query }',
  // UniqueOperationTypes
  'schema { query: Query query: Query } type Query { a: Int }',
  'schema { query: Query } extend schema { query: Query mutation: Query mutation: Query } type Query { a: Int }',
  // UniqueTypeNames
  'type Query { a: Int } type Query { b: Int }',
  'type Query { a: Int } scalar Query enum Query { A } scalar S input S { a: Int }',
  // UniqueEnumValueNames
  'enum E { A B A } type Query { e: E }',
  'enum E { A } extend enum E { A B } extend enum E { B } type Query { e: E }',
  // UniqueFieldDefinitionNames
  'type Query { a: Int a: String }',
  'type Query { a: Int } extend type Query { a: Int b: Int } interface I { x: Int x: Int } input In { y: Int y: Int } extend input In { y: Int }',
  // UniqueArgumentDefinitionNames
  'type Query { a(x: Int, x: Int, y: Int, x: String, y: Int): Int }',
  'directive @d(a: Int, a: Int) on FIELD interface I { f(z: Int, z: Int): Int } type Query { a: Int }',
  // UniqueDirectiveNames
  'directive @d on FIELD directive @d on QUERY type Query { a: Int }',
  'directive @skip on FIELD directive @skip on FIELD type Query { a: Int }',
  // KnownTypeNames (with suggestions)
  'type Query { a: Strin }',
  'type Query { a: Foo b: [Bar!] c(x: Baz): Int }',
  'type Query { post: Pots posts: [Post] } type Post { id: ID } type Posts { id: ID } type Poster { id: ID }',
  'type Query { a: string b: INT c: boolean d: Id }',
  'type Query implements Nod { a: Int } interface Node { a: Int }',
  'union U = A | B type A { a: Int } type Query { u: U }',
  'schema { query: Q } type Query { a: Int }',
  'type Query { a: Int } { q { ... on Quer { a } } } fragment F on Strin { a }',
  'type Query { a: __Type b: __Tpe }',
  'input I { a: Inpt } input Input { b: Int } type Query { f(i: I): Int }',
  'type Query { a: A1 } type A2 { x: Int } type A10 { x: Int } type A3 { x: Int } type B1 { x: Int } type AA { x: Int } type A { x: Int }',
  // KnownDirectives
  'type Query { a: Int @unknown }',
  'type Query @deprecated { a: Int @skip(if: true) }',
  'directive @d on FIELD type Query @d { a(x: Int @d): Int @d } scalar S @d enum E @d { A @d } input I @d { f: Int @d } union U @d = Query interface J @d { a: Int } schema @d { query: Query }',
  'directive @d on ARGUMENT_DEFINITION input I { a: Int @d } extend input I { b: Int @d } type Query { f(x: Int @d): Int }',
  'directive @d on INPUT_FIELD_DEFINITION input I { a: Int @d } extend input I { b: Int @d } type Query { f(x: Int @d): Int }',
  'type Query { a: Int } query Q @skip(if: true) { a @deprecated } extend schema @foo',
  // UniqueDirectivesPerLocation
  'directive @d on OBJECT | FIELD_DEFINITION type Query @d @d { a: Int @d @d }',
  'directive @d on OBJECT type Query @d { a: Int } extend type Query @d',
  'directive @d on SCHEMA schema @d { query: Query } extend schema @d type Query { a: Int }',
  'type Query { a: Int @deprecated @deprecated }',
  // PossibleTypeExtensions
  'type Query { a: Int } extend type Qurey { b: Int }',
  'type Query { a: Int } extend scalar Query @deprecated extend interface Query { b: Int } extend union Query = Query extend enum Query { A } extend input Query { c: Int }',
  'scalar S extend type S { a: Int } type Query { s: S }',
  'type Query { a: Int } extend type String { b: Int }',
  'type Query { a: Int } extend type Query { b: Int } extend type Mutation { c: Int }',
  // KnownArgumentNamesOnDirectives
  'type Query { a: Int @deprecated(reasn: "x") }',
  'directive @d(alpha: Int, beta: Int) on FIELD_DEFINITION type Query { a: Int @d(alpah: 1, gamma: 2, beta: 3) }',
  'scalar S @specifiedBy(url: "x", uri: "y") type Query { s: S }',
  // UniqueArgumentNames
  'type Query { a: Int @deprecated(reason: "a", reason: "b") }',
  'directive @d(x: Int) on FIELD_DEFINITION type Query { a: Int @d(x: 1, x: 2, x: 3) }',
  // UniqueInputFieldNames
  'directive @d(x: In) on FIELD_DEFINITION input In { a: Int b: In } type Query { a: Int @d(x: {a: 1, a: 2, b: {a: 1, a: 3}}) }',
  'input In { a: Int } type Query { f(x: In = {a: 1, a: 2}): Int }',
  // ProvidedRequiredArgumentsOnDirectives
  'scalar S @specifiedBy type Query { s: S }',
  'directive @d(a: Int!, b: String!, c: Int! = 1, d: Int) on FIELD_DEFINITION type Query { a: Int @d b: Int @d(a: 1) }',
  // validateSchema: root types
  'type Foo { a: Int }',
  'schema { mutation: M } type M { a: Int }',
  'schema { query: I } interface I { a: Int }',
  'schema { query: Q mutation: In subscription: E } type Q { a: Int } input In { a: Int } enum E { A }',
  'type Query { a: Int } scalar Mutation union Subscription = Query',
  'extend schema { query: U } union U = Q type Q { a: Int }',
  // directives
  'directive @__d on FIELD directive @d(__a: Int, b: Q, c: Int! @deprecated, d: Int! = 1 @deprecated) on FIELD type Query { a: Int } type Q { a: Int }',
  // names
  'type Query { __a: Int a(__b: Int): Int } type __T { a: Int } enum E { __V A } input I { __f: Int } scalar __S',
  // fields
  'type Query interface I type T implements I',
  'type Query { a: In b(x: Query, y: [U!], z: I): Int c(w: Int! @deprecated(reason: "x"), v: Int! = 3 @deprecated): Int } input In { a: Int } union U = Query interface I { a: Int }',
  'type Query { a: Int } extend type Query @k directive @k on OBJECT type Empty extend type Empty @k',
  // interfaces
  'type Query implements Query { a: Int }',
  'interface I implements I { a: Int } type Query implements I { a: Int }',
  'type Query implements U & In & S { a: Int } union U = Query input In { a: Int } scalar S',
  'interface I { a: Int } type Query implements I & I { a: Int }',
  'interface I { a: Int } type Query implements I { a: Int } extend type Query implements I',
  'interface A { a: Int } interface B implements A { a: Int } type Query implements B { a: Int }',
  'interface A implements B { a: Int } interface B implements A { a: Int } type Query implements A & B { a: Int }',
  'interface I { a: Int b: String } type Query implements I { a: Int }',
  'interface I { a: Int! b: [Int] c: I d: [Int!]! e: Int f: U } type Query implements I { a: Int b: Int c: Query d: [Int]! e: Int! f: Query } union U = Query',
  'interface I { a(x: Int, y: String!): Int } type Query implements I { a(x: String, z: Int!, w: Int, v: Int! = 1): Int }',
  'interface I { a(x: Int): Int } type Query implements I { a: Int }',
  // unions
  'union U type Query { u: U }',
  'union U = Query | Query | In type Query { a: Int } input In { a: Int } extend union U = Query',
  'union U = I | S | E type Query { u: U } interface I { a: Int } scalar S enum E { A }',
  // enums and input objects
  'enum E type Query { e: E }',
  'input In type Query { f(x: In): Int }',
  'input In { a: Query b: I c: U d: Int! @deprecated e: Int! = 1 @deprecated } type Query { f(x: In): Int } interface I { a: Int } union U = Query',
  'input O @oneOf { a: Int! b: Int = 1 c: String } type Query { f(x: O): Int }',
  'input A { b: B! } input B { a: A! } type Query { f(x: A): Int }',
  'input A { a: A! } input B { c: C! d: [B!]! } input C { b: B! e: C } type Query { f(x: A, y: B): Int }',
  'input A { b: B! c: C! } input B { a: A! } input C { b: B! a: A! } type Query { f(x: A): Int }',
  // Several rules at once, interleaved
  'type Query { a: Unknown @nope b: Int @deprecated(why: 1) } type Query { c: Int } extend type Nope @nope enum E { A A }',
];

export function cases() {
  return [
    ...valid.map((sdl) => ({ group: 'valid', sdl })),
    ...invalid.map((sdl) => ({ group: 'invalid', sdl })),
  ];
}
