// users.test.mjs -- the lesson's practice task on examples/blog: /api/users
// and /api/users/[id] behind kiln_require_session, on SQLite and on
// PostgreSQL. Every status and message, the Allow lists, and the CSRF rule
// (cookie + unsafe method + an Origin of another host -> 403).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, prepareApp, startOn, stopAll, signupAndLogin, uniqueEmail } from './helpers.mjs';

const APP = prepareApp('examples/blog', 'blog-auth-users');
const ENV = { BLOG_LOGIN_PER_ADDRESS: '10000', BLOG_LOGIN_PER_EMAIL: '10000' };

after(stopAll);

function assertError(r, status, message) {
  assert.equal(r.status, status, `${status} expected, got ${r.status}: ${r.text}`);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(r.json, { error: message });
}

for (const backend of BACKENDS) {
  describe(`users on ${backend}`, () => {
    let s;
    let api;
    let me; // {token, cookie, ...}
    let auth; // bearer auth for the CRUD tests
    before(async () => {
      s = await startOn(APP, backend, { env: ENV });
      api = s.api;
      me = await signupAndLogin(api);
      auth = { bearer: me.token };
    });

    test('without a session every method -> 401 "Unauthorized" (before 405, as in the lesson)', async () => {
      for (const [method, p] of [
        ['GET', '/api/users'], ['POST', '/api/users'], ['PATCH', '/api/users'],
        ['GET', '/api/users/1'], ['PUT', '/api/users/1'], ['DELETE', '/api/users/1'], ['POST', '/api/users/1'],
      ]) {
        const r = await api.request(p, { method, json: { name: 'A', email: 'a@example.com' } });
        assertError(r, 401, 'Unauthorized');
      }
      assertError(await api.get('/api/users', { bearer: 'x'.repeat(43) }), 401, 'Unauthorized');
    });

    test('GET /api/users -> 200 [] at first, then the users in id order', async () => {
      const r0 = await api.get('/api/users', auth);
      assert.equal(r0.status, 200);
      assert.deepEqual(r0.json, []);
      const a = await api.post('/api/users', { ...auth, json: { name: 'Ada', email: uniqueEmail('ada') } });
      const b = await api.post('/api/users', { ...auth, json: { name: 'Bob', email: uniqueEmail('bob') } });
      assert.equal(a.status, 201, a.text);
      assert.equal(b.status, 201, b.text);
      const r = await api.get('/api/users', auth);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, [a.json, b.json]);
      for (const u of r.json) assert.deepEqual(Object.keys(u), ['id', 'name', 'email']);
    });

    test('POST /api/users -> 201 {id, name, email}; the same email again -> 409', async () => {
      const email = uniqueEmail('Carol');
      const r = await api.post('/api/users', { ...auth, json: { name: 'Carol', email } });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.json), ['id', 'name', 'email']);
      assert.equal(r.json.name, 'Carol');
      assert.equal(r.json.email, email);
      assertError(await api.post('/api/users', { ...auth, json: { name: 'Other', email } }), 409, 'Email already exists');
    });

    test('POST /api/users validation in Joi\'s words', async () => {
      const cases = [
        [{}, '"name" is required'],
        [{ email: uniqueEmail() }, '"name" is required'],
        [{ name: '' , email: uniqueEmail() }, '"name" is not allowed to be empty'],
        [{ name: 5, email: uniqueEmail() }, '"name" must be a string'],
        [{ name: 'Dan' }, '"email" is required'],
        [{ name: 'Dan', email: '' }, '"email" is not allowed to be empty'],
        [{ name: 'Dan', email: 'dan' }, '"email" must be a valid email'],
        [{ name: 'Dan', email: 'dan@localhost' }, '"email" must be a valid email'],
        [{ name: 'Dan', email: uniqueEmail(), age: 3 }, '"age" is not allowed'],
        ['"just a string"', '"value" must be of type object'],
      ];
      for (const [json, message] of cases) {
        assertError(await api.post('/api/users', { ...auth, json }), 400, message);
      }
    });

    test('GET/PUT/DELETE /api/users/[id]', async () => {
      const email = uniqueEmail('eve');
      const c = await api.post('/api/users', { ...auth, json: { name: 'Eve', email } });
      const id = c.json.id;
      const g = await api.get(`/api/users/${id}`, auth);
      assert.equal(g.status, 200);
      assert.deepEqual(g.json, { id, name: 'Eve', email });

      const newEmail = uniqueEmail('eve2');
      const p = await api.put(`/api/users/${id}`, { ...auth, json: { name: 'Eve B', email: newEmail } });
      assert.equal(p.status, 200, p.text);
      assert.deepEqual(p.json, { id, name: 'Eve B', email: newEmail });
      // Keeping one's own email is fine; taking another user's is a conflict.
      assert.equal((await api.put(`/api/users/${id}`, { ...auth, json: { name: 'Eve C', email: newEmail } })).status, 200);
      const other = await api.post('/api/users', { ...auth, json: { name: 'Fay', email: uniqueEmail('fay') } });
      assertError(await api.put(`/api/users/${id}`, { ...auth, json: { name: 'Eve', email: other.json.email } }), 409,
        'Email already exists');
      assertError(await api.put(`/api/users/${id}`, { ...auth, json: { name: 'Eve' } }), 400, '"email" is required');
      assertError(await api.put(`/api/users/${id}`, { ...auth, json: { name: 'Eve', email: 'nope' } }), 400,
        '"email" must be a valid email');

      const d = await api.del(`/api/users/${id}`, auth);
      assert.equal(d.status, 204);
      assert.equal(d.text, '');
      assertError(await api.get(`/api/users/${id}`, auth), 404, 'User not found');
      assertError(await api.del(`/api/users/${id}`, auth), 404, 'User not found');
      // 404 comes before validation for PUT, as in the lesson.
      assertError(await api.put(`/api/users/${id}`, { ...auth, json: {} }), 404, 'User not found');
    });

    test('unknown and malformed ids -> 404 "User not found"', async () => {
      for (const id of ['999999', '0', '-1', 'abc', '1.5', '99999999999999999999999']) {
        assertError(await api.get(`/api/users/${id}`, auth), 404, 'User not found');
        assertError(await api.put(`/api/users/${id}`, { ...auth, json: { name: 'X', email: uniqueEmail() } }), 404,
          'User not found');
        assertError(await api.del(`/api/users/${id}`, auth), 404, 'User not found');
      }
    });

    test('other methods -> 405 with the right Allow', async () => {
      for (const m of ['PATCH', 'PUT', 'DELETE']) {
        const r = await api.request('/api/users', { ...auth, method: m });
        assert.equal(r.status, 405, m);
        assert.equal(r.headers.allow, 'GET, POST');
      }
      for (const m of ['PATCH', 'POST']) {
        const r = await api.request('/api/users/1', { ...auth, method: m });
        assert.equal(r.status, 405, m);
        assert.equal(r.headers.allow, 'GET, PUT, DELETE');
      }
    });

    test('the session cookie works too', async () => {
      const r = await api.get('/api/users', { cookie: me.cookie });
      assert.equal(r.status, 200);
      const c = await api.post('/api/users', { cookie: me.cookie, json: { name: 'Gil', email: uniqueEmail('gil') } });
      assert.equal(c.status, 201, 'a cookie POST without Origin (not a browser) passes');
    });

    describe('CSRF: cookie + unsafe method + Origin of another host -> 403', () => {
      const host = () => `127.0.0.1:${s.port}`;
      const body = () => ({ name: 'Csrf', email: uniqueEmail('csrf') });

      test('cross-site POST, PUT, DELETE with the cookie -> 403 "Forbidden", nothing changes', async () => {
        const victim = await api.post('/api/users', { ...auth, json: body() });
        const before_ = await api.get('/api/users', auth);
        for (const origin of ['https://evil.example', 'http://127.0.0.1:1', `http://127.0.0.1:${s.port + 1}`,
          'null', `http://evil.example:${s.port}`, 'garbage', `https://127.0.0.1:${s.port}/x`]) {
          const headers = { origin };
          assertError(await api.post('/api/users', { cookie: me.cookie, headers, json: body() }), 403, 'Forbidden');
          assertError(await api.put(`/api/users/${victim.json.id}`, { cookie: me.cookie, headers, json: body() }), 403,
            'Forbidden');
          assertError(await api.del(`/api/users/${victim.json.id}`, { cookie: me.cookie, headers }), 403, 'Forbidden');
        }
        assert.deepEqual((await api.get('/api/users', auth)).json, before_.json);
        // The same requests from the page's own origin go through.
        const same = { origin: `http://${host()}` };
        assert.equal((await api.post('/api/users', { cookie: me.cookie, headers: same, json: body() })).status, 201);
        assert.equal((await api.put(`/api/users/${victim.json.id}`, { cookie: me.cookie, headers: same, json: body() })).status, 200);
        assert.equal((await api.del(`/api/users/${victim.json.id}`, { cookie: me.cookie, headers: same })).status, 204);
      });

      test('same host: case and default ports do not matter', async () => {
        const r = await api.post('/api/users', {
          cookie: me.cookie,
          headers: { origin: `HTTP://LocalHost:${s.port}`, host: `localhost:${s.port}` },
          json: body(),
        });
        assert.equal(r.status, 201, r.text);
        const d = await api.post('/api/users', {
          cookie: me.cookie,
          headers: { origin: 'https://Blog.Example.com', host: 'blog.example.com:443' },
          json: body(),
        });
        assert.equal(d.status, 201, d.text);
        const h = await api.post('/api/users', {
          cookie: me.cookie,
          headers: { origin: 'http://blog.example.com:80', host: 'blog.example.com' },
          json: body(),
        });
        assert.equal(h.status, 201, h.text);
        const sib = await api.post('/api/users', {
          cookie: me.cookie,
          headers: { origin: 'https://app.example.com', host: 'api.example.com' },
          json: body(),
        });
        assertError(sib, 403, 'Forbidden');
      });

      test('bearer + cross-site Origin -> allowed (a browser never attaches bearer tokens by itself)', async () => {
        const r = await api.post('/api/users', { bearer: me.token, headers: { origin: 'https://evil.example' }, json: body() });
        assert.equal(r.status, 201, r.text);
        const d = await api.del(`/api/users/${r.json.id}`, { bearer: me.token, headers: { origin: 'https://evil.example' } });
        assert.equal(d.status, 204);
      });

      test('safe methods with the cookie from another site -> allowed', async () => {
        const r = await api.get('/api/users', { cookie: me.cookie, headers: { origin: 'https://evil.example' } });
        assert.equal(r.status, 200);
      });

      test('logout is protected the same way (no forced logouts)', async () => {
        const a = await signupAndLogin(api);
        assertError(await api.post('/api/auth/logout', { cookie: a.cookie, headers: { origin: 'https://evil.example' } }),
          403, 'Forbidden');
        assert.equal((await api.get('/api/auth/session', { cookie: a.cookie })).status, 200, 'still logged in');
        assert.equal((await api.post('/api/auth/logout', { cookie: a.cookie, headers: { origin: `http://${host()}` } })).status, 204);
      });

      test('a bad cookie with a cross-site Origin -> 401 (no session at all comes first)', async () => {
        assertError(await api.post('/api/users', { cookie: 'nope', headers: { origin: 'https://evil.example' }, json: body() }),
          401, 'Unauthorized');
      });
    });
  });
}
