// accounts.test.mjs -- the lesson's auth routes on examples/blog (signup,
// login, session, logout), on SQLite and on PostgreSQL: every status and
// message, the session cookie's attributes, bearer and cookie, and the
// tokens that must be refused (tampered, garbage, revoked, expired).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKENDS, prepareApp, startOn, stopAll, signupAndLogin, uniqueEmail, sql } from './helpers.mjs';

const APP = prepareApp('examples/blog', 'blog-auth-accounts');
// Room for the many logins below (the limits have their own test file).
const ENV = { BLOG_LOGIN_PER_ADDRESS: '10000', BLOG_LOGIN_PER_EMAIL: '10000' };

after(stopAll);

const JSON_CT = 'application/json; charset=utf-8';

function assertError(r, status, message) {
  assert.equal(r.status, status, `${status} expected, got ${r.status}: ${r.text}`);
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.deepEqual(r.json, { error: message });
}

for (const backend of BACKENDS) {
  describe(`auth routes on ${backend}`, () => {
    let s;
    let api;
    before(async () => {
      s = await startOn(APP, backend, { env: ENV });
      api = s.api;
    });

    describe('POST /api/auth/signup', () => {
      test('201 {id, email}, the email lower-cased; only an Argon2id hash is stored', async () => {
        const email = uniqueEmail('Signup').replace('example.com', 'Example.COM');
        const r = await api.post('/api/auth/signup', { json: { email, password: 'longenough' } });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.headers['content-type'], JSON_CT);
        assert.deepEqual(Object.keys(r.json).sort(), ['email', 'id']);
        assert.equal(r.json.email, email.toLowerCase());
        assert.ok(Number.isInteger(r.json.id) && r.json.id > 0);
        const stored = await sql(s.db, `SELECT password_hash FROM accounts WHERE id = ${r.json.id}`);
        assert.match(stored, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
        assert.ok(!stored.includes('longenough'));
      });

      test('exactly 8 characters is long enough; 7 is not (Joi wording)', async () => {
        const ok = await api.post('/api/auth/signup', { json: { email: uniqueEmail(), password: '12345678' } });
        assert.equal(ok.status, 201, ok.text);
        const short = await api.post('/api/auth/signup', { json: { email: uniqueEmail(), password: '1234567' } });
        assertError(short, 400, '"password" length must be at least 8 characters long');
        // Joi counts UTF-16 units: 4 emoji are 8 units.
        const emoji = await api.post('/api/auth/signup', { json: { email: uniqueEmail(), password: '😀😀😀😀' } });
        assert.equal(emoji.status, 201, emoji.text);
      });

      test('invalid emails -> 400 "email" must be a valid email', async () => {
        for (const email of ['bad', 'a@b', '@example.com', 'a@@example.com', 'a b@example.com', 'a..b@example.com',
          'a@-example.com', 'a@example.com.', 'a@example.1com', 'x'.repeat(65) + '@example.com']) {
          const r = await api.post('/api/auth/signup', { json: { email, password: 'longenough' } });
          assertError(r, 400, '"email" must be a valid email');
        }
      });

      test('missing, empty, mistyped and unknown fields -> Joi\'s first error', async () => {
        const cases = [
          [{}, '"email" is required'],
          [{ password: 'longenough' }, '"email" is required'],
          [{ email: uniqueEmail() }, '"password" is required'],
          [{ email: '', password: 'longenough' }, '"email" is not allowed to be empty'],
          [{ email: uniqueEmail(), password: '' }, '"password" is not allowed to be empty'],
          [{ email: 42, password: 'longenough' }, '"email" must be a string'],
          [{ email: uniqueEmail(), password: 12345678 }, '"password" must be a string'],
          [{ email: uniqueEmail(), password: 'longenough', admin: true }, '"admin" is not allowed'],
          [[1, 2], '"value" must be of type object'],
        ];
        for (const [json, message] of cases) {
          assertError(await api.post('/api/auth/signup', { json }), 400, message);
        }
        // An empty JSON body: Next.js parses it as {} (the lesson validates
        // `req.body ?? {}`); an empty body of no type reaches Joi as "".
        assertError(await api.post('/api/auth/signup', { headers: { 'content-type': 'application/json' } }), 400,
          '"email" is required');
        assertError(await api.post('/api/auth/signup'), 400, '"value" must be of type object');
      });

      test('already registered (any case) -> 409; racing signups: exactly one wins', async () => {
        const email = uniqueEmail('dup');
        assert.equal((await api.post('/api/auth/signup', { json: { email, password: 'longenough' } })).status, 201);
        const again = await api.post('/api/auth/signup', { json: { email: email.toUpperCase(), password: 'other-password' } });
        assertError(again, 409, 'Email already registered');

        const raced = uniqueEmail('race');
        const rs = await Promise.all(
          Array.from({ length: 6 }, () => api.post('/api/auth/signup', { json: { email: raced, password: 'longenough' } })),
        );
        const codes = rs.map((r) => r.status).sort();
        assert.deepEqual(codes, [201, 409, 409, 409, 409, 409]);
        for (const r of rs.filter((x) => x.status === 409)) assertError(r, 409, 'Email already registered');
      });

      test('other methods -> 405 with Allow: POST', async () => {
        const r = await api.get('/api/auth/signup');
        assert.equal(r.status, 405);
        assert.equal(r.headers.allow, 'POST');
      });
    });

    describe('POST /api/auth/login', () => {
      let acct;
      before(async () => {
        acct = { email: uniqueEmail('login'), password: 'open sesame 123' };
        const r = await api.post('/api/auth/signup', { json: acct });
        assert.equal(r.status, 201, r.text);
      });

      test('200 {token} and the session cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age)', async () => {
        const r = await api.post('/api/auth/login', { json: acct });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.json), ['token']);
        assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/);
        const c = r.cookies.session;
        assert.ok(c, `no session cookie: ${JSON.stringify(r.headers['set-cookie'])}`);
        assert.equal(c.value, r.json.token);
        assert.equal(c.attrs.httponly, true);
        assert.equal(c.attrs.samesite, 'Lax');
        assert.equal(c.attrs.path, '/');
        assert.equal(c.attrs['max-age'], String(7 * 24 * 3600));
        assert.equal(c.attrs.secure, undefined, 'no Secure over plain HTTP');
        assert.equal(r.headers['cache-control'], 'no-store');
      });

      test('behind TLS (X-Forwarded-Proto: https) the cookie is Secure', async () => {
        const r = await api.post('/api/auth/login', { json: acct, headers: { 'x-forwarded-proto': 'https' } });
        assert.equal(r.status, 200);
        assert.equal(r.cookies.session.attrs.secure, true);
      });

      test('the email is case-insensitive', async () => {
        const r = await api.post('/api/auth/login', { json: { ...acct, email: acct.email.toUpperCase() } });
        assert.equal(r.status, 200, r.text);
      });

      test('wrong password and unknown email -> the same 401 "Invalid credentials"', async () => {
        const wrongPw = await api.post('/api/auth/login', { json: { email: acct.email, password: 'not it at all' } });
        const noUser = await api.post('/api/auth/login', { json: { email: uniqueEmail('ghost'), password: acct.password } });
        for (const r of [wrongPw, noUser]) {
          assertError(r, 401, 'Invalid credentials');
          assert.equal(r.headers['set-cookie'], undefined);
        }
        assert.equal(wrongPw.text, noUser.text);
        // A password with a NUL after the right one must not pass as the right one.
        const nul = await api.post('/api/auth/login', { json: { email: acct.email, password: `${acct.password}\u0000x` } });
        assertError(nul, 401, 'Invalid credentials');
      });

      test('validation: Joi.string().required() for both fields', async () => {
        assertError(await api.post('/api/auth/login', { json: {} }), 400, '"email" is required');
        assertError(await api.post('/api/auth/login', { json: { email: acct.email } }), 400, '"password" is required');
        assertError(await api.post('/api/auth/login', { json: { email: acct.email, password: '' } }), 400,
          '"password" is not allowed to be empty');
        assertError(await api.post('/api/auth/login', { json: { email: 1, password: 'x' } }), 400, '"email" must be a string');
      });

      test('other methods -> 405 with Allow: POST', async () => {
        const r = await api.get('/api/auth/login');
        assert.equal(r.status, 405);
        assert.equal(r.headers.allow, 'POST');
      });
    });

    describe('GET /api/auth/session and POST /api/auth/logout', () => {
      test('bearer and cookie both give 200 {user: {id, email}}', async () => {
        const a = await signupAndLogin(api);
        for (const how of [{ bearer: a.token }, { cookie: a.cookie }]) {
          const r = await api.get('/api/auth/session', how);
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.json, { user: { id: a.id, email: a.email } });
        }
      });

      test('no token, garbage and tampered tokens -> 401 "Unauthorized"', async () => {
        const a = await signupAndLogin(api);
        const flip = (t, i) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
        const bad = [
          {},
          { bearer: '' },
          { bearer: 'garbage' },
          { bearer: a.token.slice(0, 42) },
          { bearer: `${a.token}A` },
          { bearer: flip(a.token, 0) },
          { bearer: flip(a.token, 42) },
          { bearer: a.token.replace(/./, '!') },
          { bearer: 'x'.repeat(5000) },
          { cookie: flip(a.token, 20) },
          { cookie: 'garbage' },
          { cookie: '' },
          { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } },
        ];
        for (const how of bad) {
          assertError(await api.get('/api/auth/session', how), 401, 'Unauthorized');
        }
      });

      test('a bearer header wins over the cookie, even when it is bad', async () => {
        const a = await signupAndLogin(api);
        const r = await api.get('/api/auth/session', { headers: { authorization: 'Bearer nope', cookie: `session=${a.token}` } });
        assertError(r, 401, 'Unauthorized');
        const ok = await api.get('/api/auth/session', { headers: { authorization: `bearer ${a.token}`, cookie: 'session=junk' } });
        assert.equal(ok.status, 200, 'the scheme name is case-insensitive');
      });

      test('the database keeps only a digest of each token', async () => {
        const a = await signupAndLogin(api);
        const rows = (await sql(s.db, `SELECT token_hash, user_id FROM kiln_sessions WHERE user_id = ${a.id}`)).split('\n');
        assert.equal(rows.length, 1);
        const [hash, uid] = rows[0].split('|');
        assert.match(hash, /^[0-9a-f]{64}$/);
        assert.equal(Number(uid), a.id);
        const all = await sql(s.db, 'SELECT token_hash FROM kiln_sessions');
        assert.ok(!all.includes(a.token));
      });

      test('logout with the bearer token -> 204; the token is dead at once, as bearer and as cookie', async () => {
        const a = await signupAndLogin(api);
        const r = await api.post('/api/auth/logout', { bearer: a.token });
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
        assert.equal(r.cookies.session.value, '');
        assert.equal(r.cookies.session.attrs['max-age'], '0');
        assertError(await api.get('/api/auth/session', { bearer: a.token }), 401, 'Unauthorized');
        assertError(await api.get('/api/auth/session', { cookie: a.token }), 401, 'Unauthorized');
        assertError(await api.post('/api/auth/logout', { bearer: a.token }), 401, 'Unauthorized');
      });

      test('logout with the cookie -> 204; the token is dead at once; other sessions live on', async () => {
        const a = await signupAndLogin(api);
        const second = await api.post('/api/auth/login', { json: { email: a.email, password: a.password } });
        const r = await api.post('/api/auth/logout', { cookie: a.cookie });
        assert.equal(r.status, 204);
        assertError(await api.get('/api/auth/session', { cookie: a.cookie }), 401, 'Unauthorized');
        assertError(await api.get('/api/auth/session', { bearer: a.cookie }), 401, 'Unauthorized');
        assert.equal((await api.get('/api/auth/session', { bearer: second.json.token })).status, 200);
      });

      test('logout without a session -> 401; wrong methods -> 405', async () => {
        assertError(await api.post('/api/auth/logout'), 401, 'Unauthorized');
        const g = await api.get('/api/auth/logout');
        assert.equal(g.status, 405);
        assert.equal(g.headers.allow, 'POST');
        const p = await api.post('/api/auth/session');
        assert.equal(p.status, 405);
        assert.equal(p.headers.allow, 'GET');
      });

      test('an account that is gone -> its session no longer answers 200', async () => {
        const a = await signupAndLogin(api);
        await sql(s.db, `DELETE FROM accounts WHERE id = ${a.id}`);
        assertError(await api.get('/api/auth/session', { bearer: a.token }), 401, 'Unauthorized');
      });
    });

    describe('expiry (KILN_SESSION_TTL_S=2)', () => {
      let short;
      before(async () => {
        // A second server on the same database, with a 2-second session lifetime.
        short = await startOn(APP, backend, { env: { ...ENV, KILN_SESSION_TTL_S: '2' }, db: s.db });
      });

      test('valid at first, refused once expired (and the row is gone)', async () => {
        const email = uniqueEmail('ttl');
        const password = 'short lived session';
        assert.equal((await short.api.post('/api/auth/signup', { json: { email, password } })).status, 201);
        const li = await short.api.post('/api/auth/login', { json: { email, password } });
        assert.equal(li.status, 200);
        assert.equal(li.cookies.session.attrs['max-age'], '2');
        const token = li.json.token;
        assert.equal((await short.api.get('/api/auth/session', { bearer: token })).status, 200);
        // The other server (7-day default) reads the same row: the expiry is in the row.
        await sleep(3100);
        assertError(await short.api.get('/api/auth/session', { bearer: token }), 401, 'Unauthorized');
        assertError(await api.get('/api/auth/session', { cookie: token }), 401, 'Unauthorized');
        const left = await sql(s.db, `SELECT count(*) FROM kiln_sessions WHERE expires_at <= ${Math.floor(Date.now() / 1000)} AND user_id IN (SELECT id FROM accounts WHERE email = '${email}')`);
        assert.equal(left, '0', 'an expired session met at lookup is deleted');
      });
    });
  });
}
