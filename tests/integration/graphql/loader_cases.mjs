// loader_cases.mjs -- schema, data and documents of the loader differential
// test (loader_diff.test.mjs). The resolvers and batch functions are
// written once with npm dataloader (loader_diff.test.mjs) and once in C
// with kiln_gql_load (loader_side.c); everything else is read from here.

export const sdl = `
type Org { id: ID! title: String! failNN: String! }
type User { id: ID! name: String! nameNN: String! org: Org orgNN: Org! team: String fail: String failNN: String! }
type Post { id: ID! title: String author: User authorNN: User! fail: String failNN: String! }
type Query { posts: [Post!]! postsN: [Post] postsL: [Post!] user(id: ID!): User userNN(id: ID!): User! }
type Mutation { touch(id: ID!): User touchNN(id: ID!): User! }
`;

// Users: 9 fails its key, 0 is none (null); 3 has a null nameNN. Org "bad"
// fails its key. Every key of the team batch fails (the batch does).
export const users = {
  1: { id: '1', name: 'Ann', nameNN: 'Ann', orgId: 'o1' },
  2: { id: '2', name: 'Bob', nameNN: 'Bob', orgId: 'o2' },
  3: { id: '3', name: 'Cid', nameNN: null, orgId: 'bad' },
};
export const orgs = { o1: { id: 'o1', title: 'Kiln' }, o2: { id: 'o2', title: 'Forge' } };
export const root = {
  posts: [
    { id: 'p1', title: 'One', authorId: '1' }, { id: 'p2', title: 'Two', authorId: '2' },
    { id: 'p3', title: 'Three', authorId: '1' }, { id: 'p4', title: 'Four', authorId: '9' },
    { id: 'p5', title: 'Five', authorId: '0' }, { id: 'p6', title: 'Six', authorId: '3' },
  ],
};
root.postsN = root.posts;
root.postsL = root.posts;

