// blog.test.mjs -- examples/blog's /api/graphql, issue 9's contract, on
// SQLite and on PostgreSQL: every field and error of the contract, the same
// data as the REST routes (a post made by either is seen by the other), the
// same session rules (bearer or cookie; "Unauthorized"/UNAUTHENTICATED),
// the REST routes' Joi wording (BAD_USER_INPUT), "Email already exists"
// (CONFLICT), and the same real-time events recorded for both APIs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, prepareApp, signupAndLogin, sql, startOn, stopAll, uniqueEmail } from '../auth/helpers.mjs';

const APP = prepareApp('examples/blog', 'blog-graphql');
const ENV = { BLOG_LOGIN_PER_ADDRESS: '10000', BLOG_LOGIN_PER_EMAIL: '10000' };

after(stopAll);

const UNAUTH = (path, line, column) => ({ message: 'Unauthorized', locations: [{ line, column }], path, extensions: { code: 'UNAUTHENTICATED' } });

for (const backend of BACKENDS) {
  describe(`blog GraphQL on ${backend}`, () => {
    let s, gql, me;
    before(async () => {
      s = await startOn(APP, backend, { env: ENV });
      gql = async (query, variables, auth = {}) => {
        const r = await s.api.post('/api/graphql', { ...auth, json: { query, variables } });
        assert.equal(r.status, 200, r.text);
        return r.json;
      };
      me = await signupAndLogin(s.api);
    });

    test('the contract: types and fields as issue 9 writes them', async () => {
      const r = await gql(`{ q: __type(name: "Query") { fields { name } } m: __type(name: "Mutation") { fields { name } }
        p: __type(name: "Post") { fields { name } } u: __type(name: "User") { fields { name } }
        pi: __type(name: "PostInput") { inputFields { name } } s: __type(name: "Subscription") { fields { name } } }`);
      const names = (t) => (t.fields || t.inputFields).map((f) => f.name);
      assert.deepEqual(names(r.data.q), ['hello', 'posts', 'post', 'users', 'user']);
      assert.deepEqual(names(r.data.m), ['createPost', 'updatePost', 'deletePost', 'createUser', 'updateUser', 'deleteUser']);
      assert.deepEqual(names(r.data.p), ['id', 'title', 'content']);
      assert.deepEqual(names(r.data.u), ['id', 'name', 'email']);
      assert.deepEqual(names(r.data.pi), ['title', 'content']);
      assert.deepEqual(names(r.data.s), ['postCreated']);
      assert.deepEqual(await gql('{ hello }'), { data: { hello: 'Hello, World!' } });
    });

    test('posts: REST-made posts seen by GraphQL and the reverse; null and false when there is none', async () => {
      assert.deepEqual(await gql('{ posts { id } }'), { data: { posts: [] } });
      const rest = await s.api.post('/api/posts', { json: { title: 'From REST', content: 'r' } });
      assert.equal(rest.status, 201);
      const made = await gql('mutation($in: PostInput!) { createPost(input: $in) { id title content } }', { in: { title: 'From GraphQL', content: 'g' } });
      const gid = made.data.createPost.id;
      assert.deepEqual(made.data.createPost, { id: gid, title: 'From GraphQL', content: 'g' });
      assert.deepEqual((await s.api.get(`/api/posts/${gid}`)).json, { id: Number(gid), title: 'From GraphQL', content: 'g' });
      assert.deepEqual(await gql('{ posts { id title content } }'), { data: { posts: [
        { id: String(rest.json.id), title: 'From REST', content: 'r' }, { id: gid, title: 'From GraphQL', content: 'g' }] } });
      assert.deepEqual(await gql(`{ post(id: ${rest.json.id}) { title } none: post(id: "999999") { id } bad: post(id: "abc") { id } }`),
        { data: { post: { title: 'From REST' }, none: null, bad: null } });

      const up = await gql(`mutation { updatePost(id: ${rest.json.id}, input: { title: "T2", content: "C2" }) { id title content }
        none: updatePost(id: 999999, input: { title: "x", content: "y" }) { id } }`);
      assert.deepEqual(up, { data: { updatePost: { id: String(rest.json.id), title: 'T2', content: 'C2' }, none: null } });
      assert.equal((await s.api.get(`/api/posts/${rest.json.id}`)).json.title, 'T2');
      const del = await gql(`mutation { a: deletePost(id: ${gid}) b: deletePost(id: ${gid}) }`);
      assert.deepEqual(del, { data: { a: true, b: false } });
      assert.equal((await s.api.get(`/api/posts/${gid}`)).status, 404);
    });

    test('post inputs are checked with the REST schema: Joi wording, BAD_USER_INPUT', async () => {
      const r = await gql('mutation {\n  createPost(input: { title: "", content: "x" }) { id }\n}');
      assert.deepEqual(r, { errors: [{ message: '"title" is not allowed to be empty', locations: [{ line: 2, column: 3 }],
        path: ['createPost'], extensions: { code: 'BAD_USER_INPUT' } }], data: null });
      const rest = await s.api.post('/api/posts', { json: { title: '', content: 'x' } });
      assert.deepEqual(rest.json, { error: r.errors[0].message });
      const p = await s.api.post('/api/posts', { json: { title: 'keep', content: 'k' } });
      const u = await gql(`mutation { updatePost(id: ${p.json.id}, input: { title: "t", content: "" }) { id } }`);
      assert.equal(u.errors[0].message, '"content" is not allowed to be empty');
      assert.equal(u.errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.deepEqual(u.data, { updatePost: null });
      assert.equal((await s.api.get(`/api/posts/${p.json.id}`)).json.content, 'k');
    });

    test('both APIs record and publish the same events', async () => {
      const before = Number(await sql(s.db, 'SELECT count(*) FROM post_events'));
      const rest = await s.api.post('/api/posts', { json: { title: 'ev', content: 'rest' } });
      const g = await gql('mutation { createPost(input: { title: "ev", content: "gql" }) { id } }');
      const gid = g.data.createPost.id;
      await s.api.request(`/api/posts/${rest.json.id}`, { method: 'PUT', json: { title: 'ev2', content: 'rest' } });
      await gql(`mutation { updatePost(id: ${gid}, input: { title: "ev2", content: "gql" }) { id } }`);
      await s.api.request(`/api/posts/${rest.json.id}`, { method: 'DELETE' });
      await gql(`mutation { deletePost(id: ${gid}) }`);
      const rows = (await sql(s.db, `SELECT event, data FROM post_events ORDER BY id`)).split('\n').slice(before)
        .map((l) => { const i = l.indexOf('|'); return [l.slice(0, i), JSON.parse(l.slice(i + 1))]; });
      assert.deepEqual(rows, [
        ['post.created', { id: rest.json.id, title: 'ev', content: 'rest' }],
        ['post.created', { id: Number(gid), title: 'ev', content: 'gql' }],
        ['post.updated', { id: rest.json.id, title: 'ev2', content: 'rest' }],
        ['post.updated', { id: Number(gid), title: 'ev2', content: 'gql' }],
        ['post.deleted', { id: rest.json.id }],
        ['post.deleted', { id: Number(gid) }],
      ]);
    });

    test('users need a session: Unauthorized / UNAUTHENTICATED on every field', async () => {
      assert.deepEqual(await gql('{ users { id } }'), { errors: [UNAUTH(['users'], 1, 3)], data: null });
      assert.deepEqual(await gql('{ user(id: 1) { id } }'), { errors: [UNAUTH(['user'], 1, 3)], data: { user: null } });
      assert.deepEqual(await gql('mutation { createUser(input: { name: "A", email: "a@example.com" }) { id } }'),
        { errors: [UNAUTH(['createUser'], 1, 12)], data: null });
      assert.deepEqual(await gql('mutation { updateUser(id: 1, input: { name: "A", email: "a@example.com" }) { id } }'),
        { errors: [UNAUTH(['updateUser'], 1, 12)], data: { updateUser: null } });
      assert.deepEqual(await gql('mutation { deleteUser(id: 1) }'), { errors: [UNAUTH(['deleteUser'], 1, 12)], data: null });
      assert.deepEqual(await gql('{ users { id } }', undefined, { bearer: 'x'.repeat(43) }), { errors: [UNAUTH(['users'], 1, 3)], data: null });
    });

    for (const how of ['bearer', 'cookie']) {
      test(`users with a session by ${how}: CRUD, REST sees it, CONFLICT, Joi wording`, async () => {
        const auth = how === 'bearer' ? { bearer: me.token } : { cookie: me.cookie };
        const email = uniqueEmail(how);
        const c = await gql('mutation($in: UserInput!) { createUser(input: $in) { id name email } }', { in: { name: 'Ada', email } }, auth);
        assert.equal(c.errors, undefined, JSON.stringify(c));
        const id = c.data.createUser.id;
        assert.deepEqual(c.data.createUser, { id, name: 'Ada', email });
        assert.deepEqual((await s.api.get(`/api/users/${id}`, { bearer: me.token })).json, { id: Number(id), name: 'Ada', email });
        const rest = await s.api.post('/api/users', { bearer: me.token, json: { name: 'Bob', email: uniqueEmail('bob') } });
        const all = await gql('{ users { id name email } }', undefined, auth);
        const restAll = (await s.api.get('/api/users', { bearer: me.token })).json;
        assert.deepEqual(all.data.users, restAll.map((u) => ({ ...u, id: String(u.id) })));
        assert.deepEqual(await gql(`{ user(id: ${rest.json.id}) { name } none: user(id: 999999) { id } }`, undefined, auth),
          { data: { user: { name: 'Bob' }, none: null } });
        const dup = await gql(`mutation { createUser(input: { name: "X", email: "${email}" }) { id } }`, undefined, auth);
        assert.deepEqual(dup, { errors: [{ message: 'Email already exists', locations: [{ line: 1, column: 12 }], path: ['createUser'], extensions: { code: 'CONFLICT' } }], data: null });
        const dupUp = await gql(`mutation { updateUser(id: ${rest.json.id}, input: { name: "X", email: "${email}" }) { id } }`, undefined, auth);
        assert.equal(dupUp.errors[0].extensions.code, 'CONFLICT');
        assert.deepEqual(dupUp.data, { updateUser: null });
        for (const [input, message] of [
          ['{ name: "", email: "z@example.com" }', '"name" is not allowed to be empty'],
          ['{ name: "Z", email: "z" }', '"email" must be a valid email'],
          ['{ name: "Z", email: "" }', '"email" is not allowed to be empty'],
        ]) {
          const r = await gql(`mutation { createUser(input: ${input}) { id } }`, undefined, auth);
          assert.deepEqual(r.errors.map((e) => [e.message, e.extensions.code]), [[message, 'BAD_USER_INPUT']]);
        }
        const up = await gql(`mutation { updateUser(id: ${id}, input: { name: "Ada L", email: "${email}" }) { id name }
          none: updateUser(id: 999999, input: { name: "n", email: "n@example.com" }) { id } }`, undefined, auth);
        assert.deepEqual(up, { data: { updateUser: { id, name: 'Ada L' }, none: null } });
        assert.deepEqual(await gql(`mutation { a: deleteUser(id: ${id}) b: deleteUser(id: ${id}) }`, undefined, auth), { data: { a: true, b: false } });
        assert.equal((await s.api.get(`/api/users/${id}`, { bearer: me.token })).status, 404);
      });
    }
  });
}
