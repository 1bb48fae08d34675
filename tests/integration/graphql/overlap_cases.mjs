// overlap_cases.mjs -- documents for OverlappingFieldsCanBeMerged in the
// validation differential (validate_diff.test.mjs): the shapes graphql-js's
// own tests for the rule exercise (aliases, arguments, directives, nested
// reasons, fragments and fragment pairs, the memo of compared pairs,
// mutually exclusive parents, conflicting return types, recursion), written
// as our own cases over a schema of our own, plus mechanical variants.

export const overlapSdl = `
interface SomeBox { deepBox: SomeBox unrelatedField: String }
type StringBox implements SomeBox {
  scalar: String deepBox: StringBox unrelatedField: String listStringBox: [StringBox] stringBox: StringBox intBox: IntBox
}
type IntBox implements SomeBox {
  scalar: Int deepBox: IntBox unrelatedField: String listStringBox: [StringBox] stringBox: StringBox intBox: IntBox
}
interface NonNullStringBox1 { scalar: String! }
type NonNullStringBox1Impl implements SomeBox & NonNullStringBox1 { scalar: String! unrelatedField: String deepBox: SomeBox }
interface NonNullStringBox2 { scalar: String! }
type NonNullStringBox2Impl implements SomeBox & NonNullStringBox2 { scalar: String! unrelatedField: String deepBox: SomeBox }
type Connection { edges: [Edge] total: Int }
type Edge { node: Node cursor: String }
type Node { id: ID name: String tags: [String!]! }
enum DogCommand { SIT HEEL DOWN }
input SomeInput { a: String b: String c: [Int] d: SomeInput }
interface Pet { name(surname: Boolean): String nickname: String }
type Dog implements Pet {
  name(surname: Boolean): String nickname: String barkVolume: Int owner: Human
  doesKnowCommand(dogCommand: DogCommand): Boolean isAtLocation(x: Int, y: Int): Boolean
}
type Cat implements Pet { name(surname: Boolean): String nickname: String meowVolume: Int owner: Human }
union CatOrDog = Cat | Dog
type Human { name: String relatives: [Human] pets: [Pet] iq: Int best: Human }
type T { a: String b: String c: String d: String x: String y: String field: T deepField: T deeperField: T list: [T] nn: T! }
type Query {
  someBox: SomeBox connection: Connection dog: Dog cat: Cat pet: Pet catOrDog: CatOrDog human: Human
  t: T field: T f1: T f2: T f3: T a: String x: String fragA: String
  someField(a: String, b: String, arg: SomeInput, list: [Int], e: DogCommand, v: Int): String
}
`;