export const cases = [
  '{ posts { id title author { id name } } }',
  '{ posts { id author { name org { title } } } }',
  '{ posts { id authorNN { name } } }',
  '{ postsN { id authorNN { name } } }',
  '{ postsN { id author { nameNN } } }',
  '{ posts { id fail author { name team } } }',
  '{ postsN { author { orgNN { title } } } }',
  '{ posts { author { orgNN { title } } } }',
  '{ a: user(id: "1") { name } b: user(id: "1") { org { title } } c: user(id: "2") { org { id } } d: user(id: "9") { id } }',
  '{ postsN { fail author { name } failNN } }',
  '{ postsN { failNN author { name } } }',
  '{ user(id: "3") { nameNN } other: user(id: "2") { name } }',
  '{ userNN(id: "0") { name } user(id: "1") { name } }',
  '{ postsN { id author { id } } user(id: "1") { org { title } } }',
  '{ posts { authorNN { team } } }',
  'mutation { a: touch(id: "1") { name org { title } } b: touch(id: "2") { name } c: touch(id: "9") { name } }',
  // A non-null field failing beside loaded fields: graphql-js rejects the
  // object only once the loaded fields before it settle
  // (promiseForObject(...).finally), at every depth, in lists with nullable
  // and non-null items, at the root.
  '{ postsN { author { name } failNN } }',
  '{ postsN { author { name } failNN fail } }',
  '{ postsL { author { name } failNN } }',
  '{ posts { author { name } failNN } }',
  '{ postsN { author { name org { title } failNN } } }',
  '{ postsN { author { org { title failNN } name } } }',
  '{ postsN { author { org { title } } failNN } }',
  '{ postsN { author { orgNN { title } } failNN } }',
  '{ postsN { authorNN { name } failNN } }',
  '{ postsN { id author { name } a2: author { nameNN } failNN } }',
  '{ postsN { author { name } } user(id: "1") { name failNN } }',
  '{ user(id: "1") { org { title } failNN } other: user(id: "2") { name } }',
  '{ userNN(id: "1") { org { title } failNN } other: user(id: "2") { name } }',
  '{ postsL { id author { org { title } } } postsN { failNN } }',
  '{ postsN { author { team name } failNN } }',
  '{ postsN { author { name failNN } authorNN { name } } }',
  '{ postsN { author { org { failNN title } } fail } }',
  '{ hi: postsN { author { name } } postsN { failNN } user(id: "9") { name } }',
  '{ user(id: "3") { org { failNN } fail } a: user(id: "1") { org { failNN } } }',
  '{ postsL { author { org { failNN } } } }',
  // Cache hits: the cached promise's .then is one more job, queued behind
  // the catches of the batch's other keys.
  '{ postsN { author { fail name failNN } } }',
  '{ postsN { fail author { fail org { failNN } failNN } failNN } }',
  '{ a: user(id: "1") { fail failNN } b: user(id: "1") { fail } c: user(id: "2") { failNN } }',
  '{ postsN { author { fail } a2: author { failNN } } }',
  '{ postsN { author { org { title } } a2: author { org { failNN } } } }',
  '{ a: user(id: "3") { org { title } } b: user(id: "3") { orgNN { title } } c: user(id: "1") { fail } }',
  '{ posts { authorNN { fail } } }',
  '{ postsN { authorNN { failNN } } }',
  '{ postsL { authorNN { failNN } } }',
  '{ postsN { author { nameNN fail } failNN } }',
  '{ userNN(id: "9") { name } user(id: "1") { fail } }',
  '{ postsN { author { team fail failNN } } }',
  // A rejection settles the lists and objects it climbs through at once;
  // graphql-js answers before loads still pending under them settle.
  '{ postsL { authorNN { org { title } } } }',
  '{ postsL { authorNN { orgNN { title } } } }',
  // A batch that fails as a whole settles its keys a job later.
  '{ u2: user(id: "1") { id fail team org { id failNN } } }',
  '{ userNN(id: "3") { team org { id failNN } } }',
  // Random combinations (every 12th of 750 of an earlier generator), pinning the order.
  '{ user(id: "1") { fail nameNN id } }',
  '{ user(id: "2") { team id } }',
  '{ user(id: "2") { team } u2: user(id: "1") { nameNN org { id } } }',
  '{ userNN(id: "1") { failNN name } posts { fail title } }',
  '{ userNN(id: "1") { team fail name nameNN } postsN { id title } }',
  '{ postsL { id title } }',
  '{ postsN { title failNN author { fail org { title } orgNN { id failNN } } fail } u2: user(id: "3") { orgNN { id title } id fail failNN } }',
  '{ postsL { authorNN { orgNN { id title } nameNN } fail author { nameNN team } title } u2: user(id: "3") { nameNN id failNN orgNN { failNN } } }',
  '{ userNN(id: "1") { org { title } team } }',
  '{ u2: user(id: "3") { fail } }',
  '{ posts { author { id fail name org { id failNN } } id } postsN { authorNN { org { id failNN } } } }',
  '{ u2: user(id: "1") { orgNN { id } } }',
  '{ u2: user(id: "1") { failNN name } }',
  '{ posts { id author { orgNN { failNN } nameNN failNN fail } } }',
  '{ u2: user(id: "3") { fail id orgNN { title } failNN } }',
  '{ posts { title author { orgNN { title id } team name } failNN } userNN(id: "9") { nameNN } }',
  '{ postsL { fail title failNN authorNN { name id } } u2: user(id: "3") { fail name } }',
  '{ u2: user(id: "1") { failNN fail id } postsN { fail id authorNN { team } } }',
  '{ postsL { authorNN { fail } id failNN } u2: user(id: "2") { name } }',
  '{ userNN(id: "3") { name org { id } orgNN { title } } }',
  '{ user(id: "1") { id } }',
  '{ userNN(id: "9") { failNN } }',
  '{ u2: user(id: "1") { nameNN } userNN(id: "1") { fail id } }',
  '{ userNN(id: "0") { org { id } nameNN failNN } }',
  '{ u2: user(id: "1") { orgNN { failNN id } } userNN(id: "2") { orgNN { failNN } fail team name } }',
  '{ posts { authorNN { team } } userNN(id: "3") { failNN orgNN { title } org { title } nameNN } }',
  '{ user(id: "0") { team nameNN name } u2: user(id: "2") { name orgNN { id failNN } failNN id } }',
  '{ postsN { title authorNN { nameNN failNN } fail } }',
  '{ postsN { fail authorNN { org { failNN title } orgNN { failNN title } fail nameNN } id } }',
  '{ posts { author { id name team failNN } id } }',
  '{ user(id: "9") { failNN } }',
  '{ user(id: "3") { orgNN { failNN } nameNN failNN } u2: user(id: "2") { id fail } }',
  '{ posts { id fail failNN author { orgNN { id title } failNN org { id title } nameNN } } postsL { fail title } }',
  '{ u2: user(id: "3") { team name } user(id: "9") { id } }',
  '{ postsL { title } }',
  '{ postsL { id } }',
  '{ postsN { author { failNN orgNN { title } } id authorNN { nameNN name org { title failNN } fail } failNN } }',
  '{ user(id: "2") { fail id org { failNN } team } }',
  '{ user(id: "1") { team org { id } } u2: user(id: "3") { team fail } }',
  '{ posts { authorNN { nameNN team org { failNN id } id } title } postsL { author { fail org { title id } } failNN } }',
  // The 7 documents that were a todo while Kiln counted promise jobs
  // instead of running them: errors pushed after the root promise settled
  // but before execute()'s .then handler built the response, and two
  // rejections racing for one Promise.all.
  '{ postsN { author { team org { title failNN } failNN fail } id } u2: user(id: "3") { id team orgNN { title } } }',
  '{ posts { title author { team nameNN failNN } id } userNN(id: "2") { orgNN { failNN id } } }',
  '{ userNN(id: "9") { failNN fail org { title } name } postsN { id authorNN { failNN orgNN { id failNN } org { title } fail } author { orgNN { title } nameNN } } }',
  '{ postsL { authorNN { id org { failNN } } id } userNN(id: "2") { id failNN nameNN } }',
  '{ postsL { authorNN { team id fail } title id } userNN(id: "0") { orgNN { failNN id } nameNN } }',
  '{ postsL { authorNN { failNN nameNN orgNN { id failNN } } fail } userNN(id: "0") { fail orgNN { failNN } } }',
  '{ postsN { fail title authorNN { orgNN { id } failNN team org { title } } author { team failNN nameNN } } }',
  // Mutations: promiseReduce runs each root field in a .then of the one before.
  'mutation { a: touch(id: "9") { name } b: touch(id: "3") { nameNN org { failNN } } c: touch(id: "1") { team } }',
  'mutation { a: touch(id: "3") { orgNN { title } team } b: touch(id: "3") { orgNN { id } } }',
  // A non-null root field rejecting: the fields after it never run (their
  // batches are never asked for), the rejection passes through one .then
  // per field left.
  'mutation { a: touchNN(id: "9") { name } b: touch(id: "2") { name org { title } } c: touchNN(id: "1") { fail } }',
  'mutation { a: touch(id: "1") { team } b: touchNN(id: "3") { nameNN org { failNN } } c: touch(id: "2") { name } }',
];