export const overlapDocs = [
  // names and aliases
  'fragment F on Dog { name nickname } { dog { ...F } }',
  'fragment F on Dog { name name } { dog { ...F } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: SIT) } }',
  '{ dog { name @include(if: true) name @include(if: true) } }',
  '{ dog { knowsSit: doesKnowCommand(dogCommand: SIT) knowsDown: doesKnowCommand(dogCommand: DOWN) } }',
  '{ dog { nameIfTrue: name @include(if: true) nameIfFalse: name @include(if: false) } }',
  '{ dog { name @include(if: true) name @include(if: false) } }',
  '{ dog { name @skip(if: true) name } }',
  '{ dog { fido: name fido: nickname } }',
  '{ pet { ... on Dog { name } ... on Cat { name: nickname } } }',
  '{ dog { name: nickname name } }',
  '{ dog { doesKnowCommand doesKnowCommand(dogCommand: HEEL) } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: HEEL) } }',
  '{ dog { isAtLocation(x: 0) isAtLocation(y: 0) } }',
  '{ dog { isAtLocation(x: 0, y: 1) isAtLocation(y: 1, x: 0) } }',
  '{ dog { isAtLocation(x: 0, y: 1) isAtLocation(x: 0) } }',
  '{ dog { isAtLocation(x: 0) isAtLocation(x: 0, y: 1) } }',
  '{ dog { isAtLocation(x: 0, x: 1) isAtLocation(x: 1, y: 1) } }',
  '{ dog { isAtLocation(x: 0, x: 1) isAtLocation(x: 1, x: 1) } }',
  '{ pet { ... on Dog { name(surname: true) } ... on Cat { name } } }',
  '{ pet { ... on Pet { name(surname: true) } ... on Cat { name } } }',
  '{ someField(a: null, b: null) someField(b: null, a: null) }',
  '{ someField(arg: { a: null, b: null }) someField(arg: { b: null, a: null }) }',
  '{ someField(arg: { a: "x", d: { b: "1", a: "2" } }) someField(arg: { d: { a: "2", b: "1" }, a: "x" }) }',
  '{ someField(arg: { a: "x", d: { b: "1", a: "2" } }) someField(arg: { d: { a: "2", b: "2" }, a: "x" }) }',
  '{ someField(list: [1, 2]) someField(list: [2, 1]) }',
  '{ someField(list: [1, 2]) someField(list: [1, 2]) }',
  '{ someField(arg: { c: [3, 1] }) someField(arg: { c: [3,1] }) }',
  '{ someField(a: "x") someField(a: """x""") }',
  '{ someField(a: "x") someField(a: "y") }',
  '{ someField(e: SIT) someField(e: SIT) }',
  '{ someField(e: SIT) someField(e: HEEL) }',
  '{ someField(v: 1) someField(v: 1.0) }',
  '{ someField(v: 10) someField(v: 1e1) }',
  'query Q($v: Int) { someField(v: $v) someField(v: $v) }',
  'query Q($v: Int, $w: Int) { someField(v: $v) someField(v: $w) }',
  'query Q($v: Int) { someField(v: $v) someField(v: 1) }',
  '{ someField(arg: { a: null }) someField(arg: {}) }',
  '{ someField(arg: {}) someField(arg: {}) }',
  '{ someField(list: []) someField(list: null) }',
  '{ someField(arg: { a10: "1", a2: "2" }) someField(arg: { a2: "2", a10: "1" }) }',
  '{ someField(arg: { a: "1", a: "2" }) someField(arg: { a: "2", a: "1" }) }',
  '{ a a a }',
  '{ a x: a a: x }',
  '{ a: x a: fragA a: x }',
  '{ x: a x: a x: fragA x: someField }',
  // fragments
  '{ ...A ...B } fragment A on T { x: a } fragment B on T { x: b }',
  '{ t { ...A ...B } } fragment A on T { x: a } fragment B on T { x: b }',
  `{
  f1 {
    ...A
    ...B
  }
  f2 {
    ...B
    ...A
  }
  f3 {
    ...A
    ...B
    x: c
  }
}
fragment A on T {
  x: a
}
fragment B on T {
  x: b
}`,
  '{ f1 { ...A ...B } f2 { ...B ...A } } fragment A on T { x: a } fragment B on T { x: b }',
  '{ f1 { x: c ...A } f2 { x: c ...A } } fragment A on T { x: a }',
  '{ f1 { ...A ...A } } fragment A on T { x: a x: b }',
  '{ f1 { ...A ...B ...C } } fragment A on T { x: a } fragment B on T { x: b } fragment C on T { x: c }',
  '{ f1 { ...A } } fragment A on T { x: a ...B } fragment B on T { x: b ...C } fragment C on T { x: c }',
  // deep conflicts
  `{
  field {
    x: a
  },
  field {
    x: b
  }
}`,
  `{
  field {
    x: a
    y: c
  },
  field {
    x: b
    y: d
  }
}`,
  `{
  field {
    deepField {
      x: a
    }
  },
  field {
    deepField {
      x: b
    }
  }
}`,
  `{
  field {
    deepField {
      x: a
    }
    deepField {
      x: b
    }
  },
  field {
    deepField {
      y
    }
  }
}`,
  `{
  field {
    ...F
  }
  field {
    ...F
  }
}
fragment F on T {
  deepField {
    deeperField {
      x: a
    }
    deeperField {
      x: b
    }
  },
  deepField {
    deeperField {
      y
    }
  }
}`,
  `{
  field {
    ...I
  }
  field {
    ...F
  }
}
fragment F on T {
  x: a
  ...G
}
fragment G on T {
  y: c
}
fragment I on T {
  y: d
  ...J
}
fragment J on T {
  x: b
}`,
  `fragment F on Query {
  ...G
}
fragment G on Query {
  ...H
}
fragment H on Query {
  x: a
}
{
  x: fragA
  ...F
}`,
  '{ field ...Unknown ...Known } fragment Known on Query { field ...OtherUnknown }',
  '{ t { a ...Unknown ...Known } } fragment Known on T { a: b ...OtherUnknown }',
  '{ field { x: a } field { x: a } field { x: b } }',
  '{ field { x: a y: b } field { y: a x: b } }',
  '{ field { deepField { deeperField { x: a } } } field { deepField { deeperField { x: b } } } }',
  '{ field { list { a } } field { list { a: b } } }',
  '{ field { nn { a } } field { nn { a: c d } } }',
  '{ field(a: 1) { a } field { a } }',
  '{ field { a } field }',
  '{ field field { a } }',
  '{ t { ... { a } ... { a: b } } }',
  '{ t { ... on T { a } ... on T { a: b } } }',
  '{ t { ... on T { a } ... { a: b } ...F } } fragment F on T { a: c }',
  // return types (box schema)
  `{
  someBox {
    ...on IntBox {
      scalar
    }
    ...on NonNullStringBox1 {
      scalar
    }
  }
}`,
  '{ someBox { ... on SomeBox { deepBox { unrelatedField } } ... on StringBox { deepBox { unrelatedField } } } }',
  '{ someBox { ... on IntBox { scalar } ... on StringBox { scalar } } }',
  `{
  someBox {
    ... on IntBox {
      deepBox {
        ...X
      }
    }
  }
  someBox {
    ... on StringBox {
      deepBox {
        ...Y
      }
    }
  }
  memoed: someBox {
    ... on IntBox {
      deepBox {
        ...X
      }
    }
  }
  memoed: someBox {
    ... on StringBox {
      deepBox {
        ...Y
      }
    }
  }
  other: someBox {
    ...X
  }
  other: someBox {
    ...Y
  }
}
fragment X on SomeBox {
  scalar
}
fragment Y on SomeBox {
  scalar: unrelatedField
}`,
  '{ someBox { ... on NonNullStringBox1 { scalar } ... on StringBox { scalar } } }',
  '{ someBox { ... on IntBox { box: listStringBox { scalar } } ... on StringBox { box: stringBox { scalar } } } }',
  '{ someBox { ... on IntBox { box: stringBox { scalar } } ... on StringBox { box: listStringBox { scalar } } } }',
  '{ someBox { ... on IntBox { box: stringBox { val: scalar val: unrelatedField } } ... on StringBox { box: stringBox { val: scalar } } } }',
  '{ someBox { ... on IntBox { box: stringBox { scalar } } ... on StringBox { box: intBox { scalar } } } }',
  '{ someBox { ... on IntBox { scalar: unrelatedField } ... on StringBox { scalar } } }',
  '{ someBox { ...on NonNullStringBox1 { scalar } ...on NonNullStringBox2 { scalar } } }',
  '{ a ... { a } }',
  `{
  connection {
    ...edgeID
    edges {
      node {
        id: name
      }
    }
  }
}

fragment edgeID on Connection {
  edges {
    node {
      id
    }
  }
}`,
  '{ someBox { ...on UnknownType { scalar } ...on NonNullStringBox2 { scalar } } }',
  '{ someBox { ... on IntBox { deepBox { scalar } } ... on StringBox { deepBox { scalar } } } }',
  '{ someBox { ... on IntBox { deepBox { deepBox { scalar } } } ... on StringBox { deepBox { deepBox { scalar } } } } }',
  '{ someBox { ... on SomeBox { deepBox { ... on IntBox { scalar } } } ... on StringBox { deepBox { ... on StringBox { scalar } } } } }',
  '{ someBox { ... on IntBox { x: scalar } ... on StringBox { x: unrelatedField } ... on NonNullStringBox1 { x: scalar } } }',
  '{ someBox { ... on IntBox { intBox { scalar } } ... on StringBox { intBox { scalar: unrelatedField } } } }',
  '{ someBox { ... on IntBox { b: intBox { s: scalar } } b: deepBox { s: unrelatedField } } }',
  '{ connection { edges { node { id } } edges { node { id: name } cursor } } }',
  '{ connection { edges { node { tags } } edges { node { tags: name } } } }',
  '{ connection { edges { node { id } } total: edges { node { id } } } }',
  '{ connection { total edges { cursor } } connection { total: total edges { cursor: cursor } } }',
  '{ catOrDog { ... on Cat { owner { name } } ... on Dog { owner { name: iq } } } }',
  '{ catOrDog { ... on Cat { v: meowVolume } ... on Dog { v: barkVolume } } }',
  '{ catOrDog { ... on Cat { v: meowVolume } ... on Dog { v: name } } }',
  '{ catOrDog { ... on Cat { v: meowVolume } ... on Pet { v: nickname } } }',
  '{ pet { ... on Cat { name(surname: true) } ... on Dog { name(surname: false) } } }',
  '{ pet { name ... on Dog { name(surname: false) } } }',
  '{ pet { ... on Cat { owner { name } } ... on Dog { owner { name: iq } } } }',
  '{ pet { ... on Cat { owner { name } } ... on Dog { owner { iq: name } } } }',
  '{ human { pets { ... on Dog { name } } pets { ... on Dog { name: nickname } } } }',
  '{ human { relatives { name } relatives { name: iq } } }',
  '{ human { best { best { best { name } } } best { best { best { name: iq } } } } }',
  '{ human { ...H } human { ...H2 } } fragment H on Human { best { name } } fragment H2 on Human { best { name: iq } }',
  '{ dog { ...D } cat { ...C } } fragment D on Dog { name: nickname } fragment C on Cat { name }',
  '{ pet { ...D ...C } } fragment D on Dog { n: nickname } fragment C on Cat { n: name(surname: true) }',
  '{ pet { ...P ...D } } fragment P on Pet { n: nickname } fragment D on Dog { n: name }',
  '{ pet { ... on Dog { ...P } ... on Cat { ...Q } } } fragment P on Pet { n: nickname } fragment Q on Pet { n: name }',
  // recursion
  '{ ...fragA } fragment fragA on Human { name, relatives { name, ...fragA } }',
  '{ human { ...fragA } } fragment fragA on Human { name, relatives { name, ...fragA } }',
  '{ ...fragA } fragment fragA on Human { name, ...fragA }',
  '{ ...fragA fragA } fragment fragA on Query { ...fragA }',
  `{
  fragA
  ...fragA
}

fragment fragA on Type {
  fragA: b
}`,
  '{ ...fragA fragB } fragment fragA on Human { name, ...fragB } fragment fragB on Human { name, ...fragC } fragment fragC on Human { name, ...fragA }',
  '{ human { ...fragA } } fragment fragA on Human { name, ...fragB } fragment fragB on Human { name: iq, ...fragC } fragment fragC on Human { name, ...fragA }',
  '{ ...fragA } fragment fragA on Query { x: a ...fragB } fragment fragB on Query { x: fragA ...fragA }',
  `{
  ...A
  ...B
}
fragment A on Query {
  x: a
  ...B
}
fragment B on Query {
  x: fragA
  ...A
}`,
  '{ t { ...A ...B } } fragment A on T { x: a ...B } fragment B on T { x: b ...A }',
  '{ t { ...A } t { ...B } } fragment A on T { field { x: a } ...B } fragment B on T { field { x: b } ...A }',
  '{ f1 { ...A } f1 { ...B } } fragment A on T { deepField { ...A } } fragment B on T { deepField { ...B x: a } }',
  '{ f1 { ...A } f1 { ...B } } fragment A on T { x: a deepField { ...B } } fragment B on T { x: b deepField { ...A } }',
  // mutually exclusive memo: the same pair first exclusive, then not
  '{ pet { ... on Dog { owner { ...X } } ... on Cat { owner { ...Y } } } human { best { ...X } best { ...Y } } } fragment X on Human { n: name } fragment Y on Human { n: iq }',
  '{ human { best { ...X } best { ...Y } } pet { ... on Dog { owner { ...X } } ... on Cat { owner { ...Y } } } } fragment X on Human { n: name } fragment Y on Human { n: iq }',
  '{ pet { ... on Dog { owner { ...X ...Y } } ... on Cat { owner { ...Y ...X } } } } fragment X on Human { n: name } fragment Y on Human { n: iq }',
  '{ pet { ... on Dog { owner { n: name } } ... on Cat { owner { ...Y } } } human { n: name ...Y } } fragment Y on Human { n: iq }',
  // unknown fields, unknown types, non-composite conditions
  '{ nope nope: a }',
  '{ a: nope a: nope2 }',
  '{ t { ... on Nope { a } a: b } }',
  '{ t { ... on String { a } a: b } }',
  '{ zz { a } zz { a: b } }',
  '{ __typename __typename: a }',
  '{ t { __typename } t { __typename: a } }',
  '{ pet { ... on Dog { __typename } ... on Cat { __typename: name } } }',
  // operations and subscriptions
  'query A { x: a x: fragA } query B { x: a }',
  'mutation { a a: x }',
  '{ ...F } fragment F on Query { x: a } fragment G on Query { x: fragA }',
  'fragment F on Query { x: a x: fragA }',
];

// A selection set with thousands of fields and fragment spreads (and each
// fragment spread many times): must validate in bounded time.
export function bigDocument(fields = 3000, frags = 200) {
  const parts = [];
  for (let i = 0; i < fields; i++) parts.push(`f${i}: a`);
  for (let i = 0; i < frags; i++) parts.push(`...F${i}`);
  let doc = `{ ${parts.join(' ')} t { ${parts.slice(0, 500).join(' ').replace(/: a/g, ': x')} } }\n`;
  for (let i = 0; i < frags; i++) {
    const body = [];
    for (let k = 0; k < 10; k++) body.push(`f${(i * 10 + k) % fields}: a`);
    body.push(`...F${(i + 1) % frags}`);
    doc += `fragment F${i} on Query { ${body.join(' ')} }\n`;
  }
  return doc;
}