// Random documents over the schema above, the same for a given seed
// (mulberry32): 1 to 3 root fields (aliased when repeated), 1 to 4 fields
// per selection in random order, objects nested up to the schema's depth;
// one document in eight is a mutation.
const fieldsOf = {
  Org: ['id', 'title', 'failNN'],
  User: ['id', 'name', 'nameNN', 'org', 'orgNN', 'team', 'fail', 'failNN'],
  Post: ['id', 'title', 'author', 'authorNN', 'fail', 'failNN'],
};
const objectType = { org: 'Org', orgNN: 'Org', author: 'User', authorNN: 'User' };
const ids = ['0', '1', '2', '3', '9'];

export function randomCases(seed, n) {
  let t = seed >>> 0;
  const rand = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const int = (k) => Math.floor(rand() * k);
  const selection = (type) => {
    const pool = [...fieldsOf[type]];
    const out = [];
    for (let k = 1 + int(4); k > 0 && pool.length; k--) {
      const f = pool.splice(int(pool.length), 1)[0];
      out.push(objectType[f] ? `${f} ${selection(objectType[f])}` : f);
    }
    return `{ ${out.join(' ')} }`;
  };
  const docs = [];
  for (let i = 0; i < n; i++) {
    const mutation = int(8) === 0;
    const roots = [];
    for (let k = 1 + int(3); k > 0; k--) {
      const alias = roots.length ? `r${roots.length}: ` : '';
      if (mutation) roots.push(`${alias}${int(2) ? 'touch' : 'touchNN'}(id: "${ids[int(5)]}") ${selection('User')}`);
      else {
        const f = ['posts', 'postsN', 'postsL', 'user', 'userNN'][int(5)];
        roots.push(f.startsWith('user') ? `${alias}${f}(id: "${ids[int(5)]}") ${selection('User')}` : `${alias}${f} ${selection('Post')}`);
      }
    }
    docs.push(`${mutation ? 'mutation ' : ''}{ ${roots.join(' ')} }`);
  }
  return docs;
}
